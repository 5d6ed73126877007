#include "sim/kv_coordinator.h"

#include <algorithm>
#include <utility>

#include "core/node/group_state_machine.h"
#include "core/route/ownership.h"
#include "core/util/assert.h"

namespace ekv::sim {
namespace {

constexpr raft::GroupId kOracleGroup = 1;
constexpr raft::GroupId kCatalogGroup = 1;
constexpr SimTime kRefreshBackoffMinUs = 5'000;
constexpr SimTime kRefreshBackoffMaxUs = 30'000;

}  // namespace

bool IsStaleRoute(const KvCallResult& result) {
  return result.ok() && route::ParseStaleRouteError(result.result.status()).has_value();
}

void KvCoordinator::EnableRouting(const route::RouteCatalog& bootstrap,
                                  double misroute_probability) {
  routing_ = true;
  misroute_probability_ = misroute_probability;
  table_.Apply(bootstrap);
  latest_catalog_ = bootstrap;
}

raft::GroupId KvCoordinator::GroupOf(absl::string_view key) const {
  if (!routing_) return key < "m" ? 1 : 2;
  const route::RouteDescriptor* route = table_.Lookup(key);
  EKV_ASSERT(route != nullptr, "the route table covers every key");
  return route->raft_group_id;
}

raft::GroupId KvCoordinator::MaybeMisroute(raft::GroupId group) {
  if (misroute_probability_ <= 0 || (group != 1 && group != 2)) return group;
  if (!rng_.Chance(misroute_probability_)) return group;
  return group == 1 ? 2 : 1;
}

void KvCoordinator::RefreshRoutes(std::function<void()> done) {
  EKV_ASSERT(routing_, "RefreshRoutes needs routing on");
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kCatalog;
  Query(kCatalogGroup, query, [this, done = std::move(done)](const KvCallResult& result) mutable {
    if (result.ok() && result.result.code == absl::StatusCode::kOk) {
      absl::StatusOr<route::RouteCatalog> catalog = route::RouteCatalog::Decode(result.result.blob);
      EKV_ASSERT(catalog.ok(), "the catalog group answered an undecodable catalog: ",
                 catalog.status().ToString());
      if (table_.Apply(*catalog)) latest_catalog_ = *std::move(catalog);
      done();
      return;
    }
    // No answer: let the caller try again after a pause (its retries are bounded).
    scheduler_.After(rng_.Range(kRefreshBackoffMinUs, kRefreshBackoffMaxUs), std::move(done));
  });
}

void KvCoordinator::RoutedCommand(std::string routing_key, node::GroupCommand command,
                                  bool idempotent, CallDone done) {
  if (!routing_) {
    const raft::GroupId group = GroupOf(routing_key);
    Command(group, std::move(command), idempotent, std::move(done));
    return;
  }
  RoutedCommandAttempt(std::move(routing_key), std::move(command), idempotent,
                       kMaxStaleRouteRetries, std::move(done));
}

void KvCoordinator::RoutedCommandAttempt(std::string routing_key, node::GroupCommand command,
                                         bool idempotent, int tries_left, CallDone done) {
  const raft::GroupId group = MaybeMisroute(GroupOf(routing_key));
  command.catalog_version = table_.version();
  node::GroupCommand sent = command;
  Command(
      group, std::move(sent), idempotent,
      [this, routing_key = std::move(routing_key), command = std::move(command), idempotent,
       tries_left, done = std::move(done)](const KvCallResult& result) mutable {
        // A refusal is a definite no-op, so even a non-idempotent write may go again.
        if (IsStaleRoute(result)) {
          ++stale_route_refusals_;
          if (tries_left > 1) {
            RefreshRoutes([this, routing_key = std::move(routing_key), command = std::move(command),
                           idempotent, tries_left, done = std::move(done)]() mutable {
              RoutedCommandAttempt(std::move(routing_key), std::move(command), idempotent,
                                   tries_left - 1, std::move(done));
            });
            return;
          }
          // Out of rounds. This attempt was refused, but an earlier one of the same
          // call may have applied before the group's ownership changed: unknown.
          KvCallResult unknown;
          unknown.outcome = KvCallResult::Outcome::kUnknown;
          done(unknown);
          return;
        }
        done(result);
      });
}

void KvCoordinator::RoutedQuery(std::string routing_key, node::GroupQuery query, CallDone done) {
  if (!routing_) {
    Query(GroupOf(routing_key), query, std::move(done));
    return;
  }
  RoutedQueryAttempt(std::move(routing_key), std::move(query), kMaxStaleRouteRetries,
                     std::move(done));
}

void KvCoordinator::RoutedQueryAttempt(std::string routing_key, node::GroupQuery query,
                                       int tries_left, CallDone done) {
  const raft::GroupId group = MaybeMisroute(GroupOf(routing_key));
  query.catalog_version = table_.version();
  Query(group, query,
        [this, routing_key = std::move(routing_key), query, tries_left,
         done = std::move(done)](const KvCallResult& result) mutable {
          if (IsStaleRoute(result)) ++stale_route_refusals_;
          if (IsStaleRoute(result) && tries_left > 1) {
            RefreshRoutes([this, routing_key = std::move(routing_key), query = std::move(query),
                           tries_left, done = std::move(done)]() mutable {
              RoutedQueryAttempt(std::move(routing_key), std::move(query), tries_left - 1,
                                 std::move(done));
            });
            return;
          }
          done(result);
        });
}

void KvCoordinator::ResolvedQuery(raft::GroupId group, const node::GroupQuery& query,
                                  CallDone done) {
  Query(routing_ ? MaybeMisroute(group) : group, query,
        [this, done = std::move(done)](const KvCallResult& result) {
          if (IsStaleRoute(result)) ++stale_route_refusals_;
          done(result);
        });
}

KvCoordinator::KvCoordinator(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
                             const SwarmProfile& profile, KvClientPlants plants)
    : scheduler_(scheduler),
      trace_(trace),
      cluster_(cluster),
      rng_(rng),
      profile_(profile),
      plants_(plants) {}

uint64_t KvCoordinator::NowMs() const { return kEpochMs + scheduler_.now() / 1000; }

NodeIndex KvCoordinator::RandomReplica(raft::GroupId group) {
  const std::vector<NodeIndex>& replicas = cluster_.replicas(group);
  return replicas[rng_.Uniform(replicas.size())];
}

NodeIndex KvCoordinator::RandomUpReplica(raft::GroupId group) {
  std::vector<NodeIndex> up;
  for (NodeIndex node : cluster_.replicas(group)) {
    if (cluster_.state(node) == Cluster::ProcessState::kUp) up.push_back(node);
  }
  return up.empty() ? 0 : up[rng_.Uniform(up.size())];
}

void KvCoordinator::Command(raft::GroupId group, node::GroupCommand command, bool idempotent,
                            CallDone done) {
  command.physical_ms = NowMs();
  Start(group, node::OpKind::kApply, node::EncodeGroupCommand(command), idempotent,
        std::move(done));
}

void KvCoordinator::Query(raft::GroupId group, const node::GroupQuery& query, CallDone done) {
  std::string payload = node::EncodeGroupQuery(query);
  if (plants_.read_from_any_replica) {
    // Planted: answer from whatever some replica has applied, leader or not, without a
    // read index: the group may not have closed the read's timestamp there.
    scheduler_.After(rng_.Range(1, profile_.client_latency_max_us), [this, group, payload,
                                                                     done = std::move(done)] {
      KvCallResult result;
      const NodeIndex node = RandomUpReplica(group);
      const node::NodeHost* host = node == 0 ? nullptr : cluster_.host(node);
      if (host == nullptr) {
        done(result);
        return;
      }
      std::optional<std::string> answer = host->state_machine(group).Query(payload);
      absl::StatusOr<node::GroupResult> decoded =
          answer.has_value() ? node::DecodeGroupResult(*answer)
                             : absl::StatusOr<node::GroupResult>(absl::DataLossError("no answer"));
      if (decoded.ok()) {
        result.outcome = KvCallResult::Outcome::kOk;
        result.result = *std::move(decoded);
      }
      done(result);
    });
    return;
  }
  Start(group, node::OpKind::kQuery, std::move(payload), /*retry_unknown=*/true, std::move(done));
}

void KvCoordinator::Timestamp(TimestampDone done) {
  const SimTime invoked = scheduler_.now();
  TimestampAttempt(kMaxTimestampTries,
                   [this, invoked, done = std::move(done)](std::optional<kv::Timestamp> ts) {
                     if (ts.has_value()) {
                       timestamps_issued_.push_back({invoked, scheduler_.now(), *ts});
                     }
                     done(ts);
                   });
}

void KvCoordinator::TimestampAttempt(int tries_left, TimestampDone done) {
  // Served by the leader's oracle from memory (node_host.h); followers point to it.
  Start(kOracleGroup, node::OpKind::kTimestamp, "", /*retry_unknown=*/true,
        [this, tries_left, done = std::move(done)](const KvCallResult& result) mutable {
          if (result.ok() && result.result.code == absl::StatusCode::kOk && result.result.ts != 0) {
            done(result.result.ts);
            return;
          }
          // A lost allocation only wastes a timestamp: asking again is always safe.
          if (tries_left <= 1) {
            done(std::nullopt);
            return;
          }
          TimestampAttempt(tries_left - 1, std::move(done));
        });
}

void KvCoordinator::Start(raft::GroupId group, node::OpKind kind, std::string payload,
                          bool retry_unknown, CallDone done) {
  const uint64_t call_id = next_call_id_++;
  Call& call = calls_[call_id];
  call.request.group = group;
  call.request.kind = kind;
  call.request.value = std::move(payload);
  call.done = std::move(done);
  call.retry_unknown = retry_unknown;
  scheduler_.After(profile_.client_timeout_us, [this, call_id] {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;
    KvCallResult result;
    result.outcome = it->second.request.kind == node::OpKind::kQuery
                         ? KvCallResult::Outcome::kFailed
                         : KvCallResult::Outcome::kUnknown;
    Finish(call_id, std::move(result));
  });
  auto guess = leader_guess_.find(group);
  // Real clients do not share one leader guess: half the timestamp requests start at a
  // random replica, so during a failover some reach the new leader while others still
  // reach the old one (which must not answer unless it is still the leader).
  const bool fresh_guess = kind == node::OpKind::kTimestamp && rng_.Chance(0.5);
  Send(call_id,
       guess != leader_guess_.end() && !fresh_guess ? guess->second : RandomReplica(group));
}

void KvCoordinator::Send(uint64_t call_id, NodeIndex target) {
  Call& call = calls_.at(call_id);
  call.request.request_id = next_request_id_++;
  call.current_request_id = call.request.request_id;
  call_of_request_[call.request.request_id] = call_id;
  const node::ClientRequest request = call.request;
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                   [this, target, request] { cluster_.SubmitClientRequest(target, request); });
  if (call.retry_unknown) {
    const SimTime attempt_timeout =
        std::max<SimTime>(profile_.client_timeout_us / 5, kMinAttemptTimeoutUs);
    const uint64_t request_id = call.current_request_id;
    scheduler_.After(attempt_timeout,
                     [this, call_id, request_id] { AttemptTimedOut(call_id, request_id); });
  }
}

