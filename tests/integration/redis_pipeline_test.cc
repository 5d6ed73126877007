// Pipelined commands on one connection over a 3-node cluster with two groups ("a..." on
// group 1, "z..." on group 2): the server sends consecutive one-key commands as one
// request per group (adapters/redis/pipeline_run.h, core/coord/coordinator_redis_pipeline.cc),
// and every reply must be what the command alone would have answered, in order: SET then
// GET reads the new value, N pipelined INCRs count exactly N, a wrong-type command errors
// alone, runs alternating between the groups keep their order, and a pipeline far longer
// than one run's bound answers completely.
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/redis_cluster_fixture.h"
#include "tests/redis/resp_client.h"

namespace ekv::integration {
namespace {

using Commands = std::vector<std::vector<std::string>>;
using redis::testing::RespClient;

std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

// Sends every command at once (one write) and reads every reply.
std::vector<std::string> Pipeline(RespClient& client, const Commands& commands) {
  std::string batch;
  for (const std::vector<std::string>& args : commands) {
    batch += redis::testing::EncodeCommand(args);
  }
  std::thread writer([&] { EXPECT_TRUE(client.SendRaw(batch)); });
  std::vector<std::string> replies;
  for (size_t i = 0; i < commands.size(); ++i) {
    replies.push_back(client.ReadReply(std::chrono::seconds(60)));
  }
  writer.join();
  return replies;
}

class RedisPipelineTest : public RedisTwoGroupClusterTest {};

TEST_F(RedisPipelineTest, PipelinesAnswerAsTheirCommandsAloneWouldInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  RespClient client(cluster().redis_port(1));
  ASSERT_TRUE(client.connected());

  // SET then GET of the same key in one pipeline, in each group.
  std::vector<std::string> replies = Pipeline(client, {{"SET", "a-k", "old"},
                                                       {"SET", "a-k", "new"},
                                                       {"GET", "a-k"},
                                                       {"SET", "z-k", "zz"},
                                                       {"GET", "z-k"},
                                                       {"GET", "a-k"}});
  EXPECT_EQ(replies, (std::vector<std::string>{"+OK\r\n", "+OK\r\n", Bulk("new"), "+OK\r\n",
                                               Bulk("zz"), Bulk("new")}));

  // N pipelined INCRs: exactly N, each reply one more than the last.
  constexpr int kIncrements = 300;
  Commands incrs(kIncrements, std::vector<std::string>{"INCR", "a-counter"});
  replies = Pipeline(client, incrs);
  for (int i = 0; i < kIncrements; ++i) {
    ASSERT_EQ(replies[i], absl::StrCat(":", i + 1, "\r\n")) << "INCR " << i;
  }

  // A wrong-type command in the middle errors alone; the commands after it run.
  const std::string wrongtype =
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
  replies = Pipeline(client, {{"LPUSH", "a-list", "x"},
                              {"INCR", "a-list"},
                              {"INCR", "a-counter"},
                              {"LPUSH", "a-counter", "y"},
                              {"LLEN", "a-list"},
                              {"GET", "a-counter"}});
  EXPECT_EQ(replies, (std::vector<std::string>{":1\r\n", wrongtype, ":301\r\n", wrongtype, ":1\r\n",
                                               Bulk("301")}));

  // Runs alternating between the groups (and commands that go alone) keep their order:
  // every read sees exactly the writes before it.
  Commands mixed;
  for (int i = 0; i < 60; ++i) {
    const std::string group_key = i % 4 < 2 ? "a-mix" : "z-mix";
    mixed.push_back({"APPEND", group_key, absl::StrCat(i, ",")});
    mixed.push_back({"GET", i % 3 == 0 ? "a-mix" : "z-mix"});
    if (i % 10 == 9) mixed.push_back({"MGET", "a-mix", "z-mix"});  // both groups, alone
  }
  replies = Pipeline(client, mixed);
  std::map<std::string, std::string> model;
  for (size_t i = 0; i < mixed.size(); ++i) {
    const std::vector<std::string>& args = mixed[i];
    std::string expected;
    if (args[0] == "APPEND") {
      model[args[1]] += args[2];
      expected = absl::StrCat(":", model[args[1]].size(), "\r\n");
    } else if (args[0] == "GET") {
      expected = model.count(args[1]) ? Bulk(model[args[1]]) : "$-1\r\n";
    } else {
      expected = absl::StrCat("*2\r\n", Bulk(model["a-mix"]), Bulk(model["z-mix"]));
    }
    ASSERT_EQ(replies[i], expected) << "reply " << i << " to " << args[0] << " " << args[1];
  }
}

TEST_F(RedisPipelineTest, AThousandCommandsPastTheRunBoundAnswerCompletely) {
  ASSERT_NO_FATAL_FAILURE(StartRedisCluster());
  RespClient client(cluster().redis_port(2));  // through a node that forwards or leads
  ASSERT_TRUE(client.connected());
  Commands commands;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = absl::StrCat(i % 2 == 0 ? "a-" : "z-", i % 5);
    if (i % 3 == 0) {
      commands.push_back({"SET", key, absl::StrCat(i)});
    } else {
      commands.push_back({"GET", key});
    }
  }
  const std::vector<std::string> replies = Pipeline(client, commands);
  std::map<std::string, std::string> model;
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::vector<std::string>& args = commands[i];
    std::string expected;
    if (args[0] == "SET") {
      model[args[1]] = args[2];
      expected = "+OK\r\n";
    } else {
      expected = model.count(args[1]) ? Bulk(model[args[1]]) : "$-1\r\n";
    }
    ASSERT_EQ(replies[i], expected) << "reply " << i << " to " << args[0] << " " << args[1];
  }
}

}  // namespace
}  // namespace ekv::integration
