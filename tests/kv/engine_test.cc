// The engine conformance suite (engine_conformance.h) on MemoryEngine, and MemoryEngine's own
// tests. The RocksDB engine runs the same suite in tests/runtime.
#include <memory>

#include "core/kv/memory_engine.h"
#include "gtest/gtest.h"
#include "tests/kv/engine_conformance.h"

namespace ekv::kv {
namespace {

INSTANTIATE_TEST_SUITE_P(MemoryEngine, EngineConformanceTest,
                         ::testing::Values([]() -> std::unique_ptr<Engine> {
                           return std::make_unique<MemoryEngine>();
                         }));

TEST(MemoryEngineTest, CopiesOnlyWhenAReaderHoldsTheVersion) {
  MemoryEngine engine;
  WriteBatch batch;
  batch.Put("a", "1");
  ASSERT_TRUE(engine.Write(batch).ok());
  ASSERT_TRUE(engine.Write(batch).ok());
  EXPECT_EQ(engine.copy_on_write_count(), 0u);
  {
    auto snapshot = engine.Snapshot();
    ASSERT_TRUE(engine.Write(batch).ok());  // copies once
    ASSERT_TRUE(engine.Write(batch).ok());  // the new version is unshared
  }
  EXPECT_EQ(engine.copy_on_write_count(), 1u);
  ASSERT_TRUE(engine.Write(batch).ok());
  EXPECT_EQ(engine.copy_on_write_count(), 1u);
}

}  // namespace
}  // namespace ekv::kv
