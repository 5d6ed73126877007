// ChooseGroupVoters (core/placement/group_voters.h): where a new group's replicas go.
#include <vector>

#include "core/placement/group_voters.h"
#include "core/route/catalog.h"
#include "gtest/gtest.h"

namespace ekv::placement {
namespace {

route::RouteCatalog WithGroups(const std::vector<route::CreateGroup>& creates) {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EXPECT_TRUE(catalog.ok());
  for (const route::CreateGroup& create : creates) {
    route::CreateGroup at_version = create;
    at_version.expected_catalog_version = catalog->version();
    EXPECT_TRUE(catalog->AddGroup(at_version).ok());
  }
  return *std::move(catalog);
}

TEST(GroupVotersTest, PicksTheLeastLoadedMembersWithLowIdsBreakingTies) {
  const route::RouteCatalog none = WithGroups({});
  EXPECT_EQ(*ChooseGroupVoters({1, 2, 3, 4, 5}, none, 3), (std::vector<uint64_t>{1, 2, 3}));
  // Group 3 on 1,2,3: the next goes to 4 and 5 first, then the lowest of the rest.
  const route::RouteCatalog one = WithGroups({{0, 3, {1, 2, 3}}});
  EXPECT_EQ(*ChooseGroupVoters({1, 2, 3, 4, 5}, one, 3), (std::vector<uint64_t>{1, 4, 5}));
  // Voters that left the cluster do not count; members are what is passed.
  EXPECT_EQ(*ChooseGroupVoters({4, 5, 6}, one, 2), (std::vector<uint64_t>{4, 5}));
}

TEST(GroupVotersTest, RetiredGroupsDoNotCount) {
  route::RouteCatalog catalog = WithGroups({{0, 3, {1, 2, 3}}});
  ASSERT_TRUE(catalog.Retire({catalog.version(), 3}).ok());
  EXPECT_EQ(*ChooseGroupVoters({1, 2, 3, 4, 5}, catalog, 3), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(GroupVotersTest, RefusesImpossibleCounts) {
  const route::RouteCatalog none = WithGroups({});
  EXPECT_EQ(ChooseGroupVoters({1, 2}, none, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChooseGroupVoters({1, 2}, none, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChooseGroupVoters({1, 2, 3, 4, 5, 6, 7, 8}, none, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ekv::placement
