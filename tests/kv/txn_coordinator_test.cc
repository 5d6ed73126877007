#include "core/kv/txn_coordinator.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/kv/txn_test_cluster.h"

namespace ekv::kv {
namespace {

using ::ekv::kv::testing::TxnTestCluster;

constexpr uint64_t kTtlMs = 3000;

class TxnCoordinatorTest : public ::testing::Test {
 protected:
  TxnCoordinatorOptions Options() {
    TxnCoordinatorOptions options;
    options.lock_ttl_ms = kTtlMs;
    return options;
  }
  std::unique_ptr<TxnCoordinator> NewCoordinator() {
    return std::make_unique<TxnCoordinator>(Options(), &TxnTestCluster::Route);
  }
  TxnId Begin(TxnCoordinator& coordinator, std::vector<Mutation> mutations, Timestamp start_ts) {
    absl::StatusOr<TxnId> id = coordinator.Begin(std::move(mutations), start_ts);
    EXPECT_TRUE(id.ok()) << id.status();
    cluster_.Absorb(coordinator, /*answer_ts=*/false);
    return id.value_or(0);
  }
  std::optional<std::string> Value(const std::string& key, Timestamp read_ts) {
    KvQueryResult result = cluster_.Read(key, read_ts);
    EXPECT_TRUE(result.ok()) << key << ": " << result.status;
    return result.value;
  }
  bool Locked(const std::string& key) {
    return cluster_.group_of(key).sm.store().GetLock(key).value().has_value();
  }
  static const char* Name(const TxnProposal& p) { return KvCommandName(p.command); }

  TxnTestCluster cluster_;
};

TEST_F(TxnCoordinatorTest, SingleGroupTransactionsTakeTheOnePhasePath) {
  auto coordinator = NewCoordinator();
  const Timestamp start_ts = cluster_.NextTs();
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("b", "2")}, start_ts);
  cluster_.Pump(*coordinator);
  ASSERT_EQ(cluster_.applied.size(), 1u);
  EXPECT_STREQ(Name(cluster_.applied[0]), "one_phase_commit");
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  EXPECT_TRUE(cluster_.outcomes[0].status.ok()) << cluster_.outcomes[0].status;
  const Timestamp read_ts = cluster_.NextTs();
  EXPECT_EQ(Value("b", read_ts), "2");
  EXPECT_FALSE(Locked("a"));
  EXPECT_EQ(coordinator->active(), 0u);
}

TEST_F(TxnCoordinatorTest, AOnePhaseCommitTsChosenAtApplyNeedsNoTimestamp) {
  TxnCoordinatorOptions options = Options();
  options.one_phase_commit_ts_at_apply = true;
  TxnCoordinator coordinator(options, &TxnTestCluster::Route);
  const Timestamp start_ts = cluster_.NextTs();
  absl::StatusOr<TxnId> id =
      coordinator.Begin({Mutation::Put("a", "1"), Mutation::Put("b", "2")}, start_ts);
  ASSERT_TRUE(id.ok()) << id.status();
  CoordinatorEffects effects = coordinator.TakeEffects();
  EXPECT_TRUE(effects.commit_ts_requests.empty());
  ASSERT_EQ(effects.proposals.size(), 1u);
  const auto* one_pc = std::get_if<OnePhaseCommitCommand>(&effects.proposals[0].command);
  ASSERT_NE(one_pc, nullptr);
  EXPECT_EQ(one_pc->commit_ts, 0u);  // the group picks it
  // An unknown outcome is proposed again (idempotent), then the group's answer counts.
  coordinator.OnProposalTimeout(effects.proposals[0].proposal_id);
  effects = coordinator.TakeEffects();
  ASSERT_EQ(effects.proposals.size(), 1u);
  EXPECT_TRUE(effects.outcomes.empty());
  KvApplyResult applied;
  applied.commit_ts = start_ts + 7;
  coordinator.OnProposalResult(effects.proposals[0].proposal_id, applied);
  effects = coordinator.TakeEffects();
  ASSERT_EQ(effects.outcomes.size(), 1u);
  EXPECT_TRUE(effects.outcomes[0].status.ok());
  EXPECT_EQ(effects.outcomes[0].commit_ts, start_ts + 7);
  EXPECT_EQ(coordinator.active(), 0u);
}

