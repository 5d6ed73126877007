// PlanLeaderBalance (core/placement/leader_balance.h): which group's leadership moves next
// so that every node leads within +-25% of the mean.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/placement/leader_balance.h"
#include "gtest/gtest.h"

namespace ekv::placement {
namespace {

constexpr uint64_t kNow = 100'000'000;

GroupLeadership Group(uint64_t id, std::vector<uint64_t> voters, uint64_t leader) {
  GroupLeadership group;
  group.group = id;
  group.voters = std::move(voters);
  group.leader = leader;
  return group;
}

// Applies plans as finished transfers (a second apart, inside the cooldown) until no plan
// is left, also once the cooldown has passed; the transfers it took.
int Converge(std::vector<GroupLeadership>& groups, const LeaderBalanceOptions& options) {
  LeaderBalanceHistory history;
  uint64_t now = kNow;
  for (int transfers = 0; transfers < 100; ++transfers) {
    std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, history, now, options);
    if (!plan.has_value()) {
      // Only the cooldown held it back? Then it is not done.
      now += options.cooldown_us;
      plan = PlanLeaderBalance(groups, history, now, options);
      if (!plan.has_value()) return transfers;
    }
    bool found = false;
    for (GroupLeadership& group : groups) {
      if (group.group != plan->group) continue;
      found = true;
      EXPECT_EQ(group.leader, plan->from);
      EXPECT_NE(std::find(group.voters.begin(), group.voters.end(), plan->to), group.voters.end())
          << "transfer to a non-voter: group " << plan->group << " to " << plan->to;
      group.leader = plan->to;
    }
    EXPECT_TRUE(found) << "plan names unknown group " << plan->group;
    history.NoteTransfer(plan->group, plan->to, now);
    now += 1'000'000;
  }
  ADD_FAILURE() << "no balance after 100 transfers";
  return -1;
}

std::string Describe(const std::map<uint64_t, size_t>& counts) {
  std::string out;
  for (const auto& [node, count] : counts) {
    out += " n" + std::to_string(node) + "=" + std::to_string(count);
  }
  return out;
}

TEST(LeaderBalanceTest, WithinTheBandNothingMoves) {
  // 3 nodes, 6 groups: 3/2/1 is outside the band (mean 2, band 1.5-2.5), 2/2/2 is inside.
  std::vector<GroupLeadership> groups;
  const uint64_t leaders[] = {1, 1, 2, 2, 3, 3};
  for (uint64_t i = 0; i < 6; ++i) groups.push_back(Group(10 + i, {1, 2, 3}, leaders[i]));
  EXPECT_FALSE(PlanLeaderBalance(groups, {}, kNow, {}).has_value());
  // 12 groups: 5/4/3 is within +-25% of 4 (3..5): left alone, though a transfer would even it.
  groups.clear();
  const uint64_t wide[] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3};
  for (uint64_t i = 0; i < 12; ++i) groups.push_back(Group(10 + i, {1, 2, 3}, wide[i]));
  EXPECT_FALSE(PlanLeaderBalance(groups, {}, kNow, {}).has_value());
  // 6/3/3 is not (6 > 5).
  groups[5].leader = 1;
  const std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, {}, kNow, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->from, 1u);
  EXPECT_EQ(plan->to, 2u);  // 2 and 3 tie at 3: the lower id
  EXPECT_EQ(plan->group, 10u);
}

TEST(LeaderBalanceTest, ADifferenceOfOneIsNotMovedEvenOutsideTheBand) {
  // 3 groups on 2 nodes: 2/1 is outside +-25% of 1.5, but a transfer gives 1/2.
  std::vector<GroupLeadership> groups = {Group(1, {1, 2}, 1), Group(2, {1, 2}, 1),
                                         Group(3, {1, 2}, 2)};
  EXPECT_FALSE(PlanLeaderBalance(groups, {}, kNow, {}).has_value());
}

TEST(LeaderBalanceTest, TiesGoToTheLowerNodeThenTheLowerGroup) {
  // Nodes 1 and 2 lead 3 each, 3 and 4 none; every group on every node.
  std::vector<GroupLeadership> groups;
  const uint64_t leaders[] = {2, 1, 2, 1, 2, 1};
  for (uint64_t i = 0; i < 6; ++i) groups.push_back(Group(20 - i, {1, 2, 3, 4}, leaders[i]));
  const std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, {}, kNow, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->from, 1u);
  EXPECT_EQ(plan->to, 3u);
  EXPECT_EQ(plan->group, 15u);  // node 1 leads 19, 17, 15: the lowest id
}

