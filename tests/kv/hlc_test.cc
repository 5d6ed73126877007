#include "core/kv/hlc.h"

#include <vector>

#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

constexpr uint64_t kT0 = 1'700'000'000'000;  // a plausible wall clock, in ms

// An Hlc whose ceiling is committed as soon as it asks, like a healthy leader.
Timestamp NowWithCeiling(Hlc& hlc, uint64_t physical_ms) {
  if (std::optional<uint64_t> ceiling = hlc.CeilingNeeded(physical_ms)) {
    hlc.SetCommittedCeiling(*ceiling);
  }
  absl::StatusOr<Timestamp> ts = hlc.Now(physical_ms);
  EXPECT_TRUE(ts.ok()) << ts.status();
  return ts.value_or(0);
}

TEST(TimestampTest, PacksPhysicalAndLogical) {
  const Timestamp ts = MakeTimestamp(kT0, 7);
  EXPECT_EQ(PhysicalMs(ts), kT0);
  EXPECT_EQ(Logical(ts), 7u);
  EXPECT_LT(MakeTimestamp(kT0, kMaxLogical), MakeTimestamp(kT0 + 1, 0));
  EXPECT_EQ(MakeTimestamp(kT0, kMaxLogical) + 1, MakeTimestamp(kT0 + 1, 0));
  EXPECT_EQ(FormatTimestamp(ts), "1700000000000.7");
}

TEST(HlcTest, RefusesToIssueWithoutACommittedCeiling) {
  Hlc hlc;
  absl::StatusOr<Timestamp> ts = hlc.Now(kT0);
  EXPECT_TRUE(absl::IsUnavailable(ts.status())) << ts.status();
  EXPECT_EQ(hlc.CeilingNeeded(kT0), kT0 + Hlc::Options{}.ceiling_lease_ms);
}

TEST(HlcTest, StrictlyIncreasingWithinOneMillisecond) {
  Hlc hlc;
  hlc.SetCommittedCeiling(kT0 + 10);
  EXPECT_EQ(*hlc.Now(kT0), MakeTimestamp(kT0, 0));
  EXPECT_EQ(*hlc.Now(kT0), MakeTimestamp(kT0, 1));
  EXPECT_EQ(*hlc.Now(kT0), MakeTimestamp(kT0, 2));
  EXPECT_EQ(*hlc.Now(kT0 + 1), MakeTimestamp(kT0 + 1, 0));
}

