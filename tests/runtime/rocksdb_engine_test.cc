// The kv engine conformance suite (tests/kv/engine_conformance.h) on RocksDbEngine, plus
// what only a disk engine has: data surviving a reopen.
#include "runtime/storage/rocksdb_engine.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "runtime/storage/apply_write_buffer.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/storage/snapshot_staging.h"
#include "tests/kv/engine_conformance.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::kv {
namespace {

using runtime::RocksDbEngine;
using runtime::RocksDbEngineOptions;
using runtime::RocksDbEnv;
using runtime::TempDir;

// An engine that owns its DB and temp dir, so the suite's factory can hand out a plain
// unique_ptr<Engine>. Members are destroyed in reverse: engine, DB, then the directory.
class OwningRocksDbEngine final : public Engine {
 public:
  // With a key prefix, neighbouring groups' engines get records on both sides of it:
  // the engine under test must never see them.
  // `buffered`: writes go to an apply write buffer shared with the neighbours, never
  // flushed by the test, so every read goes through the buffer's overlay (and must still
  // hide the neighbours' buffered keys).
  explicit OwningRocksDbEngine(RocksDbEngineOptions options, uint64_t group = 0,
                               bool buffered = false) {
    absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(dir_.path());
    EXPECT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    if (buffered) {
      buffer_ = std::make_unique<runtime::ApplyWriteBuffer>(env_.get());
      options.apply_buffer = buffer_.get();
    }
    engine_ = std::make_unique<RocksDbEngine>(env_.get(), options);
    if (group == 0) return;
    for (uint64_t neighbour : {group - 1, group + 1}) {
      RocksDbEngineOptions other;
      other.apply_buffer = buffer_.get();
      other.key_prefix = runtime::GroupDataPrefix(neighbour);
      RocksDbEngine engine(env_.get(), other);
      WriteBatch batch;
      for (const char* key : {"", "a", "k", "z", "\xff\xff"}) batch.Put(key, "neighbour");
      EXPECT_TRUE(engine.Write(batch).ok());
    }
  }
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    return engine_->Get(key);
  }
  std::unique_ptr<EngineIterator> NewIterator(const IterOptions& options) const override {
    return engine_->NewIterator(options);
  }
  absl::Status Write(const WriteBatch& batch) override { return engine_->Write(batch); }
  std::unique_ptr<EngineSnapshot> Snapshot() const override { return engine_->Snapshot(); }

 private:
  TempDir dir_;
  std::unique_ptr<RocksDbEnv> env_;
  std::unique_ptr<runtime::ApplyWriteBuffer> buffer_;
  std::unique_ptr<RocksDbEngine> engine_;
};

INSTANTIATE_TEST_SUITE_P(
    RocksDbEngine, EngineConformanceTest,
    ::testing::Values(EngineFactory([] {
                        return std::make_unique<OwningRocksDbEngine>(RocksDbEngineOptions());
                      }),
                      EngineFactory([] {
                        RocksDbEngineOptions options;
                        options.sync_writes = true;
                        options.iterators_fill_cache = false;
                        return std::make_unique<OwningRocksDbEngine>(options);
                      }),
                      EngineFactory([] {
                        RocksDbEngineOptions options;
                        options.key_prefix = runtime::GroupDataPrefix(7);
                        return std::make_unique<OwningRocksDbEngine>(options, 7);
                      }),
                      EngineFactory([] {
                        RocksDbEngineOptions options;
                        options.key_prefix = runtime::GroupDataPrefix(7);
                        return std::make_unique<OwningRocksDbEngine>(options, 7, /*buffered=*/true);
                      })));

