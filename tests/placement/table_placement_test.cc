// The table placement planner (core/placement/table_placement.h): catalogs in, the next
// split or move out. A small catalog model applies each step, so every test drives the
// planner to the end and checks where the key space landed, and that nothing else moved.
#include "core/placement/table_placement.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ekv::placement {
namespace {

using Kind = TablePlacementStep::Kind;

std::string Describe(const std::vector<CatalogRoute>& routes) {
  std::string out;
  for (const CatalogRoute& r : routes) {
    absl::StrAppend(&out, "[", r.start, ",", r.end.empty() ? "+inf" : r.end, ")g", r.group,
                    r.active ? "" : "(moving)", " ");
  }
  return out;
}

// The catalog as SplitRange and MoveRange leave it: routes in key order.
class CatalogModel {
 public:
  explicit CatalogModel(std::vector<CatalogRoute> routes) : routes_(std::move(routes)) {
    for (const CatalogRoute& r : routes_) next_id_ = std::max(next_id_, r.route_id + 1);
  }
  const std::vector<CatalogRoute>& routes() const { return routes_; }

  void Apply(const TablePlacementStep& step) {
    if (step.kind == Kind::kSplit) {
      for (size_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i].route_id != step.route_id) continue;
        ASSERT_GT(step.key, routes_[i].start) << Describe(routes_);
        ASSERT_TRUE(routes_[i].end.empty() || step.key < routes_[i].end) << Describe(routes_);
        CatalogRoute right = routes_[i];
        right.route_id = next_id_++;
        right.start = step.key;
        routes_[i].end = step.key;
        routes_.insert(routes_.begin() + static_cast<std::ptrdiff_t>(i) + 1, right);
        return;
      }
      FAIL() << "split of unknown route " << step.route_id;
    }
    for (CatalogRoute& r : routes_) {
      if (r.start == step.key) {
        r.group = step.group;
        return;
      }
    }
    FAIL() << "move names no route start: " << step.key << " in " << Describe(routes_);
  }

  route::GroupId GroupOf(const std::string& key) const {
    route::GroupId group = 0;
    for (const CatalogRoute& r : routes_) {
      if (r.start > key) break;
      group = r.group;
    }
    return group;
  }

 private:
  std::vector<CatalogRoute> routes_;
  route::RouteId next_id_ = 1;
};

// Runs the planner to the end; every step it took.
std::vector<TablePlacementStep> PlaceAll(CatalogModel& catalog,
                                         const std::vector<std::string>& boundaries) {
  std::vector<TablePlacementStep> steps;
  for (int guard = 0; guard < 100; ++guard) {
    absl::StatusOr<std::optional<TablePlacementStep>> next =
        NextTablePlacementStep(catalog.routes(), boundaries);
    EXPECT_TRUE(next.ok()) << next.status() << " on " << Describe(catalog.routes());
    if (!next.ok() || !next->has_value()) return steps;
    steps.push_back(**next);
    catalog.Apply(**next);
  }
  ADD_FAILURE() << "placement did not end: " << Describe(catalog.routes());
  return steps;
}

std::vector<CatalogRoute> TwoGroups() { return {{1, "", "m", 1, true}, {2, "m", "", 2, true}}; }

TEST(TablePlacementTest, OneGroupNeedsNothing) {
  const std::vector<CatalogRoute> routes = {{1, "", "g", 7, true}, {2, "g", "", 7, true}};
  EXPECT_EQ(TablePlacementParts(routes), 1u);
  absl::StatusOr<std::optional<TablePlacementStep>> next =
      NextTablePlacementStep(routes, {"b", "c"});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(next->has_value());
}

TEST(TablePlacementTest, PartsArePerGroupAndBounded) {
  EXPECT_EQ(TablePlacementParts(TwoGroups()), 2u);
  std::vector<CatalogRoute> many;
  for (uint64_t g = 1; g <= 20; ++g) {
    many.push_back({g, g == 1 ? "" : absl::StrCat("k", 100 + g),
                    g == 20 ? "" : absl::StrCat("k", 101 + g), g, true});
  }
  EXPECT_EQ(TablePlacementParts(many), kMaxTableParts);
}

