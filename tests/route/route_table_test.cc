#include "core/route/route_table.h"

#include <string>
#include <vector>

#include "core/route/change_log.h"
#include "core/util/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/route/test_catalogs.h"

namespace ekv::route {
namespace {

using ::ekv::route::testing::DemoCatalog;
using ::ekv::route::testing::RandomKey;
using ::ekv::route::testing::RandomSplit;

// The obvious answer: the one route whose range holds the key.
const RouteDescriptor* LinearLookup(const std::vector<RouteDescriptor>& routes,
                                    const std::string& key) {
  const RouteDescriptor* found = nullptr;
  for (const RouteDescriptor& route : routes) {
    if (route.Contains(key)) {
      EXPECT_EQ(found, nullptr) << "two routes hold " << FormatKey(key);
      found = &route;
    }
  }
  return found;
}

TEST(RouteTableTest, EmptyTableKnowsNothing) {
  RouteTable table;
  EXPECT_EQ(table.version(), 0u);
  EXPECT_EQ(table.Lookup("a"), nullptr);
  EXPECT_EQ(table.LookupBefore(""), nullptr);
  EXPECT_TRUE(table.RoutesOverlapping("", "").empty());
  auto delta = table.Apply(CatalogDelta{2, {}, {}});
  EXPECT_EQ(delta.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RouteTableTest, LooksUpTheDemoCatalog) {
  RouteTable table;
  ASSERT_TRUE(table.Apply(DemoCatalog()));
  EXPECT_EQ(table.version(), 1u);
  EXPECT_EQ(table.Lookup("")->route_id, 1u);
  EXPECT_EQ(table.Lookup("lzz")->route_id, 1u);
  EXPECT_EQ(table.Lookup("m")->route_id, 2u);
  EXPECT_EQ(table.Lookup("\xff")->route_id, 2u);
  EXPECT_EQ(table.LookupBefore("")->route_id, 2u);  // "" as an end is +inf
  EXPECT_EQ(table.LookupBefore("m")->route_id, 1u);
  EXPECT_EQ(table.LookupBefore(std::string("m\0", 2))->route_id, 2u);
  EXPECT_EQ(table.FindRoute(2)->start, "m");
  EXPECT_EQ(table.FindRoute(3), nullptr);
}

TEST(RouteTableTest, OnlyMovesForward) {
  RouteCatalog catalog = DemoCatalog();
  RouteCatalog v1 = catalog;
  auto split = catalog.Split({1, 1, "g"});
  ASSERT_TRUE(split.ok());

  RouteTable table;
  ASSERT_TRUE(table.Apply(catalog));
  EXPECT_FALSE(table.Apply(v1));       // older snapshot ignored
  EXPECT_FALSE(table.Apply(catalog));  // same version ignored
  auto old_delta = table.Apply(split->delta);
  ASSERT_TRUE(old_delta.ok());
  EXPECT_FALSE(*old_delta);
  EXPECT_EQ(table.version(), 2u);
  EXPECT_EQ(table.Lookup("a")->route_id, 3u);

  // A delta from the future needs a snapshot first.
  auto fence = catalog.Apply({SetRouteState{2, 3, RouteState::kWriteFenced}});
  auto unfence = catalog.Apply({SetRouteState{3, 3, RouteState::kActive}});
  ASSERT_TRUE(fence.ok() && unfence.ok());
  auto gap = table.Apply(*unfence);
  EXPECT_EQ(gap.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(table.version(), 2u);
  ASSERT_TRUE(*table.Apply(*fence));
  EXPECT_EQ(table.Lookup("a")->state, RouteState::kWriteFenced);
  ASSERT_TRUE(*table.Apply(*unfence));
  EXPECT_EQ(table.Lookup("a")->state, RouteState::kActive);
}

TEST(RouteTableTest, RejectsADeltaThatDoesNotFit) {
  RouteTable table;
  ASSERT_TRUE(table.Apply(DemoCatalog()));
  auto bad = table.Apply(CatalogDelta{2, {9}, {}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table.version(), 1u);
  EXPECT_EQ(table.route_count(), 2u);
}

// Property: after random splits (applied as deltas to one table, as snapshots to
// another), every lookup equals the linear answer, and the tables equal the catalog.
TEST(RouteTableTest, LookupMatchesLinearScanOverRandomCatalogs) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Rng rng(seed);
    RouteCatalog catalog = DemoCatalog();
    RouteTable by_delta;
    RouteTable by_snapshot;
    ASSERT_TRUE(by_delta.Apply(catalog));
    const int splits = static_cast<int>(rng.Range(0, 150));
    for (int i = 0; i < splits; ++i) {
      CatalogDelta delta;
      if (!RandomSplit(catalog, rng, &delta)) continue;
      ASSERT_TRUE(*by_delta.Apply(delta));
      if (rng.Chance(0.1)) by_snapshot.Apply(catalog);
    }
    by_snapshot.Apply(catalog);
    const std::vector<RouteDescriptor> routes = catalog.ListRoutes();
    EXPECT_EQ(by_delta.Snapshot(), routes);
    EXPECT_EQ(by_snapshot.Snapshot(), routes);
    EXPECT_EQ(by_delta.version(), catalog.version());
    for (int probe = 0; probe < 300; ++probe) {
      const std::string key = rng.Chance(0.1) ? std::string() : RandomKey(rng);
      const RouteDescriptor* expected = LinearLookup(routes, key);
      ASSERT_NE(expected, nullptr);
      ASSERT_EQ(*by_delta.Lookup(key), *expected) << FormatKey(key);
      ASSERT_EQ(*by_snapshot.Lookup(key), *expected) << FormatKey(key);
      // Overlapping routes for a random range, vs. the linear filter.
      std::string a = RandomKey(rng), b = rng.Chance(0.2) ? std::string() : RandomKey(rng);
      if (!b.empty() && b < a) std::swap(a, b);
      std::vector<RouteId> want;
      for (const RouteDescriptor& route : routes) {
        if (!RangeIsEmpty(a, b) && KeyBeforeEnd(route.start, b) && KeyBeforeEnd(a, route.end)) {
          want.push_back(route.route_id);
        }
      }
      std::vector<RouteId> got;
      for (const RouteDescriptor* route : by_delta.RoutesOverlapping(a, b)) {
        got.push_back(route->route_id);
      }
      ASSERT_EQ(got, want) << FormatRange(a, b);
    }
  }
}

// ---- CatalogChangeLog ------------------------------------------------------------------

TEST(CatalogChangeLogTest, KeepsTheLastNDeltas) {
  CatalogChangeLog log(3);
  log.Reset(10);
  EXPECT_EQ(log.DeltasSince(10)->size(), 0u);
  EXPECT_FALSE(log.DeltasSince(9).has_value());
  EXPECT_FALSE(log.DeltasSince(11).has_value());
  for (CatalogVersion v = 11; v <= 15; ++v) log.Append(CatalogDelta{v, {}, {}});
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.first_servable_version(), 12u);
  auto since = log.DeltasSince(12);
  ASSERT_TRUE(since.has_value());
  ASSERT_EQ(since->size(), 3u);
  EXPECT_EQ((*since)[0].version, 13u);
  EXPECT_EQ((*since)[2].version, 15u);
  EXPECT_FALSE(log.DeltasSince(11).has_value());
  EXPECT_EQ(log.DeltasSince(15)->size(), 0u);
}

// ---- Watches ---------------------------------------------------------------------------

// Mirrors the catalog from its updates alone, as a remote node would.
class MirrorWatcher : public RouteWatcher {
 public:
  void OnRouteUpdate(const RouteUpdate& update) override {
    updates.push_back(update);
    EXPECT_EQ(update.from_version, version) << "updates must continue where the last ended";
    if (update.kind == RouteUpdate::Kind::kSnapshot) {
      routes = update.snapshot;
    } else {
      EXPECT_EQ(update.deltas.size(), update.to_version - update.from_version);
      for (const CatalogDelta& delta : update.deltas) {
        for (RouteId id : delta.removed_route_ids)
          std::erase_if(routes, [&](auto& r) { return r.route_id == id; });
        for (const RouteDescriptor& route : delta.upserted_routes) {
          std::erase_if(routes, [&](auto& r) { return r.route_id == route.route_id; });
          routes.push_back(route);
        }
      }
      std::sort(routes.begin(), routes.end(),
                [](const auto& a, const auto& b) { return a.start < b.start; });
    }
    version = update.to_version;
  }