TEST(LeaderBalanceTest, ANodeWithNoGroupsIsNotCounted) {
  // Node 9 votes nowhere (e.g. joined, no replica yet): it cannot lead, so it does not pull
  // the mean down; 2/2/2 stays balanced.
  std::vector<GroupLeadership> groups;
  const uint64_t leaders[] = {1, 1, 2, 2, 3, 3};
  for (uint64_t i = 0; i < 6; ++i) groups.push_back(Group(10 + i, {1, 2, 3}, leaders[i]));
  const std::map<uint64_t, size_t> counts = LeaderCounts(groups, {}, kNow, {});
  EXPECT_EQ(counts.count(9), 0u) << Describe(counts);
  EXPECT_FALSE(PlanLeaderBalance(groups, {}, kNow, {}).has_value());
  // A node that votes in groups and leads none is counted with 0, and receives a leader.
  groups.push_back(Group(16, {1, 2, 4}, 1));
  groups.push_back(Group(17, {1, 3, 4}, 1));
  const std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, {}, kNow, {});
  ASSERT_TRUE(plan.has_value()) << Describe(LeaderCounts(groups, {}, kNow, {}));
  EXPECT_EQ(plan->from, 1u);
  EXPECT_EQ(plan->to, 4u);
  EXPECT_EQ(plan->group, 16u);  // the first group of node 1 that node 4 votes in
}

TEST(LeaderBalanceTest, AGroupWithAnUnknownLeaderCountsForNobodyAndStays) {
  std::vector<GroupLeadership> groups = {Group(1, {1, 2, 3}, 0), Group(2, {1, 2, 3}, 0),
                                         Group(3, {1, 2, 3}, 1), Group(4, {1, 2, 3}, 2),
                                         Group(5, {1, 2, 3}, 3)};
  const std::map<uint64_t, size_t> counts = LeaderCounts(groups, {}, kNow, {});
  EXPECT_EQ(counts.at(1), 1u);
  EXPECT_EQ(counts.at(2), 1u);
  EXPECT_EQ(counts.at(3), 1u);
  EXPECT_FALSE(PlanLeaderBalance(groups, {}, kNow, {}).has_value());
  // Node 1 leads 3, node 3 none: only a group whose leader is known moves.
  groups = {Group(1, {1, 2, 3}, 0), Group(2, {1, 2, 3}, 1), Group(3, {1, 2, 3}, 1),
            Group(4, {1, 2, 3}, 1), Group(5, {1, 2, 3}, 2)};
  const std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, {}, kNow, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 2u);
  EXPECT_EQ(plan->to, 3u);
}

TEST(LeaderBalanceTest, OnlyAVoterReceivesAndNotMovableGroupsStay) {
  // Node 1 leads three groups; node 3 votes only in group 3, which is not movable.
  std::vector<GroupLeadership> groups = {Group(1, {1, 2}, 1), Group(2, {1, 2}, 1),
                                         Group(3, {1, 2, 3}, 1), Group(4, {2, 3}, 2)};
  groups[2].movable = false;
  const std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, {}, kNow, {});
  // n1=3 n2=1 n3=0: n3 can receive nothing movable; n2 (1) can take group 1.
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 1u);
  EXPECT_EQ(plan->to, 2u);
}

