// MULTI/EXEC over keys of both groups of a 3-node cluster ("a..." on group 1, "z..." on
// group 2): one transaction over the groups (core/coord/coordinator_redis.cc), atomic,
// with WATCH through any node aborting it. The bank: clients on every node move amounts
// between accounts in different groups, plain and WATCH'd, while auditors read every
// account in one MULTI; every audit and the end state must show the same total.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
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

// MULTI, the commands (each must answer QUEUED), EXEC: EXEC's raw reply.
std::string Transaction(RespClient& client, const std::vector<std::vector<std::string>>& commands) {
  const std::string multi = CallSlow(client, {"MULTI"});
  if (multi != "+OK\r\n") return "MULTI answered " + multi;
  for (const std::vector<std::string>& args : commands) {
    const std::string queued = CallSlow(client, args);
    if (queued != "+QUEUED\r\n") return args[0] + " answered " + queued;
  }
  return CallSlow(client, {"EXEC"});
}

// The integers of an EXEC reply of bulk strings or integers ("*2\r\n$2\r\n10\r\n:5\r\n").
std::vector<int64_t> Integers(const std::string& reply) {
  std::vector<int64_t> out;
  std::vector<std::string> lines = absl::StrSplit(reply, "\r\n", absl::SkipEmpty());
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    int64_t value = 0;
    if (line[0] == ':' && absl::SimpleAtoi(line.substr(1), &value)) {
      out.push_back(value);
    } else if (line[0] != '$' && line[0] != '-' && absl::SimpleAtoi(line, &value)) {
      out.push_back(value);
    }
  }
  return out;
}

class RedisCrossGroupExecTest : public RedisTwoGroupClusterTest {};

TEST_F(RedisCrossGroupExecTest, ExecOverBothGroupsAndWatchThroughAnotherNode) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  RespClient n1(cluster().redis_port(1));
  RespClient n2(cluster().redis_port(2));
  RespClient n3(cluster().redis_port(3));
  EXPECT_EQ(Transaction(n1, {{"SET", "a-str", "1"},
                             {"INCR", "z-count"},
                             {"RPUSH", "a-list", "x"},
                             {"RPUSH", "z-list", "y", "w"},
                             {"GET", "z-count"}}),
            "*5\r\n+OK\r\n:1\r\n:1\r\n:2\r\n$1\r\n1\r\n");
  EXPECT_EQ(CallSlow(n2, {"GET", "a-str"}), "$1\r\n1\r\n");
  EXPECT_EQ(CallSlow(n3, {"LRANGE", "z-list", "0", "-1"}), "*2\r\n$1\r\ny\r\n$1\r\nw\r\n");
  EXPECT_EQ(CallSlow(n3, {"LRANGE", "a-list", "0", "-1"}), "*1\r\n$1\r\nx\r\n");
  // Through another node, both groups again.
  EXPECT_EQ(Transaction(n2, {{"INCR", "z-count"}, {"INCR", "a-str"}}), "*2\r\n:2\r\n:2\r\n");

  // WATCH a key of group 2 on n2; n3 changes it; n2's EXEC writing group 1 aborts.
  EXPECT_EQ(CallSlow(n2, {"WATCH", "z-count"}), "+OK\r\n");
  EXPECT_EQ(CallSlow(n3, {"INCR", "z-count"}), ":3\r\n");
  EXPECT_EQ(Transaction(n2, {{"SET", "a-watched", "1"}, {"SET", "z-watched", "1"}}), "*-1\r\n");
  EXPECT_EQ(CallSlow(n1, {"EXISTS", "a-watched", "z-watched"}), ":0\r\n");
  // Unchanged: the same EXEC commits.
  EXPECT_EQ(CallSlow(n2, {"WATCH", "z-count"}), "+OK\r\n");
  EXPECT_EQ(Transaction(n2, {{"SET", "a-watched", "1"}, {"SET", "z-watched", "1"}}),
            "*2\r\n+OK\r\n+OK\r\n");
  EXPECT_EQ(CallSlow(n3, {"EXISTS", "a-watched", "z-watched"}), ":2\r\n");
  // A single command over both groups answers CROSSSLOT in its slot; the rest runs.
  EXPECT_EQ(Transaction(n3, {{"SET", "a-solo", "v"}, {"RENAME", "a-str", "z-str"}}),
            "*2\r\n+OK\r\n-CROSSSLOT Keys in request don't hash to the same slot\r\n");
  EXPECT_EQ(CallSlow(n1, {"GET", "a-solo"}), "$1\r\nv\r\n");
}

