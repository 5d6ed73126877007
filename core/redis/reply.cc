#include "core/redis/reply.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kv/codec.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {
namespace {

uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}
int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

void Encode(const Reply& reply, std::string* out) {
  kv::AppendByte(out, static_cast<uint8_t>(reply.kind));
  switch (reply.kind) {
    case Reply::Kind::kStatus:
    case Reply::Kind::kError:
    case Reply::Kind::kBulk:
    case Reply::Kind::kBigNumber:
    case Reply::Kind::kVerbatim:
    case Reply::Kind::kHumanDouble:
      kv::AppendLengthPrefixed(out, reply.text);
      return;
    case Reply::Kind::kInteger:
    case Reply::Kind::kBool:
      kv::AppendVarint64(out, ZigZag(reply.integer));
      return;
    case Reply::Kind::kNil:
    case Reply::Kind::kNilArray:
      return;
    case Reply::Kind::kDouble: {
      uint64_t bits = 0;
      std::memcpy(&bits, &reply.number, sizeof(bits));
      kv::AppendFixed64BigEndian(out, bits);
      return;
    }
    case Reply::Kind::kArray:
    case Reply::Kind::kMap:
    case Reply::Kind::kSet:
    case Reply::Kind::kPairs:
    case Reply::Kind::kKeyedMap:
      kv::AppendVarint64(out, reply.elements.size());
      for (const Reply& element : reply.elements) Encode(element, out);
      return;
  }
}

absl::StatusOr<Reply> Decode(kv::ByteReader* reader, int depth) {
  if (depth > kMaxReplyDepth) return absl::DataLossError("redis reply: nested too deeply");
  auto kind = reader->ReadByte();
  if (!kind.ok()) return absl::DataLossError("redis reply: truncated");
  Reply reply;
  reply.kind = static_cast<Reply::Kind>(*kind);
  switch (reply.kind) {
    case Reply::Kind::kStatus:
    case Reply::Kind::kError:
    case Reply::Kind::kBulk:
    case Reply::Kind::kBigNumber:
    case Reply::Kind::kVerbatim:
    case Reply::Kind::kHumanDouble: {
      auto text = reader->ReadLengthPrefixed();
      if (!text.ok()) return absl::DataLossError("redis reply: truncated string");
      if (reply.kind == Reply::Kind::kVerbatim && (text->size() < 4 || (*text)[3] != ':')) {
        return absl::DataLossError("redis reply: a verbatim string without its format");
      }
      reply.text = std::string(*text);
      return reply;
    }
    case Reply::Kind::kInteger:
    case Reply::Kind::kBool: {
      auto value = reader->ReadVarint64();
      if (!value.ok()) return absl::DataLossError("redis reply: truncated integer");
      reply.integer = UnZigZag(*value);
      if (reply.kind == Reply::Kind::kBool && reply.integer != 0 && reply.integer != 1) {
        return absl::DataLossError("redis reply: a boolean that is neither 0 nor 1");
      }
      return reply;
    }
    case Reply::Kind::kNil:
    case Reply::Kind::kNilArray:
      return reply;
    case Reply::Kind::kDouble: {
      auto bits = reader->ReadFixed64BigEndian();
      if (!bits.ok()) return absl::DataLossError("redis reply: truncated double");
      std::memcpy(&reply.number, &*bits, sizeof(reply.number));
      return reply;
    }
    case Reply::Kind::kArray:
    case Reply::Kind::kMap:
    case Reply::Kind::kSet:
    case Reply::Kind::kPairs:
    case Reply::Kind::kKeyedMap: {
      auto count = reader->ReadVarint64();
      if (!count.ok() || *count > reader->remaining()) {
        return absl::DataLossError("redis reply: bad element count");
      }
      reply.elements.reserve(*count);
      for (uint64_t i = 0; i < *count; ++i) {
        absl::StatusOr<Reply> element = Decode(reader, depth + 1);
        if (!element.ok()) return element.status();
        reply.elements.push_back(*std::move(element));
      }
      return reply;
    }
  }
  return absl::DataLossError(absl::StrCat("redis reply: unknown kind ", *kind));
}

}  // namespace