TEST(LeaderBalanceTest, ATransferInTheCooldownCountsAsDoneAndIsNotRepeated) {
  // 2 nodes, 4 groups, all led by 1: one transfer is planned.
  std::vector<GroupLeadership> groups;
  for (uint64_t id = 1; id <= 4; ++id) groups.push_back(Group(id, {1, 2}, 1));
  LeaderBalanceHistory history;
  LeaderBalanceOptions options;
  options.cooldown_us = 5'000'000;
  std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, history, kNow, options);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 1u);
  history.NoteTransfer(plan->group, plan->to, kNow);
  // Still led by 1 (the transfer under way): counted as 3/1, so one more, of another group.
  plan = PlanLeaderBalance(groups, history, kNow + 1, options);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 2u);
  history.NoteTransfer(plan->group, plan->to, kNow + 1);
  // 2/2 as counted: nothing more, though node 1 still leads all four.
  EXPECT_FALSE(PlanLeaderBalance(groups, history, kNow + 2, options).has_value());
  // Past the cooldown the transfers that did not happen are seen: planned again.
  plan = PlanLeaderBalance(groups, history, kNow + options.cooldown_us + 2, options);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 1u);
  history.Prune(kNow + options.cooldown_us + 2, options.cooldown_us);
  EXPECT_TRUE(history.transfers.empty());
}

TEST(LeaderBalanceTest, AnUnreachableTargetIsSkippedDuringTheCooldown) {
  std::vector<GroupLeadership> groups;
  for (uint64_t id = 1; id <= 6; ++id) groups.push_back(Group(id, {1, 2, 3}, id <= 4 ? 1 : 2));
  LeaderBalanceHistory history;
  history.NoteUnreachable(3, kNow);
  std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, history, kNow + 1, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->to, 2u);  // n1=4 n2=2 n3=0, n3 down: n2 gets one
  plan = PlanLeaderBalance(groups, history, kNow + LeaderBalanceOptions{}.cooldown_us, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->to, 3u);
}

TEST(LeaderBalanceTest, ConvergesIntoTheBandWhenTheMeanAllowsIt) {
  // 5 nodes; 6 initial groups on all of them and 14 created groups on 3 each (as the
  // integration test): 20 leaders, mean 4, band 3..5. All start on node 1.
  std::vector<GroupLeadership> groups;
  for (uint64_t id = 1; id <= 6; ++id) groups.push_back(Group(id, {1, 2, 3, 4, 5}, 1));
  for (uint64_t id = 7; id <= 20; ++id) {
    const uint64_t a = 1 + id % 5;
    const uint64_t b = 1 + (id + 1) % 5;
    groups.push_back(Group(id, {1, a == 1 ? 3 : a, b == 1 ? 4 : b}, 1));
  }
  const int transfers = Converge(groups, {});
  EXPECT_GT(transfers, 0);
  const std::map<uint64_t, size_t> counts = LeaderCounts(groups, {}, kNow, {});
  EXPECT_TRUE(LeadersWithinBand(counts, 0.25)) << Describe(counts);
  EXPECT_EQ(counts.size(), 5u);
}

TEST(LeaderBalanceTest, AChainOfTwoTransfersWhenNoDirectOneExists) {
  // n1=3 n2=1 n3=2, mean 2 (band 1.5..2.5): n1 leads the catalog group (not movable) and
  // two groups n2 does not vote in, so no transfer n1 -> n2 exists; n1 -> n3 -> n2 does.
  // (The integration test on real processes stopped here: n1=3 n2=1 for 100 s.)
  std::vector<GroupLeadership> groups = {Group(1, {1, 2, 3}, 1), Group(3, {1, 3}, 1),
                                         Group(4, {1, 3}, 1),    Group(5, {2, 3}, 3),
                                         Group(6, {2, 3}, 3),    Group(7, {2, 3}, 2)};
  groups[0].movable = false;
  const std::optional<LeaderTransferPlan> plan = PlanLeaderBalance(groups, {}, kNow, {});
  ASSERT_TRUE(plan.has_value()) << Describe(LeaderCounts(groups, {}, kNow, {}));
  EXPECT_EQ(plan->group, 3u);  // the first hop: n1's lowest movable group, to n3
  EXPECT_EQ(plan->from, 1u);
  EXPECT_EQ(plan->to, 3u);
  EXPECT_EQ(Converge(groups, {}), 2);
  const std::map<uint64_t, size_t> counts = LeaderCounts(groups, {}, kNow, {});
  EXPECT_TRUE(LeadersWithinBand(counts, 0.25)) << Describe(counts);
  EXPECT_EQ(groups[0].leader, 1u) << "the catalog group moved";
}

