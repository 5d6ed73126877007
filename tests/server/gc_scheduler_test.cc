// GcScheduler against a fake pass runner: which groups it collects, how it resumes, what
// safe point it picks, and that Stop interrupts the interval wait at once.
#include "runtime/server/gc_scheduler.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/kv/timestamp.h"
#include "gtest/gtest.h"

namespace ekv::runtime {
namespace {

struct Pass {
  raft::GroupId group;
  uint64_t safe_point;
  std::string start_key;
  uint64_t max_keys;
};

// Each group's key space is a sorted list; a pass covers max_keys of them.
class FakeGroups {
 public:
  std::map<raft::GroupId, std::vector<std::string>> keys;
  std::map<raft::GroupId, bool> led;
  std::map<raft::GroupId, int> fail_at_pass;  // group -> pass number that fails

  absl::StatusOr<GcPassOutcome> RunPass(raft::GroupId group, uint64_t safe_point,
                                        const std::string& start, uint64_t max_keys) {
    std::lock_guard<std::mutex> lock(mu);
    passes.push_back({group, safe_point, start, max_keys});
    int& count = pass_counts[group];
    if (auto it = fail_at_pass.find(group); it != fail_at_pass.end() && it->second == count++) {
      return absl::UnavailableError("write outcome unknown: leader changed");
    }
    const std::vector<std::string>& all = keys[group];
    auto it = std::lower_bound(all.begin(), all.end(), start);
    GcPassOutcome outcome;
    outcome.safe_point = safe_point;
    if (static_cast<uint64_t>(all.end() - it) > max_keys) outcome.resume_key = *(it + max_keys);
    return outcome;
  }

