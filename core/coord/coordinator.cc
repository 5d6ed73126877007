// coord::Coordinator: operations, timers, and the two request primitives everything else
// is built from -- Execute (one group, retried) and ExecuteRouted (by key, stale routes
// refreshed). Operations live in coordinator_ops.cc and coordinator_txn.cc.
#include "core/coord/coordinator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// Leader hints followed without a backoff, per request.
constexpr int kMaxImmediateHops = 3;

}  // namespace

struct Coordinator::Exec {
  raft::GroupId group = 0;
  node::OpKind kind = node::OpKind::kQuery;
  std::string payload;
  Retry retry = Retry::kDefinite;
  uint64_t deadline_us = 0;
  ReplyFn done;
  int attempt = 0;
  raft::NodeId hint = raft::kNoNode;  // where the next attempt goes, if known
  raft::NodeId target = raft::kNoNode;
  CallId call = 0;  // the attempt in flight (0: none)
  TimerId timer = 0;
  std::string last_error = "no leader elected yet";
  // The last attempt went to this node's own replica and got no result from it (timed
  // out, or a read it gave up): the next attempt goes to the leader's node instead, so a
  // replica stuck catching up cannot hold a request until its deadline.
  bool local_stalled = false;
  raft::NodeId pinned = raft::kNoNode;  // ExecuteOn: every attempt goes there
};

Coordinator::Coordinator(CoordinatorOptions options, const GroupView* view)
    : options_(options), view_(view), rng_(options.seed) {
  EKV_ASSERT(view_ != nullptr, "a coordinator needs its node's group view");
  EKV_ASSERT(options_.node_id != raft::kNoNode, "a coordinator belongs to a node");
  kv::TxnCoordinatorOptions txn_options;
  txn_options.lock_ttl_ms = options_.default_lock_ttl_ms;
  txn_options.one_phase_commit_ts_at_apply = true;
  txn_options.max_mutations_per_txn = options_.max_txn_keys;
  txn_options.max_concurrent_txns = options_.max_pending_ops;
  txn_options.planted_resolve_rolls_back_committed = options_.plants.resolve_rolls_back_committed;
  txns_ = std::make_unique<kv::TxnCoordinator>(txn_options, [this](absl::string_view key) {
    const route::RouteDescriptor* route = table_.Lookup(key);
    return route == nullptr ? kv::GroupId{0} : route->raft_group_id;
  });
}

Coordinator::~Coordinator() = default;

void Coordinator::SetTime(uint64_t now_us, uint64_t wall_ms) {
  EKV_ASSERT(now_us >= now_us_, "the coordinator's clock went backwards: ", now_us, " < ", now_us_);
  now_us_ = now_us;
  wall_ms_ = wall_ms;
}

Effects Coordinator::TakeEffects() {
  Effects out = std::move(effects_);
  effects_ = Effects();
  return out;
}

// ---------------------------------------------------------------------------------------
// Operations and timers

OpId Coordinator::NewOp(uint64_t timeout_us) {
  const OpId op = next_op_++;
  ops_[op].deadline_us = now_us_ + (timeout_us != 0 ? timeout_us : options_.request_timeout_us);
  ++stats_.ops_started;
  return op;
}

uint64_t Coordinator::DeadlineOf(OpId op) const {
  auto it = ops_.find(op);
  EKV_ASSERT(it != ops_.end(), "deadline of a finished operation ", op);
  return it->second.deadline_us;
}

void Coordinator::Finish(OpId op, OpResult result) {
  auto it = ops_.find(op);
  EKV_ASSERT(it != ops_.end(), "operation ", op, " finished twice");
  ops_.erase(it);
  if (result.status.ok()) {
    ++stats_.ops_ok;
  } else if (absl::StrContains(result.status.message(), "outcome unknown")) {
    ++stats_.ops_unknown;
  } else {
    ++stats_.ops_failed;
  }
  if (auto internal = internal_ops_.find(op); internal != internal_ops_.end()) {
    std::function<void(OpResult)> done = std::move(internal->second);
    internal_ops_.erase(internal);
    done(std::move(result));
    return;
  }
  effects_.done.push_back(OpDone{op, std::move(result)});
}

