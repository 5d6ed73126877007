#include "adapters/dynamo/coordinator_ops_backend.h"

#include <utility>

#include "absl/strings/match.h"

#include "core/kv/kv_command.h"
#include "core/route/catalog.h"

namespace ekv::dynamo {

absl::StatusOr<std::optional<std::string>> CoordinatorOpsBackend::Get(const std::string& key) {
  coord::OpResult result = Run(
      [key](coord::Coordinator& c) { return c.StartRawGet(key, /*ts=*/0); }, Patience::kRequest);
  if (!result.status.ok()) return result.status;
  return std::move(result.value);
}

absl::Status CoordinatorOpsBackend::Put(const std::string& key, const std::string& value) {
  return Run([key, value](coord::Coordinator& c) { return c.StartRawPut(key, value); },
             Patience::kRequest)
      .status;
}

absl::Status CoordinatorOpsBackend::Delete(const std::string& key) {
  return Run([key](coord::Coordinator& c) { return c.StartRawDelete(key); }, Patience::kRequest)
      .status;
}

absl::StatusOr<DynamoBackend::CasResult> CoordinatorOpsBackend::CompareAndSet(
    const std::string& key, const std::optional<std::string>& expected,
    const std::optional<std::string>& new_value) {
  coord::OpResult result =
      Run([key, expected, new_value](
              coord::Coordinator& c) { return c.StartCompareAndSet(key, expected, new_value); },
          Patience::kRequest);
  if (!result.status.ok()) return result.status;
  return CasResult{result.applied, std::move(result.value)};
}

absl::StatusOr<DynamoBackend::KvPairs> CoordinatorOpsBackend::Scan(const std::string& start,
                                                                   const std::string& end,
                                                                   size_t limit) {
  coord::OpResult result = Run(
      [start, end, limit](coord::Coordinator& c) {
        return c.StartRawScan(start, end, static_cast<int64_t>(limit), /*ts=*/0);
      },
      Patience::kRequest);
  if (!result.status.ok()) return result.status;
  return std::move(result.pairs);
}

absl::StatusOr<uint64_t> CoordinatorOpsBackend::NewTableId() {
  // Hybrid-logical-clock timestamps from the catalog group are unique and increasing
  // across nodes, leader changes and restarts (REFERENCE §3).
  return ReadTimestamp();
}

absl::StatusOr<uint64_t> CoordinatorOpsBackend::ReadTimestamp() {
  coord::OpResult result =
      Run([](coord::Coordinator& c) { return c.StartGetTimestamp(); }, Patience::kRequest);
  if (!result.status.ok()) return result.status;
  return result.ts;
}

absl::StatusOr<std::optional<std::string>> CoordinatorOpsBackend::SnapshotGet(
    const std::string& key, uint64_t ts) {
  if (ts == 0) return absl::InvalidArgumentError("a snapshot read needs a timestamp");
  coord::OpResult result =
      Run([key, ts](coord::Coordinator& c) { return c.StartTxnGet(key, ts); }, Patience::kRequest);
  if (!result.status.ok()) return result.status;
  return std::move(result.value);
}

absl::StatusOr<DynamoBackend::KvPairs> CoordinatorOpsBackend::SnapshotScan(const std::string& start,
                                                                           const std::string& end,
                                                                           size_t limit,
                                                                           uint64_t ts) {
  if (ts == 0) return absl::InvalidArgumentError("a snapshot scan needs a timestamp");
  coord::OpResult result =
      Run([start, end, limit,
           ts](coord::Coordinator& c) { return c.StartTxnScan(start, end, limit, ts); },
          Patience::kRequest);
  if (!result.status.ok()) return result.status;
  return std::move(result.pairs);
}

absl::StatusOr<DynamoBackend::CommitResult> CoordinatorOpsBackend::CommitTransaction(
    const std::vector<TxnWrite>& writes, uint64_t start_ts) {
  std::vector<kv::Mutation> mutations;
  mutations.reserve(writes.size());
  for (const auto& [key, value] : writes) {
    mutations.push_back(value.has_value() ? kv::Mutation::Put(key, *value)
                                          : kv::Mutation::Delete(key));
  }
  coord::OpResult result =
      Run([mutations = std::move(mutations), start_ts](
              coord::Coordinator& c) { return c.StartCommitTransaction(mutations, start_ts); },
          Patience::kRequest);
  if (result.status.ok()) return CommitResult{true, {}};
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
  if (!not_committed) return result.status;
  CommitResult refused;
  for (const coord::KeyErrorOutcome& error : result.key_errors) {
    refused.conflict_keys.push_back(error.key);
  }
  return refused;
}

absl::StatusOr<DynamoBackend::Routes> CoordinatorOpsBackend::ReadRoutes() {
  coord::OpResult result =
      Run([](coord::Coordinator& c) { return c.StartReadCatalog(); }, Patience::kRequest);
  if (!result.status.ok()) return result.status;
  if (!result.catalog.has_value()) return absl::InternalError("catalog read answered no catalog");
  Routes routes;
  routes.version = result.catalog->version();
  result.catalog->ForEachRoute([&](const route::RouteDescriptor& route) {
    routes.routes.push_back({route.route_id, route.start, route.end, route.raft_group_id,
                             route.state == route::RouteState::kActive});
  });
  return routes;
}

absl::Status CoordinatorOpsBackend::SplitRoute(uint64_t expected_version, uint64_t route_id,
                                               const std::string& split_key) {
  return Run(
             [expected_version, route_id, split_key](coord::Coordinator& c) {
               return c.StartSplitRange(expected_version, route_id, split_key);
             },
             Patience::kRequest)
      .status;
}

absl::Status CoordinatorOpsBackend::MoveRoute(const std::string& key, uint64_t target_group) {
  coord::MoveRangeSpec spec;
  spec.key = key;
  spec.target_group = target_group;
  return Run([spec](coord::Coordinator& c) { return c.StartMoveRange(spec); }, Patience::kMove)
      .status;
}

}  // namespace ekv::dynamo
