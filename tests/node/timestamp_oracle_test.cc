// TimestampOracle: the leader's in-memory timestamp service (timestamp_oracle.h).
#include "core/node/timestamp_oracle.h"

#include "core/kv/timestamp.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

constexpr uint64_t kWallMs = 1'000'000;

TimestampOracle::Options SmallLease() {
  TimestampOracle::Options options;
  options.hlc.ceiling_lease_ms = 3000;
  options.hlc.renew_margin_ms = 1000;
  options.ceiling_retry_ticks = 5;
  return options;
}

// Leads `term`, recovered from (ceiling, max_applied), with a fresh ceiling applied.
TimestampOracle ServingOracle(uint64_t term, uint64_t ceiling_ms, kv::Timestamp max_applied) {
  TimestampOracle oracle(SmallLease());
  oracle.StartTerm(term);
  oracle.Recover(ceiling_ms, max_applied, kWallMs);
  oracle.MarkActive();
  std::optional<uint64_t> ceiling = oracle.CeilingToPropose(kWallMs, 0);
  EXPECT_TRUE(ceiling.has_value());
  oracle.OnCeilingProposed(*ceiling, 0);
  oracle.OnCeilingApplied(*ceiling);
  return oracle;
}

TEST(TimestampOracleTest, ServesNothingBeforeRecoverAndCeiling) {
  TimestampOracle oracle(SmallLease());
  EXPECT_FALSE(oracle.leading());
  oracle.StartTerm(3);
  oracle.MarkActive();
  EXPECT_FALSE(oracle.CeilingToPropose(kWallMs, 0).has_value()) << "not recovered yet";
  oracle.Recover(/*committed_ceiling_ms=*/0, /*max_applied_ts=*/0, kWallMs);
  // Recovered, but no ceiling is committed: Issue refuses and consumes nothing.
  EXPECT_EQ(oracle.Issue(kWallMs, 0).status().code(), absl::StatusCode::kUnavailable);
  std::optional<uint64_t> ceiling = oracle.CeilingToPropose(kWallMs, 0);
  ASSERT_TRUE(ceiling.has_value());
  EXPECT_EQ(*ceiling, kWallMs + 3000);
  oracle.OnCeilingProposed(*ceiling, 0);
  EXPECT_FALSE(oracle.CeilingToPropose(kWallMs, 1).has_value()) << "one proposal in flight";
  oracle.OnCeilingApplied(*ceiling);
  absl::StatusOr<kv::Timestamp> ts = oracle.Issue(kWallMs, 0);
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(kv::PhysicalMs(*ts), kWallMs);
}

TEST(TimestampOracleTest, RecoverPutsEveryTimestampAboveThePredecessorsCeiling) {
  // The previous leader may have issued up to its ceiling; this node's clock is behind.
  const uint64_t old_ceiling = kWallMs + 2500;
  TimestampOracle oracle = ServingOracle(5, old_ceiling, kv::MakeTimestamp(kWallMs, 7));
  absl::StatusOr<kv::Timestamp> ts = oracle.Issue(kWallMs, 0);
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_GT(kv::PhysicalMs(*ts), old_ceiling);
}

TEST(TimestampOracleTest, IssuesAboveEveryAppliedTimestampAndStrictlyIncreasing) {
  TimestampOracle oracle = ServingOracle(2, 0, 0);
  kv::Timestamp previous = 0;
  for (int i = 0; i < 100; ++i) {
    // Apply-time timestamps (raw writes) move ahead of the wall clock now and then.
    const kv::Timestamp applied = i % 10 == 0 ? kv::MakeTimestamp(kWallMs + 5, i) : 0;
    absl::StatusOr<kv::Timestamp> ts = oracle.Issue(kWallMs, applied);
    ASSERT_TRUE(ts.ok()) << ts.status();
    EXPECT_GT(*ts, previous);
    EXPECT_GT(*ts, applied);
    previous = *ts;
  }
  EXPECT_EQ(oracle.last_issued(), previous);
}

