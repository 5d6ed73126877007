// Synced Raft log appends on RocksDB, and what group commit buys.
//
//   BM_AppendSynced/<entries>      one group, Persist of <entries> entries of 128 bytes per
//                                  iteration: fsyncs/s and entries/s.
//   BM_SeparateSyncs/<groups>      <groups> groups each Persist one 1-entry batch with its
//                                  own synced write (<groups> fsyncs per round).
//   BM_GroupCommit/<groups>        the same batches merged into one synced write.
//   BM_GroupCommitSpeedup/<groups> both, interleaved in one run so they see the same disk
//                                  state; reports group_commit_speedup = separate / merged.
//
// The DB lives in a fresh directory under $TMPDIR (default /tmp), removed afterwards; the
// numbers are only as meaningful as that disk's fsync.
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/raft/storage.h"
#include "core/util/assert.h"
#include "runtime/storage/raft_group_commit.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/storage/rocksdb_raft_storage.h"

namespace {

using ekv::raft::Entry;
using ekv::raft::PersistBatch;
using ekv::runtime::RaftGroupCommit;
using ekv::runtime::RocksDbEnv;
using ekv::runtime::RocksDbRaftStorage;

constexpr size_t kEntryBytes = 128;

// A node's DB with `groups` Raft groups, in a temp dir removed on destruction.
class Node {
 public:
  explicit Node(size_t groups) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ekv_storage_bench_XXXXXX";
    EKV_ASSERT(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed for ", pattern);
    dir_ = pattern;
    auto env = RocksDbEnv::Open(dir_);
    EKV_ASSERT(env.ok(), "opening the bench DB: ", env.status().ToString());
    env_ = *std::move(env);
    for (size_t g = 0; g < groups; ++g) {
      auto storage = RocksDbRaftStorage::Open(env_.get(), g + 1);
      EKV_ASSERT(storage.ok(), "opening group ", g + 1, ": ", storage.status().ToString());
      storages_.push_back(*std::move(storage));
      next_index_.push_back(1);
    }
  }
  ~Node() {
    storages_.clear();
    env_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The next batch of group `g`: `count` fresh entries of kEntryBytes and a hard state.
  PersistBatch NextBatch(size_t g, size_t count) {
    PersistBatch batch;
    batch.ready_id = ++ready_id_;
    for (size_t i = 0; i < count; ++i) {
      batch.entries.push_back(
          Entry{1, next_index_[g]++, ekv::raft::EntryType::kNormal, std::string(kEntryBytes, 'x')});
    }
    batch.has_hard_state = true;
    batch.hard_state = ekv::raft::HardState{1, 1, next_index_[g] - 1};
    return batch;
  }

  void PersistSeparately(const std::vector<PersistBatch>& batches) {
    for (size_t g = 0; g < batches.size(); ++g) {
      auto receipt = storages_[g]->Persist(batches[g]);
      EKV_ASSERT(receipt.ok(), "Persist: ", receipt.status().ToString());
    }
  }

  void PersistGroupCommitted(const std::vector<PersistBatch>& batches) {
    RaftGroupCommit commit(env_.get());
    for (size_t g = 0; g < batches.size(); ++g) {
      absl::Status status = commit.Add(storages_[g].get(), batches[g]);
      EKV_ASSERT(status.ok(), "group commit Add: ", status.ToString());
    }
    absl::Status status = commit.Commit();
    EKV_ASSERT(status.ok(), "group commit: ", status.ToString());
    for (size_t g = 0; g < batches.size(); ++g) {
      auto receipt = storages_[g]->Persist(batches[g]);
      EKV_ASSERT(receipt.ok(), "Persist after group commit: ", receipt.status().ToString());
    }
  }

  std::vector<PersistBatch> NextRound(size_t entries_per_group) {
    std::vector<PersistBatch> batches;
    for (size_t g = 0; g < storages_.size(); ++g)
      batches.push_back(NextBatch(g, entries_per_group));
    return batches;
  }

  RocksDbEnv& env() { return *env_; }

 private:
  std::string dir_;
  std::unique_ptr<RocksDbEnv> env_;
  std::vector<std::unique_ptr<RocksDbRaftStorage>> storages_;
  std::vector<ekv::raft::Index> next_index_;
  uint64_t ready_id_ = 0;
};

void ReportRates(benchmark::State& state, uint64_t syncs, uint64_t entries) {
  state.counters["fsyncs_per_s"] =
      benchmark::Counter(static_cast<double>(syncs), benchmark::Counter::kIsRate);
  state.counters["entries_per_s"] =
      benchmark::Counter(static_cast<double>(entries), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(entries * kEntryBytes));
}

void BM_AppendSynced(benchmark::State& state) {
  const size_t entries = static_cast<size_t>(state.range(0));
  Node node(1);
  const uint64_t syncs_before = node.env().synced_write_count();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<PersistBatch> round = node.NextRound(entries);
    state.ResumeTiming();
    node.PersistSeparately(round);
  }
  ReportRates(state, node.env().synced_write_count() - syncs_before, state.iterations() * entries);
}
BENCHMARK(BM_AppendSynced)->Arg(1)->Arg(64)->UseRealTime();

void BM_SeparateSyncs(benchmark::State& state) {
  const size_t groups = static_cast<size_t>(state.range(0));
  Node node(groups);
  const uint64_t syncs_before = node.env().synced_write_count();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<PersistBatch> round = node.NextRound(1);
    state.ResumeTiming();
    node.PersistSeparately(round);
  }
  ReportRates(state, node.env().synced_write_count() - syncs_before, state.iterations() * groups);
}
BENCHMARK(BM_SeparateSyncs)->Arg(16)->UseRealTime();

void BM_GroupCommit(benchmark::State& state) {
  const size_t groups = static_cast<size_t>(state.range(0));
  Node node(groups);
  const uint64_t syncs_before = node.env().synced_write_count();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<PersistBatch> round = node.NextRound(1);
    state.ResumeTiming();
    node.PersistGroupCommitted(round);
  }
  ReportRates(state, node.env().synced_write_count() - syncs_before, state.iterations() * groups);
}
BENCHMARK(BM_GroupCommit)->Arg(16)->UseRealTime();

// One iteration = one round of `groups` batches persisted separately plus one round
// merged, each timed on its own.
void BM_GroupCommitSpeedup(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const size_t groups = static_cast<size_t>(state.range(0));
  Node node(groups);
  Clock::duration separate{};
  Clock::duration merged{};
  for (auto _ : state) {
    std::vector<PersistBatch> round = node.NextRound(1);
    const Clock::time_point start = Clock::now();
    node.PersistSeparately(round);
    const Clock::time_point middle = Clock::now();
    round = node.NextRound(1);
    const Clock::time_point restart = Clock::now();
    node.PersistGroupCommitted(round);
    const Clock::time_point end = Clock::now();
    separate += middle - start;
    merged += end - restart;
  }
  const double separate_us = std::chrono::duration<double, std::micro>(separate).count();
  const double merged_us = std::chrono::duration<double, std::micro>(merged).count();
  const double rounds = static_cast<double>(state.iterations());
  state.counters["separate_us_per_round"] = separate_us / rounds;
  state.counters["merged_us_per_round"] = merged_us / rounds;
  state.counters["group_commit_speedup"] = merged_us > 0 ? separate_us / merged_us : 0;
}
BENCHMARK(BM_GroupCommitSpeedup)->Arg(16)->UseRealTime();

}  // namespace
