// coord::Coordinator: the layer between a client operation and the Raft groups, as one
// deterministic, single-threaded state machine. The server (runtime/server/coordinator.h)
// and the simulator (sim/sim_coordinators.h) both drive this same code.
//
// Inputs: client operations (Start* below: raw reads/writes/scans, compare-and-set,
// transactional reads/writes/scans, client-driven Percolator phases, timestamps, catalog
// reads and splits, GC passes, generic group calls), the answers to the group calls it
// asked for (OnCallReply / OnCallFailed), timers firing (OnTimer) and catalog changes
// pushed by the node's catalog replica (OnCatalog). The driver sets the time (SetTime)
// before each input. Outputs accumulate as Effects, drained by TakeEffects: group calls
// to send to a node's NodeHost (this node's own, or a forward to another node), timers
// to arm, and finished operations.
//
// It reads no clock, performs no I/O, starts no thread, and iterates only ordered
// containers; its randomness (backoff jitter, the simulator's misroutes) is a seeded Rng.
//
// What it decides, once for both drivers:
//   - routing: key -> route -> group from a versioned route table (route::RouteTable);
//     every kv request carries the table's version, and a group that refuses it as
//     STALE_ROUTE (ownership.h: a definite no-op) makes the coordinator read the catalog
//     linearizably, replace its table and go again, bounded by max_stale_route_retries and
//     the request deadline;
//   - where to send: this node when it hosts the group (NodeHost forwards followers'
//     proposals and read indexes through Raft), else the leader it last saw or was hinted;
//   - retries: a request that certainly had no effect (kFailed, kNotLeader, a forward that
//     never left) is retried after a jittered backoff until the deadline; a read or an
//     idempotent request is retried also when an attempt's outcome is unknown; a write
//     whose outcome is unknown is never re-proposed blindly: it finishes with
//     UnavailableError("write outcome unknown ...");
//   - scans: route by route through route::ScanCursor (forward or reverse), resuming
//     strictly after the last key returned, so splits between sub-scans neither repeat nor
//     skip keys;
//   - transactions and lock resolution: one kv::TxnCoordinator drives every transaction's
//     write phase and every lock resolution (CheckTxnStatus on the primary, then
//     ResolveLock on the lock's key); timestamps come from the catalog group leader's
//     oracle.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/kv/kv_command.h"
#include "core/kv/txn_coordinator.h"
#include "core/node/command.h"
#include "core/node/group_protocol.h"
#include "core/node/member_directory.h"
#include "core/placement/leader_balance.h"
#include "core/raft/confchange.h"
#include "core/raft/types.h"
#include "core/redis/request.h"
#include "core/route/catalog.h"
#include "core/route/ownership.h"
#include "core/route/route_table.h"
#include "core/route/scan_plan.h"
#include "core/util/rng.h"

