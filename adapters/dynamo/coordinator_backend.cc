#include "adapters/dynamo/coordinator_backend.h"

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

}  // namespace ekv::dynamo
