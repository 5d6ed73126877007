#include "sim/checkers/txn_history.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/txn_test_history.h"

namespace ekv::checkers {
namespace {

using testing::A;
using testing::CrashedTxn;
using ::testing::HasSubstr;
using testing::kAborted;
using testing::kCommitted;
using testing::R;
using testing::Txn;

Transaction Make(uint64_t id, std::vector<MicroOp> ops, Transaction::Outcome outcome,
                 uint64_t invoke_time = 0, uint64_t complete_time = 1) {
  Transaction transaction;
  transaction.id = id;
  transaction.ops = std::move(ops);
  transaction.outcome = outcome;
  transaction.invoke_time = invoke_time;
  transaction.complete_time = complete_time;
  return transaction;
}

TEST(TxnHistoryTest, RecordsInvocationsAndCompletions) {
  TxnHistory history;
  const uint64_t first = Txn(history, 3, 0, 4, {A("x", 1), R("x", {1}), R("y", {})});
  const uint64_t second = CrashedTxn(history, 4, 2, {A("y", 9), R("x")});
  EXPECT_EQ(history.size(), 2u);
  EXPECT_EQ(FormatTransaction(history.transaction(first)),
            "T0 c3 [0,4] committed: a x 1, r x [1], r y []");
  EXPECT_EQ(FormatTransaction(history.transaction(second)), "T1 c4 [2,inf) unknown: a y 9, r x ?");
  EXPECT_FALSE(history.transaction(second).completed());
  EXPECT_EQ(history.ToString(),
            "T0 c3 [0,4] committed: a x 1, r x [1], r y []\n"
            "T1 c4 [2,inf) unknown: a y 9, r x ?\n");
}

TEST(TxnHistoryTest, AbortedTransactionKeepsNoReadResults) {
  TxnHistory history;
  const uint64_t id = Txn(history, 1, 0, 1, {R("x"), A("x", 1)}, kAborted);
  EXPECT_EQ(FormatTransaction(history.transaction(id)), "T0 c1 [0,1] aborted: r x ?, a x 1");
}

TEST(TxnHistoryTest, FromTransactionsAcceptsWellFormedHistory) {
  std::vector<Transaction> transactions;
  transactions.push_back(Make(7, {A("x", 1)}, kCommitted));
  transactions.push_back(Make(3, {R("x", std::vector<int64_t>{1})}, kCommitted, 2, 3));
  absl::StatusOr<TxnHistory> history = TxnHistory::FromTransactions(std::move(transactions));
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->transaction(3).invoke_time, 2u);
  EXPECT_EQ(history->ToString(), "T7 c0 [0,1] committed: a x 1\nT3 c0 [2,3] committed: r x [1]\n");
}

TEST(TxnHistoryTest, FromTransactionsRejectsMalformedHistories) {
  struct Case {
    const char* name;
    std::vector<Transaction> transactions;
    const char* error;
  };
  std::vector<Case> cases;
  cases.push_back({"duplicate id",
                   {Make(1, {A("x", 1)}, kCommitted), Make(1, {A("x", 2)}, kCommitted)},
                   "duplicate transaction id T1"});
  cases.push_back({"repeated append value",
                   {Make(1, {A("x", 1)}, kCommitted), Make(2, {A("x", 1)}, kAborted)},
                   "value 1 is appended to \"x\" more than once"});
  cases.push_back(
      {"committed read without result", {Make(1, {R("x")}, kCommitted)}, "without a result"});
  cases.push_back({"aborted read with result",
                   {Make(1, {R("x", std::vector<int64_t>{})}, kAborted)},
                   "only committed transactions may"});
  cases.push_back({"completes before invoked",
                   {Make(1, {A("x", 1)}, kCommitted, 5, 4)},
                   "before its invocation"});
  cases.push_back({"never completed but committed",
                   {Make(1, {A("x", 1)}, kCommitted, 0, Transaction::kNotCompleted)},
                   "expected unknown"});
  for (Case& test_case : cases) {
    absl::StatusOr<TxnHistory> history =
        TxnHistory::FromTransactions(std::move(test_case.transactions));
    ASSERT_FALSE(history.ok()) << test_case.name;
    EXPECT_EQ(history.status().code(), absl::StatusCode::kInvalidArgument) << test_case.name;
    EXPECT_THAT(history.status().message(), HasSubstr(test_case.error)) << test_case.name;
  }
}

TEST(TxnHistoryDeathTest, RepeatedAppendValueAsserts) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  EXPECT_DEATH(history.Invoke(2, {A("x", 1)}, 2), "list-append needs unique values");
}

TEST(TxnHistoryDeathTest, WrongNumberOfReadResultsAsserts) {
  TxnHistory history;
  const uint64_t id = history.Invoke(1, {R("x"), R("y")}, 0);
  EXPECT_DEATH(history.Complete(id, kCommitted, 1, {{}}), "has 2 reads but completed with 1");
}

}  // namespace
}  // namespace ekv::checkers
