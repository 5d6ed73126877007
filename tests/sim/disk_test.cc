#include "sim/disk.h"

#include "gtest/gtest.h"
#include "sim/crc32c.h"

namespace ekv::sim {
namespace {

TEST(Crc32cTest, MatchesKnownVector) {
  // The standard check value of CRC-32C.
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
}

TEST(SimDiskTest, UnsyncedWritesAreLostOnCrash) {
  SimDisk disk(Rng(1));
  ASSERT_TRUE(disk.Append("a").ok());
  ASSERT_TRUE(disk.Append("b").ok());
  disk.Sync();
  ASSERT_TRUE(disk.Append("c").ok());
  disk.Crash();
  absl::StatusOr<SimDisk::Recovered> recovered = disk.Recover();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->records, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(recovered->truncated_torn_tail);
}

TEST(SimDiskTest, TornTailIsDetectedAndTruncated) {
  int torn_seen = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SimDisk disk{Rng(seed)};
    disk.set_torn_write_probability(1.0);
    ASSERT_TRUE(disk.Append("synced").ok());
    disk.Sync();
    ASSERT_TRUE(disk.Append(std::string(100, 'x')).ok());
    disk.Crash();
    absl::StatusOr<SimDisk::Recovered> recovered = disk.Recover();
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    // The synced record always survives; the torn one never appears half-written.
    ASSERT_EQ(recovered->records.size(), 1u);
    EXPECT_EQ(recovered->records[0], "synced");
    if (recovered->truncated_torn_tail) ++torn_seen;
    // After truncation, appending continues on a clean file.
    ASSERT_TRUE(disk.Append("after").ok());
    disk.Sync();
    recovered = disk.Recover();
    ASSERT_TRUE(recovered.ok());
    EXPECT_EQ(recovered->records, (std::vector<std::string>{"synced", "after"}));
  }
  EXPECT_GT(torn_seen, 40);
}

TEST(SimDiskTest, CorruptionIsRefusedNeverAccepted) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SimDisk disk{Rng(seed)};
    ASSERT_TRUE(disk.Append("first record").ok());
    ASSERT_TRUE(disk.Append("second record").ok());
    disk.Sync();
    disk.CorruptSyncedBit();
    absl::StatusOr<SimDisk::Recovered> recovered = disk.Recover();
    ASSERT_FALSE(recovered.ok()) << "seed " << seed;
    EXPECT_EQ(recovered.status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(SimDiskTest, WriteErrorsAreInjected) {
  SimDisk disk(Rng(3));
  disk.set_write_error_probability(1.0);
  EXPECT_FALSE(disk.Append("x").ok());
  EXPECT_EQ(disk.size(), 0u);
}

}  // namespace
}  // namespace ekv::sim
