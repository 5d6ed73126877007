// A durable kv::Engine for the simulator: the state of a durable GroupStateMachine the
// way a real node keeps it in RocksDB.
//
// Reads and writes go to an in-memory engine the simulated process owns (lost in a
// crash); every write is also appended to the node's SimDisk as an engine record, in the
// same stream as the Raft records (RocksDB's single WAL), unsynced: it survives a crash
// only if a later sync (a Raft persist) covered it. A restart rebuilds the engine from
// the records that survived (RecoverEngines), so the state machine comes back at
// whatever applied index its durable writes reached: possibly ahead of the Raft log
// (entries applied before they were durable locally), possibly behind it.
// ReplaceWithStaged installs a copy the cluster staged when the leader's snapshot
// message left (the simulated stream of the leader's records), durably at once.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/kv/engine.h"
#include "core/kv/memory_engine.h"
#include "core/raft/types.h"

namespace ekv::sim {

class SimDurableEngine final : public kv::Engine {
 public:
  struct Io {
    // Appends a record to the node's disk; `sync`: and makes everything so far durable.
    std::function<void(const std::string& record, bool sync)> append;
    // The copy staged under `ref`, or nullptr.
    std::function<const kv::MemoryEngine*(absl::string_view ref)> staged;
  };

  // `memory` is owned by the simulated process and outlives this engine.
  SimDurableEngine(raft::GroupId group, kv::MemoryEngine* memory, Io io);

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override;
  std::unique_ptr<kv::EngineIterator> NewIterator(const kv::IterOptions& options) const override;
  absl::Status Write(const kv::WriteBatch& batch) override;
  std::unique_ptr<kv::EngineSnapshot> Snapshot() const override;
  bool durable() const override { return true; }
  absl::Status ReplaceWithStaged(absl::string_view staged_ref) override;

 private:
  raft::GroupId group_;
  kv::MemoryEngine* memory_;
  Io io_;
};

// Copies every record of `from` into a fresh engine (what a snapshot stream carries).
std::unique_ptr<kv::MemoryEngine> CopyEngine(const kv::Engine& from);

}  // namespace ekv::sim