TEST_F(RedisCrossGroupExecTest, BankTransfersBetweenGroupsKeepTheTotal) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  const std::vector<std::string> accounts = {"a-acct0", "a-acct1", "z-acct0", "z-acct1"};
  constexpr int64_t kInitial = 1000;
  const int64_t total = kInitial * static_cast<int64_t>(accounts.size());
  {
    RespClient setup(cluster().redis_port(1));
    for (const std::string& account : accounts) {
      ASSERT_EQ(CallSlow(setup, {"SET", account, std::to_string(kInitial)}), "+OK\r\n");
    }
  }
  constexpr int kMovers = 6;
  constexpr int kTransfersEach = 15;
  std::mutex mu;
  std::vector<std::string> failures;                           // guarded by mu
  int64_t committed = 0, aborted = 0, errors = 0, audits = 0;  // guarded by mu
  std::atomic<bool> moving{true};
  std::vector<std::thread> threads;
  for (int c = 0; c < kMovers; ++c) {
    threads.emplace_back([&, c] {
      RespClient client(cluster().redis_port(1 + c % 3));
      for (int i = 0; i < kTransfersEach; ++i) {
        // From a group-1 account to a group-2 one or back, by turns.
        const std::string& a = accounts[(c + i) % 2];
        const std::string& z = accounts[2 + (c / 2 + i) % 2];
        const bool forward = (c + i) % 2 == 0;
        const std::string& from = forward ? a : z;
        const std::string& to = forward ? z : a;
        const int64_t amount = 1 + (c * 7 + i) % 9;
        std::string exec;
        if (c % 2 == 0) {
          exec = Transaction(client, {{"DECRBY", from, std::to_string(amount)},
                                      {"INCRBY", to, std::to_string(amount)}});
        } else {
          // Optimistic: read both under WATCH, then write the new balances; a change
          // through any node in between aborts EXEC.
          const std::string watch = CallSlow(client, {"WATCH", from, to});
          const std::string from_reply = CallSlow(client, {"GET", from});
          const std::string to_reply = CallSlow(client, {"GET", to});
          const std::vector<int64_t> from_balance = Integers("*1\r\n" + from_reply);
          const std::vector<int64_t> to_balance = Integers("*1\r\n" + to_reply);
          if (watch != "+OK\r\n" || from_balance.size() != 1 || to_balance.size() != 1) {
            CallSlow(client, {"UNWATCH"});
            std::lock_guard<std::mutex> lock(mu);
            ++errors;  // e.g. a read that met a lock until its deadline: the next one
            continue;
          }
          exec = Transaction(client, {{"SET", from, std::to_string(from_balance[0] - amount)},
                                      {"SET", to, std::to_string(to_balance[0] + amount)}});
        }
        std::lock_guard<std::mutex> lock(mu);
        if (exec.rfind("*2\r\n:", 0) == 0 || exec == "*2\r\n+OK\r\n+OK\r\n") {
          ++committed;
        } else if (exec == "*-1\r\n") {
          ++aborted;
        } else if (!exec.empty() && exec[0] == '-') {
          ++errors;  // refused or outcome unknown: atomic either way
        } else {
          failures.push_back(absl::StrCat("client ", c, ": EXEC answered ", exec));
        }
      }
    });
  }
  std::vector<std::thread> auditors;
  for (int node = 1; node <= 3; ++node) {
    auditors.emplace_back([&, node] {
      RespClient client(cluster().redis_port(node));
      while (moving.load()) {
        // Audits lock every account until their commit: leave the movers room between them.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const std::string reply = Transaction(client, {{"GET", accounts[0]},
                                                       {"GET", accounts[1]},
                                                       {"GET", accounts[2]},
                                                       {"GET", accounts[3]}});
        // An error (the deadline under contention) is no audit; a null array cannot be.
        if (reply.empty() || reply[0] == '-' || reply.find("\r\n-") != std::string::npos) {
          continue;
        }
        std::vector<int64_t> balances = Integers(reply);
        int64_t sum = 0;
        for (int64_t b : balances) sum += b;
        std::lock_guard<std::mutex> lock(mu);
        ++audits;
        if (balances.size() != accounts.size() || sum != total) {
          failures.push_back(absl::StrCat("audit on node ", node, " saw ", sum, ": ", reply));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  moving = false;
  for (std::thread& t : auditors) t.join();
  std::cout << "bank: " << committed << " transfers committed, " << aborted << " aborted, "
            << errors << " errors, " << audits << " audits\n";
  ASSERT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_GT(committed, 0);
  RespClient reader(cluster().redis_port(2));
  int64_t sum = 0;
  for (const std::string& account : accounts) {
    const std::string reply = CallSlow(reader, {"GET", account});
    ASSERT_EQ(reply.rfind("$", 0), 0u) << account << ": " << reply;
    sum += std::stoll(reply.substr(reply.find("\r\n") + 2));
  }
  EXPECT_EQ(sum, total);
}

}  // namespace
}  // namespace ekv::integration
