// Workloads over clusters whose groups run the server's GroupStateMachine: the kv layer
// (MVCC, Percolator transactions across groups, apply-time timestamps) proven under the
// simulator's faults, judged by the checkers in sim/checkers/.
//
//   bank         accounts on two groups; transfer transactions (read both balances at
//                start_ts, prewrite both, commit the primary's group first) and read-all
//                transactions at one read_ts. checkers::CheckBank: every read sees the
//                initial total and no negative balance.
//   append       transactions of 1-4 micro-ops (append a unique int to a key's list, or
//                read it) over 8 keys on two groups; lists stored as comma-separated
//                values. checkers::CheckListAppend (strict serializability).
//   kv-register  single-key raw writes (RawWriteCommand) and kRawGet reads on keys of two
//                groups. checkers::CheckLinearizable.
//   kv-register-snapshot  kv-register, but half the reads take an oracle timestamp after
//                they began and read at it (RawGet at ts). Fails until the open bug of
//                docs/timestamp-ordering.md is fixed: its reproduction.
//   redis        Redis requests as the Redis front door sends them: EXEC'd list appends,
//                counters, expiring keys (redis_workload.h, which has their checkers).
//   dynamo       DynamoDB requests run by the DynamoDB front door's own handlers over
//                TableStore: conditional writes, index maintenance, TransactWriteItems
//                across groups (dynamo_workload.h, which has their checkers).
//
// Keys route by their first byte as the server's initial catalog does: below "m" to group
// 1, the rest to group 2.
//
// Every operation goes through core's coord::Coordinator -- the code the servers run --
// on a random up node (sim_coordinators.h): routing, retries, stale-route refreshes,
// transactions and lock resolution are all the server's own.
//
// With splits on (--splits; `bootstrap` given), every group knows what it owns from that
// catalog (group 1 hosts it), and:
//   - a splitter splits random routes at random keys (Distribution.SplitRange through a
//     node's coordinator with the catalog version that node knows; a race loses with
//     FAILED_PRECONDITION and the node re-reads the catalog); the coordinator tells the
//     split route's group (kOwnership);
//   - bank's read-only transactions also scan every account at their snapshot timestamp
//     (a transactional scan: route by route, small pages, either direction): the scan
//     must return each key once, in order, and exactly the point reads at that timestamp.
// Transactions read at a start_ts from the group-1 oracle (TxnGet, which resolves locks
// it meets); their writes are committed by the coordinator's CommitTransaction: one
// group -> a one-phase commit whose commit_ts the group chooses at apply; several ->
// Percolator 2PC, the primary's group first.
//
// Snapshot isolation alone allows write skew, which the append checker would rightly
// call a G2 cycle; so a transaction that writes also writes back, unchanged, every key it
// only read, turning each read into a write-write conflict (materialized conflicts).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/coord/placement_driver.h"
#include "core/kv/kv_command.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/route/catalog.h"
#include "core/util/rng.h"
#include "sim/checkers/bank.h"
#include "sim/checkers/history.h"
#include "sim/checkers/txn_history.h"
#include "sim/cluster.h"
#include "sim/dynamo_workload.h"
#include "sim/options.h"
#include "sim/redis_workload.h"
#include "sim/scheduler.h"
#include "sim/sim_coordinators.h"
#include "sim/swarm.h"
#include "sim/trace.h"

namespace ekv::sim {

class KvWorkload {
 public:
  static constexpr int64_t kInitialBalance = 100;

  KvWorkload(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
             const SwarmProfile& profile, int total_ops, WorkloadKind kind,
             SimCoordinatorPlants plants, std::optional<route::RouteCatalog> bootstrap,
             bool moves = false, bool placement = false, bool redis_cross_group_exec = false,
             bool dynamo_plant_index_keeps_old_entry = false, bool merges = false,
             bool create_groups = false, bool replica_moves = false);
  static constexpr int kMaxSplitsPerRun = 48;
  static constexpr int kMaxMovesPerRun = 24;
  static constexpr int kMaxMergesPerRun = 32;
  // Live at once: a retired one makes room for another.
  static constexpr int kMaxCreatedGroupsPerRun = 2;
  static constexpr int kMaxRetiredGroupsPerRun = 2;