TEST(LeaderBalanceTest, AChainOfThreeTransfers) {
  // n1=3 n2=1 n3=2 n4=2 (mean 2): n1's groups reach only n3, n3's only n4, n4's reach n2.
  std::vector<GroupLeadership> groups = {
      Group(1, {1, 3}, 1), Group(2, {1, 3}, 1), Group(3, {1, 3}, 1), Group(4, {3, 4}, 3),
      Group(5, {3, 4}, 3), Group(6, {2, 4}, 4), Group(7, {2, 4}, 4), Group(8, {2, 4}, 2)};
  EXPECT_EQ(Converge(groups, {}), 3);
  const std::map<uint64_t, size_t> counts = LeaderCounts(groups, {}, kNow, {});
  EXPECT_TRUE(LeadersWithinBand(counts, 0.25)) << Describe(counts);
}

TEST(LeaderBalanceTest, NoChainWithoutAnIdleNodeAtItsEnd) {
  // n1=3 n2=1 n3=2, but n2 votes only with n1 in the catalog group: no chain reaches n2,
  // and a hop n1 -> n3 alone would only swap the counts. Nothing is planned.
  std::vector<GroupLeadership> groups = {Group(1, {1, 2, 3}, 1), Group(3, {1, 3}, 1),
                                         Group(4, {1, 3}, 1),    Group(5, {1, 3}, 3),
                                         Group(6, {1, 3}, 3),    Group(7, {2}, 2)};
  groups[0].movable = false;
  EXPECT_FALSE(PlanLeaderBalance(groups, {}, kNow, {}).has_value())
      << Describe(LeaderCounts(groups, {}, kNow, {}));
}

TEST(LeaderBalanceTest, RandomClustersEndWithoutATransferLeftAndNeverRaiseTheSpread) {
  // Random groups (3 voters of 5 nodes, a few on every node, the first not movable) and
  // leaders: the plans are legal, end, never leave the spread wider than it was, and at
  // the end no node leads two more than a voter of one of its movable groups (checked
  // here, not with the planner's code).
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state](uint64_t bound) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state % bound;
  };
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<GroupLeadership> groups;
    const uint64_t count = 4 + next(12);
    for (uint64_t id = 1; id <= count; ++id) {
      std::vector<uint64_t> voters = {1, 2, 3, 4, 5};
      if (id > 2) {
        // Three of the five.
        for (int drop = 0; drop < 2; ++drop) voters.erase(voters.begin() + next(voters.size()));
      }
      const uint64_t leader = voters[next(voters.size())];
      groups.push_back(Group(id, voters, leader));
    }
    groups[0].movable = false;
    auto spread = [&groups] {
      const std::map<uint64_t, size_t> counts = LeaderCounts(groups, {}, kNow, {});
      size_t low = SIZE_MAX;
      size_t high = 0;
      for (const auto& [node, c] : counts) {
        low = std::min(low, c);
        high = std::max(high, c);
      }
      return high - low;
    };
    const size_t before = spread();
    const int transfers = Converge(groups, {});
    ASSERT_GE(transfers, 0) << "trial " << trial;
    EXPECT_LE(spread(), before) << "trial " << trial;
    const std::map<uint64_t, size_t> counts = LeaderCounts(groups, {}, kNow, {});
    if (LeadersWithinBand(counts, 0.25)) continue;
    for (const GroupLeadership& group : groups) {
      if (!group.movable) continue;
      for (uint64_t voter : group.voters) {
        EXPECT_LT(counts.at(group.leader), counts.at(voter) + 2)
            << "trial " << trial << ": group " << group.group << " could still move from n"
            << group.leader << " to n" << voter << ";" << Describe(counts);
      }
    }
  }
}

TEST(LeaderBalanceTest, TheBand) {
  EXPECT_TRUE(LeadersWithinBand({}, 0.25));
  EXPECT_TRUE(LeadersWithinBand({{1, 4}, {2, 5}, {3, 3}}, 0.25));   // mean 4: 3..5
  EXPECT_FALSE(LeadersWithinBand({{1, 4}, {2, 6}, {3, 2}}, 0.25));  // 6 > 5, 2 < 3
  EXPECT_FALSE(LeadersWithinBand({{1, 1}, {2, 0}}, 0.25));          // mean 0.5
  EXPECT_TRUE(LeadersWithinBand({{1, 0}, {2, 0}}, 0.25));           // nothing to lead
}

}  // namespace
}  // namespace ekv::placement
