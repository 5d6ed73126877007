// KvCoordinator: the simulator's client-side transaction coordinator for clusters whose
// groups run the server's GroupStateMachine (core/node/group_state_machine.h).
//
// It does what runtime/server/coordinator.cc does, in simulated time and with callbacks
// instead of threads: encoded GroupCommands are proposed (OpKind::kApply) and
// GroupQueries read (OpKind::kQuery, through ReadIndex) on whichever node leads the
// group, following not-leader hints for a bounded number of attempts; a write that
// times out or whose fate the node could not tell finishes kUnknown, one never accepted
// finishes kFailed. Timestamps come from the oracle of group 1's leader (OpKind::kTimestamp,
// served from memory; node_host.h), and every one handed out is recorded for the
// timestamp-order checker (checkers/timestamp_order.h).
//
// Routing (EnableRouting, on for --splits runs): the coordinator keeps a versioned
// route::RouteTable, loaded from the catalog group (GroupQueryOp::kCatalog). Routed
// commands and queries go to the group its table names, stamped with the table's version;
// a group that refuses with STALE_ROUTE (it does not own the key, or owns it only since a
// newer version) gets the table refreshed and the call routed again, transparently and a
// bounded number of times. To exercise that path a stale table is simulated: with a
// per-seed probability a routed call goes to the other kv group (1 <-> 2), which must
// refuse it; with the planted serve_outside_range bug it does not, and the checkers see
// the split-brain data.
//
// One planted bug lives here, in the client's use of the state machine: reads served
// straight from some replica's applied state (no ReadIndex, so at a timestamp the group
// may not have closed). The oracle's planted bugs live in NodeHost (PlantedOracleBugs).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/kv/timestamp.h"
#include "core/node/command.h"
#include "core/node/group_protocol.h"
#include "core/route/catalog.h"
#include "core/route/route_table.h"
#include "core/util/rng.h"
#include "sim/checkers/timestamp_order.h"
#include "sim/cluster.h"
#include "sim/scheduler.h"
#include "sim/swarm.h"
#include "sim/trace.h"

namespace ekv::sim {

struct KvClientPlants {
  bool read_from_any_replica = false;  // stale_read
};

struct KvCallResult {
  enum class Outcome { kOk, kFailed, kUnknown };
  Outcome outcome = Outcome::kFailed;
  node::GroupResult result;  // kOk only: what the state machine answered
  raft::Index index = 0;
  bool ok() const { return outcome == Outcome::kOk; }
};

class KvCoordinator {
 public:
  using CallDone = std::function<void(const KvCallResult&)>;
  using TimestampDone = std::function<void(std::optional<kv::Timestamp>)>;
  static constexpr int kMaxAttemptsPerCall = 8;  // not-leader hops and retried reads
  static constexpr int kMaxTimestampTries = 4;
  static constexpr SimTime kMinAttemptTimeoutUs = 100'000;
  // Simulated wall clock: HLC physical milliseconds at simulated time zero.
  static constexpr uint64_t kEpochMs = Cluster::kEpochMs;
  // Refresh-and-reroute rounds one routed call may take after STALE_ROUTE refusals.
  static constexpr int kMaxStaleRouteRetries = 6;

  KvCoordinator(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
                const SwarmProfile& profile, KvClientPlants plants);

  // A replicated GroupCommand; physical_ms is set to the simulated clock. An
  // `idempotent` command (every transaction command, the timestamp oracle) is sent again
  // when an attempt's outcome is unknown, as TiKV's client does: applying it twice is
  // the same as once. Others (raw writes) finish kUnknown at the first unknown attempt.
  void Command(raft::GroupId group, node::GroupCommand command, bool idempotent, CallDone done);
  // A GroupQuery served at a linearizable point.
  void Query(raft::GroupId group, const node::GroupQuery& query, CallDone done);
  // One timestamp from the group-1 oracle; nullopt if none could be had.
  void Timestamp(TimestampDone done);
  uint64_t NowMs() const;