void Coordinator::RunInternal(OpId op, std::function<void(OpResult)> done) {
  if (ops_.count(op) == 0) {
    // Answered already, while it started (an argument check): the answer is an effect.
    auto answered = std::find_if(effects_.done.begin(), effects_.done.end(),
                                 [op](const OpDone& d) { return d.op == op; });
    EKV_ASSERT(answered != effects_.done.end(), "internal operation ", op, " is unknown");
    OpResult result = std::move(answered->result);
    effects_.done.erase(answered);
    done(std::move(result));
    return;
  }
  internal_ops_.emplace(op, std::move(done));
}

void Coordinator::Fail(OpId op, absl::Status status) {
  EKV_ASSERT(!status.ok(), "Fail needs an error");
  OpResult result;
  result.status = std::move(status);
  Finish(op, std::move(result));
}

TimerId Coordinator::After(uint64_t delay_us, std::function<void()> fn) {
  const TimerId timer = next_timer_++;
  timers_.emplace(timer, std::move(fn));
  effects_.timers.push_back(TimerRequest{timer, now_us_ + delay_us});
  return timer;
}

void Coordinator::Cancel(TimerId timer) { timers_.erase(timer); }

void Coordinator::OnTimer(TimerId timer) {
  auto it = timers_.find(timer);
  if (it == timers_.end()) return;  // cancelled
  std::function<void()> fn = std::move(it->second);
  timers_.erase(it);
  fn();
}

uint64_t Coordinator::Backoff(int attempt) {
  // Jittered and growing: clients that failed together do not retry together.
  const uint64_t base = std::min<uint64_t>(
      options_.backoff_max_us,
      options_.backoff_min_us * static_cast<uint64_t>(1 + std::min(attempt, 30)));
  return rng_.Range(base / 2, base);
}

// ---------------------------------------------------------------------------------------
// Execute: one request to one group

void Coordinator::Execute(raft::GroupId group, node::OpKind kind, std::string payload, Retry retry,
                          uint64_t deadline_us, ReplyFn done) {
  StartExec(raft::kNoNode, group, kind, std::move(payload), retry, deadline_us, std::move(done));
}

void Coordinator::ProposeCatalogChange(const route::CatalogCommand& command, Retry retry,
                                       uint64_t deadline_us, ReplyFn done) {
  node::GroupCommand group_command;
  group_command.op = node::GroupCommandOp::kCatalog;
  group_command.physical_ms = wall_ms_;
  group_command.payload = command.Encode();
  Execute(options_.catalog_group, node::OpKind::kApply, node::EncodeGroupCommand(group_command),
          retry, deadline_us, std::move(done));
}

void Coordinator::ExecuteOn(raft::NodeId node, raft::GroupId group, node::OpKind kind,
                            std::string payload, Retry retry, uint64_t deadline_us, ReplyFn done) {
  EKV_ASSERT(node != raft::kNoNode, "ExecuteOn needs a node");
  StartExec(node, group, kind, std::move(payload), retry, deadline_us, std::move(done));
}

void Coordinator::StartExec(raft::NodeId pinned, raft::GroupId group, node::OpKind kind,
                            std::string payload, Retry retry, uint64_t deadline_us, ReplyFn done) {
  const uint64_t id = next_exec_++;
  auto exec = std::make_unique<Exec>();
  exec->group = group;
  exec->kind = kind;
  exec->payload = std::move(payload);
  exec->retry = retry;
  exec->deadline_us = deadline_us;
  exec->done = std::move(done);
  exec->pinned = pinned;
  execs_.emplace(id, std::move(exec));
  SendAttempt(id);
}