namespace ekv::coord {

using OpId = uint64_t;     // one client operation
using CallId = uint64_t;   // one attempt sent to a node
using TimerId = uint64_t;  // one armed timer

// Test-the-tests only: bugs the simulator and the jepsen harness must catch. Off in
// production.
struct CoordinatorPlants {
  bool no_stale_route_retry = false;          // STALE_ROUTE refusals reach the client
  bool retry_unknown_write = false;           // a raw write whose outcome is unknown is re-proposed
  bool resolve_rolls_back_committed = false;  // lock resolution (kv::TxnCoordinator)
  // Range moves (range_mover.cc):
  bool move_cutover_before_final_copy = false;    // no copy pass under the write fence
  bool move_source_serves_after_cutover = false;  // the source never learns the cut-over
  bool move_forgets_locks = false;                // chunks lose their 'l' lock records
  // Range merges (range_merger.cc): routes of different groups are merged in the catalog
  // without moving one first (with PlantedRouteBugs::merge_across_groups in the catalog).
  bool merge_skips_move = false;
  // A Redis command over several groups (coordinator_redis_cross.cc) commits without
  // checking that its keys still hold the values it ran on.
  bool redis_cross_skips_revalidation = false;
  // A pipelined part whose write outcome is unknown (coordinator_redis_pipeline.cc) is
  // reported to its commands as a definite failure.
  bool redis_pipeline_unknown_as_failed = false;
  // Leader balancing (leader_balancer.cc) plans over the created groups alone: the initial
  // groups' leaders are never counted or moved (a wrong planner the heal's check catches).
  bool leader_balance_created_groups_only = false;
};

struct CoordinatorOptions {
  raft::NodeId node_id = raft::kNoNode;
  raft::GroupId catalog_group = 1;
  // Every operation finishes within this (an answer, or the reason there is none).
  uint64_t request_timeout_us = 5'000'000;
  // How long one attempt waits for its answer (0: until the request deadline). Past it a
  // retryable attempt is sent again; a write's outcome becomes unknown.
  uint64_t attempt_timeout_us = 0;
  uint64_t backoff_min_us = 2'000;
  uint64_t backoff_max_us = 100'000;
  int max_stale_route_retries = 32;
  size_t max_scan_limit = 10'000;
  size_t max_txn_keys = 4096;
  uint64_t default_lock_ttl_ms = 3000;
  size_t max_pending_ops = 65'536;
  uint64_t seed = 1;
  // Simulator self-test of the ownership guard: with this probability a kv request goes
  // to the other of groups 1 and 2 than its route names (a stale table in the extreme),
  // which must refuse it.
  double misroute_probability = 0;
  // Misroutes go to another of groups 1..misroute_groups (>= 2): 2 is the split runs'
  // two owning groups; runs that move ranges to more groups name them all.
  uint64_t misroute_groups = 2;
  // Range moves (StartMoveRange): until the cut-over, then to finish it (or an abort).
  uint64_t move_timeout_us = 30'000'000;
  uint64_t move_finish_timeout_us = 60'000'000;
  uint64_t move_chunk_bytes = 1 << 20;  // per export chunk (node::kMaxRangeChunkBytes at most)
  int move_copy_passes = 2;             // full copy passes before the write fence (>= 1)
  CoordinatorPlants plants;
};

// StartMoveRange: which route to move where (docs/architecture.md "Range moves").
struct MoveRangeSpec {
  std::string key;  // any key of the route to move (or empty, with route_id)
  // Nonzero: the route must have this id (with an empty key: the route to move), else the
  // move fails FailedPrecondition without changing anything (it was split or merged).
  route::RouteId route_id = 0;
  // Nonzero: the catalog's version when the move starts must equal it (as SplitRange's
  // expected_catalog_version), else FailedPrecondition and nothing changes.
  uint64_t expected_catalog_version = 0;
  raft::GroupId target_group = 0;
  // 0: the route's group when the move starts. To resume a move whose coordinator died
  // after the cut-over (the catalog then names only the target), name its source here.
  raft::GroupId source_group = 0;
  uint64_t timeout_us = 0;  // until the cut-over; 0: CoordinatorOptions::move_timeout_us
};
// What a move did (StartMoveRange's answer, also on failure when known).
struct MoveRangeResult {
  route::RouteId route_id = 0;
  raft::GroupId source_group = 0;
  raft::GroupId target_group = 0;
  bool cut_over = false;  // the catalog names the target (the move cannot be aborted now)
  bool aborted = false;   // rolled back: the route is ACTIVE on its source again
  uint64_t copy_passes = 0;
  uint64_t records_copied = 0;
  // Write pause: from proposing the fence to the target's applied activation (0 when
  // this operation did not run both).
  uint64_t fence_us = 0;
  uint64_t catalog_version = 0;  // the last catalog version the move saw
};

// StartMergeRange: which two adjacent routes to merge (docs/architecture.md "Range
// merges").
struct MergeRangeSpec {
  std::string key;  // any key of the left route (or empty, with route_id)
  // Nonzero: the left route must have this id (with an empty key: the left route).
  route::RouteId route_id = 0;
  // Nonzero: the right route must have this id, else FailedPrecondition; 0: the route
  // right after the left one.
  route::RouteId right_route_id = 0;
  // Nonzero: the catalog's version when the merge is decided must equal it.
  uint64_t expected_catalog_version = 0;
  // Routes on different groups: move the right one into the left's group first
  // (StartMoveRange), then merge. False: refused FailedPrecondition.
  bool move_if_needed = false;
  uint64_t move_timeout_us = 0;  // that move's MoveRangeSpec::timeout_us
};
struct MergeRangeResult {
  route::RouteId left_route_id = 0;
  route::RouteId right_route_id = 0;
  route::RouteDescriptor merged;  // the new route (route_id 0 until the merge committed)
  bool moved = false;             // the right route was moved into the left's group first
  std::optional<MoveRangeResult> move;
  uint64_t catalog_version = 0;  // the last catalog version the merge saw
};

// StartCreateGroup: a new Raft group (group_creator.cc).
struct CreateGroupSpec {
  // The nodes that host it (members of the cluster). Empty: `replicas` members chosen by
  // placement::ChooseGroupVoters (those hosting the fewest created groups).
  std::vector<raft::NodeId> voters;
  size_t replicas = 3;
};

// StartMoveReplica: one replica of a created group from node `from` to node `to`
// (replica_mover.cc, docs/architecture.md "Replica moves and draining a node").
struct MoveReplicaSpec {
  raft::GroupId group = 0;
  raft::NodeId from = raft::kNoNode;
  // kNoNode: only remove `from`, refused when fewer than `min_replicas` replicas would be
  // left (and always for the last one).
  raft::NodeId to = raft::kNoNode;
  size_t min_replicas = 3;
  uint64_t timeout_us = 0;  // 0: CoordinatorOptions::move_timeout_us
};

// One step of leader balancing (leader_balancer.cc, placement/leader_balance.h).
struct LeaderBalanceSpec {
  // The groups to balance besides the catalog's live created groups (which are added):
  // the initial groups. The catalog group (CoordinatorOptions::catalog_group) counts but
  // never moves.
  std::vector<raft::GroupId> groups;
  placement::LeaderBalanceHistory history;  // the caller's, from earlier steps
  placement::LeaderBalanceOptions options;
  uint64_t timeout_us = 0;  // 0: the request timeout
};

// What the driver knows of its own node's groups (its NodeHost's last status).
class GroupView {
 public:
  virtual ~GroupView() = default;
  virtual bool Hosts(raft::GroupId group) const = 0;
  // kNoNode when unknown.
  virtual raft::NodeId LeaderOf(raft::GroupId group) const = 0;
  // Every group the node hosts, with the configuration its replica last saw.
  virtual std::map<raft::GroupId, raft::ConfState> Configurations() const = 0;
};

// Effects.
struct GroupCall {
  CallId call = 0;
  raft::NodeId node = raft::kNoNode;  // this node: submit locally; another: forward there
  node::ClientRequest request;        // request_id is the driver's to set
};
struct TimerRequest {
  TimerId timer = 0;
  uint64_t at_us = 0;  // on the driver's clock (SetTime's now_us)
};
struct KeyErrorOutcome {
  std::string key;
  std::string message;
  bool retryable = false;
};
struct OpResult {
  absl::Status status;
  uint64_t index = 0;  // Raft log index of the write, or the read index
  uint64_t ts = 0;     // commit timestamp, issued timestamp, latest commit ts (0: none)
  std::optional<std::string> value;                        // reads; CAS: value found
  std::vector<std::pair<std::string, std::string>> pairs;  // scans
  std::vector<KeyErrorOutcome> key_errors;                 // Prewrite / Commit
  bool applied = false;                                    // CAS; Rollback: all rolled back
  node::GroupResult group_result;                // StartKvCommand / StartKvQuery / StartGroup*
  node::ClientReply leader_reply;                // StartLeaderRequest
  std::optional<route::RouteCatalog> catalog;    // StartReadCatalog
  std::optional<route::SplitResult> split;       // StartSplitRange
  std::optional<node::MemberDirectory> members;  // membership operations
  std::optional<MoveRangeResult> move;           // StartMoveRange
  std::optional<MergeRangeResult> merge;         // StartMergeRange
  std::optional<route::GroupDescriptor> group;   // StartCreateGroup / StartRetireGroup /
                                                 // StartMoveReplica (as the catalog then shows it)
  std::vector<route::GroupDescriptor> groups;    // StartDrainNode: the groups moved off the node
  // StartBalanceLeaders: the transfer started (none: balanced), the leaders per node it
  // planned against, and a target that did not answer (no transfer started; the status
  // says so).
  std::optional<placement::LeaderTransferPlan> leader_transfer;
  std::map<uint64_t, size_t> leader_counts;
  raft::NodeId unreachable_target = raft::kNoNode;
  // StartRedisPipeline: per command, in order, its reply (value) or the failure of the
  // request it travelled in (code, message).
  std::vector<node::GroupResult> redis_replies;
};
struct OpDone {
  OpId op = 0;
  OpResult result;
};
struct Effects {
  std::vector<GroupCall> calls;
  std::vector<TimerRequest> timers;
  std::vector<OpDone> done;
  bool empty() const { return calls.empty() && timers.empty() && done.empty(); }
};

struct CoordinatorStats {
  uint64_t ops_started = 0;
  uint64_t ops_ok = 0;
  uint64_t ops_failed = 0;
  uint64_t ops_unknown = 0;  // finished "outcome unknown"
  uint64_t calls_sent = 0;
  uint64_t calls_forwarded = 0;  // to another node
  uint64_t stale_route_refusals = 0;
  uint64_t route_refreshes = 0;
  uint64_t ownership_updates = 0;
  uint64_t lock_resolutions = 0;  // resolutions started
  uint64_t txns_committed = 0;
  uint64_t txns_aborted = 0;
  // Range moves: started, finished (route ACTIVE on the target, source cleaned up),
  // rolled back; and the write pause (fence -> activation) of the finished ones.
  uint64_t moves_started = 0;
  uint64_t moves_finished = 0;
  uint64_t moves_aborted = 0;
  uint64_t move_fence_us_total = 0;
  uint64_t move_fence_us_max = 0;
  // Range merges: started, committed (the catalog names the merged route).
  uint64_t merges_started = 0;
  uint64_t merges_done = 0;
  // Replica moves: started, finished (the old replica removed from the catalog and the
  // group's configuration).
  uint64_t replica_moves_started = 0;
  uint64_t replica_moves_done = 0;
  uint64_t replica_moves_rolled_back = 0;
  // AddNode(readmit)s that gave up waiting for a member to hold its group's configuration.
  uint64_t joins_waiting_for_members = 0;  // a joined learner that never caught up, taken out
};

class Coordinator {
 public:
  // `view` is not owned and must outlive the coordinator.
  Coordinator(CoordinatorOptions options, const GroupView* view);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // --- Inputs -----------------------------------------------------------------------
  // The driver's monotonic clock (us) and wall clock (ms since the epoch; HLC physical
  // time of commands and lock TTL checks). Before every other input; never backwards.
  void SetTime(uint64_t now_us, uint64_t wall_ms);
  void OnCallReply(CallId call, const node::ClientReply& reply);
  // The call could not be carried out (a forward's transport error). `maybe_delivered`:
  // the target may have received it.
  void OnCallFailed(CallId call, bool maybe_delivered, std::string why);
  void OnTimer(TimerId timer);
  // A catalog the node's replica of the catalog group applied (or any newer one).
  void OnCatalog(const route::RouteCatalog& catalog);