  // Turns routing on (see above) with the bootstrap catalog every group was given.
  void EnableRouting(const route::RouteCatalog& bootstrap, double misroute_probability);
  bool routing() const { return routing_; }
  // The group that owns `key` in the route table (routing off: the initial topology).
  raft::GroupId GroupOf(absl::string_view key) const;
  const route::RouteTable& routes() const { return table_; }
  // The newest catalog this coordinator has seen (routing on only).
  const std::optional<route::RouteCatalog>& latest_catalog() const { return latest_catalog_; }
  // A kKv command whose keys all belong to the group owning `routing_key`.
  void RoutedCommand(std::string routing_key, node::GroupCommand command, bool idempotent,
                     CallDone done);
  // A kKv/kRawGet query for `routing_key`.
  void RoutedQuery(std::string routing_key, node::GroupQuery query, CallDone done);
  // A query already resolved to `group` at query.catalog_version (a sub-scan); a
  // STALE_ROUTE answer is handed back for the caller to re-resolve after RefreshRoutes.
  void ResolvedQuery(raft::GroupId group, const node::GroupQuery& query, CallDone done);
  // Reloads the route table from the catalog group; `done` runs either way.
  void RefreshRoutes(std::function<void()> done);
  uint64_t stale_route_refusals() const { return stale_route_refusals_; }

  void OnReply(NodeIndex node, const node::ClientReply& reply);
  bool Idle() const { return calls_.empty(); }
  // Every timestamp handed to a caller, with when it was asked for and received.
  const std::vector<checkers::TimestampOp>& timestamps_issued() const { return timestamps_issued_; }

 private:
  struct Call {
    node::ClientRequest request;
    CallDone done;
    int attempt = 0;
    uint64_t current_request_id = 0;
    bool retry_unknown = false;  // reads and idempotent commands
    bool maybe_applied = false;  // some attempt of a command may have been proposed
  };
  void Start(raft::GroupId group, node::OpKind kind, std::string payload, bool retry_unknown,
             CallDone done);
  // The attempt with `request_id` got no answer in time: try elsewhere or give up.
  void AttemptTimedOut(uint64_t call_id, uint64_t request_id);
  // Sends again after a backoff, to `target` (0: a random replica).
  void Retry(uint64_t call_id, NodeIndex target);
  void Send(uint64_t call_id, NodeIndex target);
  void HandleReply(uint64_t call_id, NodeIndex node, const node::ClientReply& reply);
  void Finish(uint64_t call_id, KvCallResult result);
  void TimestampAttempt(int tries_left, TimestampDone done);
  NodeIndex RandomReplica(raft::GroupId group);
  // A random replica that is up (0: none).
  NodeIndex RandomUpReplica(raft::GroupId group);
  // The simulated stale table: sometimes the other kv group.
  raft::GroupId MaybeMisroute(raft::GroupId group);
  void RoutedCommandAttempt(std::string routing_key, node::GroupCommand command, bool idempotent,
                            int tries_left, CallDone done);
  void RoutedQueryAttempt(std::string routing_key, node::GroupQuery query, int tries_left,
                          CallDone done);

  Scheduler& scheduler_;
  Trace& trace_;
  Cluster& cluster_;
  Rng rng_;
  SwarmProfile profile_;
  KvClientPlants plants_;
  std::map<uint64_t, Call> calls_;
  std::map<uint64_t, uint64_t> call_of_request_;  // request id -> call id
  std::map<raft::GroupId, NodeIndex> leader_guess_;
  uint64_t next_call_id_ = 1;
  uint64_t next_request_id_ = 1;

  bool routing_ = false;
  double misroute_probability_ = 0;
  route::RouteTable table_;
  std::optional<route::RouteCatalog> latest_catalog_;
  uint64_t stale_route_refusals_ = 0;
  std::vector<checkers::TimestampOp> timestamps_issued_;
};

// True iff `result` is a group's STALE_ROUTE refusal.
bool IsStaleRoute(const KvCallResult& result);

}  // namespace ekv::sim
