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

// The kv layer (GroupStateMachine: MVCC, Percolator across two groups, apply-time
// timestamps) under every fault, judged by each workload's checker.
void SweepKvWorkload(WorkloadKind workload, uint64_t seeds, uint64_t min_acknowledged,
                     bool splits = false) {
  uint64_t acknowledged = 0;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.faults = FaultSet::All();
    options.workload = workload;
    options.splits = splits;
    const SimResult result = RunSimulation(options);
    acknowledged += result.ops_acknowledged;
    EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n  repro: " << ReproCommand(options)
                           << "\n  profile: " << result.profile << "\n"
                           << result.details;
  }
  EXPECT_GT(acknowledged, min_acknowledged) << WorkloadKindName(workload);
}

TEST(SimSweepTest, BankAllFaults) { SweepKvWorkload(WorkloadKind::kBank, 200, 800); }
TEST(SimSweepTest, AppendAllFaults) { SweepKvWorkload(WorkloadKind::kAppend, 200, 1000); }
TEST(SimSweepTest, KvRegisterAllFaults) { SweepKvWorkload(WorkloadKind::kKvRegister, 200, 5000); }

// The same with --splits: ownership enforced by every group, versioned routing with
// transparent refresh-and-retry (and deliberate misroutes), random SplitRange commands
// during the run, and bank's route-by-route snapshot scans checked against point reads.
TEST(SimSweepTest, BankSplitsAllFaults) { SweepKvWorkload(WorkloadKind::kBank, 150, 600, true); }
TEST(SimSweepTest, AppendSplitsAllFaults) {
  SweepKvWorkload(WorkloadKind::kAppend, 150, 700, true);
}
TEST(SimSweepTest, KvRegisterSplitsAllFaults) {
  SweepKvWorkload(WorkloadKind::kKvRegister, 150, 3500, true);
}

// Without faults the split machinery must actually run: splits land, scans complete and
// misrouted requests are refused and retried, while almost every operation succeeds.
TEST(SimSweepTest, SplitsWithoutFaultsSplitScanAndRetry) {
  for (WorkloadKind workload :
       {WorkloadKind::kBank, WorkloadKind::kAppend, WorkloadKind::kKvRegister}) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      SimOptions options;
      options.seed = seed;
      options.faults = FaultSet{};
      options.workload = workload;
      options.splits = true;
      const SimResult result = RunSimulation(options);
      EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n" << result.details;
      EXPECT_GT(result.ops_acknowledged, result.ops_total / 2) << SummaryLine(options, result);
      EXPECT_EQ(result.routing.find("splits=0/"), std::string::npos)
          << SummaryLine(options, result);
      if (workload == WorkloadKind::kBank) {
        EXPECT_EQ(result.routing.find("scans=0 "), std::string::npos)
            << SummaryLine(options, result);
      }
    }
  }
}

TEST(SimSweepTest, KvWorkloadsWithoutFaultsMostlySucceed) {
  for (WorkloadKind workload :
       {WorkloadKind::kBank, WorkloadKind::kAppend, WorkloadKind::kKvRegister}) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      SimOptions options;
      options.seed = seed;
      options.faults = FaultSet{};
      options.workload = workload;
      const SimResult result = RunSimulation(options);
      EXPECT_TRUE(result.ok) << SummaryLine(options, result) << "\n" << result.details;
      EXPECT_GT(result.ops_acknowledged, result.ops_total / 2) << SummaryLine(options, result);
    }
  }
}

}  // namespace
}  // namespace ekv::sim
