// PlanHostedGroups (core/node/hosted_groups.h): which created groups a node starts or
// stops hosting.
#include <vector>

#include "core/node/hosted_groups.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

CreatedGroups Groups(std::vector<route::GroupDescriptor> groups) {
  CreatedGroups created;
  for (route::GroupDescriptor& group : groups) created.emplace(group.group_id, std::move(group));
  return created;
}

std::vector<raft::GroupId> Ids(const std::vector<route::GroupDescriptor>& groups) {
  std::vector<raft::GroupId> ids;
  for (const route::GroupDescriptor& group : groups) ids.push_back(group.group_id);
  return ids;
}

TEST(HostedGroupsTest, HostsTheLiveGroupsNamingTheNodeThatItDoesNotHostYet) {
  const CreatedGroups created =
      Groups({{3, {1, 2, 3}, false}, {4, {2, 3, 4}, false}, {5, {1, 4, 5}, false}});
  const HostedGroupsPlan plan = PlanHostedGroups(created, 1, {1, 2, 3});
  EXPECT_EQ(Ids(plan.host), (std::vector<raft::GroupId>{5}));  // 3 hosted, 4 not its own
  EXPECT_TRUE(plan.retire.empty());
  EXPECT_EQ(plan.host.front().voters, (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_TRUE(PlanHostedGroups(created, 1, {1, 2, 3, 5}).empty());
}

TEST(HostedGroupsTest, DropsRetiredGroupsItStillHostsAndNeverStartsThem) {
  const CreatedGroups created = Groups({{3, {1, 2, 3}, true}, {4, {1, 2, 3}, true}});
  const HostedGroupsPlan plan = PlanHostedGroups(created, 2, {1, 2, 3});
  EXPECT_TRUE(plan.host.empty());
  EXPECT_EQ(plan.retire, (std::vector<raft::GroupId>{3}));
}

TEST(HostedGroupsTest, LeavesInitialGroupsAlone) {
  // Groups 1 and 2 are not listed: no plan ever touches them.
  EXPECT_TRUE(PlanHostedGroups({}, 1, {1, 2}).empty());
}

}  // namespace
}  // namespace ekv::node
