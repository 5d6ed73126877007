// Simulator speed: simulated seconds per wall second and events per wall second for a
// 5-node, 3-group cluster under a client load with every fault class enabled.
//
// Wall time is measured here (Google Benchmark), never inside sim/, which has no clocks.
#include <cstdint>

#include "benchmark/benchmark.h"
#include "sim/options.h"
#include "sim/simulation.h"

namespace {

void BM_SimulateSeed(benchmark::State& state, ekv::sim::FaultSet faults) {
  uint64_t seed = 1;
  double simulated_seconds = 0;
  double events = 0;
  double ops = 0;
  for (auto _ : state) {
    ekv::sim::SimOptions options;
    options.seed = seed++;
    options.faults = faults;
    options.nodes = 5;
    options.groups = 3;
    options.ops = 300;
    const ekv::sim::SimResult result = ekv::sim::RunSimulation(options);
    simulated_seconds += static_cast<double>(result.simulated_us) / 1e6;
    events += static_cast<double>(result.events);
    ops += static_cast<double>(result.ops_total);
  }
  // kIsRate divides by the wall time of the timed loop: simulated seconds per wall second
  // is the speed-up over real time.
  state.counters["sim_s_per_wall_s"] =
      benchmark::Counter(simulated_seconds, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["client_ops_per_s"] = benchmark::Counter(ops, benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_SimulateSeed, all_faults, ekv::sim::FaultSet::All())
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_SimulateSeed, no_faults, ekv::sim::FaultSet{})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

}  // namespace
