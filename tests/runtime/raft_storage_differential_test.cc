// Differential test: RocksDbRaftStorage must behave exactly like raft::MemoryStorage.
//
// Several groups share one DB. Each step picks a group and applies the same random
// operation to its RocksDbRaftStorage and to a MemoryStorage model: a persist batch
// (entries that may overwrite a suffix or start below the first index, hard state,
// sometimes a snapshot, sometimes a stale one), CreateSnapshot, Compact (valid or not),
// through the standalone path or a group commit. After every step every observable of the
// group is compared; now and then the DB is closed and reopened and compared again.
// A failure prints the seed and the step.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/raft/storage.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"
#include "runtime/storage/raft_group_commit.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/storage/rocksdb_raft_storage.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::runtime {
namespace {

using raft::Entry;
using raft::Index;
using raft::MemoryStorage;
using raft::PersistBatch;
using raft::Term;

constexpr raft::GroupId kGroups[] = {0, 42, UINT64_MAX};
constexpr int kSeeds = 12;
constexpr int kStepsPerSeed = 250;

template <typename T>
std::string Describe(const absl::StatusOr<T>& result) {
  return result.ok() ? "ok" : result.status().ToString();
}

// Every observable of a Storage, checked equal, including the error kinds at the edges.
void ExpectSameObservables(const raft::Storage& model, const raft::Storage& real, Rng& rng,
                           const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(real.FirstIndex(), model.FirstIndex());
  ASSERT_EQ(real.LastIndex(), model.LastIndex());
  const Index first = model.FirstIndex();
  const Index last = model.LastIndex();
  const auto model_state = model.GetInitialState();
  const auto real_state = real.GetInitialState();
  ASSERT_TRUE(real_state.ok()) << real_state.status();
  EXPECT_EQ(real_state->hard_state, model_state->hard_state);
  EXPECT_EQ(real_state->conf_state, model_state->conf_state);
  const auto model_snapshot = model.GetSnapshot();
  const auto real_snapshot = real.GetSnapshot();
  ASSERT_TRUE(real_snapshot.ok()) << real_snapshot.status();
  EXPECT_EQ(*real_snapshot, *model_snapshot);

  for (Index i = first - 1; i <= last + 1; ++i) {
    const auto model_term = model.EntryTerm(i);
    const auto real_term = real.EntryTerm(i);
    ASSERT_EQ(Describe(real_term), Describe(model_term)) << "EntryTerm(" << i << ")";
    if (model_term.ok()) {
      EXPECT_EQ(*real_term, *model_term) << "EntryTerm(" << i << ")";
    }
  }
  if (first >= 2) {
    EXPECT_EQ(Describe(real.EntryTerm(first - 2)), Describe(model.EntryTerm(first - 2)));
  }
  const auto model_all = model.Entries(first, last + 1, raft::kNoLimit);
  const auto real_all = real.Entries(first, last + 1, raft::kNoLimit);
  ASSERT_TRUE(real_all.ok()) << real_all.status();
  EXPECT_EQ(*real_all, *model_all);
  // A random window with a random byte budget, and the error edges.
  const Index lo = first - 1 + rng.Uniform(last - first + 3);
  const Index hi = lo + rng.Uniform(last + 3 - lo);
  const uint64_t max_bytes = rng.Chance(0.3) ? raft::kNoLimit : rng.Uniform(200);
  const auto model_window = model.Entries(lo, hi, max_bytes);
  const auto real_window = real.Entries(lo, hi, max_bytes);
  ASSERT_EQ(Describe(real_window), Describe(model_window))
      << "Entries(" << lo << ", " << hi << ", " << max_bytes << ")";
  if (model_window.ok()) {
    EXPECT_EQ(*real_window, *model_window);
  }
}

class Harness {
 public:
  Harness(uint64_t seed, const std::string& dir) : rng_(seed), dir_(dir) {
    for (size_t g = 0; g < std::size(kGroups); ++g)
      models_.push_back(std::make_unique<MemoryStorage>());
    Reopen();
  }

  void Reopen() {
    storages_.clear();
    env_.reset();
    auto env = RocksDbEnv::Open(dir_);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    // A tiny term cache in some runs forces EntryTerm through RocksDB.
    const size_t cache = rng_.Chance(0.5) ? 2 : 4096;
    for (raft::GroupId group : kGroups) {
      auto storage = RocksDbRaftStorage::Open(env_.get(), group, {.term_cache_entries = cache});
      ASSERT_TRUE(storage.ok()) << storage.status();
      storages_.push_back(*std::move(storage));
    }
  }

