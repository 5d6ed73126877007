// MVCC point reads, writes and 100-key scans on the memory engine and, when the runtime
// is built (EKV_BENCH_ROCKSDB), on a group's RocksDB engine as the server uses it (a
// prefixed engine in the data column family, unsynced writes; the "/rocksdb" variants).
//
// The store holds kKeys keys with kVersionsPerKey versions each (commit timestamps
// 10, 20, 30...); reads are at a timestamp that sees the newest version unless a
// benchmark says otherwise. Keys are picked by a deterministic Rng.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/util/assert.h"
#include "core/util/rng.h"
#ifdef EKV_BENCH_ROCKSDB
#include "runtime/storage/rocksdb_engine.h"
#include "runtime/storage/rocksdb_env.h"
#endif

namespace ekv::kv {
namespace {

constexpr int kKeys = 100'000;
constexpr int kVersionsPerKey = 3;
constexpr size_t kValueBytes = 100;
constexpr Timestamp kTsStep = 10;

std::string KeyOf(uint64_t i) { return absl::StrFormat("user%010d", i); }

// An engine of each kind, owning whatever it needs.
struct MemoryEngineHolder {
  MemoryEngine engine;
};
#ifdef EKV_BENCH_ROCKSDB
struct RocksDbEngineHolder {
  std::string dir;
  std::unique_ptr<runtime::RocksDbEnv> env;
  std::unique_ptr<runtime::RocksDbEngine> engine_ptr;
  RocksDbEngineHolder() {
    char pattern[] = "/tmp/ekv-mvcc-bench.XXXXXX";
    EKV_ASSERT(mkdtemp(pattern) != nullptr, "bench temp dir");
    dir = pattern;
    auto opened = runtime::RocksDbEnv::Open(dir);
    EKV_ASSERT(opened.ok(), "bench RocksDB: ", opened.status().ToString());
    env = std::move(*opened);
    runtime::RocksDbEngineOptions options;
    options.key_prefix = runtime::GroupDataPrefix(1);
    engine_ptr = std::make_unique<runtime::RocksDbEngine>(env.get(), options);
  }
  ~RocksDbEngineHolder() {
    engine_ptr.reset();
    env.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};
#endif

template <typename Holder>
Engine& EngineOf(Holder& holder) {
  if constexpr (std::is_same_v<Holder, MemoryEngineHolder>) {
    return holder.engine;
  } else {
    return *holder.engine_ptr;
  }
}

// Built once per engine kind and shared by all benchmarks that only read.
template <typename Holder>
struct Fixture {
  Holder holder;
  MvccStore store{&EngineOf(holder)};

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

template <typename Holder>
Fixture<Holder>& SharedFixture() {
  static Fixture<Holder>* fixture = new Fixture<Holder>();
  return *fixture;
}

template <typename Holder>
void BM_MvccGetLatest(benchmark::State& state) {
  Fixture<Holder>& f = SharedFixture<Holder>();
  Rng rng(1);
  for (auto _ : state) {
    auto value = f.store.Get(KeyOf(rng.Uniform(kKeys)), kMaxTimestamp - 1);
    benchmark::DoNotOptimize(value);
  }
}
// Reads at a timestamp between the oldest and middle version: skips newer versions.
template <typename Holder>
void BM_MvccGetOld(benchmark::State& state) {
  Fixture<Holder>& f = SharedFixture<Holder>();
  Rng rng(2);
  for (auto _ : state) {
    auto value = f.store.Get(KeyOf(rng.Uniform(kKeys)), kTsStep + 5);
    benchmark::DoNotOptimize(value);
  }
}
template <typename Holder>
void BM_MvccPut(benchmark::State& state) {
  Holder holder;
  MvccStore store(&EngineOf(holder));
  Rng rng(3);
  const std::string value(kValueBytes, 'v');
  Timestamp ts = 1;
  for (auto _ : state) {
    absl::Status status = store.Put(KeyOf(rng.Uniform(kKeys)), value, ts++);
    benchmark::DoNotOptimize(status);
  }
}
template <typename Holder>
void BM_MvccScan100(benchmark::State& state) {
  Fixture<Holder>& f = SharedFixture<Holder>();
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
BENCHMARK_TEMPLATE(BM_MvccGetLatest, MemoryEngineHolder)->Name("BM_MvccGetLatest");
BENCHMARK_TEMPLATE(BM_MvccGetOld, MemoryEngineHolder)->Name("BM_MvccGetOld");
BENCHMARK_TEMPLATE(BM_MvccPut, MemoryEngineHolder)->Name("BM_MvccPut");
// Args: {0 forward / 1 reverse, 0 latest / 1 older read_ts}.
BENCHMARK_TEMPLATE(BM_MvccScan100, MemoryEngineHolder)
    ->Name("BM_MvccScan100")
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1});
#ifdef EKV_BENCH_ROCKSDB
BENCHMARK_TEMPLATE(BM_MvccGetLatest, RocksDbEngineHolder)->Name("BM_MvccGetLatest/rocksdb");
BENCHMARK_TEMPLATE(BM_MvccGetOld, RocksDbEngineHolder)->Name("BM_MvccGetOld/rocksdb");
BENCHMARK_TEMPLATE(BM_MvccPut, RocksDbEngineHolder)->Name("BM_MvccPut/rocksdb");
BENCHMARK_TEMPLATE(BM_MvccScan100, RocksDbEngineHolder)
    ->Name("BM_MvccScan100/rocksdb")
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1});
#endif

}  // namespace
}  // namespace ekv::kv
