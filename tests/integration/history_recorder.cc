#include "tests/integration/history_recorder.h"

#include <vector>

namespace ekv::integration {

using checkers::Operation;

Operation::Outcome WriteOutcomeOf(const grpc::Status& status) {
  if (status.ok()) return Operation::Outcome::kOk;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return Operation::Outcome::kFailed;
  }
  return Operation::Outcome::kUnknown;
}

Operation::Outcome ReadOutcomeOf(const grpc::Status& status) {
  return status.ok() ? Operation::Outcome::kOk : Operation::Outcome::kFailed;
}

uint64_t HistoryRecorder::BeginWrite(uint64_t client, const std::string& key,
                                     const std::string& value, uint64_t invoke_us) {
  std::lock_guard<std::mutex> lock(mu_);
  return history_.InvokeWrite(client, key, value, invoke_us);
}

void HistoryRecorder::EndWrite(uint64_t id, const grpc::Status& status, uint64_t complete_us) {
  std::lock_guard<std::mutex> lock(mu_);
  history_.Complete(id, WriteOutcomeOf(status), complete_us);
}

uint64_t HistoryRecorder::BeginRead(uint64_t client, const std::string& key, uint64_t invoke_us) {
  std::lock_guard<std::mutex> lock(mu_);
  return history_.InvokeRead(client, key, invoke_us);
}

void HistoryRecorder::EndRead(uint64_t id, const grpc::Status& status, bool exists,
                              const std::string& value, uint64_t complete_us) {
  std::lock_guard<std::mutex> lock(mu_);
  const Operation::Outcome outcome = ReadOutcomeOf(status);
  std::optional<std::string> read_value;
  if (outcome == Operation::Outcome::kOk && exists) read_value = value;
  history_.Complete(id, outcome, complete_us, read_value);
}

checkers::History HistoryRecorder::history() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history_;
}

size_t HistoryRecorder::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history_.size();
}

std::optional<checkers::History> WithInjectedStaleRead(const checkers::History& history) {
  // Find ok writes old -> newer on one key with old completing before newer was invoked:
  // every linearization puts old before newer, so a read invoked after newer completed can
  // never return old's value (values are unique per write).
  const std::vector<Operation>& ops = history.operations();
  uint64_t max_time = 0;
  uint64_t max_id = 0;
  for (const Operation& op : ops) {
    max_id = std::max(max_id, op.id);
    max_time = std::max(max_time, op.invoke_time);
    if (op.completed()) max_time = std::max(max_time, op.complete_time);
  }
  for (const Operation& newer : ops) {
    if (newer.kind != Operation::Kind::kWrite || newer.outcome != Operation::Outcome::kOk) {
      continue;
    }
    for (const Operation& old : ops) {
      if (old.kind != Operation::Kind::kWrite || old.outcome != Operation::Outcome::kOk ||
          old.key != newer.key || old.value == newer.value ||
          old.complete_time >= newer.invoke_time) {
        continue;
      }
      std::vector<Operation> doctored = ops;
      Operation stale;
      stale.id = max_id + 1;
      stale.client = 1'000'000;
      stale.kind = Operation::Kind::kRead;
      stale.key = old.key;
      stale.value = old.value;
      stale.invoke_time = max_time + 1;
      stale.complete_time = max_time + 2;
      stale.outcome = Operation::Outcome::kOk;
      doctored.push_back(stale);
      absl::StatusOr<checkers::History> built = checkers::History::FromOperations(doctored);
      if (!built.ok()) return std::nullopt;
      return *built;
    }
  }
  return std::nullopt;
}

}  // namespace ekv::integration
