#include "core/redis/stream_id.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {
namespace {

// Redis 7.0's string2ull: string2ll when that reads it (negatives refused), else strtoull's
// rules (leading spaces, a sign, a negative wrapping modulo 2^64, the whole text consumed,
// no overflow).
std::optional<uint64_t> ParseUnsigned(absl::string_view text) {
  if (std::optional<int64_t> value = ParseInt64(text); value.has_value()) {
    if (*value < 0) return std::nullopt;
    return static_cast<uint64_t>(*value);
  }
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  if (i == text.size()) return std::nullopt;
  uint64_t value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;  // ERANGE
    value = value * 10 + digit;
  }
  return negative ? uint64_t{0} - value : value;
}

}  // namespace

std::optional<ParsedStreamId> ParseStreamId(absl::string_view text, uint64_t missing_seq,
                                            bool strict, bool allow_auto_seq) {
  // Redis copies the argument into a 128-byte buffer, NUL-terminated: longer is invalid,
  // and the text ends at a NUL byte.
  if (text.size() > 127) return std::nullopt;
  if (size_t nul = text.find('\0'); nul != absl::string_view::npos) text = text.substr(0, nul);
  ParsedStreamId out;
  if (text == "-" || text == "+") {
    if (strict) return std::nullopt;
    if (text == "+") out.id = kMaxStreamId;
    return out;
  }
  const size_t dash = text.find('-');
  std::optional<uint64_t> ms = ParseUnsigned(text.substr(0, dash));
  if (!ms.has_value()) return std::nullopt;
  out.id.ms = *ms;
  if (dash == absl::string_view::npos) {
    out.id.seq = missing_seq;
    return out;
  }
  const absl::string_view seq_text = text.substr(dash + 1);
  if (allow_auto_seq && seq_text == "*") {
    out.seq_given = false;
    return out;
  }
  std::optional<uint64_t> seq = ParseUnsigned(seq_text);
  if (!seq.has_value()) return std::nullopt;
  out.id.seq = *seq;
  return out;
}

std::string FormatStreamId(StreamId id) { return absl::StrCat(id.ms, "-", id.seq); }

std::string EncodeStreamId(StreamId id) {
  std::string out;
  kv::AppendFixed64BigEndian(&out, id.ms);
  kv::AppendFixed64BigEndian(&out, id.seq);
  return out;
}

StreamId DecodeStreamId(absl::string_view bytes) {
  return StreamId{kv::DecodeFixed64BigEndian(bytes.substr(0, 8)),
                  kv::DecodeFixed64BigEndian(bytes.substr(8, 8))};
}

bool IncrStreamId(StreamId* id) {
  if (id->seq != UINT64_MAX) {
    ++id->seq;
    return true;
  }
  if (id->ms == UINT64_MAX) return false;
  ++id->ms;
  id->seq = 0;
  return true;
}

bool DecrStreamId(StreamId* id) {
  if (id->seq != 0) {
    --id->seq;
    return true;
  }
  if (id->ms == 0) return false;
  --id->ms;
  id->seq = UINT64_MAX;
  return true;
}

}  // namespace ekv::redis_core
