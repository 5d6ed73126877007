#include "core/kv/mvcc_batch.h"

#include "core/kv/codec.h"
#include "core/kv/key_codec.h"
#include "core/util/assert.h"

namespace ekv::kv {

void MvccBatch::Put(absl::string_view key, absl::string_view value, Timestamp commit_ts,
                    Timestamp start_ts) {
  EKV_ASSERT(commit_ts > 0, "commit_ts 0 is reserved for 'no timestamp'");
  EKV_ASSERT(start_ts <= commit_ts, "a transaction commits after it starts: start_ts ", start_ts,
             " > commit_ts ", commit_ts);
  scratch_.clear();
  EncodeVersionRecord(&scratch_, MutationKind::kPut, start_ts, value);
  batch_.Put(DataKey(key, commit_ts), scratch_);
}

void MvccBatch::Delete(absl::string_view key, Timestamp commit_ts, Timestamp start_ts) {
  EKV_ASSERT(commit_ts > 0, "commit_ts 0 is reserved for 'no timestamp'");
  EKV_ASSERT(start_ts <= commit_ts, "a transaction commits after it starts: start_ts ", start_ts,
             " > commit_ts ", commit_ts);
  scratch_.clear();
  EncodeVersionRecord(&scratch_, MutationKind::kDelete, start_ts, absl::string_view());
  batch_.Put(DataKey(key, commit_ts), scratch_);
}

void MvccBatch::PutLock(absl::string_view key, const LockRecord& lock) {
  EKV_ASSERT(lock.start_ts > 0, "a lock needs its transaction's start_ts");
  batch_.Put(LockKey(key), EncodeLockRecord(lock));
}

void MvccBatch::DeleteLock(absl::string_view key) { batch_.Delete(LockKey(key)); }

void MvccBatch::PutTxnStatus(absl::string_view key, Timestamp start_ts,
                             const TxnStatusRecord& status) {
  EKV_ASSERT(start_ts > 0, "a txn status needs its transaction's start_ts");
  EKV_ASSERT(status.state != TxnState::kCommitted || status.commit_ts > start_ts,
             "a transaction commits after it starts");
  batch_.Put(TxnStatusKey(key, start_ts), EncodeTxnStatusRecord(status));
}

void MvccBatch::DeleteTxnStatus(absl::string_view key, Timestamp start_ts) {
  batch_.Delete(TxnStatusKey(key, start_ts));
}

void MvccBatch::PutExpiry(absl::string_view key, Timestamp commit_ts, Timestamp expire_ts) {
  EKV_ASSERT(expire_ts > commit_ts, "a version expires after it is written");
  std::string value;
  AppendFixed64BigEndian(&value, expire_ts);
  batch_.Put(ExpiryKey(key, commit_ts), value);
}

void MvccBatch::PutMeta(absl::string_view name, absl::string_view value) {
  batch_.Put(MetaKey(name), value);
}

void MvccBatch::DeleteMeta(absl::string_view name) { batch_.Delete(MetaKey(name)); }

void MvccBatch::DeleteRawKey(absl::string_view engine_key) { batch_.Delete(engine_key); }

void MvccBatch::PutRawKey(absl::string_view engine_key, absl::string_view value) {
  batch_.Put(engine_key, value);
}

void MvccBatch::DeleteRawRange(absl::string_view begin, absl::string_view end) {
  batch_.DeleteRange(begin, end);
}

}  // namespace ekv::kv
