// The connection, server, auth, protocol-limit and pub/sub replies of ekv's Redis front
// door (RedisServer over a fake backend) against a real redis-server 7.0: the same bytes
// go to both, over the same number of connections, and every reply must be byte-identical
// (a few, such as HELLO's connection id, are compared with that field masked). Needs
// /usr/bin/redis-server (Debian redis-server, scripts/install-deps.sh): without it the
// test fails rather than skips.
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/redis_server.h"
#include "gtest/gtest.h"
#include "tests/redis/fake_backend.h"
#include "tests/redis/real_redis.h"
#include "tests/redis/resp_client.h"

namespace ekv::redis {
namespace {

using testing::EncodeCommand;
using testing::RealRedis;
using testing::RespClient;

// One step: bytes to send on connection `conn` (none: only read), then `replies` replies
// to read. `mask` replaces what differs by design (connection ids); `closes` expects the
// server to close that connection after the replies.
struct Step {
  int conn = 0;
  std::string bytes;
  int replies = 1;
  bool closes = false;
};

Step On(int conn, std::vector<std::string> args, int replies = 1) {
  return {conn, EncodeCommand(args), replies, false};
}
Step Cmd(std::vector<std::string> args, int replies = 1) { return On(0, std::move(args), replies); }
Step Read(int conn, int replies = 1) { return {conn, "", replies, false}; }
Step Raw(int conn, std::string bytes, bool closes) { return {conn, std::move(bytes), 1, closes}; }

// HELLO's id and CLIENT ID are connection numbers, which depend on how many connections
// each server has seen.
std::string Mask(std::string reply) {
  static const std::regex kHelloId("(\\$2\r\nid\r\n):[0-9]+\r\n");
  return std::regex_replace(reply, kHelloId, "$1:<id>\r\n");
}

std::vector<std::string> RunScript(int port, const std::vector<Step>& script) {
  std::vector<std::unique_ptr<RespClient>> clients;
  std::vector<std::string> transcript;
  for (const Step& step : script) {
    while (static_cast<int>(clients.size()) <= step.conn) {
      clients.push_back(std::make_unique<RespClient>(port));
    }
    RespClient& client = *clients[step.conn];
    std::string replies;
    if (!step.bytes.empty() && !client.SendRaw(step.bytes)) replies = "<send failed>";
    for (int i = 0; i < step.replies; ++i) {
      std::string reply = client.ReadReply(std::chrono::seconds(20));
      replies += reply.empty() ? "<no reply>" : Mask(std::move(reply));
    }
    if (step.closes) replies += client.ClosedByServer() ? "<closed>" : "<still open>";
    transcript.push_back(std::move(replies));
  }
  return transcript;
}

class DifferentialTest : public ::testing::Test {
 protected:
  // Runs `script` against a real redis-server and ekv, both started with `password` as
  // requirepass (empty: none), and compares every step.
  void Compare(const std::vector<Step>& script, const std::string& password = "") {
    std::vector<std::string> extra;
    if (!password.empty()) extra = {"--requirepass", password};
    RealRedis redis(extra);
    ASSERT_TRUE(redis.WaitReady()) << "redis-server (Debian package redis-server) must run";
    FakeBackend backend;
    RedisServerOptions options;
    options.address = "127.0.0.1:0";
    options.settings.requirepass = password;
    RedisServer ekv(options, &backend);
    ASSERT_TRUE(ekv.Start().ok());
    const std::vector<std::string> want = RunScript(redis.port(), script);
    const std::vector<std::string> got = RunScript(ekv.port(), script);
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i], want[i]) << "step " << i << " on connection " << script[i].conn
                                 << ": sent '" << absl::CEscape(script[i].bytes) << "'";
    }
  }
};

TEST_F(DifferentialTest, UnknownCommandsArityAndSubcommands) {
  const std::string long_arg(200, 'q');
  Compare({
      Cmd({"foo"}),
      Cmd({"foo", "a", "b"}),
      Cmd({"FOO", long_arg, long_arg}),
      Cmd({"foo", std::string("a\0b", 3), "c"}),
      Cmd({long_arg}),
      Cmd({"CLIENT"}),
      Cmd({"CLIENT", "x"}),
      Cmd({"client", "bogus", "a"}),
      Cmd({"CONFIG"}),
      Cmd({"CONFIG", "x"}),
      Cmd({"PUBSUB"}),
      Cmd({"PUBSUB", "x"}),
      Cmd({"PUBSUB", "channels", "a", "b"}),
      Cmd({"PUBSUB", "numpat", "a"}),
      Cmd({"PUBSUB", "help", "a"}),
      Cmd({"CLIENT", "SETNAME"}),
      Cmd({"CLIENT", "ID", "x"}),
      Cmd({"CLIENT", "GETNAME", "x"}),
      Cmd({"CONFIG", "GET"}),
      Cmd({"CONFIG", "SET", "timeout"}),
      Cmd({"CONFIG", "RESETSTAT", "x"}),
      Cmd({"TIME", "x"}),
      Cmd({"RESET", "x"}),
      Cmd({"AUTH"}),
      Cmd({"PUBLISH", "a"}),
      Cmd({"SUBSCRIBE"}),
      Cmd({"PSUBSCRIBE"}),
      Cmd({"CLIENT", "KILL"}),
      Cmd({"COMMAND", "GETKEYS", "get", "a"}),
      Cmd({"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"}),
      Cmd({"COMMAND", "GETKEYS", "del", "a", "b", "c"}),
      Cmd({"COMMAND", "GETKEYS", "get"}),
      Cmd({"COMMAND", "GETKEYS", "foo", "a"}),
      Cmd({"COMMAND", "GETKEYS", "get", "a", "b"}),
      Cmd({"COMMAND", "GETKEYS", "set", "a"}),
      Cmd({"COMMAND", "GETKEYS", "echo", "x"}),
      Cmd({"COMMAND", "GETKEYS", "ping", "x"}),
  });
}

