// GcCommand applied by KvStateMachine: bounded passes, the group's monotonic safe point,
// refusals below it, determinism across replicas, and a planted bug the checker catches.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kv/key_codec.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/memory_engine.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

constexpr Timestamp T(uint64_t ms) { return MakeTimestamp(ms, 0); }

// Every data-namespace record (versions) of the engine, counted per user key.
std::map<std::string, int> VersionCounts(const Engine& engine) {
  std::map<std::string, int> counts;
  std::unique_ptr<EngineIterator> it =
      engine.NewIterator({DataKeyPrefix(""), NamespaceEnd(kDataPrefix)});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++counts[DecodeDataKey(it->key()).value().user_key];
  }
  return counts;
}

// commit_ts of every expiry (TTL) record of `key`, newest first.
std::vector<Timestamp> ExpiryRecords(const Engine& engine, const std::string& key) {
  std::string start = ExpiryKey(key, kMaxTimestamp);
  std::vector<Timestamp> out;
  std::unique_ptr<EngineIterator> it =
      engine.NewIterator({start, EncodedUserKeySuccessor(VersionedKeyPrefix(start))});
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(VersionedKeyTimestamp(it->key()));
  return out;
}

class KvGcCommandTest : public ::testing::Test {
 protected:
  KvApplyResult Apply(const KvCommand& command) { return sm_.Apply(++index_, command); }
  void ApplyOk(const KvCommand& command) {
    KvApplyResult result = Apply(command);
    ASSERT_TRUE(result.ok()) << KvCommandName(command) << ": " << result.status;
  }
  void Put(const std::string& key, const std::string& value, uint64_t ms) {
    ApplyOk(RawWriteCommand{{Mutation::Put(key, value)}, T(ms)});
  }
  KvQueryResult Get(const std::string& key, Timestamp read_ts) {
    return sm_.Query(KvQuery::Get(key, read_ts));
  }
  // Passes of `max_keys` from the start until one reports done; returns the pass count.
  int GcToEnd(Timestamp safe_point, uint64_t max_keys) {
    std::string start;
    for (int passes = 1; passes <= 1000; ++passes) {
      KvApplyResult result = Apply(GcCommand{safe_point, start, max_keys});
      EXPECT_TRUE(result.ok()) << result.status;
      if (!result.ok() || !result.gc_resume_key.has_value()) return passes;
      EXPECT_GT(*result.gc_resume_key, start) << "a pass must make progress";
      start = *result.gc_resume_key;
    }
    ADD_FAILURE() << "GC did not finish in 1000 passes";
    return 1000;
  }

  MemoryEngine engine_;
  KvStateMachine sm_{&engine_};
  uint64_t index_ = 0;
};

TEST_F(KvGcCommandTest, PassCollectsOldVersionsAndKeepsTheNewestVisibleAtTheSafePoint) {
  Put("a", "a1", 10);
  Put("a", "a2", 20);
  Put("a", "a3", 30);
  Put("a", "a4", 50);  // above the safe point: stays
  ApplyOk(RawWriteCommand{{Mutation::Put("b", "b1")}, T(10)});
  ApplyOk(RawWriteCommand{{Mutation::Delete("b")}, T(20)});  // tombstone <= safe point
  KvApplyResult result = Apply(GcCommand{T(40), "", 100});
  ASSERT_TRUE(result.ok()) << result.status;
  EXPECT_EQ(result.gc_safe_point, T(40));
  EXPECT_EQ(result.gc_resume_key, std::nullopt);
  EXPECT_EQ(result.gc_keys_examined, 2u);
  EXPECT_EQ(result.gc_versions_deleted, 4u);  // a1, a2, b1, b's tombstone
  EXPECT_EQ(VersionCounts(engine_), (std::map<std::string, int>{{"a", 2}}));
  EXPECT_EQ(Get("a", T(40)).value, "a3");
  EXPECT_EQ(Get("a", T(49)).value, "a3");
  EXPECT_EQ(Get("a", T(50)).value, "a4");
  EXPECT_EQ(Get("b", T(40)).value, std::nullopt);
  EXPECT_TRUE(Get("b", T(40)).ok());
  EXPECT_EQ(sm_.gc_safe_point(), T(40));
}

