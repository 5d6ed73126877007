#include "sim/checkers/txn_history.h"

#include <algorithm>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/assert.h"

namespace ekv::checkers {
namespace {

// The fields a transaction may carry given its outcome and times; a violation means the
// recorder mixed something up, and a checker fed it would judge something nobody ran.
absl::Status ValidateShape(const Transaction& transaction) {
  const bool committed = transaction.outcome == Transaction::Outcome::kCommitted;
  for (const MicroOp& op : transaction.ops) {
    if (op.kind == MicroOp::Kind::kAppend && op.read_result.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("transaction T", transaction.id, " has an append carrying a read result"));
    }
    if (op.kind == MicroOp::Kind::kRead && committed && !op.read_result.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("committed transaction T", transaction.id, " has a read of \"",
                       absl::CEscape(op.key), "\" without a result; committed reads need one"));
    }
    if (op.kind == MicroOp::Kind::kRead && !committed && op.read_result.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("transaction T", transaction.id, " is ",
                                                     TxnOutcomeName(transaction.outcome),
                                                     " but its read of \"", absl::CEscape(op.key),
                                                     "\" carries a result; only committed "
                                                     "transactions may"));
    }
  }
  if (transaction.completed() && transaction.complete_time < transaction.invoke_time) {
    return absl::InvalidArgumentError(
        absl::StrCat("transaction T", transaction.id, " completes at ", transaction.complete_time,
                     " before its invocation at ", transaction.invoke_time));
  }
  if (!transaction.completed() && transaction.outcome != Transaction::Outcome::kUnknown) {
    return absl::InvalidArgumentError(
        absl::StrCat("transaction T", transaction.id, " never completed but has outcome ",
                     TxnOutcomeName(transaction.outcome), "; expected unknown"));
  }
  return absl::OkStatus();
}

}  // namespace

MicroOp MicroOp::Append(absl::string_view key, int64_t value) {
  MicroOp op;
  op.kind = Kind::kAppend;
  op.key = std::string(key);
  op.value = value;
  return op;
}

MicroOp MicroOp::Read(absl::string_view key, std::optional<std::vector<int64_t>> read_result) {
  MicroOp op;
  op.kind = Kind::kRead;
  op.key = std::string(key);
  op.read_result = std::move(read_result);
  return op;
}

absl::string_view TxnOutcomeName(Transaction::Outcome outcome) {
  switch (outcome) {
    case Transaction::Outcome::kCommitted:
      return "committed";
    case Transaction::Outcome::kAborted:
      return "aborted";
    case Transaction::Outcome::kUnknown:
      return "unknown";
  }
  EKV_UNREACHABLE("unknown Transaction::Outcome ", static_cast<int>(outcome));
}

std::string FormatMicroOp(const MicroOp& op) {
  switch (op.kind) {
    case MicroOp::Kind::kAppend:
      return absl::StrCat("a ", absl::CEscape(op.key), " ", op.value);
    case MicroOp::Kind::kRead:
      if (!op.read_result.has_value()) return absl::StrCat("r ", absl::CEscape(op.key), " ?");
      return absl::StrCat("r ", absl::CEscape(op.key), " [", absl::StrJoin(*op.read_result, " "),
                          "]");
  }
  EKV_UNREACHABLE("unknown MicroOp::Kind ", static_cast<int>(op.kind));
}

std::string FormatTransaction(const Transaction& transaction) {
  std::string text = absl::StrCat("T", transaction.id, " c", transaction.client, " [",
                                  transaction.invoke_time, ",");
  if (transaction.completed()) {
    absl::StrAppend(&text, transaction.complete_time, "]");
  } else {
    absl::StrAppend(&text, "inf)");
  }
  absl::StrAppend(&text, " ", TxnOutcomeName(transaction.outcome), ":");
  for (size_t i = 0; i < transaction.ops.size(); ++i) {
    absl::StrAppend(&text, i == 0 ? " " : ", ", FormatMicroOp(transaction.ops[i]));
  }
  return text;
}

