#include "sim/checkers/linearizability.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/test_history.h"

namespace ekv::checkers {
namespace {

using testing::Cas;
using testing::CrashedWrite;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kFailed;
using testing::kOk;
using testing::kUnknown;
using testing::Read;
using testing::Write;
using Verdict = LinearizabilityResult::Verdict;

// Prints the verdict, the explanation and the history when an expectation fails.
std::string Describe(const LinearizabilityResult& result, const History& history) {
  return absl::StrCat("verdict=", VerdictName(result.verdict), " key=", result.key, "\n",
                      result.explanation, "\nhistory:\n", history.ToString());
}

void ExpectLinearizable(const History& history) {
  const LinearizabilityResult result = CheckLinearizable(history);
  EXPECT_EQ(result.verdict, Verdict::kOk) << Describe(result, history);
}

LinearizabilityResult ExpectViolation(const History& history, absl::string_view key) {
  LinearizabilityResult result = CheckLinearizable(history);
  EXPECT_EQ(result.verdict, Verdict::kViolation) << Describe(result, history);
  EXPECT_EQ(result.key, key);
  return result;
}

TEST(LinearizabilityTest, EmptyHistoryIsLinearizable) { ExpectLinearizable(History()); }

TEST(LinearizabilityTest, SequentialHistoryIsLinearizable) {
  History history;
  Read(history, 1, "x", std::nullopt, 0, 1);
  Write(history, 1, "x", "a", 2, 3);
  Read(history, 2, "x", "a", 4, 5);
  Write(history, 2, "x", "b", 6, 7);
  Read(history, 1, "x", "b", 8, 9);
  Write(history, 1, "x", std::nullopt, 10, 11);  // delete
  Read(history, 2, "x", std::nullopt, 12, 13);
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, ReadConcurrentWithWriteMaySeeEitherValue) {
  for (const std::optional<std::string>& observed :
       {std::optional<std::string>("a"), std::optional<std::string>(std::nullopt)}) {
    History history;
    Write(history, 1, "x", "a", 0, 10);
    Read(history, 2, "x", observed, 5, 6);
    ExpectLinearizable(history);
  }
}

TEST(LinearizabilityTest, ConcurrentWritesThenReadOfEitherValue) {
  for (const char* observed : {"a", "b"}) {
    History history;
    Write(history, 1, "x", "a", 0, 10);
    Write(history, 2, "x", "b", 1, 9);
    Read(history, 3, "x", observed, 11, 12);
    Read(history, 3, "x", observed, 13, 14);
    ExpectLinearizable(history);
  }
}

TEST(LinearizabilityTest, ReadsDisagreeingAfterConcurrentWritesSettledIsViolation) {
  History history;
  Write(history, 1, "x", "a", 0, 10);
  Write(history, 2, "x", "b", 1, 9);
  Read(history, 3, "x", "a", 11, 12);
  Read(history, 3, "x", "b", 13, 14);
  ExpectViolation(history, "x");
}

TEST(LinearizabilityTest, StaleReadAfterCompletedWriteIsViolation) {
  History history;
  const uint64_t write_a = Write(history, 1, "x", "a", 0, 1);
  const uint64_t write_b = Write(history, 1, "x", "b", 2, 3);
  const uint64_t stale_read = Read(history, 2, "x", "a", 4, 5);
  const LinearizabilityResult result = ExpectViolation(history, "x");
  EXPECT_THAT(result.longest_linearizable_prefix, ElementsAre(write_a, write_b));
  EXPECT_EQ(result.unplaceable_operation_id, stale_read);
  EXPECT_THAT(result.explanation, HasSubstr(FormatOperation(history.operation(stale_read))));
  EXPECT_THAT(result.explanation, HasSubstr("from state \"b\""));
}

TEST(LinearizabilityTest, ReadOfNeverWrittenValueIsViolation) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Read(history, 2, "x", "ghost", 0, 5);
  ExpectViolation(history, "x");
}

TEST(LinearizabilityTest, ReadOfAbsentAfterCompletedWriteIsViolation) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Read(history, 2, "x", std::nullopt, 2, 3);
  ExpectViolation(history, "x");
}

// Events at the same clock time are concurrent: the clock cannot order them.
TEST(LinearizabilityTest, IntervalsThatTouchAreConcurrent) {
  History history;
  Write(history, 1, "x", "a", 0, 5);
  Read(history, 2, "x", std::nullopt, 5, 6);
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, UnknownWriteObservedLaterIsLinearizable) {
  History history;
  const uint64_t timed_out = history.InvokeWrite(1, "x", "a", 0);
  history.Complete(timed_out, kUnknown, 5);
  // The effect may land long after the client gave up.
  Read(history, 2, "x", std::nullopt, 6, 7);
  Read(history, 2, "x", "a", 20, 21);
  CrashedWrite(history, 3, "x", "b", 22);
  Read(history, 2, "x", "b", 30, 31);
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, UnknownWriteNeverObservedIsLinearizable) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  CrashedWrite(history, 2, "x", "b", 2);
  Write(history, 3, "x", "c", 3, 4, kUnknown);
  Read(history, 1, "x", "a", 5, 6);
  Read(history, 1, "x", "a", 7, 8);
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, UnknownWriteObservedBeforeItsInvocationIsViolation) {
  History history;
  Read(history, 1, "x", "b", 0, 1);
  CrashedWrite(history, 2, "x", "b", 5);
  ExpectViolation(history, "x");
}

TEST(LinearizabilityTest, UnknownWriteCannotBeUndoneOnceObserved) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  CrashedWrite(history, 2, "x", "b", 2);
  Read(history, 1, "x", "b", 3, 4);
  Read(history, 1, "x", "a", 5, 6);
  ExpectViolation(history, "x");
}

