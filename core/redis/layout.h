// Where the Redis types live in a group's engine (key_codec.h, namespace kRedisPrefix),
// in the spirit of Kvrocks: one metadata record per collection key plus one record per
// element, the elements filed under the metadata's version.
//
//   string   the MVCC value of the user key itself (RawKV sees it; RawGet of a key SET
//            through Redis returns its value). Its expiry is the MVCC expiry record of
//            that version (kv::MvccBatch::PutExpiry), stored as expire_ms + 1 so the
//            MVCC rule "absent at read_ts >= expire_ts" agrees with Redis's "expired
//            when now > expire_ms".
//   meta     'r' 'M' key               -> type, version, size, expire_ms, list head/tail,
//                                         and (format 2) encoding flags, next field sequence
//   element  'r' 'E' u32 len key version subkey -> value
//              hash: subkey = field, value = value, or (a tracked hash, below) varint
//                    insertion sequence then value
//              set:  subkey = member, value empty
//              list: subkey = u64 index (head <= index < tail), value = element
//              zset: subkey = 'm' member -> 8-byte score; 'o' score-order member -> empty
//              stream: state, entries and nodes (stream_records.h); size is its length
//                    and an empty stream keeps its metadata (as Redis keeps the key)
//   touch    'r' 'T' key               -> commit_ts of the last Redis write of the key
//                                         (what WATCH compares; kept across deletes until
//                                         the cleanup removes it, below)
//   floor    'r' 'W'                   -> one per group: at least every touch record the
//                                         cleanup removed; the stamp of a key without one
//
// A new collection gets a new version (the commit timestamp plus a sequence number), so
// DEL, an overwrite or an expiry only removes the metadata record: O(1) whatever the
// size. The elements of dead versions are invisible (no live metadata points at them)
// and are removed later by bounded cleanup passes (CLEANUP in executor.h).
//
// Encodings. Redis 7.0 answers a small hash (listpack: <= 128 fields, every field and
// value <= 64 bytes) in insertion order and a small sorted set (listpack: <= 128
// members of <= 64 bytes) stores scores as text (-0 becomes 0); it converts either to
// its big encoding once over a bound and never back. Hashes and sorted sets created
// since ekv tracks this carry kMetaTracked; kMetaConverted records the one-way
// conversion. A tracked hash files each field's insertion sequence with its value
// (next_seq: the next new field's), so reads of a compact hash (<= 128 fields) sort by
// it. A metadata record without kMetaTracked (written before) keeps the old behaviour:
// values without sequences, fields in byte order, OBJECT ENCODING by content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::redis_core {

enum class Type : uint8_t {
  kNone = 0,
  kString = 1,
  kList = 2,
  kSet = 3,
  kZset = 4,
  kHash = 5,
  kStream = 6,
};
// Redis's TYPE names: "none", "string", "list", "set", "zset", "hash", "stream".
const char* TypeName(Type type);

struct Meta {
  Type type = Type::kNone;
  uint64_t version_ts = 0;
  uint32_t version_seq = 0;
  uint64_t size = 0;
  uint64_t expire_ms = 0;  // 0: no expiry
  // Lists: elements at indexes [head, tail); both start in the middle of the u64 range.
  uint64_t head = 0;
  uint64_t tail = 0;
  // Hashes and sorted sets (above): kMetaTracked | kMetaConverted.
  uint64_t flags = 0;
  uint64_t next_seq = 0;  // tracked hashes: the sequence of the next new field
};

inline constexpr uint64_t kMetaTracked = 1;
inline constexpr uint64_t kMetaConverted = 2;

// Redis 7.0's defaults as its redis.conf sets them: hash-max-listpack-entries / -value,
// zset-max-listpack-entries / -value, set-max-intset-entries. (redis-server run without
// a configuration file keeps a compiled-in hash-max-listpack-entries of 512.)
inline constexpr uint64_t kMaxListpackEntries = 128;
inline constexpr size_t kMaxListpackValue = 64;
inline constexpr uint64_t kMaxIntsetEntries = 512;
// list-max-listpack-size -2 (redis.conf's): a quicklist node's listpack grows to 8 KB; what
// DUMP's list payloads follow (rdb_payload.cc). list-compress-depth 0: no node compressed.
inline constexpr int kListMaxListpackSize = -2;
inline constexpr size_t kQuicklistNodeBytes = 8192;
inline constexpr int kListCompressDepth = 0;

// A tracked hash or sorted set Redis would still hold as a listpack.
inline bool IsCompact(const Meta& meta) {
  return (meta.flags & kMetaTracked) != 0 && (meta.flags & kMetaConverted) == 0;
}
// Records Redis's one-way conversion when `over` (a bound crossed) for a tracked collection.
inline void ConvertIf(Meta* meta, bool over) {
  if (over && (meta->flags & kMetaTracked) != 0) meta->flags |= kMetaConverted;
}

inline constexpr uint64_t kListStartIndex = uint64_t{1} << 63;

std::string MetaKey(absl::string_view user_key);
std::string TouchKey(absl::string_view user_key);
// The group's touch floor (cleanup.h): no user key's record, so range moves leave it.
std::string TouchFloorKey();
// The prefix every element of this version of the collection starts with.
std::string ElementPrefix(absl::string_view user_key, const Meta& meta);
// The first byte string after every string that starts with `prefix`.
std::string PrefixEnd(absl::string_view prefix);
// Namespace bounds, for cleanup passes.
std::string ElementNamespaceStart();
std::string ElementNamespaceEnd();
// Parses an element key into the user key and the version's prefix; nullopt if malformed.
struct ParsedElementKey {
  std::string user_key;
  uint64_t version_ts = 0;
  uint32_t version_seq = 0;
  size_t prefix_size = 0;  // bytes of the element prefix within the key
};
std::optional<ParsedElementKey> ParseElementKey(absl::string_view engine_key);

std::string EncodeMeta(const Meta& meta);
absl::StatusOr<Meta> DecodeMeta(absl::string_view bytes);

// 8 bytes whose bytewise order is the numeric order of the scores (-inf .. +inf; -0 and
// +0 encode alike).
std::string EncodeScore(double score);
double DecodeScore(absl::string_view bytes);
std::string EncodeIndex(uint64_t index);
uint64_t DecodeIndex(absl::string_view bytes);

}  // namespace ekv::redis_core
