// core/placement/placement_policy.h: when a range splits (size, sustained load, never at a
// key that cannot divide its load) and which range moves where to even out the groups.
#include "core/placement/placement_policy.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ekv::placement {
namespace {

constexpr uint64_t kSecond = 1'000'000;

RangeReport Range(route::RouteId id, std::string start, std::string end, route::GroupId group,
                  uint64_t requests = 0) {
  RangeReport range;
  range.route_id = id;
  range.start = std::move(start);
  range.end = std::move(end);
  range.group = group;
  range.active = true;
  range.requests = requests;
  return range;
}

std::vector<std::string> Formatted(std::vector<PlacementIntent> intents) {
  std::vector<std::string> out;
  for (const PlacementIntent& intent : intents) out.push_back(FormatIntent(intent));
  return out;
}

PlacementOptions LoadOnly() {
  PlacementOptions options;
  options.split_size_bytes = 0;
  options.balance = false;
  options.split_qps = 100;
  options.split_sustain_us = 10 * kSecond;
  options.cooldown_us = 60 * kSecond;
  return options;
}

TEST(BalancedSplitKeyTest, HalvesTheWeightStrictlyInsideTheRoute) {
  const std::vector<std::pair<std::string, uint64_t>> samples = {
      {"b", 10}, {"c", 10}, {"d", 10}, {"e", 10}, {"z", 1000}};
  // "z" is outside ["a", "f"): ignored. Splitting at "d" leaves 20 | 20.
  EXPECT_EQ(BalancedSplitKey(samples, "a", "f", 0.25), "d");
  // A key equal to the route's start is no split: with every weight on "b" nothing divides.
  EXPECT_EQ(BalancedSplitKey({{"b", 100}}, "b", "f", 0.25), "");
}

TEST(BalancedSplitKeyTest, ASingleHotKeyIsNotSplitBeside) {
  // 97% of the load on "c": the best split leaves 3% on one side, below min_share.
  const std::vector<std::pair<std::string, uint64_t>> samples = {
      {"b", 1}, {"c", 97}, {"d", 1}, {"e", 1}};
  EXPECT_EQ(BalancedSplitKey(samples, "a", "", 0.25), "");
  // With a lax bound the best split still leaves the hot key whole: "d" gives 98 | 2.
  EXPECT_EQ(BalancedSplitKey(samples, "a", "", 0.01), "d");
}

TEST(PlacementPolicyTest, SplitsARangeAboveTheSizeBoundAtItsMiddleKey) {
  PlacementOptions options;
  options.split_size_bytes = 1000;
  options.balance = false;
  PlacementPolicy policy(options);
  RangeReport big = Range(1, "", "m", 1);
  big.size_bytes = 1001;
  big.size_split_key = "f";
  RangeReport small = Range(2, "m", "", 2);
  small.size_bytes = 1000;  // at the bound: stays
  small.size_split_key = "q";
  policy.Observe(kSecond, 7, {1, 2}, {small, big});
  EXPECT_EQ(Formatted(policy.TakeIntents()),
            std::vector<std::string>{
                "split route 1 at \"f\" (catalog version 7): size 1001 bytes > 1000"});
  // Cooling down: the same report again decides nothing (the split may still be running).
  policy.Observe(2 * kSecond, 7, {1, 2}, {small, big});
  EXPECT_TRUE(policy.TakeIntents().empty());
}

TEST(PlacementPolicyTest, LoadSplitNeedsTheRateSustainedForTheWholeWindow) {
  PlacementPolicy policy(LoadOnly());
  RangeReport hot = Range(1, "", "", 1);
  hot.key_samples = {{"c", 50}, {"k", 50}, {"r", 50}, {"x", 50}};
  uint64_t requests = 0;
  for (int second = 1; second <= 10; ++second) {
    hot.requests = requests;
    policy.Observe(second * kSecond, 3, {1}, {hot});
    EXPECT_TRUE(policy.TakeIntents().empty()) << "at second " << second;
    requests += 500;  // 500 qps, above the 100 qps threshold
  }
  // Hot since second 2 (the first rate): at second 12 it has been for 10 s.
  hot.requests = requests;
  policy.Observe(11 * kSecond, 3, {1}, {hot});
  EXPECT_TRUE(policy.TakeIntents().empty());
  requests += 500;
  hot.requests = requests;
  policy.Observe(12 * kSecond, 3, {1}, {hot});
  EXPECT_EQ(Formatted(policy.TakeIntents()),
            std::vector<std::string>{
                "split route 1 at \"r\" (catalog version 3): load 500 qps >= 100 for 10000 ms"});
}

TEST(PlacementPolicyTest, ADipBelowTheThresholdRestartsTheWindow) {
  PlacementPolicy policy(LoadOnly());
  RangeReport hot = Range(1, "", "", 1);
  hot.key_samples = {{"c", 50}, {"x", 50}};
  uint64_t requests = 0;
  for (int second = 1; second <= 30; ++second) {
    hot.requests = requests;
    policy.Observe(second * kSecond, 3, {1}, {hot});
    EXPECT_TRUE(policy.TakeIntents().empty()) << "at second " << second;
    // Hot for 9 s, then one quiet second, repeatedly: never 10 s in a row.
    requests += second % 10 == 0 ? 10 : 500;
  }
}

TEST(PlacementPolicyTest, AHotSingleKeyIsNeverSplit) {
  PlacementPolicy policy(LoadOnly());
  RangeReport hot = Range(1, "", "", 1);
  hot.key_samples = {{"a", 1}, {"hot", 1000}, {"z", 1}};
  for (int second = 1; second <= 60; ++second) {
    hot.requests = static_cast<uint64_t>(second) * 5000;
    policy.Observe(second * kSecond, 3, {1}, {hot});
    EXPECT_TRUE(policy.TakeIntents().empty()) << "at second " << second;
  }
  EXPECT_GT(policy.qps(1), 4000);
}

TEST(PlacementPolicyTest, MovesTheRangeThatBestEvensTheBusiestAndIdlestGroups) {
  PlacementOptions options;
  options.split_size_bytes = 0;
  options.split_qps = 0;
  options.min_balance_qps = 10;
  options.balance_sustain_us = 0;
  PlacementPolicy policy(options);
  // Group 1: routes of 100, 300 and 50 qps (450); group 2: 50; group 3: 0 (no routes).
  auto report = [&](uint64_t seconds) {
    const uint64_t s = seconds;
    return std::vector<RangeReport>{Range(1, "", "d", 1, 100 * s), Range(2, "d", "h", 1, 300 * s),
                                    Range(3, "h", "m", 1, 50 * s), Range(4, "m", "", 2, 50 * s)};
  };
  policy.Observe(1 * kSecond, 9, {1, 2, 3}, report(1));
  EXPECT_TRUE(policy.TakeIntents().empty()) << "no rates yet";
  policy.Observe(2 * kSecond, 9, {1, 2, 3}, report(2));
  // Gap 450 between groups 1 and 3: moving 300 leaves 150 | 300, 100 leaves 350 | 100;
  // 300 evens them best (|450 - 600| = 150 < |450 - 200| = 250).
  EXPECT_EQ(Formatted(policy.TakeIntents()),
            std::vector<std::string>{"move route 2 from group 1 to group 3 (catalog version 9): "
                                     "group 1 serves 450 qps, mean 166, group 3 0"});
}

TEST(PlacementPolicyTest, OnlyASustainedImbalanceMovesARoute) {
  PlacementOptions options;
  options.split_size_bytes = 0;
  options.split_qps = 0;
  options.min_balance_qps = 10;
  options.balance_sustain_us = 5 * kSecond;
  PlacementPolicy policy(options);
  // Group 1 serves 200 qps in two routes, group 2 nothing, from second 2 on; at second 4
  // one quiet report (balanced: nothing anywhere) restarts the window.
  uint64_t requests = 0;
  for (uint64_t s = 1; s <= 12; ++s) {
    requests += s == 4 ? 0 : 100;
    policy.Observe(
        s * kSecond, 5, {1, 2},
        {Range(1, "", "f", 1, requests), Range(2, "f", "m", 1, requests), Range(3, "m", "", 2, 0)});
    std::vector<std::string> intents = Formatted(policy.TakeIntents());
    // Imbalanced from second 5 (after the quiet one): the window of 5 s closes at 10.
    if (s < 10) {
      EXPECT_TRUE(intents.empty()) << "at second " << s << ": " << intents.front();
    } else if (s == 10) {
      EXPECT_EQ(intents, std::vector<std::string>{
                             "move route 1 from group 1 to group 2 (catalog version 5): group 1 "
                             "serves 200 qps, mean 100, group 2 0"});
    } else {
      EXPECT_TRUE(intents.empty()) << "a new window starts after a move, at second " << s;
    }
  }
}

TEST(PlacementPolicyTest, ALoneHotRouteIsNotMovedAround) {
  PlacementOptions options;
  options.split_size_bytes = 0;
  options.split_qps = 0;
  options.min_balance_qps = 10;
  options.balance_sustain_us = 0;
  PlacementPolicy policy(options);
  // All the load in one route: moving it only moves the hot spot.
  for (uint64_t s = 1; s <= 5; ++s) {
    policy.Observe(s * kSecond, 4, {1, 2},
                   {Range(1, "", "m", 1, 1000 * s), Range(2, "m", "", 2, 0)});
    EXPECT_TRUE(policy.TakeIntents().empty()) << "at second " << s;
  }
}

TEST(PlacementPolicyTest, BalancedGroupsAndRoutesInMotionAreLeftAlone) {
  PlacementOptions options;
  options.split_size_bytes = 0;
  options.split_qps = 0;
  options.min_balance_qps = 10;
  options.balance_sustain_us = 0;
  PlacementPolicy policy(options);
  // Within 25% of the mean: 110 vs 90.
  for (uint64_t s = 1; s <= 3; ++s) {
    policy.Observe(s * kSecond, 4, {1, 2},
                   {Range(1, "", "f", 1, 60 * s), Range(2, "f", "m", 1, 50 * s),
                    Range(3, "m", "", 2, 90 * s)});
    EXPECT_TRUE(policy.TakeIntents().empty()) << "at second " << s;
  }
  // Unbalanced, but a route is mid-move: nothing until it lands.
  PlacementPolicy moving(options);
  for (uint64_t s = 1; s <= 3; ++s) {
    RangeReport in_motion = Range(3, "m", "", 2, 0);
    in_motion.active = false;
    moving.Observe(s * kSecond, 4, {1, 2},
                   {Range(1, "", "f", 1, 500 * s), Range(2, "f", "m", 1, 500 * s), in_motion});
    EXPECT_TRUE(moving.TakeIntents().empty()) << "at second " << s;
  }
}

TEST(PlacementPolicyTest, SameReportsSameDecisions) {
  // Determinism: the report order does not matter, only the contents.
  PlacementOptions options;
  options.split_size_bytes = 0;
  options.split_qps = 0;
  options.min_balance_qps = 10;
  options.balance_sustain_us = 0;
  PlacementPolicy a(options), b(options);
  std::vector<RangeReport> ranges = {Range(1, "", "d", 1), Range(2, "d", "h", 1),
                                     Range(3, "h", "", 2)};
  for (uint64_t s = 1; s <= 3; ++s) {
    ranges[0].requests = 200 * s;
    ranges[1].requests = 200 * s;
    std::vector<RangeReport> reversed(ranges.rbegin(), ranges.rend());
    a.Observe(s * kSecond, 2, {1, 2}, ranges);
    b.Observe(s * kSecond, 2, {2, 1}, reversed);
    EXPECT_EQ(Formatted(a.TakeIntents()), Formatted(b.TakeIntents())) << "at second " << s;
  }
}

// ---- Merges --------------------------------------------------------------------------

PlacementOptions MergeOnly() {
  PlacementOptions options;
  options.split_size_bytes = 0;
  options.split_qps = 0;
  options.balance = false;
  options.merge_qps = 10;
  options.merge_size_bytes = 1000;
  options.merge_cooldown_us = 30 * kSecond;
  options.cooldown_us = 5 * kSecond;
  return options;
}

TEST(PlacementPolicyTest, MergesColdSmallNeighboursOnlyOnceTheyAreOldEnough) {
  PlacementPolicy policy(MergeOnly());
  // Three routes of group 1; the first two are cold, the third busy.
  uint64_t busy = 0;
  auto report = [&](uint64_t now) {
    busy += 100 * 5;  // 100 qps at a report every 5 s
    std::vector<RangeReport> ranges = {Range(1, "", "f", 1, 5), Range(2, "f", "m", 1, 5),
                                       Range(3, "m", "", 1, busy)};
    ranges[0].size_bytes = 400;
    ranges[1].size_bytes = 500;
    policy.Observe(now, 4, {1}, ranges);
    return Formatted(policy.TakeIntents());
  };
  for (uint64_t t = 1; t <= 6; ++t) {
    EXPECT_TRUE(report(t * 5 * kSecond).empty()) << "younger than the cooldown at " << t * 5;
  }
  EXPECT_EQ(report(36 * kSecond),
            std::vector<std::string>{"merge route 1 with route 2 on group 1 (catalog version 4): "
                                     "cold and small: 0 qps < 10, 900 bytes < 1000"});
  // Both are left alone while the merge runs.
  EXPECT_TRUE(report(37 * kSecond).empty());
}

TEST(PlacementPolicyTest, DoesNotMergeBusyOrBigOrMovingNeighbours) {
  for (int variant = 0; variant < 3; ++variant) {
    PlacementPolicy policy(MergeOnly());
    for (uint64_t t = 1; t <= 8; ++t) {
      std::vector<RangeReport> ranges = {Range(1, "", "f", 1, 0), Range(2, "f", "", 1, 0)};
      if (variant == 0) ranges[1].requests = t * 5 * 20;  // 20 qps together: not cold
      if (variant == 1) ranges[0].size_bytes = 1000;      // at the bound: not small
      if (variant == 2) ranges[1].active = false;         // fenced or moving
      policy.Observe(t * 5 * kSecond, 4, {1}, ranges);
      EXPECT_TRUE(policy.TakeIntents().empty()) << "variant " << variant << " at " << t * 5;
    }
  }
}

TEST(PlacementPolicyTest, NeighboursOnTwoGroupsMergeIntoTheLeftsGroup) {
  PlacementOptions options = MergeOnly();
  PlacementPolicy policy(options);
  std::vector<std::string> last;
  for (uint64_t t = 1; t <= 7; ++t) {
    policy.Observe(t * 5 * kSecond, 9, {1, 2}, {Range(1, "", "m", 1, 0), Range(2, "m", "", 2, 0)});
    last = Formatted(policy.TakeIntents());
  }
  EXPECT_EQ(last, std::vector<std::string>{
                      "merge route 1 with route 2 after moving it from group 2 to group 1 "
                      "(catalog version 9): cold and small: 0 qps < 10, 0 bytes < 1000"});
  // Without merge_moves they stay apart.
  options.merge_moves = false;
  PlacementPolicy no_moves(options);
  for (uint64_t t = 1; t <= 7; ++t) {
    no_moves.Observe(t * 5 * kSecond, 9, {1, 2},
                     {Range(1, "", "m", 1, 0), Range(2, "m", "", 2, 0)});
    EXPECT_TRUE(no_moves.TakeIntents().empty());
  }
}

}  // namespace
}  // namespace ekv::placement
