#include "core/kv/mvcc.h"

#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::kv {

MvccStore::MvccStore(Engine* engine) : engine_(engine), reader_(*engine) {
  EKV_ASSERT(engine_ != nullptr, "MvccStore needs an engine");
}

absl::Status MvccStore::Apply(const MvccBatch& batch) {
  return engine_->Write(batch.engine_batch());
}

absl::Status MvccStore::Put(absl::string_view key, absl::string_view value, Timestamp commit_ts) {
  if (commit_ts == 0) return absl::InvalidArgumentError("put: commit_ts must be > 0");
  MvccBatch batch;
  batch.Put(key, value, commit_ts);
  return Apply(batch);
}

absl::Status MvccStore::Delete(absl::string_view key, Timestamp commit_ts) {
  if (commit_ts == 0) return absl::InvalidArgumentError("delete: commit_ts must be > 0");
  MvccBatch batch;
  batch.Delete(key, commit_ts);
  return Apply(batch);
}

absl::Status MvccStore::PutLock(absl::string_view key, const LockRecord& lock) {
  if (lock.start_ts == 0) return absl::InvalidArgumentError("put lock: start_ts must be > 0");
  MvccBatch batch;
  batch.PutLock(key, lock);
  return Apply(batch);
}

absl::Status MvccStore::DeleteLock(absl::string_view key) {
  MvccBatch batch;
  batch.DeleteLock(key);
  return Apply(batch);
}

absl::Status MvccStore::PutTxnStatus(absl::string_view key, Timestamp start_ts,
                                     const TxnStatusRecord& status) {
  if (start_ts == 0) return absl::InvalidArgumentError("put txn status: start_ts must be > 0");
  if (status.state == TxnState::kCommitted && status.commit_ts <= start_ts) {
    return absl::InvalidArgumentError("put txn status: commit_ts must be > start_ts");
  }
  if (status.state == TxnState::kRolledBack && status.commit_ts != 0) {
    return absl::InvalidArgumentError("put txn status: a rollback has commit_ts 0");
  }
  MvccBatch batch;
  batch.PutTxnStatus(key, start_ts, status);
  return Apply(batch);
}

MvccReader MvccStore::Snapshot() const { return MvccReader(engine_->Snapshot()); }

absl::StatusOr<GcPlan> MvccStore::Gc(Timestamp safe_point, absl::string_view start_key,
                                     size_t max_keys) {
  MvccBatch batch;
  EKV_KV_ASSIGN_OR_RETURN(GcPlan plan, reader_.PlanGc(safe_point, start_key, max_keys, &batch));
  EKV_KV_RETURN_IF_ERROR(Apply(batch));
  return plan;
}

}  // namespace ekv::kv
