// Single commands whose keys live in both groups of a 3-node cluster ("a..." on group 1,
// "z..." on group 2): each runs as a one-command EXEC over the groups
// (core/coord/coordinator_redis_cross.cc), atomic, with Redis's replies. Sent through
// different nodes; then SMOVE and RENAME races between the groups that must never lose
// or duplicate a member or a value, and MSET over both groups that no reader sees half of.
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/redis_calls.h"
#include "tests/integration/redis_cluster_fixture.h"
#include "tests/redis/resp_client.h"

namespace ekv::integration {
namespace {

using redis::testing::RespClient;

// The bulk strings of an array reply ("*2\r\n$1\r\na\r\n$1\r\nb\r\n" -> a, b).
std::vector<std::string> Bulks(const std::string& reply) {
  std::vector<std::string> out;
  std::vector<std::string> lines = absl::StrSplit(reply, "\r\n", absl::SkipEmpty());
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    if (lines[i][0] == '$') out.push_back(lines[++i]);
  }
  return out;
}

class RedisCrossGroupCommandTest : public RedisTwoGroupClusterTest {};

TEST_F(RedisCrossGroupCommandTest, EachMultiKeyCommandAcrossGroupsThroughEveryNode) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  RespClient n1(cluster().redis_port(1));
  RespClient n2(cluster().redis_port(2));
  RespClient n3(cluster().redis_port(3));
  // Keys: RENAME, RENAMENX, COPY.
  ASSERT_EQ(CallSlow(n1, {"SET", "a-str", "hello", "EX", "1000"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n2, {"RENAME", "a-str", "z-str"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n3, {"GET", "z-str"}), "$5\r\nhello\r\n");
  EXPECT_EQ(CallSlow(n1, {"EXISTS", "a-str"}), ":0\r\n");
  const std::string ttl = CallSlow(n1, {"TTL", "z-str"});
  EXPECT_TRUE(ttl == ":1000\r\n" || ttl == ":999\r\n") << ttl;
  EXPECT_EQ(CallSlow(n3, {"RENAME", "a-str", "z-str"}), "-ERR no such key\r\n");
  ASSERT_EQ(CallSlow(n1, {"SET", "a-other", "x"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n2, {"RENAMENX", "a-other", "z-str"}), ":0\r\n");
  EXPECT_EQ(CallSlow(n3, {"RENAMENX", "z-str", "a-new"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n1, {"COPY", "a-new", "z-copy"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n2, {"COPY", "a-new", "z-copy"}), ":0\r\n");
  EXPECT_EQ(CallSlow(n3, {"GET", "z-copy"}), "$5\r\nhello\r\n");
  // Sets.
  ASSERT_EQ(CallSlow(n1, {"SADD", "a-set", "1", "2", "3"}), ":3\r\n");
  ASSERT_EQ(CallSlow(n1, {"SADD", "z-set", "3", "4"}), ":2\r\n");
  EXPECT_EQ(CallSlow(n2, {"SMOVE", "a-set", "z-set", "1"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n3, {"SMOVE", "a-set", "z-set", "1"}), ":0\r\n");
  EXPECT_EQ(CallSlow(n1, {"SINTER", "a-set", "z-set"}), "*1\r\n$1\r\n3\r\n");
  EXPECT_EQ(CallSlow(n2, {"SINTERSTORE", "z-inter", "a-set", "z-set"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n3, {"SUNIONSTORE", "a-union", "a-set", "z-set"}), ":4\r\n");
  EXPECT_EQ(CallSlow(n1, {"SDIFFSTORE", "z-diff", "z-set", "a-set"}), ":2\r\n");
  EXPECT_EQ(CallSlow(n2, {"SMEMBERS", "z-diff"}), "*2\r\n$1\r\n1\r\n$1\r\n4\r\n");
  EXPECT_EQ(CallSlow(n3, {"SINTERCARD", "2", "a-set", "z-set"}), ":1\r\n");
  // Lists.
  ASSERT_EQ(CallSlow(n1, {"RPUSH", "a-list", "a", "b", "c"}), ":3\r\n");
  EXPECT_EQ(CallSlow(n2, {"LMOVE", "a-list", "z-list", "LEFT", "RIGHT"}), "$1\r\na\r\n");
  EXPECT_EQ(CallSlow(n3, {"RPOPLPUSH", "a-list", "z-list"}), "$1\r\nc\r\n");
  EXPECT_EQ(CallSlow(n1, {"BLMOVE", "z-list", "a-list", "LEFT", "LEFT", "1"}), "$1\r\nc\r\n");
  EXPECT_EQ(CallSlow(n2, {"BRPOPLPUSH", "z-list", "a-list", "1"}), "$1\r\na\r\n");
  EXPECT_EQ(CallSlow(n3, {"LRANGE", "a-list", "0", "-1"}),
            "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n");
  EXPECT_EQ(CallSlow(n1, {"LMPOP", "2", "z-list", "a-list", "LEFT"}),
            "*2\r\n$6\r\na-list\r\n*1\r\n$1\r\na\r\n");
  // Sorted sets.
  ASSERT_EQ(CallSlow(n1, {"ZADD", "a-z", "1", "x", "2", "y"}), ":2\r\n");
  ASSERT_EQ(CallSlow(n1, {"ZADD", "z-z", "10", "y"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n2, {"ZUNIONSTORE", "z-out", "2", "a-z", "z-z"}), ":2\r\n");
  EXPECT_EQ(CallSlow(n3, {"ZRANGE", "z-out", "0", "-1", "WITHSCORES"}),
            "*4\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n");
  EXPECT_EQ(CallSlow(n1, {"ZINTERSTORE", "a-out", "2", "a-z", "z-z", "AGGREGATE", "MAX"}),
            ":1\r\n");
  EXPECT_EQ(CallSlow(n2, {"ZDIFFSTORE", "z-dout", "2", "a-z", "z-z"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n3, {"ZRANGESTORE", "z-rs", "a-z", "0", "0"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n1, {"ZRANGE", "z-rs", "0", "-1"}), "*1\r\n$1\r\nx\r\n");
  EXPECT_EQ(CallSlow(n2, {"ZUNION", "2", "a-z", "z-z"}), "*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
  // Geo sets: the STORE forms into the other group.
  ASSERT_EQ(CallSlow(n1, {"GEOADD", "a-geo", "13.361389", "38.115556", "Palermo", "15.087269",
                          "37.502669", "Catania"}),
            ":2\r\n");
  EXPECT_EQ(CallSlow(n2, {"GEORADIUS", "a-geo", "15", "37", "200", "km", "STORE", "z-geo"}),
            ":2\r\n");
  EXPECT_EQ(CallSlow(n3, {"GEOPOS", "z-geo", "Catania"}),
            "*1\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n");
  EXPECT_EQ(CallSlow(n1, {"GEOSEARCHSTORE", "z-near", "a-geo", "FROMMEMBER", "Palermo", "BYRADIUS",
                          "100", "km", "STOREDIST"}),
            ":1\r\n");
  EXPECT_EQ(CallSlow(n2, {"ZRANGE", "z-near", "0", "-1", "WITHSCORES"}),
            "*2\r\n$7\r\nPalermo\r\n$1\r\n0\r\n");
  // Strings and bits.
  ASSERT_EQ(CallSlow(n1, {"SET", "a-bits", "\xff"}), "+OK\r\n");
  ASSERT_EQ(CallSlow(n1, {"SET", "z-bits", "\x0f"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n2, {"BITOP", "AND", "z-and", "a-bits", "z-bits"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n3, {"GET", "z-and"}), "$1\r\n\x0f\r\n");
  EXPECT_EQ(CallSlow(n1, {"MSETNX", "a-m", "1", "z-m", "2"}), ":1\r\n");
  EXPECT_EQ(CallSlow(n2, {"MSETNX", "a-m2", "1", "z-m", "3"}), ":0\r\n");
  EXPECT_EQ(CallSlow(n3, {"EXISTS", "a-m2"}), ":0\r\n");
  EXPECT_EQ(CallSlow(n2, {"MSET", "a-ms", "1", "z-ms", "2", "a-ms", "3"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n3, {"MGET", "a-ms", "z-ms"}), "*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
  EXPECT_EQ(CallSlow(n1, {"MSET", "a-ms", "1", "z-ms"}),
            "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(CallSlow(n3, {"LCS", "a-new", "z-copy"}), "$5\r\nhello\r\n");
  // SORT ... STORE into the other group; BY/GET patterns read keys of the sorted key's
  // group and are refused (Redis Cluster's words) for another group's key, or when the
  // command itself spans groups.
  ASSERT_EQ(CallSlow(n1, {"RPUSH", "a-ids", "2", "1"}), ":2\r\n");
  ASSERT_EQ(CallSlow(n1, {"MSET", "a-w_1", "5", "a-w_2", "1", "z-w_1", "0"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n2, {"SORT", "a-ids", "STORE", "z-sorted"}), ":2\r\n");
  EXPECT_EQ(CallSlow(n3, {"LRANGE", "z-sorted", "0", "-1"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(CallSlow(n3, {"SORT", "a-ids", "BY", "a-w_*", "GET", "#", "GET", "a-w_*"}),
            "*4\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n5\r\n");
  EXPECT_EQ(CallSlow(n1, {"SORT", "a-ids", "BY", "z-w_*"}),
            "-ERR BY option of SORT denied in Cluster mode.\r\n");
  EXPECT_EQ(CallSlow(n2, {"SORT_RO", "a-ids", "GET", "z-w_*"}),
            "-ERR GET option of SORT denied in Cluster mode.\r\n");
  EXPECT_EQ(CallSlow(n3, {"SORT", "a-ids", "BY", "a-w_*", "STORE", "z-sorted2"}),
            "-ERR BY option of SORT denied in Cluster mode.\r\n");
  EXPECT_EQ(CallSlow(n1, {"EXISTS", "z-sorted2"}), ":0\r\n");
  // Errors are the command's own and write nothing.
  EXPECT_EQ(CallSlow(n1, {"SMOVE", "a-list", "z-set", "a"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  EXPECT_EQ(CallSlow(n2, {"LLEN", "a-list"}), ":2\r\n");
}

TEST_F(RedisCrossGroupCommandTest, SMoveAndRenameRacesLoseAndDuplicateNothing) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  constexpr int kMembers = 12;
  std::set<std::string> members;
  {
    RespClient setup(cluster().redis_port(1));
    std::vector<std::string> sadd = {"SADD", "a-pool"};
    for (int i = 0; i < kMembers; ++i) {
      members.insert(absl::StrCat("m", i));
      sadd.push_back(absl::StrCat("m", i));
    }
    ASSERT_EQ(CallSlow(setup, sadd), absl::StrCat(":", kMembers, "\r\n"));
    ASSERT_EQ(CallSlow(setup, {"SET", "a-token", "the-token"}), "+OK\r\n");
  }
  constexpr int kClients = 6;
  constexpr int kOpsEach = 12;
  std::mutex mu;
  std::vector<std::string> failures;       // guarded by mu
  int moved = 0, renamed = 0, errors = 0;  // guarded by mu
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      RespClient client(cluster().redis_port(1 + c % 3));
      for (int i = 0; i < kOpsEach; ++i) {
        std::string reply;
        if (c % 3 == 2) {
          // RENAME the token to the other group, from wherever it is.
          const bool forward = (c + i) % 2 == 0;
          reply = CallSlow(
              client, {"RENAME", forward ? "a-token" : "z-token", forward ? "z-token" : "a-token"});
          std::lock_guard<std::mutex> lock(mu);
          if (reply == "+OK\r\n") {
            ++renamed;
          } else if (reply == "-ERR no such key\r\n" || reply.rfind("-TRYAGAIN", 0) == 0) {
            ++errors;
          } else {
            failures.push_back(absl::StrCat("RENAME answered ", reply));
          }
          continue;
        }
        const bool forward = (c + i) % 2 == 0;
        const std::string member = absl::StrCat("m", (c * 5 + i) % kMembers);
        reply = CallSlow(client, {"SMOVE", forward ? "a-pool" : "z-pool",
                                  forward ? "z-pool" : "a-pool", member});
        std::lock_guard<std::mutex> lock(mu);
        if (reply == ":1\r\n") {
          ++moved;
        } else if (reply == ":0\r\n" || reply.rfind("-TRYAGAIN", 0) == 0) {
          ++errors;
        } else {
          failures.push_back(absl::StrCat("SMOVE answered ", reply));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::cout << "races: " << moved << " moves, " << renamed << " renames, " << errors
            << " no-ops or errors\n";
  ASSERT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_GT(moved, 0);
  EXPECT_GT(renamed, 0);
  RespClient reader(cluster().redis_port(2));
  const std::vector<std::string> a = Bulks(CallSlow(reader, {"SMEMBERS", "a-pool"}));
  const std::vector<std::string> z = Bulks(CallSlow(reader, {"SMEMBERS", "z-pool"}));
  std::multiset<std::string> all(a.begin(), a.end());
  all.insert(z.begin(), z.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kMembers)) << "a: " << a.size() << " z: " << z.size();
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), members);
  const std::string a_token = CallSlow(reader, {"GET", "a-token"});
  const std::string z_token = CallSlow(reader, {"GET", "z-token"});
  EXPECT_TRUE((a_token == "$9\r\nthe-token\r\n" && z_token == "$-1\r\n") ||
              (z_token == "$9\r\nthe-token\r\n" && a_token == "$-1\r\n"))
      << a_token << " / " << z_token;
}

// Writers set a key of each group to the same value with one MSET; readers read both in
// one EXEC (itself atomic over the groups). A reader that sees two different values saw
// half of an MSET: MSET split into one write per key did that.
TEST_F(RedisCrossGroupCommandTest, MSetOverBothGroupsIsSeenWholeOrNotAtAll) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  {
    RespClient setup(cluster().redis_port(1));
    ASSERT_EQ(CallSlow(setup, {"MSET", "a-pair", "v0", "z-pair", "v0"}), "+OK\r\n");
  }
  constexpr int kWriters = 3;
  constexpr int kReaders = 3;
  constexpr int kOpsEach = 15;
  std::mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  int writes = 0, reads = 0;          // guarded by mu
  std::vector<std::thread> threads;
  for (int c = 0; c < kWriters + kReaders; ++c) {
    threads.emplace_back([&, c] {
      RespClient client(cluster().redis_port(1 + c % 3));
      for (int i = 0; i < kOpsEach; ++i) {
        if (c < kWriters) {
          const std::string value = absl::StrCat("w", c, "-", i);
          const std::string reply = CallSlow(client, {"MSET", "z-pair", value, "a-pair", value});
          std::lock_guard<std::mutex> lock(mu);
          if (reply == "+OK\r\n") {
            ++writes;
          } else if (reply.rfind("-TRYAGAIN", 0) != 0) {
            failures.push_back(absl::StrCat("MSET answered ", reply));
          }
          continue;
        }
        std::string reply = CallSlow(client, {"MULTI"});
        if (reply == "+OK\r\n") reply = CallSlow(client, {"GET", "a-pair"});
        if (reply == "+QUEUED\r\n") reply = CallSlow(client, {"GET", "z-pair"});
        if (reply == "+QUEUED\r\n") reply = CallSlow(client, {"EXEC"});
        const std::vector<std::string> values = Bulks(reply);
        std::lock_guard<std::mutex> lock(mu);
        if (values.size() == 2 && values[0] == values[1]) {
          ++reads;
        } else if (reply.rfind("-TRYAGAIN", 0) != 0 &&
                   reply.find("\r\n-TRYAGAIN") == std::string::npos) {
          failures.push_back(absl::StrCat("MULTI GET a-pair GET z-pair EXEC answered ", reply));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::cout << "mset: " << writes << " writes, " << reads << " whole reads\n";
  ASSERT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_GT(writes, 0);
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace ekv::integration