TEST_F(TxnCoordinatorTest, NoCommitTimestampAbortsAndRollsBack) {
  auto coordinator = NewCoordinator();
  const Timestamp start_ts = cluster_.NextTs();
  absl::StatusOr<TxnId> id =
      coordinator->Begin({Mutation::Put("a", "1"), Mutation::Put("z", "2")}, start_ts);
  ASSERT_TRUE(id.ok());
  cluster_.Absorb(*coordinator, /*answer_ts=*/false);
  cluster_.Pump(*coordinator, /*answer_ts=*/false);  // both prewrites apply
  EXPECT_TRUE(Locked("a"));
  coordinator->CommitTsUnavailable(*id);
  cluster_.Pump(*coordinator, /*answer_ts=*/false);
  ASSERT_FALSE(cluster_.outcomes.empty());
  EXPECT_EQ(cluster_.outcomes.back().status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(Locked("a"));  // rolled back
  EXPECT_FALSE(Locked("z"));
  EXPECT_EQ(coordinator->active(), 0u);
}

TEST_F(TxnCoordinatorTest, CrossGroupCommitPrewritesAllThenCommitsThePrimaryFirst) {
  auto coordinator = NewCoordinator();
  Begin(*coordinator, {Mutation::Put("x", "1"), Mutation::Put("a", "2"), Mutation::Delete("y")},
        cluster_.NextTs());
  ASSERT_EQ(cluster_.pending.size(), 2u);
  cluster_.Deliver(*coordinator);
  cluster_.Deliver(*coordinator);
  ASSERT_EQ(cluster_.ts_requests.size(), 1u);
  cluster_.AnswerTs(*coordinator);
  ASSERT_EQ(cluster_.pending.size(), 1u);
  EXPECT_STREQ(Name(cluster_.pending[0]), "commit");
  EXPECT_EQ(cluster_.pending[0].group, 2u);  // "x", the primary, lives in group 2
  EXPECT_TRUE(cluster_.outcomes.empty());
  cluster_.Deliver(*coordinator);
  // Committed as soon as the primary is: the secondaries follow.
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  EXPECT_TRUE(cluster_.outcomes[0].status.ok());
  ASSERT_EQ(cluster_.pending.size(), 1u);
  EXPECT_EQ(cluster_.pending[0].group, 1u);
  cluster_.Pump(*coordinator);
  const Timestamp read_ts = cluster_.NextTs();
  EXPECT_EQ(Value("x", read_ts), "1");
  EXPECT_EQ(Value("a", read_ts), "2");
  EXPECT_EQ(Value("y", read_ts), std::nullopt);
  EXPECT_FALSE(Locked("a"));
  EXPECT_EQ(coordinator->active(), 0u);
}

TEST_F(TxnCoordinatorTest, AFailedPrewriteRollsBackEveryGroupAndBlocksBlindRetries) {
  auto coordinator = NewCoordinator();
  const Timestamp start_ts = cluster_.NextTs();
  // A newer write to "n" makes the transaction's prewrite on group 2 conflict.
  ASSERT_TRUE(cluster_.group_of("n")
                  .Apply(RawWriteCommand{{Mutation::Put("n", "raw")}, cluster_.NextTs()})
                  .ok());
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("n", "2")}, start_ts);
  cluster_.Pump(*coordinator);
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  const TxnOutcome& outcome = cluster_.outcomes[0];
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kAborted);
  ASSERT_EQ(outcome.key_errors.size(), 1u);
  EXPECT_EQ(outcome.key_errors[0].code, KeyErrorCode::kWriteConflict);
  EXPECT_FALSE(outcome.key_errors[0].retryable);
  EXPECT_FALSE(Locked("a"));
  EXPECT_EQ(coordinator->active(), 0u);
  // A client replaying the same prewrite is refused by the rollback record.
  KvApplyResult replay =
      cluster_.group(1).Apply(PrewriteCommand{{Mutation::Put("a", "1")}, "a", start_ts, kTtlMs});
  EXPECT_EQ(replay.key_errors.at(0).code, KeyErrorCode::kTxnRolledBack);
  EXPECT_EQ(Value("a", kMaxTimestamp), std::nullopt);
}