  void Step(int step) {
    const size_t g = rng_.Uniform(std::size(kGroups));
    MemoryStorage& model = *models_[g];
    RocksDbRaftStorage& real = *storages_[g];
    const uint64_t choice = rng_.Uniform(100);
    std::string what;
    if (choice < 65) {
      PersistBatch batch = RandomBatch(model, step);
      what = absl::StrCat(
          "persist snapshot=", batch.snapshot.metadata.index, " entries=", batch.entries.size(),
          batch.entries.empty() ? "" : absl::StrCat(" from ", batch.entries[0].index),
          " hard_state=", batch.has_hard_state);
      const absl::Status model_status = model.Persist(batch).status();
      absl::Status real_status;
      if (rng_.Chance(0.4)) {
        what += " (group commit)";
        RaftGroupCommit commit(env_.get());
        real_status = commit.Add(&real, batch);
        if (real_status.ok()) {
          ASSERT_TRUE(commit.Commit().ok());
          real_status = real.Persist(batch).status();
        }
      } else {
        real_status = real.Persist(batch).status();
      }
      ASSERT_EQ(real_status.code(), model_status.code())
          << what << ": real " << real_status << " model " << model_status;
    } else if (choice < 80) {
      const Index index = ValidOrNot(model.GetSnapshot()->metadata.index + 1, model.LastIndex());
      // MemoryStorage has undefined behaviour for a snapshot index below its log offset.
      if (index < model.FirstIndex() - 1 && index > model.GetSnapshot()->metadata.index) return;
      raft::ConfState conf_state;
      conf_state.voters = {1, 2 + rng_.Uniform(3)};
      if (rng_.Chance(0.3)) conf_state.learners = {9};
      const std::string data = absl::StrCat("image@", index);
      what = absl::StrCat("CreateSnapshot(", index, ")");
      const absl::Status model_status = model.CreateSnapshot(index, conf_state, data);
      const absl::Status real_status = real.CreateSnapshot(index, conf_state, data);
      ASSERT_EQ(real_status.code(), model_status.code())
          << what << ": real " << real_status << " model " << model_status;
    } else if (choice < 95) {
      const Index index = ValidOrNot(model.FirstIndex(), model.LastIndex());
      what = absl::StrCat("Compact(", index, ")");
      const absl::Status model_status = model.Compact(index);
      const absl::Status real_status = real.Compact(index);
      ASSERT_EQ(real_status.code(), model_status.code())
          << what << ": real " << real_status << " model " << model_status;
    } else {
      what = "reopen";
      Reopen();
    }
    const std::string where = absl::StrCat("step ", step, " group ", kGroups[g], ": ", what);
    for (size_t i = 0; i < std::size(kGroups); ++i) {
      ExpectSameObservables(*models_[i], *storages_[i], rng_, where);
    }
  }

 private:
  // Mostly an index in [lo, hi]; sometimes one just outside, to compare the errors.
  Index ValidOrNot(Index lo, Index hi) {
    if (lo > hi || rng_.Chance(0.15)) {
      const Index below = lo >= 2 ? lo - 1 - rng_.Uniform(2) : lo;
      return rng_.Chance(0.5) ? below : hi + 1 + rng_.Uniform(2);
    }
    return lo + rng_.Uniform(hi - lo + 1);
  }

  PersistBatch RandomBatch(const MemoryStorage& model, int step) {
    PersistBatch batch;
    batch.ready_id = static_cast<uint64_t>(step) + 1;
    Index offset = model.FirstIndex() - 1;
    Index last = model.LastIndex();
    Term term = model.hard_state().term;
    if (rng_.Chance(0.1)) {
      const Index snapshot_index = model.GetSnapshot()->metadata.index;
      // Usually newer than the current snapshot (possibly beyond the log); sometimes stale.
      batch.snapshot.metadata.index = rng_.Chance(0.2) && snapshot_index > 0
                                          ? snapshot_index - rng_.Uniform(snapshot_index)
                                          : snapshot_index + 1 + rng_.Uniform(last - offset + 5);
      batch.snapshot.metadata.term = term + rng_.Uniform(3);
      batch.snapshot.metadata.conf_state.voters = {1, 2, 3};
      batch.snapshot.data = absl::StrCat("installed@", batch.snapshot.metadata.index);
      if (batch.snapshot.metadata.index > snapshot_index) {
        offset = last = batch.snapshot.metadata.index;
        term = batch.snapshot.metadata.term;
      }
    }
    if (rng_.Chance(0.8)) {
      // Start anywhere from a little below the first index to just past the last.
      const Index first = offset + 1;
      const Index low = first > 3 ? first - 3 : 1;
      const Index start = low + rng_.Uniform(last + 2 - low);
      const size_t count = rng_.Uniform(6);
      term += rng_.Uniform(2);
      for (size_t i = 0; i < count; ++i) {
        Entry entry;
        entry.index = start + i;
        entry.term = term;
        entry.type = rng_.Chance(0.1) ? raft::EntryType::kConfChange : raft::EntryType::kNormal;
        entry.data = std::string(rng_.Uniform(40), static_cast<char>('a' + rng_.Uniform(26)));
        batch.entries.push_back(std::move(entry));
      }
    }
    if (rng_.Chance(0.5)) {
      batch.has_hard_state = true;
      batch.hard_state = raft::HardState{term, rng_.Uniform(4), rng_.Uniform(last + 1)};
    }
    return batch;
  }

  Rng rng_;
  const std::string dir_;
  std::vector<std::unique_ptr<MemoryStorage>> models_;
  std::unique_ptr<RocksDbEnv> env_;
  std::vector<std::unique_ptr<RocksDbRaftStorage>> storages_;
};

TEST(RaftStorageDifferentialTest, MatchesMemoryStorageAcrossReopens) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    TempDir dir;
    Harness harness(seed, dir.path());
    for (int step = 0; step < kStepsPerSeed; ++step) {
      harness.Step(step);
      if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
        FAIL() << "reproduce with seed " << seed << ", failed at step " << step;
      }
    }
    harness.Reopen();
  }
}

}  // namespace
}  // namespace ekv::runtime
