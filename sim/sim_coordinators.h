// SimCoordinators: the simulator's driver of core's coord::Coordinator, one instance per
// simulated node, living and dying with the node's process.
//
// Clients hand an operation to a node (Run); the node's coordinator routes it, sends its
// group calls to its own NodeHost (Cluster::SubmitClientRequest) or forwards them to
// another node over the simulated network, arms its timers on the scheduler, and answers
// the client. This is exactly what runtime/server/coordinator.cc does with threads, gRPC
// and a real clock; the protocol itself is core/coord, run unchanged by both.
//
// Faults reach the coordinator the way they reach a server: a crash drops the instance
// with everything in flight (its clients hear nothing and time out), a pause defers its
// inputs until the process resumes, a partition drops forwarded calls and their answers.
// A client's own timeout (twice the coordinator's request timeout) bounds every call.
//
// Two planted bugs live here, in how a node reaches its state machine: kStaleRead answers
// queries from some replica's applied state without a read index; kResubmitLateWrite
// (an at-least-once transport: a retry policy on a call that is not idempotent) sends a
// replicated write again when its answer is late, so it may apply twice.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/coord/coordinator.h"
#include "core/route/catalog.h"
#include "core/util/rng.h"
#include "sim/checkers/timestamp_order.h"
#include "sim/cluster.h"
#include "sim/scheduler.h"
#include "sim/swarm.h"
#include "sim/trace.h"

namespace ekv::sim {

struct SimCoordinatorPlants {
  bool read_from_any_replica = false;  // kStaleRead
  bool resubmit_late_write = false;    // kResubmitLateWrite
  coord::CoordinatorPlants coordinator;
};

struct SimCoordinatorsConfig {
  uint64_t seed = 1;
  std::optional<route::RouteCatalog> catalog;  // what every coordinator starts routing by
  // CoordinatorOptions::misroute_probability (split runs: the groups enforce ownership).
  double misroute_probability = 0;
  uint64_t misroute_groups = 2;  // CoordinatorOptions::misroute_groups
  uint64_t lock_ttl_ms = 3000;
  SimCoordinatorPlants plants;
};

// Totals over all nodes' coordinators, dead ones included.
struct SimCoordinatorTotals {
  uint64_t ops = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t unknown = 0;  // outcome unknown, or the client gave up waiting
  uint64_t forwarded_calls = 0;
  uint64_t stale_route_refusals = 0;
  uint64_t route_refreshes = 0;
  uint64_t lock_resolutions = 0;
};

class SimCoordinators {
 public:
  using StartFn = std::function<coord::OpId(coord::Coordinator&)>;
  // The result, or nullopt when the client heard nothing back in time (the coordinator's
  // node crashed, or its answer came too late): the operation's outcome is unknown.
  using DoneFn = std::function<void(std::optional<coord::OpResult>)>;

  SimCoordinators(Scheduler& scheduler, Trace& trace, Cluster& cluster, const SwarmProfile& profile,
                  SimCoordinatorsConfig config);
  ~SimCoordinators();

  // Sends an operation from a client to `node`'s coordinator (after the client's network
  // latency); `done` runs once. `patience_us`: how long the client waits for the answer
  // (0: twice the coordinator's request timeout).
  void Run(NodeIndex node, StartFn start, DoneFn done, SimTime patience_us = 0);
  // As Run, for a caller inside `node`'s process (a placement driver): it hears "no
  // answer" (nullopt) as soon as the process dies, or at once when it is down, instead of
  // waiting out its patience as a remote client must.
  void RunInProcess(NodeIndex node, StartFn start, DoneFn done, SimTime patience_us);
  // How long a range move may take, all its steps included (move_timeout_us +
  // move_finish_timeout_us of the coordinators' options), for a client's patience.
  SimTime move_budget_us() const;
  // With --create_groups: every catalog a node's catalog replica applies reaches that
  // node's coordinator, as the server's replica pushes it (runtime Coordinator::
  // UpdateRoutes), so a coordinator whose node hosts a created group knows the group is
  // created (node membership changes add a joining node to the initial groups only). A
  // new coordinator starts from its node's applied catalog. Off, a coordinator learns
  // catalogs only from its own reads and refusals (seeds without created groups keep
  // their traces).
  void SetPushAppliedCatalogs(bool on) { push_applied_catalogs_ = on; }
  void OnCatalogApplied(NodeIndex node, const route::RouteCatalog& catalog);
  // A node that is up, chosen at random (0: none).
  NodeIndex RandomUpNode();
  // `node`'s coordinator if its process is up or paused (null otherwise).
  coord::Coordinator* coordinator(NodeIndex node);

  // Cluster::ReplyHandler: every client reply any node produces.
  void OnReply(NodeIndex node, const node::ClientReply& reply);
  // Cluster::SetCrashHandler: the node's process died.
  void OnCrash(NodeIndex node);

  bool Idle() const { return waiting_.empty(); }
  SimCoordinatorTotals totals() const;
  const std::vector<checkers::TimestampOp>& timestamps_issued() const { return timestamps_; }
  // Answers that handed a client a STALE_ROUTE refusal: the coordinator must refresh its
  // routes and retry instead (ownership.h), so any is a bug.
  const std::vector<std::string>& routing_errors() const { return routing_errors_; }

 private:
  struct Instance;
  struct GroupViewOf;
  struct LocalCall {
    NodeIndex node = 0;  // whose NodeHost runs it
    uint64_t incarnation = 0;
    NodeIndex origin = 0;  // whose coordinator asked (== node unless forwarded)
    uint64_t origin_incarnation = 0;
    coord::CallId call = 0;
  };

  Instance* Live(NodeIndex node);
  Instance& Ensure(NodeIndex node);
  void SyncTime(NodeIndex node);
  // Carries out the effects of `node`'s coordinator until it has none.
  void Pump(NodeIndex node);
  void Dispatch(NodeIndex node, const coord::GroupCall& call);
  void AnswerFromAnyReplica(NodeIndex node, uint64_t incarnation, const coord::GroupCall& call);
  // Delivers a reply (or a failure) to the call of `origin`'s coordinator.
  void DeliverReply(NodeIndex origin, uint64_t incarnation, coord::CallId call,
                    std::optional<node::ClientReply> reply, bool maybe_delivered,
                    const std::string& why);
  void Complete(uint64_t client_op, std::optional<coord::OpResult> result);
  uint64_t Incarnation(NodeIndex node) const;
  void Absorb(const coord::CoordinatorStats& stats);

  Scheduler& scheduler_;
  Trace& trace_;
  Cluster& cluster_;
  Rng rng_;
  SwarmProfile profile_;
  SimCoordinatorsConfig config_;
  std::map<NodeIndex, std::unique_ptr<Instance>> instances_;
  std::map<uint64_t, LocalCall> calls_by_request_;  // request id -> the call it carries
  uint64_t next_request_id_ = 1;
  // Client operations waiting for an answer: client op id -> callback.
  std::map<uint64_t, DoneFn> waiting_;
  // Those of them sent by RunInProcess: client op id -> the node whose process runs it.
  std::map<uint64_t, NodeIndex> in_process_;
  uint64_t next_client_op_ = 1;
  std::vector<checkers::TimestampOp> timestamps_;
  std::vector<std::string> routing_errors_;
  SimCoordinatorTotals dead_totals_;  // stats of coordinators that died with their node
  bool push_applied_catalogs_ = false;
};

}  // namespace ekv::sim
