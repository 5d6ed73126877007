// Group commit: many Raft groups' Ready batches made durable by one synced RocksDB write.
//
// On one disk an fsync costs the same for 1 byte and for 1 MB, so a node hosting many
// groups persists all their Readies of one round with a single fsync:
//
//   RaftGroupCommit commit(env);
//   for (each group with a Ready) commit.Add(group.storage, ready.persist);
//   absl::Status status = commit.Commit();      // one WriteBatch, one sync write
//   if (!status.ok()) crash();                  // nothing may be acknowledged
//   for (each group) receipt = group.storage->Persist(ready.persist);  // no I/O
//
// Durability is certified exactly as in the standalone path: a storage only accepts the
// batch as durable after RocksDbEnv::WriteSynced returned OK for the WriteBatch holding
// it (RocksDbRaftStorage::ApplyAfterCommit checks that).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "core/raft/storage.h"
#include "rocksdb/write_batch.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/storage/rocksdb_raft_storage.h"

namespace ekv::runtime {

class RaftGroupCommit {
 public:
  // Add refuses further batches once the shared write holds `max_batch_bytes` (a single
  // batch may overshoot it): commit, then add the rest to the next round.
  static constexpr uint64_t kDefaultMaxBatchBytes = 64ull << 20;

  explicit RaftGroupCommit(RocksDbEnv* env, uint64_t max_batch_bytes = kDefaultMaxBatchBytes);
  // Abandons whatever was added but not committed (those storages then refuse writes).
  ~RaftGroupCommit();
  RaftGroupCommit(const RaftGroupCommit&) = delete;
  RaftGroupCommit& operator=(const RaftGroupCommit&) = delete;

  // Prepares `storage`'s `batch` into the shared write. Errors: the storage refused it
  // (stale snapshot, a batch already prepared), or the write is full
  // (ResourceExhausted). On error the commit is unchanged.
  absl::Status Add(RocksDbRaftStorage* storage, const raft::PersistBatch& batch);
  // Writes everything added with one fsync and hands the proof to every added storage.
  // On failure every added storage is abandoned with the error. Either way the commit is
  // empty afterwards and may be reused.
  absl::Status Commit();

  size_t group_count() const { return storages_.size(); }
  uint64_t byte_size() const { return write_batch_.GetDataSize(); }

 private:
  RocksDbEnv* const env_;
  const uint64_t max_batch_bytes_;
  rocksdb::WriteBatch write_batch_;
  std::vector<RocksDbRaftStorage*> storages_;
};

}  // namespace ekv::runtime