void Coordinator::SendAttempt(uint64_t exec_id) {
  Exec& exec = *execs_.at(exec_id);
  if (now_us_ >= exec.deadline_us) {
    FinishExec(exec_id,
               absl::UnavailableError(absl::StrCat(
                   "group ", exec.group, " unavailable before the deadline: ", exec.last_error)));
    return;
  }
  // A hint from the last answer wins. Otherwise a node that hosts the group lets its
  // NodeHost carry the request to the leader (proposal and read-index forwarding through
  // Raft); leader-only requests (timestamps, conf changes), which followers answer with a
  // hint, go to the leader's node.
  raft::NodeId target = exec.pinned != raft::kNoNode ? exec.pinned : exec.hint;
  exec.hint = raft::kNoNode;
  if (target == raft::kNoNode) {
    const bool local = exec.retry != Retry::kLeaderOnly && view_->Hosts(exec.group);
    const raft::NodeId leader = view_->LeaderOf(exec.group);
    target = local && !(exec.local_stalled && leader != raft::kNoNode) ? options_.node_id : leader;
    // A created group whose leader this node does not know: one of its other replicas, in
    // turn (it forwards through Raft or answers with a hint). Also when this node hosts
    // it: a replica a move recorded here but never added to the configuration hears from
    // no leader, and the move's next round must still reach one (simulator seed 124: the
    // replica balancer's coordinator on that node waited for a leader until the heal's
    // time ran out, the replica recorded but never added).
    auto created = created_groups_.find(exec.group);
    if (target == raft::kNoNode && created != created_groups_.end()) {
      std::vector<uint64_t> replicas = created->second.Replicas();
      replicas.erase(std::remove(replicas.begin(), replicas.end(), options_.node_id),
                     replicas.end());
      if (!replicas.empty()) target = replicas[static_cast<size_t>(exec.attempt) % replicas.size()];
    }
  }
  exec.local_stalled = false;
  if (target == raft::kNoNode) {
    const int attempt = exec.attempt++;
    exec.timer = After(Backoff(attempt), [this, exec_id] { SendAttempt(exec_id); });
    return;
  }
  exec.target = target;
  exec.call = next_call_++;
  exec_of_call_[exec.call] = exec_id;
  GroupCall call;
  call.call = exec.call;
  call.node = target;
  call.request.group = exec.group;
  call.request.kind = exec.kind;
  call.request.value = exec.payload;
  ++stats_.calls_sent;
  if (target != options_.node_id) ++stats_.calls_forwarded;
  effects_.calls.push_back(std::move(call));
  const uint64_t wait_us =
      options_.attempt_timeout_us == 0 ? exec.deadline_us - now_us_ : options_.attempt_timeout_us;
  const CallId call_id = exec.call;
  exec.timer = After(std::min(wait_us, exec.deadline_us - now_us_),
                     [this, exec_id, call_id] { AttemptTimedOut(exec_id, call_id); });
}

void Coordinator::RetryExec(uint64_t exec_id, raft::NodeId hint, std::string why) {
  Exec& exec = *execs_.at(exec_id);
  exec.call = 0;
  exec.last_error = std::move(why);
  exec.hint = hint;
  const int attempt = exec.attempt++;
  // A fresh lead is followed at once, but only a few times in a row: two nodes that each
  // name the other as leader must not bounce a request back and forth without pause.
  if (hint != raft::kNoNode && attempt < kMaxImmediateHops) {
    SendAttempt(exec_id);
    return;
  }
  exec.timer = After(Backoff(attempt), [this, exec_id] { SendAttempt(exec_id); });
}

void Coordinator::FinishExec(uint64_t exec_id, absl::StatusOr<GroupReply> reply) {
  auto it = execs_.find(exec_id);
  EKV_ASSERT(it != execs_.end(), "finishing an unknown request ", exec_id);
  std::unique_ptr<Exec> exec = std::move(it->second);
  execs_.erase(it);
  if (exec->call != 0) exec_of_call_.erase(exec->call);
  Cancel(exec->timer);
  exec->done(std::move(reply));
}