TEST(RocksDbEngineTest, ApplyBufferHoldsWritesUntilFlushedAsOneWrite) {
  TempDir dir;
  auto env = RocksDbEnv::Open(dir.path());
  ASSERT_TRUE(env.ok()) << env.status();
  runtime::ApplyWriteBuffer buffer(env->get());
  RocksDbEngineOptions buffered_options;
  buffered_options.key_prefix = runtime::GroupDataPrefix(1);
  buffered_options.apply_buffer = &buffer;
  RocksDbEngine buffered(env->get(), buffered_options);
  RocksDbEngineOptions direct_options;
  direct_options.key_prefix = runtime::GroupDataPrefix(1);
  RocksDbEngine direct(env->get(), direct_options);  // sees only the DB
  for (int i = 0; i < 3; ++i) {
    WriteBatch batch;
    batch.Put("k" + std::to_string(i), "v" + std::to_string(i));
    batch.Put("applied", std::to_string(i));
    ASSERT_TRUE(buffered.Write(batch).ok());
  }
  EXPECT_EQ(*buffered.Get("k1"), "v1");
  EXPECT_EQ(*buffered.Get("applied"), "2");
  EXPECT_EQ(*direct.Get("k1"), std::nullopt) << "buffered writes reached the DB early";
  ASSERT_TRUE(buffer.Flush().ok());
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.flushes(), 1u);
  EXPECT_EQ(*direct.Get("k2"), "v2");
  EXPECT_EQ(*direct.Get("applied"), "2");
  // A range deletion goes straight to the DB, after what was buffered before it.
  WriteBatch put;
  put.Put("k9", "v9");
  ASSERT_TRUE(buffered.Write(put).ok());
  WriteBatch wipe;
  wipe.DeleteRange("k0", "k2");
  ASSERT_TRUE(buffered.Write(wipe).ok());
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(*direct.Get("k9"), "v9");
  EXPECT_EQ(*direct.Get("k1"), std::nullopt);
  EXPECT_EQ(*direct.Get("k2"), "v2");
  // A snapshot holds everything written before it.
  WriteBatch late;
  late.Put("k5", "v5");
  ASSERT_TRUE(buffered.Write(late).ok());
  std::unique_ptr<EngineSnapshot> snapshot = buffered.Snapshot();
  EXPECT_EQ(*snapshot->Get("k5"), "v5");
  // Flushing under an open overlay iterator is refused, not done underneath it.
  WriteBatch more;
  more.Put("k6", "v6");
  ASSERT_TRUE(buffered.Write(more).ok());
  {
    std::unique_ptr<EngineIterator> it = buffered.NewIterator({});
    it->Seek("k6");
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->value(), "v6");
    EXPECT_FALSE(buffer.Flush().ok());
  }
  EXPECT_TRUE(buffer.Flush().ok());
  EXPECT_EQ(*direct.Get("k6"), "v6");
}

