// MergeRanges: the catalog command, its fencing and refusals, and what the owning group's
// ownership guard does across it (core/route/catalog.h "Merges", ownership.h).
#include <string>
#include <vector>

#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "core/route/ownership.h"
#include "core/route/route_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/route/test_catalogs.h"

namespace ekv::route {
namespace {

using ::ekv::route::testing::DemoCatalog;
using ::testing::HasSubstr;

// DemoCatalog (["", "m") group 1, ["m", +inf) group 2) split at "g": version 2, routes
// 3 ["", "g") and 4 ["g", "m") on group 1, route 2 ["m", +inf) on group 2.
RouteCatalog SplitDemo() {
  RouteCatalog catalog = DemoCatalog();
  EXPECT_TRUE(catalog.Split({1, 1, "g"}).ok());
  return catalog;
}

TEST(MergeRangesTest, MergesTwoNeighboursOfOneGroupIntoANewRoute) {
  RouteCatalog catalog = SplitDemo();
  absl::StatusOr<MergeResult> merged = catalog.Merge({2, 3, 4});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->catalog_version, 3u);
  EXPECT_EQ(merged->merged, (RouteDescriptor{5, "", "m", 1, RouteState::kActive, 3}));
  EXPECT_EQ(merged->delta.version, 3u);
  EXPECT_EQ(merged->delta.removed_route_ids, (std::vector<RouteId>{3, 4}));
  EXPECT_EQ(merged->delta.upserted_routes, (std::vector<RouteDescriptor>{merged->merged}));
  EXPECT_EQ(catalog.version(), 3u);
  EXPECT_EQ(catalog.route_count(), 2u);
  EXPECT_EQ(catalog.FindRoute(3), nullptr);
  EXPECT_EQ(catalog.FindRoute(4), nullptr);
  EXPECT_EQ(catalog.RouteForKey("h")->route_id, 5u);
  EXPECT_EQ(catalog.next_route_id(), 6u);
  catalog.CheckInvariants();
  // The image round-trips.
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(catalog.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, catalog);
}

TEST(MergeRangesTest, MergesTheLastRouteWithItsLeftNeighbour) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.Split({1, 2, "x"}).ok());  // 3 ["m", "x"), 4 ["x", +inf) on group 2
  absl::StatusOr<MergeResult> merged = catalog.Merge({2, 3, 4});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->merged.start, "m");
  EXPECT_TRUE(merged->merged.end_is_infinite());
  EXPECT_EQ(merged->merged.raft_group_id, 2u);
  catalog.CheckInvariants();
}