  // --- Client operations: each answers exactly once, as an OpDone effect. ------------
  OpId StartRawPut(std::string key, std::string value);
  OpId StartRawDelete(std::string key);
  // ts == 0: the latest value, linearizable; ts > 0: a read AS OF ts (kv::KvQuery::as_of;
  // StartTxnGet is the snapshot read that sees every write acknowledged before ts).
  OpId StartRawGet(std::string key, uint64_t ts);
  OpId StartRawLatestCommitTs(std::string key);
  OpId StartRawScan(std::string start, std::string end, int64_t limit, uint64_t ts);
  // Writes new_value (nullopt: delete) iff the latest value equals expected (nullopt:
  // absent) when the group applies it; a transaction's lock on the key is resolved first.
  OpId StartCompareAndSet(std::string key, std::optional<std::string> expected,
                          std::optional<std::string> new_value);
  // A kv command (encoded kv::KvCommand) whose keys live in the group owning routing_key;
  // answered with the group's GroupResult. Not retried when its outcome is unknown.
  OpId StartKvCommand(std::string routing_key, std::string kv_command);
  // A kv query (node::EncodeKvQuery) at a linearizable point of routing_key's group.
  OpId StartKvQuery(std::string routing_key, std::string kv_query);

  // A timestamp above at_least (0: any): after a ReadRestart, its ReadRestartAbove.
  OpId StartGetTimestamp(uint64_t at_least = 0);
  OpId StartReadCatalog();
  OpId StartSplitRange(uint64_t expected_version, uint64_t route_id, std::string split_key);

