// LoopWaker: what the node loop sleeps on (eventfd for work, timerfd for ticks).
#include "runtime/server/loop_waker.h"

#include <chrono>
#include <thread>

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
  EXPECT_FALSE(woken.tick);
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

TEST(LoopWakerTest, TicksArriveFromTheTimerAndDoNotPileUp) {
  auto waker = LoopWaker::Create(milliseconds(1));
  ASSERT_TRUE(waker.ok());
  std::this_thread::sleep_for(milliseconds(30));  // ~30 periods pass unobserved
  LoopWaker::Woken woken = (*waker)->Wait(milliseconds(10000));
  EXPECT_TRUE(woken.tick);
  EXPECT_FALSE(woken.work);
}

}  // namespace
}  // namespace ekv::runtime
