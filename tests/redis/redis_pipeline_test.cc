// Pipelined commands as one request (adapters/redis/pipeline_run.h): which commands join a
// run and its bounds (NextRun, no server), and over real sockets with the fake backend
// answering on another thread: order, SET then GET, exact INCR counts, an error in the
// middle answering alone, run-breaking commands, and a pipeline far past a run's bound.
#include "adapters/redis/pipeline_run.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/redis/redis_server.h"
#include "gtest/gtest.h"
#include "tests/redis/fake_backend.h"
#include "tests/redis/resp_client.h"

namespace ekv::redis {
namespace {

using Commands = std::vector<std::vector<std::string>>;
using testing::RespClient;

// The run NextRun takes from the front of `commands`, as the commands' names.
size_t RunOf(const Commands& commands, const ConnectionState& connection = ConnectionState(),
             const RunLimits& limits = {}) {
  PipelineRun run = NextRun(
      CommandTable::Default(), connection,
      [&](size_t i) { return i < commands.size() ? &commands[i] : nullptr; }, limits);
  EXPECT_EQ(run.commands.size(), run.specs.size());
  for (size_t i = 0; i < run.commands.size(); ++i) {
    EXPECT_TRUE(run.commands[i].args.empty()) << "the caller moves the args in";
  }
  return run.commands.size();
}

TEST(PipelineRunTest, PlainOneKeyDataCommandsJoinReadsAndWritesAlike) {
  const Commands commands = {
      {"SET", "a", "1"},       {"get", "a"},  {"INCR", "n"},     {"LPUSH", "l", "x"},
      {"hset", "h", "f", "v"}, {"MGET", "a"}, {"DEL", "a", "a"}, {"object", "encoding", "a"}};
  EXPECT_EQ(RunOf(commands), commands.size());
}

TEST(PipelineRunTest, KeyAndWriteFlagOfEachMember) {
  const Commands commands = {{"set", "k1", "v"}, {"get", "k2"}, {"object", "encoding", "k3"}};
  PipelineRun run = NextRun(CommandTable::Default(), ConnectionState(),
                            [&](size_t i) { return i < commands.size() ? &commands[i] : nullptr; });
  ASSERT_EQ(run.commands.size(), 3u);
  EXPECT_EQ(run.commands[0].key, "k1");
  EXPECT_TRUE(run.commands[0].write);
  EXPECT_EQ(run.commands[1].key, "k2");
  EXPECT_FALSE(run.commands[1].write);
  EXPECT_EQ(run.commands[2].key, "k3");
  EXPECT_EQ(run.specs[0]->name, "set");
}

TEST(PipelineRunTest, EveryOtherCommandEndsTheRun) {
  // Each of these, third in line, ends the run after two SETs; first in line, there is no
  // run at all (it goes alone through Dispatch).
  const Commands breakers = {
      {"MULTI"},
      {"EXEC"},
      {"WATCH", "a"},
      {"PING"},
      {"ECHO", "x"},
      {"BLPOP", "l", "0"},
      {"SUBSCRIBE", "c"},
      {"PUBLISH", "c", "m"},
      {"EVAL", "return 1", "0"},
      {"CLIENT", "LIST"},
      {"INFO"},
      {"SCAN", "0"},
      {"KEYS", "*"},
      {"AUTH", "pw"},
      {"NOSUCHCOMMAND", "a"},
      {"GET"},                       // wrong arity
      {"GET", ""},                   // an empty key
      {"DEL", "a", "b"},             // split per key
      {"MGET", "a", "b"},            // split per key
      {"MSET", "a", "1", "b", "2"},  // split per key
      {"MSET", "a", "1", "a"},       // a key without its value: TypedCommand answers it
      {"RENAME", "a", "b"},          // two keys: maybe two groups
      {"SMOVE", "s", "t", "m"},
      {"ekv-stamp", "a"},  // internal: not in the table
  };
  for (const std::vector<std::string>& breaker : breakers) {
    EXPECT_EQ(RunOf({{"SET", "a", "1"}, {"SET", "b", "2"}, breaker, {"SET", "c", "3"}}), 2u)
        << breaker[0];
    EXPECT_EQ(RunOf({breaker, {"SET", "a", "1"}, {"SET", "b", "2"}}), 0u) << breaker[0];
  }
  EXPECT_EQ(RunOf({{"SET", "a", "1"}}), 0u) << "one command is no run";
}

TEST(PipelineRunTest, ConnectionStatesThatCheckEachCommandAloneHaveNoRuns) {
  const Commands sets = {{"SET", "a", "1"}, {"SET", "b", "2"}};
  ConnectionState in_multi;
  in_multi.in_multi = true;
  EXPECT_EQ(RunOf(sets, in_multi), 0u) << "inside MULTI commands are queued";
  ConnectionState unauthenticated;
  unauthenticated.authenticated = false;
  EXPECT_EQ(RunOf(sets, unauthenticated), 0u) << "each must answer NOAUTH";
  ConnectionState subscribed;
  subscribed.channels.insert("c");
  EXPECT_EQ(RunOf(sets, subscribed), 0u);
}

TEST(PipelineRunTest, BoundedByCommandsAndArgumentBytes) {
  Commands many;
  for (int i = 0; i < 200; ++i) many.push_back({"INCR", "n"});
  EXPECT_EQ(RunOf(many), redis_core::kMaxPipelineCommands);
  RunLimits small;
  small.max_commands = 5;
  EXPECT_EQ(RunOf(many, ConnectionState(), small), 5u);
  // Bytes: "SET" + key + value per command; the run stops before the bound is passed,
  // but its first command always goes, however large.
  const std::string big(400 * 1024, 'v');
  const Commands bigs = {{"SET", "a", big}, {"SET", "b", big}, {"SET", "c", big}};
  EXPECT_EQ(RunOf(bigs), 2u);
  RunLimits tiny;
  tiny.max_arg_bytes = 10;
  EXPECT_EQ(RunOf(bigs, ConnectionState(), tiny), 0u) << "the second passes the bound";
  EXPECT_EQ(
      RunOf({{"SET", "a", "1"}, {"SET", "b", "2"}, {"SET", "c", "3"}}, ConnectionState(), tiny), 2u)
      << "5 + 5 bytes fit in 10, the third passes it";
}

class RedisPipelineServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServerOptions options;
    options.address = "127.0.0.1:0";
    server_ = std::make_unique<RedisServer>(options, &backend_);
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  void TearDown() override { server_->Stop(); }

