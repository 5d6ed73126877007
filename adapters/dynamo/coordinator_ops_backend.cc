#include "adapters/dynamo/coordinator_ops_backend.h"

#include <coroutine>
#include <utility>

#include "absl/strings/match.h"

#include "core/kv/kv_command.h"
#include "core/route/catalog.h"
#include "core/util/assert.h"

namespace ekv::dynamo {

// Awaiting one coordinator op. Single-threaded: the answer comes either inside Launch
// (await_suspend then answers false and the caller goes on without suspending) or later,
// once, from the driver's event loop, which resumes the caller.
class CoordinatorOpsBackend::OpAwaiter {
 public:
  OpAwaiter(CoordinatorOpsBackend* backend, Start start, Patience patience)
      : backend_(backend), start_(std::move(start)), patience_(patience) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> caller) {
    backend_->Launch(std::move(start_), patience_, [this, caller](coord::OpResult result) {
      EKV_ASSERT(!result_.has_value(), "a coordinator op answered twice");
      result_ = std::move(result);
      // After resume() the caller may have ended and freed this awaiter: touch nothing.
      if (suspended_) caller.resume();
    });
    if (result_.has_value()) return false;
    suspended_ = true;
    return true;
  }
  coord::OpResult await_resume() { return std::move(*result_); }

 private:
  CoordinatorOpsBackend* backend_;
  Start start_;
  Patience patience_;
  bool suspended_ = false;
  std::optional<coord::OpResult> result_;
};

CoordinatorOpsBackend::OpAwaiter CoordinatorOpsBackend::Run(Start start, Patience patience) {
  return OpAwaiter(this, std::move(start), patience);
}

Task<absl::StatusOr<std::optional<std::string>>> CoordinatorOpsBackend::Get(
    const std::string& key) {
  // (Named, not a temporary of the co_await: g++ 12 destroys such a closure twice.)
  Start op = [key](coord::Coordinator& c) { return c.StartRawGet(key, /*ts=*/0); };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (!result.status.ok()) co_return result.status;
  co_return std::move(result.value);
}

Task<absl::Status> CoordinatorOpsBackend::Put(const std::string& key, const std::string& value) {
  Start op = [key, value](coord::Coordinator& c) { return c.StartRawPut(key, value); };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  co_return result.status;
}

Task<absl::Status> CoordinatorOpsBackend::Delete(const std::string& key) {
  Start op = [key](coord::Coordinator& c) { return c.StartRawDelete(key); };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  co_return result.status;
}

Task<absl::StatusOr<DynamoBackend::CasResult>> CoordinatorOpsBackend::CompareAndSet(
    const std::string& key, const std::optional<std::string>& expected,
    const std::optional<std::string>& new_value) {
  Start op = [key, expected, new_value](coord::Coordinator& c) {
    return c.StartCompareAndSet(key, expected, new_value);
  };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (!result.status.ok()) co_return result.status;
  co_return CasResult{result.applied, std::move(result.value)};
}

Task<absl::StatusOr<DynamoBackend::KvPairs>> CoordinatorOpsBackend::Scan(const std::string& start,
                                                                         const std::string& end,
                                                                         size_t limit) {
  Start op = [start, end, limit](coord::Coordinator& c) {
    return c.StartRawScan(start, end, static_cast<int64_t>(limit), /*ts=*/0);
  };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (!result.status.ok()) co_return result.status;
  co_return std::move(result.pairs);
}

Task<absl::StatusOr<uint64_t>> CoordinatorOpsBackend::NewTableId() {
  // Hybrid-logical-clock timestamps from the catalog group are unique and increasing
  // across nodes, leader changes and restarts (REFERENCE §3).
  absl::StatusOr<uint64_t> id = co_await ReadTimestamp(0);
  co_return id;
}

Task<absl::StatusOr<uint64_t>> CoordinatorOpsBackend::ReadTimestamp(uint64_t at_least) {
  Start op = [at_least](coord::Coordinator& c) { return c.StartGetTimestamp(at_least); };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (!result.status.ok()) co_return result.status;
  co_return result.ts;
}

