// The server's driver of coord::Coordinator (see coordinator.h): threads, clocks and RPCs
// around the one deterministic coordinator. No routing or retry decision is made here.
#include "runtime/server/coordinator.h"

#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/node/group_protocol.h"
#include "core/redis/cleanup.h"
#include "core/util/assert.h"

namespace ekv::runtime {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t WallClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

uint64_t MonotonicUs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
          .count());
}

// Reads the outcome of an answer that carries no data.
absl::StatusOr<WriteOutcome> ToWrite(const coord::OpResult& result) {
  if (!result.status.ok()) return result.status;
  return WriteOutcome{result.index, result.ts};
}

absl::StatusOr<ReadOutcome> ToRead(const coord::OpResult& result) {
  if (!result.status.ok()) return result.status;
  return ReadOutcome{result.index, result.value};
}

std::vector<KeyErrorOutcome> ToKeyErrors(const std::vector<coord::KeyErrorOutcome>& errors) {
  std::vector<KeyErrorOutcome> out;
  for (const coord::KeyErrorOutcome& e : errors) out.push_back({e.key, e.message, e.retryable});
  return out;
}

}  // namespace

// What the core coordinator sees of this node's groups: the loop's published status.
class Coordinator::LoopGroupView : public coord::GroupView {
 public:
  explicit LoopGroupView(NodeLoop* loop) : loop_(loop) {}
  bool Hosts(raft::GroupId group) const override { return loop_->Hosts(group); }
  raft::NodeId LeaderOf(raft::GroupId group) const override { return loop_->LeaderOf(group); }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override {
    std::map<raft::GroupId, raft::ConfState> confs;
    for (const auto& [group, status] : loop_->GroupStatuses()) confs[group] = status.conf_state;
    return confs;
  }

 private:
  NodeLoop* loop_;
};

Coordinator::Coordinator(CoordinatorOptions options, NodeLoop* loop, RaftTransport* transport)
    : options_(options),
      loop_(loop),
      transport_(transport),
      view_(std::make_unique<LoopGroupView>(loop)),
      fallback_(std::make_unique<FallbackPool>(/*threads=*/4, /*max_queued=*/4096)) {
  coord::CoordinatorOptions core;
  core.node_id = options_.node_id;
  core.catalog_group = options_.catalog_group;
  core.request_timeout_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(options_.request_timeout).count());
  core.max_scan_limit = options_.max_scan_limit;
  core.max_txn_keys = options_.max_txn_keys;
  core.default_lock_ttl_ms = options_.default_lock_ttl_ms;
  core.max_stale_route_retries = options_.max_stale_route_retries;
  core.seed = MonotonicUs() ^ (options_.node_id << 32);
  core.plants = options_.plants;
  core.plants.no_stale_route_retry =
      core.plants.no_stale_route_retry || options_.planted_no_stale_route_retry;
  core_ = std::make_unique<coord::Coordinator>(core, view_.get());
  core_->SetTime(MonotonicUs(), WallClockMs());
  loop_->AddStopHook([this, life = life_] {
    if (!life->stopped) OnStop();
  });
}

void Coordinator::SyncTime() { core_->SetTime(MonotonicUs(), WallClockMs()); }

void Coordinator::Start(StartFn start, OpCallback done) {
  auto shared_done = std::make_shared<OpCallback>(std::move(done));
  loop_->Post(
      [this, life = life_, start = std::move(start), shared_done] {
        if (life->stopped) {
          coord::OpResult result;
          result.status = absl::UnavailableError("node shutting down");
          (*shared_done)(std::move(result));
          return;
        }
        SyncTime();
        const coord::OpId op = start(*core_);
        callbacks_.emplace(op, std::move(*shared_done));
        Pump();
      },
      [shared_done] {
        coord::OpResult result;
        result.status = absl::UnavailableError("node overloaded or shutting down");
        (*shared_done)(std::move(result));
      });
}

coord::OpResult Coordinator::Wait(StartFn start) {
  std::vector<StartFn> starts;
  starts.push_back(std::move(start));
  return std::move(RunAllBlocking(std::move(starts)).front());
}