  CatalogVersion version = 0;
  std::vector<RouteDescriptor> routes;
  std::vector<RouteUpdate> updates;
};

TEST(RouteWatchTest, WatchersGetDeltasAsTheTableAdvances) {
  RouteCatalog catalog = DemoCatalog();
  RouteTable table;
  ASSERT_TRUE(table.Apply(catalog));
  MirrorWatcher watcher;
  watcher.version = 1;
  watcher.routes = catalog.ListRoutes();
  ASSERT_TRUE(table.Watch(1, &watcher).ok());
  EXPECT_TRUE(watcher.updates.empty()) << "a current watcher gets nothing on registration";

  auto split = catalog.Split({1, 1, "g"});
  ASSERT_TRUE(*table.Apply(split->delta));
  ASSERT_EQ(watcher.updates.size(), 1u);
  EXPECT_EQ(watcher.updates[0].kind, RouteUpdate::Kind::kDeltas);
  EXPECT_EQ(watcher.updates[0].to_version, 2u);
  EXPECT_EQ(watcher.updates[0].deltas[0], split->delta);
  EXPECT_EQ(watcher.routes, catalog.ListRoutes());

  // Ignored updates notify nobody.
  EXPECT_FALSE(*table.Apply(split->delta));
  EXPECT_EQ(watcher.updates.size(), 1u);
}

TEST(RouteWatchTest, LateWatcherCatchesUpWithDeltasOrASnapshot) {
  Rng rng(11);
  RouteCatalog catalog = DemoCatalog();
  RouteTable table(RouteTableOptions{.change_log_capacity = 4, .max_watchers = 8});
  ASSERT_TRUE(table.Apply(catalog));
  std::vector<RouteCatalog> history = {catalog};
  while (catalog.version() < 10) {
    CatalogDelta delta;
    if (!RandomSplit(catalog, rng, &delta)) continue;
    ASSERT_TRUE(*table.Apply(delta));
    history.push_back(catalog);
  }
  // At version 7: within the last 4 deltas -> deltas 8..10.
  MirrorWatcher near;
  near.version = 7;
  near.routes = history[6].ListRoutes();
  ASSERT_TRUE(table.Watch(7, &near).ok());
  ASSERT_EQ(near.updates.size(), 1u);
  EXPECT_EQ(near.updates[0].kind, RouteUpdate::Kind::kDeltas);
  EXPECT_EQ(near.updates[0].deltas.size(), 3u);
  EXPECT_EQ(near.routes, catalog.ListRoutes());

  // At version 3: too far behind -> a full snapshot.
  MirrorWatcher far;
  far.version = 3;
  ASSERT_TRUE(table.Watch(3, &far).ok());
  ASSERT_EQ(far.updates.size(), 1u);
  EXPECT_EQ(far.updates[0].kind, RouteUpdate::Kind::kSnapshot);
  EXPECT_EQ(far.updates[0].to_version, 10u);
  EXPECT_EQ(far.routes, catalog.ListRoutes());

  // A snapshot jump on the table resets the log: everyone behind gets a snapshot.
  RouteCatalog jumped = catalog;
  for (int i = 0; i < 3;) i += RandomSplit(jumped, rng) ? 1 : 0;
  ASSERT_TRUE(table.Apply(jumped));
  EXPECT_EQ(near.updates.back().kind, RouteUpdate::Kind::kSnapshot);
  EXPECT_EQ(near.routes, jumped.ListRoutes());
  EXPECT_EQ(far.routes, jumped.ListRoutes());

  // Then deltas again.
  CatalogDelta delta;
  while (!RandomSplit(jumped, rng, &delta)) {
  }
  ASSERT_TRUE(*table.Apply(delta));
  EXPECT_EQ(near.updates.back().kind, RouteUpdate::Kind::kDeltas);
  EXPECT_EQ(near.routes, jumped.ListRoutes());
  EXPECT_EQ(far.version, jumped.version());
}

TEST(RouteWatchTest, WatcherAheadOfTheTableWaitsAndUnwatchStops) {
  RouteCatalog catalog = DemoCatalog();
  RouteTable table;
  ASSERT_TRUE(table.Apply(catalog));
  MirrorWatcher ahead;
  ahead.version = 2;
  auto id = table.Watch(2, &ahead);
  ASSERT_TRUE(id.ok());
  auto split = catalog.Split({1, 1, "g"});
  ASSERT_TRUE(*table.Apply(split->delta));  // table reaches 2: nothing new for `ahead`
  EXPECT_TRUE(ahead.updates.empty());
  auto fence = catalog.Apply({SetRouteState{2, 3, RouteState::kWriteFenced}});
  ASSERT_TRUE(*table.Apply(*fence));
  ASSERT_EQ(ahead.updates.size(), 1u);
  EXPECT_EQ(ahead.updates[0].deltas, std::vector<CatalogDelta>{*fence});

  table.Unwatch(*id);
  EXPECT_EQ(table.watcher_count(), 0u);
  auto unfence = catalog.Apply({SetRouteState{3, 3, RouteState::kActive}});
  ASSERT_TRUE(*table.Apply(*unfence));
  EXPECT_EQ(ahead.updates.size(), 1u);
}

TEST(RouteWatchTest, WatcherCountIsBounded) {
  RouteTable table(RouteTableOptions{.change_log_capacity = 4, .max_watchers = 2});
  MirrorWatcher a, b, c;
  ASSERT_TRUE(table.Watch(0, &a).ok());
  ASSERT_TRUE(table.Watch(0, &b).ok());
  EXPECT_EQ(table.Watch(0, &c).status().code(), absl::StatusCode::kResourceExhausted);
  // Watchers registered before the first catalog get it as a snapshot.
  ASSERT_TRUE(table.Apply(DemoCatalog()));
  ASSERT_EQ(a.updates.size(), 1u);
  EXPECT_EQ(a.updates[0].kind, RouteUpdate::Kind::kSnapshot);
  EXPECT_EQ(b.routes, DemoCatalog().ListRoutes());
}

}  // namespace
}  // namespace ekv::route