TEST(LinearizabilityTest, FailedWriteIsDropped) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Write(history, 2, "x", "b", 2, 3, kFailed);
  Read(history, 1, "x", "a", 4, 5);
  ExpectLinearizable(history);

  Read(history, 1, "x", "b", 6, 7);
  ExpectViolation(history, "x");
}

TEST(LinearizabilityTest, UnknownReadCarriesNoInformation) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  const uint64_t timed_out_read = history.InvokeRead(2, "x", 2);
  history.Complete(timed_out_read, kUnknown, 3);
  history.InvokeRead(3, "x", 4);  // never completes
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, SuccessfulCasAppliesWhenExpectedMatches) {
  History history;
  Cas(history, 1, "x", std::nullopt, "a", 0, 1);  // create if absent
  Cas(history, 2, "x", "a", "b", 2, 3);
  Read(history, 1, "x", "b", 4, 5);
  Cas(history, 2, "x", "b", std::nullopt, 6, 7);  // delete if "b"
  Read(history, 1, "x", std::nullopt, 8, 9);
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, SuccessfulCasWithMismatchedExpectedIsViolation) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Cas(history, 2, "x", "z", "b", 2, 3);
  ExpectViolation(history, "x");
}

TEST(LinearizabilityTest, TwoCasesFromTheSameValueCannotBothSucceed) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Cas(history, 2, "x", "a", "b", 2, 10);
  Cas(history, 3, "x", "a", "c", 2, 10);
  ExpectViolation(history, "x");
}

TEST(LinearizabilityTest, FailedCasIsDropped) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Cas(history, 2, "x", "z", "b", 2, 3, kFailed);
  Read(history, 1, "x", "a", 4, 5);
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, UnknownCasMayOrMayNotApply) {
  for (const char* observed : {"a", "b"}) {
    History history;
    Write(history, 1, "x", "a", 0, 1);
    Cas(history, 2, "x", "a", "b", 2, 3, kUnknown);
    Read(history, 1, "x", observed, 4, 5);
    ExpectLinearizable(history);
  }
  // An unknown CAS whose comparison could never succeed is simply left out.
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Cas(history, 2, "x", "never", "b", 2, 3, kUnknown);
  Read(history, 1, "x", "a", 4, 5);
  ExpectLinearizable(history);
}

TEST(LinearizabilityTest, KeysAreCheckedIndependentlyAndTheBadKeyIsReported) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Write(history, 2, "y", "a", 0, 1);
  Write(history, 1, "y", "b", 2, 3);
  // Linearizable on its own key, but would be stale if keys were one register.
  Read(history, 2, "x", "a", 4, 5);
  const uint64_t stale = Read(history, 3, "y", "a", 6, 7);
  const LinearizabilityResult result = ExpectViolation(history, "y");
  EXPECT_EQ(result.unplaceable_operation_id, stale);
  EXPECT_THAT(result.explanation, HasSubstr("key \"y\""));
}

TEST(LinearizabilityTest, FirstViolatingKeyInKeyOrderIsReported) {
  History history;
  for (const char* key : {"m", "c", "q"}) {
    Write(history, 1, key, "a", 0, 1);
    Write(history, 1, key, "b", 2, 3);
    Read(history, 2, key, "a", 4, 5);
  }
  ExpectViolation(history, "c");
}

// N concurrent writes and a concurrent read of a value none of them wrote: the search must
// try every subset of writes before concluding.
History ExponentialViolation(int concurrent_writes) {
  History history;
  for (int writer = 0; writer < concurrent_writes; ++writer) {
    Write(history, writer, "x", absl::StrCat("v", writer), 0, 100);
  }
  Read(history, concurrent_writes, "x", "ghost", 0, 100);
  return history;
}

TEST(LinearizabilityTest, StepBoundYieldsUnknownNotPassOrFail) {
  const History history = ExponentialViolation(12);
  const LinearizabilityResult bounded = CheckLinearizable(history, {.max_steps_per_key = 100});
  EXPECT_EQ(bounded.verdict, Verdict::kUnknown) << Describe(bounded, history);
  EXPECT_EQ(bounded.key, "x");
  EXPECT_EQ(bounded.total_steps, 100u);
  EXPECT_THAT(bounded.explanation, HasSubstr("max_steps_per_key"));

  const LinearizabilityResult unbounded = CheckLinearizable(history);
  EXPECT_EQ(unbounded.verdict, Verdict::kViolation) << Describe(unbounded, history);
  EXPECT_GT(unbounded.total_steps, 100u);
}

TEST(LinearizabilityTest, ViolationOnAnyKeyOutranksAnInconclusiveKey) {
  History history = ExponentialViolation(12);  // key "x": inconclusive under the bound
  Write(history, 1, "y", "a", 200, 201);
  Read(history, 1, "y", "b", 202, 203);
  const LinearizabilityResult result = CheckLinearizable(history, {.max_steps_per_key = 100});
  EXPECT_EQ(result.verdict, Verdict::kViolation) << Describe(result, history);
  EXPECT_EQ(result.key, "y");
}

TEST(LinearizabilityTest, ResultIsDeterministic) {
  const History history = ExponentialViolation(8);
  const LinearizabilityResult first = CheckLinearizable(history);
  const LinearizabilityResult second = CheckLinearizable(history);
  EXPECT_EQ(first.verdict, Verdict::kViolation);
  EXPECT_EQ(first.explanation, second.explanation);
  EXPECT_EQ(first.total_steps, second.total_steps);
  EXPECT_EQ(first.longest_linearizable_prefix, second.longest_linearizable_prefix);
}

}  // namespace
}  // namespace ekv::checkers
