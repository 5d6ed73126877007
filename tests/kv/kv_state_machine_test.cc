#include "core/kv/kv_state_machine.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kv/memory_engine.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

// Timestamps in whole milliseconds keep TTL arithmetic readable.
constexpr Timestamp T(uint64_t ms) { return MakeTimestamp(ms, 0); }

class KvStateMachineTest : public ::testing::Test {
 protected:
  KvApplyResult Apply(const KvCommand& command) { return sm_.Apply(++index_, command); }
  void ApplyOk(const KvCommand& command) {
    KvApplyResult result = Apply(command);
    ASSERT_TRUE(result.ok()) << KvCommandName(command) << ": " << result.status;
  }
  std::optional<std::string> Get(const std::string& key, Timestamp read_ts) {
    KvQueryResult result = sm_.Query(KvQuery::Get(key, read_ts));
    EXPECT_TRUE(result.ok()) << result.status;
    return result.value;
  }
  std::vector<std::string> ScanKeys(const std::string& start, const std::string& end, size_t limit,
                                    Timestamp read_ts,
                                    ScanDirection direction = ScanDirection::kForward) {
    KvQueryResult result = sm_.Query(KvQuery::Scan(start, end, limit, read_ts, direction));
    EXPECT_TRUE(result.ok()) << result.status;
    std::vector<std::string> keys;
    for (const KvPair& pair : result.pairs) keys.push_back(pair.key);
    return keys;
  }
  std::optional<LockRecord> Lock(const std::string& key) {
    return sm_.store().GetLock(key).value();
  }
  std::optional<TxnStatusRecord> Status(const std::string& key, Timestamp start_ts) {
    return sm_.store().GetTxnStatus(key, start_ts).value();
  }
  // 2PC of `mutations` in this one group, primary = first key.
  void Transact(std::vector<Mutation> mutations, Timestamp start_ts, Timestamp commit_ts) {
    std::vector<std::string> keys;
    for (const Mutation& m : mutations) keys.push_back(m.key);
    const std::string primary = keys.front();
    ApplyOk(PrewriteCommand{std::move(mutations), primary, start_ts, 1000});
    ApplyOk(CommitCommand{keys, start_ts, commit_ts});
  }

  MemoryEngine engine_;
  KvStateMachine sm_{&engine_};
  uint64_t index_ = 0;
};

using Keys = std::vector<std::string>;

// ---- raw writes, index, ceiling ----

TEST_F(KvStateMachineTest, RawWritesAreVersionedAtTheCommandsTimestamp) {
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "1"), Mutation::Put("b", "2")}, T(10)});
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "3"), Mutation::Delete("b")}, T(20)});
  EXPECT_EQ(Get("a", T(9)), std::nullopt);
  EXPECT_EQ(Get("a", T(10)), "1");
  EXPECT_EQ(Get("b", T(19)), "2");
  EXPECT_EQ(Get("a", T(20)), "3");
  EXPECT_EQ(Get("b", T(20)), std::nullopt);
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("b")).latest_commit_ts, T(20));
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("zz")).latest_commit_ts, std::nullopt);
  EXPECT_EQ(sm_.applied_index(), 2u);
}

TEST_F(KvStateMachineTest, RawWriteBelowAnExistingVersionIsAConflictAndWritesNothing) {
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "new")}, T(20)});
  KvApplyResult result =
      Apply(RawWriteCommand{{Mutation::Put("b", "x"), Mutation::Put("a", "old")}, T(20)});
  EXPECT_EQ(result.status.code(), absl::StatusCode::kAborted);
  ASSERT_EQ(result.key_errors.size(), 1u);
  EXPECT_EQ(result.key_errors[0].key, "a");
  EXPECT_EQ(result.key_errors[0].code, KeyErrorCode::kWriteConflict);
  EXPECT_EQ(Get("b", T(100)), std::nullopt);  // all or nothing
  EXPECT_EQ(Get("a", T(100)), "new");
  EXPECT_EQ(sm_.applied_index(), 2u);  // a failed command still consumes its index
}