TEST(MergeRangesTest, StaleVersionIsRefusedAndChangesNothing) {
  RouteCatalog catalog = SplitDemo();
  const RouteCatalog before = catalog;
  absl::StatusOr<MergeResult> stale = catalog.Merge({1, 3, 4});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(), HasSubstr("expected_catalog_version is 1"));
  EXPECT_EQ(catalog, before);
  // Two merges decided at one version: the first in the log wins.
  ASSERT_TRUE(catalog.Apply({MergeRanges{2, 3, 4}}).ok());
  EXPECT_EQ(catalog.Apply({MergeRanges{2, 3, 4}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(MergeRangesTest, RefusesWhatItCannotMerge) {
  RouteCatalog catalog = SplitDemo();
  const RouteCatalog before = catalog;
  // Not adjacent (or in the wrong order).
  EXPECT_EQ(catalog.Merge({2, 4, 3}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.Merge({2, 3, 2}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(catalog.Merge({2, 3, 2}).status().message(), HasSubstr("not adjacent"));
  // Unknown ids.
  EXPECT_EQ(catalog.Merge({2, 1, 4}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog.Merge({2, 3, 99}).status().code(), absl::StatusCode::kNotFound);
  // Different groups: move one first.
  absl::StatusOr<MergeResult> cross = catalog.Merge({2, 4, 2});
  EXPECT_EQ(cross.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(cross.status().message(), HasSubstr("move one route into the other's group first"));
  EXPECT_EQ(catalog, before);
  // A route in motion (fenced, or moving to another group) does not merge.
  ASSERT_TRUE(catalog.Apply({StartMove{2, 4, 2}}).ok());  // v3: route 4 moving to group 2
  absl::StatusOr<MergeResult> moving = catalog.Merge({3, 3, 4});
  EXPECT_EQ(moving.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(moving.status().message(), HasSubstr("moving to group 2"));
  ASSERT_TRUE(catalog.Apply({SetRouteState{3, 4, RouteState::kActive}}).ok());  // v4: abort
  ASSERT_TRUE(catalog.Apply({SetRouteState{4, 3, RouteState::kWriteFenced}}).ok());
  EXPECT_EQ(catalog.Merge({5, 3, 4}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MergeRangesTest, PlantedBugMergesAcrossGroups) {
  RouteCatalog catalog = SplitDemo();
  absl::StatusOr<MergeResult> merged =
      catalog.Merge({2, 4, 2}, PlantedCatalogBugs{/*merge_across_groups=*/true});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->merged.raft_group_id, 1u);
  EXPECT_EQ(merged->merged.start, "g");
}

TEST(MergeRangesTest, CommandRoundTripsAndFormats) {
  const CatalogCommand command{MergeRanges{7, 8, 9}};
  absl::StatusOr<CatalogCommand> decoded = CatalogCommand::Decode(command.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, command);
  EXPECT_EQ(FormatCommand(command), "MergeRanges{expected_version=7 left=8 right=9}");
  std::string truncated = command.Encode();
  truncated.pop_back();
  EXPECT_EQ(CatalogCommand::Decode(truncated).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MergeRangesTest, SplitThenMergeRestoresTheKeySpaceWithFreshIds) {
  RouteCatalog catalog = DemoCatalog();
  for (int round = 0; round < 20; ++round) {
    const CatalogVersion version = catalog.version();
    const RouteDescriptor* first = catalog.RouteForKey("a");
    absl::StatusOr<SplitResult> split = catalog.Split({version, first->route_id, "c"});
    ASSERT_TRUE(split.ok()) << split.status();
    absl::StatusOr<MergeResult> merged =
        catalog.Merge({version + 1, split->left.route_id, split->right.route_id});
    ASSERT_TRUE(merged.ok()) << merged.status();
    EXPECT_EQ(merged->merged.start, "");
    EXPECT_EQ(merged->merged.end, "m");
    catalog.CheckInvariants();
  }
  EXPECT_EQ(catalog.version(), 41u);
  EXPECT_EQ(catalog.route_count(), 2u);
}

// The group that owns both halves serves the same keys before, during and after the
// merge; the newer owned_since of the two halves carries over, so a request routed before
// either half was this group's is still refused.
TEST(MergeOwnershipTest, GroupServesTheSameKeysAcrossAMerge) {
  RouteCatalog catalog = DemoCatalog();
  GroupOwnership group1(1);
  GroupOwnership group2(2);
  ASSERT_TRUE(group1.Apply(catalog));
  ASSERT_TRUE(group2.Apply(catalog));
  RouteTable table;
  ASSERT_TRUE(table.Apply(catalog));
  std::vector<CatalogDelta> deltas;
  deltas.push_back(catalog.Split({1, 1, "g"})->delta);  // v2: 3 ["", "g"), 4 ["g", "m")
  // v3..v6: route 4 moves to group 2 and back, so it is group 1's only since v6.
  deltas.push_back(*catalog.Apply({StartMove{2, 4, 2}}));
  deltas.push_back(*catalog.Apply({SetRouteState{3, 4, RouteState::kWriteFenced}}));
  deltas.push_back(*catalog.Apply({ReassignRoute{4, 4, 2}}));
  deltas.push_back(*catalog.Apply({SetRouteState{5, 4, RouteState::kActive}}));
  deltas.push_back(*catalog.Apply({StartMove{6, 4, 1}}));
  deltas.push_back(*catalog.Apply({SetRouteState{7, 4, RouteState::kWriteFenced}}));
  deltas.push_back(*catalog.Apply({ReassignRoute{8, 4, 1}}));
  deltas.push_back(*catalog.Apply({SetRouteState{9, 4, RouteState::kActive}}));  // v10
  for (const CatalogDelta& delta : deltas) {
    ASSERT_TRUE(*group1.Apply(delta));
    ASSERT_TRUE(*group2.Apply(delta));
    ASSERT_TRUE(*table.Apply(delta));
  }
  EXPECT_TRUE(group1.CheckOwnership("h", 9, AccessKind::kWrite).ok());
  EXPECT_FALSE(group1.CheckOwnership("h", 8).ok());

  absl::StatusOr<MergeResult> merged = catalog.Merge({10, 3, 4});  // v11: 11 ["", "m")
  ASSERT_TRUE(merged.ok()) << merged.status();
  // Before the group hears of it, a request routed by the new catalog is judged by the
  // old view: the same keys.
  EXPECT_TRUE(group1.CheckOwnership("h", 11, AccessKind::kWrite).ok());
  EXPECT_TRUE(group1.CheckRangeOwnership("", "m", 11).ok());
  ASSERT_TRUE(*group1.Apply(merged->delta));
  ASSERT_TRUE(*group2.Apply(merged->delta));
  ASSERT_TRUE(*table.Apply(merged->delta));
  EXPECT_EQ(table.Lookup("h")->route_id, merged->merged.route_id);
  std::vector<OwnedRoute> owned = group1.OwnedRoutes();
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_EQ(owned[0].route, merged->merged);
  EXPECT_EQ(owned[0].owned_since, 9u);  // the newer half's
  // Requests routed before the merge, at any version the group owned both halves, are
  // served; older ones refused; keys of the other group still refused.
  for (CatalogVersion routed : {9u, 10u, 11u}) {
    EXPECT_TRUE(group1.CheckOwnership("a", routed, AccessKind::kWrite).ok()) << routed;
    EXPECT_TRUE(group1.CheckOwnership("h", routed, AccessKind::kWrite).ok()) << routed;
    EXPECT_TRUE(group1.CheckRangeOwnership("", "m", routed).ok()) << routed;
  }
  EXPECT_FALSE(group1.CheckOwnership("h", 5).ok());
  EXPECT_FALSE(group1.CheckOwnership("n", 11).ok());
  EXPECT_FALSE(group2.CheckOwnership("h", 11).ok());
  EXPECT_TRUE(group2.CheckOwnership("n", 11, AccessKind::kWrite).ok());
  // The snapshot form keeps it.
  std::string bytes;
  group1.Encode(&bytes);
  absl::StatusOr<GroupOwnership> decoded = GroupOwnership::Decode(1, {}, bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, group1);
}

}  // namespace
}  // namespace ekv::route
