// StagedWrites: what a lock of kind MutationKind::kRedisStaged (records.h) holds -- the writes of
// one Redis user key that a cross-group EXEC's prepare computed (core/node/group_redis.cc), applied
// when the lock commits (at commit_ts) and dropped when it rolls back.
//
// Every record of one Redis user key starts with that key (core/redis/layout.h), so the
// writes of a key travel with that key's lock: a reader that meets the lock and resolves
// it (CheckTxnStatus on the primary, then ResolveLock of this key) rolls exactly those
// writes forward or back.
//
// Encoding v1: [0x01][varint raw count]{[lp key][u8 0 delete | 1 put][lp value]}
//              [varint stamp count]{[lp key]}
//              [u8 string: 0 unchanged | 1 put | 2 delete][lp value][varint expire_ts]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"

namespace ekv::kv {

struct StagedWrites {
  // Raw records outside the MVCC namespaces (engine keys); nullopt value: delete.
  struct Raw {
    std::string key;
    std::optional<std::string> value;
    bool operator==(const Raw&) const = default;
  };
  std::vector<Raw> raw;
  // Raw records whose value becomes the commit timestamp (8 bytes big-endian): the
  // Redis touch records WATCH compares, which must carry the commit point.
  std::vector<std::string> stamp_keys;
  // The locked key's own MVCC value: unchanged, a put (with an optional expiry
  // timestamp, 0: none) or a tombstone, written as a version at commit_ts.
  enum class StringChange : uint8_t { kUnchanged = 0, kPut = 1, kDelete = 2 };
  StringChange string_change = StringChange::kUnchanged;
  std::string string_value;
  Timestamp string_expire_ts = 0;

  bool empty() const {
    return raw.empty() && stamp_keys.empty() && string_change == StringChange::kUnchanged;
  }
  bool operator==(const StagedWrites&) const = default;
};

std::string EncodeStagedWrites(const StagedWrites& staged);
absl::StatusOr<StagedWrites> DecodeStagedWrites(absl::string_view bytes);

// Adds the writes of `staged` (the lock of `key` of the transaction start_ts) to `batch`
// as committed at commit_ts.
void AddStagedWrites(absl::string_view key, const StagedWrites& staged, Timestamp start_ts,
                     Timestamp commit_ts, MvccBatch* batch);

}  // namespace ekv::kv
