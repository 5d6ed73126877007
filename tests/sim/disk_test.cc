#include "sim/disk.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "sim/crc32c.h"

namespace ekv::sim {
namespace {

TEST(Crc32cTest, MatchesKnownVector) {
  // The standard check value of CRC-32C.
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
}

// The eight-bytes-at-a-time loop agrees with the definition, bit by bit, for every length
// and alignment around its block size, and when continued from a previous CRC.
TEST(Crc32cTest, AgreesWithTheBitwiseDefinition) {
  const auto bitwise = [](std::string_view data, uint32_t crc) {
    crc = ~crc;
    for (unsigned char c : data) {
      crc ^= c;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0u);
    }
    return ~crc;
  };
  std::string data;
  for (int i = 0; i < 67; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  for (size_t start = 0; start < 8; ++start) {
    for (size_t length = 0; start + length <= data.size(); ++length) {
      const std::string_view piece = std::string_view(data).substr(start, length);
      EXPECT_EQ(Crc32c(piece), bitwise(piece, 0)) << "start " << start << " length " << length;
      EXPECT_EQ(Crc32c(piece, 0x1234u), bitwise(piece, 0x1234u));
    }
  }
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
