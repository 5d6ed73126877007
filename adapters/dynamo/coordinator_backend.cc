#include "adapters/dynamo/coordinator_backend.h"

#include "core/coord/coordinator.h"
#include "core/kv/kv_command.h"
#include "runtime/server/coordinator.h"

namespace ekv::dynamo {

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

}  // namespace ekv::dynamo