TEST(TablePlacementTest, CutsFirstThenMovesTheUpperPart) {
  CatalogModel catalog(TwoGroups());
  const std::vector<std::string> boundaries = {"d0", "d5", "d9"};
  const std::vector<TablePlacementStep> steps = PlaceAll(catalog, boundaries);
  const std::vector<TablePlacementStep> expected = {
      {Kind::kSplit, 1, "d0", 0},
      {Kind::kSplit, 3, "d5", 0},
      {Kind::kSplit, 4, "d9", 0},
      {Kind::kMove, 4, "d5", 2},
  };
  ASSERT_EQ(steps.size(), expected.size()) << Describe(catalog.routes());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_TRUE(steps[i] == expected[i])
        << "step " << i << ": kind " << static_cast<int>(steps[i].kind) << " route "
        << steps[i].route_id << " key " << steps[i].key << " group " << steps[i].group;
  }
  EXPECT_EQ(catalog.GroupOf("d0"), 1u);
  EXPECT_EQ(catalog.GroupOf("d4zz"), 1u);
  EXPECT_EQ(catalog.GroupOf("d5"), 2u);
  EXPECT_EQ(catalog.GroupOf("d8zz"), 2u);
  // Nothing outside the key space moved.
  EXPECT_EQ(catalog.GroupOf("c"), 1u);
  EXPECT_EQ(catalog.GroupOf("d9"), 1u);
  EXPECT_EQ(catalog.GroupOf("l"), 1u);
  EXPECT_EQ(catalog.GroupOf("m"), 2u);
  // Placed: asking again changes nothing.
  EXPECT_TRUE(PlaceAll(catalog, boundaries).empty());
}

TEST(TablePlacementTest, AKeySpaceOverSeveralRoutesGoesPartByPartToTheGroupsInIdOrder) {
  // Groups 3, 5, 9 (ids not 1..G), the key space crossing two existing route starts.
  CatalogModel catalog({{10, "", "e", 9, true}, {11, "e", "p", 3, true}, {12, "p", "", 5, true}});
  const std::vector<std::string> boundaries = {"c", "h", "r", "t"};
  PlaceAll(catalog, boundaries);
  const std::vector<route::GroupId> groups = {3, 5, 9};
  for (size_t part = 0; part < 3; ++part) {
    for (const CatalogRoute& r : catalog.routes()) {
      if (r.start >= boundaries[part] && r.start < boundaries[part + 1]) {
        EXPECT_EQ(r.group, groups[part]) << "part " << part << ": " << Describe(catalog.routes());
      }
    }
  }
  EXPECT_EQ(catalog.GroupOf("b"), 9u);
  EXPECT_EQ(catalog.GroupOf("t"), 5u);
  EXPECT_EQ(catalog.GroupOf("z"), 5u);
  // Every boundary is a route start now.
  for (const std::string& boundary : boundaries) {
    bool found = false;
    for (const CatalogRoute& r : catalog.routes()) found = found || r.start == boundary;
    EXPECT_TRUE(found) << boundary << " in " << Describe(catalog.routes());
  }
}

TEST(TablePlacementTest, RefusesToCutARouteBeingMoved) {
  std::vector<CatalogRoute> routes = TwoGroups();
  routes[0].active = false;
  absl::StatusOr<std::optional<TablePlacementStep>> next =
      NextTablePlacementStep(routes, {"d0", "d5", "d9"});
  EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition) << next.status();
}

TEST(TablePlacementTest, AlreadyCutRoutesOnlyMove) {
  // Someone (an earlier attempt) already cut the key space; only the move is left, even
  // though the route holding it is not active any more for unrelated keys.
  CatalogModel catalog({{1, "", "d0", 1, true},
                        {3, "d0", "d5", 1, true},
                        {4, "d5", "d9", 1, true},
                        {5, "d9", "m", 1, false},
                        {2, "m", "", 2, true}});
  const std::vector<TablePlacementStep> steps = PlaceAll(catalog, {"d0", "d5", "d9"});
  ASSERT_EQ(steps.size(), 1u) << Describe(catalog.routes());
  EXPECT_TRUE(steps[0] == (TablePlacementStep{Kind::kMove, 4, "d5", 2}));
}

}  // namespace
}  // namespace ekv::placement