TEST_F(KvStateMachineTest, RawWriteOnALockedKeyIsRetryable) {
  ApplyOk(PrewriteCommand{{Mutation::Put("k", "txn")}, "k", T(10), 1000});
  KvApplyResult result = Apply(RawWriteCommand{{Mutation::Put("k", "raw")}, T(20)});
  ASSERT_EQ(result.key_errors.size(), 1u);
  EXPECT_EQ(result.key_errors[0].code, KeyErrorCode::kKeyIsLocked);
  EXPECT_TRUE(result.key_errors[0].retryable);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(KvStateMachineTest, MalformedCommandsFailWithoutEffect) {
  EXPECT_EQ(Apply(RawWriteCommand{{Mutation::Put("a", "1"), Mutation::Put("a", "2")}, T(1)})
                .status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(RawWriteCommand{{}, T(1)}).status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(RawWriteCommand{{Mutation::Put("a", "1")}, 0}).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(CommitCommand{{"a"}, T(5), T(5)}).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(PutWithTtlCommand{"a", "v", 0, T(5)}).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(RawWriteCommand{{Mutation::Put(std::string(kMaxKeyBytes + 1, 'k'), "1")}, T(1)})
                .status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("a", kMaxTimestamp), std::nullopt);
  EXPECT_EQ(sm_.applied_index(), 6u);
}

TEST_F(KvStateMachineTest, UndecodableBytesAdvanceTheIndexWithDataLoss) {
  KvApplyResult result = sm_.ApplyEncoded(1, "garbage");
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(sm_.applied_index(), 1u);
  result = sm_.ApplyEncoded(2, EncodeKvCommand(RawWriteCommand{{Mutation::Put("a", "1")}, T(1)}));
  EXPECT_TRUE(result.ok()) << result.status;
  EXPECT_EQ(Get("a", T(1)), "1");
}

TEST_F(KvStateMachineTest, ReapplyingAnIndexIsAnAssertionFailure) {
  ApplyOk(SetHlcCeilingCommand{10});
  EXPECT_DEATH(sm_.Apply(index_, SetHlcCeilingCommand{20}), "applied twice or out of order");
  EXPECT_DEATH(sm_.Skip(index_ - 1), "out of order");
}

TEST_F(KvStateMachineTest, HlcCeilingOnlyMovesUpAndSurvivesRestart) {
  EXPECT_EQ(Apply(SetHlcCeilingCommand{5000}).hlc_ceiling_ms, 5000u);
  EXPECT_EQ(Apply(SetHlcCeilingCommand{4000}).hlc_ceiling_ms, 5000u);  // stale, late
  EXPECT_EQ(sm_.hlc_ceiling_ms(), 5000u);
  sm_.Skip(++index_);
  KvStateMachine restarted(&engine_);
  EXPECT_EQ(restarted.hlc_ceiling_ms(), 5000u);
  EXPECT_EQ(restarted.applied_index(), 3u);
}

// ---- Percolator ----

TEST_F(KvStateMachineTest, PrewriteLocksAndCommitPublishesAtCommitTs) {
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "old")}, T(5)});
  ApplyOk(PrewriteCommand{{Mutation::Put("a", "new"), Mutation::Delete("b")}, "a", T(10), 1000});
  EXPECT_EQ(Lock("a")->primary, "a");
  EXPECT_EQ(Lock("b")->kind, MutationKind::kDelete);
  // Reads below start_ts do not wait; reads at or above it do.
  EXPECT_EQ(Get("a", T(9)), "old");
  KvQueryResult blocked = sm_.Query(KvQuery::Get("a", T(10)));
  EXPECT_EQ(blocked.status.code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(blocked.locked.has_value());
  EXPECT_EQ(blocked.locked->lock->start_ts, T(10));
  EXPECT_EQ(blocked.locked->lock->primary, "a");

  ApplyOk(CommitCommand{{"a", "b"}, T(10), T(15)});
  EXPECT_EQ(Lock("a"), std::nullopt);
  EXPECT_EQ(Lock("b"), std::nullopt);
  EXPECT_EQ(Get("a", T(14)), "old");
  EXPECT_EQ(Get("a", T(15)), "new");
  EXPECT_EQ(Status("a", T(10)), (TxnStatusRecord{TxnState::kCommitted, T(15)}));
  EXPECT_EQ(Status("b", T(10)), std::nullopt);  // status lives on the primary only
  auto version = sm_.store().GetVersion("a", T(15)).value();
  EXPECT_EQ(version->record.start_ts, T(10));
}

TEST_F(KvStateMachineTest, PrewriteAfterANewerCommitIsANonRetryableWriteConflict) {
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "v")}, T(20)});
  KvApplyResult result =
      Apply(PrewriteCommand{{Mutation::Put("b", "x"), Mutation::Put("a", "y")}, "b", T(10), 1000});
  EXPECT_EQ(result.status.code(), absl::StatusCode::kAborted);
  ASSERT_EQ(result.key_errors.size(), 1u);
  EXPECT_EQ(result.key_errors[0].code, KeyErrorCode::kWriteConflict);
  EXPECT_FALSE(result.key_errors[0].retryable);
  EXPECT_EQ(result.key_errors[0].conflict_commit_ts, T(20));
  EXPECT_EQ(Lock("b"), std::nullopt);  // all or nothing
  // The same request later fails the same way: retryable=false is truthful.
  EXPECT_EQ(Apply(PrewriteCommand{{Mutation::Put("a", "y")}, "a", T(10), 1000}).key_errors[0].code,
            KeyErrorCode::kWriteConflict);
  // A version committed exactly at start_ts is visible to the txn's reads: no conflict.
  ApplyOk(PrewriteCommand{{Mutation::Put("a", "z")}, "a", T(20), 1000});
}

TEST_F(KvStateMachineTest, PrewriteOnAForeignLockIsRetryableWithTheLock) {
  ApplyOk(PrewriteCommand{{Mutation::Put("a", "1")}, "a", T(10), 1000});
  KvApplyResult result =
      Apply(PrewriteCommand{{Mutation::Put("c", "2"), Mutation::Put("a", "2")}, "c", T(11), 1000});
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(result.key_errors.size(), 1u);
  EXPECT_EQ(result.key_errors[0].code, KeyErrorCode::kKeyIsLocked);
  EXPECT_TRUE(result.key_errors[0].retryable);
  EXPECT_EQ(result.key_errors[0].lock->start_ts, T(10));
  EXPECT_EQ(Lock("c"), std::nullopt);
  // Once the holder commits, the same request fails for good (newer commit): and
  // once it rolls back instead, the retry succeeds. Here: roll back.
  ApplyOk(RollbackCommand{{"a"}, T(10)});
  ApplyOk(PrewriteCommand{{Mutation::Put("c", "2"), Mutation::Put("a", "2")}, "c", T(11), 1000});
}