Reply Reply::Status(absl::string_view text) {
  Reply r;
  r.kind = Kind::kStatus;
  r.text = std::string(text);
  return r;
}
Reply Reply::Error(absl::string_view text) {
  Reply r;
  r.kind = Kind::kError;
  r.text = std::string(text);
  return r;
}
Reply Reply::Integer(int64_t value) {
  Reply r;
  r.kind = Kind::kInteger;
  r.integer = value;
  return r;
}
Reply Reply::Bulk(absl::string_view bytes) {
  Reply r;
  r.kind = Kind::kBulk;
  r.text = std::string(bytes);
  return r;
}
Reply Reply::Nil() { return Reply(); }
Reply Reply::NilArray() {
  Reply r;
  r.kind = Kind::kNilArray;
  return r;
}
Reply Reply::Double(double value) {
  Reply r;
  r.kind = Kind::kDouble;
  r.number = value;
  return r;
}
Reply Reply::HumanDouble(double value) {
  Reply r;
  r.kind = Kind::kHumanDouble;
  r.text = FormatLongDouble(value);
  return r;
}
Reply Reply::Array(std::vector<Reply> elements) {
  Reply r;
  r.kind = Kind::kArray;
  r.elements = std::move(elements);
  return r;
}
Reply Reply::Map(std::vector<Reply> flat_pairs) {
  Reply r;
  r.kind = Kind::kMap;
  r.elements = std::move(flat_pairs);
  return r;
}
Reply Reply::Set(std::vector<Reply> elements) {
  Reply r;
  r.kind = Kind::kSet;
  r.elements = std::move(elements);
  return r;
}

Reply Reply::Pairs(std::vector<Reply> flat_pairs) {
  Reply r;
  r.kind = Kind::kPairs;
  r.elements = std::move(flat_pairs);
  return r;
}

Reply Reply::KeyedMap(std::vector<Reply> flat_pairs) {
  Reply r;
  r.kind = Kind::kKeyedMap;
  r.elements = std::move(flat_pairs);
  return r;
}

Reply Reply::Bool(bool value) {
  Reply r;
  r.kind = Kind::kBool;
  r.integer = value ? 1 : 0;
  return r;
}

Reply Reply::BigNumber(absl::string_view digits) {
  Reply r;
  r.kind = Kind::kBigNumber;
  r.text = std::string(digits);
  return r;
}

Reply Reply::Verbatim(absl::string_view format, absl::string_view content) {
  Reply r;
  r.kind = Kind::kVerbatim;
  r.text = std::string(format.substr(0, 3));
  r.text.resize(3, ' ');
  absl::StrAppend(&r.text, ":", content);
  return r;
}

namespace {
const std::vector<KeyEvent> kNoEvents;
const std::vector<ScriptAclDenial> kNoDenials;
}  // namespace

const std::vector<KeyEvent>& Reply::events() const {
  return trailers_ != nullptr ? trailers_->events : kNoEvents;
}
const std::vector<ScriptAclDenial>& Reply::acl_denials() const {
  return trailers_ != nullptr ? trailers_->acl_denials : kNoDenials;
}
void Reply::set_events(std::vector<KeyEvent> events) {
  if (!events.empty() || trailers_ != nullptr) Trailers().events = std::move(events);
}
void Reply::set_acl_denials(std::vector<ScriptAclDenial> denials) {
  if (!denials.empty() || trailers_ != nullptr) Trailers().acl_denials = std::move(denials);
}
std::vector<KeyEvent> Reply::TakeEvents() {
  return trailers_ != nullptr ? std::exchange(trailers_->events, {}) : std::vector<KeyEvent>{};
}
std::vector<ScriptAclDenial> Reply::TakeAclDenials() {
  return trailers_ != nullptr ? std::exchange(trailers_->acl_denials, {})
                              : std::vector<ScriptAclDenial>{};
}
Reply::TrailerLists& Reply::Trailers() {
  if (trailers_ == nullptr) trailers_ = std::make_unique<TrailerLists>();
  return *trailers_;
}
Reply::Reply(const Reply& other)
    : kind(other.kind),
      text(other.text),
      integer(other.integer),
      number(other.number),
      elements(other.elements),
      trailers_(other.trailers_ != nullptr ? std::make_unique<TrailerLists>(*other.trailers_)
                                           : nullptr) {}
Reply& Reply::operator=(const Reply& other) {
  if (this != &other) *this = Reply(other);
  return *this;
}
bool Reply::operator==(const Reply& other) const {
  return kind == other.kind && text == other.text && integer == other.integer &&
         number == other.number && elements == other.elements && events() == other.events() &&
         acl_denials() == other.acl_denials();
}

