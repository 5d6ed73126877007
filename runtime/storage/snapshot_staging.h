// Out-of-band Raft snapshots of groups kept in RocksDB (core/node/snapshot_reference.h).
//
// Sender: ForEachGroupRecord walks one group's key range of the data column family from a
// consistent RocksDB view (the group's applied index is a record inside that range, so
// the records and the index agree), without filling the block cache. The transport
// streams what it yields in chunks; nothing holds the whole state in memory.
//
// Receiver: a StagedSnapshotWriter turns the streamed records into one SST file under
// <data_dir>/snapshot-staging/, in key order, with the group's prefix restored. Its path
// is the "staged ref" the follower's Raft snapshot carries; RocksDbEngine::
// ReplaceWithStaged ingests it when the snapshot is restored. Files left behind by
// snapshots that were never installed are removed by RemoveStaleStagedSnapshots at
// startup, after every group is loaded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/storage/rocksdb_env.h"

namespace rocksdb {
class SstFileWriter;
}

namespace ekv::runtime {

// Calls `emit` with every record of `group` (key without the group prefix), in key order.
// `emit` returns false to stop early (then the result is CancelledError).
absl::Status ForEachGroupRecord(
    RocksDbEnv* env, uint64_t group,
    const std::function<bool(absl::string_view key, absl::string_view value)>& emit);

class StagedSnapshotWriter {
 public:
  static absl::StatusOr<std::unique_ptr<StagedSnapshotWriter>> Begin(RocksDbEnv* env,
                                                                     uint64_t group);
  ~StagedSnapshotWriter();  // removes the file unless Finish succeeded
  StagedSnapshotWriter(const StagedSnapshotWriter&) = delete;
  StagedSnapshotWriter& operator=(const StagedSnapshotWriter&) = delete;

  // Keys without the group prefix, strictly increasing.
  absl::Status Add(absl::string_view key, absl::string_view value);
  // Seals the file and returns its path (the staged ref). At least one record is needed.
  absl::StatusOr<std::string> Finish();
  uint64_t records() const { return records_; }

 private:
  StagedSnapshotWriter() = default;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::string prefix_;
  std::string path_;
  std::string last_key_;
  uint64_t records_ = 0;
  bool finished_ = false;
};

// Deletes the files earlier lives of this node staged (call once every group has
// restored what its snapshot references). Files of this process are kept.
void RemoveStaleStagedSnapshots(RocksDbEnv* env);

}  // namespace ekv::runtime
