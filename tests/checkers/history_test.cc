#include "sim/checkers/history.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/checkers/test_history.h"

namespace ekv::checkers {
namespace {

using testing::Cas;
using testing::kFailed;
using testing::kOk;
using testing::kUnknown;
using testing::Read;
using testing::Write;

TEST(HistoryTest, RecordsInvocationsAndCompletionsWithSequentialIds) {
  History history;
  const uint64_t write = history.InvokeWrite(1, "x", "a", 10);
  const uint64_t read = history.InvokeRead(2, "x", 11);
  EXPECT_EQ(write, 0u);
  EXPECT_EQ(read, 1u);
  EXPECT_FALSE(history.operation(read).completed());
  EXPECT_EQ(history.operation(read).outcome, Operation::Outcome::kUnknown);

  history.Complete(read, kOk, 15, "a");
  history.Complete(write, kOk, 12);
  EXPECT_EQ(history.operation(read).value, "a");
  EXPECT_EQ(history.operation(read).complete_time, 15u);
  EXPECT_EQ(history.operation(write).outcome, Operation::Outcome::kOk);
  EXPECT_EQ(history.size(), 2u);
}

TEST(HistoryTest, DumpIsCompactAndOrderedByInvocation) {
  History history;
  Write(history, 1, "x", "a", 5, 9);
  Read(history, 2, "x", std::nullopt, 1, 3);
  Cas(history, 3, "x", "a", "b", 7, 8, kFailed);
  history.InvokeWrite(4, "y", std::nullopt, 20);  // a delete that never completes
  const uint64_t timed_out = history.InvokeRead(5, "y", 21);
  history.Complete(timed_out, kUnknown, 30);

  EXPECT_EQ(history.ToString(),
            "#1 c2 read k=\"x\" -> nil [1,3] ok\n"
            "#0 c1 write k=\"x\" \"a\" [5,9] ok\n"
            "#2 c3 cas k=\"x\" \"a\"->\"b\" [7,8] failed\n"
            "#3 c4 write k=\"y\" nil [20,inf) unknown\n"
            "#4 c5 read k=\"y\" -> ? [21,30] unknown\n");
}

Operation CompletedWrite(uint64_t id, uint64_t invoke_time, uint64_t complete_time) {
  Operation write;
  write.id = id;
  write.client = 1;
  write.kind = Operation::Kind::kWrite;
  write.key = "x";
  write.value = "a";
  write.invoke_time = invoke_time;
  write.complete_time = complete_time;
  write.outcome = Operation::Outcome::kOk;
  return write;
}

TEST(HistoryTest, FromOperationsKeepsIdsAndContinuesNumbering) {
  absl::StatusOr<History> history = History::FromOperations({CompletedWrite(40, 0, 3)});
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->operation(40).value, "a");
  EXPECT_EQ(history->InvokeRead(2, "x", 5), 41u);
}

TEST(HistoryTest, FromOperationsRejectsMalformedOperations) {
  const Operation valid = CompletedWrite(1, 5, 6);
  ASSERT_TRUE(History::FromOperations({valid}).ok());

  EXPECT_FALSE(History::FromOperations({valid, valid}).ok()) << "duplicate id";

  Operation backwards = valid;
  backwards.complete_time = 4;
  EXPECT_FALSE(History::FromOperations({backwards}).ok());

  Operation write_with_expected = valid;
  write_with_expected.expected = "z";
  EXPECT_FALSE(History::FromOperations({write_with_expected}).ok());

  Operation unfinished_but_ok = valid;
  unfinished_but_ok.complete_time = Operation::kNotCompleted;
  EXPECT_FALSE(History::FromOperations({unfinished_but_ok}).ok());

  Operation failed_read_with_result = valid;
  failed_read_with_result.kind = Operation::Kind::kRead;
  failed_read_with_result.outcome = Operation::Outcome::kFailed;
  EXPECT_FALSE(History::FromOperations({failed_read_with_result}).ok());
}

TEST(HistoryDeathTest, CompletingTwiceIsADriverBug) {
  History history;
  const uint64_t id = history.InvokeWrite(1, "x", "a", 0);
  history.Complete(id, kOk, 1);
  EXPECT_DEATH(history.Complete(id, kOk, 2), "completed twice");
}

}  // namespace
}  // namespace ekv::checkers