void Coordinator::AttemptTimedOut(uint64_t exec_id, CallId call) {
  auto it = execs_.find(exec_id);
  if (it == execs_.end() || it->second->call != call) return;
  Exec& exec = *it->second;
  exec_of_call_.erase(call);
  // No answer: the attempt may still be applied (or read) later.
  if (exec.retry != Retry::kDefinite || exec.kind == node::OpKind::kQuery) {
    exec.local_stalled = exec.target == options_.node_id;
    RetryExec(exec_id, raft::kNoNode, absl::StrCat("node ", exec.target, " did not answer"));
    return;
  }
  exec.call = 0;
  FinishExec(exec_id, absl::DeadlineExceededError(absl::StrCat(
                          "write outcome unknown: group ", exec.group,
                          " did not answer before the deadline; it may or may not have applied")));
}

void Coordinator::OnCallFailed(CallId call, bool maybe_delivered, std::string why) {
  auto it = exec_of_call_.find(call);
  if (it == exec_of_call_.end()) return;  // late: the attempt was given up
  const uint64_t exec_id = it->second;
  exec_of_call_.erase(it);
  Exec& exec = *execs_.at(exec_id);
  Cancel(exec.timer);
  const bool safe =
      !maybe_delivered || exec.kind == node::OpKind::kQuery || exec.retry != Retry::kDefinite;
  if (safe) {
    RetryExec(exec_id, raft::kNoNode, std::move(why));
    return;
  }
  exec.call = 0;
  FinishExec(exec_id, absl::UnavailableError(absl::StrCat("write outcome unknown: ", why)));
}

void Coordinator::OnCallReply(CallId call, const node::ClientReply& reply) {
  auto it = exec_of_call_.find(call);
  if (it == exec_of_call_.end()) return;  // late: the attempt was given up
  const uint64_t exec_id = it->second;
  exec_of_call_.erase(it);
  Exec& exec = *execs_.at(exec_id);
  Cancel(exec.timer);
  const raft::NodeId target = exec.target;
  switch (reply.status) {
    case node::ReplyStatus::kOk: {
      exec.call = 0;
      GroupReply out;
      out.reply = reply;
      out.index = reply.index;
      if (exec.kind == node::OpKind::kApply || exec.kind == node::OpKind::kQuery) {
        if (!reply.value.has_value()) {
          FinishExec(exec_id, absl::InternalError("group reply without a result"));
          return;
        }
        absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(*reply.value);
        if (!result.ok()) {
          FinishExec(exec_id, result.status());
          return;
        }
        out.result = *std::move(result);
      }
      FinishExec(exec_id, std::move(out));
      return;
    }
    case node::ReplyStatus::kNotLeader:
      RetryExec(exec_id, reply.leader_hint != target ? reply.leader_hint : raft::kNoNode,
                reply.detail);
      return;
    case node::ReplyStatus::kFailed:
      // Definitely not applied (dropped proposal, refused read index): safe to retry.
      exec.local_stalled = target == options_.node_id &&
                           (exec.kind == node::OpKind::kQuery || exec.kind == node::OpKind::kGet);
      RetryExec(exec_id,
                exec.retry == Retry::kLeaderOnly && reply.leader_hint != target ? reply.leader_hint
                                                                                : raft::kNoNode,
                reply.detail);
      return;
    case node::ReplyStatus::kUnknown:
      if (exec.retry != Retry::kDefinite || exec.kind == node::OpKind::kQuery) {
        RetryExec(exec_id, raft::kNoNode, reply.detail);
        return;
      }
      exec.call = 0;
      FinishExec(exec_id,
                 absl::UnavailableError(absl::StrCat("write outcome unknown: ", reply.detail)));
      return;
  }
  EKV_UNREACHABLE("unknown reply status");
}

