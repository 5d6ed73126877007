// Blocking list pops on real ekv-server processes: a client blocked on one node is woken
// by a push through another node (the key-ready notice travels over the pub/sub fan-out),
// and many clients blocked on several nodes against pushers on every node get every
// element exactly once (each pop is one replicated write in the owning group).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/redis_calls.h"
#include "tests/redis/resp_client.h"

namespace ekv::integration {
namespace {

using redis::testing::RespClient;
using Clock = std::chrono::steady_clock;

// INFO clients' blocked_clients on one node.
int BlockedClients(RespClient& client) {
  const std::string info = CallSlow(client, {"INFO", "clients"});
  const size_t at = info.find("blocked_clients:");
  if (at == std::string::npos) return -1;
  return std::atoi(info.c_str() + at + std::string("blocked_clients:").size());
}

// The element of a BLPOP reply "*2 $key $element", or "" for anything else.
std::string PoppedElement(const std::string& reply) {
  std::vector<std::string> parts = absl::StrSplit(reply, "\r\n");
  if (parts.size() < 5 || parts[0] != "*2") return "";
  return parts[4];
}

class RedisBlockingTest : public ClusterTest {
 protected:
  void StartRedisCluster(int nodes) {
    ClusterOptions options;
    options.nodes = nodes;
    options.redis = true;
    options.request_timeout_ms = 5000;  // a loaded machine (see redis_test.cc)
    options.tick_ms = 50;
    ASSERT_NO_FATAL_FAILURE(StartCluster(options));
    ASSERT_TRUE(RawPutEventually(cluster(), 1, "a-warmup", "1").ok());
    ASSERT_TRUE(RawPutEventually(cluster(), 1, "z-warmup", "1").ok());
  }
};

TEST_F(RedisBlockingTest, ClientBlockedOnOneNodeIsWokenByAPushOnAnother) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  RespClient waiter(cluster().redis_port(2));
  RespClient observer(cluster().redis_port(2));
  RespClient pusher(cluster().redis_port(3));
  for (const std::string key : {"a-queue", "z-queue"}) {  // one key in each group
    ASSERT_TRUE(waiter.Send({"BLPOP", key, "0"}));
    // Blocked for sure (its first run missed) before the push, so the push's notice is
    // what wakes it, not its first run.
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    int blocked = 0;
    while ((blocked = BlockedClients(observer)) != 1 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(blocked, 1) << "the BLPOP on n2 never blocked";
    EXPECT_EQ(CallSlow(pusher, {"LPUSH", key, "hello"}), ":1\r\n");
    const std::string reply = waiter.ReadReply(std::chrono::seconds(60));
    EXPECT_EQ(reply, absl::StrCat("*2\r\n$7\r\n", key, "\r\n$5\r\nhello\r\n"));
    EXPECT_EQ(CallSlow(observer, {"EXISTS", key}), ":0\r\n");
    EXPECT_EQ(BlockedClients(observer), 0);
  }
  // BLMOVE and BZPOPMIN are woken the same way.
  ASSERT_TRUE(waiter.Send({"BZPOPMIN", "a-zset", "0"}));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (BlockedClients(observer) != 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(CallSlow(pusher, {"ZADD", "a-zset", "2", "m"}), ":1\r\n");
  EXPECT_EQ(waiter.ReadReply(std::chrono::seconds(60)),
            "*3\r\n$6\r\na-zset\r\n$1\r\nm\r\n$1\r\n2\r\n");
}

// A blocked move whose source and destination live in different groups, woken by a push
// through another node (its later runs go over both groups as any such command does), and
// a BLPOP over two groups' keys that waits through one of them becoming a string.
TEST_F(RedisBlockingTest, BlockedMovesAndPopsOverTwoGroups) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  RespClient waiter(cluster().redis_port(2));
  RespClient observer(cluster().redis_port(2));
  RespClient pusher(cluster().redis_port(3));
  auto wait_blocked = [&](int count) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    int blocked = 0;
    while ((blocked = BlockedClients(observer)) != count && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return blocked;
  };
  ASSERT_TRUE(waiter.Send({"BRPOPLPUSH", "a-src", "z-dst", "0"}));
  ASSERT_EQ(wait_blocked(1), 1) << "the BRPOPLPUSH on n2 never blocked";
  EXPECT_EQ(CallSlow(pusher, {"RPUSH", "a-src", "x", "y"}), ":2\r\n");
  EXPECT_EQ(waiter.ReadReply(std::chrono::seconds(60)), "$1\r\ny\r\n");
  EXPECT_EQ(CallSlow(observer, {"LRANGE", "z-dst", "0", "-1"}), "*1\r\n$1\r\ny\r\n");
  EXPECT_EQ(CallSlow(observer, {"LRANGE", "a-src", "0", "-1"}), "*1\r\n$1\r\nx\r\n");

  ASSERT_TRUE(waiter.Send({"BLPOP", "a-wait", "z-wait", "0"}));
  ASSERT_EQ(wait_blocked(1), 1) << "the BLPOP on n2 never blocked";
  EXPECT_EQ(CallSlow(pusher, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(pusher, {"LPUSH", "a-wait", "v"}), "+QUEUED\r\n");
  EXPECT_EQ(CallSlow(pusher, {"DEL", "a-wait"}), "+QUEUED\r\n");
  EXPECT_EQ(CallSlow(pusher, {"SET", "a-wait", "s"}), "+QUEUED\r\n");
  EXPECT_EQ(CallSlow(pusher, {"EXEC"}), "*3\r\n:1\r\n:1\r\n+OK\r\n");
  EXPECT_EQ(CallSlow(pusher, {"RPUSH", "z-wait", "w"}), ":1\r\n");
  EXPECT_EQ(waiter.ReadReply(std::chrono::seconds(60)), "*2\r\n$6\r\nz-wait\r\n$1\r\nw\r\n")
      << "served from the list, not answered WRONGTYPE for the string";
  EXPECT_EQ(wait_blocked(0), 0);
}

// 6 clients (2 per node) pop with BLPOP while 3 pushers (1 per node) push 40 distinct
// elements each, over two keys in different groups: every element is popped exactly once.
TEST_F(RedisBlockingTest, ManyWaitersAndPushersLoseAndDuplicateNothing) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  constexpr int kWaiters = 6;
  constexpr int kPushers = 3;
  constexpr int kEach = 40;
  constexpr int kTotal = kPushers * kEach;
  std::mutex mu;
  std::vector<std::string> popped;    // guarded by mu
  std::vector<std::string> failures;  // guarded by mu
  std::atomic<int> count{0};
  const auto deadline = Clock::now() + std::chrono::seconds(240);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWaiters; ++w) {
    threads.emplace_back([&, w] {
      RespClient client(cluster().redis_port(1 + w % 3));
      while (count.load() < kTotal && Clock::now() < deadline) {
        // A short timeout only so the loop can end once everything was popped.
        const std::string key = w % 2 == 0 ? "a-jobs" : "z-jobs";
        const std::string reply = CallSlow(client, {"BLPOP", key, "1.5"});
        if (reply == "*-1\r\n") continue;
        const std::string element = PoppedElement(reply);
        std::lock_guard<std::mutex> lock(mu);
        if (element.empty()) {
          failures.push_back(absl::StrCat("waiter ", w, ": ", reply));
          return;
        }
        popped.push_back(element);
        count.fetch_add(1);
      }
    });
  }
  for (int p = 0; p < kPushers; ++p) {
    threads.emplace_back([&, p] {
      RespClient client(cluster().redis_port(1 + p));
      for (int i = 0; i < kEach; ++i) {
        const std::string key = i % 2 == 0 ? "a-jobs" : "z-jobs";
        const std::string reply =
            CallSlow(client, {i % 3 == 0 ? "LPUSH" : "RPUSH", key, absl::StrCat(p, "-", i)});
        if (reply.empty() || reply[0] != ':') {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(absl::StrCat("pusher ", p, ": ", reply));
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.front();
  std::map<std::string, int> seen;
  for (const std::string& element : popped) ++seen[element];
  for (int p = 0; p < kPushers; ++p) {
    for (int i = 0; i < kEach; ++i) {
      const std::string element = absl::StrCat(p, "-", i);
      EXPECT_EQ(seen[element], 1) << element << " popped " << seen[element] << " times";
    }
  }
  EXPECT_EQ(popped.size(), static_cast<size_t>(kTotal));
  RespClient reader(cluster().redis_port(1));
  EXPECT_EQ(CallSlow(reader, {"EXISTS", "a-jobs", "z-jobs"}), ":0\r\n");
}

// XREAD and XREADGROUP ... BLOCK on one node are woken by an XADD through another (the
// same key-ready notice as the pops'); XREAD's `$` is the last id when it blocked.
TEST_F(RedisBlockingTest, StreamReadersOnTwoNodesAreWokenByAnXaddOnAThird) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  RespClient reader(cluster().redis_port(2));
  RespClient observer2(cluster().redis_port(2));
  RespClient group_reader(cluster().redis_port(1));
  RespClient observer1(cluster().redis_port(1));
  RespClient writer(cluster().redis_port(3));
  for (const std::string key : {"a-stream", "z-stream"}) {  // one key in each group
    EXPECT_EQ(CallSlow(writer, {"XADD", key, "1-0", "f", "old"}), "$3\r\n1-0\r\n");
    EXPECT_EQ(CallSlow(writer, {"XGROUP", "CREATE", key, "g", "$"}), "+OK\r\n");
    ASSERT_TRUE(reader.Send({"XREAD", "BLOCK", "0", "STREAMS", key, "$"}));
    ASSERT_TRUE(
        group_reader.Send({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", key, ">"}));
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while ((BlockedClients(observer2) != 1 || BlockedClients(observer1) != 1) &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(BlockedClients(observer2), 1) << "the XREAD on n2 never blocked; it answered "
                                            << reader.ReadReply(std::chrono::milliseconds(100));
    ASSERT_EQ(BlockedClients(observer1), 1)
        << "the XREADGROUP on n1 never blocked; it answered "
        << group_reader.ReadReply(std::chrono::milliseconds(100));
    EXPECT_EQ(CallSlow(writer, {"XADD", key, "2-0", "f", "new"}), "$3\r\n2-0\r\n");
    const std::string want = absl::StrCat(
        "*1\r\n*2\r\n$8\r\n", key, "\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$3\r\nnew\r\n");
    EXPECT_EQ(reader.ReadReply(std::chrono::seconds(60)), want);
    EXPECT_EQ(group_reader.ReadReply(std::chrono::seconds(60)), want);
    EXPECT_EQ(CallSlow(observer1, {"XPENDING", key, "g"}),
              "*4\r\n:1\r\n$3\r\n2-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n");
  }
  // Over both groups: a read of both streams, and a reader blocked on both (`$` read per
  // key) woken by an XADD to one.
  auto entry = [](const std::string& key, const std::string& id, const std::string& value) {
    return absl::StrCat("*2\r\n$8\r\n", key, "\r\n*1\r\n*2\r\n$3\r\n", id, "\r\n*2\r\n$1\r\nf\r\n$",
                        value.size(), "\r\n", value, "\r\n");
  };
  EXPECT_EQ(
      CallSlow(observer2, {"XREAD", "COUNT", "1", "STREAMS", "a-stream", "z-stream", "0", "0"}),
      absl::StrCat("*2\r\n", entry("a-stream", "1-0", "old"), entry("z-stream", "1-0", "old")));
  ASSERT_TRUE(reader.Send({"XREAD", "BLOCK", "0", "STREAMS", "a-stream", "z-stream", "$", "$"}));
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (BlockedClients(observer2) != 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(BlockedClients(observer2), 1)
      << "the XREAD of two groups' streams never blocked; it answered "
      << reader.ReadReply(std::chrono::milliseconds(100));
  EXPECT_EQ(CallSlow(writer, {"XADD", "z-stream", "3-0", "f", "last"}), "$3\r\n3-0\r\n");
  EXPECT_EQ(reader.ReadReply(std::chrono::seconds(60)),
            absl::StrCat("*1\r\n", entry("z-stream", "3-0", "last")));
}

}  // namespace
}  // namespace ekv::integration