TEST_F(KvStateMachineTest, PrewriteCommitAndRollbackAreIdempotent) {
  const PrewriteCommand prewrite{
      {Mutation::Put("a", "1"), Mutation::Put("b", "2")}, "a", T(10), 1000};
  ApplyOk(prewrite);
  ApplyOk(prewrite);
  EXPECT_EQ(Lock("a")->value, "1");
  ApplyOk(CommitCommand{{"a", "b"}, T(10), T(12)});
  ApplyOk(CommitCommand{{"a", "b"}, T(10), T(12)});
  ApplyOk(CommitCommand{{"b"}, T(10), T(12)});  // a secondary: found by its version
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("a")).latest_commit_ts, T(12));

  ApplyOk(PrewriteCommand{{Mutation::Put("c", "1")}, "c", T(20), 1000});
  ApplyOk(RollbackCommand{{"c"}, T(20)});
  ApplyOk(RollbackCommand{{"c"}, T(20)});
  EXPECT_EQ(Lock("c"), std::nullopt);
  EXPECT_EQ(Status("c", T(20)), (TxnStatusRecord{TxnState::kRolledBack, 0}));
}

TEST_F(KvStateMachineTest, CommitAfterRollbackAndPrewriteAfterRollbackFail) {
  ApplyOk(PrewriteCommand{{Mutation::Put("a", "1")}, "a", T(10), 1000});
  ApplyOk(RollbackCommand{{"a", "late"}, T(10)});
  KvApplyResult commit = Apply(CommitCommand{{"a"}, T(10), T(12)});
  ASSERT_EQ(commit.key_errors.size(), 1u);
  EXPECT_EQ(commit.key_errors[0].code, KeyErrorCode::kTxnRolledBack);
  EXPECT_EQ(commit.status.code(), absl::StatusCode::kAborted);
  // "late" was rolled back before its prewrite arrived: the record stops it.
  KvApplyResult prewrite = Apply(PrewriteCommand{{Mutation::Put("late", "x")}, "a", T(10), 1000});
  ASSERT_EQ(prewrite.key_errors.size(), 1u);
  EXPECT_EQ(prewrite.key_errors[0].code, KeyErrorCode::kTxnRolledBack);
  EXPECT_EQ(Lock("late"), std::nullopt);
  EXPECT_EQ(Get("a", kMaxTimestamp), std::nullopt);
}

TEST_F(KvStateMachineTest, CommitWithoutPrewriteIsTxnLockNotFound) {
  KvApplyResult result = Apply(CommitCommand{{"a"}, T(10), T(12)});
  ASSERT_EQ(result.key_errors.size(), 1u);
  EXPECT_EQ(result.key_errors[0].code, KeyErrorCode::kTxnLockNotFound);
  EXPECT_FALSE(result.key_errors[0].retryable);
}

TEST_F(KvStateMachineTest, RollbackOfACommittedTxnFailsOnPrimaryAndSecondary) {
  Transact({Mutation::Put("a", "1"), Mutation::Put("b", "2")}, T(10), T(12));
  for (const char* key : {"a", "b"}) {
    KvApplyResult result = Apply(RollbackCommand{{key}, T(10)});
    ASSERT_EQ(result.key_errors.size(), 1u) << key;
    EXPECT_EQ(result.key_errors[0].code, KeyErrorCode::kTxnCommitted) << key;
  }
  EXPECT_EQ(Get("b", T(12)), "2");
}

TEST_F(KvStateMachineTest, BlindRetriesOfFinishedTransactionsNeverReapply) {
  // Committed txn T1 (start 10), then T2 overwrites both keys.
  const PrewriteCommand t1_prewrite{
      {Mutation::Put("a", "t1"), Mutation::Put("b", "t1")}, "a", T(10), 1000};
  const CommitCommand t1_commit{{"a", "b"}, T(10), T(12)};
  ApplyOk(t1_prewrite);
  ApplyOk(t1_commit);
  Transact({Mutation::Put("a", "t2"), Mutation::Put("b", "t2")}, T(20), T(22));
  // Rolled back txn T3 (start 30).
  const PrewriteCommand t3_prewrite{{Mutation::Put("a", "t3")}, "a", T(30), 1000};
  const CommitCommand t3_commit{{"a"}, T(30), T(32)};
  ApplyOk(t3_prewrite);
  ApplyOk(RollbackCommand{{"a"}, T(30)});
  // Conflicted txn T4 (start 15, sees T2's commit at 22), rolled back by its client.
  const PrewriteCommand t4_prewrite{{Mutation::Put("b", "t4")}, "b", T(15), 1000};
  EXPECT_EQ(Apply(t4_prewrite).key_errors[0].code, KeyErrorCode::kWriteConflict);
  ApplyOk(RollbackCommand{{"b"}, T(15)});

  // Replay every request blindly, twice.
  for (int round = 0; round < 2; ++round) {
    Apply(t1_prewrite);
    Apply(t1_commit);
    EXPECT_FALSE(Apply(t3_prewrite).ok());
    EXPECT_FALSE(Apply(t3_commit).ok());
    EXPECT_FALSE(Apply(t4_prewrite).ok());
    EXPECT_FALSE(Apply(CommitCommand{{"b"}, T(15), T(40)}).ok());
  }
  EXPECT_EQ(Lock("a"), std::nullopt);
  EXPECT_EQ(Lock("b"), std::nullopt);
  EXPECT_EQ(Get("a", kMaxTimestamp), "t2");
  EXPECT_EQ(Get("b", kMaxTimestamp), "t2");
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("a")).latest_commit_ts, T(22));
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("b")).latest_commit_ts, T(22));
}

