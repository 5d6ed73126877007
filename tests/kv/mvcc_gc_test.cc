#include <map>
#include <string>
#include <vector>

#include "core/kv/key_codec.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"
#include "tests/kv/mvcc_model.h"

namespace ekv::kv {
namespace {

using ::ekv::kv::testing::MvccModel;

// Every stored version of `key`, newest first, as "ts" or "ts:del".
std::vector<std::string> StoredVersions(const Engine& engine, const std::string& key) {
  std::vector<std::string> out;
  auto it = engine.NewIterator({DataKeyPrefix(key), DataKeyPrefixEnd(key)});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto record = DecodeVersionRecordView(it->value());
    EXPECT_TRUE(record.ok());
    out.push_back(std::to_string(VersionedKeyTimestamp(it->key())) +
                  (record->kind == MutationKind::kDelete ? ":del" : ""));
  }
  return out;
}

using Strings = std::vector<std::string>;

// Runs GC passes of `max_keys` from the start until done; returns the number of passes.
int GcAll(MvccStore& store, Timestamp safe_point, size_t max_keys) {
  std::string start;
  int passes = 0;
  for (;;) {
    auto plan = store.Gc(safe_point, start, max_keys);
    EXPECT_TRUE(plan.ok()) << plan.status();
    ++passes;
    if (!plan.ok() || !plan->resume_key.has_value()) return passes;
    EXPECT_GT(*plan->resume_key, start);
    start = *plan->resume_key;
  }
}

TEST(MvccGcTest, KeepsNewestVersionAtOrBelowSafePointAndEverythingNewer) {
  MemoryEngine engine;
  MvccStore store(&engine);
  for (Timestamp ts : {10, 20, 30, 40}) ASSERT_TRUE(store.Put("k", "v", ts).ok());
  auto plan = store.Gc(25, "", 100);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->versions_deleted, 1u);
  EXPECT_EQ(plan->keys_examined, 1u);
  EXPECT_EQ(plan->resume_key, std::nullopt);
  EXPECT_EQ(StoredVersions(engine, "k"), (Strings{"40", "30", "20"}));
  // A safe point exactly on a version keeps that version.
  ASSERT_TRUE(store.Gc(30, "", 100).ok());
  EXPECT_EQ(StoredVersions(engine, "k"), (Strings{"40", "30"}));
  // A safe point below every version changes nothing.
  ASSERT_TRUE(store.Gc(5, "", 100).ok());
  EXPECT_EQ(StoredVersions(engine, "k"), (Strings{"40", "30"}));
}

TEST(MvccGcTest, DropsATombstoneAtTheSafePointWithEverythingBelowIt) {
  MemoryEngine engine;
  MvccStore store(&engine);
  ASSERT_TRUE(store.Put("k", "v", 10).ok());
  ASSERT_TRUE(store.Delete("k", 20).ok());
  ASSERT_TRUE(store.Put("j", "v", 10).ok());
  ASSERT_TRUE(store.Delete("j", 20).ok());
  ASSERT_TRUE(store.Put("j", "again", 30).ok());
  ASSERT_TRUE(store.Gc(25, "", 100).ok());
  EXPECT_EQ(StoredVersions(engine, "k"), Strings{});
  EXPECT_EQ(StoredVersions(engine, "j"), (Strings{"30"}));
  EXPECT_EQ(*store.Get("j", 25), std::nullopt);
  EXPECT_EQ(*store.Get("j", 30), "again");
  // A tombstone above the safe point stays, as does what it hides at the safe point.
  ASSERT_TRUE(store.Put("m", "v", 10).ok());
  ASSERT_TRUE(store.Delete("m", 40).ok());
  ASSERT_TRUE(store.Gc(25, "", 100).ok());
  EXPECT_EQ(StoredVersions(engine, "m"), (Strings{"40:del", "10"}));
}

