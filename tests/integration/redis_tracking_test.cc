// Client-side caching across real ekv-server processes: a tracking connection on one node
// is invalidated by writes through the other nodes (both groups of the demo's split),
// BCAST and REDIRECT included, and by a FLUSHALL on another node.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

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

// Invalidations from other nodes travel beside the writes' replies, not before them: one
// may arrive after the writer's reply, and a write just before a read may invalidate the
// key read after it (a harmless extra invalidation). So these helpers read past pushes.
//
// The reply to `args`, after any invalidation pushes (RESP3) before it, which go to
// `seen`.
std::string CallPast(RespClient& client, const std::vector<std::string>& args,
                     std::vector<std::string>* seen) {
  if (!client.Send(args)) return "<send failed>";
  while (true) {
    std::string reply = client.ReadReply();
    if (reply.empty() || reply[0] != '>') return reply;
    seen->push_back(std::move(reply));
  }
}

// Reads until `want` arrives (at most 50 replies of 10 s each); false when it does not.
bool WaitFor(RespClient& client, const std::string& want, std::vector<std::string>* seen) {
  for (int i = 0; i < 50; ++i) {
    std::string reply = client.ReadReply();
    if (reply == want) return true;
    if (reply.empty()) return false;
    seen->push_back(std::move(reply));
  }
  return false;
}

std::string Seen(const std::vector<std::string>& seen) {
  std::string out;
  for (const std::string& reply : seen) absl::StrAppend(&out, "\n  ", absl::CEscape(reply));
  return out.empty() ? " nothing" : out;
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
  std::vector<std::string> seen;
  RespClient tracker(cluster().redis_port(1));
  ASSERT_EQ(tracker.Call({"HELLO", "3"}).substr(0, 1), "%");
  // OK once every peer heard that node 1 tracks: their writes after it report their keys.
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "on"}), "+OK\r\n");
  RespClient n1(cluster().redis_port(1));
  RespClient n2(cluster().redis_port(2));
  RespClient n3(cluster().redis_port(3));
  // Written through the tracker's own node, whose invalidations (none: nobody read them
  // yet) are sent before its replies: no late one for a key read next.
  ASSERT_EQ(n1.Call({"SET", "apple", "1"}), "+OK\r\n");
  ASSERT_EQ(n1.Call({"SET", "zebra", "1"}), "+OK\r\n");
  // One key in each group, read through node 1, changed through nodes 2 and 3.
  ASSERT_EQ(CallPast(tracker, {"MGET", "apple", "zebra"}, &seen), "*2\r\n$1\r\n1\r\n$1\r\n1\r\n");
  ASSERT_EQ(n2.Call({"INCR", "apple"}), ":2\r\n");
  EXPECT_TRUE(WaitFor(tracker, Push(OneKey("apple")), &seen)) << "got" << Seen(seen);
  ASSERT_EQ(n3.Call({"DEL", "zebra"}), ":1\r\n");
  EXPECT_TRUE(WaitFor(tracker, Push(OneKey("zebra")), &seen)) << "got" << Seen(seen);

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
  const std::string message = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
  EXPECT_TRUE(WaitFor(sink, absl::StrCat(message, OneKey("melon")), &seen)) << "got" << Seen(seen);

  // BCAST on node 3, writes through nodes 1 and 2.
  RespClient bcast(cluster().redis_port(3));
  ASSERT_EQ(bcast.Call({"HELLO", "3"}).substr(0, 1), "%");
  ASSERT_EQ(bcast.Call({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:"}), "+OK\r\n");
  ASSERT_EQ(n1.Call({"SET", "user:1", "a"}), "+OK\r\n");
  EXPECT_TRUE(WaitFor(bcast, Push(OneKey("user:1")), &seen)) << "got" << Seen(seen);
  ASSERT_EQ(n2.Call({"SET", "other", "a"}), "+OK\r\n");
  ASSERT_EQ(n2.Call({"SET", "user:zz", "a"}), "+OK\r\n");
  seen.clear();
  EXPECT_TRUE(WaitFor(bcast, Push(OneKey("user:zz")), &seen)) << "got" << Seen(seen);
  for (const std::string& other : seen) EXPECT_EQ(other.find("other"), std::string::npos) << other;

  // A key written with a TTL through node 2 is invalidated when it expires.
  ASSERT_EQ(n2.Call({"SET", "kiwi", "1", "PX", "300"}), "+OK\r\n");
  const std::string kiwi = CallPast(tracker, {"GET", "kiwi"}, &seen);
  if (kiwi == "$1\r\n1\r\n") {  // not expired yet on a slow machine: then it must be told
    EXPECT_TRUE(WaitFor(tracker, Push(OneKey("kiwi")), &seen)) << "got" << Seen(seen);
  }

  // FLUSHALL through node 2: every tracking connection of every node forgets all.
  ASSERT_EQ(CallPast(tracker, {"GET", "apple"}, &seen), "$1\r\n2\r\n");
  ASSERT_EQ(n2.Call({"FLUSHALL"}), "+OK\r\n");
  EXPECT_TRUE(WaitFor(tracker, Push("_\r\n"), &seen)) << "got" << Seen(seen);
  EXPECT_TRUE(WaitFor(bcast, Push("_\r\n"), &seen)) << "got" << Seen(seen);
  EXPECT_TRUE(WaitFor(sink, absl::StrCat(message, "$-1\r\n"), &seen)) << "got" << Seen(seen);
}

}  // namespace
}  // namespace ekv::integration