TEST(HlcTest, MonotonicWhenTheClockGoesBackwards) {
  Hlc hlc;
  hlc.SetCommittedCeiling(kT0 + 10'000);
  const Timestamp before = *hlc.Now(kT0 + 5000);
  const Timestamp after = *hlc.Now(kT0);  // wall clock stepped back 5 s
  EXPECT_GT(after, before);
  EXPECT_EQ(PhysicalMs(after), kT0 + 5000);
  EXPECT_EQ(Logical(after), 1u);
}

TEST(HlcTest, RandomClockJumpsNeverBreakMonotonicity) {
  Hlc hlc;
  Rng rng(7);
  uint64_t wall = kT0;
  Timestamp last = 0;
  for (int i = 0; i < 100'000; ++i) {
    // Mostly forward, sometimes a big backwards step, sometimes frozen.
    const uint64_t r = rng.Uniform(100);
    if (r < 5) {
      wall -= rng.Uniform(2000);
    } else if (r < 60) {
      wall += rng.Uniform(3);
    }
    const Timestamp ts = NowWithCeiling(hlc, wall);
    ASSERT_GT(ts, last) << "at step " << i;
    ASSERT_LE(PhysicalMs(ts), hlc.committed_ceiling_ms());
    last = ts;
  }
}

TEST(HlcTest, LogicalOverflowCarriesIntoPhysical) {
  Hlc hlc;
  hlc.SetCommittedCeiling(kT0 + 10);
  Timestamp last = 0;
  for (uint64_t i = 0; i <= kMaxLogical; ++i) last = *hlc.Now(kT0);
  EXPECT_EQ(last, MakeTimestamp(kT0, kMaxLogical));
  const Timestamp carried = *hlc.Now(kT0);
  EXPECT_EQ(carried, MakeTimestamp(kT0 + 1, 0));
  // The wall clock catching up continues from the carried value.
  EXPECT_EQ(*hlc.Now(kT0 + 1), MakeTimestamp(kT0 + 1, 1));
}

TEST(HlcTest, CarryStopsAtTheCeiling) {
  Hlc hlc;
  hlc.SetCommittedCeiling(kT0);
  for (uint64_t i = 0; i <= kMaxLogical; ++i) ASSERT_TRUE(hlc.Now(kT0).ok());
  const Timestamp last = hlc.last();
  EXPECT_TRUE(absl::IsUnavailable(hlc.Now(kT0).status()));
  EXPECT_EQ(hlc.last(), last) << "a refused Now consumes nothing";
  ASSERT_TRUE(hlc.CeilingNeeded(kT0).has_value());
  hlc.SetCommittedCeiling(*hlc.CeilingNeeded(kT0));
  EXPECT_EQ(*hlc.Now(kT0), MakeTimestamp(kT0 + 1, 0));
}

TEST(HlcTest, RefusesWhenTheWallClockPassesTheCeiling) {
  Hlc hlc;
  hlc.SetCommittedCeiling(kT0 + 100);
  EXPECT_TRUE(hlc.Now(kT0 + 100).ok());
  EXPECT_TRUE(absl::IsUnavailable(hlc.Now(kT0 + 101).status()));
}

TEST(HlcTest, CeilingRenewsOnlyWithinTheMargin) {
  Hlc::Options options;
  options.ceiling_lease_ms = 3000;
  options.renew_margin_ms = 1000;
  Hlc hlc(options);
  hlc.SetCommittedCeiling(kT0 + 3000);
  EXPECT_EQ(hlc.CeilingNeeded(kT0), std::nullopt);
  EXPECT_EQ(hlc.CeilingNeeded(kT0 + 1900), std::nullopt);
  EXPECT_EQ(hlc.CeilingNeeded(kT0 + 2000), std::nullopt);  // exactly the margin left
  EXPECT_EQ(hlc.CeilingNeeded(kT0 + 2001), kT0 + 5001);
  // A stale, lower ceiling applied late does not lower it.
  hlc.SetCommittedCeiling(kT0 + 5000);
  hlc.SetCommittedCeiling(kT0 + 4000);
  EXPECT_EQ(hlc.committed_ceiling_ms(), kT0 + 5000);
}

TEST(HlcTest, ObserveMakesLaterTimestampsExceedTheMessage) {
  Hlc sender;
  Hlc receiver;
  // The sender's clock runs 200 ms ahead of the receiver's.
  const Timestamp sent = NowWithCeiling(sender, kT0 + 200);
  ASSERT_TRUE(receiver.Observe(sent, kT0).ok());
  const Timestamp received = NowWithCeiling(receiver, kT0);
  EXPECT_GT(received, sent);
  EXPECT_EQ(PhysicalMs(received), kT0 + 200);
  // Observing something older changes nothing.
  ASSERT_TRUE(receiver.Observe(MakeTimestamp(kT0 - 50, 3), kT0).ok());
  EXPECT_EQ(receiver.last(), received);
}

TEST(HlcTest, ObserveRejectsTimestampsBeyondTheMaxOffset) {
  Hlc::Options options;
  options.max_clock_offset_ms = 500;
  Hlc hlc(options);
  EXPECT_TRUE(hlc.Observe(MakeTimestamp(kT0 + 500, 9), kT0).ok());
  const Timestamp last = hlc.last();
  EXPECT_TRUE(absl::IsOutOfRange(hlc.Observe(MakeTimestamp(kT0 + 501, 0), kT0)));
  EXPECT_EQ(hlc.last(), last);
}

TEST(HlcTest, CeilingAccountsForObservedTimestamps) {
  Hlc hlc;
  hlc.SetCommittedCeiling(kT0 + 3000);
  Hlc::Options defaults;
  ASSERT_TRUE(hlc.Observe(MakeTimestamp(kT0 + 400, 0), kT0).ok());
  EXPECT_EQ(hlc.CeilingNeeded(kT0), std::nullopt);
  // The next timestamp lands ahead of the wall clock, close to the ceiling: a renewal is
  // asked for, a little above that timestamp (it advances by the logical counter there).
  ASSERT_TRUE(hlc.Observe(MakeTimestamp(kT0 + 2995, 0), kT0 + 2600).ok());
  EXPECT_EQ(hlc.CeilingNeeded(kT0), kT0 + 2996 + defaults.ahead_step_ms);
  // Far enough below the ceiling, it waits until the wall clock comes within the margin.
  hlc.SetCommittedCeiling(kT0 + 2996 + defaults.ahead_step_ms);
  EXPECT_EQ(hlc.CeilingNeeded(kT0), std::nullopt);
  EXPECT_EQ(hlc.CeilingNeeded(kT0 + 2100), kT0 + 2100 + defaults.ceiling_lease_ms);
}

// Each failover starts the new leader above the committed ceiling. A storm of failovers
// must not ratchet the clock ever further ahead of the wall clock (it did, by a whole
// lease per failover, before ceilings ahead of the wall clock were placed only
// ahead_step_ms above the next timestamp).
TEST(HlcTest, AStormOfFailoversDoesNotRatchetTheClockAhead) {
  const Hlc::Options defaults;
  uint64_t committed_ceiling = 0;
  Timestamp highest = kMinTimestamp;
  uint64_t wall = kT0;
  for (int failover = 0; failover < 200; ++failover, wall += 50) {
    Hlc leader;
    leader.Recover(committed_ceiling);
    const Timestamp ts = NowWithCeiling(leader, wall);
    ASSERT_GT(ts, highest) << "failover " << failover;
    highest = ts;
    committed_ceiling = leader.committed_ceiling_ms();
    ASSERT_LE(committed_ceiling, wall + defaults.ceiling_lease_ms + defaults.ahead_step_ms)
        << "failover " << failover << ": the ceiling ran " << committed_ceiling - wall
        << " ms ahead of the wall clock";
  }
}

// A leader issues timestamps, then a new leader (or the same node after a restart) takes
// over with a wall clock far behind: everything it issues is above what came before.
TEST(HlcTest, NewLeaderAfterFailoverIssuesAboveTheOldLeader) {
  Hlc old_leader;
  std::vector<Timestamp> issued;
  for (uint64_t ms = kT0; ms < kT0 + 5000; ms += 7)
    issued.push_back(NowWithCeiling(old_leader, ms));
  const uint64_t committed_ceiling = old_leader.committed_ceiling_ms();
  const Timestamp highest = issued.back();

  Hlc new_leader;
  const uint64_t behind_wall = kT0 + 100;  // 4.9 s behind the old leader's clock
  new_leader.Recover(committed_ceiling);
  EXPECT_TRUE(absl::IsUnavailable(new_leader.Now(behind_wall).status()))
      << "must commit a new ceiling before issuing";
  std::optional<uint64_t> ceiling = new_leader.CeilingNeeded(behind_wall);
  ASSERT_TRUE(ceiling.has_value());
  EXPECT_GT(*ceiling, committed_ceiling);
  new_leader.SetCommittedCeiling(*ceiling);
  const Timestamp first = *new_leader.Now(behind_wall);
  EXPECT_GT(first, highest);
  EXPECT_EQ(PhysicalMs(first), committed_ceiling + 1);
  // And it keeps going up as its wall clock slowly catches up.
  Timestamp last = first;
  for (uint64_t ms = behind_wall; ms < behind_wall + 10'000; ms += 13) {
    const Timestamp ts = NowWithCeiling(new_leader, ms);
    ASSERT_GT(ts, last);
    last = ts;
  }
}

TEST(HlcTest, RecoverNeverMovesBackwards) {
  Hlc hlc;
  const Timestamp issued = NowWithCeiling(hlc, kT0);
  hlc.Recover(kT0 - 1000);  // an old ceiling must not lower anything
  EXPECT_GE(hlc.last(), issued);
  EXPECT_GT(NowWithCeiling(hlc, kT0), issued);
}

TEST(HlcTest, RejectsPhysicalTimeBeyond48Bits) {
  Hlc hlc;
  hlc.SetCommittedCeiling(kMaxPhysicalMs);
  EXPECT_TRUE(absl::IsInvalidArgument(hlc.Now(kMaxPhysicalMs + 1).status()));
}

}  // namespace
}  // namespace ekv::kv
