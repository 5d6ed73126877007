// redis_core::RunOverSnapshots and the key snapshots it runs on (key_snapshot.h): what the
// coordinator computes for a single command whose keys live in several groups.
#include <optional>
#include <string>
#include <vector>

#include "core/redis/detached_run.h"
#include "core/redis/key_snapshot.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

constexpr uint64_t kNow = 1'000'000;

// Runs `command` over `keys` (their snapshots from `state`), folds its writes into
// `state`, and answers the reply.
Reply RunAndKeep(SnapshotMap& state, const std::vector<std::string>& command,
                 const std::vector<std::string>& keys, uint64_t now_ms = kNow) {
  SnapshotMap snapshots;
  for (const std::string& key : keys) {
    auto it = state.find(key);
    snapshots[key] = it == state.end() ? std::nullopt : it->second;
  }
  absl::StatusOr<DetachedResult> result = RunOverSnapshots(command, snapshots, now_ms, 7);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return Reply::Error(result.status().ToString());
  for (auto& [key, value] : result->writes) state[key] = value;
  return result->reply;
}

TEST(DetachedRunTest, EveryTypeSurvivesASnapshotAndMovesBetweenKeys) {
  SnapshotMap state;
  EXPECT_EQ(RunAndKeep(state, {"rpush", "l", "a", "b", "c"}, {"l"}), Reply::Integer(3));
  EXPECT_EQ(RunAndKeep(state, {"sadd", "s", "x", "y"}, {"s"}), Reply::Integer(2));
  EXPECT_EQ(RunAndKeep(state, {"hset", "h", "f", "v"}, {"h"}), Reply::Integer(1));
  EXPECT_EQ(RunAndKeep(state, {"zadd", "z", "1.5", "m"}, {"z"}), Reply::Integer(1));
  EXPECT_EQ(RunAndKeep(state, {"set", "str", "value", "px", "5000"}, {"str"}), Reply::Ok());
  for (const char* key : {"l", "s", "h", "z", "str"}) {
    ASSERT_TRUE(state.at(key).has_value()) << key;
    absl::StatusOr<KeySnapshot> decoded = DecodeKeySnapshot(*state.at(key));
    ASSERT_TRUE(decoded.ok()) << key << ": " << decoded.status();
    EXPECT_EQ(EncodeKeySnapshot(*decoded), *state.at(key)) << "canonical bytes";
  }
  EXPECT_EQ(RunAndKeep(state, {"lmove", "l", "l2", "left", "right"}, {"l", "l2"}),
            Reply::Bulk("a"));
  EXPECT_EQ(RunAndKeep(state, {"lrange", "l2", "0", "-1"}, {"l2"}),
            Reply::Array({Reply::Bulk("a")}));
  EXPECT_EQ(RunAndKeep(state, {"lrange", "l", "0", "-1"}, {"l"}),
            Reply::Array({Reply::Bulk("b"), Reply::Bulk("c")}));
  EXPECT_EQ(RunAndKeep(state, {"rename", "h", "h2"}, {"h", "h2"}), Reply::Ok());
  EXPECT_FALSE(state.at("h").has_value());
  EXPECT_EQ(RunAndKeep(state, {"hget", "h2", "f"}, {"h2"}), Reply::Bulk("v"));
  EXPECT_EQ(RunAndKeep(state, {"zscore", "z", "m"}, {"z"}), Reply::Double(1.5));
  EXPECT_EQ(RunAndKeep(state, {"smove", "s", "s2", "x"}, {"s", "s2"}), Reply::Integer(1));
  EXPECT_EQ(RunAndKeep(state, {"scard", "s"}, {"s"}), Reply::Integer(1));
  EXPECT_EQ(RunAndKeep(state, {"scard", "s2"}, {"s2"}), Reply::Integer(1));
  // The expiry is absolute and travels with the value.
  EXPECT_EQ(RunAndKeep(state, {"rename", "str", "str2"}, {"str", "str2"}), Reply::Ok());
  EXPECT_EQ(RunAndKeep(state, {"pttl", "str2"}, {"str2"}), Reply::Integer(5000));
  EXPECT_EQ(RunAndKeep(state, {"get", "str2"}, {"str2"}, kNow + 5001), Reply::Nil());
}

TEST(DetachedRunTest, OnlyWhatTheCommandWroteComesBack) {
  SnapshotMap state;
  RunAndKeep(state, {"sadd", "a", "1", "2"}, {"a"});
  RunAndKeep(state, {"sadd", "b", "2", "3"}, {"b"});
  SnapshotMap snapshots = {{"a", state["a"]}, {"b", state["b"]}, {"d", std::nullopt}};
  absl::StatusOr<DetachedResult> read = RunOverSnapshots({"sinter", "a", "b"}, snapshots, kNow, 1);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->reply, Reply::Set({Reply::Bulk("2")}));
  EXPECT_TRUE(read->writes.empty());
  absl::StatusOr<DetachedResult> store =
      RunOverSnapshots({"sinterstore", "d", "a", "b"}, snapshots, kNow, 1);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(store->reply, Reply::Integer(1));
  ASSERT_EQ(store->writes.size(), 1u);
  EXPECT_TRUE(store->writes.at("d").has_value());
  // An error writes nothing.
  absl::StatusOr<DetachedResult> wrong =
      RunOverSnapshots({"lmove", "a", "d", "left", "left"}, snapshots, kNow, 1);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->reply, WrongTypeError());
  EXPECT_TRUE(wrong->writes.empty());
  // A key written empty comes back as gone.
  RunAndKeep(state, {"sadd", "one", "1"}, {"one"});
  absl::StatusOr<DetachedResult> emptied = RunOverSnapshots(
      {"smove", "one", "d", "1"}, {{"one", state["one"]}, {"d", std::nullopt}}, kNow, 1);
  ASSERT_TRUE(emptied.ok());
  EXPECT_EQ(emptied->reply, Reply::Integer(1));
  ASSERT_EQ(emptied->writes.size(), 2u);
  EXPECT_FALSE(emptied->writes.at("one").has_value());
  EXPECT_TRUE(emptied->writes.at("d").has_value());
}

TEST(DetachedRunTest, MalformedSnapshotsAreRefused) {
  EXPECT_FALSE(DecodeKeySnapshot("").ok());
  EXPECT_FALSE(DecodeKeySnapshot(std::string(1, '\x09')).ok());
  KeySnapshot set;
  set.type = Type::kSet;
  set.meta.size = 1;
  set.records = {{"m", ""}};
  std::string bytes = EncodeKeySnapshot(set);
  EXPECT_TRUE(DecodeKeySnapshot(bytes).ok());
  EXPECT_FALSE(DecodeKeySnapshot(bytes + "x").ok());
  EXPECT_FALSE(DecodeKeySnapshot(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(RunOverSnapshots({"get", "k"}, {{"k", std::string("junk")}}, kNow, 1).ok());
}

}  // namespace
}  // namespace ekv::redis_core
