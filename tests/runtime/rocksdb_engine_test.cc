// The kv engine conformance suite (tests/kv/engine_conformance.h) on RocksDbEngine, plus
// what only a disk engine has: data surviving a reopen.
#include "runtime/storage/rocksdb_engine.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "runtime/storage/rocksdb_env.h"
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
  explicit OwningRocksDbEngine(const RocksDbEngineOptions& options) {
    absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(dir_.path());
    EXPECT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    engine_ = std::make_unique<RocksDbEngine>(env_.get(), options);
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
  std::unique_ptr<RocksDbEngine> engine_;
};

INSTANTIATE_TEST_SUITE_P(RocksDbEngine, EngineConformanceTest,
                         ::testing::Values(EngineFactory([] {
                                             return std::make_unique<OwningRocksDbEngine>(
                                                 RocksDbEngineOptions{});
                                           }),
                                           EngineFactory([] {
                                             RocksDbEngineOptions options;
                                             options.sync_writes = true;
                                             options.iterators_fill_cache = false;
                                             return std::make_unique<OwningRocksDbEngine>(options);
                                           })));

TEST(RocksDbEngineTest, DataSurvivesReopenAndStaysOutOfTheRaftFamilies) {
  TempDir dir;
  {
    auto env = RocksDbEnv::Open(dir.path());
    ASSERT_TRUE(env.ok()) << env.status();
    RocksDbEngine engine(env->get(), {.sync_writes = true});
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

}  // namespace
}  // namespace ekv::kv
