// A data dir's node identity: written once, read back across reopenings, absent in a new
// data dir, and corrupt bytes are a clear error rather than a guess.
#include "runtime/storage/node_identity.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::runtime {
namespace {

TEST(NodeIdentityTest, ANewDataDirHasNoneAndAWrittenOneSurvivesReopening) {
  TempDir dir;
  {
    auto env = RocksDbEnv::Open(dir.Child("data"));
    ASSERT_TRUE(env.ok()) << env.status();
    absl::StatusOr<std::optional<NodeIdentity>> none = ReadNodeIdentity(env->get());
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(WriteNodeIdentity(env->get(), {4, {1, 2, 7}, {{1, "h1:1"}, {4, "h4:1"}}}).ok());
  }
  auto env = RocksDbEnv::Open(dir.Child("data"));
  ASSERT_TRUE(env.ok()) << env.status();
  absl::StatusOr<std::optional<NodeIdentity>> identity = ReadNodeIdentity(env->get());
  ASSERT_TRUE(identity.ok()) << identity.status();
  ASSERT_TRUE(identity->has_value());
  EXPECT_EQ(**identity, (NodeIdentity{4, {1, 2, 7}, {{1, "h1:1"}, {4, "h4:1"}}}));
}

TEST(NodeIdentityTest, CorruptBytesAreDataLoss) {
  TempDir dir;
  auto env = RocksDbEnv::Open(dir.Child("data"));
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_TRUE(WriteNodeIdentity(env->get(), {4, {1, 2}, {}}).ok());
  // Overwrite the record with groups out of order (the format byte, node 4, 2 groups: 2, 1).
  const std::string key =
      "\xff\xff\xff\xff\xff\xff\xff\xff"
      "node_identity";
  ASSERT_TRUE((*env)
                  ->db()
                  ->Put(rocksdb::WriteOptions(), (*env)->raft_state(), key,
                        std::string("\x01\x04\x02\x02\x01\x00", 6))
                  .ok());
  absl::StatusOr<std::optional<NodeIdentity>> identity = ReadNodeIdentity(env->get());
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(identity.status().message()), ::testing::HasSubstr("not increasing"));
  ASSERT_TRUE((*env)
                  ->db()
                  ->Put(rocksdb::WriteOptions(), (*env)->raft_state(), key, std::string("\x01\x04"))
                  .ok());
  EXPECT_EQ(ReadNodeIdentity(env->get()).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ekv::runtime
