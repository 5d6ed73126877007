#include "sim/scheduler.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/trace.h"

namespace ekv::sim {
namespace {

TEST(SchedulerTest, RunsInTimeThenInsertionOrder) {
  Scheduler scheduler;
  std::vector<std::string> order;
  scheduler.At(20, [&] { order.push_back("t20-first"); });
  scheduler.At(10, [&] { order.push_back("t10"); });
  scheduler.At(20, [&] { order.push_back("t20-second"); });
  scheduler.At(5, [&] {
    order.push_back("t5");
    // Scheduled later at the same instant as an existing event: runs after it.
    scheduler.At(20, [&] { order.push_back("t20-third"); });
    scheduler.After(0, [&] { order.push_back("t5-nested"); });
  });
  scheduler.RunUntil(100);
  EXPECT_EQ(order, (std::vector<std::string>{"t5", "t5-nested", "t10", "t20-first", "t20-second",
                                             "t20-third"}));
  EXPECT_EQ(scheduler.now(), 100u);
  EXPECT_EQ(scheduler.events_run(), 6u);
}

TEST(SchedulerTest, RunUntilStopsAtDeadlineAndPredicate) {
  Scheduler scheduler;
  int count = 0;
  for (int i = 1; i <= 10; ++i) scheduler.At(i * 10, [&] { ++count; });
  scheduler.RunUntil(35);
  EXPECT_EQ(count, 3);
  EXPECT_EQ(scheduler.now(), 35u);
  EXPECT_TRUE(scheduler.RunUntil(1000, [&] { return count == 5; }));
  EXPECT_EQ(scheduler.now(), 50u);
  EXPECT_FALSE(scheduler.RunUntil(70, [&] { return count == 100; }));
  EXPECT_EQ(count, 7);
  EXPECT_EQ(scheduler.now(), 70u);
}

TEST(TraceTest, HashDependsOnEveryFieldAndTailIsBounded) {
  Trace a(3);
  Trace b(3);
  for (uint64_t i = 0; i < 5; ++i) {
    a.Record({i, "tick", 1, i, 0, 0, ""});
    b.Record({i, "tick", 1, i, 0, 0, ""});
  }
  EXPECT_EQ(a.hash(), b.hash());
  b.Record({5, "tick", 1, 5, 0, 0, "x"});
  a.Record({5, "tick", 1, 5, 0, 0, "y"});
  EXPECT_NE(a.hash(), b.hash());
  std::vector<std::string> tail = a.Tail();
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail.back(), "0.000005 tick n1 5 0 0 y");
  EXPECT_EQ(a.events(), 6u);
}

}  // namespace
}  // namespace ekv::sim