  // Transactions. ts == 0 draws a read timestamp from the oracle.
  OpId StartTxnGet(std::string key, uint64_t ts);
  OpId StartTxnScan(std::string start, std::string end, uint64_t limit, uint64_t ts,
                    bool reverse = false, uint64_t page = 0);
  // One key, one-phase commit, retried with a new start_ts on conflicts.
  OpId StartTxnPut(std::string key, std::optional<std::string> value);
  // Commits `mutations` (distinct keys; the first is the primary) read at start_ts:
  // one-phase in one group, else Percolator 2PC. OK = committed at result.ts; Aborted /
  // FailedPrecondition = did not commit; Unavailable "outcome unknown" = undecided here
  // (the primary's record decides). Locks of other transactions in the way are resolved
  // before an abort is reported, so the caller's retry can go through.
  OpId StartCommitTransaction(std::vector<kv::Mutation> mutations, uint64_t start_ts);
  // xexec: a Redis request (encoded redis_core::RedisRequest) from the Redis front door
  // (coordinator_redis.cc), answered like StartKvCommand / StartKvQuery (the reply in
  // group_result.value), with other transactions' locks in its way resolved first. An
  // EXEC whose keys span groups runs as one transaction over all of them.
  OpId StartRedisRequest(std::string encoded_request, bool write);
  // The same for a request the caller built (the front door: nothing to decode again).
  OpId StartRedisCommand(redis_core::RedisRequest request, bool write);
  // Pipelined commands of one connection (redis_core::RedisPipeline; at most
  // kMaxPipelineCommands): consecutive commands whose keys share a group go as one request
  // (one Raft entry when any writes, else one linearizable read), run there in order; the
  // parts one after the other. Answered with result.redis_replies, one per command.
  OpId StartRedisPipeline(redis_core::RedisPipeline pipeline);
  // Client-driven Percolator phases (TransactionalKV PreWrite / Commit / Rollback).
  OpId StartPrewrite(std::vector<std::pair<std::string, std::string>> mutations, uint64_t start_ts,
                     uint64_t lock_ttl_ms);
  OpId StartCommit(uint64_t start_ts, std::vector<std::string> keys);
  OpId StartRollback(uint64_t start_ts);

  // Whole-group and leader-only requests (not routed by key).
  OpId StartGcPass(raft::GroupId group, uint64_t safe_point, std::string start_key,
                   uint64_t max_keys);
  // timeout_us: this operation's own deadline (0: the request timeout).
  OpId StartGroupCommand(raft::GroupId group, node::GroupCommand command, uint64_t timeout_us = 0);
  OpId StartGroupQuery(raft::GroupId group, node::GroupQuery query);
  // kTimestamp / kConfChange: sent to the leader, following hints; every failure is
  // retried until the deadline (callers send only requests that are safe to repeat).
  OpId StartLeaderRequest(raft::GroupId group, node::OpKind kind, std::string payload,
                          uint64_t timeout_us = 0);

  // Membership. The member directory lives in the catalog group; changes to it are
  // idempotent and repeated, in short attempts, until the deadline.
  OpId StartReadMembers();
  OpId StartChangeMembers(node::MemberChange change);
  // Upserts this node's addresses unless the directory already has them.
  OpId StartAdvertiseSelf(node::MemberAddresses self);
  // Registers `node`'s addresses, then adds it as a learner to every group this node hosts.
  // `readmit`: the node joins with an empty data dir (ekv-server --join says so), so when
  // the directory does not list it (new, or taken out by RemoveNode) it is first readmitted
  // to the created groups it was removed from (route/catalog.h "Readmission"): moves and
  // placement may give it their replicas again. Without it (an operator's AddNode, the
  // simulator's re-add of a running node) the removals stand: its disk may hold old copies.
  OpId StartAddNode(raft::NodeId node, node::MemberAddresses addresses, bool readmit = false);
  // Makes a registered node a voter of every group this node hosts.
  OpId StartPromoteNode(raft::NodeId node);
  // Removes `node` from every group this node hosts (refused if it is a group's last
  // voter), then from the directory.
  OpId StartRemoveNode(raft::NodeId node);