TEST_F(TxnCoordinatorTest, CrashBeforeTheCommitPointRollsEverythingBack) {
  auto coordinator = NewCoordinator();
  const Timestamp start_ts = cluster_.NextTs();
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("n", "2")}, start_ts);
  cluster_.Deliver(*coordinator);
  cluster_.Deliver(*coordinator);
  coordinator.reset();  // crashed while asking for a commit_ts
  cluster_.pending.clear();

  Timestamp read_ts = cluster_.NextTs();
  KvQueryResult blocked = cluster_.Read("n", read_ts);
  ASSERT_TRUE(blocked.locked.has_value());
  const LockRecord lock = *blocked.locked->lock;
  EXPECT_EQ(lock.primary, "a");

  auto resolver = NewCoordinator();
  // Within the TTL the owner may still be alive: the reader must wait.
  ASSERT_TRUE(resolver->ResolveLock("n", lock, cluster_.now_ms()).ok());
  cluster_.Pump(*resolver, /*answer_ts=*/false);
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  EXPECT_EQ(cluster_.outcomes[0].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cluster_.outcomes[0].txn_status, TxnStatusKind::kLocked);
  EXPECT_TRUE(Locked("a"));

  cluster_.AdvanceMs(kTtlMs);
  ASSERT_TRUE(resolver->ResolveLock("n", lock, cluster_.now_ms()).ok());
  cluster_.Pump(*resolver, /*answer_ts=*/false);
  ASSERT_EQ(cluster_.outcomes.size(), 2u);
  EXPECT_TRUE(cluster_.outcomes[1].status.ok()) << cluster_.outcomes[1].status;
  EXPECT_EQ(cluster_.outcomes[1].txn_status, TxnStatusKind::kRolledBack);
  EXPECT_FALSE(Locked("a"));
  EXPECT_FALSE(Locked("n"));
  // The blocked read retries at the same read_ts and now succeeds.
  EXPECT_EQ(Value("n", read_ts), std::nullopt);
  EXPECT_EQ(Value("a", read_ts), std::nullopt);
}

TEST_F(TxnCoordinatorTest, CrashAfterThePrimaryCommitRollsSecondariesForward) {
  auto coordinator = NewCoordinator();
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("n", "2")}, cluster_.NextTs());
  cluster_.Deliver(*coordinator);
  cluster_.Deliver(*coordinator);
  ASSERT_EQ(cluster_.ts_requests.size(), 1u);
  cluster_.AnswerTs(*coordinator);
  cluster_.Deliver(*coordinator);  // the primary's commit: the commit point
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  EXPECT_TRUE(cluster_.outcomes[0].status.ok());
  const TxnProposal lost_secondary_commit = cluster_.pending.at(0);
  coordinator.reset();
  cluster_.pending.clear();

  const Timestamp read_ts = cluster_.NextTs();
  EXPECT_EQ(Value("a", read_ts), "1");
  KvQueryResult blocked = cluster_.Read("n", read_ts);
  ASSERT_TRUE(blocked.locked.has_value());
  // No need to wait for the TTL: the primary already decided.
  auto resolver = NewCoordinator();
  ASSERT_TRUE(resolver->ResolveLock("n", *blocked.locked->lock, cluster_.now_ms()).ok());
  cluster_.Pump(*resolver, /*answer_ts=*/false);
  ASSERT_EQ(cluster_.outcomes.size(), 2u);
  EXPECT_EQ(cluster_.outcomes[1].txn_status, TxnStatusKind::kCommitted);
  EXPECT_EQ(Value("n", read_ts), "2");
  // The dead coordinator's commit arrives late: a harmless no-op.
  EXPECT_TRUE(cluster_.group(2).Apply(lost_secondary_commit.command).ok());
  EXPECT_EQ(Value("n", cluster_.NextTs()), "2");
}

TEST_F(TxnCoordinatorTest, AResolverRollbackBeatsALateCommit) {
  auto coordinator = NewCoordinator();
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("n", "2")}, cluster_.NextTs());
  cluster_.Deliver(*coordinator);
  cluster_.Deliver(*coordinator);
  // The coordinator stalls past the TTL; a reader rolls the transaction back.
  cluster_.AdvanceMs(kTtlMs + 1);
  auto resolver = NewCoordinator();
  const LockRecord lock = cluster_.group(2).sm.store().GetLock("n").value().value();
  ASSERT_TRUE(resolver->ResolveLock("n", lock, cluster_.now_ms()).ok());
  cluster_.Pump(*resolver, /*answer_ts=*/false);
  EXPECT_EQ(cluster_.outcomes.back().txn_status, TxnStatusKind::kRolledBack);

  cluster_.Pump(*coordinator);
  const TxnOutcome& outcome = cluster_.outcomes.back();
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(outcome.key_errors.at(0).code, KeyErrorCode::kTxnRolledBack);
  EXPECT_FALSE(Locked("a"));
  EXPECT_FALSE(Locked("n"));
  EXPECT_EQ(Value("a", cluster_.NextTs()), std::nullopt);
}

