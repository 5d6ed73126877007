// A bounded swarm sweep: every seed with every fault class enabled must pass.
#include <iostream>

#include "gtest/gtest.h"
#include "sim/options.h"
#include "sim/simulation.h"

namespace ekv::sim {
namespace {

constexpr uint64_t kSeeds = 200;

TEST(SimSweepTest, AllFaultsTwoHundredSeedsPass) {
  uint64_t acknowledged = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.faults = FaultSet::All();
    const SimResult result = RunSimulation(options);
    acknowledged += result.ops_acknowledged;
    EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n  repro: " << ReproCommand(options)
                           << "\n  profile: " << result.profile << "\n"
                           << result.details;
  }
  // The sweep must exercise the system, not only fault it.
  EXPECT_GT(acknowledged, kSeeds * 20);
}

TEST(SimSweepTest, NoFaultsEveryOperationSucceedsQuickly) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.faults = FaultSet{};
    const SimResult result = RunSimulation(options);
    EXPECT_TRUE(result.ok) << SummaryLine(options, result);
    EXPECT_GT(result.ops_acknowledged, result.ops_total / 2) << SummaryLine(options, result);
  }
}

}  // namespace
}  // namespace ekv::sim