std::vector<coord::OpResult> Coordinator::RunAllBlocking(std::vector<CoreStart> starts) {
  EKV_ASSERT(!loop_->OnLoopThread(), "a blocking coordinator call on the node loop thread");
  std::vector<std::future<coord::OpResult>> futures;
  futures.reserve(starts.size());
  for (CoreStart& start : starts) {
    auto promise = std::make_shared<std::promise<coord::OpResult>>();
    futures.push_back(promise->get_future());
    Start(std::move(start),
          [promise](coord::OpResult result) { promise->set_value(std::move(result)); });
  }
  // The core answers every operation within its request timeout; the margin only covers a
  // loop that stopped without answering.
  const Deadline deadline =
      std::chrono::steady_clock::now() + options_.request_timeout + std::chrono::seconds(2);
  std::vector<coord::OpResult> results(futures.size());
  for (size_t i = 0; i < futures.size(); ++i) {
    if (futures[i].wait_until(deadline) != std::future_status::ready) {
      results[i].status = absl::DeadlineExceededError(
          "the node did not answer before the deadline; a write may or may not have been "
          "applied");
      continue;
    }
    results[i] = futures[i].get();
  }
  return results;
}

void Coordinator::Pump() {
  // Bounded: every round hands work to NodeHost, the forward pool or a timer.
  for (int round = 0; round < 10'000; ++round) {
    coord::Effects effects = core_->TakeEffects();
    if (effects.empty()) break;
    for (coord::GroupCall& call : effects.calls) {
      if (call.node == options_.node_id) {
        const coord::CallId id = call.call;
        loop_->SubmitFromLoop(std::move(call.request),
                              [this, life = life_, id](const node::ClientReply& reply) {
                                if (life->stopped) return;
                                SyncTime();
                                core_->OnCallReply(id, reply);
                                Pump();
                              });
      } else {
        Forward(call.call, call.node, std::move(call.request));
      }
    }
    for (const coord::TimerRequest& timer : effects.timers) {
      const uint64_t now = MonotonicUs();
      const Clock::time_point at =
          Clock::now() + std::chrono::microseconds(timer.at_us > now ? timer.at_us - now : 0);
      loop_->RunAtFromLoop(at, [this, life = life_, id = timer.timer] {
        if (life->stopped) return;
        SyncTime();
        core_->OnTimer(id);
        Pump();
      });
    }
    // Counters first: a caller woken by its answer may read them at once.
    if (!effects.done.empty()) PublishCounters();
    for (coord::OpDone& done : effects.done) {
      auto it = callbacks_.find(done.op);
      EKV_ASSERT(it != callbacks_.end(), "the coordinator finished an operation nobody started");
      OpCallback callback = std::move(it->second);
      callbacks_.erase(it);
      callback(std::move(done.result));
    }
  }
  PublishCounters();
}

void Coordinator::PublishCounters() {
  const coord::CoordinatorStats& stats = core_->stats();
  catalog_version_.store(core_->routes().version(), std::memory_order_relaxed);
  stale_route_refusals_.store(stats.stale_route_refusals, std::memory_order_relaxed);
  route_refreshes_.store(stats.route_refreshes, std::memory_order_relaxed);
  ownership_updates_.store(stats.ownership_updates, std::memory_order_relaxed);
}

void Coordinator::Forward(coord::CallId call, raft::NodeId node, node::ClientRequest request) {
  // The forwarding RPC blocks, so it runs on the pool; its answer comes back as a task.
  NodeLoop* loop = loop_;
  auto answer = [this, loop, life = life_, call](std::optional<node::ClientReply> reply,
                                                 std::string why) {
    loop->Post(
        [this, life, call, reply = std::move(reply), why = std::move(why)] {
          if (life->stopped) return;
          SyncTime();
          if (reply.has_value()) {
            core_->OnCallReply(call, *reply);
          } else {
            core_->OnCallFailed(call, /*maybe_delivered=*/true, why);
          }
          Pump();
        },
        nullptr);
  };
  const bool queued = fallback_->Run([this, node, request = std::move(request), answer] {
    internal::ForwardRequest forward;
    forward.set_group(request.group);
    forward.set_op_kind(static_cast<uint32_t>(request.kind));
    forward.set_is_read(request.kind == node::OpKind::kQuery);
    forward.set_payload(request.value);
    absl::StatusOr<internal::ForwardResponse> response = transport_->Forward(node, forward);
    if (!response.ok()) {
      answer(std::nullopt,
             absl::StrCat("forward to node ", node, ": ", response.status().message()));
      return;
    }
    node::ClientReply reply;
    reply.group = request.group;
    reply.status = static_cast<node::ReplyStatus>(response->status());
    if (!response->payload().empty()) reply.value = response->payload();
    reply.index = response->index();
    reply.leader_hint = response->leader_hint();
    reply.detail = response->detail();
    reply.timestamp = response->timestamp();
    answer(std::move(reply), "");
  });
  if (!queued) {
    // Never sent: a definite failure, which the core retries after a backoff.
    loop_->Post(
        [this, life = life_, call] {
          if (life->stopped) return;
          SyncTime();
          core_->OnCallFailed(call, /*maybe_delivered=*/false,
                              "node overloaded: forward pool full");
          Pump();
        },
        nullptr);
  }
}