// A value whose expiry passed at or before the safe point reads as absent at every ts GC
// keeps readable, so it leaves storage with its expiry record (expired Redis strings and
// RawKV TTL values do not stay forever); one expiring later stays.
TEST(MvccGcTest, DropsAValueExpiredAtTheSafePointWithItsExpiry) {
  MemoryEngine engine;
  MvccStore store(&engine);
  auto put = [&](const std::string& key, Timestamp ts, Timestamp expire_ts) {
    MvccBatch batch;
    batch.Put(key, "v" + std::to_string(ts), ts);
    if (expire_ts != 0) batch.PutExpiry(key, ts, expire_ts);
    ASSERT_TRUE(store.Apply(batch).ok());
  };
  auto expiry_records = [&] {
    size_t count = 0;
    auto it = engine.NewIterator({std::string(1, kExpiryPrefix), NamespaceEnd(kExpiryPrefix)});
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
    return count;
  };
  put("k", 10, 20);  // expired at 20 <= 25
  put("j", 10, 30);  // still readable at 25..29
  put("e", 10, 25);  // expires exactly at the safe point
  put("n", 10, 20);
  put("n", 40, 0);  // a newer value above the safe point
  ASSERT_EQ(expiry_records(), 4u);
  ASSERT_TRUE(store.Gc(25, "", 100).ok());
  EXPECT_EQ(StoredVersions(engine, "k"), Strings{});
  EXPECT_EQ(StoredVersions(engine, "e"), Strings{});
  EXPECT_EQ(StoredVersions(engine, "j"), (Strings{"10"}));
  EXPECT_EQ(StoredVersions(engine, "n"), (Strings{"40"}));
  EXPECT_EQ(expiry_records(), 1u) << "only j's expiry record is left";
  EXPECT_EQ(*store.Get("j", 29), "v10");
  EXPECT_EQ(*store.Get("k", 25), std::nullopt);
  EXPECT_EQ(*store.Get("n", 30), std::nullopt);
  EXPECT_EQ(*store.Get("n", 40), "v40");
}

TEST(MvccGcTest, BoundedPassesResumeWhereTheyStopped) {
  MemoryEngine engine;
  MvccStore store(&engine);
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(store.Put(key, "old", 1).ok());
    ASSERT_TRUE(store.Put(key, "new", 2).ok());
  }
  auto plan = store.Gc(5, "", 2);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->keys_examined, 2u);
  EXPECT_EQ(plan->versions_deleted, 2u);
  EXPECT_EQ(plan->resume_key, "c");
  EXPECT_EQ(StoredVersions(engine, "b"), (Strings{"2"}));
  EXPECT_EQ(StoredVersions(engine, "c"), (Strings{"2", "1"}));
  EXPECT_EQ(GcAll(store, 5, 2), 3);
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    EXPECT_EQ(StoredVersions(engine, key), (Strings{"2"}));
  }
  // A second full run finds nothing to do.
  auto again = store.Gc(5, "", 100);
  EXPECT_EQ(again->versions_deleted, 0u);
  EXPECT_TRUE(absl::IsInvalidArgument(store.Gc(5, "", 0).status()));
}

TEST(MvccGcTest, LeavesLocksStatusAndMetaAlone) {
  MemoryEngine engine;
  MvccStore store(&engine);
  ASSERT_TRUE(store.Put("k", "v", 1).ok());
  ASSERT_TRUE(store.Delete("k", 2).ok());
  ASSERT_TRUE(store.PutLock("k", LockRecord{"k", 3, 10, MutationKind::kPut, "x"}).ok());
  ASSERT_TRUE(store.PutTxnStatus("k", 1, TxnStatusRecord{TxnState::kRolledBack, 0}).ok());
  MvccBatch meta;
  meta.PutMeta("m", "1");
  ASSERT_TRUE(store.Apply(meta).ok());
  ASSERT_TRUE(store.Gc(100, "", 100).ok());
  EXPECT_EQ(StoredVersions(engine, "k"), Strings{});
  EXPECT_TRUE(store.GetLock("k")->has_value());
  EXPECT_TRUE(store.GetTxnStatus("k", 1)->has_value());
  EXPECT_EQ(*store.GetMeta("m"), "1");
}