// ---------------------------------------------------------------------------------------
// Routing

void Coordinator::OnCatalog(const route::RouteCatalog& catalog) {
  table_.Apply(catalog);
  NoteCatalog(catalog);
}

void Coordinator::NoteCatalog(const route::RouteCatalog& catalog) {
  if (catalog.version() <= created_groups_version_) return;
  created_groups_version_ = catalog.version();
  created_groups_.clear();
  for (const auto& [id, group] : catalog.groups()) created_groups_.emplace(id, group);
  created_group_ids_ = catalog.created_group_ids();
}

raft::GroupId Coordinator::MaybeMisroute(raft::GroupId group) {
  const uint64_t groups = std::max<uint64_t>(options_.misroute_groups, 2);
  if (options_.misroute_probability <= 0 || group < 1 || group > groups) return group;
  if (!rng_.Chance(options_.misroute_probability)) return group;
  if (groups == 2) return group == 1 ? 2 : 1;
  const raft::GroupId other = 1 + rng_.Uniform(groups - 1);  // 1..groups-1
  return other >= group ? other + 1 : other;
}

std::optional<route::StaleRouteError> Coordinator::StaleRoute(const node::GroupResult& result) {
  if (result.code != absl::StatusCode::kAborted) return std::nullopt;
  std::optional<route::StaleRouteError> stale = route::ParseStaleRouteMessage(result.message);
  if (stale.has_value()) ++stats_.stale_route_refusals;
  return stale;
}

void Coordinator::ReadCatalog(uint64_t deadline_us, CatalogFn done) {
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kCatalog;
  Execute(options_.catalog_group, node::OpKind::kQuery, node::EncodeGroupQuery(query),
          Retry::kUnknownToo, deadline_us,
          [this, done = std::move(done)](absl::StatusOr<GroupReply> reply) {
            if (!reply.ok()) return done(reply.status());
            if (absl::Status s = reply->result.status(); !s.ok()) return done(s);
            absl::StatusOr<route::RouteCatalog> catalog =
                route::RouteCatalog::Decode(reply->result.blob);
            if (catalog.ok()) {
              table_.Apply(*catalog);
              NoteCatalog(*catalog);
            }
            done(std::move(catalog));
          });
}

void Coordinator::RefreshAfterStaleRoute(const route::StaleRouteError& stale,
                                         uint64_t routed_version, int* retries,
                                         uint64_t deadline_us, StatusFn done) {
  if (options_.plants.no_stale_route_retry) {  // planted bug: the refusal reaches the client
    done(route::MakeStaleRouteError(stale.current_version, stale.group, stale.reason));
    return;
  }
  if (++*retries > options_.max_stale_route_retries || now_us_ >= deadline_us) {
    done(absl::UnavailableError(absl::StrCat(
        "routes kept changing: ", *retries - 1, " route refreshes (at most ",
        options_.max_stale_route_retries,
        " per request, within the request deadline) did not reach a group that accepts the "
        "request; last refusal by group ",
        stale.group, " at catalog version ", stale.current_version, ": ", stale.reason)));
    return;
  }
  ++stats_.route_refreshes;
  const int attempt = *retries;
  // A linearizable read of the catalog group: at least as new as any catalog a group has
  // been told about (ownership updates carry catalogs that group committed).
  ReadCatalog(deadline_us, [this, routed_version, attempt,
                            done = std::move(done)](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok()) return done(catalog.status());
    // Not newer than the table the request was routed by: the group is the one behind
    // (it learns ownership changes through kOwnership), so give it a moment.
    if (catalog->version() <= routed_version) {
      After(Backoff(attempt), [done] { done(absl::OkStatus()); });
      return;
    }
    done(absl::OkStatus());
  });
}

