// Locks of kind MutationKind::kRedisStaged (core/kv/staged_writes.h): the staged writes of one
// Redis key of a cross-group EXEC, applied by the transaction's commit (or a resolving reader's
// roll-forward) at commit_ts and dropped by its rollback.
#include "core/kv/staged_writes.h"

#include <optional>
#include <string>

#include "core/kv/codec.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

StagedWrites Sample() {
  StagedWrites staged;
  staged.raw.push_back({"rMk", std::string("meta")});
  staged.raw.push_back({"rEk-old", std::nullopt});
  staged.stamp_keys.push_back("rTk");
  staged.string_change = StagedWrites::StringChange::kPut;
  staged.string_value = "v";
  return staged;
}

TEST(StagedWritesTest, RoundTripsAndRejectsCorruption) {
  const StagedWrites staged = Sample();
  const std::string bytes = EncodeStagedWrites(staged);
  absl::StatusOr<StagedWrites> decoded = DecodeStagedWrites(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, staged);
  EXPECT_TRUE(DecodeStagedWrites(EncodeStagedWrites(StagedWrites{}))->empty());
  EXPECT_FALSE(DecodeStagedWrites(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(DecodeStagedWrites(bytes + "x").ok());
  EXPECT_FALSE(DecodeStagedWrites("").ok());
}

class StagedLockTest : public ::testing::Test {
 protected:
  void Lock(const std::string& key, Timestamp start_ts, const StagedWrites& staged) {
    LockRecord lock;
    lock.primary = "k";
    lock.start_ts = start_ts;
    lock.ttl_ms = 3000;
    lock.kind = MutationKind::kRedisStaged;
    lock.value = EncodeStagedWrites(staged);
    ASSERT_TRUE(side_.PutLock(key, lock).ok());
    // The lock record decodes with its kind (DecodeLockRecord accepts it).
    absl::StatusOr<std::optional<LockRecord>> read = side_.GetLock(key);
    ASSERT_TRUE(read.ok() && read->has_value()) << read.status();
    EXPECT_EQ((*read)->kind, MutationKind::kRedisStaged);
  }
  KvApplyResult Apply(const KvCommand& command) { return sm_.Apply(++index_, command); }
  std::optional<std::string> Raw(const std::string& key) { return *engine_.Get(key); }

  MemoryEngine engine_;
  KvStateMachine sm_{&engine_};
  MvccStore side_{&engine_};  // writes what a prepare would have, straight to the engine
  uint64_t index_ = 0;
};

TEST_F(StagedLockTest, CommitAppliesTheStagedWritesOnceAndAnswersRepeats) {
  MvccBatch before;
  before.PutRawKey("rEk-old", "element");
  ASSERT_TRUE(side_.Apply(before).ok());
  Lock("k", 10, Sample());
  Lock("read-only", 10, StagedWrites{});
  // Before the commit nothing staged is visible: a reader meets the lock.
  EXPECT_EQ(Raw("rMk"), std::nullopt);
  EXPECT_FALSE(sm_.Query(KvQuery::Get("k", 15)).ok());

  KvApplyResult committed = Apply(CommitCommand{{"k", "read-only"}, 10, 20});
  ASSERT_TRUE(committed.ok()) << committed.status;
  EXPECT_EQ(Raw("rMk"), "meta");
  EXPECT_EQ(Raw("rEk-old"), std::nullopt);
  std::string stamp;
  AppendFixed64BigEndian(&stamp, 20);
  EXPECT_EQ(Raw("rTk"), stamp);
  EXPECT_EQ(sm_.Query(KvQuery::Get("k", 25)).value, "v");
  EXPECT_EQ(sm_.Query(KvQuery::Get("k", 19)).value, std::nullopt);
  // A read-only key gets no version.
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("read-only")).latest_commit_ts, std::nullopt);
  // Repeated commit (or a reader's roll-forward): answered from the records, nothing twice.
  EXPECT_TRUE(Apply(CommitCommand{{"k", "read-only"}, 10, 20}).ok());
  EXPECT_TRUE(Apply(ResolveLockCommand{{"read-only"}, 10, 20}).ok());
  KvApplyResult rollback = Apply(RollbackCommand{{"read-only"}, 10});
  ASSERT_EQ(rollback.key_errors.size(), 1u);
  EXPECT_EQ(rollback.key_errors[0].code, KeyErrorCode::kTxnCommitted);
}

TEST_F(StagedLockTest, RollbackOrAResolvedRollbackDropsThem) {
  Lock("k", 10, Sample());
  ASSERT_TRUE(Apply(ResolveLockCommand{{"k"}, 10, 0}).ok());
  EXPECT_EQ(Raw("rMk"), std::nullopt);
  EXPECT_EQ(Raw("rTk"), std::nullopt);
  EXPECT_EQ(sm_.Query(KvQuery::Get("k", 25)).value, std::nullopt);
  EXPECT_TRUE(sm_.Query(KvQuery::Get("k", 25)).ok()) << "no lock left";
  KvApplyResult late = Apply(CommitCommand{{"k"}, 10, 20});
  ASSERT_EQ(late.key_errors.size(), 1u);
  EXPECT_EQ(late.key_errors[0].code, KeyErrorCode::kTxnRolledBack);
  EXPECT_EQ(Raw("rMk"), std::nullopt);
}

}  // namespace
}  // namespace ekv::kv
