#include "runtime/storage/raft_group_commit.h"

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::runtime {

RaftGroupCommit::RaftGroupCommit(RocksDbEnv* env, uint64_t max_batch_bytes)
    : env_(env), max_batch_bytes_(max_batch_bytes) {
  EKV_ASSERT(env != nullptr, "RaftGroupCommit needs an env");
  EKV_ASSERT(max_batch_bytes > 0, "max_batch_bytes must be positive");
}

RaftGroupCommit::~RaftGroupCommit() {
  for (RocksDbRaftStorage* storage : storages_) {
    storage->AbandonPrepared(absl::AbortedError(
        absl::StrCat("group commit of ", storages_.size(), " groups was destroyed unwritten")));
  }
}

absl::Status RaftGroupCommit::Add(RocksDbRaftStorage* storage, const raft::PersistBatch& batch) {
  if (write_batch_.GetDataSize() >= max_batch_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "group commit holds ", write_batch_.GetDataSize(), " bytes of ", storages_.size(),
        " groups, at its limit of ", max_batch_bytes_, " bytes; commit first"));
  }
  absl::Status status = storage->PrepareBatch(batch, &write_batch_);
  if (!status.ok()) return status;
  storages_.push_back(storage);
  return absl::OkStatus();
}

absl::Status RaftGroupCommit::Commit() {
  if (storages_.empty()) return absl::OkStatus();
  // Even an all-empty write goes through WriteSynced: it is the only source of the proof
  // ApplyAfterCommit requires, and empty Readies are rare.
  absl::StatusOr<SyncedWrite> synced = env_->WriteSynced(&write_batch_);
  for (RocksDbRaftStorage* storage : storages_) {
    if (synced.ok()) {
      storage->ApplyAfterCommit(*synced);
    } else {
      storage->AbandonPrepared(synced.status());
    }
  }
  storages_.clear();
  write_batch_.Clear();
  return synced.status();
}

}  // namespace ekv::runtime