  // Moves the route holding spec.key to spec.target_group (range_mover.cc): the steps of
  // core/node/range_records.h, each idempotent, resumed after any failed or unknown call.
  // OK: the route is ACTIVE on the target and the source dropped its records. Aborted
  // (with result.move->aborted): it could not reach the cut-over before its deadline, or
  // someone else rolled it back, and the route is ACTIVE on its source again. Other
  // errors leave the move where it stopped; StartMoveRange again resumes it.
  OpId StartMoveRange(MoveRangeSpec spec);
  // Merges the route holding spec.key (or spec.route_id) with the route right after it
  // (range_merger.cc): one catalog command, MergeRanges, once both are ACTIVE on one
  // group (after moving the right one there when spec.move_if_needed), then the group is
  // told (kOwnership). OK: result.merge->merged is the new route. FailedPrecondition:
  // a stale version, a route in motion, different groups without a move, or a route id
  // that is gone; InvalidArgument: no route after it, or not adjacent; a failed move's
  // error (with result.merge->move) when moving first did not finish.
  OpId StartMergeRange(MergeRangeSpec spec);
  // Records a new group in the catalog (route::CreateGroup) with an id above every group
  // known; its voters then host it (node/hosted_groups.h). OK: result.group. InvalidArgument:
  // a voter that is not a member, fewer members than replicas, or a bad count.
  OpId StartCreateGroup(CreateGroupSpec spec);
  // Retires a created group no route names (route::RetireGroup); its replicas stop.
  OpId StartRetireGroup(raft::GroupId group);
  // Moves one replica of a created group (replica_mover.cc): catalog first (the new node
  // hosts it empty), learner, caught up, voter, then the old one leaves the catalog (it
  // stops hosting it, for good) and the configuration. Every step idempotent: the same
  // spec again resumes a move that stopped anywhere. Answers the group as the catalog
  // then shows it.
  OpId StartMoveReplica(MoveReplicaSpec spec);
  // Moves every created group's replica off `node` (one StartMoveReplica each, to the
  // members hosting the fewest created groups), so that removing the node afterwards
  // (StartRemoveNode) leaves every group its replica count. Refused, before anything
  // changes, when a group has no other member to go to. Answers the groups moved.
  OpId StartDrainNode(raft::NodeId node, uint64_t timeout_us = 0);
  // One replica move toward balance (placement/replica_balance.h: members' replica counts
  // of created groups within one of each other), or none when balanced: answers the group
  // moved, or no group. The placement driver runs it once a round.
  OpId StartBalanceReplicas(uint64_t timeout_us = 0);
  // One leadership transfer toward balance (placement/leader_balance.h), or none when
  // balanced: asks every group who leads it and who votes (kReplicaStatus, to the leader
  // this node knows), plans, checks that the chosen node answers and has caught up, and
  // asks the leader to hand over (kTransferLeader). Answers once the transfer started
  // (result.leader_transfer), not when it finished. The placement driver runs it once a
  // round, keeping the history.
  OpId StartBalanceLeaders(LeaderBalanceSpec spec);
  // Groups created at run time, as of the newest catalog this coordinator saw: the live
  // ones, and every id created (the unlisted ones are retired).
  const std::map<raft::GroupId, route::GroupDescriptor>& created_groups() const {
    return created_groups_;
  }
  const route::CreatedGroupIds& created_group_ids() const { return created_group_ids_; }

  // --- Outputs and introspection ------------------------------------------------------
  Effects TakeEffects();
  const route::RouteTable& routes() const { return table_; }
  const CoordinatorStats& stats() const { return stats_; }
  size_t pending_ops() const { return ops_.size(); }
  // Every timestamp handed to this coordinator by the oracle (for the simulator's
  // timestamp-order checker): when it was asked for and when it arrived.
  using TimestampObserver =
      std::function<void(uint64_t invoked_us, uint64_t completed_us, uint64_t ts)>;
  void SetTimestampObserver(TimestampObserver observer) { ts_observer_ = std::move(observer); }

 private:
  struct GroupReply {
    node::GroupResult result;  // kApply / kQuery replies
    node::ClientReply reply;   // the raw reply (leader requests read timestamp, index)
    uint64_t index = 0;
  };
  using ReplyFn = std::function<void(absl::StatusOr<GroupReply>)>;
  using StatusFn = std::function<void(absl::Status)>;
  using TimestampFn = std::function<void(absl::StatusOr<uint64_t>)>;
  using CatalogFn = std::function<void(absl::StatusOr<route::RouteCatalog>)>;
  using PayloadFor = std::function<std::string(uint64_t catalog_version)>;
  using KvPairs = std::vector<std::pair<std::string, std::string>>;
  struct Exec;
  struct Op {
    uint64_t deadline_us = 0;
  };

  // Operations.
  OpId NewOp(uint64_t timeout_us = 0);
  uint64_t DeadlineOf(OpId op) const;
  void Finish(OpId op, OpResult result);
  void Fail(OpId op, absl::Status status);
  // Finishes `op` with the group's whole answer (the generic requests).
  ReplyFn FinishWithGroupResult(OpId op);

  // Timers.
  TimerId After(uint64_t delay_us, std::function<void()> fn);
  void Cancel(TimerId timer);
  uint64_t Backoff(int attempt);

  // One request to one group, retried as the top comment says.
  enum class Retry { kDefinite, kUnknownToo, kLeaderOnly };
  void Execute(raft::GroupId group, node::OpKind kind, std::string payload, Retry retry,
               uint64_t deadline_us, ReplyFn done);
  // The same, but every attempt goes to `node` (no leader hints followed): a question for
  // one replica (kReplicaStatus).
  void ExecuteOn(raft::NodeId node, raft::GroupId group, node::OpKind kind, std::string payload,
                 Retry retry, uint64_t deadline_us, ReplyFn done);
  // A change of the route catalog, proposed to the catalog group stamped with this node's
  // wall time. Callers pick kDefinite when a repeat of an applied change would be refused
  // for the version it moved (the catalog then judges what happened).
  void ProposeCatalogChange(const route::CatalogCommand& command, Retry retry, uint64_t deadline_us,
                            ReplyFn done);
  // Both: `pinned` kNoNode follows the leader.
  void StartExec(raft::NodeId pinned, raft::GroupId group, node::OpKind kind, std::string payload,
                 Retry retry, uint64_t deadline_us, ReplyFn done);
  void SendAttempt(uint64_t exec_id);
  void RetryExec(uint64_t exec_id, raft::NodeId hint, std::string why);
  void FinishExec(uint64_t exec_id, absl::StatusOr<GroupReply> reply);
  void AttemptTimedOut(uint64_t exec_id, CallId call);

