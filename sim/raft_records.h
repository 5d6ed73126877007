// How a simulated node lays its Raft state out on its SimDisk, and how it reads it back.
//
// One record per PersistBatch (snapshot, entries, hard state of one group), so a batch is
// atomic: its checksum makes it all-or-nothing after a crash. A bootstrap record names a
// group's initial voters; replaying it through RawNode::Bootstrap recreates exactly the
// state the node started from (no voters: an empty group, one the node joined later).
// Engine records (below) carry durable state machines.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kv/engine.h"
#include "core/kv/memory_engine.h"
#include "core/kv/write_batch.h"
#include "core/raft/storage.h"
#include "core/raft/types.h"

namespace ekv::sim {

std::string EncodeBootstrapRecord(raft::GroupId group, const std::vector<raft::NodeId>& voters);
std::string EncodeBatchRecord(raft::GroupId group, const raft::PersistBatch& batch);

struct RecoveryOptions {
  // Planted bug lose_vote_on_restart: the recovered hard state forgets its vote.
  bool forget_vote = false;
};

// Rebuilds each group's MemoryStorage from records in disk order.
absl::StatusOr<std::map<raft::GroupId, std::unique_ptr<raft::MemoryStorage>>> RecoverStorages(
    const std::vector<std::string>& records, const RecoveryOptions& options);

// Durable state machines (sim_engine.h) share the disk with Raft, as kv state shares
// RocksDB's WAL with the Raft log on a real node: their writes are records in the same
// order, durable once a later sync covers them. A replace record installs a whole staged
// snapshot at once (RocksDB's ingest is durable when it returns).
std::string EncodeEngineWriteRecord(raft::GroupId group, const kv::WriteBatch& batch);
std::string EncodeEngineReplaceRecord(raft::GroupId group, const kv::Engine& contents);
// Replays the engine records in disk order: each group's state machine engine.
absl::StatusOr<std::map<raft::GroupId, std::unique_ptr<kv::MemoryEngine>>> RecoverEngines(
    const std::vector<std::string>& records);

}  // namespace ekv::sim
