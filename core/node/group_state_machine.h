// GroupStateMachine: the replicated state of one server Raft group.
//
// Composes the MVCC store with its transactions (kv::KvStateMachine), the group's
// timestamp sequence and, for the catalog group, the route catalog (route::RouteCatalog).
//
// Timestamps chosen by the server (raw writes, read-modify-write commands, and the
// timestamp oracle behind Distribution.GetTimestamp) are assigned at apply time:
//   ts = max(HLC(proposer's wall clock), largest timestamp this group applied + 1).
// Apply order is the log order, so timestamps are strictly increasing per group across
// leader changes and restarts (the largest applied timestamp is part of the replicated
// state and its snapshots), and a leader with a slow or skewed clock cannot go backwards.
// Transaction timestamps (start/commit) come from the oracle and are only observed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/kv/kv_state_machine.h"
#include "core/kv/memory_engine.h"
#include "core/node/group_protocol.h"
#include "core/node/state_machine.h"
#include "core/route/catalog.h"

namespace ekv::node {

class GroupStateMachine final : public StateMachine {
 public:
  // `catalog`: the initial catalog for the group that hosts it, nullopt elsewhere.
  GroupStateMachine(raft::GroupId group, std::optional<route::RouteCatalog> catalog);

  ApplyResult Apply(raft::Index index, const Command& command) override;
  void Skip(raft::Index index) override;
  std::optional<std::string> Read(std::string_view key) const override;
  std::optional<std::string> Query(std::string_view payload) const override;
  raft::Index applied_index() const override { return kv_->applied_index(); }
  std::string SnapshotImage() const override;
  absl::Status Restore(std::string_view image, raft::Index index) override;
  uint64_t Digest() const override;

  // Called (on the applying thread) with the new catalog after every change and restore:
  // the push half of the route-table watch, driven by the replicated log itself.
  using CatalogListener = std::function<void(const route::RouteCatalog&)>;
  void SetCatalogListener(CatalogListener listener);

  kv::Timestamp max_timestamp() const { return max_ts_; }
  // Simulator self-tests only: plants kv bugs, kept across snapshot restores.
  void SetPlantedKvBugs(const kv::PlantedKvBugs& planted);
  const std::optional<route::RouteCatalog>& catalog() const { return catalog_; }

 private:
  kv::Timestamp NextTimestamp(uint64_t physical_ms);
  void Observe(kv::Timestamp ts);
  GroupResult ApplyKv(raft::Index index, const GroupCommand& command);
  GroupResult ApplyCatalog(raft::Index index, const GroupCommand& command);
  GroupResult QueryKv(absl::string_view payload) const;

  raft::GroupId group_;
  std::unique_ptr<kv::MemoryEngine> engine_;
  std::unique_ptr<kv::KvStateMachine> kv_;
  std::optional<route::RouteCatalog> catalog_;
  kv::Timestamp max_ts_ = 0;
  CatalogListener catalog_listener_;
  kv::PlantedKvBugs planted_;
};

}  // namespace ekv::node