// ---- lock resolution ----

TEST_F(KvStateMachineTest, CheckTxnStatusKeepsALiveLockAndRollsBackAnExpiredOne) {
  ApplyOk(PrewriteCommand{{Mutation::Put("p", "1"), Mutation::Put("s", "1")}, "p", T(1000), 500});
  KvApplyResult alive = Apply(CheckTxnStatusCommand{"p", T(1000), 1499});
  ASSERT_TRUE(alive.ok()) << alive.status;
  EXPECT_EQ(alive.txn_status, TxnStatusKind::kLocked);
  EXPECT_EQ(alive.lock->ttl_ms, 500u);
  EXPECT_TRUE(Lock("p").has_value());

  KvApplyResult expired = Apply(CheckTxnStatusCommand{"p", T(1000), 1500});
  EXPECT_EQ(expired.txn_status, TxnStatusKind::kRolledBack);
  EXPECT_EQ(Lock("p"), std::nullopt);
  // The coordinator's commit now fails: the decision is final.
  EXPECT_EQ(Apply(CommitCommand{{"p", "s"}, T(1000), T(1600)}).key_errors.front().code,
            KeyErrorCode::kTxnRolledBack);
  // Readers roll the secondary back too.
  ApplyOk(ResolveLockCommand{{"s"}, T(1000), 0});
  EXPECT_EQ(Lock("s"), std::nullopt);
  EXPECT_EQ(Get("s", kMaxTimestamp), std::nullopt);
  EXPECT_EQ(Apply(CheckTxnStatusCommand{"p", T(1000), 1500}).txn_status,
            TxnStatusKind::kRolledBack);
}

TEST_F(KvStateMachineTest, CommittedPrimaryRollsSecondariesForward) {
  ApplyOk(PrewriteCommand{{Mutation::Put("p", "1"), Mutation::Put("s", "2")}, "p", T(1000), 500});
  ApplyOk(CommitCommand{{"p"}, T(1000), T(1100)});  // coordinator dies after the primary
  KvQueryResult blocked = sm_.Query(KvQuery::Get("s", T(2000)));
  ASSERT_TRUE(blocked.locked.has_value());
  // Even long after the TTL, a committed primary stays committed.
  KvApplyResult status = Apply(CheckTxnStatusCommand{"p", T(1000), 99999});
  EXPECT_EQ(status.txn_status, TxnStatusKind::kCommitted);
  EXPECT_EQ(status.commit_ts, T(1100));
  ApplyOk(ResolveLockCommand{{"s"}, T(1000), status.commit_ts});
  ApplyOk(ResolveLockCommand{{"s"}, T(1000), status.commit_ts});  // idempotent
  EXPECT_EQ(Get("s", T(2000)), "2");
  EXPECT_EQ(Get("s", T(1099)), std::nullopt);
}

TEST_F(KvStateMachineTest, CheckTxnStatusRollsBackAPrimaryThatNeverArrived) {
  KvApplyResult status = Apply(CheckTxnStatusCommand{"p", T(1000), 5000});
  EXPECT_EQ(status.txn_status, TxnStatusKind::kRolledBack);
  EXPECT_EQ(
      Apply(PrewriteCommand{{Mutation::Put("p", "1")}, "p", T(1000), 500}).key_errors.front().code,
      KeyErrorCode::kTxnRolledBack);
}

TEST_F(KvStateMachineTest, OnlyLocksAtOrBelowTheReadTimestampBlockScans) {
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "1"), Mutation::Put("c", "3")}, T(5)});
  ApplyOk(PrewriteCommand{{Mutation::Put("b", "2")}, "b", T(50), 1000});
  EXPECT_EQ(ScanKeys("", "", 10, T(40)), (Keys{"a", "c"}));
  KvQueryResult blocked = sm_.Query(KvQuery::Scan("", "", 10, T(60)));
  ASSERT_TRUE(blocked.locked.has_value());
  EXPECT_EQ(blocked.locked->key, "b");
  EXPECT_TRUE(blocked.pairs.empty());
  // Ranges that do not cover the lock are not blocked, including a limit that stops
  // before it.
  EXPECT_EQ(ScanKeys("c", "", 10, T(60)), (Keys{"c"}));
  EXPECT_EQ(ScanKeys("", "", 1, T(60)), (Keys{"a"}));
  EXPECT_EQ(ScanKeys("", "", 1, T(60), ScanDirection::kReverse), (Keys{"c"}));
  EXPECT_FALSE(sm_.Query(KvQuery::Scan("", "", 2, T(60), ScanDirection::kReverse)).ok());
}

// ---- 1PC ----