Reply WrongTypeError() {
  return Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value");
}
Reply NotIntegerError() { return Reply::Error("ERR value is not an integer or out of range"); }
Reply NotFloatError() { return Reply::Error("ERR value is not a valid float"); }
Reply SyntaxError() { return Reply::Error("ERR syntax error"); }

std::string EncodeReply(const Reply& reply) {
  std::string out;
  Encode(reply, &out);
  if (!reply.events().empty()) {
    kv::AppendByte(&out, kEventsTrailerTag);
    kv::AppendVarint64(&out, reply.events().size());
    for (const KeyEvent& event : reply.events()) {
      kv::AppendLengthPrefixed(&out, event.event);
      kv::AppendLengthPrefixed(&out, event.key);
    }
  }
  if (!reply.acl_denials().empty()) {
    kv::AppendByte(&out, kAclDenialsTrailerTag);
    kv::AppendVarint64(&out, reply.acl_denials().size());
    for (const ScriptAclDenial& denial : reply.acl_denials()) {
      kv::AppendLengthPrefixed(&out, denial.reason);
      kv::AppendLengthPrefixed(&out, denial.object);
    }
  }
  return out;
}

absl::StatusOr<Reply> DecodeReply(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  absl::StatusOr<Reply> reply = Decode(&reader, 0);
  if (!reply.ok()) return reply;
  // The optional trailers, each at most once and in tag order: (first, second) strings.
  uint8_t last_tag = 0;
  while (!reader.empty()) {
    auto tag = reader.ReadByte();
    auto count = reader.ReadVarint64();
    if (!tag.ok() || (*tag != kEventsTrailerTag && *tag != kAclDenialsTrailerTag) ||
        *tag <= last_tag || !count.ok() || *count == 0 || *count > kMaxKeyEvents ||
        *count > reader.remaining()) {
      return absl::DataLossError("redis reply: bad trailer");
    }
    last_tag = *tag;
    for (uint64_t i = 0; i < *count; ++i) {
      auto first = reader.ReadLengthPrefixed();
      auto second = reader.ReadLengthPrefixed();
      if (!first.ok() || !second.ok()) return absl::DataLossError("redis reply: truncated trailer");
      if (*tag == kEventsTrailerTag) {
        reply->events().push_back({std::string(*first), std::string(*second)});
      } else {
        reply->acl_denials().push_back({std::string(*first), std::string(*second)});
      }
    }
  }
  if (absl::Status end = reader.ExpectEnd("redis reply"); !end.ok()) return end;
  return reply;
}

std::string DebugString(const Reply& reply) {
  switch (reply.kind) {
    case Reply::Kind::kStatus:
      return reply.text;
    case Reply::Kind::kError:
      return absl::StrCat("(error) ", reply.text);
    case Reply::Kind::kInteger:
      return absl::StrCat(reply.integer);
    case Reply::Kind::kBulk:
      return absl::StrCat("\"", reply.text, "\"");
    case Reply::Kind::kNil:
      return "nil";
    case Reply::Kind::kNilArray:
      return "nil-array";
    case Reply::Kind::kDouble:
      return absl::StrCat("(double) ", reply.number);
    case Reply::Kind::kBool:
      return reply.integer != 0 ? "(true)" : "(false)";
    case Reply::Kind::kBigNumber:
      return absl::StrCat("(big number) ", reply.text);
    case Reply::Kind::kHumanDouble:
      return absl::StrCat("(double) ", reply.text);
    case Reply::Kind::kVerbatim:
      return absl::StrCat("(verbatim) \"", reply.text, "\"");
    case Reply::Kind::kArray:
    case Reply::Kind::kMap:
    case Reply::Kind::kSet:
    case Reply::Kind::kPairs:
    case Reply::Kind::kKeyedMap: {
      std::vector<std::string> parts;
      for (const Reply& element : reply.elements) parts.push_back(DebugString(element));
      const bool map = reply.kind == Reply::Kind::kMap || reply.kind == Reply::Kind::kKeyedMap;
      const char* open = map ? "{" : "[";
      const char* close = map ? "}" : "]";
      return absl::StrCat(open, absl::StrJoin(parts, ", "), close);
    }
  }
  return "?";
}

}  // namespace ekv::redis_core
