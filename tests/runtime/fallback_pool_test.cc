// FallbackPool: bounded, runs every accepted task exactly once, drains on destruction.
#include "runtime/server/fallback_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "gtest/gtest.h"

namespace ekv::runtime {
namespace {

TEST(FallbackPoolTest, RunsEveryAcceptedTaskOnceAndDrainsOnDestruction) {
  std::atomic<int> ran{0};
  int accepted = 0;
  {
    FallbackPool pool(/*threads=*/3, /*max_queued=*/1000);
    for (int i = 0; i < 500; ++i) accepted += pool.Run([&ran] { ran.fetch_add(1); }) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 500);
  EXPECT_EQ(ran.load(), 500);
}

TEST(FallbackPoolTest, RefusesBeyondItsQueueBound) {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool release = false;
  std::atomic<int> ran{0};
  {
    FallbackPool pool(/*threads=*/1, /*max_queued=*/2);
    ASSERT_TRUE(pool.Run([&] {
      std::unique_lock<std::mutex> lock(mu);
      started = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      ran.fetch_add(1);
    }));
    {
      // The only thread now holds the first task: the queue is empty.
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return started; });
    }
    EXPECT_TRUE(pool.Run([&] { ran.fetch_add(1); }));
    EXPECT_TRUE(pool.Run([&] { ran.fetch_add(1); }));
    EXPECT_FALSE(pool.Run([&] { ran.fetch_add(1); }));  // queue full: refused, never run
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
  }
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace ekv::runtime
