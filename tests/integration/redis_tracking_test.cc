// Client-side caching across real ekv-server processes: a tracking connection on one node
// is invalidated by writes through the other nodes (both groups of the demo's split),
// BCAST and REDIRECT included, and by a FLUSHALL on another node.
#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/redis_cluster_fixture.h"
#include "tests/redis/resp_client.h"

namespace ekv::integration {
namespace {

using redis::testing::RespClient;

std::string Push(const std::string& payload) {
  return absl::StrCat(">2\r\n$10\r\ninvalidate\r\n", payload);
}
std::string OneKey(const std::string& key) {
  return absl::StrCat("*1\r\n$", key.size(), "\r\n", key, "\r\n");
}

class RedisTrackingTest : public RedisTwoGroupClusterTest {
 protected:
  // The pub/sub fan-out reaches every node once each knows the members (refreshed about
  // every second): until PUBLISH on node 1 counts the subscribers on nodes 2 and 3.
  void WaitForFanout() {
    RespClient s2(cluster().redis_port(2));
    RespClient s3(cluster().redis_port(3));
    ASSERT_NE(s2.Call({"SUBSCRIBE", "ready"}), "");
    ASSERT_NE(s3.Call({"SUBSCRIBE", "ready"}), "");
    RespClient publisher(cluster().redis_port(1));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string reply;
    while (std::chrono::steady_clock::now() < deadline) {
      reply = publisher.Call({"PUBLISH", "ready", "x"});
      if (reply == ":2\r\n") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "PUBLISH never reached both peers' subscribers; last reply " << absl::CEscape(reply);
  }
};

TEST_F(RedisTrackingTest, WritesThroughOtherNodesInvalidate) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  ASSERT_NO_FATAL_FAILURE(WaitForFanout());
  RespClient tracker(cluster().redis_port(1));
  ASSERT_EQ(tracker.Call({"HELLO", "3"}).substr(0, 1), "%");
  // OK once every peer heard that node 1 tracks: their writes after it report their keys.
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "on"}), "+OK\r\n");
  RespClient n2(cluster().redis_port(2));
  RespClient n3(cluster().redis_port(3));
  ASSERT_EQ(n2.Call({"SET", "apple", "1"}), "+OK\r\n");
  ASSERT_EQ(n3.Call({"SET", "zebra", "1"}), "+OK\r\n");
  // One key in each group, read through node 1.
  ASSERT_EQ(tracker.Call({"MGET", "apple", "zebra"}), "*2\r\n$1\r\n1\r\n$1\r\n1\r\n");

  ASSERT_EQ(n2.Call({"INCR", "apple"}), ":2\r\n");
  EXPECT_EQ(tracker.ReadReply(), Push(OneKey("apple")));
  ASSERT_EQ(n3.Call({"DEL", "zebra"}), ":1\r\n");
  EXPECT_EQ(tracker.ReadReply(), Push(OneKey("zebra")));
  // Told once; nothing pending now.
  ASSERT_EQ(n2.Call({"INCR", "apple"}), ":3\r\n");
  EXPECT_EQ(tracker.Call({"PING"}), "+PONG\r\n");

  // A RESP2 connection redirecting to a subscribed connection of its node.
  RespClient sink(cluster().redis_port(1));
  const std::string sink_id = sink.Call({"CLIENT", "ID"});
  ASSERT_EQ(sink.Call({"SUBSCRIBE", "__redis__:invalidate"}).substr(0, 4), "*3\r\n");
  RespClient resp2(cluster().redis_port(1));
  ASSERT_EQ(
      resp2.Call({"CLIENT", "TRACKING", "on", "REDIRECT", sink_id.substr(1, sink_id.size() - 3)}),
      "+OK\r\n");
  ASSERT_EQ(resp2.Call({"GET", "melon"}), "$-1\r\n");
  ASSERT_EQ(n3.Call({"SET", "melon", "1"}), "+OK\r\n");
  EXPECT_EQ(sink.ReadReply(), absl::StrCat("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n",
                                           OneKey("melon")));

  // BCAST on node 3, writes through node 1 and node 2.
  RespClient bcast(cluster().redis_port(3));
  ASSERT_EQ(bcast.Call({"HELLO", "3"}).substr(0, 1), "%");
  ASSERT_EQ(bcast.Call({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:"}), "+OK\r\n");
  RespClient n1(cluster().redis_port(1));
  ASSERT_EQ(n1.Call({"SET", "user:1", "a"}), "+OK\r\n");
  EXPECT_EQ(bcast.ReadReply(), Push(OneKey("user:1")));
  ASSERT_EQ(n2.Call({"SET", "other", "a"}), "+OK\r\n");
  ASSERT_EQ(n2.Call({"SET", "user:zz", "a"}), "+OK\r\n");
  EXPECT_EQ(bcast.ReadReply(), Push(OneKey("user:zz")));

  // FLUSHALL through node 2: every tracking connection of every node forgets all.
  ASSERT_EQ(tracker.Call({"GET", "apple"}), "$1\r\n3\r\n");
  ASSERT_EQ(n2.Call({"FLUSHALL"}), "+OK\r\n");
  EXPECT_EQ(tracker.ReadReply(), Push("_\r\n"));
  EXPECT_EQ(bcast.ReadReply(), Push("_\r\n"));
  EXPECT_EQ(sink.ReadReply(), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
}

}  // namespace
}  // namespace ekv::integration