// The point reads of one round's applies share one pooled iterator once the round has
// buffered a write: each loan sees every write buffered before it, starts unpositioned,
// and a flush ends the round.
TEST(RocksDbEngineTest, OneIteratorServesAllReadsOfARound) {
  TempDir dir;
  auto env = RocksDbEnv::Open(dir.path());
  ASSERT_TRUE(env.ok()) << env.status();
  runtime::ApplyWriteBuffer buffer(env->get());
  RocksDbEngineOptions options;
  options.key_prefix = runtime::GroupDataPrefix(3);
  options.apply_buffer = &buffer;
  RocksDbEngine engine(env->get(), options);
  RocksDbEngineOptions neighbour_options = options;
  neighbour_options.key_prefix = runtime::GroupDataPrefix(4);
  RocksDbEngine neighbour(env->get(), neighbour_options);
  WriteBatch other;
  other.Put("a", "neighbour");
  ASSERT_TRUE(neighbour.Write(other).ok());
  WriteBatch first;
  first.Put("b", "1");
  ASSERT_TRUE(engine.Write(first).ok());
  ASSERT_TRUE(buffer.Flush().ok());  // "b" in the DB; the round ends

  for (int round = 0; round < 2; ++round) {
    const uint64_t made = engine.pooled_iterators_made();
    for (int i = 0; i < 5; ++i) {
      const std::string key = "k" + std::to_string(round) + std::to_string(i);
      {
        std::unique_ptr<EngineIterator> it = engine.NewIterator({});
        EXPECT_FALSE(it->Valid()) << "a loan must start unpositioned";
        it->Seek(key);
        EXPECT_FALSE(it->Valid()) << key << " read before it was written";
        it->SeekToFirst();
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->key(), "b") << "the DB's key, and never the neighbour's";
        // A second iterator open at the same time is a separate one and sees the same.
        std::unique_ptr<EngineIterator> second = engine.NewIterator({});
        second->SeekToLast();
        ASSERT_TRUE(second->Valid());
        EXPECT_EQ(second->key(), i == 0 ? (round == 0 ? "b" : "k04")
                                        : "k" + std::to_string(round) + std::to_string(i - 1));
      }
      WriteBatch write;
      write.Put(key, std::to_string(i));
      if (i == 3) write.Delete("k" + std::to_string(round) + "1");
      ASSERT_TRUE(engine.Write(write).ok());
      std::unique_ptr<EngineIterator> it = engine.NewIterator({});
      it->Seek(key);
      ASSERT_TRUE(it->Valid()) << key << " buffered before this loan but not seen";
      EXPECT_EQ(it->key(), key);
      EXPECT_EQ(it->value(), std::to_string(i));
      if (i >= 3) {
        it->Seek("k" + std::to_string(round) + "1");
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->key(), "k" + std::to_string(round) + "2") << "a buffered delete not seen";
      }
    }
    EXPECT_EQ(engine.pooled_iterators_made(), made + 1) << "one pooled iterator per round";
    ASSERT_TRUE(buffer.Flush().ok());
  }
  // After the last flush, a new round reads the DB alone, with a plain iterator.
  std::unique_ptr<EngineIterator> it = engine.NewIterator({});
  it->Seek("k14");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "4");
  EXPECT_EQ(engine.pooled_iterators_made(), 2u);
}

TEST(RocksDbEngineTest, DataSurvivesReopenAndStaysOutOfTheRaftFamilies) {
  TempDir dir;
  {
    auto env = RocksDbEnv::Open(dir.path());
    ASSERT_TRUE(env.ok()) << env.status();
    RocksDbEngineOptions synced;
    synced.sync_writes = true;
    RocksDbEngine engine(env->get(), synced);
    WriteBatch batch;
    batch.Put("a", "1");
    batch.Put("b", "2");
    batch.DeleteRange("b", "c");
    batch.Put("c", "3");
    ASSERT_TRUE(engine.Write(batch).ok());
  }
  auto env = RocksDbEnv::Open(dir.path());
  ASSERT_TRUE(env.ok()) << env.status();
  RocksDbEngine engine(env->get());
  EXPECT_EQ(*engine.Get("a"), "1");
  EXPECT_EQ(*engine.Get("b"), std::nullopt);
  EXPECT_EQ(*engine.Get("c"), "3");
  std::unique_ptr<rocksdb::Iterator> raft_log(
      (*env)->db()->NewIterator(rocksdb::ReadOptions(), (*env)->raft_log()));
  raft_log->SeekToFirst();
  EXPECT_FALSE(raft_log->Valid());
}

TEST(RocksDbEngineTest, SnapshotOutlivesIteratorsAndLaterDeletes) {
  TempDir dir;
  auto env = RocksDbEnv::Open(dir.path());
  ASSERT_TRUE(env.ok()) << env.status();
  RocksDbEngine engine(env->get());
  WriteBatch batch;
  for (int i = 0; i < 100; ++i) batch.Put("k" + std::to_string(100 + i), std::to_string(i));
  ASSERT_TRUE(engine.Write(batch).ok());
  std::unique_ptr<EngineSnapshot> snapshot = engine.Snapshot();
  WriteBatch wipe;
  wipe.DeleteRange("k", "l");
  ASSERT_TRUE(engine.Write(wipe).ok());
  ASSERT_TRUE((*env)->db()->Flush(rocksdb::FlushOptions(), (*env)->data()).ok());
  int seen = 0;
  auto it = snapshot->NewIterator({"k150", "k160"});
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++seen;
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(seen, 10);
  auto live = engine.NewIterator({});
  live->SeekToFirst();
  EXPECT_FALSE(live->Valid());
}