Coordinator::~Coordinator() {
  // Forwards in flight finish first (their answers only post tasks that check `life_`).
  fallback_.reset();
  if (loop_->OnLoopThread()) {
    OnStop();
    return;
  }
  // On the loop thread, in order with everything else this coordinator asked it to do:
  // answer what is pending and make every later task, timer and answer a no-op.
  auto finished = std::make_shared<std::promise<void>>();
  std::future<void> done = finished->get_future();
  const bool posted = loop_->Post(
      [this, finished] {
        OnStop();
        finished->set_value();
      },
      [finished] { finished->set_value(); });
  if (posted) done.wait();
  // Refused: the loop is stopping, and its stop hook finishes this coordinator.
}

void Coordinator::OnStop() {
  // Nothing this coordinator started will be answered any more: its loop stopped, or it
  // is being destroyed.
  if (life_->stopped) return;
  life_->stopped = true;
  std::map<coord::OpId, OpCallback> pending = std::move(callbacks_);
  callbacks_.clear();
  for (auto& [op, callback] : pending) {
    coord::OpResult result;
    result.status = absl::UnavailableError(
        "node shutting down; a write in flight may or may not have been applied (outcome "
        "unknown)");
    callback(std::move(result));
  }
}

void Coordinator::UpdateRoutes(const route::RouteCatalog& catalog) {
  {
    std::lock_guard<std::mutex> lock(created_mu_);
    if (catalog.version() >= created_version_) {  // pushes may arrive out of order
      created_version_ = catalog.version();
      created_group_ids_ = catalog.created_group_ids();
    }
  }
  if (loop_->OnLoopThread()) {
    // The catalog group's replica calls this as it applies a change, on the loop thread.
    core_->OnCatalog(catalog);
    catalog_version_.store(core_->routes().version(), std::memory_order_relaxed);
    return;
  }
  loop_->Post(
      [this, life = life_, catalog] {
        if (life->stopped) return;
        core_->OnCatalog(catalog);
        catalog_version_.store(core_->routes().version(), std::memory_order_relaxed);
      },
      nullptr);
}

uint64_t Coordinator::catalog_version() const {
  return catalog_version_.load(std::memory_order_relaxed);
}

CoordinatorStats Coordinator::stats() const {
  CoordinatorStats out;
  out.stale_route_refusals = stale_route_refusals_.load(std::memory_order_relaxed);
  out.route_refreshes = route_refreshes_.load(std::memory_order_relaxed);
  out.ownership_updates = ownership_updates_.load(std::memory_order_relaxed);
  return out;
}

bool Coordinator::RunInBackground(std::function<void()> task) {
  return fallback_->Run(std::move(task));
}

// ---------------------------------------------------------------------------------------
// Serving forwarded requests: run exactly this request on the local NodeHost.

absl::StatusOr<node::ClientReply> Coordinator::RunLocally(raft::GroupId group, node::OpKind kind,
                                                          const std::string& payload,
                                                          Deadline deadline) {
  auto promise = std::make_shared<std::promise<node::ClientReply>>();
  std::future<node::ClientReply> future = promise->get_future();
  node::ClientRequest request;
  request.group = group;
  request.kind = kind;
  request.value = payload;
  loop_->Submit(std::move(request),
                [promise](const node::ClientReply& reply) { promise->set_value(reply); });
  if (future.wait_until(deadline) != std::future_status::ready) {
    return absl::DeadlineExceededError(
        absl::StrCat("group ", group,
                     " did not answer before the deadline; a write may or may not have been "
                     "applied"));
  }
  return future.get();
}