void Coordinator::ExecuteRouted(std::string key, node::OpKind kind, PayloadFor payload_for,
                                Retry retry, uint64_t deadline_us, ReplyFn done, int retries) {
  const route::RouteDescriptor* route = table_.Lookup(key);
  if (route == nullptr) {
    // No table yet (a node still starting): load one, then route.
    if (now_us_ >= deadline_us) return done(absl::UnavailableError("route table not loaded yet"));
    ReadCatalog(
        deadline_us,
        [this, key = std::move(key), kind, payload_for = std::move(payload_for), retry, deadline_us,
         done = std::move(done), retries](absl::StatusOr<route::RouteCatalog> catalog) mutable {
          if (!catalog.ok()) return done(catalog.status());
          ExecuteRouted(std::move(key), kind, std::move(payload_for), retry, deadline_us,
                        std::move(done), retries + 1);
        });
    return;
  }
  const raft::GroupId group = MaybeMisroute(route->raft_group_id);
  const uint64_t version = table_.version();
  std::string payload = payload_for(version);
  Execute(
      group, kind, std::move(payload), retry, deadline_us,
      [this, key = std::move(key), kind, payload_for = std::move(payload_for), retry, deadline_us,
       done = std::move(done), retries, version](absl::StatusOr<GroupReply> reply) mutable {
        if (!reply.ok()) return done(std::move(reply));
        std::optional<route::StaleRouteError> stale = StaleRoute(reply->result);
        if (!stale.has_value()) return done(std::move(reply));
        // A refusal is a definite no-op (group_protocol.h): even a write may go again.
        auto counter = std::make_shared<int>(retries);
        RefreshAfterStaleRoute(
            *stale, version, counter.get(), deadline_us,
            [this, key = std::move(key), kind, payload_for = std::move(payload_for), retry,
             deadline_us, done = std::move(done), counter](absl::Status refreshed) mutable {
              if (!refreshed.ok()) return done(refreshed);
              ExecuteRouted(std::move(key), kind, std::move(payload_for), retry, deadline_us,
                            std::move(done), *counter);
            });
      });
}

namespace {

std::string GroupCommandBytes(node::GroupCommandOp op, std::string payload, uint64_t wall_ms,
                              uint64_t catalog_version) {
  node::GroupCommand command;
  command.op = op;
  command.physical_ms = wall_ms;
  command.payload = std::move(payload);
  command.catalog_version = catalog_version;
  return node::EncodeGroupCommand(command);
}

}  // namespace

void Coordinator::KvCommandRouted(const std::string& key, std::string kv_command, Retry retry,
                                  uint64_t deadline_us, ReplyFn done) {
  ExecuteRouted(
      key, node::OpKind::kApply,
      [this, kv_command = std::move(kv_command)](uint64_t version) {
        return GroupCommandBytes(node::GroupCommandOp::kKv, kv_command, wall_ms_, version);
      },
      retry, deadline_us, std::move(done));
}

void Coordinator::KvQueryRouted(const std::string& key, std::string kv_query, uint64_t deadline_us,
                                ReplyFn done) {
  ExecuteRouted(
      key, node::OpKind::kQuery,
      [kv_query = std::move(kv_query)](uint64_t version) {
        node::GroupQuery query;
        query.op = node::GroupQueryOp::kKv;
        query.payload = kv_query;
        query.catalog_version = version;
        return node::EncodeGroupQuery(query);
      },
      Retry::kUnknownToo, deadline_us, std::move(done));
}

// ---------------------------------------------------------------------------------------
// Multi-key commands by group

