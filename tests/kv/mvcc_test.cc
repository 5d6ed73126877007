#include "core/kv/mvcc.h"

#include <string>
#include <vector>

#include "core/kv/memory_engine.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"
#include "tests/kv/mvcc_model.h"

namespace ekv::kv {
namespace {

using ::ekv::kv::testing::MvccModel;

class MvccTest : public ::testing::Test {
 protected:
  void Put(const std::string& key, const std::string& value, Timestamp ts) {
    ASSERT_TRUE(store_.Put(key, value, ts).ok());
  }
  void Delete(const std::string& key, Timestamp ts) { ASSERT_TRUE(store_.Delete(key, ts).ok()); }
  std::optional<std::string> Get(const std::string& key, Timestamp ts) {
    auto got = store_.Get(key, ts);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::nullopt;
  }
  std::vector<std::string> ScanKeys(const std::string& start, const std::string& end, size_t limit,
                                    Timestamp ts,
                                    ScanDirection direction = ScanDirection::kForward) {
    auto pairs = store_.Scan(start, end, limit, ts, direction);
    EXPECT_TRUE(pairs.ok()) << pairs.status();
    std::vector<std::string> keys;
    if (pairs.ok()) {
      for (const KvPair& pair : *pairs) keys.push_back(pair.key);
    }
    return keys;
  }

