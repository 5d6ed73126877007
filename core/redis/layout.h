// Where the Redis types live in a group's engine (key_codec.h, namespace kRedisPrefix),
// in the spirit of Kvrocks: one metadata record per collection key plus one record per
// element, the elements filed under the metadata's version.
//
//   string   the MVCC value of the user key itself (RawKV sees it; RawGet of a key SET
//            through Redis returns its value). Its expiry is the MVCC expiry record of
//            that version (kv::MvccBatch::PutExpiry), stored as expire_ms + 1 so the
//            MVCC rule "absent at read_ts >= expire_ts" agrees with Redis's "expired
//            when now > expire_ms".
//   meta     'r' 'M' key               -> type, version, size, expire_ms, list head/tail
//   element  'r' 'E' u32 len key version subkey -> value
//              hash: subkey = field, value = value
//              set:  subkey = member, value empty
//              list: subkey = u64 index (head <= index < tail), value = element
//              zset: subkey = 'm' member -> 8-byte score; 'o' score-order member -> empty
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
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::redis_core {

enum class Type : uint8_t { kNone = 0, kString = 1, kList = 2, kSet = 3, kZset = 4, kHash = 5 };
// Redis's TYPE names: "none", "string", "list", "set", "zset", "hash".
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
};

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
