#include "adapters/dynamo/coordinator_backend.h"

#include <chrono>
#include <future>
#include <memory>

#include "absl/strings/str_cat.h"

#include "core/coord/coordinator.h"
#include "core/kv/kv_command.h"
#include "runtime/server/coordinator.h"

namespace ekv::dynamo {
namespace {

// Longer than a move's own deadlines (coord::CoordinatorOptions: 30 s to the cut-over, 60 s
// more to finish): the move answers first unless the node stopped.
constexpr std::chrono::seconds kMoveWait{100};

}  // namespace

absl::StatusOr<std::optional<std::string>> CoordinatorBackend::Get(const std::string& key) {
  absl::StatusOr<runtime::ReadOutcome> read = coordinator_->RawGet(key, /*ts=*/0);
  if (!read.ok()) return read.status();
  return std::move(read->value);
}

absl::Status CoordinatorBackend::Put(const std::string& key, const std::string& value) {
  return coordinator_->RawPut(key, value).status();
}

absl::Status CoordinatorBackend::Delete(const std::string& key) {
  return coordinator_->RawDelete(key).status();
}

absl::StatusOr<DynamoBackend::CasResult> CoordinatorBackend::CompareAndSet(
    const std::string& key, const std::optional<std::string>& expected,
    const std::optional<std::string>& new_value) {
  absl::StatusOr<runtime::CasOutcome> outcome =
      coordinator_->CompareAndSet(key, expected, new_value);
  if (!outcome.ok()) return outcome.status();
  return CasResult{outcome->applied, std::move(outcome->current)};
}

absl::StatusOr<DynamoBackend::KvPairs> CoordinatorBackend::Scan(const std::string& start,
                                                                const std::string& end,
                                                                size_t limit) {
  return coordinator_->RawScan(start, end, static_cast<int64_t>(limit), /*ts=*/0);
}

absl::StatusOr<uint64_t> CoordinatorBackend::NewTableId() {
  // Hybrid-logical-clock timestamps from the catalog group are unique and increasing
  // across nodes, leader changes and restarts (REFERENCE §3).
  return coordinator_->GetTimestamp();
}

absl::StatusOr<uint64_t> CoordinatorBackend::ReadTimestamp() {
  return coordinator_->GetTimestamp();
}

absl::StatusOr<std::optional<std::string>> CoordinatorBackend::SnapshotGet(const std::string& key,
                                                                           uint64_t ts) {
  if (ts == 0) return absl::InvalidArgumentError("a snapshot read needs a timestamp");
  coord::OpResult result = coordinator_->RunBlocking(
      [key, ts](coord::Coordinator& c) { return c.StartTxnGet(key, ts); });
  if (!result.status.ok()) return result.status;
  return std::move(result.value);
}

absl::StatusOr<DynamoBackend::KvPairs> CoordinatorBackend::SnapshotScan(const std::string& start,
                                                                        const std::string& end,
                                                                        size_t limit, uint64_t ts) {
  if (ts == 0) return absl::InvalidArgumentError("a snapshot scan needs a timestamp");
  coord::OpResult result =
      coordinator_->RunBlocking([start, end, limit, ts](coord::Coordinator& c) {
        return c.StartTxnScan(start, end, limit, ts);
      });
  if (!result.status.ok()) return result.status;
  return std::move(result.pairs);
}

absl::StatusOr<DynamoBackend::CommitResult> CoordinatorBackend::CommitTransaction(
    const std::vector<TxnWrite>& writes, uint64_t start_ts) {
  std::vector<kv::Mutation> mutations;
  mutations.reserve(writes.size());
  for (const auto& [key, value] : writes) {
    mutations.push_back(value.has_value() ? kv::Mutation::Put(key, *value)
                                          : kv::Mutation::Delete(key));
  }
  coord::OpResult result = coordinator_->RunBlocking(
      [mutations = std::move(mutations), start_ts](coord::Coordinator& c) mutable {
        return c.StartCommitTransaction(std::move(mutations), start_ts);
      });
  if (result.status.ok()) return CommitResult{true, {}};
  // Aborted / FailedPrecondition: core says the transaction did not commit (a write
  // conflict or another transaction's lock); anything else (outcome unknown, no leader,
  // deadline) is the store's error.
  if (result.status.code() != absl::StatusCode::kAborted &&
      result.status.code() != absl::StatusCode::kFailedPrecondition) {
    return result.status;
  }
  CommitResult refused;
  for (const coord::KeyErrorOutcome& error : result.key_errors) {
    refused.conflict_keys.push_back(error.key);
  }
  return refused;
}

absl::StatusOr<DynamoBackend::Routes> CoordinatorBackend::ReadRoutes() {
  coord::OpResult result =
      coordinator_->RunBlocking([](coord::Coordinator& c) { return c.StartReadCatalog(); });
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

absl::Status CoordinatorBackend::SplitRoute(uint64_t expected_version, uint64_t route_id,
                                            const std::string& split_key) {
  return coordinator_
      ->RunBlocking([expected_version, route_id, split_key](coord::Coordinator& c) {
        return c.StartSplitRange(expected_version, route_id, split_key);
      })
      .status;
}

absl::Status CoordinatorBackend::MoveRoute(const std::string& key, uint64_t target_group) {
  coord::MoveRangeSpec spec;
  spec.key = key;
  spec.target_group = target_group;
  // A move outlives RunBlocking's request-timeout wait (it has its own deadlines, up to the
  // cut-over and then to finish), so it is awaited here for as long as those allow.
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> future = promise->get_future();
  coordinator_->RunAsync(
      [spec = std::move(spec)](coord::Coordinator& c) mutable {
        return c.StartMoveRange(std::move(spec));
      },
      [promise](coord::OpResult result) { promise->set_value(std::move(result.status)); });
  if (future.wait_for(kMoveWait) != std::future_status::ready) {
    return absl::DeadlineExceededError(
        absl::StrCat("moving the route holding a new table's keys to group ", target_group,
                     " did not finish in ", kMoveWait.count(), " s"));
  }
  return future.get();
}

}  // namespace ekv::dynamo