TEST(TimestampOracleTest, WallClockGoingBackwardsNeverMovesTimestampsBack) {
  TimestampOracle oracle = ServingOracle(2, 0, 0);
  absl::StatusOr<kv::Timestamp> first = oracle.Issue(kWallMs + 500, 0);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<kv::Timestamp> second = oracle.Issue(kWallMs - 10'000, 0);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(*second, *first);
}

TEST(TimestampOracleTest, NeverIssuesAboveTheCommittedCeilingAndRenewsBeforeRunningOut) {
  TimestampOracle oracle = ServingOracle(2, 0, 0);
  const uint64_t ceiling = oracle.committed_ceiling_ms();
  EXPECT_FALSE(oracle.CeilingToPropose(kWallMs, 1).has_value()) << "plenty of headroom";
  // Within renew_margin_ms of the ceiling a renewal is asked for ...
  std::optional<uint64_t> renewal = oracle.CeilingToPropose(ceiling - 500, 2);
  ASSERT_TRUE(renewal.has_value());
  EXPECT_GT(*renewal, ceiling);
  // ... and until it applies, nothing beyond the committed ceiling is handed out.
  EXPECT_TRUE(oracle.Issue(ceiling, 0).ok());
  EXPECT_EQ(oracle.Issue(ceiling + 1, 0).status().code(), absl::StatusCode::kUnavailable);
  oracle.OnCeilingProposed(*renewal, 2);
  oracle.OnCeilingApplied(*renewal);
  absl::StatusOr<kv::Timestamp> ts = oracle.Issue(ceiling + 1, 0);
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(kv::PhysicalMs(*ts), ceiling + 1);
}

TEST(TimestampOracleTest, LostCeilingProposalIsProposedAgain) {
  TimestampOracle oracle(SmallLease());
  oracle.StartTerm(1);
  oracle.Recover(0, 0, kWallMs);
  oracle.MarkActive();
  std::optional<uint64_t> ceiling = oracle.CeilingToPropose(kWallMs, 10);
  ASSERT_TRUE(ceiling.has_value());
  oracle.OnCeilingProposed(*ceiling, 10);
  EXPECT_FALSE(oracle.CeilingToPropose(kWallMs, 14).has_value());
  EXPECT_TRUE(oracle.CeilingToPropose(kWallMs, 15).has_value()) << "after ceiling_retry_ticks";
}

TEST(TimestampOracleTest, IdleOracleProposesNoCeilings) {
  TimestampOracle oracle(SmallLease());
  oracle.StartTerm(1);
  oracle.Recover(0, 0, kWallMs);
  EXPECT_FALSE(oracle.CeilingToPropose(kWallMs, 0).has_value());
}

TEST(TimestampOracleTest, FloorsCoverEveryIssuedTimestampOnce) {
  TimestampOracle oracle = ServingOracle(2, 0, 0);
  EXPECT_FALSE(oracle.FloorToLog().has_value()) << "nothing issued yet";
  absl::StatusOr<kv::Timestamp> a = oracle.Issue(kWallMs, 0);
  absl::StatusOr<kv::Timestamp> b = oracle.Issue(kWallMs, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(oracle.FloorToLog(), std::optional<kv::Timestamp>(*b));
  oracle.OnFloorProposed(*b);
  EXPECT_FALSE(oracle.FloorToLog().has_value());
  absl::StatusOr<kv::Timestamp> c = oracle.Issue(kWallMs, 0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(oracle.FloorToLog(), std::optional<kv::Timestamp>(*c));
}

TEST(TimestampOracleTest, StopServingForgetsTheTerm) {
  TimestampOracle oracle = ServingOracle(2, 0, 0);
  ASSERT_TRUE(oracle.Issue(kWallMs, 0).ok());
  oracle.StopServing();
  EXPECT_FALSE(oracle.leading());
  EXPECT_FALSE(oracle.recovered());
  EXPECT_FALSE(oracle.FloorToLog().has_value());
  oracle.StartTerm(4);
  EXPECT_EQ(oracle.term(), 4u);
  EXPECT_FALSE(oracle.recovered());
}

}  // namespace
}  // namespace ekv::node