internal::ForwardResponse Coordinator::ServeForwarded(const internal::ForwardRequest& request) {
  internal::ForwardResponse response;
  const node::OpKind kind = request.op_kind() != 0
                                ? static_cast<node::OpKind>(request.op_kind())
                                : (request.is_read() ? node::OpKind::kQuery : node::OpKind::kApply);
  if (kind != node::OpKind::kQuery && kind != node::OpKind::kApply &&
      kind != node::OpKind::kTimestamp && kind != node::OpKind::kConfChange &&
      kind != node::OpKind::kReplicaStatus && kind != node::OpKind::kTransferLeader &&
      kind != node::OpKind::kConfigurationAcknowledged) {
    response.set_status(static_cast<uint32_t>(node::ReplyStatus::kFailed));
    response.set_detail(absl::StrCat("forwarded request of unsupported kind ", request.op_kind()));
    return response;
  }
  absl::StatusOr<node::ClientReply> reply =
      RunLocally(request.group(), kind, request.payload(), NewDeadline());
  if (!reply.ok()) {
    response.set_status(static_cast<uint32_t>(node::ReplyStatus::kUnknown));
    response.set_detail(std::string(reply.status().message()));
    return response;
  }
  response.set_status(static_cast<uint32_t>(reply->status));
  if (reply->value.has_value()) response.set_payload(*reply->value);
  response.set_index(reply->index);
  response.set_leader_hint(reply->leader_hint);
  response.set_detail(reply->detail);
  response.set_timestamp(reply->timestamp);
  return response;
}

// ---------------------------------------------------------------------------------------
// The public API: each call is one core operation.

absl::StatusOr<WriteOutcome> Coordinator::RawPut(std::string key, std::string value) {
  return ToWrite(Wait([key = std::move(key), value = std::move(value)](coord::Coordinator& c) {
    return c.StartRawPut(key, value);
  }));
}

absl::StatusOr<WriteOutcome> Coordinator::RawDelete(std::string key) {
  return ToWrite(
      Wait([key = std::move(key)](coord::Coordinator& c) { return c.StartRawDelete(key); }));
}

absl::StatusOr<ReadOutcome> Coordinator::RawGet(std::string key, uint64_t ts) {
  return ToRead(
      Wait([key = std::move(key), ts](coord::Coordinator& c) { return c.StartRawGet(key, ts); }));
}

void Coordinator::RawPutAsync(std::string key, std::string value, WriteDone done) {
  Start([key = std::move(key),
         value = std::move(value)](coord::Coordinator& c) { return c.StartRawPut(key, value); },
        [done = std::move(done)](coord::OpResult result) { done(ToWrite(result)); });
}

void Coordinator::RawGetAsync(std::string key, ReadDone done) {
  Start([key = std::move(key)](coord::Coordinator& c) { return c.StartRawGet(key, 0); },
        [done = std::move(done)](coord::OpResult result) { done(ToRead(result)); });
}