TEST_F(TxnCoordinatorTest, APrewriteTimeoutAbortsAndTheLatePrewriteIsBlocked) {
  auto coordinator = NewCoordinator();
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("n", "2")}, cluster_.NextTs());
  cluster_.Deliver(*coordinator);  // group 1's prewrite applies
  TxnProposal slow = cluster_.pending.at(0);
  cluster_.pending.pop_front();
  coordinator->OnProposalTimeout(slow.proposal_id);
  cluster_.Pump(*coordinator);  // rollbacks to both groups
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  EXPECT_EQ(cluster_.outcomes[0].status.code(), absl::StatusCode::kUnavailable);
  // The slow prewrite finally commits in group 2's log, after the rollback.
  KvApplyResult late = cluster_.group(2).Apply(slow.command);
  EXPECT_EQ(late.key_errors.at(0).code, KeyErrorCode::kTxnRolledBack);
  coordinator->OnProposalResult(slow.proposal_id, late);  // stale: ignored
  EXPECT_FALSE(Locked("a"));
  EXPECT_FALSE(Locked("n"));
  EXPECT_EQ(coordinator->active(), 0u);
}

TEST_F(TxnCoordinatorTest, APrimaryCommitTimeoutIsReproposedIdempotently) {
  auto coordinator = NewCoordinator();
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("n", "2")}, cluster_.NextTs());
  cluster_.Deliver(*coordinator);
  cluster_.Deliver(*coordinator);
  ASSERT_EQ(cluster_.ts_requests.size(), 1u);
  cluster_.AnswerTs(*coordinator);
  // The commit applies but its answer is lost.
  TxnProposal commit = cluster_.pending.at(0);
  cluster_.pending.pop_front();
  ASSERT_TRUE(cluster_.group(commit.group).Apply(commit.command).ok());
  coordinator->OnProposalTimeout(commit.proposal_id);
  cluster_.Absorb(*coordinator);
  ASSERT_EQ(cluster_.pending.size(), 1u);
  EXPECT_EQ(cluster_.pending[0].command, commit.command);
  cluster_.Pump(*coordinator);
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  EXPECT_TRUE(cluster_.outcomes[0].status.ok()) << cluster_.outcomes[0].status;
  EXPECT_EQ(Value("n", cluster_.NextTs()), "2");
}

TEST_F(TxnCoordinatorTest, AnUnansweredPrimaryCommitReportsOutcomeUnknown) {
  auto coordinator = NewCoordinator();
  Begin(*coordinator, {Mutation::Put("a", "1"), Mutation::Put("n", "2")}, cluster_.NextTs());
  cluster_.Deliver(*coordinator);
  cluster_.Deliver(*coordinator);
  ASSERT_EQ(cluster_.ts_requests.size(), 1u);
  cluster_.AnswerTs(*coordinator);
  for (uint32_t attempt = 0; attempt < Options().max_attempts; ++attempt) {
    ASSERT_EQ(cluster_.pending.size(), 1u);
    TxnProposal commit = cluster_.pending.at(0);
    cluster_.pending.pop_front();
    coordinator->OnProposalTimeout(commit.proposal_id);
    cluster_.Absorb(*coordinator);
  }
  ASSERT_EQ(cluster_.outcomes.size(), 1u);
  EXPECT_EQ(cluster_.outcomes[0].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(cluster_.outcomes[0].status.message().find("outcome unknown"), std::string::npos);
  EXPECT_EQ(coordinator->active(), 0u);
  EXPECT_TRUE(Locked("a"));  // left for lazy resolution
}

TEST_F(TxnCoordinatorTest, LimitsAreEnforcedWithClearErrors) {
  TxnCoordinatorOptions options;
  options.max_mutations_per_txn = 2;
  options.max_concurrent_txns = 1;
  TxnCoordinator coordinator(options, &TxnTestCluster::Route);
  absl::StatusOr<TxnId> too_many = coordinator.Begin(
      {Mutation::Put("a", "1"), Mutation::Put("b", "1"), Mutation::Put("c", "1")}, 5);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("max_mutations_per_txn"), std::string::npos);
  EXPECT_EQ(coordinator.Begin({}, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      coordinator.Begin({Mutation::Put("a", "1"), Mutation::Put("a", "2")}, 5).status().code(),
      absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(coordinator.Begin({Mutation::Put("a", "1")}, 5).ok());
  absl::StatusOr<TxnId> busy = coordinator.Begin({Mutation::Put("b", "1")}, 6);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(busy.status().message().find("max_concurrent_txns"), std::string::npos);
  EXPECT_EQ(coordinator.ResolveLock("k", LockRecord{"p", 3, 10, MutationKind::kPut, ""}, 0)
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  coordinator.OnProposalResult(12345, KvApplyResult{});  // unknown proposal: ignored
  coordinator.OnProposalTimeout(12345);
}

}  // namespace
}  // namespace ekv::kv
