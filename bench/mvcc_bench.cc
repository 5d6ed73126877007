// MVCC point reads, writes and 100-key scans on the memory engine.
//
// The store holds kKeys keys with kVersionsPerKey versions each (commit timestamps
// 10, 20, 30...); reads are at a timestamp that sees the newest version unless a
// benchmark says otherwise. Keys are picked by a deterministic Rng.
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/util/assert.h"
#include "core/util/rng.h"

namespace ekv::kv {
namespace {

constexpr int kKeys = 100'000;
constexpr int kVersionsPerKey = 3;
constexpr size_t kValueBytes = 100;
constexpr Timestamp kTsStep = 10;

std::string KeyOf(uint64_t i) { return absl::StrFormat("user%010d", i); }

// Built once and shared by all benchmarks that only read.
struct Fixture {
  MemoryEngine engine;
  MvccStore store{&engine};

  Fixture() {
    const std::string value(kValueBytes, 'v');
    for (int v = 1; v <= kVersionsPerKey; ++v) {
      MvccBatch batch;
      for (int i = 0; i < kKeys; ++i) {
        batch.Put(KeyOf(i), value, v * kTsStep);
        if (batch.count() == 1000) {
          EKV_ASSERT(store.Apply(batch).ok(), "bench load");
          batch.Clear();
        }
      }
      EKV_ASSERT(store.Apply(batch).ok(), "bench load");
    }
  }
};

Fixture& SharedFixture() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_MvccGetLatest(benchmark::State& state) {
  Fixture& f = SharedFixture();
  Rng rng(1);
  for (auto _ : state) {
    auto value = f.store.Get(KeyOf(rng.Uniform(kKeys)), kMaxTimestamp - 1);
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_MvccGetLatest);

// Reads at a timestamp between the oldest and middle version: skips newer versions.
void BM_MvccGetOld(benchmark::State& state) {
  Fixture& f = SharedFixture();
  Rng rng(2);
  for (auto _ : state) {
    auto value = f.store.Get(KeyOf(rng.Uniform(kKeys)), kTsStep + 5);
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_MvccGetOld);

void BM_MvccPut(benchmark::State& state) {
  MemoryEngine engine;
  MvccStore store(&engine);
  Rng rng(3);
  const std::string value(kValueBytes, 'v');
  Timestamp ts = 1;
  for (auto _ : state) {
    absl::Status status = store.Put(KeyOf(rng.Uniform(kKeys)), value, ts++);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_MvccPut);

void BM_MvccScan100(benchmark::State& state) {
  Fixture& f = SharedFixture();
  Rng rng(4);
  const auto direction = state.range(0) == 0 ? ScanDirection::kForward : ScanDirection::kReverse;
  const Timestamp read_ts = state.range(1) == 0 ? kMaxTimestamp - 1 : kTsStep * 2 + 5;
  for (auto _ : state) {
    const uint64_t first = rng.Uniform(kKeys - 200);
    auto pairs = f.store.Scan(KeyOf(first), KeyOf(first + 200), 100, read_ts, direction);
    EKV_ASSERT(pairs.ok() && pairs->size() == 100, "scan must return 100 keys");
    benchmark::DoNotOptimize(pairs);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
// Args: {0 forward / 1 reverse, 0 latest / 1 older read_ts}.
BENCHMARK(BM_MvccScan100)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1});

}  // namespace
}  // namespace ekv::kv