absl::StatusOr<TxnHistory> TxnHistory::FromTransactions(std::vector<Transaction> transactions) {
  TxnHistory history;
  for (Transaction& transaction : transactions) {
    if (absl::Status status = ValidateShape(transaction); !status.ok()) return status;
    if (history.index_by_id_.contains(transaction.id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate transaction id T", transaction.id, "; ids must be unique"));
    }
    for (const MicroOp& op : transaction.ops) {
      if (op.kind == MicroOp::Kind::kAppend && history.appended_.contains({op.key, op.value})) {
        return absl::InvalidArgumentError(
            absl::StrCat("value ", op.value, " is appended to \"", absl::CEscape(op.key),
                         "\" more than once (again by T", transaction.id,
                         "); list-append needs unique values per key"));
      }
    }
    history.Append(std::move(transaction));
  }
  return history;
}

uint64_t TxnHistory::Append(Transaction transaction) {
  EKV_ASSERT(!index_by_id_.contains(transaction.id), "transaction id T", transaction.id,
             " recorded twice");
  for (const MicroOp& op : transaction.ops) {
    if (op.kind != MicroOp::Kind::kAppend) continue;
    const bool inserted = appended_.emplace(op.key, op.value).second;
    EKV_ASSERT(inserted, "value ", op.value, " appended to \"", absl::CEscape(op.key),
               "\" twice (again by T", transaction.id, "); list-append needs unique values");
  }
  const uint64_t id = transaction.id;
  next_id_ = std::max(next_id_, id + 1);
  index_by_id_.emplace(id, transactions_.size());
  transactions_.push_back(std::move(transaction));
  return id;
}

uint64_t TxnHistory::Invoke(uint64_t client, std::vector<MicroOp> ops, uint64_t invoke_time) {
  for (const MicroOp& op : ops) {
    EKV_ASSERT(!op.read_result.has_value(), "an invoked transaction's ops carry no results");
  }
  Transaction transaction;
  transaction.id = next_id_;
  transaction.client = client;
  transaction.ops = std::move(ops);
  transaction.invoke_time = invoke_time;
  return Append(std::move(transaction));
}

void TxnHistory::Complete(uint64_t id, Transaction::Outcome outcome, uint64_t complete_time,
                          std::vector<std::vector<int64_t>> read_results) {
  auto it = index_by_id_.find(id);
  EKV_ASSERT(it != index_by_id_.end(), "Complete of unknown transaction T", id);
  Transaction& transaction = transactions_[it->second];
  EKV_ASSERT(!transaction.completed(), "transaction T", id, " completed twice");
  EKV_ASSERT(complete_time != Transaction::kNotCompleted, "completion time of T", id,
             " is the reserved not-completed marker");
  EKV_ASSERT(complete_time >= transaction.invoke_time, "transaction T", id, " completes at ",
             complete_time, " before its invocation at ", transaction.invoke_time);
  const size_t reads =
      std::count_if(transaction.ops.begin(), transaction.ops.end(),
                    [](const MicroOp& op) { return op.kind == MicroOp::Kind::kRead; });
  if (outcome == Transaction::Outcome::kCommitted) {
    EKV_ASSERT(read_results.size() == reads, "committed T", id, " has ", reads,
               " reads but completed with ", read_results.size(), " results");
  } else {
    EKV_ASSERT(read_results.empty(), "T", id, " did not commit but completed with read results");
  }
  size_t next_result = 0;
  for (MicroOp& op : transaction.ops) {
    if (op.kind == MicroOp::Kind::kRead && !read_results.empty()) {
      op.read_result = std::move(read_results[next_result++]);
    }
  }
  transaction.outcome = outcome;
  transaction.complete_time = complete_time;
}

const Transaction& TxnHistory::transaction(uint64_t id) const {
  auto it = index_by_id_.find(id);
  EKV_ASSERT(it != index_by_id_.end(), "unknown transaction T", id);
  return transactions_[it->second];
}

std::string TxnHistory::ToString() const {
  std::vector<const Transaction*> ordered;
  ordered.reserve(transactions_.size());
  for (const Transaction& transaction : transactions_) ordered.push_back(&transaction);
  std::sort(ordered.begin(), ordered.end(), [](const Transaction* a, const Transaction* b) {
    return std::tuple(a->invoke_time, a->id) < std::tuple(b->invoke_time, b->id);
  });
  std::string text;
  for (const Transaction* transaction : ordered) {
    absl::StrAppend(&text, FormatTransaction(*transaction), "\n");
  }
  return text;
}

}  // namespace ekv::checkers
