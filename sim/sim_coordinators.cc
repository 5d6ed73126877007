#include "sim/sim_coordinators.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/node/group_state_machine.h"
#include "core/route/ownership.h"
#include "core/util/assert.h"

namespace ekv::sim {

// What a node's coordinator sees of its groups: its own NodeHost's status.
struct SimCoordinators::GroupViewOf : coord::GroupView {
  GroupViewOf(Cluster& cluster, NodeIndex node) : cluster(cluster), node(node) {}
  bool Hosts(raft::GroupId group) const override {
    const node::NodeHost* host = cluster.host(node);
    return host != nullptr && host->HasGroup(group);
  }
  raft::NodeId LeaderOf(raft::GroupId group) const override {
    const node::NodeHost* host = cluster.host(node);
    if (host == nullptr || !host->HasGroup(group)) return raft::kNoNode;
    return host->Summary(group).leader;
  }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override {
    std::map<raft::GroupId, raft::ConfState> confs;
    const node::NodeHost* host = cluster.host(node);
    if (host == nullptr) return confs;
    for (raft::GroupId group : host->groups()) confs[group] = host->Status(group).conf_state;
    return confs;
  }
  Cluster& cluster;
  NodeIndex node;
};

struct SimCoordinators::Instance {
  uint64_t incarnation = 0;
  std::unique_ptr<GroupViewOf> view;
  std::unique_ptr<coord::Coordinator> coordinator;
  std::map<coord::OpId, uint64_t> client_ops;  // the coordinator's op -> client op
};

SimCoordinators::SimCoordinators(Scheduler& scheduler, Trace& trace, Cluster& cluster,
                                 const SwarmProfile& profile, SimCoordinatorsConfig config)
    : scheduler_(scheduler),
      trace_(trace),
      cluster_(cluster),
      rng_(config.seed),
      profile_(profile),
      config_(std::move(config)) {}

SimCoordinators::~SimCoordinators() = default;

uint64_t SimCoordinators::Incarnation(NodeIndex node) const { return cluster_.incarnation(node); }

SimCoordinators::Instance* SimCoordinators::Live(NodeIndex node) {
  auto it = instances_.find(node);
  if (it == instances_.end() || it->second->incarnation != Incarnation(node)) return nullptr;
  if (cluster_.host(node) == nullptr) return nullptr;
  return it->second.get();
}

void SimCoordinators::Absorb(const coord::CoordinatorStats& stats) {
  dead_totals_.ops += stats.ops_started;
  dead_totals_.ok += stats.ops_ok;
  dead_totals_.failed += stats.ops_failed;
  dead_totals_.unknown += stats.ops_unknown;
  dead_totals_.forwarded_calls += stats.calls_forwarded;
  dead_totals_.stale_route_refusals += stats.stale_route_refusals;
  dead_totals_.route_refreshes += stats.route_refreshes;
  dead_totals_.lock_resolutions += stats.lock_resolutions;
}

SimCoordinators::Instance& SimCoordinators::Ensure(NodeIndex node) {
  if (Instance* live = Live(node)) return *live;
  if (auto old = instances_.find(node); old != instances_.end()) {
    Absorb(old->second->coordinator->stats());
    instances_.erase(old);
  }
  // A new process: a new coordinator that knows only the bootstrap catalog (a restarted
  // server learns the rest from its catalog replica, or from STALE_ROUTE refusals).
  auto instance = std::make_unique<Instance>();
  instance->incarnation = Incarnation(node);
  instance->view = std::make_unique<GroupViewOf>(cluster_, node);
  coord::CoordinatorOptions options;
  options.node_id = node;
  options.catalog_group = 1;
  options.request_timeout_us = profile_.client_timeout_us;
  options.attempt_timeout_us = std::max<uint64_t>(profile_.client_timeout_us / 5, 100'000);
  options.backoff_min_us = 1'000;
  options.backoff_max_us = 40'000;
  options.max_stale_route_retries = 6;
  options.seed = rng_.Next();
  options.misroute_probability = config_.misroute_probability;
  options.misroute_groups = config_.misroute_groups;
  options.default_lock_ttl_ms = config_.lock_ttl_ms;
  options.plants = config_.plants.coordinator;
  // Range moves (--moves): small chunks (many per pass), a budget that covers a few
  // failovers before the cut-over (else they roll back) and as much to finish after it.
  options.move_timeout_us = 4 * profile_.client_timeout_us;
  options.move_finish_timeout_us = 4 * profile_.client_timeout_us;
  options.move_chunk_bytes = 256;
  options.move_copy_passes = 1 + static_cast<int>(options.seed % 3);
  instance->coordinator = std::make_unique<coord::Coordinator>(options, instance->view.get());
  EKV_ASSERT(config_.catalog.has_value(), "the coordinators need a catalog to route by");
  instance->coordinator->OnCatalog(*config_.catalog);
  if (push_applied_catalogs_) {
    if (const node::NodeHost* host = cluster_.host(node); host != nullptr) {
      const std::vector<raft::GroupId> hosted = host->groups();
      if (std::find(hosted.begin(), hosted.end(), options.catalog_group) != hosted.end()) {
        const auto* machine = dynamic_cast<const node::GroupStateMachine*>(
            &host->state_machine(options.catalog_group));
        if (machine != nullptr && machine->catalog().has_value()) {
          instance->coordinator->OnCatalog(*machine->catalog());
        }
      }
    }
  }
  instance->coordinator->SetTimestampObserver(
      [this](uint64_t invoked_us, uint64_t completed_us, uint64_t ts) {
        timestamps_.push_back({invoked_us, completed_us, ts});
      });
  Instance& out = *instance;
  instances_[node] = std::move(instance);
  return out;
}

void SimCoordinators::OnCatalogApplied(NodeIndex node, const route::RouteCatalog& catalog) {
  if (!push_applied_catalogs_) return;
  // Only a coordinator that exists: creating one here would draw its seed out of turn.
  if (Instance* live = Live(node)) live->coordinator->OnCatalog(catalog);
}

coord::Coordinator* SimCoordinators::coordinator(NodeIndex node) {
  if (cluster_.host(node) == nullptr) return nullptr;
  return Ensure(node).coordinator.get();
}

NodeIndex SimCoordinators::RandomUpNode() {
  std::vector<NodeIndex> up;
  for (NodeIndex node : cluster_.nodes()) {
    if (cluster_.state(node) == Cluster::ProcessState::kUp) up.push_back(node);
  }
  return up.empty() ? 0 : up[rng_.Uniform(up.size())];
}

void SimCoordinators::SyncTime(NodeIndex node) {
  Instance* instance = Live(node);
  EKV_ASSERT(instance != nullptr, "n", node, ": no live coordinator to set the time of");
  instance->coordinator->SetTime(scheduler_.now(), cluster_.WallClockMs(node));
}

SimTime SimCoordinators::move_budget_us() const { return 8 * profile_.client_timeout_us; }

void SimCoordinators::Run(NodeIndex node, StartFn start, DoneFn done, SimTime patience_us) {
  const uint64_t client_op = next_client_op_++;
  waiting_.emplace(client_op, std::move(done));
  // The client's own patience: past it the operation's outcome is unknown to it.
  scheduler_.After(patience_us != 0 ? patience_us : 2 * profile_.client_timeout_us,
                   [this, client_op] { Complete(client_op, std::nullopt); });
  const uint64_t incarnation = Incarnation(node);
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                   [this, node, incarnation, client_op, start = std::move(start)] {
                     cluster_.RunOnProcess(node, incarnation, [this, node, client_op, start] {
                       Instance& instance = Ensure(node);
                       SyncTime(node);
                       const coord::OpId op = start(*instance.coordinator);
                       instance.client_ops[op] = client_op;
                       Pump(node);
                     });
                   });
}

void SimCoordinators::RunInProcess(NodeIndex node, StartFn start, DoneFn done,
                                   SimTime patience_us) {
  const uint64_t client_op = next_client_op_;
  const Cluster::ProcessState state = cluster_.state(node);
  Run(node, std::move(start), std::move(done), patience_us);
  if (state == Cluster::ProcessState::kUp || state == Cluster::ProcessState::kPaused) {
    in_process_.emplace(client_op, node);
  } else {
    // Nothing runs there to start it (Run's start is dropped with the dead incarnation).
    scheduler_.After(1, [this, client_op] { Complete(client_op, std::nullopt); });
  }
}

void SimCoordinators::Pump(NodeIndex node) {
  for (int round = 0;; ++round) {
    EKV_ASSERT(round < 100'000, "n", node, "'s coordinator keeps producing effects");
    Instance* instance = Live(node);
    if (instance == nullptr) return;
    coord::Effects effects = instance->coordinator->TakeEffects();
    if (effects.empty()) return;
    const uint64_t incarnation = instance->incarnation;
    for (coord::OpDone& done : effects.done) {
      auto it = instance->client_ops.find(done.op);
      EKV_ASSERT(it != instance->client_ops.end(), "n", node, " finished an op no client sent");
      const uint64_t client_op = it->second;
      instance->client_ops.erase(it);
      trace_.Record({scheduler_.now(), "op-done", node, client_op,
                     static_cast<uint64_t>(done.result.status.code()), done.result.index, ""});
      scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                       [this, client_op, result = std::move(done.result)]() mutable {
                         Complete(client_op, std::move(result));
                       });
    }
    for (const coord::TimerRequest& timer : effects.timers) {
      const SimTime now = scheduler_.now();
      scheduler_.After(timer.at_us > now ? timer.at_us - now : 0,
                       [this, node, incarnation, id = timer.timer] {
                         cluster_.RunOnProcess(node, incarnation, [this, node, id] {
                           Instance* live = Live(node);
                           if (live == nullptr) return;
                           SyncTime(node);
                           live->coordinator->OnTimer(id);
                           Pump(node);
                         });
                       });
    }
    for (const coord::GroupCall& call : effects.calls) Dispatch(node, call);
  }
}

void SimCoordinators::Dispatch(NodeIndex node, const coord::GroupCall& call) {
  const uint64_t incarnation = Incarnation(node);
  const NodeIndex target = call.node;
  const std::vector<NodeIndex>& nodes = cluster_.nodes();
  if (std::find(nodes.begin(), nodes.end(), target) == nodes.end()) {
    DeliverReply(node, incarnation, call.call, std::nullopt, false,
                 absl::StrCat("no node ", target, " in the cluster"));
    return;
  }
  if (config_.plants.read_from_any_replica && call.request.kind == node::OpKind::kQuery) {
    AnswerFromAnyReplica(node, incarnation, call);
    return;
  }
  node::ClientRequest request = call.request;
  request.request_id = next_request_id_++;
  calls_by_request_[request.request_id] =
      LocalCall{target, Incarnation(target), node, incarnation, call.call};
  if (config_.plants.resubmit_late_write && request.kind == node::OpKind::kApply) {
    // Planted: a write still unanswered after a while is sent again under the same id
    // (whichever answer comes first is taken); both copies may be proposed and applied.
    const SimTime late_us = std::max<SimTime>(profile_.client_timeout_us / 10, 20'000);
    scheduler_.After(late_us, [this, node, target, request] {
      if (calls_by_request_.count(request.request_id) == 0) return;
      if (target != node && !cluster_.network().Connected(node, target)) return;
      cluster_.SubmitClientRequest(target, request);
    });
  }
  if (target == node) {
    // The node's own NodeHost: same process, no network. A separate event, so NodeHost's
    // immediate answers never re-enter the coordinator while it is being pumped.
    scheduler_.After(0, [this, node, request] { cluster_.SubmitClientRequest(node, request); });
    return;
  }
  // A forward to another node's server, over the simulated network.
  if (!cluster_.network().Connected(node, target)) {
    calls_by_request_.erase(request.request_id);
    scheduler_.After(rng_.Range(1'000, 20'000), [this, node, incarnation, id = call.call, target] {
      DeliverReply(node, incarnation, id, std::nullopt, /*maybe_delivered=*/false,
                   absl::StrCat("forward to n", target, " failed: unreachable"));
    });
    return;
  }
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                   [this, target, request] { cluster_.SubmitClientRequest(target, request); });
}

void SimCoordinators::AnswerFromAnyReplica(NodeIndex node, uint64_t incarnation,
                                           const coord::GroupCall& call) {
  // Planted: answer from whatever some replica has applied, leader or not, without a
  // read index: the group may not have closed the read's timestamp there.
  std::vector<NodeIndex> up;
  for (NodeIndex replica : cluster_.replicas(call.request.group)) {
    if (cluster_.state(replica) == Cluster::ProcessState::kUp) up.push_back(replica);
  }
  std::optional<node::ClientReply> reply;
  if (!up.empty()) {
    const node::NodeHost* host = cluster_.host(up[rng_.Uniform(up.size())]);
    std::optional<std::string> answer =
        host->state_machine(call.request.group).Query(call.request.value);
    if (answer.has_value()) {
      reply.emplace();
      reply->group = call.request.group;
      reply->status = node::ReplyStatus::kOk;
      reply->value = std::move(answer);
    }
  }
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                   [this, node, incarnation, id = call.call, reply] {
                     DeliverReply(node, incarnation, id, reply, false, "no replica is up");
                   });
}

