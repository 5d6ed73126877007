// Conformance tests for kv::Engine implementations, shared by every engine's test binary.
//
// Include this header from exactly one .cc of a test binary (it defines the TEST_Ps) and
// instantiate the suite with a factory for the engine under test:
//
//   INSTANTIATE_TEST_SUITE_P(MyEngine, EngineConformanceTest,
//                            ::testing::Values(EngineFactory([] { return MakeMyEngine(); })));
//
// tests/kv/engine_test.cc runs it on MemoryEngine, tests/runtime on the RocksDB engine.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/kv/engine.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::kv {

using EngineFactory = std::function<std::unique_ptr<Engine>()>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

class EngineConformanceTest : public ::testing::TestWithParam<EngineFactory> {
 protected:
  void SetUp() override { engine_ = GetParam()(); }

  void Put(const std::string& key, const std::string& value) {
    WriteBatch batch;
    batch.Put(key, value);
    ASSERT_TRUE(engine_->Write(batch).ok());
  }
  std::optional<std::string> Get(const EngineReader& reader, const std::string& key) {
    absl::StatusOr<std::optional<std::string>> got = reader.Get(key);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::nullopt;
  }
  static Pairs Forward(const EngineReader& reader, const IterOptions& options = {}) {
    Pairs out;
    auto it = reader.NewIterator(options);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace_back(std::string(it->key()), std::string(it->value()));
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  }
  static Pairs Backward(const EngineReader& reader, const IterOptions& options = {}) {
    Pairs out;
    auto it = reader.NewIterator(options);
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      out.emplace_back(std::string(it->key()), std::string(it->value()));
    }
    return out;
  }

  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineConformanceTest, GetPutOverwriteDelete) {
  EXPECT_EQ(Get(*engine_, "a"), std::nullopt);
  Put("a", "1");
  EXPECT_EQ(Get(*engine_, "a"), "1");
  Put("a", "2");
  EXPECT_EQ(Get(*engine_, "a"), "2");
  WriteBatch del;
  del.Delete("a");
  del.Delete("never-existed");
  ASSERT_TRUE(engine_->Write(del).ok());
  EXPECT_EQ(Get(*engine_, "a"), std::nullopt);
  // Keys and values are bytes: embedded zeros and empty strings are fine.
  Put(std::string("k\0z", 3), "");
  EXPECT_EQ(Get(*engine_, std::string("k\0z", 3)), "");
  EXPECT_EQ(Get(*engine_, "k"), std::nullopt);
}

TEST_P(EngineConformanceTest, IteratesInBytewiseOrderBothWays) {
  for (const char* k : {"b", "a", "ab", "\xff", "B", ""}) Put(k, std::string("v") + k);
  const Pairs expected = {{"", "v"},     {"B", "vB"}, {"a", "va"},
                          {"ab", "vab"}, {"b", "vb"}, {"\xff", "v\xff"}};
  EXPECT_EQ(Forward(*engine_), expected);
  EXPECT_EQ(Backward(*engine_), Pairs(expected.rbegin(), expected.rend()));
}

