// The command handlers through CommandTable::Dispatch against a fake backend: replies
// byte for byte as Redis 7 gives them, and ekv's own refusals.
#include "adapters/redis/command_table.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/redis/glob.h"
#include "gtest/gtest.h"
#include "tests/redis/fake_backend.h"

namespace ekv::redis {
namespace {

class CommandTest : public ::testing::Test {
 protected:
  std::string Run(std::vector<std::string> args) {
    std::string reply;
    int replies = 0;
    CommandTable::Default().Dispatch(std::move(args), &connection_, &backend_, [&](std::string r) {
      reply = std::move(r);
      ++replies;
    });
    EXPECT_EQ(replies, 1) << "every command answers exactly once";
    return reply;
  }

  FakeBackend backend_;
  ConnectionState connection_;
};

TEST_F(CommandTest, SetGetRoundTrip) {
  EXPECT_EQ(Run({"SET", "key", "value"}), "+OK\r\n");
  EXPECT_EQ(Run({"get", "key"}), "$5\r\nvalue\r\n");
  EXPECT_EQ(Run({"GET", "missing"}), "$-1\r\n");
  EXPECT_EQ(Run({"STRLEN", "key"}), ":5\r\n");
  EXPECT_EQ(Run({"STRLEN", "missing"}), ":0\r\n");
  EXPECT_EQ(Run({"SET", "key", "v2", "KEEPTTL"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "key"}), "$2\r\nv2\r\n");
}

TEST_F(CommandTest, SetOptionsRunInTheExecutor) {
  EXPECT_EQ(Run({"SET", "k", "v", "NX"}), "+OK\r\n");
  EXPECT_EQ(Run({"SET", "k", "w", "NX"}), "$-1\r\n");
  EXPECT_EQ(Run({"SET", "k", "w", "XX", "GET"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"SET", "k", "x", "EX", "100"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":100\r\n");
  EXPECT_EQ(Run({"HSET", "h", "f", "v"}), ":1\r\n");
  EXPECT_EQ(Run({"GET", "h"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
}

TEST_F(CommandTest, SetSyntaxErrorsAreRedis) {
  EXPECT_EQ(Run({"SET", "k", "v", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "FOO"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "1", "PX", "1"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "KEEPTTL", "EX", "1"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "abc"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "PX", "-5"}), "-ERR invalid expire time in 'set' command\r\n");
}

TEST_F(CommandTest, MultiKeyCommands) {
  EXPECT_EQ(Run({"MSET", "a", "1", "b", "2", "a", "3"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "a"}), "$1\r\n3\r\n") << "the last value of a repeated key wins";
  EXPECT_EQ(Run({"MGET", "a", "nope", "b"}), "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n2\r\n");
  EXPECT_EQ(Run({"EXISTS", "a", "a", "nope"}), ":2\r\n");
  EXPECT_EQ(Run({"DEL", "a", "nope", "a"}), ":1\r\n");
  EXPECT_EQ(Run({"EXISTS", "a"}), ":0\r\n");
  EXPECT_EQ(Run({"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command\r\n");
}

TEST_F(CommandTest, Resp3NullsAfterHello) {
  std::string hello = Run({"HELLO", "3"});
  EXPECT_EQ(connection_.protocol, 3);
  EXPECT_EQ(hello.substr(0, 4), "%7\r\n");
  EXPECT_NE(hello.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << hello;
  EXPECT_EQ(Run({"GET", "missing"}), "_\r\n");
  EXPECT_EQ(Run({"MGET", "missing"}), "*1\r\n_\r\n");
  EXPECT_EQ(Run({"HELLO", "2"}).substr(0, 5), "*14\r\n");
  EXPECT_EQ(connection_.protocol, 2);
  EXPECT_EQ(Run({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Run({"HELLO", "x"}), "-ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"HELLO", "3", "FOO"}), "-ERR Syntax error in HELLO option 'FOO'\r\n");
  EXPECT_EQ(connection_.protocol, 2) << "a refused HELLO changes nothing";
}

TEST_F(CommandTest, ConnectionCommands) {
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(Run({"PING", "a", "b"}), "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(Run({"ECHO", "x y"}), "$3\r\nx y\r\n");
  EXPECT_EQ(Run({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(Run({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run({"SELECT", "zero"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_FALSE(connection_.close_after_reply);
  EXPECT_EQ(Run({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(connection_.close_after_reply);
}

TEST_F(CommandTest, UnknownCommandsAndArity) {
  EXPECT_EQ(Run({"FOO"}), "-ERR unknown command 'FOO', with args beginning with: \r\n");
  EXPECT_EQ(Run({"foo", "a", "b c"}),
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b c' \r\n");
  EXPECT_EQ(Run({"foo", "a\r\nb"}),
            "-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n");
  EXPECT_EQ(Run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run({"GET", "a", "b"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run({"Set", "a"}), "-ERR wrong number of arguments for 'set' command\r\n");
  EXPECT_EQ(Run({"DEL"}), "-ERR wrong number of arguments for 'del' command\r\n");
}

TEST_F(CommandTest, CommandIntrospectionComesFromTheTable) {
  const size_t count = CommandTable::Default().specs().size();
  EXPECT_EQ(Run({"COMMAND", "COUNT"}), ":" + std::to_string(count) + "\r\n");
  const std::string header = "*" + std::to_string(count) + "\r\n";
  EXPECT_EQ(Run({"COMMAND"}).substr(0, header.size()), header);
  EXPECT_EQ(Run({"COMMAND", "INFO", "get", "nope"}),
            "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
            "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n"
            // One key specification: RO access, the key at index 1.
            "*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n"
            "*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n"
            "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n"
            "$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n$-1\r\n");
  // Every entry's key specifications parse (CommandTable's constructor asserts it too).
  for (const auto& [name, spec] : CommandTable::Default().specs()) {
    EXPECT_TRUE(ParseKeySpecs(spec.key_specs).ok()) << name << ": " << spec.key_specs;
  }
  EXPECT_FALSE(ParseKeySpecs("RW|x1|r0,1,0").ok());
  EXPECT_FALSE(ParseKeySpecs("RW|i1|r0,0,0").ok()) << "a zero key step would never end";
  EXPECT_FALSE(ParseKeySpecs("RW|i1").ok());
  const std::string docs = Run({"COMMAND", "DOCS", "set"});
  EXPECT_EQ(docs.substr(0, 17), "*2\r\n$3\r\nset\r\n*8\r\n") << docs;  // 4 fields
  EXPECT_EQ(Run({"COMMAND", "COUNT", "x"}),
            "-ERR wrong number of arguments for 'command|count' command\r\n");
  EXPECT_EQ(Run({"COMMAND", "BOGUS"}), "-ERR unknown subcommand 'BOGUS'. Try COMMAND HELP.\r\n");
}

TEST_F(CommandTest, BackendErrorsBecomeRedisErrors) {
  backend_.fail_with = absl::UnavailableError("no leader for group 2 yet");
  EXPECT_EQ(Run({"GET", "k"}), "-TRYAGAIN no leader for group 2 yet\r\n");
  EXPECT_EQ(Run({"SET", "k", "v"}), "-TRYAGAIN no leader for group 2 yet\r\n");
  backend_.fail_with = absl::InvalidArgumentError("empty keys are not supported\r\nby ekv");
  EXPECT_EQ(Run({"SET", "", "v"}), "-ERR empty keys are not supported  by ekv\r\n");
  backend_.fail_with = absl::DeadlineExceededError("deadline");
  EXPECT_EQ(Run({"DEL", "k"}), "-TRYAGAIN deadline\r\n");
  EXPECT_EQ(Run({"MGET", "k"}), "-TRYAGAIN deadline\r\n");
}

// Parses a SCAN reply "*2 $n cursor *k $.. key ..." into the cursor and the keys.
std::pair<std::string, std::vector<std::string>> ParseScan(const std::string& reply) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < reply.size()) {
    const size_t end = reply.find("\r\n", pos);
    lines.push_back(reply.substr(pos, end - pos));
    pos = end + 2;
  }
  std::pair<std::string, std::vector<std::string>> out;
  if (lines.size() < 4 || lines[0] != "*2") return out;
  out.first = lines[2];
  for (size_t i = 5; i < lines.size(); i += 2) out.second.push_back(lines[i]);
  return out;
}

// SCAN over a keyspace split into three ranges: every key exactly once, in key order,
// whatever COUNT, with MATCH and TYPE applied, expired keys left out.
// SCRIPT HELP (ekv's text: it says why KILL never finds a script) answers the same array
// outside MULTI and in its slot of EXEC, in RESP2 and RESP3.
TEST_F(CommandTest, ScriptHelpOutsideAndInsideTransactions) {
  for (const char* protocol : {"2", "3"}) {
    ASSERT_EQ(Run({"HELLO", protocol}).empty(), false);
    const std::string help = Run({"SCRIPT", "HELP"});
    ASSERT_EQ(
        help.rfind("*12\r\n+SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", 0),
        0u)
        << help;
    EXPECT_EQ(Run({"MULTI"}), "+OK\r\n");
    EXPECT_EQ(Run({"SCRIPT", "HELP"}), "+QUEUED\r\n");
    EXPECT_EQ(Run({"PING"}), "+QUEUED\r\n");
    EXPECT_EQ(Run({"EXEC"}), "*2\r\n" + help + "+PONG\r\n") << "protocol " << protocol;
  }
}

TEST_F(CommandTest, ScanWalksEveryRangeInKeyOrder) {
  backend_.ranges = {{"", "g"}, {"g", "p"}, {"p", ""}};
  std::vector<std::string> want;
  for (int i = 0; i < 40; ++i) {
    const std::string key = absl::StrCat(std::string(1, static_cast<char>('a' + i % 26)), i);
    want.push_back(key);
    if (i % 3 == 0) {
      ASSERT_EQ(Run({"HSET", key, "f", "v"}), ":1\r\n");
    } else {
      ASSERT_EQ(Run({"SET", key, "v"}), "+OK\r\n");
    }
  }
  const std::vector<std::string> want_unsorted = want;
  ASSERT_EQ(Run({"SET", "expired", "v", "PX", "1"}), "+OK\r\n");
  ASSERT_EQ(Run({"SET", "gone", "v"}), "+OK\r\n");
  ASSERT_EQ(Run({"DEL", "gone"}), ":1\r\n");
  std::sort(want.begin(), want.end());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Every key of a full SCAN iteration, in the order returned.
  auto scan_all = [&](std::vector<std::string> options) {
    std::vector<std::string> got;
    std::string cursor = "0";
    for (int calls = 0; calls < 1000; ++calls) {
      std::vector<std::string> args = {"SCAN", cursor};
      args.insert(args.end(), options.begin(), options.end());
      const std::string reply = Run(args);
      auto [next, keys] = ParseScan(reply);
      EXPECT_FALSE(next.empty()) << reply;
      for (std::string& key : keys) got.push_back(std::move(key));
      cursor = next;
      if (cursor == "0" || cursor.empty()) return got;
    }
    ADD_FAILURE() << "SCAN does not end";
    return got;
  };
  for (const char* count : {"1", "3", "7", "1000"}) {
    EXPECT_EQ(scan_all({"COUNT", count}), want) << "COUNT " << count;
  }
  EXPECT_EQ(Run({"DBSIZE"}), ":40\r\n");
  // MATCH and TYPE across ranges, in key order.
  std::vector<std::string> hashes;
  for (int i = 0; i < 40; i += 3) hashes.push_back(want_unsorted[i]);
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(scan_all({"TYPE", "hash", "COUNT", "2"}), hashes);
  EXPECT_EQ(scan_all({"MATCH", "*7", "TYPE", "string"}),
            (std::vector<std::string>{"h7", "l37", "r17"}));
  const std::string keys = Run({"KEYS", "?1*"});
  std::string want_keys = "*11\r\n$2\r\nb1\r\n";
  for (int i = 10; i < 20; ++i) {
    absl::StrAppend(&want_keys, "$3\r\n", std::string(1, static_cast<char>('a' + i)), i, "\r\n");
  }
  EXPECT_EQ(keys, want_keys);
  const std::string random = Run({"RANDOMKEY"});
  ASSERT_EQ(random[0], '$') << random;
  EXPECT_NE(
      std::find(want.begin(), want.end(),
                random.substr(random.find("\r\n") + 2, random.size() - random.find("\r\n") - 4)),
      want.end())
      << random;
  // A cursor this server never issued.
  EXPECT_EQ(Run({"SCAN", "987654321"}), "-ERR invalid cursor\r\n");
}

// FLUSHDB and FLUSHALL over three ranges, with more keys than one step deletes (1000), of
// every type: every key is gone, keys written afterwards stay.
TEST_F(CommandTest, FlushdbDeletesEveryKeyOfEveryRange) {
  backend_.ranges = {{"", "g"}, {"g", "p"}, {"p", ""}};
  for (const char* flush : {"FLUSHDB", "FLUSHALL"}) {
    for (int i = 0; i < 2600; ++i) {
      const std::string key = absl::StrCat(std::string(1, static_cast<char>('a' + i % 26)), i);
      std::string reply;
      switch (i % 5) {
        case 0:
          reply = Run({"HSET", key, "f", "v"});
          break;
        case 1:
          reply = Run({"RPUSH", key, "x", "y"});
          break;
        case 2:
          reply = Run({"SADD", key, "m"});
          break;
        case 3:
          reply = Run({"ZADD", key, "1", "m"});
          break;
        default:
          reply = Run({"SET", key, "v"});
          break;
      }
      ASSERT_NE(reply[0], '-') << key << ": " << reply;
    }
    ASSERT_EQ(Run({"DBSIZE"}), ":2600\r\n");
    EXPECT_EQ(Run({flush}), "+OK\r\n") << flush;
    EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n") << flush;
    EXPECT_EQ(Run({"KEYS", "*"}), "*0\r\n") << flush;
    EXPECT_EQ(Run({"HGET", "a0", "f"}), "$-1\r\n") << flush;
    EXPECT_EQ(Run({"SET", "after", "1"}), "+OK\r\n");
    EXPECT_EQ(Run({"GET", "after"}), "$1\r\n1\r\n") << flush;
    EXPECT_EQ(Run({"DEL", "after"}), ":1\r\n");
  }
  EXPECT_EQ(Run({"FLUSHDB"}), "+OK\r\n") << "an empty keyspace";
  // Long key names: one page (1,000 keys, 4.8 MB of names) goes as several DELs of at most
  // 256 KiB of names each, all of them deleted.
  for (int i = 0; i < 1200; ++i) {
    ASSERT_EQ(Run({"SET", absl::StrCat(i, std::string(4000, 'k')), "v"}), "+OK\r\n");
  }
  const uint64_t before = backend_.commands_run();
  EXPECT_EQ(Run({"FLUSHDB"}), "+OK\r\n");
  // 4 ListRanges/pages (one per range plus the second page), >= 19 DELs for 1,200 keys.
  EXPECT_GE(backend_.commands_run() - before, 4u + 19u);
  EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n");
  // DynamoDB's items share the keyspace under a reserved prefix: left alone.
  const std::string dynamo_item("\0ddbi-item", 10);
  ASSERT_EQ(Run({"SET", dynamo_item, "item"}), "+OK\r\n");
  ASSERT_EQ(Run({"SET", "redis-key", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"FLUSHALL"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", dynamo_item}), "$4\r\nitem\r\n");
  EXPECT_EQ(Run({"EXISTS", "redis-key"}), ":0\r\n");
  ASSERT_EQ(Run({"DEL", dynamo_item}), ":1\r\n");
  EXPECT_EQ(Run({"FLUSHDB", "x"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"FLUSHALL", "SYNC", "ASYNC"}), "-ERR syntax error\r\n");
}

// Inside MULTI, FLUSHDB/FLUSHALL are queued and split EXEC into parts run in the queue's
// order: the commands before the flush, the walk over every range, the commands after it.
// A WATCH abort runs none of them (also a leading flush). In a script they are refused.
TEST_F(CommandTest, FlushdbInsideMultiRunsBetweenTheParts) {
  backend_.ranges = {{"", "g"}, {"g", "p"}, {"p", ""}};
  for (const char* key : {"a", "h", "z"}) ASSERT_EQ(Run({"SET", key, "old"}), "+OK\r\n");
  EXPECT_EQ(Run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run({"SET", "b", "before"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"FLUSHDB"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"SET", "q", "after"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"FLUSHALL", "bad"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"GET", "b"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"GET", "q"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"EXEC"}),
            "*6\r\n+OK\r\n+OK\r\n+OK\r\n-ERR syntax error\r\n$-1\r\n$5\r\nafter\r\n");
  EXPECT_EQ(Run({"KEYS", "*"}), "*1\r\n$1\r\nq\r\n");
  // A watched key changed: nothing runs, the leading FLUSHDB included.
  EXPECT_EQ(Run({"WATCH", "q"}), "+OK\r\n");
  ASSERT_EQ(Run({"SET", "q", "changed"}), "+OK\r\n");
  EXPECT_EQ(Run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run({"FLUSHALL"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"SET", "r", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"EXEC"}), "*-1\r\n");
  EXPECT_EQ(Run({"GET", "q"}), "$7\r\nchanged\r\n");
  EXPECT_EQ(Run({"EXISTS", "r"}), ":0\r\n");
  // Unchanged: the walk runs.
  EXPECT_EQ(Run({"WATCH", "q"}), "+OK\r\n");
  EXPECT_EQ(Run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run({"FLUSHALL"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n");
  // A script runs in one group at apply time, where no walk of every group can: refused.
  ASSERT_EQ(Run({"SET", "s", "1"}), "+OK\r\n");
  // Redis 7.0's words for a command a script may not call (Redis itself allows these two).
  EXPECT_EQ(Run({"EVAL", "return redis.call('flushdb')", "0"}),
            "-ERR This Redis command is not allowed from script script: "
            "b17c48e9d3527c80892875389eb29cf1f2652f6a, on @user_script:1.\r\n");
  EXPECT_EQ(Run({"EVAL", "return redis.pcall('FLUSHALL', 'ASYNC')", "0"}),
            "-ERR This Redis command is not allowed from script\r\n");
  EXPECT_EQ(Run({"EXISTS", "s"}), ":1\r\n");
}

TEST(GlobTest, RedisPatterns) {
  using redis_core::GlobMatch;
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("h[b-a]llo", "hallo"));
  EXPECT_TRUE(GlobMatch("\\*x", "*x"));
  EXPECT_FALSE(GlobMatch("\\*x", "ax"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYbZc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXXbYY"));
  EXPECT_TRUE(GlobMatch("*a*a*a*a*a*a*b", std::string(30, 'a') + "b"));
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*b", std::string(3000, 'a')));
}

// MULTI queues, EXEC runs in order; without a server (no loop to run the node's own
// commands on at EXEC), a command the executor cannot run is refused while queuing and
// aborts EXEC. With one, EXEC runs it (DifferentialTest.ServerCommandsInTransactions).
TEST_F(CommandTest, MultiQueuesAndRefusesServerCommands) {
  EXPECT_EQ(Run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run({"INFO"}), "-ERR Command not allowed inside a transaction\r\n");
  EXPECT_EQ(Run({"KEYS", "*"}), "-ERR Command not allowed inside a transaction\r\n");
  EXPECT_EQ(Run({"SET", "k", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(Run({"MULTI"}), "+OK\r\n");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Run({"INCR", "k"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"EXEC"}), "*3\r\n:1\r\n:2\r\n:3\r\n");
}

}  // namespace
}  // namespace ekv::redis