  // Before the chaos phase, with no fault injected yet: what the workload needs in place
  // first (the dynamo workload's table and items). The simulation runs until SetupDone
  // (bounded) before it starts the faults and the clients.
  void StartSetup() {
    if (dynamo_) dynamo_->StartSetup();
  }
  bool SetupDone() const { return !dynamo_ || dynamo_->setup_done(); }
  void Start();
  // Ends the chaos phase's operations; a node the membership changer took out is still
  // added back (Idle() waits for it).
  void StopIssuing();
  bool Idle() const;
  // What keeps the workload from being idle (empty when it is), for failure reports.
  std::string BusyDescription() const;
  void OnReply(NodeIndex node, const node::ClientReply& reply) {
    coordinators_.OnReply(node, reply);
  }
  void OnCrash(NodeIndex node) { coordinators_.OnCrash(node); }
  // `node`'s catalog replica applied `catalog` (with --create_groups it reaches the node's
  // coordinator: SimCoordinators::SetPushAppliedCatalogs).
  void OnCatalogApplied(NodeIndex node, const route::RouteCatalog& catalog) {
    coordinators_.OnCatalogApplied(node, catalog);
  }

  uint64_t issued() const { return issued_; }
  uint64_t acknowledged() const { return acknowledged_; }
  uint64_t failed() const { return failed_; }
  uint64_t unknown() const { return unknown_; }
  SimCoordinatorTotals coordinator_totals() const { return coordinators_.totals(); }

  struct Verdict {
    bool ok = true;
    std::string verdict;  // what was violated, or "" when ok
    std::string details;
  };
  // Judges the recorded history with the workload's checker.
  Verdict Check() const;

  // "splits=<done>/<tried> scans=<completed> stale_refusals=<n>" for the summary line.
  std::string RoutingStats() const;
  // "ts=<timestamps handed out> 1pc=<committed>/<tried>" (and, with membership faults,
  // " members=<done>/<tried>") for the summary line.
  std::string KvStats() const;
  // --workload redis: which parts of the history are too thin to judge (empty: none).
  std::string ThinParts() const {
    if (dynamo_) return dynamo_->ThinParts();
    return redis_ ? redis_->ThinParts() : "";
  }
  // --workload dynamo or redis: whether a part of the history so far is too thin to judge
  // (for dynamo, leaving out the final read, which comes after the issuing).
  bool NeedsMoreOps() const {
    if (dynamo_) return dynamo_->NeedsMoreOps();
    return redis_ && !redis_->ThinParts().empty();
  }
  bool issuing() const { return issuing_; }
  // For the seed line: how long the clients issued after an early heal (a thin seed).
  void NoteCalmIssuing(SimTime us) { calm_issuing_us_ = us; }
  // With --placement these include what the nodes' placement drivers did.
  uint64_t splits_done() const;
  uint64_t scans_done() const { return scans_done_; }
  uint64_t moves_started() const;
  uint64_t moves_finished() const;
  uint64_t moves_aborted() const;
  const std::vector<uint64_t>& move_fences_us() const { return move_fences_us_; }
  // With --placement these include what the nodes' placement drivers merged.
  uint64_t groups_created() const { return group_creator_.done; }
  uint64_t group_creates_tried() const { return group_creator_.tried; }
  uint64_t groups_retired() const { return group_retirer_.done; }
  uint64_t group_retires_tried() const { return group_retirer_.tried; }
  uint64_t replica_moves_done() const { return replica_mover_.done; }
  uint64_t replica_moves_tried() const { return replica_mover_.tried; }
  uint64_t merges_done() const;
  uint64_t merges_tried() const;

 private:
  enum class TxnOutcome { kCommitted, kAborted, kUnknown };
  using Reads = std::map<std::string, std::optional<std::string>>;
  using Writes = std::vector<std::pair<std::string, std::string>>;  // first: the primary
  struct TxnSpec {
    std::vector<std::string> read_keys;
    std::function<Writes(const Reads&)> plan;  // empty result: read-only
  };
  // start_ts: the snapshot the reads were taken at (0 if none was drawn).
  using TxnDone = std::function<void(TxnOutcome, const Reads&, kv::Timestamp start_ts)>;
  struct Txn;

  struct Client {
    uint64_t id = 0;
    bool busy = false;
  };

