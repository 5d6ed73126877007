// raft::Storage for one Raft group, kept in a RocksDB shared by every group of the node.
//
// Layout (all integers big-endian in keys, so a group's log is one contiguous range):
//   raft_log    [group:8][index:8] -> [type:1][term:varint][data...]
//   raft_state  [group:8]'h'       -> hard state (term, vote, commit as varints)
//               [group:8]'o'       -> log offset: index and term of the entry just before
//                                     the first stored one (snapshot or compaction point)
//               [group:8]'m'       -> snapshot metadata (index, term, conf state)
//               [group:8]'d'       -> snapshot data as Raft hands it over (for large state
//                                     machines a reference, e.g. a checkpoint path)
//
// The semantics are those of raft::MemoryStorage, entry for entry (the differential test
// in tests/runtime checks it): the log holds (offset, last], Compact moves the offset
// without touching the snapshot, and installing a snapshot empties the log.
//
// Two write paths certify durability, and both end in RocksDbEnv::WriteSynced:
//  - standalone: Persist(batch) -> WriteDurably builds one WriteBatch and syncs it;
//  - group commit: the runtime calls PrepareBatch for many groups into one WriteBatch,
//    writes it once with RocksDbEnv::WriteSynced, hands the resulting SyncedWrite to each
//    group's ApplyAfterCommit, and then calls Persist(batch) for each group, which issues
//    the receipt without I/O because that exact batch is already durable. Persist on a
//    prepared but unwritten batch is an error, never a receipt.
//
// First/last index, hard state, snapshot metadata and the terms of the newest
// `term_cache_entries` entries are cached, so EntryTerm/LastIndex near the tail never
// touch RocksDB.
//
// Not thread-safe: one driver thread per group issues its reads and writes (the
// Ready/Persist/Advance cycle serialises them). Different groups may run on different
// threads; RocksDB serialises their writes.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/storage.h"
#include "core/raft/types.h"
#include "runtime/storage/rocksdb_env.h"

namespace rocksdb {
class WriteBatch;
}  // namespace rocksdb

namespace ekv::runtime {

// Keys of the layout above; exposed for tests and tools.
std::string RaftLogKey(raft::GroupId group, raft::Index index);
std::string RaftStateKey(raft::GroupId group, char tag);

struct RocksDbRaftStorageOptions {
  size_t term_cache_entries = 4096;
};

class RocksDbRaftStorage final : public raft::Storage {
 public:
  // Loads group `group`'s state from `env` (an unknown group starts empty, like a fresh
  // MemoryStorage). `env` must outlive the storage.
  static absl::StatusOr<std::unique_ptr<RocksDbRaftStorage>> Open(
      RocksDbEnv* env, raft::GroupId group, const RocksDbRaftStorageOptions& options = {});

  absl::StatusOr<InitialState> GetInitialState() const override;
  absl::StatusOr<std::vector<raft::Entry>> Entries(raft::Index lo, raft::Index hi,
                                                   uint64_t max_bytes) const override;
  absl::StatusOr<raft::Term> EntryTerm(raft::Index i) const override;
  raft::Index FirstIndex() const override { return state_.offset_index + 1; }
  raft::Index LastIndex() const override { return state_.last_index; }
  absl::StatusOr<raft::Snapshot> GetSnapshot() const override;

  raft::GroupId group() const { return group_; }
  const raft::HardState& hard_state() const { return state_.hard_state; }

  // Bootstraps a brand-new group from `image`, a MemoryStorage that RawNode::Bootstrap
  // prepared (membership as committed conf change entries plus hard state): copies its
  // snapshot metadata, entries and hard state in one synced write, so the bootstrap rules
  // stay in core/raft. Requires an empty storage.
  absl::Status BootstrapFrom(const raft::MemoryStorage& image);

  // Records the state machine image at applied index `index` as the snapshot for lagging
  // followers, and discards entries before `compact_index` (like MemoryStorage). Neither
  // syncs: WAL order makes them durable no later than the next synced write, and losing
  // one only leaves more log behind. Both fail while a group-commit batch is prepared.
  absl::Status CreateSnapshot(raft::Index index, const raft::ConfState& conf_state,
                              std::string data);
  absl::Status Compact(raft::Index compact_index);

  // Group commit, step 1: validates `batch` against the current state and appends its
  // writes to `write_batch`. At most one batch may be prepared at a time; on error
  // nothing was appended and nothing is prepared.
  absl::Status PrepareBatch(const raft::PersistBatch& batch, rocksdb::WriteBatch* write_batch);
  // Step 2: `write` is the synced write of the WriteBatch the prepared batch went into.
  // Makes the prepared state visible to reads; the next Persist of that batch certifies it.
  void ApplyAfterCommit(const SyncedWrite& write);
  // Step 2 when the synced write failed: what reached the disk is unknown, so the
  // storage refuses every later write with `cause` (the driver must crash and recover).
  void AbandonPrepared(const absl::Status& cause);
  bool has_prepared_batch() const { return prepared_.has_value(); }

 protected:
  absl::Status WriteDurably(const raft::PersistBatch& batch) override;

 private:
  // What the cache knows; every field mirrors a key in raft_state or the log range.
  struct LogState {
    raft::Index offset_index = 0;  // entries live in (offset_index, last_index]
    raft::Term offset_term = 0;
    raft::Index last_index = 0;
    raft::HardState hard_state;
    raft::SnapshotMetadata snapshot_metadata;
  };
  // A batch between PrepareBatch and Persist: the state it leads to, and what identifies
  // it so Persist can check it is certifying the batch that was actually written.
  struct PreparedBatch {
    const rocksdb::WriteBatch* write_batch = nullptr;
    bool committed = false;  // the synced write returned OK
    LogState state_after;
    bool installs_snapshot = false;
    raft::Index append_start = 0;  // first index written, if appended_terms is non-empty
    std::vector<raft::Term> appended_terms;
    // Identity of the PersistBatch.
    uint64_t ready_id = 0;
    size_t entry_count = 0;
    raft::Index snapshot_index = 0;
    bool has_hard_state = false;
    raft::HardState hard_state;
  };

  RocksDbRaftStorage(RocksDbEnv* env, raft::GroupId group,
                     const RocksDbRaftStorageOptions& options);
  absl::Status Load();
  absl::Status CheckWritable(const char* operation) const;
  absl::StatusOr<raft::Term> ReadTermFromDb(raft::Index index) const;
  void InstallState(const PreparedBatch& prepared);
  // Drops cached terms at or below the log offset and beyond the capacity.
  void TrimTermCache();
  bool Matches(const PreparedBatch& prepared, const raft::PersistBatch& batch) const;

  RocksDbEnv* const env_;
  const raft::GroupId group_;
  const RocksDbRaftStorageOptions options_;
  LogState state_;
  // Terms of entries [recent_terms_first_, last_index]; empty means recent_terms_first_ ==
  // last_index + 1.
  std::deque<raft::Term> recent_terms_;
  raft::Index recent_terms_first_ = 1;
  std::optional<PreparedBatch> prepared_;
  absl::Status failed_;  // sticky: set when a synced write failed
};

}  // namespace ekv::runtime
