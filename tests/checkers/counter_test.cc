#include "sim/checkers/counter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ekv::checkers {
namespace {

using ::testing::HasSubstr;
using Kind = CounterOp::Kind;
using Outcome = CounterOp::Outcome;

CounterOp Incr(int64_t delta, uint64_t invoke, uint64_t complete, Outcome outcome,
               int64_t value = 0) {
  CounterOp op;
  op.kind = Kind::kIncrement;
  op.key = "k";
  op.delta = delta;
  op.invoke_time = invoke;
  op.complete_time = outcome == Outcome::kUnknown ? CounterOp::kNotCompleted : complete;
  op.outcome = outcome;
  op.value = value;
  return op;
}

CounterOp Read(uint64_t invoke, uint64_t complete, int64_t value) {
  CounterOp op;
  op.kind = Kind::kRead;
  op.key = "k";
  op.invoke_time = invoke;
  op.complete_time = complete;
  op.outcome = Outcome::kOk;
  op.value = value;
  return op;
}

TEST(CounterTest, AckedAndASubsetOfUnknownPass) {
  const CounterReport report = CheckCounters({
      Incr(1, 0, 1, Outcome::kOk, 1), Incr(5, 2, 0, Outcome::kUnknown),
      Incr(3, 2, 3, Outcome::kOk, 4),                  // the unknown +5 came after it
      Incr(7, 4, 5, Outcome::kFailed), Read(6, 7, 9),  // 1 + 3 + 5
  });
  EXPECT_TRUE(report.ok) << report.violation;
  EXPECT_EQ(report.observations, 3u);
}

TEST(CounterTest, FinalValueNotASubsetFails) {
  // 1 + 3 acknowledged; the unknown ones are +5 and +7: 4, 9, 11, 16 are possible, 10 not.
  const CounterReport report = CheckCounters({
      Incr(1, 0, 1, Outcome::kOk, 1),
      Incr(3, 2, 3, Outcome::kOk, 4),
      Incr(5, 4, 0, Outcome::kUnknown),
      Incr(7, 4, 0, Outcome::kUnknown),
      Read(10, 11, 10),
  });
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.violation, HasSubstr("no subset"));
}

TEST(CounterTest, IncrementAppliedTwiceFails) {
  // Two acknowledged +2: a read after both must see 4, not 6.
  const CounterReport report = CheckCounters({
      Incr(2, 0, 1, Outcome::kOk, 2),
      Incr(2, 2, 3, Outcome::kOk, 6),
  });
  EXPECT_FALSE(report.ok);
}

TEST(CounterTest, FailedIncrementSeenFails) {
  const CounterReport report = CheckCounters({
      Incr(4, 0, 1, Outcome::kFailed),
      Read(2, 3, 4),
  });
  EXPECT_FALSE(report.ok);
}

TEST(CounterTest, ReadsGoingBackwardsFail) {
  const CounterReport report = CheckCounters({
      Incr(1, 0, 0, Outcome::kUnknown), Incr(2, 0, 0, Outcome::kUnknown), Read(1, 2, 3),
      Read(3, 4, 1),  // each alone is a subset; together they are not monotonic
  });
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.violation, HasSubstr("backwards"));
}

TEST(CounterTest, DuplicateIncrementAnswerFails) {
  const CounterReport report = CheckCounters({
      Incr(1, 0, 5, Outcome::kOk, 1),
      Incr(1, 0, 5, Outcome::kOk, 1),
  });
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.violation, HasSubstr("same value"));
}

TEST(CounterTest, ConcurrentReadMaySeeEitherOrder) {
  const CounterReport report = CheckCounters({
      Incr(2, 0, 10, Outcome::kOk, 2),
      Incr(3, 0, 10, Outcome::kOk, 5),
      Read(1, 9, 0),
      Read(1, 9, 3),
      Read(11, 12, 5),
  });
  EXPECT_TRUE(report.ok) << report.violation;
}

}  // namespace
}  // namespace ekv::checkers
