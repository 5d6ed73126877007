// DUMP / RESTORE payloads in Redis 7.0's serialization (rdb.c): [RDB type byte][object]
// [RDB version, 2 bytes little-endian][CRC-64/Jones of everything before, 8 bytes
// little-endian]. What RESTORE accepts is what a redis-server 7.0 DUMPs -- strings (raw,
// int-encoded, LZF-compressed), lists as quicklist nodes of listpacks (and the older
// ziplist/linked forms), sets as intsets or plain, hashes and sorted sets as listpacks or
// plain (and the older ziplists) -- and DUMP writes the encoding Redis 7.0 would pick for
// the value with its default thresholds, compressing every string of the payload (a
// string value, a listpack, an intset, a plain element) longer than 20 bytes with LZF when
// that saves at least four bytes, as Redis 7.0's rdbSaveRawString does: byte-identical
// to Redis's payload for the same value built canonically (a list by RPUSH, a hash in
// field order). Redis's bytes also record history ekv does not keep (a long list's
// quicklist node boundaries, a small hash's insertion order, dict order, encodings kept
// after shrinking); docs/architecture.md "DUMP and RESTORE" lists what differs.
//
// Every length in a payload is checked against what is left of it, so a hostile payload
// is "Bad data format", never a crash or an unbounded allocation (fuzz/rdb_payload_fuzz).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/layout.h"

namespace ekv::redis_core {

// The RDB version Redis 7.0 writes and the newest it reads.
inline constexpr uint16_t kRdbVersion = 10;

// A Redis value, whole, in the order DUMP writes it.
struct RdbValue {
  Type type = Type::kNone;
  std::string string_value;                                // kString
  std::vector<std::string> elements;                       // kList (in order), kSet
  std::vector<std::pair<std::string, std::string>> pairs;  // kHash (field, value)
  std::vector<std::pair<std::string, double>> scored;      // kZset (member, score)
  // kHash, kZset: whether DUMP writes Redis's listpack form (the key is compact, layout.h)
  // or its hashtable / skiplist form; nullopt: by the contents, as Redis loads them.
  std::optional<bool> compact;
};

uint64_t Crc64Jones(uint64_t crc, absl::string_view bytes);

// One RDB string as Redis's rdbSaveRawString writes it (LZF-compressed when that pays), and
// reading one from the front of `*input` (which then starts after it): FUNCTION DUMP and
// RESTORE's library code.
void AppendRdbString(std::string* out, absl::string_view s);
absl::StatusOr<std::string> ReadRdbString(absl::string_view* input);

// The whole DUMP payload of `value` (type byte, object, version, checksum).
std::string EncodeDumpPayload(const RdbValue& value);
// Redis's verifyDumpPayload: at least 10 bytes, a version <= kRdbVersion, the checksum.
bool VerifyDumpPayload(absl::string_view payload);
// The value of a verified payload; an error for anything Redis calls "Bad data format"
// (unknown or unsupported type, truncation, an empty collection, duplicates, NaN scores).
absl::StatusOr<RdbValue> DecodeDumpPayload(absl::string_view payload);

}  // namespace ekv::redis_core
