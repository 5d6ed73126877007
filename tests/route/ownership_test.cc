#include "core/route/ownership.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/route/test_catalogs.h"

namespace ekv::route {
namespace {

using ::ekv::route::testing::DemoCatalog;
using ::testing::HasSubstr;

// The stale-route version a refusal carries, or a test failure if it is not one.
CatalogVersion RefusedAt(const absl::Status& status) {
  std::optional<StaleRouteError> stale = ParseStaleRouteError(status);
  EXPECT_TRUE(stale.has_value()) << "expected a stale-route error, got " << status;
  return stale.has_value() ? stale->current_version : 0;
}

TEST(StaleRouteErrorTest, FormatParsesBack) {
  absl::Status status = MakeStaleRouteError(12, 3, "key \"x\" is elsewhere");
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(status.message(), "STALE_ROUTE current_version=12 group=3: key \"x\" is elsewhere");
  auto parsed = ParseStaleRouteError(status);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->current_version, 12u);
  EXPECT_EQ(parsed->group, 3u);
  EXPECT_EQ(parsed->reason, "key \"x\" is elsewhere");

  EXPECT_FALSE(ParseStaleRouteError(absl::OkStatus()).has_value());
  EXPECT_FALSE(ParseStaleRouteError(absl::AbortedError("conflict")).has_value());
  EXPECT_FALSE(ParseStaleRouteError(absl::InternalError(status.message())).has_value());
  EXPECT_FALSE(ParseStaleRouteMessage("STALE_ROUTE current_version=x group=1: r").has_value());
  EXPECT_FALSE(ParseStaleRouteMessage("STALE_ROUTE current_version=1 grp=1: r").has_value());
  EXPECT_FALSE(ParseStaleRouteMessage("STALE_ROUTE current_version=1 group=1").has_value());
  EXPECT_TRUE(ParseStaleRouteMessage(status.message()).has_value());
}

TEST(OwnershipTest, RefusesKeysOutsideItsRanges) {
  GroupOwnership group1(1);
  GroupOwnership group2(2);
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(group1.Apply(catalog));
  ASSERT_TRUE(group2.Apply(catalog));
  EXPECT_TRUE(group1.CheckOwnership("a", 1).ok());
  EXPECT_TRUE(group1.CheckOwnership("", 1, AccessKind::kWrite).ok());
  EXPECT_TRUE(group2.CheckOwnership("m", 1).ok());

  absl::Status refused = group1.CheckOwnership("m", 1);
  EXPECT_EQ(RefusedAt(refused), 1u);
  EXPECT_THAT(refused.message(), HasSubstr("key \"m\" is outside every range group 1 owns"));
  EXPECT_EQ(RefusedAt(group2.CheckOwnership("lzz", 1)), 1u);
}

TEST(OwnershipTest, SplitInsideTheGroupKeepsOlderRequestsValid) {
  RouteCatalog catalog = DemoCatalog();
  GroupOwnership group1(1);
  ASSERT_TRUE(group1.Apply(catalog));
  auto split = catalog.Split({1, 1, "g"});
  ASSERT_TRUE(*group1.Apply(split->delta));
  EXPECT_EQ(group1.version(), 2u);
  // A coordinator still at version 1 routed "c" to group 1: still right.
  EXPECT_TRUE(group1.CheckOwnership("c", 1, AccessKind::kWrite).ok());
  EXPECT_TRUE(group1.CheckRangeOwnership("", "m", 1).ok());
  std::vector<OwnedRoute> owned = group1.OwnedRoutes();
  ASSERT_EQ(owned.size(), 2u);
  EXPECT_EQ(owned[0].route.route_id, 3u);
  EXPECT_EQ(owned[0].owned_since, 1u);
  EXPECT_EQ(owned[1].owned_since, 1u);
}

TEST(OwnershipTest, MoveRefusesOldGroupAndOlderRequestsOnTheNewGroup) {
  RouteCatalog catalog = DemoCatalog();
  GroupOwnership group1(1);
  GroupOwnership group3(3);
  ASSERT_TRUE(group1.Apply(catalog));
  ASSERT_TRUE(group3.Apply(catalog));
  std::vector<CatalogDelta> deltas;
  deltas.push_back(catalog.Split({1, 1, "g"})->delta);                                // v2
  deltas.push_back(*catalog.Apply({SetRouteState{2, 4, RouteState::kWriteFenced}}));  // v3
  for (const CatalogDelta& delta : deltas) {
    ASSERT_TRUE(*group1.Apply(delta));
    ASSERT_TRUE(*group3.Apply(delta));
  }
  // Fenced: reads still served, writes refused with the current version.
  EXPECT_TRUE(group1.CheckOwnership("h", 3).ok());
  absl::Status fenced = group1.CheckOwnership("h", 3, AccessKind::kWrite);
  EXPECT_EQ(RefusedAt(fenced), 3u);
  EXPECT_THAT(fenced.message(), HasSubstr("ROUTE_STATE_WRITE_FENCED and does not serve writes"));

  auto moved = catalog.Apply({ReassignRoute{3, 4, 3}});                     // v4
  auto active = catalog.Apply({SetRouteState{4, 4, RouteState::kActive}});  // v5
  ASSERT_TRUE(moved.ok() && active.ok());
  for (const CatalogDelta* delta : {&*moved, &*active}) {
    ASSERT_TRUE(*group1.Apply(*delta));
    ASSERT_TRUE(*group3.Apply(*delta));
  }
  // The old group no longer owns ["g", "m").
  EXPECT_EQ(RefusedAt(group1.CheckOwnership("h", 5)), 5u);
  EXPECT_TRUE(group1.CheckOwnership("c", 5).ok());
  // The new group serves it for requests routed at >= 4, and refuses older routing.
  EXPECT_TRUE(group3.CheckOwnership("h", 5, AccessKind::kWrite).ok());
  EXPECT_TRUE(group3.CheckOwnership("h", 4).ok());
  absl::Status old = group3.CheckOwnership("h", 3);
  EXPECT_EQ(RefusedAt(old), 5u);
  EXPECT_THAT(old.message(), HasSubstr("only since version 4"));
  // Ranges: group 1 owns ["", "g") only.
  EXPECT_TRUE(group1.CheckRangeOwnership("", "g", 5).ok());
  EXPECT_EQ(RefusedAt(group1.CheckRangeOwnership("a", "h", 5)), 5u);
  EXPECT_TRUE(group3.CheckRangeOwnership("g", "m", 5).ok());
  EXPECT_EQ(RefusedAt(group3.CheckRangeOwnership("g", "n", 5)), 5u);
}

TEST(OwnershipTest, SnapshotJumpResetsOwnedSinceConservatively) {
  RouteCatalog catalog = DemoCatalog();
  GroupOwnership group1(1);
  ASSERT_TRUE(group1.Apply(catalog));
  ASSERT_TRUE(catalog.Split({1, 1, "g"}).ok());
  ASSERT_TRUE(catalog.Split({2, 2, "x"}).ok());
  ASSERT_TRUE(group1.Apply(catalog));  // 1 -> 3 in one jump
  EXPECT_EQ(RefusedAt(group1.CheckOwnership("a", 2)), 3u);
  EXPECT_TRUE(group1.CheckOwnership("a", 3).ok());
  EXPECT_FALSE(group1.Apply(catalog));  // not newer
  // Deltas with a gap need a catalog.
  auto next = catalog.Split({3, 3, "c"});
  ASSERT_TRUE(next.ok());
  GroupOwnership behind(1);
  ASSERT_TRUE(behind.Apply(DemoCatalog()));
  EXPECT_EQ(behind.Apply(next->delta).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(OwnershipTest, GroupWithNoRangesRefusesEverything) {
  GroupOwnership group9(9);
  ASSERT_TRUE(group9.Apply(DemoCatalog()));
  EXPECT_EQ(RefusedAt(group9.CheckOwnership("a", 1)), 1u);
  EXPECT_EQ(RefusedAt(group9.CheckRangeOwnership("", "", 1)), 1u);
}

// The planted bug must be observable: a checker that routes a key to the wrong group
// sees the group accept it.
TEST(OwnershipTest, PlantedServeOutsideRangeBugAcceptsForeignKeys) {
  GroupOwnership honest(1);
  GroupOwnership buggy(1, PlantedRouteBugs{.serve_outside_range = true});
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(honest.Apply(catalog));
  ASSERT_TRUE(buggy.Apply(catalog));
  EXPECT_FALSE(honest.CheckOwnership("z", 1).ok());
  EXPECT_TRUE(buggy.CheckOwnership("z", 1, AccessKind::kWrite).ok()) << "planted bug not active";
  EXPECT_FALSE(honest.CheckRangeOwnership("a", "z", 1).ok());
  EXPECT_TRUE(buggy.CheckRangeOwnership("a", "z", 1).ok());
  // Owned keys behave the same either way.
  EXPECT_TRUE(buggy.CheckOwnership("a", 1).ok());
}

}  // namespace
}  // namespace ekv::route