TEST_F(DifferentialTest, ClientConfigAuthWithoutPassword) {
  Compare({
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "SETNAME", "worker-1"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "SETNAME", "bad name"}),
      Cmd({"CLIENT", "SETNAME", "bad\nname"}),
      Cmd({"CLIENT", "SETNAME", ""}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "NO-EVICT", "on"}),
      Cmd({"CLIENT", "NO-EVICT", "maybe"}),
      Cmd({"CLIENT", "KILL", "ID", "999999"}),
      Cmd({"CLIENT", "KILL", "1.2.3.4:5"}),
      Cmd({"CLIENT", "KILL", "ID", "x"}),
      Cmd({"CLIENT", "KILL", "ID", "0"}),
      Cmd({"CLIENT", "KILL", "foo", "bar"}),
      Cmd({"CLIENT", "KILL", "ADDR", "1.2.3.4:5"}),
      Cmd({"CLIENT", "KILL", "ID", "1", "SKIPME"}),
      Cmd({"CLIENT", "LIST", "TYPE", "x"}),
      Cmd({"CLIENT", "LIST", "ID", "x"}),
      Cmd({"CLIENT", "LIST", "TYPE", "master"}),
      Cmd({"CONFIG", "GET", "maxclients"}),
      Cmd({"CONFIG", "GET", "timeout"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      Cmd({"CONFIG", "GET", "save"}),
      Cmd({"CONFIG", "GET", "appendonly"}),
      Cmd({"CONFIG", "GET", "requirepass"}),
      Cmd({"config", "get", "nosuch"}),
      Cmd({"CONFIG", "GET", "MAXCLIENTS"}),
      Cmd({"CONFIG", "SET", "foo", "1"}),
      Cmd({"CONFIG", "SET", "maxclients", "abc"}),
      Cmd({"CONFIG", "SET", "timeout", "0"}),
      Cmd({"CONFIG", "SET", "maxclients", "10000"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "abc"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "1000"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "2mb"}),
      Cmd({"CONFIG", "GET", "proto-max-bulk-len"}),
      Cmd({"CONFIG", "SET", "proto-max-bulk-len", "512MB"}),
      Cmd({"CONFIG", "GET", "proto-max*"}),
      Cmd({"CONFIG", "RESETSTAT"}),
      Cmd({"AUTH", "x"}),
      Cmd({"AUTH", "a", "b"}),
      Cmd({"AUTH", "default", "anything"}),
      Cmd({"AUTH", "x", "y", "z"}),
      Cmd({"HELLO", "2", "AUTH", "default", "x"}),
      Cmd({"HELLO", "3", "SETNAME", "n3"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "NO-EVICT", "off"}),
      Cmd({"HELLO", "2", "AUTH", "nobody", "x"}),
      Cmd({"HELLO", "2", "SETNAME", "a b"}),
      Cmd({"SELECT", "0"}),
      Cmd({"RESET"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"QUIT"}),
  });
}

TEST_F(DifferentialTest, RequirePass) {
  Compare(
      {
          Cmd({"foo", "a"}),
          Cmd({"GET"}),
          Cmd({"GET", "a"}),
          Cmd({"PING"}),
          Cmd({"CLIENT", "ID"}),
          Cmd({"SUBSCRIBE", "a"}),
          Cmd({"HELLO", "3"}),
          Cmd({"HELLO", "3", "AUTH", "default", "bad"}),
          Cmd({"AUTH", "bad"}),
          Cmd({"AUTH", "default", "bad"}),
          Cmd({"AUTH", "someone", "sekret"}),
          Cmd({"AUTH", "x", "y", "z"}),
          Cmd({"AUTH", "sekret"}),
          Cmd({"GET", "a"}),
          Cmd({"RESET"}),
          Cmd({"GET", "a"}),
          Cmd({"HELLO", "2", "AUTH", "default", "sekret"}),
          Cmd({"GET", "a"}),
          Cmd({"RESET"}),
          Cmd({"AUTH", "default", "sekret"}),
          Cmd({"PING"}),
          // Before AUTH, Redis bounds a request: at most 10 arguments of 16 KB.
          Raw(1, "*11\r\n", true),
          Raw(2, "*2\r\n$16385\r\n", true),
          Raw(3, EncodeCommand({"AUTH", "sekret"}) + "*11\r\n", false),
          On(4, {"QUIT"}),
      },
      "sekret");
}

