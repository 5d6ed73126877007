#include "core/route/scan_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/route/ownership.h"
#include "core/util/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/route/test_catalogs.h"

namespace ekv::route {
namespace {

using ::ekv::route::testing::DemoCatalog;
using ::ekv::route::testing::RandomKey;
using ::ekv::route::testing::RandomSplit;

RouteCatalog SplitDemo() {
  // Routes: 3 ["", "g") g1, 4 ["g", "m") g1, 5 ["m", "t") g2, 6 ["t", +inf) g2.
  RouteCatalog catalog = DemoCatalog();
  EKV_ASSERT(catalog.Split({1, 1, "g"}).ok(), "split");
  EKV_ASSERT(catalog.Split({2, 2, "t"}).ok(), "split");
  return catalog;
}

TEST(PlanScanTest, ForwardClipsToTheScan) {
  RouteTable table;
  table.Apply(SplitDemo());
  std::vector<SubScan> plan = PlanScan(table, {"c", "p", false, 10});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0], (SubScan{3, 1, 3, "c", "g", false, 10}));
  EXPECT_EQ(plan[1], (SubScan{4, 1, 3, "g", "m", false, 10}));
  EXPECT_EQ(plan[2], (SubScan{5, 2, 3, "m", "p", false, 10}));
}

TEST(PlanScanTest, ReverseAndUnboundedAndEmpty) {
  RouteTable table;
  table.Apply(SplitDemo());
  std::vector<SubScan> plan = PlanScan(table, {"h", "", true, 0});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0], (SubScan{6, 2, 3, "t", "", true, 0}));
  EXPECT_EQ(plan[1], (SubScan{5, 2, 3, "m", "t", true, 0}));
  EXPECT_EQ(plan[2], (SubScan{4, 1, 3, "h", "m", true, 0}));
  EXPECT_TRUE(PlanScan(table, {"h", "h", false, 0}).empty());
  EXPECT_TRUE(PlanScan(table, {"z", "a", false, 0}).empty());
  EXPECT_EQ(PlanScan(table, {"", "", false, 0}).size(), 4u);
  EXPECT_EQ(PlanScan(table, {"", "", false, 0}, /*max_sub_scans=*/2).size(), 2u);
  // Exactly at a boundary: ["g", "m") is one route.
  EXPECT_EQ(PlanScan(table, {"g", "m", false, 0}).size(), 1u);
}