  MemoryEngine engine_;
  MvccStore store_{&engine_};
};

using Keys = std::vector<std::string>;

TEST_F(MvccTest, PointReadsAtManyTimestamps) {
  Put("k", "v10", 10);
  Put("k", "v20", 20);
  Put("k", "v30", 30);
  EXPECT_EQ(Get("k", 9), std::nullopt);
  EXPECT_EQ(Get("k", 10), "v10");
  EXPECT_EQ(Get("k", 19), "v10");
  EXPECT_EQ(Get("k", 20), "v20");
  EXPECT_EQ(Get("k", 29), "v20");
  EXPECT_EQ(Get("k", 30), "v30");
  EXPECT_EQ(Get("k", kMaxTimestamp), "v30");
  // Neighbouring keys do not leak into each other.
  EXPECT_EQ(Get("", 100), std::nullopt);
  EXPECT_EQ(Get("j", 100), std::nullopt);
  EXPECT_EQ(Get("kk", 100), std::nullopt);
  EXPECT_EQ(Get(std::string("k\0", 2), 100), std::nullopt);
}

TEST_F(MvccTest, TombstonesHideOlderVersionsFromTheirTimestampOn) {
  Put("k", "v10", 10);
  Delete("k", 20);
  Put("k", "v30", 30);
  EXPECT_EQ(Get("k", 15), "v10");
  EXPECT_EQ(Get("k", 20), std::nullopt);
  EXPECT_EQ(Get("k", 25), std::nullopt);
  EXPECT_EQ(Get("k", 30), "v30");
  auto version = store_.GetVersion("k", 25);
  ASSERT_TRUE(version.ok());
  ASSERT_TRUE(version->has_value());
  EXPECT_EQ((*version)->commit_ts, 20u);
  EXPECT_EQ((*version)->record.kind, MutationKind::kDelete);
}

TEST_F(MvccTest, LatestCommitTsCountsTombstones) {
  EXPECT_EQ(*store_.LatestCommitTs("k"), std::nullopt);
  Put("k", "v", 10);
  Put("kk", "v", 50);
  EXPECT_EQ(*store_.LatestCommitTs("k"), 10u);
  Delete("k", 40);
  EXPECT_EQ(*store_.LatestCommitTs("k"), 40u);
  EXPECT_EQ(*store_.LatestCommitTs("j"), std::nullopt);
}

TEST_F(MvccTest, ScanBoundariesAreHalfOpen) {
  for (const char* k : {"a", "b", "c", "d"}) Put(k, k, 10);
  EXPECT_EQ(ScanKeys("b", "d", 10, 10), (Keys{"b", "c"}));
  EXPECT_EQ(ScanKeys("b", "", 10, 10), (Keys{"b", "c", "d"}));
  EXPECT_EQ(ScanKeys("", "", 10, 10), (Keys{"a", "b", "c", "d"}));
  EXPECT_EQ(ScanKeys("bb", "c", 10, 10), Keys{});
  EXPECT_EQ(ScanKeys("b", "b", 10, 10), Keys{});
  EXPECT_EQ(ScanKeys("b", "d", 10, 10, ScanDirection::kReverse), (Keys{"c", "b"}));
  EXPECT_EQ(ScanKeys("", "", 10, 10, ScanDirection::kReverse), (Keys{"d", "c", "b", "a"}));
  EXPECT_EQ(ScanKeys("", "", 10, 9), Keys{});
}

TEST_F(MvccTest, ScanHandlesKeysThatArePrefixesOrContainZeros) {
  const Keys keys = {"",
                     std::string("\0", 1),
                     std::string("a"),
                     std::string("a\0", 2),
                     std::string("a\0\0", 3),
                     std::string("a\x01", 2),
                     "ab",
                     "\xff"};
  for (const std::string& k : keys) Put(k, "v", 5);
  EXPECT_EQ(ScanKeys("", "", 100, 5), keys);
  EXPECT_EQ(ScanKeys("", "", 100, 5, ScanDirection::kReverse), Keys(keys.rbegin(), keys.rend()));
  EXPECT_EQ(ScanKeys("a", "ab", 100, 5),
            (Keys{"a", std::string("a\0", 2), std::string("a\0\0", 3), std::string("a\x01", 2)}));
  EXPECT_EQ(
      ScanKeys(std::string("a\0", 2), std::string("a\x01", 2), 100, 5, ScanDirection::kReverse),
      (Keys{std::string("a\0\0", 3), std::string("a\0", 2)}));
}

TEST_F(MvccTest, ReverseScanWithLimitReturnsTheLargestKeys) {
  for (int i = 0; i < 10; ++i) {
    const std::string key = "k" + std::to_string(i);
    Put(key, "old", 10);
    Put(key, "new", 20);
  }
  Delete("k8", 15);  // between the versions: hidden at 20, visible gap at 15
  EXPECT_EQ(ScanKeys("k2", "k9", 3, 20, ScanDirection::kReverse), (Keys{"k8", "k7", "k6"}));
  EXPECT_EQ(ScanKeys("k2", "k9", 3, 15, ScanDirection::kReverse), (Keys{"k7", "k6", "k5"}));
  EXPECT_EQ(ScanKeys("k2", "k9", 3, 15), (Keys{"k2", "k3", "k4"}));
  auto pairs = store_.Scan("k0", "k1", 1, 12, ScanDirection::kReverse);
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ(*pairs, (std::vector<KvPair>{{"k0", "old", 10}}));
}

TEST_F(MvccTest, ScanSkipsManyVersionsBothWays) {
  // More versions than the scan's step budget, so the seek paths run.
  for (Timestamp ts = 1; ts <= 40; ++ts) {
    Put("a", "a" + std::to_string(ts), ts);
    Put("b", "b" + std::to_string(ts), ts);
    if (ts % 7 == 0) Delete("b", ts + 100);
  }
  Delete("c", 5);
  for (Timestamp read_ts :
       {Timestamp{1}, Timestamp{3}, Timestamp{20}, Timestamp{40}, Timestamp{106}, Timestamp{200}}) {
    for (ScanDirection direction : {ScanDirection::kForward, ScanDirection::kReverse}) {
      auto pairs = store_.Scan("", "", 10, read_ts, direction);
      ASSERT_TRUE(pairs.ok());
      std::vector<KvPair> expected = {{"a", "a" + std::to_string(std::min<Timestamp>(read_ts, 40)),
                                       std::min<Timestamp>(read_ts, 40)}};
      if (read_ts < 107) {
        expected.push_back({"b", "b" + std::to_string(std::min<Timestamp>(read_ts, 40)),
                            std::min<Timestamp>(read_ts, 40)});
      }
      if (direction == ScanDirection::kReverse) std::reverse(expected.begin(), expected.end());
      EXPECT_EQ(*pairs, expected) << "read_ts " << read_ts;
    }
  }
}

TEST_F(MvccTest, ScanRejectsBadArguments) {
  EXPECT_TRUE(absl::IsInvalidArgument(store_.Scan("a", "b", 0, 1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_.Scan("a", "b", kMaxScanLimit + 1, 1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_.Scan("b", "a", 1, 1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_.Put("a", "v", 0)));
}

TEST_F(MvccTest, BatchIsAtomicAcrossNamespaces) {
  LockRecord lock{"p", 10, 3000, MutationKind::kPut, "v1"};
  ASSERT_TRUE(store_.PutLock("p", lock).ok());
  ASSERT_TRUE(store_.PutLock("s", LockRecord{"p", 10, 3000, MutationKind::kDelete, ""}).ok());
  Put("s", "before", 5);
  std::unique_ptr<EngineSnapshot> before = engine_.Snapshot();

  // A commit: locks go, versions and the primary's status appear, all at once.
  MvccBatch commit;
  commit.DeleteLock("p");
  commit.Put("p", "v1", 20, 10);
  commit.DeleteLock("s");
  commit.Delete("s", 20, 10);
  commit.PutTxnStatus("p", 10, TxnStatusRecord{TxnState::kCommitted, 20});
  commit.PutMeta("applied_index", "7");
  ASSERT_TRUE(store_.Apply(commit).ok());

  EXPECT_EQ(*store_.GetLock("p"), std::nullopt);
  EXPECT_EQ(*store_.GetLock("s"), std::nullopt);
  EXPECT_EQ(Get("p", 20), "v1");
  EXPECT_EQ(Get("s", 20), std::nullopt);
  EXPECT_EQ(Get("s", 19), "before");
  EXPECT_EQ((*store_.GetVersion("p", 20))->record.start_ts, 10u);
  EXPECT_EQ(*store_.GetTxnStatus("p", 10), (TxnStatusRecord{TxnState::kCommitted, 20}));
  EXPECT_EQ(*store_.GetTxnStatus("p", 11), std::nullopt);
  EXPECT_EQ(*store_.GetMeta("applied_index"), "7");

  // The snapshot from before sees none of it.
  MvccReader old_view(std::move(before));
  EXPECT_EQ(*old_view.GetLock("p"), lock);
  EXPECT_EQ(*old_view.Get("p", 100), std::nullopt);
  EXPECT_EQ(*old_view.GetTxnStatus("p", 10), std::nullopt);
}

TEST_F(MvccTest, LocksAreIndependentOfData) {
  Put("a", "data", 5);
  ASSERT_TRUE(store_.PutLock("a", LockRecord{"a", 10, 100, MutationKind::kPut, "pending"}).ok());
  ASSERT_TRUE(store_.PutLock("b", LockRecord{"a", 10, 100, MutationKind::kPut, "x"}).ok());
  ASSERT_TRUE(store_.PutLock("c", LockRecord{"c", 11, 100, MutationKind::kDelete, ""}).ok());
  // Reads ignore locks; the transaction layer checks them.
  EXPECT_EQ(Get("a", 100), "data");
  EXPECT_EQ(ScanKeys("", "", 10, 100), Keys{"a"});
  auto locks = store_.ScanLocks("a", "c", 10);
  ASSERT_TRUE(locks.ok());
  ASSERT_EQ(locks->size(), 2u);
  EXPECT_EQ((*locks)[0].key, "a");
  EXPECT_EQ((*locks)[1].key, "b");
  EXPECT_EQ((*locks)[1].lock.value, "x");
  EXPECT_EQ(store_.ScanLocks("", "", 10)->size(), 3u);
  EXPECT_EQ(store_.ScanLocks("", "", 1)->size(), 1u);
  ASSERT_TRUE(store_.DeleteLock("a").ok());
  EXPECT_EQ(*store_.GetLock("a"), std::nullopt);
  EXPECT_EQ(store_.ScanLocks("", "", 10)->size(), 2u);
}

TEST_F(MvccTest, RollbackStatusIsRecordedAndIdempotent) {
  const TxnStatusRecord rolled_back{TxnState::kRolledBack, 0};
  ASSERT_TRUE(store_.PutTxnStatus("p", 10, rolled_back).ok());
  ASSERT_TRUE(store_.PutTxnStatus("p", 10, rolled_back).ok());
  EXPECT_EQ(*store_.GetTxnStatus("p", 10), rolled_back);
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_.PutTxnStatus("p", 12, TxnStatusRecord{TxnState::kCommitted, 12})));
}

TEST_F(MvccTest, SnapshotReaderIsFrozen) {
  Put("a", "1", 10);
  MvccReader snapshot = store_.Snapshot();
  Put("a", "2", 5);  // even a write at an older timestamp is invisible to the snapshot
  Put("b", "1", 10);
  EXPECT_EQ(*snapshot.Get("a", 10), "1");
  EXPECT_EQ(*snapshot.Get("a", 7), std::nullopt);
  EXPECT_EQ(Get("a", 7), "2");
  EXPECT_EQ(snapshot.Scan("", "", 10, 100)->size(), 1u);
}

// Random puts and deletes at random timestamps; every read agrees with the model.
TEST_F(MvccTest, MatchesModelUnderRandomHistories) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    MemoryEngine engine;
    MvccStore store(&engine);
    MvccModel model;
    Rng rng(seed);
    auto random_key = [&rng] {
      static const char* kKeys[] = {"", "a", "a\0", "ab", "b", "b\xff", "c", "cc", "d"};
      static const size_t kLengths[] = {0, 1, 2, 2, 1, 2, 1, 2, 1};
      const size_t i = rng.Uniform(9);
      return std::string(kKeys[i], kLengths[i]);
    };
    for (int i = 0; i < 200; ++i) {
      MvccBatch batch;
      const int writes = 1 + static_cast<int>(rng.Uniform(3));
      for (int w = 0; w < writes; ++w) {
        const std::string key = random_key();
        const Timestamp ts = 1 + rng.Uniform(60);
        if (rng.Chance(0.3)) {
          batch.Delete(key, ts);
          model.Write(key, std::nullopt, ts);
        } else {
          const std::string value = "v" + std::to_string(rng.Uniform(1000));
          batch.Put(key, value, ts);
          model.Write(key, value, ts);
        }
      }
      ASSERT_TRUE(store.Apply(batch).ok());
    }
    for (int q = 0; q < 300; ++q) {
      const Timestamp read_ts = rng.Uniform(65);
      const std::string key = random_key();
      ASSERT_EQ(*store.Get(key, read_ts), model.Get(key, read_ts))
          << "seed " << seed << " read_ts " << read_ts;
      std::string start = random_key(), end = rng.Chance(0.3) ? "" : random_key();
      if (!end.empty() && end < start) std::swap(start, end);
      const size_t limit = 1 + rng.Uniform(10);
      for (ScanDirection direction : {ScanDirection::kForward, ScanDirection::kReverse}) {
        auto pairs = store.Scan(start, end, limit, read_ts, direction);
        ASSERT_TRUE(pairs.ok()) << pairs.status();
        ASSERT_EQ(*pairs, model.Scan(start, end, limit, read_ts, direction))
            << "seed " << seed << " read_ts " << read_ts << " limit " << limit << " reverse "
            << (direction == ScanDirection::kReverse);
      }
    }
  }
}

}  // namespace
}  // namespace ekv::kv