  // A transaction: reads at start_ts, then its writes, all through one node's
  // coordinator.
  void RunTxn(TxnSpec spec, TxnDone done);
  // Draws start_ts (above at_least, after a ReadRestart) and reads from the first key.
  void StartTxnReads(std::shared_ptr<Txn> txn, kv::Timestamp at_least);
  void ReadNext(std::shared_ptr<Txn> txn);
  // kv-register-snapshot: `key` at a fresh oracle timestamp, retaken after a ReadRestart.
  using ReadDone = std::function<void(std::optional<coord::OpResult>)>;
  void SnapshotRead(NodeIndex node, std::string key, kv::Timestamp at_least, int restarts_left,
                    ReadDone done);
  void CommitWrites(std::shared_ptr<Txn> txn);

  // Splits (see above).
  void ScheduleSplit();
  void RunSplit();
  void PushOwnership(raft::GroupId group);
  // Scans every key at `ts` (see above); `done` once it finished or gave up.
  struct Scan;
  void ScanAt(kv::Timestamp ts, const Reads& point_reads, std::function<void()> done);
  void FinishScan(std::shared_ptr<Scan> scan, bool completed);

  void ScheduleNext(size_t client_index);
  void Issue(size_t client_index);
  void Done(size_t client_index);
  void MaybeStartFinalReads();
  void IssueBank(size_t client_index);
  void RunBankSetup(size_t client_index);
  void IssueAppend(size_t client_index);
  void IssueRegister(size_t client_index);

  Scheduler& scheduler_;
  Trace& trace_;
  Cluster& cluster_;
  Rng rng_;
  SwarmProfile profile_;
  int total_ops_;
  WorkloadKind kind_;
  SimCoordinators coordinators_;
  bool issuing_ = false;
  SimTime calm_issuing_us_ = 0;  // NoteCalmIssuing
  std::vector<Client> clients_;
  std::vector<std::string> keys_;
  uint64_t issued_ = 0;
  uint64_t acknowledged_ = 0;
  uint64_t failed_ = 0;
  uint64_t unknown_ = 0;
  uint64_t one_phase_tried_ = 0;
  uint64_t one_phase_committed_ = 0;