  // Routing.
  raft::GroupId MaybeMisroute(raft::GroupId group);
  // Routes `key`, runs the request built for the table's version, and on a STALE_ROUTE
  // refusal refreshes the table and goes again.
  void ExecuteRouted(std::string key, node::OpKind kind, PayloadFor payload_for, Retry retry,
                     uint64_t deadline_us, ReplyFn done, int retries = 0);
  std::optional<route::StaleRouteError> StaleRoute(const node::GroupResult& result);
  // After a refusal of a request routed at `routed_version`: reads the catalog and
  // replaces the table; error when the retry bound or the deadline is exhausted.
  void RefreshAfterStaleRoute(const route::StaleRouteError& stale, uint64_t routed_version,
                              int* retries, uint64_t deadline_us, StatusFn done);
  void ReadCatalog(uint64_t deadline_us, CatalogFn done);
  void KvCommandRouted(const std::string& key, std::string kv_command, Retry retry,
                       uint64_t deadline_us, ReplyFn done);
  void KvQueryRouted(const std::string& key, std::string kv_query, uint64_t deadline_us,
                     ReplyFn done);
  // Groups `keys` by route and runs build(keys) on each group, first_key's group first;
  // on_batch sees every non-refused reply and returns false to stop; a refused batch and
  // every batch after it are re-routed after a refresh.
  using BatchFn = std::function<absl::StatusOr<bool>(const std::vector<std::string>& keys,
                                                     absl::StatusOr<GroupReply> reply)>;
  struct ByGroup;
  void KvCommandByGroup(std::vector<std::string> keys, std::string first_key,
                        std::function<std::string(const std::vector<std::string>&)> build,
                        uint64_t deadline_us, BatchFn on_batch, StatusFn done);
  void ByGroupRound(std::shared_ptr<ByGroup> state);
  void ByGroupNext(std::shared_ptr<ByGroup> state);

  // Scans: sub_scan answers the pairs of one sub-scan, nullopt to read it again.
  using SubScanDone = std::function<void(absl::StatusOr<std::optional<KvPairs>>)>;
  using SubScanFn = std::function<void(const route::SubScan& sub, uint64_t want, SubScanDone)>;
  struct ScanState;
  void ScanRoutes(route::ScanSpec spec, uint64_t page, uint64_t deadline_us, SubScanFn sub_scan,
                  std::function<void(absl::StatusOr<KvPairs>)> done);
  void ScanStep(std::shared_ptr<ScanState> scan);

