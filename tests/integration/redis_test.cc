// The Redis front door on real ekv-server processes: the REFERENCE §1 quickstart through
// the real redis-cli, pipelining, and a differential test that sends the same command
// scripts to a real redis-server and to ekv and compares the replies byte for byte.
// redis-cli and redis-server (Debian: redis-tools, redis-server; scripts/install-deps.sh)
// are required: without them these tests fail rather than skip.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"
#include "tests/integration/redis_calls.h"
#include "tests/redis/real_redis.h"
#include "tests/redis/resp_client.h"

namespace ekv::integration {
namespace {

using redis::testing::EncodeCommand;
using redis::testing::RespClient;
using Clock = std::chrono::steady_clock;

// Absolute path of a program on PATH, or "".
std::string FindProgram(const std::string& name) {
  std::string path;
  FILE* pipe = popen(("command -v " + name + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) path += buffer;
  pclose(pipe);
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  return path;
}

class RedisClusterTest : public ClusterTest {
 protected:
  void StartRedisCluster(int nodes) {
    ClusterOptions options;
    options.nodes = nodes;
    options.redis = true;
    // The server's default: a loaded CI machine can take the harness's 2 s for one write.
    options.request_timeout_ms = 5000;
    // And its Raft timing (50 ms ticks): the harness's 20 ms ticks make a loaded CI machine
    // hold spurious elections, and a leader change answers writes in flight "outcome
    // unknown", which these tests (no faults injected) would count as failures.
    options.tick_ms = 50;
    ASSERT_NO_FATAL_FAILURE(StartCluster(options));
    // Both groups have a leader before the first Redis command.
    ASSERT_TRUE(RawPutEventually(cluster(), 1, "a-warmup", "1").ok());
    ASSERT_TRUE(RawPutEventually(cluster(), 1, "z-warmup", "1").ok());
  }
};

TEST_F(RedisClusterTest, ReferenceQuickstartThroughRedisCli) {
  const std::string redis_cli = FindProgram("redis-cli");
  ASSERT_FALSE(redis_cli.empty()) << "redis-cli is required (scripts/install-deps.sh)";
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  // REFERENCE §1 verbatim, with the demo's ports 63791-63793 replaced by this cluster's.
  auto run = [&](std::string line) {
    for (int node = 1; node <= 3; ++node) {
      line = absl::StrReplaceAll(
          line, {{absl::StrCat("-p 6379", node), absl::StrCat("-p ", cluster().redis_port(node))}});
    }
    return RunShell(line);
  };
  EXPECT_EQ(run("redis-cli -p 63791 set key value ; redis-cli -p 63791 get key"), "OK\nvalue\n");
  EXPECT_EQ(run("redis-cli -p 63792 get key"), "value\n");
  EXPECT_EQ(run("redis-cli -p 63792 set bbbb 1234"), "OK\n");
  EXPECT_EQ(run("redis-cli -p 63793 get bbbb ; redis-cli -p 63791 get bbbb"), "1234\n1234\n");
  // Same keyspace as RawKV: what redis-cli wrote, gRPC reads, and the other way round.
  ReadResult got = RawGet(cluster(), 3, "key");
  ASSERT_TRUE(got.status.ok()) << Describe(got.status);
  EXPECT_TRUE(got.exists);
  EXPECT_EQ(got.value, "value");
  ASSERT_TRUE(RawPut(cluster(), 2, "zeta", "from grpc").ok());
  EXPECT_EQ(run("redis-cli -p 63793 get zeta"), "from grpc\n");
  // Multi-key commands across both groups ("a..." on group 1, "z..." on group 2).
  EXPECT_EQ(run("redis-cli -p 63791 mset apple 1 zebra 2"), "OK\n");
  EXPECT_EQ(run("redis-cli -p 63792 mget apple zebra nokey"), "1\n2\n\n");
  EXPECT_EQ(run("redis-cli -p 63793 exists apple zebra nokey"), "2\n");
  EXPECT_EQ(run("redis-cli -p 63793 del apple zebra nokey"), "2\n");
  EXPECT_EQ(run("redis-cli -p 63791 get apple"), "\n");
  // (redis-cli prints an error reply followed by an empty line when not on a terminal.)
  EXPECT_EQ(run("redis-cli -p 63791 set k v nx"), "OK\n");
  EXPECT_EQ(run("redis-cli -p 63792 set k w nx"), "\n");
  // A multi-key command that cannot be split, over keys in different groups: one
  // transaction over both (core/coord/coordinator_redis_cross.cc).
  EXPECT_EQ(run("redis-cli -p 63791 set apple 1 ; redis-cli -p 63791 rename apple zebra"),
            "OK\nOK\n");
  EXPECT_EQ(run("redis-cli -p 63792 get zebra ; redis-cli -p 63793 exists apple"), "1\n0\n");
  // Graceful shutdown with the Redis front door running: exit code 0.
  for (int node = 1; node <= 3; ++node) EXPECT_EQ(cluster().Terminate(node), 0) << "n" << node;
}

// 24 clients spread over 3 nodes INCR one counter and LPUSH one list (keys in different
// groups): each command is one Raft entry executed at apply time, so none is lost, none
// applies twice and every INCR sees a distinct value. A loaded machine may change a
// group's leader mid-run; a write caught in it is answered "-TRYAGAIN ... outcome
// unknown" (it may or may not have applied), so the checks bound what those may have done
// instead of assuming they failed.
TEST_F(RedisClusterTest, ConcurrentIncrAndLpushLoseNothing) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  constexpr int kClients = 24;
  constexpr int kEach = 30;
  std::mutex mu;
  std::vector<std::string> failures;     // guarded by mu
  std::vector<int64_t> counts;           // acknowledged INCR replies; guarded by mu
  int64_t unknown_incrs = 0;             // guarded by mu
  std::set<std::string> acked_pushes;    // guarded by mu
  std::set<std::string> unknown_pushes;  // guarded by mu
  std::vector<std::thread> threads;
  auto is_try_again = [](const std::string& reply) {
    return absl::StartsWith(reply, "-TRYAGAIN ");
  };
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      RespClient client(cluster().redis_port(1 + c % 3));
      for (int i = 0; i < kEach; ++i) {
        const std::string element = absl::StrCat(c, "-", i);
        const std::string incr = CallSlow(client, {"INCR", "a-counter"});
        const std::string push = CallSlow(client, {"LPUSH", "z-list", element});
        std::lock_guard<std::mutex> lock(mu);
        if (absl::StartsWith(incr, ":")) {
          counts.push_back(std::stoll(incr.substr(1)));
        } else if (is_try_again(incr)) {
          ++unknown_incrs;
        } else {
          failures.push_back(absl::StrCat("client ", c, " INCR: ", incr));
          return;
        }
        if (absl::StartsWith(push, ":")) {
          acked_pushes.insert(element);
        } else if (is_try_again(push)) {
          unknown_pushes.insert(element);
        } else {
          failures.push_back(absl::StrCat("client ", c, " LPUSH: ", push));
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.front();
  std::cout << "acknowledged INCRs " << counts.size() << ", unknown " << unknown_incrs
            << "; acknowledged LPUSHes " << acked_pushes.size() << ", unknown "
            << unknown_pushes.size() << "\n";
  ASSERT_FALSE(counts.empty()) << "no INCR was acknowledged";
  std::sort(counts.begin(), counts.end());
  for (size_t i = 1; i < counts.size(); ++i) {
    ASSERT_LT(counts[i - 1], counts[i]) << "two INCRs were answered the same value";
  }
  // The counter counts every applied INCR: all acknowledged ones, maybe some unknown ones.
  RespClient reader(cluster().redis_port(2));
  const std::string counter = CallSlow(reader, {"GET", "a-counter"});
  std::vector<std::string> counter_lines = absl::StrSplit(counter, "\r\n");
  ASSERT_EQ(counter_lines.size(), 3u) << counter;
  const int64_t applied = std::stoll(counter_lines[1]);
  const int64_t acked = static_cast<int64_t>(counts.size());
  EXPECT_GE(applied, acked) << "an acknowledged INCR was lost";
  EXPECT_LE(applied, acked + unknown_incrs) << "an INCR applied twice or out of nowhere";
  EXPECT_LE(counts.back(), applied) << "an INCR answered a value the counter never reached";
  // The list holds every acknowledged element once, and nothing that was never pushed.
  const std::string range = CallSlow(reader, {"LRANGE", "z-list", "0", "-1"});
  std::vector<std::string> lines = absl::StrSplit(range, "\r\n");
  ASSERT_TRUE(absl::StartsWith(range, "*")) << range;
  std::set<std::string> seen;
  for (size_t i = 2; i < lines.size(); i += 2) {
    const std::string& element = lines[i];
    EXPECT_TRUE(seen.insert(element).second) << "element " << element << " pushed twice";
    EXPECT_TRUE(acked_pushes.count(element) + unknown_pushes.count(element) == 1)
        << "element " << element << " was never pushed";
  }
  for (const std::string& element : acked_pushes) {
    EXPECT_EQ(seen.count(element), 1u) << "acknowledged element " << element << " was lost";
  }
  EXPECT_EQ(CallSlow(reader, {"LLEN", "z-list"}), absl::StrCat(":", seen.size(), "\r\n"));
}

// Optimistic increments: clients spread over 3 nodes each loop WATCH k / GET k / MULTI /
// SET k v+1 / EXEC until EXEC commits, a given number of times. A write through any node
// between a client's WATCH and its EXEC must abort that EXEC (null array), so no
// increment is lost and the final value is the number of commits.
TEST_F(RedisClusterTest, WatchMultiExecIncrementsLoseNothing) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  constexpr int kClients = 9;
  constexpr int kEach = 8;
  constexpr int kMaxAttempts = 2000;  // per increment: contention retries, bounded
  std::mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  int64_t aborts = 0;                 // guarded by mu
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      RespClient client(cluster().redis_port(1 + c % 3));
      auto fail = [&](std::string what) {
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back(absl::StrCat("client ", c, ": ", what));
      };
      for (int i = 0; i < kEach; ++i) {
        bool committed = false;
        for (int attempt = 0; attempt < kMaxAttempts && !committed; ++attempt) {
          const std::string watch = CallSlow(client, {"WATCH", "m-counter"});
          const std::string get = CallSlow(client, {"GET", "m-counter"});
          if (watch != "+OK\r\n" || get.empty() || get[0] != '$') {
            return fail(absl::StrCat("WATCH/GET answered ", watch, " / ", get));
          }
          int64_t value = 0;
          if (get != "$-1\r\n") value = std::stoll(get.substr(get.find("\r\n") + 2));
          const std::string multi = CallSlow(client, {"MULTI"});
          const std::string set = CallSlow(client, {"SET", "m-counter", std::to_string(value + 1)});
          const std::string exec = CallSlow(client, {"EXEC"});
          if (multi != "+OK\r\n" || set != "+QUEUED\r\n") {
            return fail(absl::StrCat("MULTI/SET answered ", multi, " / ", set));
          }
          if (exec == "*1\r\n+OK\r\n") {
            committed = true;
          } else if (exec == "*-1\r\n") {
            std::lock_guard<std::mutex> lock(mu);
            ++aborts;
          } else {
            return fail(absl::StrCat("EXEC answered ", exec));
          }
        }
        if (!committed) return fail("no commit after many attempts");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.front();
  std::cout << "WATCH/MULTI/EXEC increments: " << kClients * kEach << " commits, " << aborts
            << " aborted EXECs\n";
  const std::string total = std::to_string(kClients * kEach);
  for (int node = 1; node <= 3; ++node) {
    RespClient reader(cluster().redis_port(node));
    EXPECT_EQ(CallSlow(reader, {"GET", "m-counter"}),
              absl::StrCat("$", total.size(), "\r\n", total, "\r\n"))
        << "node " << node;
  }
  // Keys in different groups ("a..." on group 1, "z..." on group 2): one transaction over
  // both (redis_cross_group_exec_test.cc has more).
  RespClient client(cluster().redis_port(2));
  EXPECT_EQ(CallSlow(client, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(client, {"SET", "a-txn", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(CallSlow(client, {"SET", "z-txn", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(CallSlow(client, {"EXEC"}), "*2\r\n+OK\r\n+OK\r\n");
  EXPECT_EQ(CallSlow(client, {"EXISTS", "a-txn", "z-txn"}), ":2\r\n");
}

// SCAN, KEYS, DBSIZE walk both groups ("a..." on group 1, "z..." on group 2) through the
// catalog's routes: a full SCAN iteration with a small COUNT returns every key once, in
// key order, from any node.
TEST_F(RedisClusterTest, KeyspaceCommandsWalkEveryGroup) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  RespClient writer(cluster().redis_port(1));
  std::vector<std::string> want = {"a-warmup", "z-warmup"};  // written by the fixture
  for (int i = 0; i < 5; ++i) {
    for (const char* prefix : {"a-", "z-"}) {
      const std::string key = absl::StrCat(prefix, i);
      want.push_back(key);
      const std::string reply = i % 2 == 0 ? CallSlow(writer, {"SET", key, "v"})
                                           : CallSlow(writer, {"HSET", key, "f", "v"});
      ASSERT_TRUE(reply == "+OK\r\n" || reply == ":1\r\n") << reply;
    }
  }
  std::sort(want.begin(), want.end());
  RespClient client(cluster().redis_port(2));
  EXPECT_EQ(CallSlow(client, {"DBSIZE"}), absl::StrCat(":", want.size(), "\r\n"));
  std::vector<std::string> got;
  std::string cursor = "0";
  for (int calls = 0; calls < 100; ++calls) {
    const std::string reply = CallSlow(client, {"SCAN", cursor, "COUNT", "3"});
    // *2 $n cursor *k ($len key)*
    std::vector<std::string> lines = absl::StrSplit(reply, "\r\n");
    ASSERT_GE(lines.size(), 4u) << reply;
    ASSERT_EQ(lines[0], "*2") << reply;
    cursor = lines[2];
    for (size_t i = 5; i < lines.size(); i += 2) got.push_back(lines[i]);
    if (cursor == "0") break;
  }
  EXPECT_EQ(cursor, "0");
  EXPECT_EQ(got, want);
  RespClient other(cluster().redis_port(3));
  EXPECT_EQ(CallSlow(other, {"KEYS", "z-[13]"}), "*2\r\n$3\r\nz-1\r\n$3\r\nz-3\r\n");
  EXPECT_EQ(CallSlow(other, {"SCAN", "0", "MATCH", "*-4", "COUNT", "1000", "TYPE", "string"}),
            "*2\r\n$1\r\n1\r\n*1\r\n$3\r\na-4\r\n")
      << "the first route's page; the cursor goes on to the next route";
}

// FLUSHALL through one node deletes the keys of both groups ("a..." on group 1, "z..." on
// group 2), of every type; read through another node, nothing is left, and a key written
// afterwards is there.
TEST_F(RedisClusterTest, FlushallDeletesTheKeysOfEveryGroup) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  RespClient writer(cluster().redis_port(1));
  std::vector<std::string> keys = {"a-warmup", "z-warmup"};  // written by the fixture
  for (int i = 0; i < 10; ++i) {
    for (const char* prefix : {"a-", "z-"}) {
      const std::string key = absl::StrCat(prefix, i);
      keys.push_back(key);
      std::vector<std::string> write;
      switch (i % 5) {
        case 0:
          write = {"SET", key, "v"};
          break;
        case 1:
          write = {"HSET", key, "f", "v"};
          break;
        case 2:
          write = {"RPUSH", key, "x"};
          break;
        case 3:
          write = {"SADD", key, "m"};
          break;
        default:
          write = {"ZADD", key, "1", "m"};
          break;
      }
      const std::string reply = CallSlow(writer, write);
      ASSERT_TRUE(reply == "+OK\r\n" || reply == ":1\r\n") << key << ": " << reply;
    }
  }
  RespClient reader(cluster().redis_port(2));
  ASSERT_EQ(CallSlow(reader, {"DBSIZE"}), absl::StrCat(":", keys.size(), "\r\n"));
  EXPECT_EQ(CallSlow(writer, {"FLUSHALL"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(reader, {"DBSIZE"}), ":0\r\n");
  EXPECT_EQ(CallSlow(reader, {"KEYS", "*"}), "*0\r\n");
  std::vector<std::string> exists = {"EXISTS"};
  exists.insert(exists.end(), keys.begin(), keys.end());
  EXPECT_EQ(CallSlow(reader, exists), ":0\r\n");
  EXPECT_EQ(CallSlow(reader, {"HGET", "z-1", "f"}), "$-1\r\n");
  EXPECT_EQ(CallSlow(reader, {"LRANGE", "a-2", "0", "-1"}), "*0\r\n");
  // Written after the flush, in both groups: present.
  EXPECT_EQ(CallSlow(writer, {"MSET", "a-after", "1", "z-after", "2"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(reader, {"MGET", "a-after", "z-after"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  RespClient other(cluster().redis_port(3));
  EXPECT_EQ(CallSlow(other, {"FLUSHDB", "SYNC"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(reader, {"DBSIZE"}), ":0\r\n");
  EXPECT_EQ(CallSlow(other, {"FLUSHDB", "now"}), "-ERR syntax error\r\n");
  // Inside MULTI, over both groups: the part before the flush (a write in each group, one
  // transaction over both) runs, the walk deletes it, the part after runs; the replies in
  // one array.
  ASSERT_EQ(CallSlow(writer, {"MULTI"}), "+OK\r\n");
  ASSERT_EQ(CallSlow(writer, {"SET", "a-in", "1"}), "+QUEUED\r\n");
  ASSERT_EQ(CallSlow(writer, {"SET", "z-in", "2"}), "+QUEUED\r\n");
  ASSERT_EQ(CallSlow(writer, {"FLUSHALL"}), "+QUEUED\r\n");
  ASSERT_EQ(CallSlow(writer, {"SET", "z-last", "3"}), "+QUEUED\r\n");
  ASSERT_EQ(CallSlow(writer, {"GET", "a-in"}), "+QUEUED\r\n");
  ASSERT_EQ(CallSlow(writer, {"GET", "z-last"}), "+QUEUED\r\n");
  EXPECT_EQ(CallSlow(writer, {"EXEC"}), "*6\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n$-1\r\n$1\r\n3\r\n");
  EXPECT_EQ(CallSlow(reader, {"KEYS", "*"}), "*1\r\n$6\r\nz-last\r\n");
}

TEST_F(RedisClusterTest, PipelinedRequestsKeepOrder) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(3));
  constexpr int kPairs = 2000;
  // Through n2: some of its groups are led elsewhere, so writes are forwarded.
  RespClient client(cluster().redis_port(2));
  ASSERT_TRUE(client.connected());
  std::string batch;
  for (int i = 0; i < kPairs; ++i) {
    const std::string key = (i % 2 ? "p" : "b") + std::to_string(i % 50);
    batch += EncodeCommand({"SET", key, std::to_string(i)});
    batch += EncodeCommand({"GET", key});
  }
  const auto start = Clock::now();
  std::thread writer([&] { EXPECT_TRUE(client.SendRaw(batch)); });
  // Stop at the first wrong reply, but join the writer before failing (an ASSERT here
  // would leave it joinable and abort the whole binary).
  std::string wrong;
  for (int i = 0; i < kPairs && wrong.empty(); ++i) {
    const std::string set = client.ReadReply(std::chrono::seconds(20));
    if (set != "+OK\r\n") {
      wrong = absl::StrCat("SET ", i, ": ", set);
      break;
    }
    const std::string value = std::to_string(i);
    const std::string get = client.ReadReply(std::chrono::seconds(20));
    if (get != absl::StrCat("$", value.size(), "\r\n", value, "\r\n")) {
      wrong = absl::StrCat("GET ", i, " must see the SET just before it, got ", get);
    }
  }
  if (!wrong.empty()) shutdown(client.fd(), SHUT_RDWR);  // unblocks the writer
  writer.join();
  ASSERT_EQ(wrong, "");
  const double one_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << 2 * kPairs << " pipelined SET/GET on one connection via n2: "
            << static_cast<int>(2 * kPairs / one_seconds) << " requests/s\n";

  // Many connections at once: throughput comes from concurrency across connections.
  constexpr int kClients = 16;
  constexpr int kPerClient = 500;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  std::mutex bad_mu;
  std::string first_bad;  // guarded by bad_mu
  const auto many_start = Clock::now();
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      RespClient conn(cluster().redis_port(1 + c % 3));
      std::string requests;
      for (int i = 0; i < kPerClient; ++i) {
        requests += EncodeCommand({"SET", absl::StrCat(c % 2 ? "c" : "x", c, "-", i), "v"});
      }
      if (!conn.SendRaw(requests)) return;
      for (int i = 0; i < kPerClient; ++i) {
        const std::string reply = conn.ReadReply(std::chrono::seconds(20));
        if (reply != "+OK\r\n") {
          std::lock_guard<std::mutex> lock(bad_mu);
          if (first_bad.empty()) first_bad = absl::StrCat("client ", c, " SET ", i, ": ", reply);
          return;
        }
      }
      good.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  const double many_seconds = std::chrono::duration<double>(Clock::now() - many_start).count();
  EXPECT_EQ(good.load(), kClients) << first_bad;
  std::cout << kClients * kPerClient << " pipelined SETs on " << kClients
            << " connections across 3 nodes: "
            << static_cast<int>(kClients * kPerClient / many_seconds) << " requests/s\n";
}

// One step of a differential script: raw bytes to send, and whether the reply must be
// byte-identical (HELLO's reply names the server, so it differs by design).
struct Step {
  std::string bytes;
  bool compare = true;
};

Step Cmd(std::vector<std::string> args) { return {EncodeCommand(args), true}; }

TEST_F(RedisClusterTest, DifferentialAgainstRealRedis) {
  ASSERT_FALSE(FindProgram("redis-server").empty())
      << "redis-server is required (scripts/install-deps.sh)";
  redis::testing::RealRedis redis;
  ASSERT_TRUE(redis.WaitReady()) << "redis-server did not answer on port " << redis.port()
                                 << "; its log:\n"
                                 << redis.Log();
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster(1));

  const std::string long_arg(200, 'q');
  const std::vector<Step> script = {
      Cmd({"PING"}),
      Cmd({"PING", "hello"}),
      Cmd({"PING", "a", "b"}),
      Cmd({"ping"}),
      Cmd({"ECHO", "x y"}),
      Cmd({"ECHO"}),
      Cmd({"echo", ""}),
      {"PING\r\n"},
      {"ECHO \"a b\\x41\"\r\n"},
      {"  set  inline-key   'v w'\r\n"},
      {"GET inline-key\r\n"},
      Cmd({"SET", "dk1", "v1"}),
      Cmd({"GET", "dk1"}),
      Cmd({"GET", "dmissing"}),
      Cmd({"SET", "dk1"}),
      Cmd({"GET"}),
      Cmd({"GET", "a", "b"}),
      Cmd({"set", "dk1", "v2", "keepttl"}),
      Cmd({"GET", "dk1"}),
      Cmd({"SET", "dk1", std::string("bin\0\r\nary", 9)}),
      Cmd({"GET", "dk1"}),
      Cmd({"SET", "dk1", "v", "NX", "XX"}),
      Cmd({"SET", "dk1", "v", "FOO"}),
      Cmd({"SET", "dk1", "v", "EX"}),
      Cmd({"SET", "dk1", "v", "EX", "abc"}),
      Cmd({"SET", "dk1", "v", "EX", "0"}),
      Cmd({"SET", "dk1", "v", "PX", "-1"}),
      Cmd({"SET", "dk1", "v", "EX", "1", "PX", "1"}),
      Cmd({"SET", "dk1", "v", "KEEPTTL", "EX", "5"}),
      Cmd({"SET", "dk1", "v", "EX", "01"}),
      Cmd({"MSET", "da", "1", "zb", "2", "da", "3"}),
      Cmd({"MGET", "da", "zb", "dmissing"}),
      Cmd({"MSET", "da"}),
      Cmd({"MSET", "da", "1", "zb"}),
      Cmd({"MGET"}),
      Cmd({"EXISTS", "da", "da", "zb", "dmissing"}),
      Cmd({"EXISTS"}),
      Cmd({"STRLEN", "da"}),
      Cmd({"STRLEN", "dmissing"}),
      Cmd({"STRLEN"}),
      Cmd({"DEL", "da", "dmissing", "da"}),
      Cmd({"EXISTS", "da"}),
      Cmd({"DEL"}),
      Cmd({"GET", "zb"}),
      Cmd({"DEL", "zb"}),
      Cmd({"GET", "zb"}),
      Cmd({"SELECT", "0"}),
      Cmd({"SELECT", "abc"}),
      Cmd({"SELECT", "99999"}),
      Cmd({"SELECT", "-1"}),
      Cmd({"SELECT"}),
      Cmd({"foo"}),
      Cmd({"foo", "bar", "baz qux"}),
      Cmd({"FOO", long_arg, long_arg}),
      Cmd({"HELLO", "4"}),
      Cmd({"HELLO", "abc"}),
      Cmd({"HELLO", "1"}),
      Cmd({"HELLO", "3", "FOO"}),
      Cmd({"COMMAND", "BOGUS"}),
      Cmd({"COMMAND", "COUNT", "x"}),
      {EncodeCommand({"HELLO", "3"}), false},
      Cmd({"GET", "dmissing"}),
      Cmd({"MGET", "dmissing", "dk1"}),
      Cmd({"PING"}),
      Cmd({"SET", "dk1", "r3"}),
      Cmd({"GET", "dk1"}),
      {EncodeCommand({"HELLO", "2"}), false},
      Cmd({"GET", "dmissing"}),
      {"*0\r\n*1\r\n$4\r\nPING\r\n"},
      {"*1\r\n$-5\r\n"},  // protocol error: both answer, then close
  };
  RespClient real(redis.port());
  RespClient ours(cluster().redis_port(1));
  ASSERT_TRUE(real.connected());
  ASSERT_TRUE(ours.connected());
  int compared = 0;
  for (size_t i = 0; i < script.size(); ++i) {
    const Step& step = script[i];
    ASSERT_TRUE(real.SendRaw(step.bytes));
    ASSERT_TRUE(ours.SendRaw(step.bytes));
    const std::string expected = real.ReadReply();
    const std::string got = ours.ReadReply();
    ASSERT_FALSE(expected.empty()) << "redis-server did not answer step " << i;
    if (step.compare) {
      EXPECT_EQ(got, expected) << "step " << i << ": " << absl::CEscape(step.bytes);
      ++compared;
    } else {
      EXPECT_FALSE(got.empty()) << "step " << i;
    }
  }
  EXPECT_TRUE(real.ClosedByServer());
  EXPECT_TRUE(ours.ClosedByServer()) << "ekv must close after a protocol error, as Redis does";

  // QUIT on fresh connections.
  RespClient real_quit(redis.port());
  RespClient ours_quit(cluster().redis_port(1));
  EXPECT_EQ(ours_quit.Call({"QUIT"}), real_quit.Call({"QUIT"}));
  EXPECT_TRUE(ours_quit.ClosedByServer());
  std::cout << compared << " replies compared byte for byte with redis-server\n";
}

}  // namespace
}  // namespace ekv::integration
