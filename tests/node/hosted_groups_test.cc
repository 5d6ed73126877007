// PlanHostedGroups (core/node/hosted_groups.h): which created groups a node starts or
// stops hosting.
#include <algorithm>
#include <vector>

#include "core/node/hosted_groups.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

// Live groups, created in a row: the range runs from the first listed id to the last
// (widened by `retired` ids, which are not listed).
CreatedGroups Groups(std::vector<route::GroupDescriptor> groups,
                     std::vector<raft::GroupId> retired = {}) {
  CreatedGroups created;
  for (route::GroupDescriptor& group : groups) {
    retired.push_back(group.group_id);
    created.live.emplace(group.group_id, std::move(group));
  }
  if (!retired.empty()) {
    created.ids = {*std::min_element(retired.begin(), retired.end()),
                   *std::max_element(retired.begin(), retired.end())};
  }
  return created;
}

std::vector<raft::GroupId> Ids(const std::vector<HostedGroup>& groups) {
  std::vector<raft::GroupId> ids;
  for (const HostedGroup& group : groups) ids.push_back(group.group_id);
  return ids;
}

route::GroupDescriptor Group(raft::GroupId id, std::vector<uint64_t> voters,
                             std::vector<uint64_t> joined = {},
                             std::vector<uint64_t> removed = {}) {
  return route::GroupDescriptor{id, std::move(voters), std::move(joined), std::move(removed), {}};
}

TEST(HostedGroupsTest, HostsTheLiveGroupsNamingTheNodeThatItDoesNotHostYet) {
  const CreatedGroups created =
      Groups({Group(3, {1, 2, 3}), Group(4, {2, 3, 4}), Group(5, {1, 4, 5})});
  const HostedGroupsPlan plan = PlanHostedGroups(created, 1, {1, 2, 3});
  EXPECT_EQ(Ids(plan.host), (std::vector<raft::GroupId>{5}));  // 3 hosted, 4 not its own
  EXPECT_TRUE(plan.retire.empty());
  EXPECT_EQ(plan.host.front().bootstrap_voters, (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_TRUE(PlanHostedGroups(created, 1, {1, 2, 3, 5}).empty());
}

TEST(HostedGroupsTest, DropsRetiredGroupsItStillHostsAndNeverStartsThem) {
  // Groups 3 to 6 created; 3, 4 and 6 retired (their records reclaimed): only 5 is listed.
  const CreatedGroups created = Groups({Group(5, {1, 2, 3})}, {3, 4, 6});
  const HostedGroupsPlan plan = PlanHostedGroups(created, 2, {1, 2, 3, 5, 6});
  EXPECT_TRUE(plan.host.empty());
  // The initial groups 1 and 2 (below the created range) stay; so does live group 5.
  EXPECT_EQ(plan.retire, (std::vector<raft::GroupId>{3, 6}));
  // Nothing retired is hosted: nothing to do.
  EXPECT_TRUE(PlanHostedGroups(created, 2, {1, 2, 5}).empty());
  // Every created group retired: no record left, the range alone says so.
  EXPECT_EQ(PlanHostedGroups(Groups({}, {3, 6}), 2, {1, 2, 4}).retire,
            (std::vector<raft::GroupId>{4}));
}

TEST(HostedGroupsTest, AJoinedNodeStartsTheGroupEmptyNeverBootstrapped) {
  // Group 3 created on 1,2,3; node 4 joined by a replica move, node 1 left.
  const CreatedGroups created = Groups({Group(3, {1, 2, 3}, {4}, {1})});
  const HostedGroupsPlan plan = PlanHostedGroups(created, 4, {1, 2});
  EXPECT_EQ(Ids(plan.host), (std::vector<raft::GroupId>{3}));
  EXPECT_TRUE(plan.host.front().bootstrap_voters.empty());  // waits for the leader
  // The planted bug bootstraps it with the replicas of today: first entries the group
  // never had.
  PlantedHostedGroupsBugs plants;
  plants.joined_bootstraps = true;
  EXPECT_EQ(PlanHostedGroups(created, 4, {1, 2}, plants).host.front().bootstrap_voters,
            (std::vector<uint64_t>{2, 3, 4}));
  // A bootstrap voter that is still a replica bootstraps with the creation's voters.
  EXPECT_EQ(PlanHostedGroups(created, 2, {1}).host.front().bootstrap_voters,
            (std::vector<uint64_t>{1, 2, 3}));
}

TEST(HostedGroupsTest, ARemovedNodeStopsHostingAndNeverHostsItAgain) {
  const CreatedGroups created = Groups({Group(3, {1, 2, 3}, {4}, {1})});
  // Still hosting it (it was down during its removal, and restarted from its disk).
  EXPECT_EQ(PlanHostedGroups(created, 1, {1, 2, 3}).retire, (std::vector<raft::GroupId>{3}));
  // Not hosting it (a fresh disk, or stopped already): it is not started again.
  EXPECT_TRUE(PlanHostedGroups(created, 1, {1, 2}).empty());
  // The planted bug forgets the removal: a stray replica.
  PlantedHostedGroupsBugs plants;
  plants.ignore_removed = true;
  EXPECT_TRUE(PlanHostedGroups(created, 1, {1, 2, 3}, plants).retire.empty());
  EXPECT_EQ(Ids(PlanHostedGroups(created, 1, {1, 2}, plants).host),
            (std::vector<raft::GroupId>{3}));
}

TEST(HostedGroupsTest, AReadmittedVoterJoinsAgainEmpty) {
  // Group 3 created on 1,2,3; node 1 removed, readmitted after it rejoined the cluster with
  // an empty data dir, not added back yet: it does not host the group.
  route::GroupDescriptor group = Group(3, {1, 2, 3}, {4}, {});
  group.readmitted = {1};
  EXPECT_TRUE(PlanHostedGroups(Groups({group}), 1, {1, 2}).empty());
  // Added back: it starts the group empty; bootstrapping with the creation's voters would
  // make it a voter of a configuration the group has left.
  group.joined = {1, 4};
  const HostedGroupsPlan plan = PlanHostedGroups(Groups({group}), 1, {1, 2});
  EXPECT_EQ(Ids(plan.host), (std::vector<raft::GroupId>{3}));
  EXPECT_TRUE(plan.host.front().bootstrap_voters.empty());
  // The other voters still bootstrap with the creation's voters.
  EXPECT_EQ(PlanHostedGroups(Groups({group}), 2, {1}).host.front().bootstrap_voters,
            (std::vector<uint64_t>{1, 2, 3}));
}

TEST(HostedGroupsTest, LeavesInitialGroupsAlone) {
  // Groups 1 and 2 are not listed: no plan ever touches them.
  EXPECT_TRUE(PlanHostedGroups({}, 1, {1, 2}).empty());
}

}  // namespace
}  // namespace ekv::node
