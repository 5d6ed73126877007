// Redis scripting through real clients on a 3-node cluster (redis_lua_session.py, Debian's
// python3-redis): 20 concurrent clients run an INCR+LPUSH script through all three nodes
// and nothing is lost; the per-node script cache; register_script; EVAL_RO; keys in another
// group. /usr/bin/python3 with the redis module is required: without it the test fails.
// Redis 7 functions (3 nodes, two groups): a library loaded through one node is called
// through another at once, a replacement and a delete are seen everywhere at once, FLUSHALL
// leaves functions alone, and libraries survive a restart of every node
// (functions_registry.h: one replicated record, read linearizably by FCALL).
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"
#include "tests/integration/redis_calls.h"
#include "tests/integration/redis_cluster_fixture.h"
#include "tests/redis/resp_client.h"

namespace ekv::integration {
namespace {

class RedisLuaTest : public ClusterTest {};

TEST_F(RedisLuaTest, ConcurrentScriptsThroughThreeNodesLoseNothing) {
  int status = 0;
  const std::string probe = RunShell("/usr/bin/python3 -c 'import redis'", &status);
  ASSERT_EQ(status, 0) << "python3-redis is required (scripts/install-deps.sh): " << probe;
  ClusterOptions options;
  options.nodes = 3;
  options.redis = true;
  options.request_timeout_ms = 5000;  // as the other Redis cluster tests: a loaded machine
  options.tick_ms = 50;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "a-warmup", "1").ok());
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "z-warmup", "1").ok());
  const std::string output =
      RunShell(absl::StrCat("timeout 600 /usr/bin/python3 ", EKV_REDIS_LUA_SESSION, " ",
                            cluster().redis_port(1), " ", cluster().redis_port(2), " ",
                            cluster().redis_port(3)),
               &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("redis lua session passed"), std::string::npos) << output;
}

using redis::testing::RespClient;

class RedisFunctionsTest : public RedisTwoGroupClusterTest {};

std::string Library(const std::string& hello) {
  return absl::StrCat(
      "#!lua name=lib\n"
      "redis.register_function('hello', function(keys, args) return '",
      hello,
      "' end)\n"
      "redis.register_function('setter', function(keys, args)\n"
      "  return redis.call('set', keys[1], args[1]) end)\n"
      "redis.register_function{function_name='getter', flags={'no-writes'},\n"
      "  callback=function(keys, args) return redis.call('get', keys[1]) end}\n");
}