struct Coordinator::ByGroup {
  std::vector<std::string> keys;  // still to route
  std::string first_key;
  std::function<std::string(const std::vector<std::string>&)> build;
  uint64_t deadline_us = 0;
  BatchFn on_batch;
  StatusFn done;
  int retries = 0;
  // The current round: batches in order, the group of first_key first.
  struct Batch {
    raft::GroupId group = 0;
    std::vector<std::string> keys;
    // The oldest table version any of its keys was routed by: stamping older than the
    // truth can only cause a refusal, never a wrong acceptance.
    uint64_t catalog_version = UINT64_MAX;
  };
  std::vector<Batch> batches;
  size_t next = 0;
};

void Coordinator::KvCommandByGroup(
    std::vector<std::string> keys, std::string first_key,
    std::function<std::string(const std::vector<std::string>&)> build, uint64_t deadline_us,
    BatchFn on_batch, StatusFn done) {
  auto state = std::make_shared<ByGroup>();
  state->keys = std::move(keys);
  state->first_key = std::move(first_key);
  state->build = std::move(build);
  state->deadline_us = deadline_us;
  state->on_batch = std::move(on_batch);
  state->done = std::move(done);
  ByGroupRound(std::move(state));
}

void Coordinator::ByGroupRound(std::shared_ptr<ByGroup> state) {
  if (state->keys.empty()) {
    StatusFn done = std::move(state->done);
    done(absl::OkStatus());
    return;
  }
  std::map<raft::GroupId, ByGroup::Batch> by_group;
  raft::GroupId first_group = 0;
  for (std::string& key : state->keys) {
    const route::RouteDescriptor* route = table_.Lookup(key);
    if (route == nullptr) {
      StatusFn done = std::move(state->done);
      done(absl::UnavailableError("route table not loaded yet"));
      return;
    }
    const raft::GroupId group = route->raft_group_id;
    if (key == state->first_key) first_group = group;
    ByGroup::Batch& batch = by_group[group];
    batch.group = group;
    batch.catalog_version = std::min(batch.catalog_version, table_.version());
    batch.keys.push_back(std::move(key));
  }
  state->keys.clear();
  state->batches.clear();
  state->next = 0;
  if (first_group != 0) state->batches.push_back(std::move(by_group.at(first_group)));
  for (auto& [group, batch] : by_group) {
    if (group != first_group) state->batches.push_back(std::move(batch));
  }
  ByGroupNext(std::move(state));
}

void Coordinator::ByGroupNext(std::shared_ptr<ByGroup> state) {
  if (state->next >= state->batches.size()) {
    ByGroupRound(std::move(state));  // re-routed keys, if any
    return;
  }
  ByGroup::Batch& batch = state->batches[state->next];
  const raft::GroupId group = MaybeMisroute(batch.group);
  Execute(group, node::OpKind::kApply,
          GroupCommandBytes(node::GroupCommandOp::kKv, state->build(batch.keys), wall_ms_,
                            batch.catalog_version),
          Retry::kDefinite, state->deadline_us, [this, state](absl::StatusOr<GroupReply> reply) {
            ByGroup::Batch& batch = state->batches[state->next];
            if (reply.ok()) {
              if (std::optional<route::StaleRouteError> stale = StaleRoute(reply->result)) {
                const uint64_t routed = batch.catalog_version;
                RefreshAfterStaleRoute(*stale, routed, &state->retries, state->deadline_us,
                                       [this, state](absl::Status refreshed) {
                                         if (!refreshed.ok()) {
                                           StatusFn done = std::move(state->done);
                                           done(refreshed);
                                           return;
                                         }
                                         // This batch and every later one go again, so
                                         // first_key's group still goes first.
                                         for (size_t i = state->next; i < state->batches.size();
                                              ++i) {
                                           for (std::string& key : state->batches[i].keys) {
                                             state->keys.push_back(std::move(key));
                                           }
                                         }
                                         state->batches.clear();
                                         state->next = 0;
                                         ByGroupRound(state);
                                       });
                return;
              }
            }
            absl::StatusOr<bool> go_on = state->on_batch(batch.keys, std::move(reply));
            if (!go_on.ok() || !*go_on) {
              StatusFn done = std::move(state->done);
              done(go_on.ok() ? absl::OkStatus() : go_on.status());
              return;
            }
            ++state->next;
            ByGroupNext(state);
          });
}