TEST_F(KvStateMachineTest, OnePhaseCommitWritesWithoutLocksAndChecksConflicts) {
  const OnePhaseCommitCommand txn{{Mutation::Put("a", "1"), Mutation::Delete("b")}, T(10), T(11)};
  ApplyOk(RawWriteCommand{{Mutation::Put("b", "old")}, T(5)});
  ApplyOk(txn);
  EXPECT_EQ(Lock("a"), std::nullopt);
  EXPECT_EQ(Get("a", T(11)), "1");
  EXPECT_EQ(Get("b", T(11)), std::nullopt);
  EXPECT_EQ(Get("b", T(10)), "old");
  // A blind retry is recognised by its own versions and changes nothing.
  ApplyOk(txn);
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("a")).latest_commit_ts, T(11));

  KvApplyResult conflict = Apply(OnePhaseCommitCommand{{Mutation::Put("a", "2")}, T(9), T(13)});
  EXPECT_EQ(conflict.status.code(), absl::StatusCode::kAborted);
  ApplyOk(PrewriteCommand{{Mutation::Put("c", "x")}, "c", T(20), 1000});
  KvApplyResult locked = Apply(OnePhaseCommitCommand{{Mutation::Put("c", "y")}, T(21), T(22)});
  EXPECT_EQ(locked.key_errors.front().code, KeyErrorCode::kKeyIsLocked);
  ApplyOk(RollbackCommand{{"d"}, T(30)});
  EXPECT_EQ(
      Apply(OnePhaseCommitCommand{{Mutation::Put("d", "y")}, T(30), T(31)}).key_errors.front().code,
      KeyErrorCode::kTxnRolledBack);
}

// ---- read-modify-write ----

TEST_F(KvStateMachineTest, CompareAndSet) {
  KvApplyResult created = Apply(CompareAndSetCommand{"k", std::nullopt, "1", T(10)});
  ASSERT_TRUE(created.ok()) << created.status;
  EXPECT_EQ(created.old_value, std::nullopt);
  EXPECT_EQ(created.new_value, "1");
  KvApplyResult mismatch = Apply(CompareAndSetCommand{"k", "0", "2", T(11)});
  EXPECT_EQ(mismatch.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mismatch.old_value, "1");
  EXPECT_EQ(Apply(CompareAndSetCommand{"k", std::nullopt, "2", T(12)}).status.code(),
            absl::StatusCode::kFailedPrecondition);
  ApplyOk(CompareAndSetCommand{"k", "1", "2", T(13)});
  EXPECT_EQ(Get("k", T(13)), "2");
  ApplyOk(CompareAndSetCommand{"k", "2", std::nullopt, T(14)});  // delete
  EXPECT_EQ(Get("k", T(14)), std::nullopt);
  EXPECT_EQ(Get("k", T(13)), "2");
}

TEST_F(KvStateMachineTest, ConditionalWrites) {
  auto write = [&](Mutation m, ConditionKind kind, std::string value, uint64_t ms) {
    return Apply(ConditionalWriteCommand{std::move(m), {kind, std::move(value)}, T(ms)});
  };
  EXPECT_FALSE(write(Mutation::Put("k", "1"), ConditionKind::kExists, "", 10).ok());
  EXPECT_TRUE(write(Mutation::Put("k", "1"), ConditionKind::kNotExists, "", 11).ok());
  EXPECT_FALSE(write(Mutation::Put("k", "2"), ConditionKind::kNotExists, "", 12).ok());
  EXPECT_FALSE(write(Mutation::Put("k", "2"), ConditionKind::kEquals, "9", 13).ok());
  EXPECT_TRUE(write(Mutation::Put("k", "2"), ConditionKind::kEquals, "1", 14).ok());
  EXPECT_TRUE(write(Mutation::Put("k", "3"), ConditionKind::kNone, "", 15).ok());
  KvApplyResult deleted = write(Mutation::Delete("k"), ConditionKind::kExists, "", 16);
  EXPECT_TRUE(deleted.ok());
  EXPECT_EQ(deleted.old_value, "3");
  EXPECT_EQ(deleted.new_value, std::nullopt);
  EXPECT_EQ(Get("k", T(16)), std::nullopt);
  EXPECT_EQ(Get("k", T(15)), "3");
}

TEST_F(KvStateMachineTest, IncrementParsesStrictlyAndDetectsOverflow) {
  KvApplyResult first = Apply(IncrementCommand{"n", 5, T(10)});
  EXPECT_EQ(first.old_value, std::nullopt);
  EXPECT_EQ(first.new_value, "5");
  EXPECT_EQ(Apply(IncrementCommand{"n", -7, T(11)}).new_value, "-2");
  ApplyOk(RawWriteCommand{{Mutation::Put("s", "12a")}, T(12)});
  KvApplyResult bad = Apply(IncrementCommand{"s", 1, T(13)});
  EXPECT_EQ(bad.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status.message().find("not an integer"), absl::string_view::npos);
  for (const char* text : {"", " 1", "+1", "1 ", "99999999999999999999", "-"}) {
    ApplyOk(RawWriteCommand{{Mutation::Put("s", text)}, T(20 + index_)});
    EXPECT_FALSE(Apply(IncrementCommand{"s", 1, T(20 + index_)}).ok()) << "'" << text << "'";
  }
  ApplyOk(RawWriteCommand{{Mutation::Put("max", "9223372036854775807")}, T(100)});
  KvApplyResult overflow = Apply(IncrementCommand{"max", 1, T(101)});
  EXPECT_NE(overflow.status.message().find("overflow"), absl::string_view::npos);
  EXPECT_EQ(Get("max", T(101)), "9223372036854775807");
  EXPECT_EQ(Apply(IncrementCommand{"max", INT64_MIN, T(102)}).new_value, "-1");
}

