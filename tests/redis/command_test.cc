// The command handlers through CommandTable::Dispatch against a fake backend: replies
// byte for byte as Redis 7 gives them, and ekv's own refusals.
#include "adapters/redis/command_table.h"

#include <string>
#include <vector>

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
            "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n$-1\r\n");
  const std::string docs = Run({"COMMAND", "DOCS", "set"});
  EXPECT_EQ(docs.substr(0, 17), "*2\r\n$3\r\nset\r\n*6\r\n") << docs;
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

}  // namespace
}  // namespace ekv::redis