// ---------------------------------------------------------------------------------------
// Scans

struct Coordinator::ScanState {
  std::optional<route::ScanCursor> cursor;
  uint64_t page = 0;
  uint64_t deadline_us = 0;
  int retries = 0;
  SubScanFn sub_scan;
  KvPairs out;
  std::function<void(absl::StatusOr<KvPairs>)> done;
};

void Coordinator::ScanRoutes(route::ScanSpec spec, uint64_t page, uint64_t deadline_us,
                             SubScanFn sub_scan,
                             std::function<void(absl::StatusOr<KvPairs>)> done) {
  auto scan = std::make_shared<ScanState>();
  scan->cursor.emplace(std::move(spec));
  scan->page = page;
  scan->deadline_us = deadline_us;
  scan->sub_scan = std::move(sub_scan);
  scan->done = std::move(done);
  if (table_.empty()) {
    ReadCatalog(deadline_us, [this, scan](absl::StatusOr<route::RouteCatalog> catalog) {
      if (!catalog.ok()) return scan->done(catalog.status());
      ScanStep(scan);
    });
    return;
  }
  ScanStep(std::move(scan));
}

void Coordinator::ScanStep(std::shared_ptr<ScanState> scan) {
  const uint64_t limit = scan->cursor->scan().limit;
  if (scan->cursor->done() || (limit != 0 && scan->out.size() >= limit)) {
    return scan->done(std::move(scan->out));
  }
  if (now_us_ >= scan->deadline_us) {
    // Never a partial answer dressed as a complete one.
    return scan->done(absl::DeadlineExceededError(
        absl::StrCat("scan returned ", scan->out.size(),
                     " pairs and was not done when the request deadline passed")));
  }
  // Resolved with the newest table at every step: a split since the last sub-scan only
  // changes where the next one goes, never what it has already returned.
  std::optional<route::SubScan> sub = scan->cursor->Next(table_);
  EKV_ASSERT(sub.has_value(), "a scan that is not done has a next sub-scan");
  uint64_t want = limit == 0 ? scan->page : limit - scan->out.size();
  if (scan->page != 0) want = std::min(want, scan->page);
  if (want == 0) want = options_.max_scan_limit;
  sub->raft_group_id = MaybeMisroute(sub->raft_group_id);
  scan->sub_scan(
      *sub, want, [this, scan, sub = *sub, want](absl::StatusOr<std::optional<KvPairs>> pairs) {
        if (!pairs.ok()) {
          std::optional<route::StaleRouteError> stale = route::ParseStaleRouteError(pairs.status());
          if (!stale.has_value()) return scan->done(pairs.status());
          ++stats_.stale_route_refusals;
          RefreshAfterStaleRoute(*stale, sub.catalog_version, &scan->retries, scan->deadline_us,
                                 [this, scan](absl::Status refreshed) {
                                   if (!refreshed.ok()) return scan->done(refreshed);
                                   ScanStep(scan);  // re-plan the rest with the new table
                                 });
          return;
        }
        if (!pairs->has_value()) {
          After(Backoff(0), [this, scan] { ScanStep(scan); });  // read the same part again
          return;
        }
        std::vector<std::string> keys;
        keys.reserve((*pairs)->size());
        for (const auto& pair : **pairs) keys.push_back(pair.first);
        absl::Status advanced = scan->cursor->Advance(sub, keys, (*pairs)->size() < want);
        if (!advanced.ok()) {
          return scan->done(absl::InternalError(
              absl::StrCat("a group answered a sub-scan out of order: ", advanced.message())));
        }
        for (auto& pair : **pairs) scan->out.push_back(std::move(pair));
        ScanStep(scan);
      });
}

}  // namespace ekv::coord