void KvCoordinator::AttemptTimedOut(uint64_t call_id, uint64_t request_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end() || it->second.current_request_id != request_id) return;
  leader_guess_.erase(it->second.request.group);
  it->second.maybe_applied = true;
  Retry(call_id, 0);
}

void KvCoordinator::Retry(uint64_t call_id, NodeIndex target) {
  Call& call = calls_.at(call_id);
  if (++call.attempt >= kMaxAttemptsPerCall) {
    KvCallResult result;  // kFailed: never accepted ...
    if (call.maybe_applied && call.request.kind == node::OpKind::kApply) {
      result.outcome = KvCallResult::Outcome::kUnknown;  // ... unless an attempt may have been
    }
    Finish(call_id, std::move(result));
    return;
  }
  if (target == 0) target = RandomReplica(call.request.group);
  leader_guess_[call.request.group] = target;
  call.current_request_id = 0;  // late answers to the previous attempt are dropped
  const int attempt = call.attempt;
  const SimTime backoff = rng_.Range(1000, 10000) * static_cast<SimTime>(call.attempt);
  scheduler_.After(backoff, [this, call_id, attempt, target] {
    auto again = calls_.find(call_id);
    if (again != calls_.end() && again->second.attempt == attempt) Send(call_id, target);
  });
}