TEST(ScanCursorTest, RefusesResultsThatDoNotFit) {
  RouteTable table;
  table.Apply(SplitDemo());
  ScanCursor cursor({"a", "z", false, 3});
  SubScan sub = *cursor.Next(table);
  EXPECT_EQ(sub, (SubScan{3, 1, 3, "a", "g", false, 3}));
  const std::vector<std::string> unordered = {"c", "b"};
  EXPECT_EQ(cursor.Advance(sub, unordered, false).code(), absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> outside = {"h"};
  EXPECT_EQ(cursor.Advance(sub, outside, false).code(), absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> too_many = {"a", "b", "c", "d"};
  EXPECT_EQ(cursor.Advance(sub, too_many, false).code(), absl::StatusCode::kInvalidArgument);
  SubScan other = sub;
  other.start = "b";
  EXPECT_EQ(cursor.Advance(other, {}, true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cursor.returned(), 0u);
  // A good page, then the limit ends the scan.
  const std::vector<std::string> page = {"a", "b"};
  ASSERT_TRUE(cursor.Advance(sub, page, false).ok());
  sub = *cursor.Next(table);
  EXPECT_EQ(sub.start, std::string("b\0", 2));
  EXPECT_EQ(sub.limit, 1u);
  const std::vector<std::string> last = {"f"};
  ASSERT_TRUE(cursor.Advance(sub, last, false).ok());
  EXPECT_TRUE(cursor.done());
  EXPECT_FALSE(cursor.Next(table).has_value());
}

// A coordinator running a scan while the catalog splits and moves routes underneath it.
// Groups always know the newest catalog; the coordinator's table is refreshed only when a
// group refuses a sub-scan as stale. Every key must come back exactly once, in order.
struct ScanSimulation {
  explicit ScanSimulation(uint64_t seed) : rng(seed), catalog(DemoCatalog()) {
    for (GroupId g = 1; g <= 3; ++g) groups.emplace(g, GroupOwnership(g));
    for (auto& [id, group] : groups) group.Apply(catalog);
    table.Apply(catalog);
    for (int i = 0; i < 120; ++i) data.insert(RandomKey(rng));
    data.insert("");
  }

  void Publish(const CatalogDelta& delta) {
    for (auto& [id, group] : groups) EKV_ASSERT(*group.Apply(delta), "groups apply every delta");
  }

  // Splits or moves something, sometimes.
  void Mutate() {
    if (rng.Chance(0.3)) {
      CatalogDelta delta;
      if (RandomSplit(catalog, rng, &delta)) Publish(delta);
    }
    if (rng.Chance(0.1)) {
      const RouteDescriptor* route = catalog.RouteForKey(RandomKey(rng));
      const RouteId id = route->route_id;
      const GroupId target = route->raft_group_id % 3 + 1;
      Publish(*catalog.Apply({SetRouteState{catalog.version(), id, RouteState::kWriteFenced}}));
      Publish(*catalog.Apply({ReassignRoute{catalog.version(), id, target}}));
      Publish(*catalog.Apply({SetRouteState{catalog.version(), id, RouteState::kActive}}));
    }
  }

  // The group's answer: up to `page` keys of the sub-range in scan order.
  std::vector<std::string> Execute(const SubScan& sub, size_t page, bool* reached_end) {
    std::vector<std::string> keys;
    size_t want = sub.limit == 0 ? page : std::min<size_t>(page, sub.limit);
    std::vector<std::string> in_range;
    for (const std::string& key : data) {
      if (absl::string_view(sub.start) <= key && KeyBeforeEnd(key, sub.end))
        in_range.push_back(key);
    }
    if (sub.reverse) std::reverse(in_range.begin(), in_range.end());
    for (size_t i = 0; i < in_range.size() && keys.size() < want; ++i) keys.push_back(in_range[i]);
    *reached_end = keys.size() == in_range.size();
    return keys;
  }

  std::vector<std::string> Run(const ScanSpec& spec, size_t page) {
    ScanCursor cursor(spec);
    std::vector<std::string> out;
    for (int step = 0; !cursor.done(); ++step) {
      EKV_ASSERT(step < 100000, "scan made no progress");
      std::optional<SubScan> sub = cursor.Next(table);
      EKV_ASSERT(sub.has_value(), "table is never empty here");
      absl::Status owned = groups.at(sub->raft_group_id)
                               .CheckRangeOwnership(sub->start, sub->end, sub->catalog_version);
      if (!owned.ok()) {
        std::optional<StaleRouteError> stale = ParseStaleRouteError(owned);
        EKV_ASSERT(stale.has_value(), "only stale-route refusals expected");
        EKV_ASSERT(stale->current_version > table.version(), "refusal must point forward");
        ++refusals;
        table.Apply(catalog);  // the coordinator refreshes to at least the named version
        continue;
      }
      bool reached_end = false;
      std::vector<std::string> keys = Execute(*sub, page, &reached_end);
      absl::Status advanced = cursor.Advance(*sub, keys, reached_end);
      EKV_ASSERT(advanced.ok(), "advance: ", advanced.message());
      out.insert(out.end(), keys.begin(), keys.end());
      Mutate();
    }
    return out;
  }

  std::vector<std::string> Expected(const ScanSpec& spec) const {
    std::vector<std::string> keys;
    for (const std::string& key : data) {
      if (absl::string_view(spec.start) <= key && KeyBeforeEnd(key, spec.end)) keys.push_back(key);
    }
    if (spec.reverse) std::reverse(keys.begin(), keys.end());
    if (spec.limit != 0 && keys.size() > spec.limit) keys.resize(spec.limit);
    return keys;
  }

  Rng rng;
  RouteCatalog catalog;
  RouteTable table;
  std::map<GroupId, GroupOwnership> groups;
  std::set<std::string> data;
  int refusals = 0;
};

TEST(ScanCursorTest, EveryKeyExactlyOnceInOrderWhileRoutesSplitAndMove) {
  int total_refusals = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    ScanSimulation sim(seed);
    ScanSpec spec;
    spec.start = sim.rng.Chance(0.3) ? std::string() : RandomKey(sim.rng);
    spec.end = sim.rng.Chance(0.3) ? std::string() : RandomKey(sim.rng);
    if (!spec.end.empty() && spec.end < spec.start) std::swap(spec.start, spec.end);
    spec.reverse = sim.rng.Chance(0.5);
    spec.limit = sim.rng.Chance(0.5) ? 0 : sim.rng.Range(1, 60);
    const size_t page = sim.rng.Range(1, 7);
    const std::vector<std::string> expected = sim.Expected(spec);
    EXPECT_EQ(sim.Run(spec, page), expected)
        << FormatRange(spec.start, spec.end) << (spec.reverse ? " reverse" : " forward")
        << " limit " << spec.limit << " page " << page;
    total_refusals += sim.refusals;
  }
  EXPECT_GT(total_refusals, 0) << "the simulation should exercise stale routing";
}

}  // namespace
}  // namespace ekv::route