Task<absl::StatusOr<std::optional<std::string>>> CoordinatorOpsBackend::SnapshotGet(
    const std::string& key, uint64_t ts) {
  if (ts == 0) co_return absl::InvalidArgumentError("a snapshot read needs a timestamp");
  Start op = [key, ts](coord::Coordinator& c) { return c.StartTxnGet(key, ts); };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (!result.status.ok()) co_return result.status;
  co_return std::move(result.value);
}

Task<absl::StatusOr<DynamoBackend::KvPairs>> CoordinatorOpsBackend::SnapshotScan(
    const std::string& start, const std::string& end, size_t limit, uint64_t ts, bool reverse) {
  if (ts == 0) co_return absl::InvalidArgumentError("a snapshot scan needs a timestamp");
  Start op = [start, end, limit, ts, reverse](coord::Coordinator& c) {
    return c.StartTxnScan(start, end, limit, ts, reverse);
  };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (!result.status.ok()) co_return result.status;
  co_return std::move(result.pairs);
}

Task<absl::StatusOr<DynamoBackend::CommitResult>> CoordinatorOpsBackend::CommitTransaction(
    const std::vector<TxnWrite>& writes, uint64_t start_ts) {
  std::vector<kv::Mutation> mutations;
  mutations.reserve(writes.size());
  for (const auto& [key, value] : writes) {
    mutations.push_back(value.has_value() ? kv::Mutation::Put(key, *value)
                                          : kv::Mutation::Delete(key));
  }
  Start op = [mutations = std::move(mutations), start_ts](coord::Coordinator& c) {
    return c.StartCommitTransaction(mutations, start_ts);
  };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (result.status.ok()) co_return CommitResult{true, {}};
  // Refused: core says the transaction did not commit -- Aborted (a write conflict, a
  // rollback), FailedPrecondition, or any error naming the keys in the way that is not
  // "outcome unknown": another transaction's lock is KeyIsLocked, retryable, so it comes
  // as Unavailable with its key errors (kv::KeyErrorStatus; kv::TxnOutcome: every status
  // but "outcome unknown" means not committed). Anything else (outcome unknown, no
  // leader, deadline) is the store's error. (The simulator's dynamo workload found locks
  // answered as 500s: a single-item write gave up instead of deciding again, and
  // TransactWriteItems answered InternalServerError instead of TransactionConflict.)
  const bool not_committed = result.status.code() == absl::StatusCode::kAborted ||
                             result.status.code() == absl::StatusCode::kFailedPrecondition ||
                             (!result.key_errors.empty() &&
                              !absl::StrContains(result.status.message(), "outcome unknown"));
  if (!not_committed) co_return result.status;
  CommitResult refused;
  for (const coord::KeyErrorOutcome& error : result.key_errors) {
    refused.conflict_keys.push_back(error.key);
  }
  co_return refused;
}

Task<absl::StatusOr<DynamoBackend::Routes>> CoordinatorOpsBackend::ReadRoutes() {
  Start op = [](coord::Coordinator& c) { return c.StartReadCatalog(); };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  if (!result.status.ok()) co_return result.status;
  if (!result.catalog.has_value())
    co_return absl::InternalError("catalog read answered no catalog");
  Routes routes;
  routes.version = result.catalog->version();
  result.catalog->ForEachRoute([&](const route::RouteDescriptor& route) {
    routes.routes.push_back({route.route_id, route.start, route.end, route.raft_group_id,
                             route.state == route::RouteState::kActive});
  });
  co_return routes;
}

Task<absl::Status> CoordinatorOpsBackend::SplitRoute(uint64_t expected_version, uint64_t route_id,
                                                     const std::string& split_key) {
  Start op = [expected_version, route_id, split_key](coord::Coordinator& c) {
    return c.StartSplitRange(expected_version, route_id, split_key);
  };
  coord::OpResult result = co_await Run(std::move(op), Patience::kRequest);
  co_return result.status;
}

Task<absl::Status> CoordinatorOpsBackend::MoveRoute(const std::string& key, uint64_t target_group) {
  coord::MoveRangeSpec spec;
  spec.key = key;
  spec.target_group = target_group;
  Start op = [spec](coord::Coordinator& c) { return c.StartMoveRange(spec); };
  coord::OpResult result = co_await Run(std::move(op), Patience::kMove);
  co_return result.status;
}

}  // namespace ekv::dynamo
