// Replica balancing by the placement drivers (--placement --create_groups): created groups
// start on the first three of five nodes, the drivers' StartBalanceReplicas spreads them,
// and after the heal the simulator judges the catalog (kv_workload_placement.cc): no node
// may host two replicas more than another while one could move there.
#include <string>

#include "gtest/gtest.h"
#include "sim/options.h"
#include "sim/simulation.h"
#include "tests/sim/placement_sweep_options.h"

namespace ekv::sim {
namespace {

TEST(ReplicaBalanceSweepTest, WithoutFaultsTheDriversSpreadTheReplicas) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SimOptions options = PlacementSweepOptions(seed, /*create_groups=*/true);
    options.faults = FaultSet{};
    const SimResult result = RunSimulation(options);
    EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n" << result.details;
    // Judged balanced (not unjudged), with at least one move made by the drivers: every
    // group began on nodes 1-3, leaving 4 and 5 empty.
    EXPECT_NE(result.kv_stats.find("replica_balance=balanced/"), std::string::npos)
        << SummaryLine(options, result);
    EXPECT_EQ(result.kv_stats.find("replica_balance=balanced/0+0"), std::string::npos)
        << "no replica moved: " << SummaryLine(options, result);
  }
}

TEST(ReplicaBalanceSweepTest, EveryFaultClass) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const SimOptions options = PlacementSweepOptions(seed, /*create_groups=*/true);
    const SimResult result = RunSimulation(options);
    EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n  repro: " << ReproCommand(options)
                           << "\n"
                           << result.details;
  }
}

// Seed 124 left a replica move half done in the chaos phase: the catalog named n5 a
// replica of group 6, whose configuration never added it. n5 hosted the group empty and
// heard from no leader, and the balancer's next round through n5's coordinator, which had
// to add n5 as a learner, never found the leader (leader-only requests for a hosted group
// went nowhere without one): no convergence after the heal. Fixed in the coordinator's
// routing (a created group's other replicas are asked in turn).
TEST(ReplicaBalanceSweepTest, AReplicaRecordedButNeverAddedIsFinishedAfterTheHeal) {
  const SimOptions options = PlacementSweepOptions(124, /*create_groups=*/true);
  const SimResult result = RunSimulation(options);
  EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n  repro: " << ReproCommand(options)
                         << "\n"
                         << result.details;
}

}  // namespace
}  // namespace ekv::sim
