// An atomic group of MVCC writes: versions, locks, transaction status and meta records.
//
// It only encodes keys and records into an engine WriteBatch; MvccStore::Apply writes it
// in one Engine::Write, so a transaction's commit (delete lock + write version + status)
// or a replicated log entry's effects (writes + applied index in meta) land together or
// not at all.
#pragma once

#include "absl/strings/string_view.h"
#include "core/kv/records.h"
#include "core/kv/timestamp.h"
#include "core/kv/write_batch.h"

namespace ekv::kv {

class MvccBatch {
 public:
  // A version of `key` committed at commit_ts (> 0) by the transaction that started at
  // start_ts (0 outside transactions). Overwrites a version at the same commit_ts.
  void Put(absl::string_view key, absl::string_view value, Timestamp commit_ts,
           Timestamp start_ts = 0);
  // A tombstone: `key` reads as absent at commit_ts and later, until a newer Put.
  void Delete(absl::string_view key, Timestamp commit_ts, Timestamp start_ts = 0);

  void PutLock(absl::string_view key, const LockRecord& lock);
  void DeleteLock(absl::string_view key);

  void PutTxnStatus(absl::string_view key, Timestamp start_ts, const TxnStatusRecord& status);
  void DeleteTxnStatus(absl::string_view key, Timestamp start_ts);

  // The version of `key` at commit_ts reads as absent at read_ts >= expire_ts.
  void PutExpiry(absl::string_view key, Timestamp commit_ts, Timestamp expire_ts);

  void PutMeta(absl::string_view name, absl::string_view value);
  void DeleteMeta(absl::string_view name);

  // Removes one stored version by its raw engine key; for GC.
  void DeleteRawKey(absl::string_view engine_key);
  // Writes a record outside the MVCC namespaces by its raw engine key (the Redis types'
  // records, key_codec.h kRedisPrefix).
  void PutRawKey(absl::string_view engine_key, absl::string_view value);
  // Removes every engine key in [begin, end) (begin <= end); for a range move's ingest
  // and cleanup (core/node/range_records.h), which replace or drop whole key spans.
  void DeleteRawRange(absl::string_view begin, absl::string_view end);

  bool empty() const { return batch_.empty(); }
  size_t count() const { return batch_.count(); }
  uint64_t byte_size() const { return batch_.byte_size(); }
  const WriteBatch& engine_batch() const { return batch_; }
  void Clear() { batch_.Clear(); }

 private:
  WriteBatch batch_;
  std::string scratch_;  // reused encoding buffer for version records
};

}  // namespace ekv::kv