// The reply to `args` through `port` once the node serves it (a restarted cluster answers
// TRYAGAIN or nothing until its groups have leaders), within 120 s.
std::string CallOnceServing(int port, const std::vector<std::string>& args) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::string reply;
  while (std::chrono::steady_clock::now() < deadline) {
    RespClient client(port);
    if (client.connected()) {
      reply = CallSlow(client, args);
      if (!reply.empty() && !absl::StartsWith(reply, "-TRYAGAIN") && reply != "<send failed>") {
        return reply;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return reply;
}

TEST_F(RedisFunctionsTest, LoadOnOneNodeCallOnAnotherDeleteAndRestart) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  RespClient n1(cluster().redis_port(1));
  RespClient n2(cluster().redis_port(2));
  RespClient n3(cluster().redis_port(3));
  ASSERT_TRUE(n1.connected() && n2.connected() && n3.connected());

  EXPECT_EQ(CallSlow(n1, {"FUNCTION", "LOAD", Library("v1")}), "$3\r\nlib\r\n");
  // At once through the other nodes, keyless and on keys of both groups.
  EXPECT_EQ(CallSlow(n2, {"FCALL", "hello", "0"}), "$2\r\nv1\r\n");
  EXPECT_EQ(CallSlow(n2, {"FCALL", "setter", "1", "alpha", "a"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n3, {"FCALL", "setter", "1", "zulu", "z"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n3, {"FCALL_RO", "getter", "1", "alpha"}), "$1\r\na\r\n");
  EXPECT_EQ(CallSlow(n1, {"FCALL", "getter", "1", "zulu"}), "$1\r\nz\r\n");
  EXPECT_EQ(CallSlow(n2, {"FCALL_RO", "setter", "1", "zulu", "x"}),
            "-ERR Can not execute a script with write flag using *_ro command.\r\n");
  EXPECT_EQ(CallSlow(n3, {"FUNCTION", "LOAD", Library("v1")}),
            "-ERR Library 'lib' already exists\r\n");

  // A replacement through node 2 is what node 3 runs next.
  EXPECT_EQ(CallSlow(n2, {"FUNCTION", "LOAD", "REPLACE", Library("v2")}), "$3\r\nlib\r\n");
  EXPECT_EQ(CallSlow(n3, {"FCALL", "hello", "0"}), "$2\r\nv2\r\n");
  EXPECT_EQ(CallSlow(n1, {"FCALL", "hello", "0"}), "$2\r\nv2\r\n");

  // FLUSHALL deletes keys, not functions.
  EXPECT_EQ(CallSlow(n1, {"FLUSHALL"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n2, {"FCALL", "getter", "1", "alpha"}), "$-1\r\n");
  EXPECT_EQ(CallSlow(n3, {"FCALL", "hello", "0"}), "$2\r\nv2\r\n");
  EXPECT_EQ(CallSlow(n3, {"KEYS", "*"}), "*0\r\n");

  // A delete through node 3: "Function not found" everywhere at once.
  EXPECT_EQ(CallSlow(n3, {"FUNCTION", "DELETE", "lib"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n1, {"FCALL", "hello", "0"}), "-ERR Function not found\r\n");
  EXPECT_EQ(CallSlow(n2, {"FCALL", "hello", "0"}), "-ERR Function not found\r\n");
  EXPECT_EQ(CallSlow(n2, {"FUNCTION", "LIST"}), "*0\r\n");

  // Loaded again, then every node restarts: the library is still there.
  EXPECT_EQ(CallSlow(n1, {"FUNCTION", "LOAD", Library("v3")}), "$3\r\nlib\r\n");
  for (int i = 1; i <= 3; ++i) cluster().Kill(i);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(cluster().StartNode(i).ok()) << i;
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(cluster().WaitServing(i).ok()) << i;
  EXPECT_EQ(CallOnceServing(cluster().redis_port(2), {"FCALL", "hello", "0"}), "$2\r\nv3\r\n");
  EXPECT_EQ(CallOnceServing(cluster().redis_port(3), {"FUNCTION", "LIST", "LIBRARYNAME", "l*"}),
            CallOnceServing(cluster().redis_port(1), {"FUNCTION", "LIST", "LIBRARYNAME", "l*"}));
  EXPECT_EQ(
      CallOnceServing(cluster().redis_port(3), {"FUNCTION", "STATS"}),
      "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\n"
      "libraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:3\r\n");

  // Concurrent loads through the three nodes: each registry change is decided against the
  // one it replaces (ekv-functions-cas), so none is lost.
  std::vector<std::thread> loaders;
  std::vector<std::string> replies(12);
  for (int t = 0; t < 3; ++t) {
    loaders.emplace_back([this, t, &replies] {
      RespClient client(cluster().redis_port(1 + t));
      for (int i = 0; i < 4; ++i) {
        const std::string name = absl::StrCat("c", t, "_", i);
        replies[t * 4 + i] =
            CallSlow(client, {"FUNCTION", "LOAD",
                              absl::StrCat("#!lua name=", name, "\nredis.register_function('f",
                                           name, "', function() return '", name, "' end)")});
      }
    });
  }
  for (std::thread& loader : loaders) loader.join();
  for (int k = 0; k < 12; ++k) {
    const std::string name = absl::StrCat("c", k / 4, "_", k % 4);
    EXPECT_EQ(replies[k], absl::StrCat("$", name.size(), "\r\n", name, "\r\n"));
    RespClient client(cluster().redis_port(1 + k % 3));
    EXPECT_EQ(CallSlow(client, {"FCALL", "f" + name, "0"}),
              absl::StrCat("$", name.size(), "\r\n", name, "\r\n"));
  }
  RespClient stats(cluster().redis_port(1));
  EXPECT_EQ(CallSlow(stats, {"FUNCTION", "STATS"}),
            "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n"
            "$15\r\nlibraries_count\r\n:13\r\n$15\r\nfunctions_count\r\n:15\r\n");
}

}  // namespace
}  // namespace ekv::integration