absl::StatusOr<std::optional<uint64_t>> Coordinator::RawLatestCommitTs(std::string key) {
  coord::OpResult result =
      Wait([key = std::move(key)](coord::Coordinator& c) { return c.StartRawLatestCommitTs(key); });
  if (!result.status.ok()) return result.status;
  if (result.ts == 0) return std::optional<uint64_t>();
  return std::optional<uint64_t>(result.ts);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Coordinator::RawScan(
    std::string start, std::string end, int64_t limit, uint64_t ts) {
  coord::OpResult result =
      Wait([start = std::move(start), end = std::move(end), limit, ts](coord::Coordinator& c) {
        return c.StartRawScan(start, end, limit, ts);
      });
  if (!result.status.ok()) return result.status;
  return std::move(result.pairs);
}

absl::StatusOr<uint64_t> Coordinator::GetTimestamp() {
  coord::OpResult result = Wait([](coord::Coordinator& c) { return c.StartGetTimestamp(); });
  if (!result.status.ok()) return result.status;
  return result.ts;
}

absl::StatusOr<route::RouteCatalog> Coordinator::ReadCatalog() {
  coord::OpResult result = Wait([](coord::Coordinator& c) { return c.StartReadCatalog(); });
  if (!result.status.ok()) return result.status;
  EKV_ASSERT(result.catalog.has_value(), "a catalog read answered without a catalog");
  return *std::move(result.catalog);
}

absl::StatusOr<route::SplitResult> Coordinator::SplitRange(uint64_t expected_version,
                                                           uint64_t route_id,
                                                           std::string split_key) {
  coord::OpResult result =
      Wait([expected_version, route_id, split_key = std::move(split_key)](coord::Coordinator& c) {
        return c.StartSplitRange(expected_version, route_id, split_key);
      });
  if (!result.status.ok()) return result.status;
  EKV_ASSERT(result.split.has_value(), "a split answered without its routes");
  return *std::move(result.split);
}

absl::StatusOr<TxnOutcome> Coordinator::Prewrite(
    std::vector<std::pair<std::string, std::string>> mutations, uint64_t start_ts,
    uint64_t lock_ttl_ms) {
  coord::OpResult result =
      Wait([mutations = std::move(mutations), start_ts, lock_ttl_ms](coord::Coordinator& c) {
        return c.StartPrewrite(mutations, start_ts, lock_ttl_ms);
      });
  if (!result.status.ok()) return result.status;
  return TxnOutcome{result.index, ToKeyErrors(result.key_errors)};
}

absl::StatusOr<TxnOutcome> Coordinator::Commit(uint64_t start_ts, std::vector<std::string> keys) {
  coord::OpResult result = Wait([start_ts, keys = std::move(keys)](coord::Coordinator& c) {
    return c.StartCommit(start_ts, keys);
  });
  if (!result.status.ok()) return result.status;
  return TxnOutcome{result.index, ToKeyErrors(result.key_errors)};
}

absl::StatusOr<bool> Coordinator::Rollback(uint64_t start_ts) {
  coord::OpResult result =
      Wait([start_ts](coord::Coordinator& c) { return c.StartRollback(start_ts); });
  if (!result.status.ok()) return result.status;
  return result.applied;
}

absl::StatusOr<WriteOutcome> Coordinator::TxnPut(std::string key,
                                                 std::optional<std::string> value) {
  return ToWrite(Wait([key = std::move(key), value = std::move(value)](coord::Coordinator& c) {
    return c.StartTxnPut(key, value);
  }));
}

absl::StatusOr<ReadOutcome> Coordinator::TxnGet(std::string key) {
  return ToRead(
      Wait([key = std::move(key)](coord::Coordinator& c) { return c.StartTxnGet(key, 0); }));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Coordinator::TxnScan(
    std::string start, std::string end, uint64_t limit) {
  coord::OpResult result =
      Wait([start = std::move(start), end = std::move(end), limit](coord::Coordinator& c) {
        return c.StartTxnScan(start, end, limit, /*ts=*/0);
      });
  if (!result.status.ok()) return result.status;
  return std::move(result.pairs);
}

absl::StatusOr<CasOutcome> Coordinator::CompareAndSet(std::string key,
                                                      std::optional<std::string> expected,
                                                      std::optional<std::string> new_value) {
  coord::OpResult result =
      Wait([key = std::move(key), expected = std::move(expected), new_value = std::move(new_value)](
               coord::Coordinator& c) { return c.StartCompareAndSet(key, expected, new_value); });
  if (!result.status.ok()) return result.status;
  CasOutcome outcome;
  outcome.applied = result.applied;
  outcome.current = std::move(result.value);
  outcome.index = result.index;
  return outcome;
}

absl::StatusOr<GcPassOutcome> Coordinator::RunGcPass(raft::GroupId group, uint64_t safe_point,
                                                     const std::string& start_key,
                                                     uint64_t max_keys) {
  coord::OpResult result = Wait([group, safe_point, start_key, max_keys](coord::Coordinator& c) {
    return c.StartGcPass(group, safe_point, start_key, max_keys);
  });
  if (!result.status.ok()) return result.status;
  GcPassOutcome outcome;
  outcome.safe_point = result.ts;
  outcome.resume_key = std::move(result.value);
  return outcome;
}

absl::StatusOr<std::optional<std::string>> Coordinator::RunRedisCleanupPass(
    raft::GroupId group, const std::string& start_key, uint64_t max_records) {
  redis_core::CleanupPass pass;
  pass.start_key = start_key;
  pass.max_records = max_records;
  coord::OpResult result = Wait([group, pass](coord::Coordinator& c) {
    node::GroupCommand command;
    command.op = node::GroupCommandOp::kKv;
    command.payload = redis_core::EncodeCleanupPass(pass);
    return c.StartGroupCommand(group, std::move(command));
  });
  if (!result.status.ok()) return result.status;
  if (absl::Status status = result.group_result.status(); !status.ok()) return status;
  return std::move(result.group_result.value);
}

bool Coordinator::LeadsGroup(raft::GroupId group) const {
  return loop_->LeaderOf(group) == options_.node_id;
}

}  // namespace ekv::runtime
