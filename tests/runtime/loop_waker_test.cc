// LoopWaker: what the node loop sleeps on (eventfd for work, timerfd for ticks).
#include "runtime/server/loop_waker.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ekv::runtime {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

TEST(LoopWakerTest, AWakeBeforeTheWaitIsNotLost) {
  auto waker = LoopWaker::Create(hours(1));
  ASSERT_TRUE(waker.ok()) << waker.status();
  (*waker)->Wake();
  (*waker)->Wake();  // coalesced with the first
  LoopWaker::Woken woken = (*waker)->Wait(milliseconds(10000));
  EXPECT_TRUE(woken.work);
  EXPECT_EQ(woken.ticks, 0u);
  // Drained: nothing more is pending.
  woken = (*waker)->Wait(milliseconds(0));
  EXPECT_FALSE(woken.work);
  // And a later wake is seen again.
  (*waker)->Wake();
  EXPECT_TRUE((*waker)->Wait(milliseconds(10000)).work);
}

TEST(LoopWakerTest, AnotherThreadWakesABlockedWait) {
  auto waker = LoopWaker::Create(hours(1));
  ASSERT_TRUE(waker.ok());
  std::thread other([&] {
    std::this_thread::sleep_for(milliseconds(20));
    (*waker)->Wake();
  });
  EXPECT_TRUE((*waker)->Wait(milliseconds(60000)).work);  // returns long before the bound
  other.join();
}

// A stopped process (or a busy loop) must not lose time: Raft's leases count ticks.
TEST(LoopWakerTest, EveryElapsedTickIsReportedAfterAStall) {
  auto waker = LoopWaker::Create(milliseconds(1));
  ASSERT_TRUE(waker.ok());
  std::this_thread::sleep_for(milliseconds(50));  // ~50 periods pass unobserved
  LoopWaker::Woken woken = (*waker)->Wait(milliseconds(10000));
  EXPECT_GE(woken.ticks, 40u);
  EXPECT_FALSE(woken.work);
}

// Producers queue work then Wake, as NodeLoop's inputs do; the consumer takes whatever
// is queued after each Wait. A lost wakeup leaves work queued while Wait sleeps through
// its whole bound (the tick is an hour away): the consumer must never see that.
TEST(LoopWakerTest, NoWakeupIsLostUnderConcurrentWakes) {
  auto waker = LoopWaker::Create(hours(1));
  ASSERT_TRUE(waker.ok());
  constexpr int kPerProducer = 20000;
  std::atomic<int> queued{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < kPerProducer; ++i) {
        queued.fetch_add(1);
        (*waker)->Wake();
      }
    });
  }
  int taken = 0;
  int stranded = 0;  // inputs found queued after a Wait that slept its whole bound
  while (taken < 2 * kPerProducer && stranded == 0) {
    const LoopWaker::Woken woken = (*waker)->Wait(milliseconds(2000));
    const int now = queued.load();
    if (!woken.work && now > taken) stranded = now - taken;
    taken = now;
  }
  for (std::thread& producer : producers) producer.join();
  EXPECT_EQ(stranded, 0) << "a wakeup was lost: Wait slept 2 s with inputs queued";
}

}  // namespace
}  // namespace ekv::runtime