void SimCoordinators::OnReply(NodeIndex node, const node::ClientReply& reply) {
  auto it = calls_by_request_.find(reply.request_id);
  if (it == calls_by_request_.end()) return;
  const LocalCall local = it->second;
  calls_by_request_.erase(it);
  EKV_ASSERT(local.node == node, "request ", reply.request_id, " answered by n", node,
             " but sent to n", local.node);
  if (local.origin == node) {
    DeliverReply(local.origin, local.origin_incarnation, local.call, reply, true, "");
    return;
  }
  // The forwarded call's answer travels back; a partition loses it after the fact.
  if (!cluster_.network().Connected(node, local.origin)) {
    scheduler_.After(rng_.Range(1'000, 20'000), [this, local, node] {
      DeliverReply(local.origin, local.origin_incarnation, local.call, std::nullopt,
                   /*maybe_delivered=*/true, absl::StrCat("the answer from n", node, " was lost"));
    });
    return;
  }
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us), [this, local, reply] {
    DeliverReply(local.origin, local.origin_incarnation, local.call, reply, true, "");
  });
}

void SimCoordinators::DeliverReply(NodeIndex origin, uint64_t incarnation, coord::CallId call,
                                   std::optional<node::ClientReply> reply, bool maybe_delivered,
                                   const std::string& why) {
  cluster_.RunOnProcess(origin, incarnation,
                        [this, origin, call, reply = std::move(reply), maybe_delivered, why] {
                          Instance* instance = Live(origin);
                          if (instance == nullptr) return;
                          SyncTime(origin);
                          if (reply.has_value()) {
                            instance->coordinator->OnCallReply(call, *reply);
                          } else {
                            instance->coordinator->OnCallFailed(call, maybe_delivered, why);
                          }
                          Pump(origin);
                        });
}

