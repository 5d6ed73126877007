// PlanReplicaBalance (core/placement/replica_balance.h): which replica moves next so that
// members host replicas of created groups within one of each other.
#include <optional>
#include <vector>

#include "core/placement/replica_balance.h"
#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "gtest/gtest.h"

namespace ekv::placement {
namespace {

route::RouteCatalog WithGroups(const std::vector<std::vector<uint64_t>>& voters) {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EXPECT_TRUE(catalog.ok());
  route::GroupId id = 3;
  for (const std::vector<uint64_t>& group : voters) {
    EXPECT_TRUE(catalog->AddGroup({catalog->version(), id++, group}).ok());
  }
  return *std::move(catalog);
}

void Change(route::RouteCatalog& catalog, route::GroupId group, uint64_t node,
            route::ReplicaChange change) {
  ASSERT_TRUE(catalog.ChangeReplica({catalog.version(), group, node, change}).ok());
}

// Runs plans (applying each as a finished move) until balanced; the moves it took.
int Converge(route::RouteCatalog& catalog, const std::vector<uint64_t>& members) {
  for (int moves = 0; moves < 50; ++moves) {
    const std::optional<ReplicaMovePlan> plan = PlanReplicaBalance(members, catalog);
    if (!plan.has_value()) return moves;
    EXPECT_NE(plan->from, plan->to);
    const route::GroupDescriptor* group = catalog.FindGroup(plan->group);
    EXPECT_TRUE(group != nullptr && group->IsReplica(plan->from));
    if (!group->IsReplica(plan->to))
      Change(catalog, plan->group, plan->to, route::ReplicaChange::kAdd);
    Change(catalog, plan->group, plan->from, route::ReplicaChange::kRemove);
  }
  ADD_FAILURE() << "no balance after 50 moves";
  return -1;
}

TEST(ReplicaBalanceTest, BalancedWhenCountsAreWithinOne) {
  const route::RouteCatalog catalog = WithGroups({{1, 2, 3}, {3, 4, 5}});
  EXPECT_FALSE(PlanReplicaBalance({1, 2, 3, 4, 5}, catalog).has_value());
  // Initial groups (on every member) and no created group: nothing to balance.
  EXPECT_FALSE(PlanReplicaBalance({1, 2, 3}, WithGroups({})).has_value());
}

TEST(ReplicaBalanceTest, AJoinedNodeWithNoReplicasReceivesSome) {
  // Three groups on nodes 1-3 (3 each); nodes 4 and 5 joined with none.
  route::RouteCatalog catalog = WithGroups({{1, 2, 3}, {1, 2, 3}, {1, 2, 3}});
  const std::optional<ReplicaMovePlan> first = PlanReplicaBalance({1, 2, 3, 4, 5}, catalog);
  ASSERT_TRUE(first.has_value());
  // The busiest (lowest id among equals) to the idlest.
  EXPECT_EQ(first->from, 1u);
  EXPECT_TRUE(first->to == 4u || first->to == 5u) << first->to;
  EXPECT_GT(Converge(catalog, {1, 2, 3, 4, 5}), 0);
  const std::map<uint64_t, size_t> counts = ReplicaCounts({1, 2, 3, 4, 5}, catalog);
  for (const auto& [node, count] : counts) {
    EXPECT_GE(count, 1u) << "n" << node;
    EXPECT_LE(count, 2u) << "n" << node;  // 9 replicas on 5 nodes: within one
  }
}

TEST(ReplicaBalanceTest, WithinTwentyFivePercentOfTheMeanAtScale) {
  // 8 groups of 3 on nodes 1-3 of 6: mean 4, each ends within one of it (+-25%).
  route::RouteCatalog catalog = WithGroups(std::vector<std::vector<uint64_t>>(8, {1, 2, 3}));
  Converge(catalog, {1, 2, 3, 4, 5, 6});
  for (const auto& [node, count] : ReplicaCounts({1, 2, 3, 4, 5, 6}, catalog)) {
    EXPECT_GE(count, 3u) << "n" << node;
    EXPECT_LE(count, 5u) << "n" << node;
  }
}

TEST(ReplicaBalanceTest, NeverToANodeOnceRemovedFromTheGroup) {
  // Node 4 hosts nothing; it joined group 3 and left again (removed for good), so only a
  // replica of group 4 may go there (node 5 stays free for group 4 to be drained to).
  route::RouteCatalog catalog = WithGroups({{1, 2, 3}, {1, 2, 3}, {1, 2, 5}});
  Change(catalog, 3, 4, route::ReplicaChange::kAdd);
  Change(catalog, 3, 4, route::ReplicaChange::kRemove);
  const std::optional<ReplicaMovePlan> plan = PlanReplicaBalance({1, 2, 3, 4, 5}, catalog);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 4u);
  EXPECT_EQ(plan->to, 4u);
  // With group 4 gone too, nothing can go to node 4: as balanced as it gets.
  route::RouteCatalog only = WithGroups({{1, 2, 3}});
  Change(only, 3, 4, route::ReplicaChange::kAdd);
  Change(only, 3, 4, route::ReplicaChange::kRemove);
  Change(only, 3, 5, route::ReplicaChange::kAdd);  // a fifth member, joined: 4 replicas
  Change(only, 3, 1, route::ReplicaChange::kRemove);
  EXPECT_FALSE(PlanReplicaBalance({1, 2, 3, 4, 5}, only).has_value());
}

TEST(ReplicaBalanceTest, EveryGroupKeepsAMemberToDrainTo) {
  // Group 3 moved once (node 1 removed), group 4 not: n1=0 n2=2 n3=2 n4=2 n5=0. Moving
  // group 3 again (to node 5) would leave it no free member (1 removed, 5 hosting), so no
  // node of it could be drained: group 4 moves instead.
  route::RouteCatalog catalog = WithGroups({{1, 2, 3}, {2, 3, 4}});
  Change(catalog, 3, 4, route::ReplicaChange::kAdd);
  Change(catalog, 3, 1, route::ReplicaChange::kRemove);
  const std::optional<ReplicaMovePlan> plan = PlanReplicaBalance({1, 2, 3, 4, 5}, catalog);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 4u);
  // In 4 nodes a 3-replica group has one free member: moving there would use it up.
  EXPECT_FALSE(
      PlanReplicaBalance({1, 2, 3, 4}, WithGroups({{1, 2, 3}, {1, 2, 3}, {1, 2, 3}})).has_value());
}

TEST(ReplicaBalanceTest, FinishesAMoveThatStoppedBetweenItsCatalogSteps) {
  // Node 5 joined group 3, whose source never left: the busiest other replica leaves.
  route::RouteCatalog catalog = WithGroups({{1, 2, 3}, {1, 4, 5}});
  Change(catalog, 3, 5, route::ReplicaChange::kAdd);
  const std::optional<ReplicaMovePlan> plan = PlanReplicaBalance({1, 2, 3, 4, 5}, catalog);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group, 3u);
  EXPECT_EQ(plan->to, 5u);
  EXPECT_EQ(plan->from, 1u);  // node 1 hosts two groups, 2 and 3 one each
}

}  // namespace
}  // namespace ekv::placement
