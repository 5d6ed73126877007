// Pub/sub and server commands without sockets (PubSubHub, GlobMatch, the handlers against
// FakeServerControl), and over real sockets the parts only the server has: max clients,
// the subscriber output limit, CLIENT KILL, deliveries from other nodes and PUBLISH's
// fan-out to them.
#include <sys/socket.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/redis/command_table.h"
#include "adapters/redis/keyspace_notifier.h"
#include "adapters/redis/pubsub_hub.h"
#include "adapters/redis/redis_server.h"
#include "gtest/gtest.h"
#include "tests/redis/fake_backend.h"
#include "tests/redis/fake_server_control.h"
#include "tests/redis/resp_client.h"

namespace ekv::redis {
namespace {

using testing::EncodeCommand;
using testing::RespClient;

TEST(GlobMatchTest, RedisGlobSyntax) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("news.*", "news.sport"));
  EXPECT_FALSE(GlobMatch("news.*", "new"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-c]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("a**b*c", "aXbYc"));
  EXPECT_FALSE(GlobMatch(std::string(50, '*') + "x", std::string(200, 'a')));
}

TEST(PubSubHubTest, ChannelsThenPatternsAndEmptyEntriesDropped) {
  PubSubHub hub;
  hub.Add(2, "news", false);
  hub.Add(1, "news", false);
  hub.Add(1, "n*", true);
  hub.Add(3, "x*", true);
  std::vector<std::string> seen;
  EXPECT_EQ(hub.ForEachReceiver("news",
                                [&](uint64_t id, const std::string* pattern) {
                                  seen.push_back(absl::StrCat(id, pattern ? *pattern : ""));
                                }),
            3);
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "1n*"}));
  EXPECT_EQ(hub.Subscribers("news"), 2);
  hub.Remove(1, "news", false);
  hub.Remove(2, "news", false);
  EXPECT_TRUE(hub.Channels("").empty()) << "a channel without subscribers is gone";
  EXPECT_EQ(hub.Patterns(), 2);
}

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.id = 1;
    b_.id = 2;
    server_.Register(&a_);
    server_.Register(&b_);
  }
  std::string Run(ConnectionState& connection, std::vector<std::string> args) {
    std::string reply;
    int replies = 0;
    CommandTable::Default().Dispatch(std::move(args), &connection, &backend_, [&](std::string r) {
      reply = std::move(r);
      ++replies;
    });
    EXPECT_EQ(replies, 1);
    return reply;
  }
  FakeBackend backend_;
  FakeServerControl server_;
  ConnectionState a_, b_;
};

