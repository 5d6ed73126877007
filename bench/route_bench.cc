// Route lookups and catalog changes at 1,000,000 routes.
//
// The catalog is bootstrapped with kRoutes ranges whose boundaries are "r%010d" (ids
// 1..kRoutes, spread over 8 groups), then loaded into a RouteTable. Lookups probe
// deterministic random keys: half exactly at a boundary, half strictly inside a route.
//
// BM_RouteLookupLatency times every lookup on its own (manual timing) and reports the
// distribution as counters: mean_ns, p50_ns, p99_ns, max_ns. The clock read around each
// lookup (about 20 ns with steady_clock) is included, so the figures are upper bounds.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "core/route/catalog.h"
#include "core/route/route_table.h"
#include "core/route/scan_plan.h"
#include "core/util/assert.h"
#include "core/util/rng.h"

namespace ekv::route {
namespace {

constexpr int kRoutes = 1'000'000;
constexpr int kGroups = 8;
constexpr size_t kProbeKeys = 1 << 16;

std::string BoundaryKey(uint64_t i) { return absl::StrFormat("r%010d", i); }

struct Fixture {
  RouteCatalog catalog;
  RouteTable table;
  std::vector<std::string> probes;

  Fixture() : catalog(Build()) {
    EKV_ASSERT(table.Apply(catalog), "load table");
    EKV_ASSERT(table.route_count() == kRoutes, "table holds every route");
    Rng rng(1);
    probes.reserve(kProbeKeys);
    for (size_t i = 0; i < kProbeKeys; ++i) {
      std::string key = BoundaryKey(rng.Uniform(kRoutes));
      if (rng.Chance(0.5)) key += "x";  // inside the route, not at its start
      probes.push_back(std::move(key));
    }
  }

  static RouteCatalog Build() {
    std::vector<InitialRange> ranges;
    ranges.reserve(kRoutes);
    for (int i = 0; i < kRoutes; ++i) {
      ranges.push_back({i == 0 ? std::string() : BoundaryKey(i),
                        i + 1 == kRoutes ? std::string() : BoundaryKey(i + 1),
                        static_cast<GroupId>(i % kGroups + 1)});
    }
    auto catalog = RouteCatalog::Bootstrap(ranges);
    EKV_ASSERT(catalog.ok(), "bootstrap 1M routes: ", catalog.status().message());
    return *std::move(catalog);
  }
};

Fixture& SharedFixture() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_RouteLookup(benchmark::State& state) {
  Fixture& f = SharedFixture();
  size_t i = 0;
  for (auto _ : state) {
    const RouteDescriptor* route = f.table.Lookup(f.probes[i++ & (kProbeKeys - 1)]);
    benchmark::DoNotOptimize(route);
  }
  state.counters["routes"] = static_cast<double>(f.table.route_count());
}
BENCHMARK(BM_RouteLookup);

void BM_RouteLookupLatency(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  Fixture& f = SharedFixture();
  std::vector<double> samples_ns;
  samples_ns.reserve(1 << 22);
  size_t i = 0;
  for (auto _ : state) {
    const std::string& key = f.probes[i++ & (kProbeKeys - 1)];
    const auto begin = Clock::now();
    const RouteDescriptor* route = f.table.Lookup(key);
    benchmark::DoNotOptimize(route);
    const auto end = Clock::now();
    const double ns = std::chrono::duration<double, std::nano>(end - begin).count();
    state.SetIterationTime(ns * 1e-9);
    if (samples_ns.size() < samples_ns.capacity()) samples_ns.push_back(ns);
  }
  if (samples_ns.empty()) return;
  std::sort(samples_ns.begin(), samples_ns.end());
  auto percentile = [&](double p) {
    return samples_ns[std::min(samples_ns.size() - 1,
                               static_cast<size_t>(p * static_cast<double>(samples_ns.size())))];
  };
  double sum = 0;
  for (double ns : samples_ns) sum += ns;
  state.counters["mean_ns"] = sum / static_cast<double>(samples_ns.size());
  state.counters["p50_ns"] = percentile(0.50);
  state.counters["p99_ns"] = percentile(0.99);
  state.counters["p999_ns"] = percentile(0.999);
  state.counters["max_ns"] = samples_ns.back();
  state.counters["samples"] = static_cast<double>(samples_ns.size());
}
BENCHMARK(BM_RouteLookupLatency)->UseManualTime()->Iterations(2'000'000);

// A split committed in the catalog and applied to a table as a delta, at 1M routes.
void BM_SplitAndApplyDelta(benchmark::State& state) {
  Fixture& f = SharedFixture();
  Rng rng(2);
  for (auto _ : state) {
    // A key no route starts at (the suffix is fresh each time) is strictly inside the
    // route that holds it.
    const std::string key =
        BoundaryKey(rng.Uniform(kRoutes)) + absl::StrFormat("s%d", f.catalog.version());
    const RouteDescriptor* route = f.catalog.RouteForKey(key);
    auto split = f.catalog.Split({f.catalog.version(), route->route_id, key});
    EKV_ASSERT(split.ok(), "bench split: ", split.status().message());
    auto applied = f.table.Apply(split->delta);
    EKV_ASSERT(applied.ok() && *applied, "bench apply");
  }
}
BENCHMARK(BM_SplitAndApplyDelta);

// Planning a scan that crosses 100 routes.
void BM_PlanScan100Routes(benchmark::State& state) {
  Fixture& f = SharedFixture();
  Rng rng(3);
  for (auto _ : state) {
    const uint64_t first = rng.Uniform(kRoutes - 200);
    auto plan = PlanScan(f.table, {BoundaryKey(first) + "a", BoundaryKey(first + 100) + "a"});
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanScan100Routes);

}  // namespace
}  // namespace ekv::route