TEST_P(EngineConformanceTest, SeekAndSeekForPrev) {
  for (const char* k : {"b", "d", "f"}) Put(k, k);
  auto it = engine_->NewIterator({});
  it->Seek("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->Seek("d");
  EXPECT_EQ(it->key(), "d");
  it->Seek("g");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->SeekForPrev("d");
  EXPECT_EQ(it->key(), "d");
  it->SeekForPrev("a");
  EXPECT_FALSE(it->Valid());
  // Direction changes.
  it->Seek("d");
  it->Prev();
  EXPECT_EQ(it->key(), "b");
  it->Next();
  it->Next();
  EXPECT_EQ(it->key(), "f");
  it->Prev();
  EXPECT_EQ(it->key(), "d");
}

TEST_P(EngineConformanceTest, BoundsHideKeysOutsideTheRange) {
  for (const char* k : {"a", "b", "c", "d", "e"}) Put(k, k);
  const IterOptions bounds{"b", "d"};
  EXPECT_EQ(Forward(*engine_, bounds), (Pairs{{"b", "b"}, {"c", "c"}}));
  EXPECT_EQ(Backward(*engine_, bounds), (Pairs{{"c", "c"}, {"b", "b"}}));
  auto it = engine_->NewIterator(bounds);
  it->Seek("a");
  EXPECT_EQ(it->key(), "b");
  it->Seek("d");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("z");
  EXPECT_EQ(it->key(), "c");
  it->SeekForPrev("a");
  EXPECT_FALSE(it->Valid());
  // Lower bound only.
  EXPECT_EQ(Forward(*engine_, {"d", ""}), (Pairs{{"d", "d"}, {"e", "e"}}));
}

TEST_P(EngineConformanceTest, SnapshotIgnoresLaterWrites) {
  Put("a", "1");
  Put("b", "1");
  std::unique_ptr<EngineSnapshot> snapshot = engine_->Snapshot();
  auto live_iterator = engine_->NewIterator({});
  Put("a", "2");
  Put("c", "2");
  WriteBatch del;
  del.Delete("b");
  ASSERT_TRUE(engine_->Write(del).ok());

  EXPECT_EQ(Get(*snapshot, "a"), "1");
  EXPECT_EQ(Get(*snapshot, "b"), "1");
  EXPECT_EQ(Get(*snapshot, "c"), std::nullopt);
  EXPECT_EQ(Forward(*snapshot), (Pairs{{"a", "1"}, {"b", "1"}}));
  // An iterator also reads the view of its creation.
  Pairs seen;
  for (live_iterator->SeekToFirst(); live_iterator->Valid(); live_iterator->Next()) {
    seen.emplace_back(std::string(live_iterator->key()), std::string(live_iterator->value()));
  }
  EXPECT_EQ(seen, (Pairs{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(Forward(*engine_), (Pairs{{"a", "2"}, {"c", "2"}}));
}

TEST_P(EngineConformanceTest, BatchAppliesInOrder) {
  Put("x", "old");
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Delete("a");
  batch.Delete("b");
  batch.Put("b", "2");
  batch.Put("x", "new");
  batch.Put("x", "newest");
  ASSERT_TRUE(engine_->Write(batch).ok());
  EXPECT_EQ(Forward(*engine_), (Pairs{{"b", "2"}, {"x", "newest"}}));
}

TEST_P(EngineConformanceTest, MalformedBatchAppliesNothing) {
  Put("a", "1");
  std::unique_ptr<EngineSnapshot> before = engine_->Snapshot();
  WriteBatch batch;
  batch.Put("b", "2");
  batch.Delete("a");
  batch.DeleteRange("z", "c");  // begin > end
  EXPECT_TRUE(absl::IsInvalidArgument(engine_->Write(batch)));
  EXPECT_EQ(Forward(*engine_), (Pairs{{"a", "1"}}));
}

TEST_P(EngineConformanceTest, DeleteRangeIsHalfOpen) {
  for (const char* k : {"a", "b", "bb", "c", "d"}) Put(k, k);
  WriteBatch batch;
  batch.DeleteRange("b", "c");
  batch.Put("b", "again");  // later op in the same batch wins
  ASSERT_TRUE(engine_->Write(batch).ok());
  EXPECT_EQ(Forward(*engine_), (Pairs{{"a", "a"}, {"b", "again"}, {"c", "c"}, {"d", "d"}}));
}

// Random operations against a std::map model, with random seeks in both directions.
TEST_P(EngineConformanceTest, MatchesMapModelUnderRandomOperations) {
  Rng rng(42);
  std::map<std::string, std::string> model;
  auto random_key = [&rng] {
    std::string key;
    const size_t length = rng.Uniform(4);
    for (size_t i = 0; i < length; ++i)
      key.push_back(
          "\x00\x01"
          "ab\xff"[rng.Uniform(5)]);
    return key;
  };
  for (int round = 0; round < 300; ++round) {
    WriteBatch batch;
    const int ops = 1 + static_cast<int>(rng.Uniform(5));
    for (int i = 0; i < ops; ++i) {
      std::string key = random_key();
      switch (rng.Uniform(5)) {
        case 0:
          batch.Delete(key);
          model.erase(key);
          break;
        case 1: {
          std::string end = random_key();
          if (end < key) std::swap(end, key);
          batch.DeleteRange(key, end);
          model.erase(model.lower_bound(key), model.lower_bound(end));
          break;
        }
        default: {
          const std::string value = std::to_string(rng.Next());
          batch.Put(key, value);
          model[key] = value;
        }
      }
    }
    ASSERT_TRUE(engine_->Write(batch).ok());
    auto it = engine_->NewIterator({});
    const std::string target = random_key();
    it->Seek(target);
    auto lower = model.lower_bound(target);
    ASSERT_EQ(it->Valid(), lower != model.end());
    if (it->Valid()) {
      EXPECT_EQ(it->key(), lower->first);
    }
    it->SeekForPrev(target);
    auto upper = model.upper_bound(target);
    ASSERT_EQ(it->Valid(), upper != model.begin());
    if (it->Valid()) {
      EXPECT_EQ(it->key(), std::prev(upper)->first);
    }
  }
  EXPECT_EQ(Forward(*engine_), Pairs(model.begin(), model.end()));
  EXPECT_EQ(Backward(*engine_), Pairs(model.rbegin(), model.rend()));
}

}  // namespace ekv::kv