  // bank
  bool bank_setup_done_ = false;
  bool bank_setup_running_ = false;
  std::vector<checkers::BankRead> bank_reads_;
  // append
  checkers::TxnHistory txn_history_;
  int64_t next_append_value_ = 1;
  // redis
  std::unique_ptr<RedisWorkload> redis_;
  // dynamo
  std::unique_ptr<DynamoWorkload> dynamo_;
  // kv-register
  checkers::History register_history_;
  uint64_t next_register_value_ = 1;
  // splits and scans
  bool splits_ = false;
  bool splitter_busy_ = false;
  uint64_t splits_done_ = 0;
  uint64_t split_attempts_ = 0;
  uint64_t scans_running_ = 0;
  uint64_t scans_done_ = 0;
  std::vector<std::string> scan_violations_;
  // node membership through the coordinators (with the membership fault class,
  // kv_workload_members.cc): one node at a time is taken out of every group and later
  // added back and promoted; with --create_groups it is drained first.
  void ScheduleMemberChange();
  void RunMemberChange();
  bool MemberChangesLeft() const;  // after the chaos
  void RemoveNode(NodeIndex via, NodeIndex node, std::function<void(bool)> finish);
  // StartDrainNode(draining_node_); answered OK, the node is removed (RemoveNode).
  void DrainBeforeRemoval(NodeIndex via, std::function<void(bool)> finish);
  // `node`'s catalog replica if the node is up and its replica holds a catalog.
  const node::GroupStateMachine* UpCatalogReplica(NodeIndex node) const;
  // The up catalog replica with the newest catalog (null: none).
  const node::GroupStateMachine* NewestCatalogReplica() const;
  // Live created groups that list `node` as removed, in the newest catalog.
  size_t GroupsRemovedFrom(NodeIndex node) const;
  // With --create_groups: a node whose disk broke that the newest catalog still names a
  // replica of a created group (0: none). It is the next one drained and removed.
  NodeIndex BrokenNodeReplicatingCreated() const;
  size_t CreatedGroupsReplicatedBy(NodeIndex node) const;  // live ones, newest catalog
  // The cluster's members as the coordinators count them: `catalog_replica`'s member
  // directory and the catalog group's voters as an up leader of it applied them.
  std::set<NodeIndex> MembersOf(const node::GroupStateMachine& catalog_replica) const;
  bool broken_drain_refused_ = false;
  // Nodes the member changer began to drain while their disk was broken (an operator
  // replacing a dead disk): only their replicas must have moved by the heal's check.
  std::set<NodeIndex> broken_drains_started_;
  // After the heal, with --create_groups: every live created group has as many replicas as
  // it was created with hosted on up members that vote in it, and no up node hosts a
  // created group the catalog does not name it a replica of.
  std::string CreatedReplicaViolation() const;
  size_t ReadmittedNodesHostingCreated() const;
  NodeIndex draining_node_ = 0;  // drained before its removal (--create_groups)
  uint64_t member_drains_ = 0;   // drains answered OK that moved a replica, then removal
  uint64_t member_drains_refused_ = 0;
  uint64_t member_runs_after_chaos_ = 0;  // drains and removals of a broken node
  size_t readmit_pending_groups_ = 0;     // at the wipe: created groups it was removed from
  uint64_t readmitted_groups_ = 0;        // ... summed over AddNode(readmit)s answered OK
  std::set<NodeIndex> readmitted_nodes_;  // ... of those
  bool member_changes_ = false;
  Rng member_rng_{1};
  bool member_changer_busy_ = false;
  NodeIndex removed_node_ = 0;
  // RemoveNode answered OK for removed_node_ (out of every group and the directory): half
  // the time it then comes back as a new disk would, wiped and restarted empty, and joins
  // with readmit (StartAddNode's `readmit`, as `ekv-server --join` asks), once no group's
  // configuration names it any more (NamedInAnyConfiguration).
  bool removal_done_ = false;
  bool rejoin_empty_ = false;
  uint64_t readmissions_ = 0;  // wiped and added back with readmit
  // AddNode(readmit)s refused since a member did not hold its group's newest configuration.
  uint64_t readmit_waits_ = 0;
  bool NamedInAnyConfiguration(NodeIndex node) const;
  // A node whose disk broke stays a member until an operator removes it, and AddNode with
  // readmit waits for every member: no node is emptied while one is (the workload does not
  // model replacing dead nodes).
  bool AnyDiskBroken() const;
  uint64_t member_changes_done_ = 0;
  uint64_t member_change_attempts_ = 0;
  // The state of one background client (mover, merger, group creator, replica mover): its
  // own random stream (forked only when its option is on, so other runs draw as before),
  // whether its one operation is running, the operation to resume, and its counters.
  template <typename Pending>
  struct Activity {
    Rng rng{1};
    bool busy = false;
    std::optional<Pending> unfinished;
    uint64_t done = 0;
    uint64_t tried = 0;
  };
  // range moves (--moves): one at a time, a random route to a random other group through
  // a random node's coordinator (StartMoveRange). A move whose answer was lost, or that
  // stopped after its cut-over, is resumed (with its source) until it finishes or rolls
  // back, also after the chaos phase.
  struct PendingMove {
    std::string key;
    raft::GroupId source = 0;
    raft::GroupId target = 0;
  };
  void ScheduleMove();
  void RunMove();
  bool moves_ = false;
  Activity<PendingMove> mover_;  // tried: moves started; done: finished
  uint64_t moves_aborted_ = 0;
  uint64_t move_attempts_ = 0;
  std::vector<uint64_t> move_fences_us_;
  // range merges (--merges): one at a time, a random route and the one after it through
  // a random node's coordinator (StartMergeRange, fenced by that node's table version);
  // with --moves, routes on two groups are merged after moving the right one (the
  // coordinator runs the move), and a move such a merge left unfinished is resumed (like
  // the mover's) until it finishes or rolls back, also after the chaos phase.
  void ScheduleMerge();
  void RunMerge();
  bool merges_ = false;
  Activity<PendingMove> merger_;  // unfinished: a merge's move to finish
  uint64_t merges_moved_ = 0;     // merges that moved a route first
  // groups created at run time (--create-groups): a client creates up to
  // kMaxCreatedGroupsPerRun groups on 3 of the nodes (placement picks them) through a
  // random node's coordinator during the chaos; the mover and placement then move ranges
  // into them like into any group (their voters host them: node/hosted_groups.h).
  void ScheduleCreateGroup();
  void RunCreateGroup();
  bool create_groups_ = false;
  Activity<std::monostate> group_creator_;  // nothing is resumed
  // ... and retires up to kMaxRetiredGroupsPerRun of them: a random created group that
  // no route names in the catalog read through a random node's coordinator
  // (StartRetireGroup), at random times during the chaos. After the heal
  // (RetiredGroupViolation) no up node's catalog may list a group whose retirement was
  // acknowledged, and no up node may host a retired group (an id of the catalog's created
  // range that it does not list, or one acknowledged retired).
  void ScheduleRetireGroup();
  void RunRetireGroup();
  std::string RetiredGroupViolation() const;
  Activity<std::monostate> group_retirer_;
  std::set<raft::GroupId> retired_groups_;  // RetireGroup answered OK
  // replica moves (--replica_moves, kv_workload_replicas.cc): one at a time through a
  // random node's coordinator, either one replica of a random created group to a random
  // node that does not host it (StartMoveReplica) or every replica off a random node
  // (StartDrainNode). One that did not finish (no answer, a deadline) is run again with
  // the same arguments until it finishes or is refused, also after the chaos phase.
  struct PendingReplicaMove {
    bool drain = false;
    coord::MoveReplicaSpec move;  // !drain
    NodeIndex node = 0;           // drain: the node drained
  };
  void ScheduleReplicaMove();
  void RunReplicaMove();
  void RunPendingReplicaMove(NodeIndex via);
  bool replica_moves_ = false;
  Activity<PendingReplicaMove> replica_mover_;
  uint64_t replica_move_runs_ = 0;  // attempts, resumptions included (bounded)
  uint64_t replica_move_runs_after_chaos_ = 0;
  // placement (--placement, with --moves): every node runs the core's placement driver
  // (core/coord/placement_driver.h) through its coordinator, as ekv-server does; the one
  // leading the catalog group decides from the groups' route load counters and key
  // samples, and runs the splits and moves (kv_workload_placement.cc). The random
  // splitter and mover do not run.
  void SchedulePlacement();
  void TickPlacement();
  void StopPlacement();
  bool PlacementBusy() const;
  std::string PlacementStats() const;
  coord::PlacementDriverStatus PlacementTotals() const;  // counters summed over all drivers
  bool placement_ = false;
  Rng placement_rng_{1};
  std::optional<coord::PlacementDriverOptions> placement_options_;
  SimTime placement_tick_us_ = 0;
  bool placement_tick_scheduled_ = false;
  std::map<NodeIndex, std::unique_ptr<coord::PlacementDriver>> drivers_;
  // With --create_groups the drivers also balance replicas (balance_replicas). After the
  // chaos (drivers paused) the heal's balance check asks StartBalanceReplicas through a
  // random node until it answers "balanced" (each answer a move, within a bounded
  // window; past it the seed is "unjudged"), then judges the catalog itself: no member
  // hosting two replicas more than another while a replica of it could go there.
  void ScheduleBalanceCheck();
  void RunBalanceCheck();
  void JudgeBalance(const route::RouteCatalog& catalog);
  bool balance_check_running_ = false;  // from the heal until judged or unjudged
  bool balance_check_busy_ = false;
  SimTime balance_check_started_ = 0;
  uint64_t balance_check_moves_ = 0;
  std::string balance_outcome_ = "none";  // none / balanced / unjudged / unbalanced
  std::string balance_violation_;
  std::string balance_disagreement_;  // the last judgement's, asked again until the window ends
  // The leaders' turn, after the replica check (or at the heal without --create_groups):
  // StartBalanceLeaders through a random node, with this check's own history, until it
  // answers "balanced" (each answer a transfer, within a bounded window), then the hosts'
  // own leaders are judged: every node within +-25% of the mean ("balanced"), or else no
  // assignment of the groups' leaders to their up voters reaches that band and no node
  // leads two more than another that votes in a movable group it leads ("legal"). The end
  // of both checks' windows is one function (BalanceWindowEnded).
  void StartLeaderCheck();
  void ScheduleLeaderCheck();
  void RunLeaderCheck();
  void JudgeLeaders();
  bool leader_check_running_ = false;
  bool leader_check_busy_ = false;
  SimTime leader_check_started_ = 0;
  uint64_t leader_check_transfers_ = 0;
  placement::LeaderBalanceHistory leader_check_history_;
  // none / balanced / legal / unjudged / unbalanced
  std::string leader_outcome_ = "none";
  std::string leader_violation_;
  std::string leader_disagreement_;
};

}  // namespace ekv::sim