void KvCoordinator::OnReply(NodeIndex node, const node::ClientReply& reply) {
  auto owner = call_of_request_.find(reply.request_id);
  if (owner == call_of_request_.end()) return;
  const uint64_t call_id = owner->second;
  call_of_request_.erase(owner);
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                   [this, call_id, node, reply] { HandleReply(call_id, node, reply); });
}

void KvCoordinator::HandleReply(uint64_t call_id, NodeIndex node, const node::ClientReply& reply) {
  auto it = calls_.find(call_id);
  if (it == calls_.end() || it->second.current_request_id != reply.request_id) return;  // stale
  Call& call = it->second;
  KvCallResult result;
  switch (reply.status) {
    case node::ReplyStatus::kOk: {
      leader_guess_[call.request.group] = node;
      if (call.request.kind == node::OpKind::kTimestamp) {
        result.outcome = KvCallResult::Outcome::kOk;
        result.result.ts = reply.timestamp;
        result.index = reply.index;
        Finish(call_id, std::move(result));
        return;
      }
      absl::StatusOr<node::GroupResult> decoded =
          reply.value.has_value() ? node::DecodeGroupResult(*reply.value)
                                  : absl::StatusOr<node::GroupResult>(
                                        absl::DataLossError("reply without a group result"));
      EKV_ASSERT(decoded.ok(), "group ", call.request.group, " answered an undecodable result");
      result.outcome = KvCallResult::Outcome::kOk;
      result.result = *std::move(decoded);
      result.index = reply.index;
      Finish(call_id, std::move(result));
      return;
    }
    case node::ReplyStatus::kUnknown:
      leader_guess_.erase(call.request.group);
      call.maybe_applied = true;
      if (!call.retry_unknown) {
        result.outcome = KvCallResult::Outcome::kUnknown;
        Finish(call_id, std::move(result));
        return;
      }
      break;
    case node::ReplyStatus::kFailed:  // definitely not applied: safe to retry
    case node::ReplyStatus::kNotLeader:
      break;
  }
  const std::vector<NodeIndex>& replicas = cluster_.replicas(call.request.group);
  NodeIndex target = 0;
  if (reply.status == node::ReplyStatus::kNotLeader && reply.leader_hint != raft::kNoNode &&
      reply.leader_hint != node &&
      std::find(replicas.begin(), replicas.end(), reply.leader_hint) != replicas.end()) {
    target = reply.leader_hint;
  }
  Retry(call_id, target);
}

void KvCoordinator::Finish(uint64_t call_id, KvCallResult result) {
  auto it = calls_.find(call_id);
  EKV_ASSERT(it != calls_.end(), "finishing an unknown call");
  CallDone done = std::move(it->second.done);
  calls_.erase(it);
  trace_.Record({scheduler_.now(), "kv-call", call_id, static_cast<uint64_t>(result.outcome),
                 result.index, result.result.ts, ""});
  done(result);
}

}  // namespace ekv::sim
