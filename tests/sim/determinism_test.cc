// The same seed gives the same run: identical trace hash and summary, in one process.
#include "gtest/gtest.h"
#include "sim/options.h"
#include "sim/simulation.h"

namespace ekv::sim {
namespace {

// Deep kv and DynamoDB runs cost ~25x more under AddressSanitizer at -O0 (two minutes or more per
// test in CI): the sanitizer build replays one seed per kv workload, the optimised build three.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kKvSeeds = 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr uint64_t kKvSeeds = 1;
#else
constexpr uint64_t kKvSeeds = 3;
#endif
#else
constexpr uint64_t kKvSeeds = 3;
#endif

TEST(DeterminismTest, SameSeedSameTraceHashAndSummary) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.faults = FaultSet::All();
    options.ops = 150;
    const SimResult first = RunSimulation(options);
    const SimResult second = RunSimulation(options);
    EXPECT_EQ(first.trace_hash, second.trace_hash) << "seed " << seed;
    EXPECT_EQ(SummaryLine(options, first), SummaryLine(options, second)) << "seed " << seed;
    EXPECT_EQ(first.profile, second.profile);
    EXPECT_GT(first.events, 1000u) << "seed " << seed << " did almost nothing";
  }
}

TEST(DeterminismTest, KvWorkloadsReplayExactly) {
  for (WorkloadKind workload :
       {WorkloadKind::kBank, WorkloadKind::kAppend, WorkloadKind::kKvRegister}) {
    for (uint64_t seed = 1; seed <= kKvSeeds; ++seed) {
      SimOptions options;
      options.seed = seed;
      options.workload = workload;
      options.ops = 100;
      const SimResult first = RunSimulation(options);
      const SimResult second = RunSimulation(options);
      EXPECT_EQ(SummaryLine(options, first), SummaryLine(options, second));
    }
  }
}

TEST(DeterminismTest, KvWorkloadsWithSplitsReplayExactly) {
  for (WorkloadKind workload :
       {WorkloadKind::kBank, WorkloadKind::kAppend, WorkloadKind::kKvRegister}) {
    for (uint64_t seed = 1; seed <= kKvSeeds; ++seed) {
      SimOptions options;
      options.seed = seed;
      options.workload = workload;
      options.splits = true;
      options.ops = 100;
      const SimResult first = RunSimulation(options);
      const SimResult second = RunSimulation(options);
      EXPECT_EQ(SummaryLine(options, first), SummaryLine(options, second));
    }
  }
}

// The dynamo workload runs the DynamoDB front door's coroutines on the event loop, resumed
// by the ops' answers (sim/dynamo_backend.h), its setup before the chaos: a run repeats.
TEST(DeterminismTest, DynamoWorkloadReplaysExactly) {
  for (uint64_t seed = 1; seed <= kKvSeeds; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.workload = WorkloadKind::kDynamo;
    options.ops = 120;
    const SimResult first = RunSimulation(options);
    const SimResult second = RunSimulation(options);
    EXPECT_EQ(first.trace_hash, second.trace_hash) << "seed " << seed;
    EXPECT_EQ(SummaryLine(options, first), SummaryLine(options, second));
  }
}

TEST(DeterminismTest, DifferentSeedsDiverge) {
  SimOptions a;
  a.seed = 1;
  SimOptions b;
  b.seed = 2;
  EXPECT_NE(RunSimulation(a).trace_hash, RunSimulation(b).trace_hash);
}

TEST(DeterminismTest, TracingDoesNotChangeTheRun) {
  SimOptions options;
  options.seed = 5;
  const SimResult plain = RunSimulation(options);
  uint64_t lines = 0;
  options.trace_sink = [&lines](const std::string&) { ++lines; };
  const SimResult traced = RunSimulation(options);
  EXPECT_EQ(plain.trace_hash, traced.trace_hash);
  EXPECT_GT(lines, plain.events / 10);
}

}  // namespace
}  // namespace ekv::sim
