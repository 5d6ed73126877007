// GroupStateMachine: the replicated state of one server Raft group.
//
// Composes the MVCC store with its transactions (kv::KvStateMachine), the group's
// timestamp sequence and, for the catalog group, the route catalog (route::RouteCatalog).
//
// Timestamps chosen by the server (raw writes, read-modify-write commands; the legacy
// kTimestamp op) are assigned at apply time:
//   ts = max(HLC(proposer's wall clock), largest timestamp this group applied + 1,
//            read floor + 1).
// Apply order is the log order, so timestamps are strictly increasing per group across
// leader changes and restarts (the largest applied timestamp is part of the replicated
// state and its snapshots), and a leader with a slow or skewed clock cannot go backwards.
// Transaction timestamps (start/commit) come from the oracle and are only observed.
// The oracle itself runs in the group leader's memory (timestamp_oracle.h); it keeps its
// timestamps and these consistent through kTimestampFloor entries. A one-phase commit
// asked to choose its commit_ts (0) gets max(start_ts, read floor) + 1 at apply
// (kv_state_machine.h, "One-phase commit").
//
// Ownership (route::GroupOwnership) is part of the replicated state: the ranges this
// group owns and the catalog version of that knowledge. It starts from the bootstrap
// catalog (or, for the catalog group, the catalog it hosts), follows every catalog change
// the catalog group applies, and elsewhere advances by GroupCommandOp::kOwnership. Every
// kKv command and kKv/kRawGet/kRawScan query is checked against it at apply/query time:
// a key outside the owned ranges (or routed at a version older than the group's ownership
// of it) is refused with a STALE_ROUTE error (ownership.h) and changes nothing. A group
// given neither a catalog nor a bootstrap catalog does not know what it owns and serves
// every key (what the runtime did before ownership existed).
//
// Range moves (range_records.h, docs/architecture.md "Range moves (group side)"):
// kExportRange reads a chunk of a range's raw records at the applied state (the group
// must own the whole range, in any state); kIngestRange writes a chunk into a group the
// range is moving to (ownership's incoming routes) and raises the group's largest
// timestamp to the chunk's; kDeleteRange drops a range the group neither owns nor
// receives. Refusals are definite no-ops, like every other refusal.
//
// The catalog group also holds the member directory (member_directory.h): where every
// node can be reached. It changes only through GroupCommandOp::kMembers.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/kv/kv_state_machine.h"
#include "core/kv/memory_engine.h"
#include "core/node/group_protocol.h"
#include "core/node/member_directory.h"
#include "core/node/route_load_counter.h"
#include "core/node/state_machine.h"
#include "core/redis/request.h"
#include "core/redis/script_runner.h"
#include "core/route/catalog.h"
#include "core/route/ownership.h"

namespace ekv::node {

class GroupStateMachine final : public StateMachine {
 public:
  // `catalog`: the initial catalog for the group that hosts it, nullopt elsewhere.
  // `bootstrap`: the initial catalog every group may be given to know what it owns; when
  // absent, the catalog group uses `catalog` and other groups do not check ownership.
  // `engine`: where the state lives; a MemoryEngine when null. With a durable engine
  // (kv::Engine::durable) the state is recovered from it on construction (the bootstrap
  // arguments then only matter for a group that never applied anything), every applied
  // entry leaves the engine in a consistent state (the group's own records ride in the
  // same atomic batch as the kv writes and the applied index), and Raft snapshots are
  // references (snapshot_reference.h) rather than images.
  GroupStateMachine(raft::GroupId group, std::optional<route::RouteCatalog> catalog,
                    std::optional<route::RouteCatalog> bootstrap = std::nullopt,
                    std::unique_ptr<kv::Engine> engine = nullptr);

  ApplyResult Apply(raft::Index index, const Command& command) override;
  void Skip(raft::Index index) override;
  std::optional<std::string> Read(std::string_view key) const override;
  std::optional<std::string> Query(std::string_view payload) const override;
  raft::Index applied_index() const override { return kv_->applied_index(); }
  bool durable() const override { return durable_; }
  std::string SnapshotImage() const override;
  absl::Status Restore(std::string_view image, raft::Index index) override;
  uint64_t Digest() const override;

  // Called (on the applying thread) with the new catalog after every change and restore:
  // the push half of the route-table watch, driven by the replicated log itself.
  using CatalogListener = std::function<void(const route::RouteCatalog&)>;
  void SetCatalogListener(CatalogListener listener);
  // The same for the member directory (catalog group only): called after every change
  // and restore, and at once with the directory it holds.
  using MembersListener = std::function<void(const MemberDirectory&)>;
  void SetMembersListener(MembersListener listener);
  const MemberDirectory& members() const { return members_; }