TEST_F(KvStateMachineTest, AppendAndLockedOrStaleRmwFail) {
  EXPECT_EQ(Apply(AppendCommand{"s", "ab", T(10)}).new_value, "ab");
  KvApplyResult appended = Apply(AppendCommand{"s", "cd", T(11)});
  EXPECT_EQ(appended.old_value, "ab");
  EXPECT_EQ(Get("s", T(11)), "abcd");
  // Stale timestamp: a version at or above commit_ts exists.
  EXPECT_EQ(Apply(AppendCommand{"s", "x", T(11)}).key_errors.front().code,
            KeyErrorCode::kWriteConflict);
  ApplyOk(PrewriteCommand{{Mutation::Put("s", "txn")}, "s", T(20), 1000});
  KvApplyResult locked = Apply(IncrementCommand{"s", 1, T(21)});
  EXPECT_EQ(locked.key_errors.front().code, KeyErrorCode::kKeyIsLocked);
  EXPECT_TRUE(locked.key_errors.front().retryable);
}

TEST_F(KvStateMachineTest, PutWithTtlExpiresAtReadTimestamps) {
  KvApplyResult put = Apply(PutWithTtlCommand{"t", "v", 100, T(1000)});
  ASSERT_TRUE(put.ok()) << put.status;
  EXPECT_EQ(put.expire_ts, T(1100));
  ApplyOk(RawWriteCommand{{Mutation::Put("u", "plain")}, T(1001)});
  EXPECT_EQ(Get("t", T(1000)), "v");
  EXPECT_EQ(Get("t", T(1100) - 1), "v");
  EXPECT_EQ(Get("t", T(1100)), std::nullopt);
  EXPECT_EQ(ScanKeys("", "", 10, T(1050)), (Keys{"t", "u"}));
  EXPECT_EQ(ScanKeys("", "", 10, T(1100)), (Keys{"u"}));
  EXPECT_EQ(ScanKeys("", "", 1, T(1100)), (Keys{"u"}));  // pages past the expired key
  EXPECT_EQ(ScanKeys("", "", 1, T(1100), ScanDirection::kReverse), (Keys{"u"}));
}

TEST_F(KvStateMachineTest, RmwKeepsTtlAndTreatsExpiredAsAbsent) {
  ApplyOk(PutWithTtlCommand{"n", "1", 100, T(1000)});
  EXPECT_EQ(Apply(IncrementCommand{"n", 1, T(1050)}).new_value, "2");
  EXPECT_EQ(Get("n", T(1099)), "2");
  EXPECT_EQ(Get("n", T(1100)), std::nullopt);  // the increment kept the expiry
  KvApplyResult after = Apply(IncrementCommand{"n", 1, T(1200)});
  EXPECT_EQ(after.old_value, std::nullopt);
  EXPECT_EQ(after.new_value, "1");
  EXPECT_EQ(Get("n", T(5000)), "1");  // a fresh value has no expiry
  ApplyOk(PutWithTtlCommand{"m", "x", 10, T(2000)});
  EXPECT_TRUE(Apply(CompareAndSetCommand{"m", std::nullopt, "y", T(2010)}).ok());
  EXPECT_EQ(Get("m", T(9999)), "y");
}

// ---- determinism, snapshots ----

std::vector<KvCommand> RandomCommands(uint64_t seed, int count) {
  Rng rng(seed);
  std::vector<KvCommand> commands;
  auto key = [&] { return std::string(1, static_cast<char>('a' + rng.Uniform(6))); };
  uint64_t ms = 1000;
  for (int i = 0; i < count; ++i) {
    ms += 1 + rng.Uniform(20);
    const Timestamp ts = T(ms);
    switch (rng.Uniform(9)) {
      case 0:
        commands.push_back(RawWriteCommand{{Mutation::Put(key(), absl::StrCat(i))}, ts});
        break;
      case 1:
        commands.push_back(PrewriteCommand{{Mutation::Put(key(), absl::StrCat(i))}, "a", ts, 30});
        break;
      case 2:
        commands.push_back(CommitCommand{{key()}, T(ms - rng.Uniform(40)) + 1, ts});
        break;
      case 3:
        commands.push_back(RollbackCommand{{key()}, T(ms - rng.Uniform(40))});
        break;
      case 4:
        commands.push_back(CheckTxnStatusCommand{"a", T(ms - rng.Uniform(100)), ms});
        break;
      case 5:
        commands.push_back(IncrementCommand{key(), static_cast<int64_t>(rng.Uniform(10)), ts});
        break;
      case 6:
        commands.push_back(PutWithTtlCommand{key(), "ttl", 1 + rng.Uniform(50), ts});
        break;
      case 7:
        commands.push_back(OnePhaseCommitCommand{{Mutation::Delete(key())}, ts - 1, ts});
        break;
      default:
        commands.push_back(SetHlcCeilingCommand{ms + rng.Uniform(100)});
        break;
    }
  }
  return commands;
}

