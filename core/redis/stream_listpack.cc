#include "core/redis/stream_listpack.h"

#include <limits>

namespace ekv::redis_core {
namespace {

constexpr uint64_t kHeaderBytes = 6;  // total bytes (u32) and element count (u16)
constexpr uint64_t kEndBytes = 1;

// listpack.c lpEncodeBacklen: the bytes that encode an element's length backwards.
uint64_t BacklenBytes(uint64_t length) {
  if (length <= 127) return 1;
  if (length < 16383) return 2;
  if (length < 2097151) return 3;
  if (length < 268435455) return 4;
  return 5;
}

uint64_t IntegerEncodingBytes(int64_t v) {
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
    return 5;
  }
  return 9;
}

// listpack.c lpStringToInt64: a canonical decimal int64 (no sign but '-', no leading
// zeros, at most 20 bytes).
bool ListpackInteger(absl::string_view s, int64_t* value) {
  if (s.empty() || s.size() >= 21) return false;
  if (s == "0") {
    *value = 0;
    return true;
  }
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative && ++i == s.size()) return false;
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > std::numeric_limits<uint64_t>::max() / 10) return false;
    v *= 10;
    if (v > std::numeric_limits<uint64_t>::max() - digit) return false;
    v += digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) return false;
    *value = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *value = static_cast<int64_t>(v);
  }
  return true;
}

bool SameFields(const std::vector<std::string>& master_fields,
                const std::vector<std::string>& fields) {
  if (fields.size() != 2 * master_fields.size()) return false;
  for (size_t i = 0; i < master_fields.size(); ++i) {
    if (fields[2 * i] != master_fields[i]) return false;
  }
  return true;
}

}  // namespace

uint64_t ListpackIntegerBytes(int64_t value) {
  const uint64_t encoding = IntegerEncodingBytes(value);
  return encoding + BacklenBytes(encoding);
}

uint64_t ListpackStringBytes(absl::string_view text) {
  int64_t value = 0;
  if (ListpackInteger(text, &value)) return ListpackIntegerBytes(value);
  const uint64_t size = text.size();
  const uint64_t encoding = size < 64 ? 1 + size : size < 4096 ? 2 + size : 5 + size;
  return encoding + BacklenBytes(encoding);
}

std::vector<std::string> MasterFields(const std::vector<std::string>& fields) {
  std::vector<std::string> names;
  for (size_t i = 0; i < fields.size(); i += 2) names.push_back(fields[i]);
  return names;
}

uint64_t NodeBaseBytes(const std::vector<std::string>& fields) {
  const uint64_t pairs = fields.size() / 2;
  uint64_t bytes = kHeaderBytes + kEndBytes + ListpackIntegerBytes(static_cast<int64_t>(pairs));
  for (size_t i = 0; i < fields.size(); i += 2) bytes += ListpackStringBytes(fields[i]);
  return bytes + ListpackIntegerBytes(0);  // the master entry's terminator
}

uint64_t EntryBytes(StreamId master, const std::vector<std::string>& master_fields, StreamId id,
                    const std::vector<std::string>& fields) {
  const bool same = SameFields(master_fields, fields);
  const int64_t pairs = static_cast<int64_t>(fields.size() / 2);
  // Flags are 0..3: one byte and its back-length.
  uint64_t bytes = ListpackIntegerBytes(same ? 2 : 0);
  bytes += ListpackIntegerBytes(static_cast<int64_t>(id.ms - master.ms));
  bytes += ListpackIntegerBytes(static_cast<int64_t>(id.seq - master.seq));
  if (!same) bytes += ListpackIntegerBytes(pairs);
  for (size_t i = 0; i < fields.size(); i += 2) {
    if (!same) bytes += ListpackStringBytes(fields[i]);
    bytes += ListpackStringBytes(fields[i + 1]);
  }
  const int64_t elements = pairs + 3 + (same ? 0 : pairs + 1);
  return bytes + ListpackIntegerBytes(elements);
}

uint64_t NodeBytes(uint64_t base, uint64_t live, uint64_t deleted) {
  return base + ListpackIntegerBytes(static_cast<int64_t>(live)) +
         ListpackIntegerBytes(static_cast<int64_t>(deleted));
}

bool EntryOverflowsNode(uint64_t node_bytes, const std::vector<std::string>& fields) {
  uint64_t lengths = 0;
  for (const std::string& field : fields) lengths += field.size();
  return node_bytes + lengths >= kStreamNodeMaxBytes;
}

}  // namespace ekv::redis_core
