// Leader balancing by the placement drivers (--placement): every driver round ends with
// StartBalanceLeaders (core/placement/leader_balance.h), and after the heal the simulator
// judges the replicas' own leaders (kv_workload_placement.cc): every node within +-25% of
// the mean, or no node leading two groups more than another that votes in a movable group
// it leads. A planner that counts only created groups must be caught by that judgement.
#include <iostream>
#include <string>

#include "gtest/gtest.h"
#include "sim/options.h"
#include "sim/simulation.h"
#include "tests/sim/placement_sweep_options.h"

namespace ekv::sim {
namespace {

bool Judged(const SimResult& result) {
  return result.kv_stats.find("leader_balance=balanced/") != std::string::npos ||
         result.kv_stats.find("leader_balance=legal/") != std::string::npos;
}

TEST(LeaderBalanceSweepTest, WithoutFaultsTheLeadersEndBalanced) {
  for (const bool create_groups : {false, true}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      SimOptions options = PlacementSweepOptions(seed, create_groups);
      options.faults = FaultSet{};
      const SimResult result = RunSimulation(options);
      EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n" << result.details;
      EXPECT_TRUE(Judged(result)) << SummaryLine(options, result);
    }
  }
}

TEST(LeaderBalanceSweepTest, EveryFaultClass) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const SimOptions options = PlacementSweepOptions(seed, seed % 2 == 0);
    const SimResult result = RunSimulation(options);
    EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n  repro: " << ReproCommand(options)
                           << "\n"
                           << result.details;
  }
}

// The planted planner sees created groups alone, so the initial groups' leaders stay
// wherever elections put them: some seed ends with a node leading two of them while
// another leads none, which the judgement catches; the same seed passes without the plant.
TEST(LeaderBalanceSweepTest, APlannerThatCountsOnlyCreatedGroupsIsCaught) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SimOptions options = PlacementSweepOptions(seed, false);
    options.faults = FaultSet{};
    options.plant = PlantedBug::kLeaderBalanceCreatedOnly;
    const SimResult planted = RunSimulation(options);
    if (planted.ok) continue;
    ASSERT_EQ(planted.verdict, "placement: leaders not balanced after the heal")
        << SummaryLine(options, planted) << "\n"
        << planted.details;
    SimOptions clean = options;
    clean.plant = PlantedBug::kNone;
    const SimResult unplanted = RunSimulation(clean);
    EXPECT_TRUE(unplanted.ok) << SummaryLine(clean, unplanted) << "\n" << unplanted.details;
    std::cout << "planted leader_balance_created_only found at seed " << seed << ": "
              << planted.details << "\n  repro: " << ReproCommand(options) << "\n";
    return;
  }
  ADD_FAILURE() << "no seed in 1..200 caught the planted leader planner";
}

}  // namespace
}  // namespace ekv::sim