TEST(KvStateMachineDeterminismTest, ReplicasFedTheSameLogAgree) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    MemoryEngine engine_a, engine_b;
    KvStateMachine a(&engine_a), b(&engine_b);
    uint64_t index = 0;
    int succeeded = 0;
    for (const KvCommand& command : RandomCommands(seed, 400)) {
      ++index;
      KvApplyResult ra = a.Apply(index, command);
      // The replica gets the bytes, as from a Raft log.
      KvApplyResult rb = b.ApplyEncoded(index, EncodeKvCommand(command));
      ASSERT_EQ(ra.status, rb.status) << "seed " << seed << " index " << index;
      ASSERT_EQ(ra.key_errors, rb.key_errors);
      ASSERT_EQ(a.Digest(), b.Digest()) << "seed " << seed << " index " << index;
      succeeded += ra.ok();
    }
    EXPECT_GT(succeeded, 100) << "seed " << seed << ": the workload should mostly succeed";
  }
}

TEST(KvStateMachineDeterminismTest, SnapshotRestoreRoundTrips) {
  MemoryEngine engine;
  KvStateMachine source(&engine);
  uint64_t index = 0;
  for (const KvCommand& command : RandomCommands(42, 300)) source.Apply(++index, command);
  const std::string image = source.SnapshotImage();

  MemoryEngine target_engine;
  KvStateMachine target(&target_engine);
  target.Apply(1, RawWriteCommand{{Mutation::Put("stale", "x")}, T(1)});  // replaced
  ASSERT_TRUE(target.Restore(image).ok());
  EXPECT_EQ(target.Digest(), source.Digest());
  EXPECT_EQ(target.applied_index(), source.applied_index());
  EXPECT_EQ(target.hlc_ceiling_ms(), source.hlc_ceiling_ms());
  EXPECT_EQ(target.SnapshotImage(), image);
  EXPECT_EQ(target.Query(KvQuery::Get("stale", kMaxTimestamp)).value, std::nullopt);
  // Both continue identically.
  for (const KvCommand& command : RandomCommands(43, 100)) {
    ++index;
    EXPECT_EQ(source.Apply(index, command).status, target.Apply(index, command).status);
  }
  EXPECT_EQ(target.Digest(), source.Digest());
}

TEST(KvStateMachineDeterminismTest, CorruptImagesAreRejectedWithoutEffect) {
  MemoryEngine engine;
  KvStateMachine source(&engine);
  uint64_t index = 0;
  for (const KvCommand& command : RandomCommands(7, 50)) source.Apply(++index, command);
  const std::string image = source.SnapshotImage();

  MemoryEngine target_engine;
  KvStateMachine target(&target_engine);
  target.Apply(1, RawWriteCommand{{Mutation::Put("keep", "x")}, T(1)});
  const uint64_t before = target.Digest();
  Rng rng(9);
  for (int i = 0; i < 200; ++i) {
    std::string corrupt = image;
    const size_t at = rng.Uniform(corrupt.size());
    corrupt[at] = static_cast<char>(corrupt[at] ^ (1 + rng.Uniform(255)));
    EXPECT_FALSE(target.Restore(corrupt).ok()) << "flipped byte " << at;
  }
  EXPECT_FALSE(target.Restore(image.substr(0, image.size() - 1)).ok());
  EXPECT_FALSE(target.Restore("").ok());
  EXPECT_EQ(target.Digest(), before);
  EXPECT_EQ(target.applied_index(), 1u);
}

}  // namespace
}  // namespace ekv::kv

// ---- uncertainty (kv_state_machine.h, "Uncertainty") ----

namespace ekv::kv {
namespace {

class KvUncertaintyTest : public KvStateMachineTest {
 protected:
  // What a snapshot read answered: restart_above, or the keys/value it read.
  KvQueryResult Read(const KvQuery& query) { return sm_.Query(query); }
};

TEST_F(KvUncertaintyTest, ARaisedFloorRecordsTheLargestAssignedTimestampAndOnlyRaises) {
  ApplyOk(AdvanceReadFloorCommand{T(25), T(40)});
  EXPECT_EQ(sm_.read_floor_ts(), T(25));
  EXPECT_EQ(sm_.read_uncertainty_ts(), T(40));
  ApplyOk(AdvanceReadFloorCommand{T(20), T(90)});  // not a raise: the window stays
  EXPECT_EQ(sm_.read_uncertainty_ts(), T(40));
  ApplyOk(AdvanceReadFloorCommand{T(30), T(45)});
  EXPECT_EQ(sm_.read_uncertainty_ts(), T(45));
  // Durable: a state machine over the same engine starts with it.
  KvStateMachine reopened(&engine_);
  EXPECT_EQ(reopened.read_uncertainty_ts(), T(45));
}

TEST_F(KvUncertaintyTest, AGetMeetingAVersionInTheWindowRestartsAboveTheWindow) {
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "a10")}, T(10)});
  ApplyOk(RawWriteCommand{{Mutation::Put("c", "c20")}, T(20)});
  ApplyOk(RawWriteCommand{{Mutation::Put("c", "c30")}, T(30)});
  ApplyOk(AdvanceReadFloorCommand{T(25), T(30)});
  // Applied after the floor: above the window, concurrent with any read at <= 25.
  ApplyOk(RawWriteCommand{{Mutation::Put("a", "a50")}, T(50)});

  EXPECT_EQ(Get("a", T(25)), "a10");
  const KvQueryResult refused = Read(KvQuery::Get("c", T(25)));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kAborted) << refused.status;
  EXPECT_EQ(refused.restart_above, T(30));
  EXPECT_EQ(refused.value, std::nullopt);
  EXPECT_NE(refused.status.message().find("ReadRestart"), std::string::npos) << refused.status;
  // A read AS OF a chosen timestamp (a time-travel read) has no window.
  KvQuery as_of = KvQuery::Get("c", T(25));
  as_of.as_of = true;
  const KvQueryResult historical = Read(as_of);
  ASSERT_TRUE(historical.ok()) << historical.status;
  EXPECT_EQ(historical.value, "c20");
  // At or above the window's limit nothing is uncertain.
  EXPECT_EQ(Get("c", T(30)), "c30");
  EXPECT_EQ(Get("c", T(31)), "c30");
  EXPECT_EQ(Read(KvQuery::Get("c", T(31))).restart_above, 0u);
}