TEST_F(HandlerTest, PublishReachesChannelAndPatternSubscribersInTheirProtocol) {
  EXPECT_EQ(Run(a_, {"SUBSCRIBE", "news"}), "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
  b_.protocol = 3;
  EXPECT_EQ(Run(b_, {"PSUBSCRIBE", "n*"}), ">3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n");
  EXPECT_EQ(Run(b_, {"PUBLISH", "news", "hi"}), ":2\r\n");
  ASSERT_EQ(server_.delivered[1].size(), 1u);
  EXPECT_EQ(server_.delivered[1][0], "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  ASSERT_EQ(server_.delivered[2].size(), 1u);
  EXPECT_EQ(server_.delivered[2][0],
            ">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  EXPECT_EQ(Run(b_, {"GET", "k"}), "_\r\n") << "RESP3 subscribers may run any command";
  EXPECT_EQ(Run(a_, {"RESET"}), "+RESET\r\n");
  EXPECT_EQ(server_.ChannelSubscribers("news"), 0) << "RESET leaves every channel";
  EXPECT_EQ(Run(a_, {"GET", "k"}), "$-1\r\n");
}

TEST_F(HandlerTest, RequirePassAndClientKill) {
  EXPECT_EQ(Run(a_, {"CONFIG", "SET", "requirepass", "pw"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"GET", "k"}), "$-1\r\n") << "CONFIG SET does not log anyone out";
  EXPECT_EQ(Run(a_, {"RESET"}), "+RESET\r\n");
  EXPECT_EQ(Run(a_, {"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Run(a_, {"AUTH", "nope"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run(a_, {"AUTH", "pw"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"CLIENT", "KILL", "ID", "2"}), ":1\r\n");
  EXPECT_EQ(server_.killed, (std::set<uint64_t>{2}));
  EXPECT_EQ(Run(a_, {"CLIENT", "KILL", "ID", "1"}), ":0\r\n") << "SKIPME yes by default";
  EXPECT_EQ(Run(a_, {"CLIENT", "KILL", "ID", "1", "SKIPME", "no"}), ":1\r\n");
}

TEST_F(HandlerTest, InfoNamesRedisSections) {
  const std::string info = Run(a_, {"INFO"});
  for (const char* field :
       {"# Server\r\n", "redis_version:7.0.15\r\n", "# Clients\r\n", "connected_clients:2\r\n",
        "# Memory\r\n", "# Stats\r\n", "# Replication\r\n", "role:master\r\n", "# CPU\r\n",
        "# Keyspace\r\n"}) {
    EXPECT_NE(info.find(field), std::string::npos) << field << " missing in " << info;
  }
  const std::string clients = Run(a_, {"info", "CLIENTS"});
  EXPECT_EQ(clients.find("# Server"), std::string::npos) << clients;
  EXPECT_NE(clients.find("maxclients:10000\r\n"), std::string::npos) << clients;
  EXPECT_EQ(Run(a_, {"INFO", "nosuch"}), "$0\r\n\r\n");
}

// Fan-out stand-in: counts what it was asked to carry and answers `remote` receivers.
class FakeFanout final : public PubSubFanout {
 public:
  void PublishToPeers(std::string channel, std::string message,
                      std::function<void(int64_t)> done) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      messages.push_back(channel + " " + message);
      raw.emplace_back(channel, message);
    }
    carried.fetch_add(1);
    std::thread([done = std::move(done)] { done(5); }).detach();
  }
  // What subscribers get: not the blocked clients' internal key-ready notices.
  std::vector<std::string> Messages() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const std::string& m : messages) {
      if (m.empty() || m[0] != '\0') out.push_back(m);
    }
    return out;
  }
  // The messages carried on `channel`.
  std::vector<std::string> Carried(absl::string_view channel) {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& [c, m] : raw) {
      if (c == channel) out.push_back(m);
    }
    return out;
  }
  std::atomic<int> carried{0};
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> raw;  // (channel, message), guarded by mu
  std::vector<std::string> messages;                     // "channel message", guarded by mu
};

class ServerPubSubTest : public ::testing::Test {
 protected:
  void Start(RedisServerOptions options) {
    options.address = "127.0.0.1:0";
    server_ = std::make_unique<RedisServer>(options, &backend_);
    ASSERT_TRUE(server_->Start().ok());
  }
  FakeBackend backend_{/*async_mode=*/true};
  std::unique_ptr<RedisServer> server_;
};

TEST_F(ServerPubSubTest, PublishCountsPeersAndPeersDeliverHere) {
  FakeFanout fanout;
  RedisServerOptions options;
  options.fanout = &fanout;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  RespClient subscriber(server_->port()), publisher(server_->port());
  ASSERT_EQ(subscriber.Call({"SUBSCRIBE", "c"}), "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
  EXPECT_EQ(publisher.Call({"PUBLISH", "c", "local"}), ":6\r\n") << "1 here + 5 on peers";
  EXPECT_EQ(fanout.carried.load(), 1);
  EXPECT_EQ(subscriber.ReadReply(), "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$5\r\nlocal\r\n");
  std::promise<int64_t> delivered;
  server_->DeliverPublished("c", "from-n2", [&](int64_t n) { delivered.set_value(n); });
  EXPECT_EQ(delivered.get_future().get(), 1);
  EXPECT_EQ(subscriber.ReadReply(), "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$7\r\nfrom-n2\r\n");
  server_->Stop();
  std::promise<int64_t> after_stop;
  server_->DeliverPublished("c", "late", [&](int64_t n) { after_stop.set_value(n); });
  EXPECT_EQ(after_stop.get_future().get(), 0);
}

// Keyspace notifications go where PUBLISH goes: this node's subscribers and, through the
// fan-out, every other node's. A write's events (answered on the backend's thread) reach
// the fan-out before the writer has its reply; a write that changed nothing sends none.
TEST_F(ServerPubSubTest, KeyspaceEventsReachOtherNodesThroughTheFanout) {
  FakeFanout fanout;
  RedisServerOptions options;
  options.fanout = &fanout;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  RespClient subscriber(server_->port()), writer(server_->port());
  ASSERT_EQ(subscriber.Call({"SUBSCRIBE", "__keyspace@0__:jobs"}),
            "*3\r\n$9\r\nsubscribe\r\n$19\r\n__keyspace@0__:jobs\r\n:1\r\n");
  EXPECT_EQ(writer.Call({"LPUSH", "jobs", "a"}), ":1\r\n");
  EXPECT_EQ(fanout.Carried(kNotificationsChannel).size(), 0u) << "off by default";
  EXPECT_EQ(writer.Call({"CONFIG", "SET", "notify-keyspace-events", "KEl"}), "+OK\r\n");
  EXPECT_EQ(writer.Call({"LPUSH", "jobs", "b"}), ":2\r\n");
  // Both notifications travel to the peers as one message on the internal channel, never
  // as subscriber-visible publishes.
  const std::vector<Notification> want = {{"__keyspace@0__:jobs", "lpush"},
                                          {"__keyevent@0__:lpush", "jobs"}};
  EXPECT_EQ(fanout.Carried(kNotificationsChannel),
            std::vector<std::string>{EncodeNotifications(want)});
  EXPECT_EQ(fanout.Messages(), std::vector<std::string>{});
  EXPECT_EQ(subscriber.ReadReply(),
            "*3\r\n$7\r\nmessage\r\n$19\r\n__keyspace@0__:jobs\r\n$5\r\nlpush\r\n");
  EXPECT_EQ(writer.Call({"LREM", "jobs", "0", "nothere"}), ":0\r\n");
  EXPECT_EQ(writer.Call({"SET", "s", "1"}), "+OK\r\n");  // class $ is off
  EXPECT_EQ(fanout.Carried(kNotificationsChannel).size(), 1u);
  // Another node's notifications reach this node's subscribers, each pair as a message.
  std::promise<int64_t> delivered;
  server_->DeliverPublished(
      std::string(kNotificationsChannel),
      EncodeNotifications({{"__keyspace@0__:jobs", "rpop"}, {"__keyevent@0__:rpop", "jobs"}}),
      [&](int64_t n) { delivered.set_value(n); });
  EXPECT_EQ(delivered.get_future().get(), 1);
  EXPECT_EQ(subscriber.ReadReply(),
            "*3\r\n$7\r\nmessage\r\n$19\r\n__keyspace@0__:jobs\r\n$4\r\nrpop\r\n");
  server_->Stop();
}

TEST_F(ServerPubSubTest, MaxClientsAndClientKill) {
  RedisServerOptions options;
  options.settings.maxclients = 2;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  RespClient first(server_->port()), second(server_->port());
  ASSERT_EQ(first.Call({"CLIENT", "ID"}), ":1\r\n");
  ASSERT_EQ(second.Call({"PING"}), "+PONG\r\n");
  RespClient third(server_->port());
  EXPECT_EQ(third.ReadReply(), "-ERR max number of clients reached\r\n");
  EXPECT_TRUE(third.ClosedByServer());
  EXPECT_EQ(first.Call({"CLIENT", "KILL", "ID", "2"}), ":1\r\n");
  EXPECT_TRUE(second.ClosedByServer());
  const std::string list = first.Call({"CLIENT", "LIST"});
  EXPECT_NE(list.find("id=1 addr=127.0.0.1:"), std::string::npos) << list;
  EXPECT_EQ(list.find("id=2 "), std::string::npos) << list;
}

// CLIENT INFO/LIST as Redis 7.0 fills qbuf= (the running command's bytes: 26 for CLIENT
// INFO, the figure Redis's own suite expects) and multi= (commands queued, -1 outside MULTI).
TEST_F(ServerPubSubTest, ClientListShowsTheQueryBufferAndQueuedCommands) {
  ASSERT_NO_FATAL_FAILURE(Start(RedisServerOptions{}));
  RespClient caller(server_->port()), queuing(server_->port());
  const std::string info = caller.Call({"CLIENT", "INFO"});
  EXPECT_NE(info.find(" multi=-1 qbuf=26 qbuf-free="), std::string::npos) << info;
  ASSERT_EQ(queuing.Call({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(queuing.Call({"SET", "a", "1"}), "+QUEUED\r\n");
  ASSERT_EQ(queuing.Call({"INCR", "b"}), "+QUEUED\r\n");
  const std::string list = caller.Call({"CLIENT", "LIST"});
  const std::string queuing_id = queuing.Call({"CLIENT", "ID"});  // queued too: not an id yet
  EXPECT_EQ(queuing_id, "+QUEUED\r\n");
  EXPECT_NE(list.find(" multi=2 qbuf=0 "), std::string::npos) << list;
  EXPECT_NE(list.find(" multi=-1 qbuf=26 "), std::string::npos) << list;
  ASSERT_EQ(queuing.Call({"DISCARD"}), "+OK\r\n");
}

TEST_F(ServerPubSubTest, SubscriberThatDoesNotReadIsDisconnected) {
  RedisServerOptions options;
  options.settings.pubsub_output_limit_bytes = 256 * 1024;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  RespClient slow(server_->port()), publisher(server_->port());
  const int small = 4096;
  setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_EQ(slow.Call({"SUBSCRIBE", "c"}), "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
  const std::string payload(64 * 1024, 'x');
  // Socket buffers absorb some megabytes; past them the unread output passes the limit.
  int64_t receivers = 1;
  for (int i = 0; i < 2000 && receivers > 0; ++i) {
    const std::string reply = publisher.Call({"PUBLISH", "c", payload});
    ASSERT_FALSE(reply.empty()) << "PUBLISH " << i << " got no reply";
    receivers = std::stoll(reply.substr(1));
  }
  EXPECT_EQ(receivers, 0) << "the slow subscriber was never disconnected";
  EXPECT_EQ(publisher.Call({"PUBSUB", "NUMSUB", "c"}), "*2\r\n$1\r\nc\r\n:0\r\n");
}

}  // namespace
}  // namespace ekv::redis