TEST_F(KvGcCommandTest, ExpiryRecordsOfCollectedVersionsGoWithThem) {
  ApplyOk(PutWithTtlCommand{"t", "t1", 60'000, T(10)});
  ApplyOk(PutWithTtlCommand{"t", "t2", 60'000, T(20)});
  ApplyOk(PutWithTtlCommand{"t", "t3", 60'000, T(30)});
  ApplyOk(PutWithTtlCommand{"t", "t4", 60'000, T(50)});
  ApplyOk(PutWithTtlCommand{"u", "u1", 60'000, T(10)});  // only version: nothing to collect
  ASSERT_EQ(ExpiryRecords(engine_, "t").size(), 4u);
  GcToEnd(T(40), 10);
  EXPECT_EQ(ExpiryRecords(engine_, "t"), (std::vector<Timestamp>{T(50), T(30)}));
  EXPECT_EQ(ExpiryRecords(engine_, "u"), (std::vector<Timestamp>{T(10)}));
  // The kept version still expires on time.
  EXPECT_EQ(Get("t", T(40)).value, "t3");
  EXPECT_EQ(Get("t", T(60'030) - 1).value, "t4");
  EXPECT_EQ(Get("u", T(60'010)).value, std::nullopt);
}

TEST_F(KvGcCommandTest, LocksAndTransactionRecordsAreNeverCollected) {
  Put("k", "old", 10);
  Put("k", "newer", 20);
  ApplyOk(PrewriteCommand{{Mutation::Put("k", "txn")}, "k", T(25), 60'000});
  ApplyOk(PrewriteCommand{{Mutation::Put("p", "x")}, "p", T(26), 60'000});
  ApplyOk(CommitCommand{{"p"}, T(26), T(27)});
  ApplyOk(RollbackCommand{{"r"}, T(28)});
  GcToEnd(T(100), 10);
  ASSERT_TRUE(sm_.store().GetLock("k").value().has_value());
  EXPECT_EQ(sm_.store().GetLock("k").value()->start_ts, T(25));
  EXPECT_TRUE(sm_.store().GetTxnStatus("p", T(26)).value().has_value());
  EXPECT_TRUE(sm_.store().GetTxnStatus("r", T(28)).value().has_value());
  // The locked transaction still commits; its version is above what GC kept.
  ApplyOk(CommitCommand{{"k"}, T(25), T(101)});
  EXPECT_EQ(Get("k", T(101)).value, "txn");
  EXPECT_EQ(Get("k", T(100)).value, "newer");
}

TEST_F(KvGcCommandTest, PassesAreBoundedAndResumeWhereTheLastStopped) {
  for (int i = 0; i < 25; ++i) {
    const std::string key = absl::StrCat("key", 100 + i);
    Put(key, "v1", 10);
    Put(key, "v2", 20);
  }
  KvApplyResult first = Apply(GcCommand{T(30), "", 10});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.gc_keys_examined, 10u);
  EXPECT_EQ(first.gc_resume_key, "key110");
  EXPECT_EQ(VersionCounts(engine_)["key109"], 1);
  EXPECT_EQ(VersionCounts(engine_)["key110"], 2);  // not reached yet
  EXPECT_EQ(GcToEnd(T(30), 10), 3);
  for (const auto& [key, count] : VersionCounts(engine_)) EXPECT_EQ(count, 1) << key;
}

TEST_F(KvGcCommandTest, SafePointOnlyMovesUpAndSurvivesRestartAndRestore) {
  Put("a", "a1", 10);
  Put("a", "a2", 20);
  Put("a", "a3", 30);
  EXPECT_EQ(Apply(GcCommand{T(25), "", 100}).gc_safe_point, T(25));
  EXPECT_EQ(VersionCounts(engine_)["a"], 2);
  // A stale, lower safe point runs its pass at the stored one and does not lower it.
  KvApplyResult stale = Apply(GcCommand{T(5), "", 100});
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale.gc_safe_point, T(25));
  EXPECT_EQ(sm_.gc_safe_point(), T(25));
  EXPECT_FALSE(Get("a", T(10)).ok());
  EXPECT_EQ(Apply(GcCommand{T(35), "", 100}).gc_safe_point, T(35));
  EXPECT_EQ(VersionCounts(engine_)["a"], 1);

  KvStateMachine restarted(&engine_);
  EXPECT_EQ(restarted.gc_safe_point(), T(35));
  MemoryEngine copy_engine;
  KvStateMachine copy(&copy_engine);
  ASSERT_TRUE(copy.Restore(sm_.SnapshotImage()).ok());
  EXPECT_EQ(copy.gc_safe_point(), T(35));
  EXPECT_EQ(copy.Query(KvQuery::Get("a", T(34))).status.code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KvGcCommandTest, ReadsBelowTheSafePointAreRefused) {
  Put("a", "a1", 10);
  Put("a", "a2", 20);
  ApplyOk(GcCommand{T(15), "", 100});
  KvQueryResult below = Get("a", T(14));
  EXPECT_EQ(below.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(below.status.message().find("below the GC safe point"), std::string::npos)
      << below.status;
  EXPECT_EQ(below.value, std::nullopt);
  KvQueryResult scan = sm_.Query(KvQuery::Scan("", "", 10, T(14)));
  EXPECT_EQ(scan.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(scan.pairs.empty());
  // At and above the safe point reads answer as before GC.
  EXPECT_EQ(Get("a", T(15)).value, "a1");
  EXPECT_EQ(Get("a", T(20)).value, "a2");
  EXPECT_EQ(sm_.Query(KvQuery::Scan("", "", 10, T(15))).pairs.size(), 1u);
  // The latest commit timestamp has no read timestamp: always answered.
  EXPECT_EQ(sm_.Query(KvQuery::LatestCommitTs("a")).latest_commit_ts, T(20));
}

TEST_F(KvGcCommandTest, PrewritesAndOnePhaseCommitsBelowTheSafePointAreRefused) {
  Put("a", "a1", 10);
  Put("a", "a2", 20);
  ApplyOk(GcCommand{T(15), "", 100});
  KvApplyResult prewrite = Apply(PrewriteCommand{{Mutation::Put("b", "x")}, "b", T(14), 1000});
  EXPECT_EQ(prewrite.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(prewrite.status.message().find("below the GC safe point"), std::string::npos);
  EXPECT_FALSE(sm_.store().GetLock("b").value().has_value()) << "a refusal writes nothing";
  KvApplyResult one_pc = Apply(OnePhaseCommitCommand{{Mutation::Put("b", "x")}, T(14), T(30)});
  EXPECT_EQ(one_pc.status.code(), absl::StatusCode::kFailedPrecondition);
  // At the safe point prewrite runs its usual checks: a2 (20) conflicts with start 15.
  KvApplyResult conflict = Apply(PrewriteCommand{{Mutation::Put("a", "x")}, "a", T(15), 1000});
  EXPECT_EQ(conflict.status.code(), absl::StatusCode::kAborted);
  ApplyOk(PrewriteCommand{{Mutation::Put("a", "x")}, "a", T(21), 1000});
}

TEST_F(KvGcCommandTest, MalformedGcCommandsFailWithoutEffect) {
  Put("a", "a1", 10);
  Put("a", "a2", 20);
  EXPECT_EQ(Apply(GcCommand{T(30), "", 0}).status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(GcCommand{T(30), "", kMaxGcKeysPerPass + 1}).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(GcCommand{0, "", 10}).status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sm_.gc_safe_point(), 0u);
  EXPECT_EQ(VersionCounts(engine_)["a"], 2);
}

// ---- determinism ----

std::vector<KvCommand> RandomLogWithGc(uint64_t seed, int count) {
  Rng rng(seed);
  std::vector<KvCommand> commands;
  auto key = [&] { return std::string(1, static_cast<char>('a' + rng.Uniform(8))); };
  uint64_t ms = 1000;
  for (int i = 0; i < count; ++i) {
    ms += 1 + rng.Uniform(20);
    const Timestamp ts = T(ms);
    switch (rng.Uniform(6)) {
      case 0:
      case 1:
        commands.push_back(RawWriteCommand{{Mutation::Put(key(), absl::StrCat(i))}, ts});
        break;
      case 2:
        commands.push_back(RawWriteCommand{{Mutation::Delete(key())}, ts});
        break;
      case 3:
        commands.push_back(PrewriteCommand{
            {Mutation::Put(key(), absl::StrCat(i))}, "a", T(ms - rng.Uniform(200)), 30});
        break;
      case 4:
        commands.push_back(CommitCommand{{key()}, T(ms - rng.Uniform(40)) + 1, ts});
        break;
      default:
        // Safe points lag, and sometimes go backwards (stale proposals applied late).
        commands.push_back(GcCommand{T(ms - rng.Uniform(300)), key(), 1 + rng.Uniform(4)});
        break;
    }
  }
  return commands;
}

TEST(KvGcDeterminismTest, ReplicasApplyingTheSameGcLogHaveEqualImagesAndDigests) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    MemoryEngine engine_a, engine_b;
    KvStateMachine a(&engine_a), b(&engine_b);
    uint64_t index = 0;
    uint64_t deleted = 0;
    for (const KvCommand& command : RandomLogWithGc(seed, 400)) {
      ++index;
      KvApplyResult ra = a.Apply(index, command);
      KvApplyResult rb = b.ApplyEncoded(index, EncodeKvCommand(command));
      ASSERT_EQ(ra.status, rb.status) << "seed " << seed << " index " << index;
      ASSERT_EQ(ra.gc_resume_key, rb.gc_resume_key);
      ASSERT_EQ(ra.gc_safe_point, rb.gc_safe_point);
      ASSERT_EQ(a.Digest(), b.Digest()) << "seed " << seed << " index " << index;
      deleted += ra.gc_versions_deleted;
    }
    EXPECT_EQ(a.SnapshotImage(), b.SnapshotImage()) << "seed " << seed;
    EXPECT_EQ(a.gc_safe_point(), b.gc_safe_point());
    EXPECT_GT(a.gc_safe_point(), 0u);
    EXPECT_GT(deleted, 10u) << "seed " << seed << ": the log should collect something";
  }
}

// ---- the checker and its planted bug ----

// Builds random version histories, snapshots every read at and above `safe_point`, runs
// GC to the end in small passes, and checks that every one of those reads answers the
// same. Returns the first difference.
absl::Status CheckGcPreservesReadsAtTheSafePoint(uint64_t seed, const PlantedKvBugs& planted) {
  Rng rng(seed);
  MemoryEngine engine;
  KvStateMachine sm(&engine);
  sm.set_planted(planted);
  uint64_t index = 0;
  std::vector<std::string> keys;
  for (int k = 0; k < 12; ++k) keys.push_back(absl::StrCat("k", k));
  uint64_t ms = 100;
  for (int i = 0; i < 200; ++i) {
    ms += 1 + rng.Uniform(5);
    const std::string& key = keys[rng.Uniform(keys.size())];
    Mutation m = rng.Chance(0.2) ? Mutation::Delete(key) : Mutation::Put(key, absl::StrCat(i));
    sm.Apply(++index, RawWriteCommand{{m}, T(ms)});
  }
  const Timestamp safe_point = T(100 + (ms - 100) / 2);
  std::vector<Timestamp> read_points = {safe_point, safe_point + 1, T(ms) - 1, kMaxTimestamp};
  auto read_all = [&] {
    std::vector<std::optional<std::string>> values;
    for (Timestamp ts : read_points) {
      for (const std::string& key : keys) values.push_back(sm.Query(KvQuery::Get(key, ts)).value);
    }
    return values;
  };
  const std::vector<std::optional<std::string>> before = read_all();
  std::string start;
  for (int pass = 0; pass < 100; ++pass) {
    KvApplyResult result = sm.Apply(++index, GcCommand{safe_point, start, 1 + rng.Uniform(5)});
    if (!result.ok()) return result.status;
    if (!result.gc_resume_key.has_value()) break;
    start = *result.gc_resume_key;
  }
  const std::vector<std::optional<std::string>> after = read_all();
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] != after[i]) {
      return absl::InternalError(absl::StrCat("seed ", seed, ": read of ", keys[i % keys.size()],
                                              " at ", FormatTimestamp(read_points[i / keys.size()]),
                                              " changed after GC at ", FormatTimestamp(safe_point),
                                              ": ", before[i].value_or("<absent>"), " -> ",
                                              after[i].value_or("<absent>")));
    }
  }
  return absl::OkStatus();
}

TEST(KvGcCheckerTest, GcPreservesEveryReadAtOrAboveTheSafePoint) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    absl::Status status = CheckGcPreservesReadsAtTheSafePoint(seed, {});
    EXPECT_TRUE(status.ok()) << status;
  }
}

TEST(KvGcCheckerTest, PlantedBugDroppingTheVisibleVersionIsCaught) {
  PlantedKvBugs planted;
  planted.gc_drops_visible_version = true;
  int caught = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    caught += !CheckGcPreservesReadsAtTheSafePoint(seed, planted).ok();
  }
  EXPECT_EQ(caught, 20) << "the checker must catch GC removing versions reads still see";
}

}  // namespace
}  // namespace ekv::kv
