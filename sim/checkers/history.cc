#include "sim/checkers/history.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::checkers {
namespace {

std::string FormatValue(const std::optional<std::string>& value) {
  if (!value.has_value()) return "nil";
  return absl::StrCat("\"", absl::CEscape(*value), "\"");
}

// The fields an operation of each kind may carry; a violation means the recorder mixed up
// kinds, and a checker fed such an operation would judge something nobody executed.
absl::Status ValidateShape(const Operation& operation) {
  if (operation.kind != Operation::Kind::kCas && operation.expected.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("operation #", operation.id, " is a ", KindName(operation.kind),
                     " but carries a CAS expected value; only cas operations may"));
  }
  if (operation.kind == Operation::Kind::kRead && operation.value.has_value() &&
      operation.outcome != Operation::Outcome::kOk) {
    return absl::InvalidArgumentError(absl::StrCat("read #", operation.id, " has outcome ",
                                                   OutcomeName(operation.outcome),
                                                   " but carries a result; only ok reads may"));
  }
  if (operation.completed() && operation.complete_time < operation.invoke_time) {
    return absl::InvalidArgumentError(
        absl::StrCat("operation #", operation.id, " completes at ", operation.complete_time,
                     " before its invocation at ", operation.invoke_time));
  }
  if (!operation.completed() && operation.outcome != Operation::Outcome::kUnknown) {
    return absl::InvalidArgumentError(
        absl::StrCat("operation #", operation.id, " never completed but has outcome ",
                     OutcomeName(operation.outcome), "; expected unknown"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view KindName(Operation::Kind kind) {
  switch (kind) {
    case Operation::Kind::kRead:
      return "read";
    case Operation::Kind::kWrite:
      return "write";
    case Operation::Kind::kCas:
      return "cas";
  }
  EKV_UNREACHABLE("unknown Operation::Kind ", static_cast<int>(kind));
}

absl::string_view OutcomeName(Operation::Outcome outcome) {
  switch (outcome) {
    case Operation::Outcome::kOk:
      return "ok";
    case Operation::Outcome::kFailed:
      return "failed";
    case Operation::Outcome::kUnknown:
      return "unknown";
  }
  EKV_UNREACHABLE("unknown Operation::Outcome ", static_cast<int>(outcome));
}

std::string FormatOperation(const Operation& operation) {
  std::string text =
      absl::StrCat("#", operation.id, " c", operation.client, " ", KindName(operation.kind),
                   " k=\"", absl::CEscape(operation.key), "\" ");
  switch (operation.kind) {
    case Operation::Kind::kRead:
      absl::StrAppend(
          &text, "-> ",
          operation.outcome == Operation::Outcome::kOk ? FormatValue(operation.value) : "?");
      break;
    case Operation::Kind::kWrite:
      absl::StrAppend(&text, FormatValue(operation.value));
      break;
    case Operation::Kind::kCas:
      absl::StrAppend(&text, FormatValue(operation.expected), "->", FormatValue(operation.value));
      break;
  }
  absl::StrAppend(&text, " [", operation.invoke_time, ",");
  if (operation.completed()) {
    absl::StrAppend(&text, operation.complete_time, "]");
  } else {
    absl::StrAppend(&text, "inf)");
  }
  absl::StrAppend(&text, " ", OutcomeName(operation.outcome));
  return text;
}

absl::StatusOr<History> History::FromOperations(std::vector<Operation> operations) {
  History history;
  for (Operation& operation : operations) {
    if (absl::Status status = ValidateShape(operation); !status.ok()) return status;
    if (history.index_by_id_.contains(operation.id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate operation id #", operation.id, "; ids must be unique"));
    }
    history.Append(std::move(operation));
  }
  return history;
}

uint64_t History::Append(Operation operation) {
  EKV_ASSERT(!index_by_id_.contains(operation.id), "operation id #", operation.id,
             " recorded twice");
  const uint64_t id = operation.id;
  next_id_ = std::max(next_id_, id + 1);
  index_by_id_.emplace(id, operations_.size());
  operations_.push_back(std::move(operation));
  return id;
}

uint64_t History::InvokeRead(uint64_t client, absl::string_view key, uint64_t invoke_time) {
  Operation operation;
  operation.id = next_id_;
  operation.client = client;
  operation.kind = Operation::Kind::kRead;
  operation.key = std::string(key);
  operation.invoke_time = invoke_time;
  return Append(std::move(operation));
}

uint64_t History::InvokeWrite(uint64_t client, absl::string_view key,
                              std::optional<std::string> value, uint64_t invoke_time) {
  Operation operation;
  operation.id = next_id_;
  operation.client = client;
  operation.kind = Operation::Kind::kWrite;
  operation.key = std::string(key);
  operation.value = std::move(value);
  operation.invoke_time = invoke_time;
  return Append(std::move(operation));
}

uint64_t History::InvokeCas(uint64_t client, absl::string_view key,
                            std::optional<std::string> expected,
                            std::optional<std::string> new_value, uint64_t invoke_time) {
  Operation operation;
  operation.id = next_id_;
  operation.client = client;
  operation.kind = Operation::Kind::kCas;
  operation.key = std::string(key);
  operation.value = std::move(new_value);
  operation.expected = std::move(expected);
  operation.invoke_time = invoke_time;
  return Append(std::move(operation));
}

void History::Complete(uint64_t id, Operation::Outcome outcome, uint64_t complete_time,
                       std::optional<std::string> read_value) {
  auto it = index_by_id_.find(id);
  EKV_ASSERT(it != index_by_id_.end(), "Complete of unknown operation id #", id);
  Operation& operation = operations_[it->second];
  EKV_ASSERT(!operation.completed(), "operation #", id, " completed twice");
  EKV_ASSERT(complete_time != Operation::kNotCompleted, "completion time of #", id,
             " is the reserved not-completed marker");
  EKV_ASSERT(complete_time >= operation.invoke_time, "operation #", id, " completes at ",
             complete_time, " before its invocation at ", operation.invoke_time);
  const bool carries_read_result =
      operation.kind == Operation::Kind::kRead && outcome == Operation::Outcome::kOk;
  EKV_ASSERT(carries_read_result || !read_value.has_value(), "operation #", id,
             " is not an ok read but was completed with a read value");
  operation.outcome = outcome;
  operation.complete_time = complete_time;
  if (carries_read_result) operation.value = std::move(read_value);
}

const Operation& History::operation(uint64_t id) const {
  auto it = index_by_id_.find(id);
  EKV_ASSERT(it != index_by_id_.end(), "unknown operation id #", id);
  return operations_[it->second];
}

std::string History::ToString() const {
  std::vector<const Operation*> ordered;
  ordered.reserve(operations_.size());
  for (const Operation& operation : operations_) ordered.push_back(&operation);
  std::sort(ordered.begin(), ordered.end(), [](const Operation* a, const Operation* b) {
    return std::pair(a->invoke_time, a->id) < std::pair(b->invoke_time, b->id);
  });
  std::string text;
  for (const Operation* operation : ordered) {
    absl::StrAppend(&text, FormatOperation(*operation), "\n");
  }
  return text;
}

}  // namespace ekv::checkers