TEST_F(DifferentialTest, ProtocolErrorsAndLimits) {
  Compare({
      Cmd({"PING"}),
      Raw(0, "*2\r\n$536870913\r\n", true),
      Raw(1, "*2147483648\r\n", true),
      Raw(2, "*1\r\n$-5\r\n", true),
      Raw(3, "*1\r\nfoo\r\n", true),
      Raw(4, "PING \"a\r\n", true),
      Raw(5, "*abc\r\n", true),
      Raw(6, "PING\r\nECHO 'x'y\r\n", false),
  });
}

TEST_F(DifferentialTest, PubSubResp2) {
  Compare({
      Cmd({"SUBSCRIBE", "news", "sport"}, 2),
      Cmd({"GET", "x"}),
      Cmd({"GET"}),
      Cmd({"foo"}),
      Cmd({"HELLO", "2"}),
      Cmd({"PING"}),
      Cmd({"PING", "x"}),
      Cmd({"SUBSCRIBE", "news"}),
      On(1, {"PUBLISH", "news", "hello"}),
      Read(0),
      Cmd({"PSUBSCRIBE", "n*", "s?ort", "[xy]ews"}, 3),
      // One matching pattern: Redis 7.0 orders several by its hash table.
      On(1, {"PUBLISH", "news", "two"}),
      Read(0, 2),
      On(1, {"PUBLISH", "nothing", "three"}),
      Read(0),
      On(1, {"PUBLISH", "nobody", ""}),
      Read(0),
      On(1, {"PUBSUB", "CHANNELS", "n*"}),
      On(1, {"PUBSUB", "NUMSUB", "news", "sport", "none"}),
      On(1, {"PUBSUB", "NUMSUB"}),
      On(1, {"PUBSUB", "NUMPAT"}),
      On(1, {"PUBSUB", "SHARDCHANNELS"}),
      On(1, {"PUBSUB", "SHARDNUMSUB", "news"}),
      Cmd({"UNSUBSCRIBE", "news", "never"}, 2),
      Cmd({"PUNSUBSCRIBE", "n*"}),
      On(1, {"PUBLISH", "sport", "four"}),
      Read(0, 2),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE", "s?ort"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"GET", "x"}),
      Cmd({"SUBSCRIBE", "again"}),
      Cmd({"RESET"}),
      Cmd({"GET", "x"}),
      On(1, {"PUBLISH", "again", "nobody"}),
      On(2, {"SUBSCRIBE", "bye"}),
      On(2, {"QUIT"}),
      On(1, {"PUBSUB", "NUMSUB", "bye"}),
  });
}

TEST_F(DifferentialTest, ServerCommandsResp3) {
  Compare({
      Cmd({"HELLO", "3"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"CLIENT", "SETNAME", "r3"}),
      Cmd({"CLIENT", "GETNAME"}),
      Cmd({"INFO", "nosuch"}),
      Cmd({"CLIENT", "LIST", "TYPE", "master"}),
      Cmd({"CONFIG", "GET", "maxclients"}),
      Cmd({"CONFIG", "GET", "nosuch"}),
      Cmd({"CONFIG", "SET", "foo", "1"}),
      Cmd({"PUBSUB", "NUMSUB", "a"}),
      Cmd({"PUBSUB", "CHANNELS"}),
      Cmd({"COMMAND", "GETKEYS", "get", "a"}),
      Cmd({"AUTH", "x"}),
      Cmd({"foo", "bar"}),
      Cmd({"CLIENT", "x"}),
      Cmd({"RESET"}),
      Cmd({"CLIENT", "GETNAME"}),
  });
}

TEST_F(DifferentialTest, PubSubResp3) {
  Compare({
      Cmd({"HELLO", "3"}),
      Cmd({"SUBSCRIBE", "news"}),
      Cmd({"GET", "x"}),
      Cmd({"PING"}),
      On(1, {"PUBLISH", "news", "hello"}),
      Read(0),
      Cmd({"PSUBSCRIBE", "ne*"}),
      On(1, {"PUBLISH", "news", "both"}),
      Read(0, 2),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"UNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"PUNSUBSCRIBE"}),
      Cmd({"HELLO", "2"}),
      Cmd({"UNSUBSCRIBE"}),
  });
}

}  // namespace
}  // namespace ekv::redis