TEST(MvccGcTest, PlanIsDeterministicAndAppliesLikeGc) {
  MemoryEngine a, b;
  MvccStore store_a(&a), store_b(&b);
  for (Timestamp ts = 1; ts <= 5; ++ts) {
    for (MvccStore* store : {&store_a, &store_b}) {
      ASSERT_TRUE(store->Put("x" + std::to_string(ts), "v", ts).ok());
      ASSERT_TRUE(store->Put("x1", "v", ts + 10).ok());
    }
  }
  MvccBatch plan_batch;
  auto plan = store_a.reader().PlanGc(12, "", 100, &plan_batch);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->versions_deleted, plan_batch.count());
  ASSERT_TRUE(store_a.Apply(plan_batch).ok());  // e.g. proposed through Raft, then applied
  ASSERT_TRUE(store_b.Gc(12, "", 100).ok());
  auto snapshot_a = a.Snapshot();
  auto snapshot_b = b.Snapshot();
  auto it_a = snapshot_a->NewIterator({});
  auto it_b = snapshot_b->NewIterator({});
  for (it_a->SeekToFirst(), it_b->SeekToFirst(); it_a->Valid(); it_a->Next(), it_b->Next()) {
    ASSERT_TRUE(it_b->Valid());
    EXPECT_EQ(it_a->key(), it_b->key());
  }
  EXPECT_FALSE(it_b->Valid());
}

// The GC contract as a property: random histories, GC at a random safe point in passes of
// random size; every read at ts >= safe_point (points and scans) is unchanged, and what
// remains is minimal: per key at most one version <= safe_point, and it is not a
// tombstone.
TEST(MvccGcTest, ReadsAtOrAboveTheSafePointAreUnchanged) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    MemoryEngine engine;
    MvccStore store(&engine);
    MvccModel model;
    Rng rng(seed);
    std::vector<std::string> keys;
    for (int i = 0; i < 12; ++i) keys.push_back("key" + std::to_string(i));
    keys.push_back(std::string("key1\0", 5));
    constexpr Timestamp kMaxWriteTs = 100;
    for (int i = 0; i < 400; ++i) {
      const std::string& key = keys[rng.Uniform(keys.size())];
      const Timestamp ts = 1 + rng.Uniform(kMaxWriteTs);
      if (rng.Chance(0.35)) {
        ASSERT_TRUE(store.Delete(key, ts).ok());
        model.Write(key, std::nullopt, ts);
      } else {
        const std::string value = "v" + std::to_string(i);
        ASSERT_TRUE(store.Put(key, value, ts).ok());
        model.Write(key, value, ts);
      }
    }
    const Timestamp safe_point = rng.Uniform(kMaxWriteTs + 10);
    // The reads GC must preserve, frozen before it runs (the model is a second oracle).
    const MvccReader before = store.Snapshot();
    const size_t versions_before = engine.size();
    GcAll(store, safe_point, 1 + rng.Uniform(5));
    EXPECT_LE(engine.size(), versions_before);

    for (Timestamp read_ts = safe_point; read_ts <= kMaxWriteTs + 1; ++read_ts) {
      for (const std::string& key : keys) {
        const std::optional<std::string> got = *store.Get(key, read_ts);
        ASSERT_EQ(got, *before.Get(key, read_ts))
            << "seed " << seed << " safe_point " << safe_point << " read_ts " << read_ts;
        ASSERT_EQ(got, model.Get(key, read_ts));
      }
      for (ScanDirection direction : {ScanDirection::kForward, ScanDirection::kReverse}) {
        const std::vector<KvPair> got = *store.Scan("", "", 100, read_ts, direction);
        ASSERT_EQ(got, *before.Scan("", "", 100, read_ts, direction))
            << "seed " << seed << " safe_point " << safe_point << " read_ts " << read_ts;
        ASSERT_EQ(got, model.Scan("", "", 100, read_ts, direction));
      }
    }
    for (const std::string& key : keys) {
      int at_or_below = 0;
      for (const std::string& version : StoredVersions(engine, key)) {
        if (std::stoull(version) > safe_point) continue;
        ++at_or_below;
        EXPECT_EQ(version.find(":del"), std::string::npos)
            << "a tombstone at or below the safe point survived";
      }
      EXPECT_LE(at_or_below, 1) << "seed " << seed << " key " << key;
    }
  }
}

}  // namespace
}  // namespace ekv::kv