TEST_F(KvUncertaintyTest, PlantedBugReadsIgnoreTheWindow) {
  ApplyOk(RawWriteCommand{{Mutation::Put("c", "c30")}, T(30)});
  ApplyOk(AdvanceReadFloorCommand{T(25), T(30)});
  PlantedKvBugs planted;
  planted.reads_ignore_uncertainty = true;
  sm_.set_planted(planted);
  EXPECT_EQ(Get("c", T(25)), std::nullopt);  // the stale answer the window prevents
}

// Random versions and windows, every read compared with a model: a read restarts iff a key
// it reaches has a version in (read_ts, limit]; otherwise it answers as at read_ts.
TEST_F(KvUncertaintyTest, ReadsAgreeWithAModelOfTheWindow) {
  Rng rng(20261207);
  constexpr int kKeys = 8;
  std::map<std::string, std::map<Timestamp, std::optional<std::string>>> model;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = absl::StrCat("k", k);
    Timestamp ts = 0;
    const int versions = static_cast<int>(rng.Uniform(9));  // some keys get > 4 (seek paths)
    for (int v = 0; v < versions; ++v) {
      ts += 1 + rng.Uniform(12);
      std::optional<std::string> value;
      if (rng.Uniform(4) != 0) value = absl::StrCat(key, "@", ts);
      ApplyOk(RawWriteCommand{{value ? Mutation::Put(key, *value) : Mutation::Delete(key)}, ts});
      model[key][ts] = value;
    }
  }
  const Timestamp limit = 40 + rng.Uniform(30);
  ApplyOk(AdvanceReadFloorCommand{1, limit});
  auto uncertain = [&](const std::string& key, Timestamp read_ts) {
    for (const auto& [ts, value] : model[key]) {
      if (ts > read_ts && ts <= limit) return true;
    }
    return false;
  };
  auto visible = [&](const std::string& key, Timestamp read_ts) -> std::optional<std::string> {
    std::optional<std::string> seen;
    for (const auto& [ts, value] : model[key]) {
      if (ts <= read_ts) seen = value;
    }
    return seen;
  };
  for (int round = 0; round < 300; ++round) {
    const Timestamp read_ts = 1 + rng.Uniform(limit + 10);
    const std::string key = absl::StrCat("k", rng.Uniform(kKeys));
    const KvQueryResult got = Read(KvQuery::Get(key, read_ts));
    if (uncertain(key, read_ts)) {
      EXPECT_EQ(got.restart_above, limit) << key << " at " << read_ts;
    } else {
      ASSERT_TRUE(got.ok()) << got.status;
      EXPECT_EQ(got.value, visible(key, read_ts)) << key << " at " << read_ts;
    }
    const size_t scan_limit = 1 + rng.Uniform(kKeys);
    const bool reverse = rng.Uniform(2) == 1;
    // The model scan: keys in scan order until scan_limit visible ones were found.
    bool expect_restart = false;
    Keys expected;
    for (int i = 0; i < kKeys && expected.size() < scan_limit; ++i) {
      const std::string k = absl::StrCat("k", reverse ? kKeys - 1 - i : i);
      if (uncertain(k, read_ts)) {
        expect_restart = true;
        break;
      }
      if (visible(k, read_ts).has_value()) expected.push_back(k);
    }
    const KvQueryResult scanned =
        Read(KvQuery::Scan("k", "l", scan_limit, read_ts,
                           reverse ? ScanDirection::kReverse : ScanDirection::kForward));
    if (expect_restart) {
      EXPECT_EQ(scanned.restart_above, limit)
          << (reverse ? "reverse" : "forward") << " scan at " << read_ts << " limit " << scan_limit;
      continue;
    }
    ASSERT_TRUE(scanned.ok()) << scanned.status;
    Keys keys;
    for (const KvPair& pair : scanned.pairs) keys.push_back(pair.key);
    EXPECT_EQ(keys, expected) << (reverse ? "reverse" : "forward") << " scan at " << read_ts
                              << " limit " << scan_limit;
  }
}

}  // namespace
}  // namespace ekv::kv