std::map<std::string, std::string> Contents(const Engine& engine) {
  std::map<std::string, std::string> out;
  auto it = engine.NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok());
  return out;
}

RocksDbEngineOptions GroupOptions(uint64_t group) {
  RocksDbEngineOptions options;
  options.key_prefix = runtime::GroupDataPrefix(group);
  return options;
}

// The path a snapshot by reference takes: records streamed from one node's group, staged
// into an SST file on another, installed over that node's (different) copy of the group.
TEST(StagedSnapshotTest, StreamStageAndReplaceAGroupLeavingOtherGroupsAlone) {
  TempDir leader_dir;
  TempDir follower_dir;
  auto leader = RocksDbEnv::Open(leader_dir.path());
  auto follower = RocksDbEnv::Open(follower_dir.path());
  ASSERT_TRUE(leader.ok() && follower.ok());
  RocksDbEngine leader_group(leader->get(), GroupOptions(3));
  WriteBatch state;
  for (int i = 0; i < 5000; ++i)
    state.Put("key" + std::to_string(10000 + i), std::string(100, 'v'));
  state.Put(std::string("\0", 1), "lowest");
  ASSERT_TRUE(leader_group.Write(state).ok());

  RocksDbEngine follower_group(follower->get(), GroupOptions(3));
  RocksDbEngine follower_other(follower->get(), GroupOptions(4));
  WriteBatch stale;
  stale.Put("key99999", "stale, must disappear");
  stale.Put("key10000", "stale value");
  ASSERT_TRUE(follower_group.Write(stale).ok());
  WriteBatch other;
  other.Put("key10000", "group 4 keeps this");
  ASSERT_TRUE(follower_other.Write(other).ok());

  auto writer = runtime::StagedSnapshotWriter::Begin(follower->get(), 3);
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::Status streamed = runtime::ForEachGroupRecord(
      leader->get(), 3, [&](absl::string_view key, absl::string_view value) {
        return (*writer)->Add(key, value).ok();
      });
  ASSERT_TRUE(streamed.ok()) << streamed;
  EXPECT_EQ((*writer)->records(), 5001u);
  absl::StatusOr<std::string> ref = (*writer)->Finish();
  ASSERT_TRUE(ref.ok()) << ref.status();

  // A file staged for group 3 must not install into group 4.
  EXPECT_EQ(follower_other.ReplaceWithStaged(*ref).code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(follower_group.ReplaceWithStaged(*ref).ok());
  EXPECT_FALSE(std::filesystem::exists(*ref));
  EXPECT_EQ(Contents(follower_group), Contents(leader_group));
  EXPECT_EQ(*follower_other.Get("key10000"), "group 4 keeps this");
  EXPECT_EQ(Contents(follower_other).size(), 1u);
}

TEST(StagedSnapshotTest, AnUnfinishedStageLeavesNoFileAndStaleSessionsAreRemoved) {
  TempDir dir;
  auto env = RocksDbEnv::Open(dir.path());
  ASSERT_TRUE(env.ok());
  const std::filesystem::path stale =
      std::filesystem::path(dir.path()) / "snapshot-staging" / "session-1" / "group-1-1-1.sst";
  std::filesystem::create_directories(stale.parent_path());
  { std::ofstream(stale.string()) << "left by an earlier life"; }
  std::string path;
  {
    auto writer = runtime::StagedSnapshotWriter::Begin(env->get(), 1);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Add("a", "1").ok());
    EXPECT_FALSE((*writer)->Add("a", "again").ok());  // keys must increase
  }
  auto kept = runtime::StagedSnapshotWriter::Begin(env->get(), 2);
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE((*kept)->Add("a", "1").ok());
  auto kept_ref = (*kept)->Finish();
  ASSERT_TRUE(kept_ref.ok());
  runtime::RemoveStaleStagedSnapshots(env->get());
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(*kept_ref));  // this process's session stays
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(*kept_ref).parent_path())) {
    files += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 1u);  // the unfinished one removed itself
}

}  // namespace
}  // namespace ekv::kv