  std::mutex mu;
  std::vector<Pass> passes;
  std::map<raft::GroupId, int> pass_counts;
};

GcScheduler MakeScheduler(FakeGroups* fake, GcSchedulerOptions options, uint64_t now_ms) {
  return GcScheduler(
      std::move(options),
      [fake](raft::GroupId g, uint64_t sp, const std::string& start, uint64_t max_keys) {
        return fake->RunPass(g, sp, start, max_keys);
      },
      [fake](raft::GroupId g) { return fake->led[g]; }, [now_ms] { return now_ms; }, nullptr);
}

std::vector<std::string> Keys(int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) keys.push_back("k" + std::to_string(1000 + i));
  return keys;
}

TEST(GcSchedulerTest, CollectsLedGroupsInPassesUntilDoneAtNowMinusRetention) {
  FakeGroups fake;
  fake.keys = {{1, Keys(25)}, {2, Keys(3)}, {3, Keys(50)}};
  fake.led = {{1, true}, {2, true}, {3, false}};
  GcSchedulerOptions options;
  options.groups = {1, 2, 3};
  options.retention_ms = 600'000;
  options.max_keys_per_pass = 10;
  GcScheduler scheduler = MakeScheduler(&fake, options, 1'700'000'600'000);
  scheduler.RunRound();
  ASSERT_EQ(fake.passes.size(), 4u);  // group 1: 0, 10, 20; group 2: one pass; 3 not led
  EXPECT_EQ(fake.passes[0].start_key, "");
  EXPECT_EQ(fake.passes[1].start_key, "k1010");
  EXPECT_EQ(fake.passes[2].start_key, "k1020");
  EXPECT_EQ(fake.passes[3].group, 2u);
  for (const Pass& pass : fake.passes) {
    EXPECT_EQ(pass.safe_point, kv::MakeTimestamp(1'700'000'000'000, 0));
    EXPECT_EQ(pass.max_keys, 10u);
  }
  EXPECT_EQ(scheduler.stats().groups_completed, 2u);
  EXPECT_EQ(scheduler.stats().failed_passes, 0u);
}

TEST(GcSchedulerTest, AFailedPassEndsThatGroupsRoundOnly) {
  FakeGroups fake;
  fake.keys = {{1, Keys(30)}, {2, Keys(5)}};
  fake.led = {{1, true}, {2, true}};
  fake.fail_at_pass = {{1, 1}};
  GcSchedulerOptions options;
  options.groups = {1, 2};
  options.max_keys_per_pass = 10;
  GcScheduler scheduler = MakeScheduler(&fake, options, 1'700'000'600'000);
  scheduler.RunRound();
  ASSERT_EQ(fake.passes.size(), 3u);  // group 1: ok, failed; group 2: done
  EXPECT_EQ(fake.passes[2].group, 2u);
  EXPECT_EQ(scheduler.stats().failed_passes, 1u);
  EXPECT_EQ(scheduler.stats().groups_completed, 1u);
  // The next round starts group 1 over from the first key.
  scheduler.RunRound();
  EXPECT_EQ(fake.passes[3].group, 1u);
  EXPECT_EQ(fake.passes[3].start_key, "");
}

TEST(GcSchedulerTest, NothingIsCollectedBeforeTheRetentionWindowHasPassed) {
  FakeGroups fake;
  fake.keys = {{1, Keys(3)}};
  fake.led = {{1, true}};
  GcSchedulerOptions options;
  options.groups = {1};
  options.retention_ms = 1000;
  GcScheduler scheduler = MakeScheduler(&fake, options, 999);
  scheduler.RunRound();
  EXPECT_TRUE(fake.passes.empty());
}

TEST(GcSchedulerTest, RunsEveryIntervalAndStopsPromptly) {
  FakeGroups fake;
  fake.keys = {{1, Keys(3)}};
  fake.led = {{1, true}};
  GcSchedulerOptions options;
  options.groups = {1};
  options.interval = std::chrono::milliseconds(20);
  GcScheduler fast = MakeScheduler(&fake, options, 1'700'000'600'000);
  fast.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (fast.stats().groups_completed < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  fast.Stop();
  EXPECT_GE(fast.stats().groups_completed, 3u);

  options.interval = std::chrono::hours(1);
  GcScheduler slow = MakeScheduler(&fake, options, 1'700'000'600'000);
  slow.Start();
  const auto stop_started = std::chrono::steady_clock::now();
  slow.Stop();
  // Sleeping out the interval would take an hour; a woken thread returns at once, give or
  // take the scheduling delays of a loaded machine (not what this checks: no tight bound).
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(60))
      << "Stop must wake the interval wait, not sleep it out";
  EXPECT_EQ(slow.stats().rounds, 0u);
}

// The Redis cleanup passes (core/redis/cleanup.h) of each led group follow its GC passes,
// chained by their resume keys; a failed pass ends that group's cleanup for the round.
TEST(GcSchedulerTest, RunsRedisCleanupPassesOfLedGroupsAfterGc) {
  FakeGroups fake;
  fake.keys = {{1, Keys(5)}, {2, Keys(5)}, {3, Keys(5)}};
  fake.led = {{1, true}, {2, true}, {3, false}};
  GcSchedulerOptions options;
  options.groups = {1, 2, 3};
  options.max_keys_per_pass = 10;
  options.cleanup_records_per_pass = 2;
  GcScheduler scheduler = MakeScheduler(&fake, options, 1'700'000'600'000);
  std::vector<std::string> calls;  // "group:start"
  scheduler.SetCleanupPass([&](raft::GroupId group, const std::string& start, uint64_t max) {
    EXPECT_EQ(max, 2u);
    calls.push_back(std::to_string(group) + ":" + start);
    if (group == 2 && !start.empty()) {
      return absl::StatusOr<std::optional<std::string>>(absl::UnavailableError("no leader"));
    }
    if (start.size() >= 2) return absl::StatusOr<std::optional<std::string>>(std::nullopt);
    return absl::StatusOr<std::optional<std::string>>(start + "x");
  });
  scheduler.RunRound();
  EXPECT_EQ(calls, (std::vector<std::string>{"1:", "1:x", "1:xx", "2:", "2:x"}));
  EXPECT_EQ(fake.passes.size(), 2u) << "one GC pass per led group first";
  EXPECT_EQ(scheduler.stats().cleanup_passes, 4u);
  EXPECT_EQ(scheduler.stats().cleanup_completed, 1u);
}

}  // namespace
}  // namespace ekv::runtime