  // Timestamps and transactions.
  // A timestamp from the oracle, above `at_least` (a ReadRestart's, read_restart.h).
  void Timestamp(uint64_t deadline_us, TimestampFn done, uint64_t at_least = 0, int attempt = 0);
  void DriveTxns();
  // Starts a transaction's write phase; done gets core's outcome.
  void RunTxn(std::vector<kv::Mutation> mutations, uint64_t start_ts, uint64_t deadline_us,
              std::function<void(kv::TxnOutcome)> done);
  // Resolves the lock another transaction holds on a key; true when it is gone.
  void AwaitLockResolution(const node::GroupKeyError& locked, uint64_t deadline_us,
                           std::function<void(absl::StatusOr<bool>)> done);
  // What resolving a lock found: gone (rolled forward or back), its transaction alive
  // (not committed when its primary was asked), or not known now.
  enum class LockCheck { kGone, kAlive, kUnknown };
  void AwaitLockCheck(const node::GroupKeyError& locked, uint64_t deadline_us,
                      std::function<void(absl::StatusOr<LockCheck>)> done);
  // Checks `locks` one by one: kAlive when every one's transaction is alive, else what the
  // first other one found.
  void AwaitLockChecks(std::vector<node::GroupKeyError> locks, size_t next, uint64_t deadline_us,
                       std::function<void(absl::StatusOr<LockCheck>)> done);
  // A latest read that met locks: answers `read` when every lock's transaction is alive
  // (it had not committed when the read was served), reads again when one is gone, and
  // again after a backoff when one could not be decided now.
  void RawGetAttempt(OpId op, std::string key, int attempt);
  void AwaitLockResolutions(std::vector<node::GroupKeyError> locks, uint64_t deadline_us,
                            std::function<void()> done);
  // The time (ms) a lock's TTL is judged at (CheckTxnStatusCommand::current_ms): the wall
  // clock, or, when the lock's start_ts runs ahead of it, PhysicalMs(start_ts) plus how
  // long this coordinator has seen the lock (coordinator_txn.cc, "Lock age").
  uint64_t LockClockMs(const kv::LockRecord& lock);
  // Client-driven Commit once the primary is known: picks the transaction's one commit_ts.
  void CommitWithPrimary(OpId op, uint64_t start_ts, std::string primary,
                         std::vector<std::string> keys);
  // Commits `keys` of start_ts at ts, the primary's group first (client-driven Commit).
  void CommitKeysAt(OpId op, uint64_t start_ts, uint64_t ts, std::string primary,
                    std::vector<std::string> keys);
  // Whose snapshot a read is at, which decides what a ReadRestart does.
  enum class SnapshotOf {
    kCaller,       // the caller's (a transaction's): fail with ReadRestartError, it retakes
    kCoordinator,  // drawn here for this read alone: retried here at a new timestamp
    kAsOf,         // a read AS OF ts (kv::KvQuery::as_of, RawGet at a caller's ts): none
  };
  void TxnGetAttempt(OpId op, std::string key, uint64_t ts, SnapshotOf snapshot, int attempt);
  void TxnScanAttempt(OpId op, route::ScanSpec spec, uint64_t page, uint64_t read_ts,
                      SnapshotOf snapshot);
  void TxnPutAttempt(OpId op, std::string key, std::optional<std::string> value, int attempt);
  void CasAttempt(OpId op, std::string key, std::string encoded, int attempt);
  void WriteOp(OpId op, std::string key, kv::Mutation mutation);
  // Redis requests (coordinator_redis.cc).
  struct RedisExec;
  // One group's request; on_reply (when set) gets every answer not refused by a lock.
  void RedisOneGroup(OpId op, std::string key, std::string payload, bool write, int attempt,
                     std::function<void(GroupReply)> on_reply = nullptr);
  // The same, but every outcome (a failure too) goes to `done`; `op` is not finished.
  void RedisOneGroupAnswer(OpId op, std::string key, std::string payload, bool write, int attempt,
                           ReplyFn done);
  // Pipelined commands (coordinator_redis_pipeline.cc).
  struct RedisPipelineRun;
  void RedisPipelineStep(std::shared_ptr<RedisPipelineRun> run);
  void RedisExecAttempt(std::shared_ptr<RedisExec> exec, std::string payload, bool write);
  void RedisExecPrepareNext(std::shared_ptr<RedisExec> exec, std::string payload, bool write);
  void RedisExecCommit(std::shared_ptr<RedisExec> exec, std::string payload, bool write);
  // Rolls back the keys of exec's first `parts` parts (best effort), then calls `then`.
  void RedisExecRollback(std::shared_ptr<RedisExec> exec, size_t parts, std::function<void()> then);
  void RedisExecRetry(std::shared_ptr<RedisExec> exec, std::string payload, bool write,
                      std::vector<node::GroupKeyError> locks);
  // A single Redis command (coordinator_redis_cross.cc): one group's entry when its keys
  // share a group, else read every key, run it here, write back as a RedisExec.
  struct RedisCross;
  void RedisSingle(std::shared_ptr<RedisCross> cross);
  void RedisCrossRead(std::shared_ptr<RedisCross> cross);
  void RedisCrossWrite(std::shared_ptr<RedisCross> cross);
  void RedisCrossAgain(std::shared_ptr<RedisCross> cross);
  void RedisCrossReplan(std::shared_ptr<RedisCross> cross);
  bool RedisCrossStillValid(const RedisExec& exec) const;
  // Membership (coordinator_members.cc).
  using MembersFn = std::function<void(absl::StatusOr<node::MemberDirectory>)>;
  struct EveryGroup;
  // Finish `op` with the directory / with just the status (the membership operations).
  MembersFn FinishWithMembers(OpId op);
  StatusFn FinishWithStatus(OpId op);
  void ReadMembers(uint64_t deadline_us, MembersFn done);
  void ChangeMembers(node::MemberChange change, uint64_t deadline_us, int attempt, MembersFn done);
  void ChangeEveryGroup(raft::NodeId node, raft::ConfChangeType type, uint64_t deadline_us,
                        StatusFn done);
  void ChangeNextGroup(std::shared_ptr<EveryGroup> state);
  // RemoveNode: takes `node` out of each of `groups` (created ones, popped from the back)
  // through MoveReplica, then out of every other group and the directory.
  // Runs `moves` (popped from the back), then takes `node` out of the initial groups and
  // the directory.
  void RemoveNodeFromCreated(OpId op, raft::NodeId node, std::vector<MoveReplicaSpec> moves);
  // AddNode's readmission: one catalog change per created group that lists `node` as
  // removed, each against a fresh catalog read, then `next`.
  void ReadmitNode(OpId op, raft::NodeId node, int round, std::function<void()> next);
  // AddNode with readmit, first: waits (backing off, until the op's deadline) until the
  // leader of every group `node` will be a replica of says that every member acknowledged
  // its newest configuration (node::OpKind::kConfigurationAcknowledged), then `next`.
  void AwaitConfigurationsAcknowledged(OpId op, raft::NodeId node, std::function<void()> next);
  void AwaitNextConfigurationAcknowledged(OpId op, raft::NodeId node,
                                          std::shared_ptr<std::vector<raft::GroupId>> groups,
                                          int round, std::function<void()> next);

  void PushOwnership(raft::GroupId owner, uint64_t deadline_us, std::function<void()> done);

  // Range moves (range_mover.cc).
  struct Move;
  void MoveDrive(std::shared_ptr<Move> move);
  void MoveRetry(std::shared_ptr<Move> move, std::string why);
  void MoveCatalogStep(std::shared_ptr<Move> move);
  void MovePush(std::shared_ptr<Move> move, raft::GroupId group);
  void MoveCopyChunk(std::shared_ptr<Move> move);
  void MoveGroupCommand(std::shared_ptr<Move> move, raft::GroupId group, node::GroupCommandOp op,
                        std::string payload, std::function<void(const node::GroupResult&)> next);
  void MoveBeginAbort(std::shared_ptr<Move> move, std::string why);
  void MoveFinish(std::shared_ptr<Move> move, absl::Status status);