  kv::Timestamp max_timestamp() const override { return max_ts_; }
  bool has_timestamps() const override { return true; }
  uint64_t hlc_ceiling_ms() const override { return kv_->hlc_ceiling_ms(); }
  uint64_t read_floor_ts() const override { return kv_->read_floor_ts(); }
  uint64_t QueryReadTimestamp(std::string_view payload) const override;
  std::string EncodeCeilingCommand(uint64_t ceiling_ms) const override;
  std::string EncodeTimestampFloorCommand(uint64_t floor_ts, bool above_ceiling) const override;
  std::string EncodeReadFloorCommand(uint64_t floor_ts) const override;
  std::vector<RouteLoad> RouteLoads() const override;
  // Simulator self-tests only: plants kv bugs, kept across snapshot restores.
  void SetPlantedKvBugs(const kv::PlantedKvBugs& planted);
  const std::optional<route::RouteCatalog>& catalog() const { return catalog_; }
  const std::optional<route::GroupOwnership>& ownership() const { return ownership_; }
  // Simulator self-tests only: plants route bugs, kept across snapshot restores.
  void SetPlantedRouteBugs(const route::PlantedRouteBugs& planted);
  // ---- scripting hook (lua): the engine Redis scripts (EVAL) run on, owned by the caller
  // and outliving the machine. Every replica of a group must be given the same one; without
  // one a script request answers redis_core::kNoScriptRunnerError.
  void SetScriptRunner(const redis_core::ScriptRunner* runner) { script_runner_ = runner; }

 private:
  ApplyResult ApplyCommand(raft::Index index, const Command& command);
  kv::Timestamp NextTimestamp(uint64_t physical_ms);
  void Observe(kv::Timestamp ts);
  GroupResult ApplyKv(raft::Index index, const GroupCommand& command);
  // Change the catalog / ownership; the caller marks the entry applied afterwards.
  GroupResult ApplyCatalog(const GroupCommand& command);
  GroupResult ApplyOwnership(const GroupCommand& command);
  GroupResult ApplyTimestampFloor(const GroupCommand& command);
  GroupResult ApplyMembers(const GroupCommand& command);
  // Range moves; both mark `index` applied (with their batch, or as a no-op on refusal).
  GroupResult ApplyIngestRange(raft::Index index, const GroupCommand& command);
  GroupResult ApplyDeleteRange(raft::Index index, const GroupCommand& command);
  GroupResult QueryExportRange(absl::string_view payload) const;
  // Durable engines only: stage the group's own records into the next applied batch,
  // and read them back after a restart or an installed snapshot.
  void StageMaxTimestamp();
  void StageCatalogAndOwnership();
  void StageMembers();
  void NotifyListeners();
  absl::Status LoadDurableRecords();
  absl::Status RestoreFromReference(std::string_view image, raft::Index index);
  GroupResult QueryKv(absl::string_view payload, uint64_t catalog_version) const;
  // Redis requests (core/redis/request.h) carried as kKv payloads: executed at apply time
  // (ApplyRedis) or at the linearizable read point (QueryRedis) by redis_core's executor
  // (group_redis.cc).
  GroupResult ApplyRedis(raft::Index index, const GroupCommand& command);
  GroupResult QueryRedis(absl::string_view payload, uint64_t catalog_version) const;
  // A bounded cleanup pass over the Redis records (core/redis/cleanup.h), whole-group.
  GroupResult ApplyRedisCleanup(raft::Index index, const GroupCommand& command);
  // STALE_ROUTE when the routing key is not ours (route again); a CROSSSLOT reply when
  // another key of the request is not ours; nullopt when the group may run it.
  std::optional<GroupResult> CheckRedisOwnership(const redis_core::RedisRequest& request,
                                                 uint64_t catalog_version,
                                                 route::AccessKind access) const;
  // OK, or the STALE_ROUTE refusal for the first key/range this group may not serve.
  absl::Status CheckKvCommandOwnership(const kv::KvCommand& command,
                                       uint64_t catalog_version) const;
  absl::Status CheckKeyOwnership(absl::string_view key, uint64_t catalog_version,
                                 route::AccessKind access) const;
  absl::Status CheckRangeOwnership(absl::string_view start, absl::string_view end,
                                   uint64_t catalog_version) const;

  raft::GroupId group_;
  std::unique_ptr<kv::Engine> engine_;
  bool durable_ = false;
  std::unique_ptr<kv::KvStateMachine> kv_;
  std::optional<route::RouteCatalog> catalog_;
  std::optional<route::GroupOwnership> ownership_;
  route::PlantedRouteBugs planted_route_;
  kv::Timestamp max_ts_ = 0;
  CatalogListener catalog_listener_;
  MemberDirectory members_;  // catalog group only
  MembersListener members_listener_;
  kv::PlantedKvBugs planted_;
  // Observations for the console's heat map, not replicated state (route_load_counter.h).
  // Mutable: reads count too, and Query is const.
  mutable RouteLoadCounter load_;
  const redis_core::ScriptRunner* script_runner_ = nullptr;  // scripting hook (lua)
  const route::GroupOwnership* ownership_or_null() const {
    return ownership_.has_value() ? &*ownership_ : nullptr;
  }
};

}  // namespace ekv::node