void SimCoordinators::OnCrash(NodeIndex node) {
  // The coordinator dies with its process: its clients hear nothing and time out.
  if (auto it = instances_.find(node); it != instances_.end()) {
    Absorb(it->second->coordinator->stats());
    instances_.erase(it);
  }
  for (auto it = calls_by_request_.begin(); it != calls_by_request_.end();) {
    it = it->second.node == node ? calls_by_request_.erase(it) : std::next(it);
  }
  // A caller inside the process learns of its death at once (RunInProcess): a placement
  // driver that outlives the crash resumes its move at its next tick, not after a
  // client's patience (append seed 254 with --placement: a move resumed just before its
  // node crashed was heard of 30 s later, past the heal's convergence time).
  for (auto it = in_process_.begin(); it != in_process_.end();) {
    if (it->second != node) {
      ++it;
      continue;
    }
    scheduler_.After(1, [this, client_op = it->first] { Complete(client_op, std::nullopt); });
    it = in_process_.erase(it);
  }
}

void SimCoordinators::Complete(uint64_t client_op, std::optional<coord::OpResult> result) {
  auto it = waiting_.find(client_op);
  if (it == waiting_.end()) return;  // the client already gave up, or this is the late answer
  in_process_.erase(client_op);
  DoneFn done = std::move(it->second);
  waiting_.erase(it);
  if (result.has_value() && route::ParseStaleRouteError(result->status).has_value() &&
      routing_errors_.size() < 8) {
    routing_errors_.push_back(
        absl::StrCat("at ", scheduler_.now(), "us a client got ", result->status.ToString()));
  }
  done(std::move(result));
}

SimCoordinatorTotals SimCoordinators::totals() const {
  SimCoordinatorTotals out = dead_totals_;
  for (const auto& [node, instance] : instances_) {
    const coord::CoordinatorStats& stats = instance->coordinator->stats();
    out.ops += stats.ops_started;
    out.ok += stats.ops_ok;
    out.failed += stats.ops_failed;
    out.unknown += stats.ops_unknown;
    out.forwarded_calls += stats.calls_forwarded;
    out.stale_route_refusals += stats.stale_route_refusals;
    out.route_refreshes += stats.route_refreshes;
    out.lock_resolutions += stats.lock_resolutions;
  }
  return out;
}

}  // namespace ekv::sim
