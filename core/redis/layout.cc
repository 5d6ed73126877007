#include "core/redis/layout.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/key_codec.h"

namespace ekv::redis_core {
namespace {

constexpr char kMetaTag = 'M';
constexpr char kElementTag = 'E';
constexpr char kTouchTag = 'T';
constexpr uint8_t kMetaFormat = 1;
// Format 1 followed by flags and next_seq; written only when either is set, so every
// other record keeps format 1's bytes.
constexpr uint8_t kMetaFormatWithFlags = 2;

std::string Tagged(char tag, absl::string_view rest) {
  std::string out;
  out.reserve(2 + rest.size());
  out.push_back(kv::kRedisPrefix);
  out.push_back(tag);
  out.append(rest.data(), rest.size());
  return out;
}

void AppendFixed32(std::string* out, uint32_t value) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint32_t DecodeFixed32(absl::string_view bytes) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

}  // namespace

const char* TypeName(Type type) {
  switch (type) {
    case Type::kNone:
      return "none";
    case Type::kString:
      return "string";
    case Type::kList:
      return "list";
    case Type::kSet:
      return "set";
    case Type::kZset:
      return "zset";
    case Type::kHash:
      return "hash";
    case Type::kStream:
      return "stream";
  }
  return "none";
}

std::string MetaKey(absl::string_view user_key) { return Tagged(kMetaTag, user_key); }
std::string TouchKey(absl::string_view user_key) { return Tagged(kTouchTag, user_key); }
std::string TouchFloorKey() { return Tagged('W', ""); }

std::string ElementPrefix(absl::string_view user_key, const Meta& meta) {
  std::string out = Tagged(kElementTag, "");
  AppendFixed32(&out, static_cast<uint32_t>(user_key.size()));
  out.append(user_key.data(), user_key.size());
  kv::AppendFixed64BigEndian(&out, meta.version_ts);
  AppendFixed32(&out, meta.version_seq);
  return out;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;  // empty: no bound (prefix was all 0xff)
}

std::string ElementNamespaceStart() { return Tagged(kElementTag, ""); }
std::string ElementNamespaceEnd() { return PrefixEnd(ElementNamespaceStart()); }

std::optional<ParsedElementKey> ParseElementKey(absl::string_view engine_key) {
  if (engine_key.size() < 2 + 4 || engine_key[0] != kv::kRedisPrefix ||
      engine_key[1] != kElementTag) {
    return std::nullopt;
  }
  const uint32_t length = DecodeFixed32(engine_key.substr(2, 4));
  const size_t prefix_size = 2 + 4 + size_t{length} + 8 + 4;
  if (engine_key.size() < prefix_size) return std::nullopt;
  ParsedElementKey parsed;
  parsed.user_key = std::string(engine_key.substr(6, length));
  parsed.version_ts = kv::DecodeFixed64BigEndian(engine_key.substr(6 + length, 8));
  parsed.version_seq = DecodeFixed32(engine_key.substr(6 + length + 8, 4));
  parsed.prefix_size = prefix_size;
  return parsed;
}

std::string EncodeMeta(const Meta& meta) {
  std::string out;
  const bool with_flags = meta.flags != 0 || meta.next_seq != 0;
  kv::AppendByte(&out, with_flags ? kMetaFormatWithFlags : kMetaFormat);
  kv::AppendByte(&out, static_cast<uint8_t>(meta.type));
  kv::AppendVarint64(&out, meta.version_ts);
  kv::AppendVarint64(&out, meta.version_seq);
  kv::AppendVarint64(&out, meta.size);
  kv::AppendVarint64(&out, meta.expire_ms);
  kv::AppendVarint64(&out, meta.head);
  kv::AppendVarint64(&out, meta.tail);
  if (with_flags) {
    kv::AppendVarint64(&out, meta.flags);
    kv::AppendVarint64(&out, meta.next_seq);
  }
  return out;
}

absl::StatusOr<Meta> DecodeMeta(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  auto format = reader.ReadByte();
  auto type = reader.ReadByte();
  auto version_ts = reader.ReadVarint64();
  auto version_seq = reader.ReadVarint64();
  auto size = reader.ReadVarint64();
  auto expire_ms = reader.ReadVarint64();
  auto head = reader.ReadVarint64();
  auto tail = reader.ReadVarint64();
  const bool with_flags = format.ok() && *format == kMetaFormatWithFlags;
  absl::StatusOr<uint64_t> flags = uint64_t{0};
  absl::StatusOr<uint64_t> next_seq = uint64_t{0};
  if (with_flags) {
    flags = reader.ReadVarint64();
    next_seq = reader.ReadVarint64();
  }
  if (!format.ok() || (*format != kMetaFormat && !with_flags) || !type.ok() || *type < 2 ||
      *type > 6 || !version_ts.ok() || !version_seq.ok() || *version_seq > UINT32_MAX ||
      !size.ok() || !expire_ms.ok() || !head.ok() || !tail.ok() || !flags.ok() || !next_seq.ok() ||
      !reader.ExpectEnd("redis meta").ok()) {
    return absl::DataLossError("redis metadata record is malformed");
  }
  Meta meta;
  meta.flags = *flags;
  meta.next_seq = *next_seq;
  meta.type = static_cast<Type>(*type);
  meta.version_ts = *version_ts;
  meta.version_seq = static_cast<uint32_t>(*version_seq);
  meta.size = *size;
  meta.expire_ms = *expire_ms;
  meta.head = *head;
  meta.tail = *tail;
  return meta;
}

std::string EncodeScore(double score) {
  if (score == 0) score = 0;  // -0 sorts with +0
  uint64_t bits = 0;
  std::memcpy(&bits, &score, sizeof(bits));
  // Positive numbers: flip the sign bit; negative: flip every bit.
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
  std::string out;
  kv::AppendFixed64BigEndian(&out, bits);
  return out;
}

double DecodeScore(absl::string_view bytes) {
  uint64_t bits = kv::DecodeFixed64BigEndian(bytes.substr(0, 8));
  bits = (bits & (uint64_t{1} << 63)) ? bits & ~(uint64_t{1} << 63) : ~bits;
  double score = 0;
  std::memcpy(&score, &bits, sizeof(score));
  return score;
}

std::string EncodeIndex(uint64_t index) {
  std::string out;
  kv::AppendFixed64BigEndian(&out, index);
  return out;
}

uint64_t DecodeIndex(absl::string_view bytes) { return kv::DecodeFixed64BigEndian(bytes); }

}  // namespace ekv::redis_core
