// Cross-group moves in the catalog and in GroupOwnership: StartMove / abort / cut-over
// rules, the catalog encodings (format 1 kept while no move is in flight, format 2 with
// move targets, both decoded), and what each group may serve, ingest and delete in every
// step of a move.
#include <string>

#include "core/kv/codec.h"
#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "core/route/ownership.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/route/test_catalogs.h"

namespace ekv::route {
namespace {

using ::ekv::route::testing::DemoCatalog;
using ::testing::HasSubstr;

// Applies `command` and fails the test if the catalog refuses it.
CatalogDelta MustApply(RouteCatalog& catalog, CatalogCommand command) {
  absl::StatusOr<CatalogDelta> delta = catalog.Apply(command);
  EXPECT_TRUE(delta.ok()) << FormatCommand(command) << ": " << delta.status();
  return delta.ok() ? *delta : CatalogDelta{};
}

bool IsStale(const absl::Status& status) { return ParseStaleRouteError(status).has_value(); }

TEST(CatalogMoveTest, StartMoveFenceCutOverAndTheRulesOnTheWay) {
  RouteCatalog catalog = DemoCatalog();  // route 1 ["", "m") group 1; route 2 ["m", +inf) group 2
  // Not to its own group, not to group 0, only from ACTIVE.
  EXPECT_EQ(catalog.Apply({StartMove{1, 1, 1}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.Apply({StartMove{1, 1, 0}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  MustApply(catalog, {StartMove{1, 1, 3}});
  const RouteDescriptor* route = catalog.FindRoute(1);
  EXPECT_EQ(route->state, RouteState::kMigratingSource);
  EXPECT_EQ(route->move_target_group_id, 3u);
  EXPECT_EQ(route->raft_group_id, 1u);
  EXPECT_THAT(FormatRoute(*route), HasSubstr("MIGRATING_SOURCE parent 0 moving to 3"));
  EXPECT_EQ(catalog.Apply({StartMove{2, 1, 3}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A moving route cannot split, cannot become MIGRATING_TARGET, and cannot be handed
  // over while it still takes writes or to another group.
  EXPECT_FALSE(catalog.Apply({SplitRange{2, 1, "c"}}).ok());
  EXPECT_EQ(catalog.Apply({SetRouteState{2, 1, RouteState::kMigratingTarget}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog.Apply({ReassignRoute{2, 1, 3}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  MustApply(catalog, {SetRouteState{2, 1, RouteState::kWriteFenced}});
  EXPECT_EQ(catalog.FindRoute(1)->move_target_group_id, 3u);  // the fence keeps the target
  EXPECT_EQ(catalog.Apply({ReassignRoute{3, 1, 4}}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  MustApply(catalog, {ReassignRoute{3, 1, 3}});
  route = catalog.FindRoute(1);
  EXPECT_EQ(route->raft_group_id, 3u);
  EXPECT_EQ(route->move_target_group_id, 0u);
  EXPECT_EQ(route->state, RouteState::kWriteFenced);
  MustApply(catalog, {SetRouteState{4, 1, RouteState::kActive}});
  EXPECT_EQ(catalog.version(), 5u);
  catalog.CheckInvariants();
}

TEST(CatalogMoveTest, BackToActiveAbortsTheMove) {
  RouteCatalog catalog = DemoCatalog();
  MustApply(catalog, {StartMove{1, 2, 1}});
  MustApply(catalog, {SetRouteState{2, 2, RouteState::kWriteFenced}});
  MustApply(catalog, {SetRouteState{3, 2, RouteState::kMigratingSource}});
  EXPECT_EQ(catalog.FindRoute(2)->move_target_group_id, 1u);
  MustApply(catalog, {SetRouteState{4, 2, RouteState::kActive}});
  EXPECT_EQ(catalog.FindRoute(2)->move_target_group_id, 0u);
  EXPECT_EQ(catalog.FindRoute(2)->raft_group_id, 2u);
}

TEST(CatalogMoveTest, EncodingIsFormatOneWithoutMovesAndTwoWithThem) {
  RouteCatalog catalog = DemoCatalog();
  const std::string before = catalog.Encode();
  EXPECT_EQ(static_cast<uint8_t>(before[0]), kCatalogFormat);
  CatalogDelta start = MustApply(catalog, {StartMove{1, 1, 3}});
  const std::string moving = catalog.Encode();
  EXPECT_EQ(static_cast<uint8_t>(moving[0]), kCatalogFormatWithMoves);
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(moving);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, catalog);
  std::string delta_bytes;
  start.Encode(&delta_bytes);
  EXPECT_EQ(static_cast<uint8_t>(delta_bytes[0]), kCatalogFormatWithMoves);
  absl::StatusOr<CatalogDelta> delta = CatalogDelta::Decode(delta_bytes);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(*delta, start);
  EXPECT_EQ(delta->upserted_routes[0].move_target_group_id, 3u);
  // An old (format 1) image still decodes, and a catalog without moves writes it again.
  absl::StatusOr<RouteCatalog> old = RouteCatalog::Decode(before);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->Encode(), before);
  MustApply(catalog, {SetRouteState{2, 1, RouteState::kActive}});
  EXPECT_EQ(static_cast<uint8_t>(catalog.Encode()[0]), kCatalogFormat);
  // The commands round-trip.
  CatalogCommand command{StartMove{7, 1, 3}};
  absl::StatusOr<CatalogCommand> back = CatalogCommand::Decode(command.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, command);
  EXPECT_EQ(FormatCommand(command), "StartMove{expected_version=7 route=1 target_group=3}");
}

TEST(CatalogMoveTest, DecodeRejectsAMoveTargetOnAnActiveRoute) {
  RouteCatalog catalog = DemoCatalog();
  MustApply(catalog, {StartMove{1, 1, 3}});
  std::string bytes = catalog.Encode();
  // Route 1's state byte follows its group varint; make it ACTIVE with its target kept.
  RouteDescriptor route = *catalog.FindRoute(1);
  std::string encoded;
  EncodeRoute(&encoded, route, /*with_move_target=*/true);
  route.state = RouteState::kActive;
  std::string active;
  EncodeRoute(&active, route, /*with_move_target=*/true);
  const size_t at = bytes.find(encoded);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, encoded.size(), active);
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(bytes);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("moving to group 3"));
}

// Group 1 moves route 1 ["", "m") to group 3, step by step; each group's view follows
// by deltas, as a pushed catalog would make it.
TEST(OwnershipMoveTest, WhatSourceAndTargetServeIngestAndDeleteInEachStep) {
  RouteCatalog catalog = DemoCatalog();
  GroupOwnership source(1);
  GroupOwnership target(3);
  source.Apply(catalog);
  target.Apply(catalog);
  auto follow = [&](const CatalogDelta& delta) {
    ASSERT_TRUE(source.Apply(delta).ok());
    ASSERT_TRUE(target.Apply(delta).ok());
  };
  EXPECT_EQ(target.CheckIngest(1, "", "m", 1).code(), absl::StatusCode::kFailedPrecondition);

  follow(MustApply(catalog, {StartMove{1, 1, 3}}));                     // version 2
  EXPECT_TRUE(source.CheckOwnership("a", 1, AccessKind::kWrite).ok());  // still serving
  EXPECT_TRUE(IsStale(target.CheckOwnership("a", 2, AccessKind::kRead)));
  ASSERT_EQ(target.IncomingRoutes().size(), 1u);
  EXPECT_EQ(target.IncomingRoutes()[0].incoming_since, 2u);
  EXPECT_TRUE(target.CheckIngest(1, "", "m", 2).ok());
  EXPECT_TRUE(target.CheckIngest(1, "c", "f", 2).ok());
  EXPECT_EQ(target.CheckIngest(1, "c", "z", 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(target.CheckIngest(2, "m", "", 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(target.CheckIngest(1, "", "m", 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsStale(target.CheckIngest(1, "", "m", 3)));  // the target is behind
  EXPECT_EQ(source.CheckIngest(1, "", "m", 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(target.CheckDeleteRange("", "m", 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(source.CheckDeleteRange("", "m", 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(source.CheckHoldsRange("", "m").ok());
  EXPECT_TRUE(IsStale(target.CheckHoldsRange("", "m")));

  follow(MustApply(catalog, {SetRouteState{2, 1, RouteState::kWriteFenced}}));  // version 3
  EXPECT_TRUE(source.CheckOwnership("a", 3, AccessKind::kRead).ok());
  EXPECT_TRUE(IsStale(source.CheckOwnership("a", 3, AccessKind::kWrite)));
  EXPECT_TRUE(IsStale(target.CheckOwnership("a", 3, AccessKind::kRead)));
  // The fence starts a new period: a chunk of a pass made before it (a late duplicate)
  // is refused, a chunk of the final pass (made under the fence, at version 3) is taken.
  EXPECT_EQ(target.IncomingRoutes()[0].incoming_since, 3u);
  EXPECT_EQ(target.CheckIngest(1, "", "m", 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(target.CheckIngest(1, "", "m", 3).ok());

  follow(MustApply(catalog, {ReassignRoute{3, 1, 3}}));  // version 4: the cut-over
  EXPECT_TRUE(IsStale(source.CheckOwnership("a", 4, AccessKind::kRead)));
  EXPECT_TRUE(target.IncomingRoutes().empty());
  EXPECT_EQ(target.CheckIngest(1, "", "m", 3).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(target.CheckOwnership("a", 4, AccessKind::kRead).ok());
  EXPECT_TRUE(IsStale(target.CheckOwnership("a", 4, AccessKind::kWrite)));  // still fenced
  // Routed before the cut-over: refused, the coordinator's view of the range is wrong.
  absl::Status old_route = target.CheckOwnership("a", 3, AccessKind::kRead);
  EXPECT_TRUE(IsStale(old_route));
  EXPECT_THAT(old_route.message(), HasSubstr("only since version 4"));
  EXPECT_TRUE(source.CheckDeleteRange("", "m", 4).ok());
  EXPECT_TRUE(IsStale(source.CheckDeleteRange("", "m", 5)));  // decided at a newer view
  EXPECT_EQ(target.CheckDeleteRange("", "m", 4).code(), absl::StatusCode::kFailedPrecondition);

  follow(MustApply(catalog, {SetRouteState{4, 1, RouteState::kActive}}));  // version 5
  EXPECT_TRUE(target.CheckOwnership("a", 5, AccessKind::kWrite).ok());
  EXPECT_TRUE(target.CheckOwnership("a", 4, AccessKind::kWrite).ok());
  EXPECT_TRUE(IsStale(target.CheckOwnership("a", 3, AccessKind::kWrite)));
  EXPECT_TRUE(IsStale(target.CheckOwnership("a", 0 + 1, AccessKind::kRead)));
  // Unversioned requests are judged by ownership only, as before.
  EXPECT_TRUE(target.CheckOwnership("a", 0, AccessKind::kWrite).ok());
}

TEST(OwnershipMoveTest, AChunkOfAnAbortedMoveIsRefusedInTheNextMove) {
  RouteCatalog catalog = DemoCatalog();
  GroupOwnership target(3);
  target.Apply(catalog);
  ASSERT_TRUE(target.Apply(MustApply(catalog, {StartMove{1, 1, 3}})).ok());  // 2
  ASSERT_TRUE(target.Apply(MustApply(catalog, {SetRouteState{2, 1, RouteState::kActive}})).ok());
  EXPECT_TRUE(target.CheckDeleteRange("", "m", 3).ok());  // the target may drop its copy
  ASSERT_TRUE(target.Apply(MustApply(catalog, {StartMove{3, 1, 3}})).ok());  // 4
  EXPECT_EQ(target.IncomingRoutes()[0].incoming_since, 4u);
  EXPECT_EQ(target.CheckIngest(1, "", "m", 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(target.CheckIngest(1, "", "m", 4).ok());
}

TEST(OwnershipMoveTest, EncodingKeepsOldBytesWithoutMovesAndRoundTripsWithThem) {
  RouteCatalog catalog = DemoCatalog();
  GroupOwnership source(1);
  GroupOwnership target(3);
  source.Apply(catalog);
  target.Apply(catalog);
  std::string plain;
  source.Encode(&plain);
  // The pre-move format: varint version, count, (route v1, owned_since)...
  std::string expected;
  kv::AppendVarint64(&expected, 1);
  kv::AppendVarint64(&expected, 1);
  EncodeRoute(&expected, *catalog.FindRoute(1));
  kv::AppendVarint64(&expected, 1);
  EXPECT_EQ(plain, expected);

  CatalogDelta delta = MustApply(catalog, {StartMove{1, 1, 3}});
  ASSERT_TRUE(source.Apply(delta).ok());
  ASSERT_TRUE(target.Apply(delta).ok());
  for (const GroupOwnership* ownership : {&source, &target}) {
    std::string bytes;
    ownership->Encode(&bytes);
    absl::StatusOr<GroupOwnership> decoded =
        GroupOwnership::Decode(ownership->group_id(), {}, bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, *ownership);
    // A full-catalog view equals the delta-followed one.
    GroupOwnership fresh(ownership->group_id());
    fresh.Apply(catalog);
    EXPECT_EQ(fresh.IncomingRoutes(), ownership->IncomingRoutes());
    EXPECT_EQ(fresh.OwnedRoutes().size(), ownership->OwnedRoutes().size());
  }
  EXPECT_EQ(source.OwnedRoutes()[0].route.move_target_group_id, 3u);
  // Truncated extension: rejected.
  std::string bytes;
  target.Encode(&bytes);
  bytes.pop_back();
  EXPECT_EQ(GroupOwnership::Decode(3, {}, bytes).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ekv::route