  // Sends every command at once and reads every reply.
  std::vector<std::string> Pipeline(RespClient& client, const Commands& commands) {
    std::string batch;
    for (const std::vector<std::string>& args : commands) batch += testing::EncodeCommand(args);
    std::thread writer([&] { EXPECT_TRUE(client.SendRaw(batch)); });
    std::vector<std::string> replies;
    for (size_t i = 0; i < commands.size(); ++i) replies.push_back(client.ReadReply());
    writer.join();
    return replies;
  }

  FakeBackend backend_{/*async_mode=*/true};
  std::unique_ptr<RedisServer> server_;
};

std::string Bulk(const std::string& value) {
  return "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
}

TEST_F(RedisPipelineServerTest, SetThenGetInOnePipelineReadsTheNewValue) {
  RespClient client(server_->port());
  ASSERT_TRUE(client.connected());
  const std::vector<std::string> replies =
      Pipeline(client, {{"SET", "k", "old"}, {"SET", "k", "new"}, {"GET", "k"}, {"GET", "k"}});
  EXPECT_EQ(replies, (std::vector<std::string>{"+OK\r\n", "+OK\r\n", Bulk("new"), Bulk("new")}));
  EXPECT_GE(backend_.pipelines.load(), 1u) << "the commands went as one request";
}

TEST_F(RedisPipelineServerTest, PipelinedIncrementsCountExactly) {
  RespClient client(server_->port());
  constexpr int kIncrements = 500;
  Commands commands(kIncrements, std::vector<std::string>{"INCR", "counter"});
  const std::vector<std::string> replies = Pipeline(client, commands);
  for (int i = 0; i < kIncrements; ++i) {
    ASSERT_EQ(replies[i], ":" + std::to_string(i + 1) + "\r\n") << "reply " << i;
  }
  EXPECT_EQ(client.Call({"GET", "counter"}), Bulk(std::to_string(kIncrements)));
  EXPECT_GT(backend_.pipelined_commands.load(), 0u);
}

TEST_F(RedisPipelineServerTest, AnErrorInTheMiddleAnswersAloneAndTheRestRun) {
  RespClient client(server_->port());
  const std::vector<std::string> replies = Pipeline(client, {{"LPUSH", "list", "x"},
                                                             {"SET", "s", "1"},
                                                             {"INCR", "list"},  // wrong type
                                                             {"INCR", "s"},
                                                             {"HSET", "s", "f", "v"},  // wrong type
                                                             {"GET", "s"},
                                                             {"LLEN", "list"}});
  const std::string wrongtype =
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
  EXPECT_EQ(replies, (std::vector<std::string>{":1\r\n", "+OK\r\n", wrongtype, ":2\r\n", wrongtype,
                                               Bulk("2"), ":1\r\n"}));
}

TEST_F(RedisPipelineServerTest, RunBreakingCommandsKeepTheirPlace) {
  RespClient client(server_->port());
  const std::vector<std::string> replies = Pipeline(client, {{"SET", "a", "1"},
                                                             {"INCR", "a"},
                                                             {"PING"},
                                                             {"INCR", "a"},
                                                             {"MGET", "a", "b"},
                                                             {"INCR", "a"},
                                                             {"GET", "a"},
                                                             {"NOSUCH"},
                                                             {"GET", "a"}});
  EXPECT_EQ(
      replies,
      (std::vector<std::string>{
          "+OK\r\n", ":2\r\n", "+PONG\r\n", ":3\r\n", "*2\r\n$1\r\n3\r\n$-1\r\n", ":4\r\n",
          Bulk("4"), "-ERR unknown command 'NOSUCH', with args beginning with: \r\n", Bulk("4")}));
}

TEST_F(RedisPipelineServerTest, AThousandCommandsAnswerCompletelyAndInOrder) {
  RespClient client(server_->port());
  Commands commands;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "k" + std::to_string(i % 7);
    if (i % 3 == 0) {
      commands.push_back({"SET", key, std::to_string(i)});
    } else {
      commands.push_back({"GET", key});
    }
  }
  const std::vector<std::string> replies = Pipeline(client, commands);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 1000; ++i) {
    const std::vector<std::string>& args = commands[i];
    std::string expected;
    if (args[0] == "SET") {
      model[args[1]] = args[2];
      expected = "+OK\r\n";
    } else {
      auto it = model.find(args[1]);
      expected = it == model.end() ? "$-1\r\n" : Bulk(it->second);
    }
    ASSERT_EQ(replies[i], expected) << "reply " << i << " to " << args[0] << " " << args[1];
  }
  // Runs are bounded: 1000 commands need at least 1000 / 64 of them.
  EXPECT_GE(backend_.pipelines.load(), 1000 / redis_core::kMaxPipelineCommands);
  EXPECT_EQ(backend_.commands_run(), 1000u);
}

}  // namespace
}  // namespace ekv::redis