  // Replica moves and drains (replica_mover.cc).
  struct ReplicaMove;
  using GroupFn = std::function<void(absl::StatusOr<route::GroupDescriptor>)>;
  void MoveReplica(MoveReplicaSpec spec, uint64_t deadline_us, GroupFn done);
  // Finishes `op` with the moved group (or fails it with the move's error).
  GroupFn FinishWithGroup(OpId op);
  void ReplicaMoveStep(std::shared_ptr<ReplicaMove> move);
  void ReplicaMoveEnsureVoters(std::shared_ptr<ReplicaMove> move, std::vector<raft::NodeId> nodes);
  void ReplicaMoveCatchUp(std::shared_ptr<ReplicaMove> move, raft::NodeId node,
                          raft::Index learner_index, std::function<void()> next);
  void ReplicaMoveCatalog(std::shared_ptr<ReplicaMove> move, route::ReplicaChange change,
                          raft::NodeId node, uint64_t catalog_version,
                          std::function<void(absl::Status)> next);
  void ReplicaMoveAfterCatalog(std::shared_ptr<ReplicaMove> move, absl::Status status);
  // Refuses the move with `refusal` once its source is a voter again (a lost race may have
  // taken it out of the configuration but not the catalog).
  void ReplicaMoveKeepSource(std::shared_ptr<ReplicaMove> move, absl::Status refusal);
  void ReplicaMoveRollBack(std::shared_ptr<ReplicaMove> move, raft::NodeId node,
                           std::function<void()> next);
  void ReplicaMoveRollBackLearner(std::shared_ptr<ReplicaMove> move, raft::NodeId node,
                                  raft::NodeId leader, std::function<void()> next);
  // `members_only` (node::EncodeMembersOnly): the change may not add a node the group's
  // configuration no longer has; refused, the move goes round again from a fresh catalog.
  void ReplicaMoveConf(std::shared_ptr<ReplicaMove> move, raft::ConfChangeType type,
                       raft::NodeId node, std::function<void(raft::Index)> next,
                       bool members_only = false);
  struct Drain;
  void DrainNext(std::shared_ptr<Drain> drain);
  struct LeaderBalance;
  void LeaderBalanceDecide(std::shared_ptr<LeaderBalance> balance);
  std::set<raft::NodeId> MemberSet(const node::MemberDirectory& members) const;
  // One move per created group `node` hosts, in group order, each to the member (of
  // `members`, `node` left out) hosting the fewest created groups. A group no member can
  // take fails the plan, or with `remove_without_target` gets a removal of `node` alone.
  static absl::StatusOr<std::vector<MoveReplicaSpec>> PlanReplicasOff(
      raft::NodeId node, std::set<raft::NodeId> members, const route::RouteCatalog& catalog,
      bool remove_without_target);

  // Range merges (range_merger.cc).
  struct Merge;
  void MergeResolve(std::shared_ptr<Merge> merge);
  void MergeCommit(std::shared_ptr<Merge> merge, const route::RouteCatalog& catalog);
  void MergeFinish(std::shared_ptr<Merge> merge, absl::Status status);
  // Runs `start`'s operation for another operation of this coordinator: its answer goes
  // to `done` instead of the driver (a merge's move).
  void RunInternal(OpId op, std::function<void(OpResult)> done);

  CoordinatorOptions options_;
  const GroupView* view_;
  Rng rng_;
  uint64_t now_us_ = 0;
  uint64_t wall_ms_ = 0;
  route::RouteTable table_;
  // Created groups (route::GroupDescriptor) of the newest catalog seen, with the version:
  // where to send a call for a group this node does not host and whose leader it has not
  // seen (one of its voters), and which groups a node joins (the initial ones).
  std::map<raft::GroupId, route::GroupDescriptor> created_groups_;
  // Every id created so far: one of them that created_groups_ does not list was retired
  // (never an initial group, though this node may host it until it applies the retirement).
  route::CreatedGroupIds created_group_ids_;
  uint64_t created_groups_version_ = 0;
  void NoteCatalog(const route::RouteCatalog& catalog);
  // CreateGroup / RetireGroup proposals, repeated on a lost version race.
  void ProposeCreateGroup(OpId op, CreateGroupSpec spec, int attempt);
  void ProposeRetireGroup(OpId op, raft::GroupId group, int attempt);
  // `retired_record`: a RetireGroup's group as the catalog listed it before.
  void ProposeGroupCommand(OpId op, route::CatalogCommand command, raft::GroupId group, int attempt,
                           std::function<void()> again,
                           std::optional<route::GroupDescriptor> retired_record = std::nullopt);
  std::unique_ptr<kv::TxnCoordinator> txns_;
  std::map<kv::TxnId, std::function<void(kv::TxnOutcome)>> txn_waiters_;
  // Lock age: (primary, start_ts) of a lock being resolved -> now_us_ when this
  // coordinator first found it (bounded; see LockClockMs).
  std::map<std::pair<std::string, uint64_t>, uint64_t> lock_first_seen_us_;
  // The highest log index a waited-for transaction's commands applied at (its answer's
  // commit_index).
  std::map<kv::TxnId, uint64_t> txn_index_;

  std::map<OpId, Op> ops_;
  // Operations started by another operation (RunInternal): answered here, not as effects.
  std::map<OpId, std::function<void(OpResult)>> internal_ops_;
  OpId next_op_ = 1;
  std::map<uint64_t, std::unique_ptr<Exec>> execs_;
  std::map<CallId, uint64_t> exec_of_call_;
  uint64_t next_exec_ = 1;
  CallId next_call_ = 1;
  std::map<TimerId, std::function<void()>> timers_;
  TimerId next_timer_ = 1;
  // Client-driven transactions this node prewrote: start_ts -> primary and keys.
  struct TxnRecord {
    std::string primary;
    std::vector<std::string> keys;
    uint64_t commit_ts = 0;  // chosen by the first Commit; every later one reuses it
  };
  std::map<uint64_t, TxnRecord> client_txns_;
  static constexpr size_t kMaxClientTxns = 65'536;

  Effects effects_;
  CoordinatorStats stats_;
  TimestampObserver ts_observer_;
};

}  // namespace ekv::coord
