// The core half of scripting (core/redis/script_runner.h, script_calls.cc): a script
// request's encoding, the refusal without a runner, and the redis.call path through the
// request's one executor (earlier writes seen, one batch, checks as Redis makes them),
// driven by a scripted fake runner instead of Lua.
#include <functional>
#include <string>
#include <vector>

#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/redis/executor.h"
#include "core/redis/request.h"
#include "core/redis/script_runner.h"
#include "core/redis/store.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

// Runs each listed command through ScriptCalls and answers an array of their replies.
class ListRunner final : public ScriptRunner {
 public:
  absl::StatusOr<Reply> Run(const RedisRequest::Script& script, ScriptCalls& calls) const override {
    std::vector<Reply> replies;
    for (const std::string& line : script.args) {
      std::vector<std::string> args;
      size_t start = 0;
      while (start <= line.size()) {
        size_t space = line.find(' ', start);
        if (space == std::string::npos) space = line.size();
        args.push_back(line.substr(start, space - start));
        start = space + 1;
      }
      absl::StatusOr<Reply> reply = calls.Call(args);
      if (!reply.ok()) return reply.status();
      replies.push_back(*reply);
    }
    return Reply::Array(std::move(replies));
  }
};

RedisRequest ScriptRequest(std::vector<std::string> lines, bool read_only = false) {
  RedisRequest request;
  request.routing_key = "k";
  request.now_ms = 1000;
  request.seed = 7;
  request.script = RedisRequest::Script{"body", {"k"}, std::move(lines), read_only, ""};
  return request;
}

class ScriptRequestTest : public ::testing::Test {
 protected:
  Reply Execute(const RedisRequest& request, const ScriptEnvironment* scripts, bool write = true) {
    const kv::Timestamp ts = write ? kv::MakeTimestamp(1000, ++logical_) : 0;
    Store store(&engine_, &mvcc_);
    RequestOutcome outcome = ExecuteRequest(request, &store, 1000, ts, scripts);
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    if (write) {
      kv::MvccBatch batch;
      EXPECT_TRUE(store.Flush(&batch, ts).ok());
      EXPECT_TRUE(mvcc_.Apply(batch).ok());
    }
    return outcome.reply;
  }

  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  uint64_t logical_ = 0;
  ListRunner runner_;
};

TEST(ScriptRequestCodecTest, RoundTripsAndKeepsOldEncodings) {
  RedisRequest request = ScriptRequest({"set k v", "get k"}, /*read_only=*/true);
  request.script->keys = {"k", "k2"};
  absl::StatusOr<RedisRequest> decoded = DecodeRedisRequest(EncodeRedisRequest(request));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, request);
  // A request without a script encodes as before (no trailer) and still needs a command.
  RedisRequest plain;
  plain.routing_key = "k";
  plain.commands = {{"get", "k"}};
  ASSERT_TRUE(DecodeRedisRequest(EncodeRedisRequest(plain)).ok());
  plain.commands.clear();
  EXPECT_FALSE(DecodeRedisRequest(EncodeRedisRequest(plain)).ok());
  // A script request carries no commands.
  request.commands = {{"get", "k"}};
  EXPECT_FALSE(DecodeRedisRequest(EncodeRedisRequest(request)).ok());
  // Truncated trailers are refused.
  std::string bytes = EncodeRedisRequest(ScriptRequest({"get k"}));
  bytes.pop_back();
  EXPECT_FALSE(DecodeRedisRequest(bytes).ok());
  // The declared keys are the request's keys (ownership is checked on them).
  EXPECT_EQ(RequestKeys(ScriptRequest({})), (std::vector<std::string>{"k", "k"}));
}

// The user's ACL rules ride as their own trailer (tag 3), after a script or an EXEC's
// script bodies, and only when there are any: requests without them encode as before.
TEST(ScriptRequestCodecTest, UserAclRulesRoundTripAfterTheOtherTrailers) {
  RedisRequest script = ScriptRequest({"get k"});
  const std::string without = EncodeRedisRequest(script);
  script.user_acl = "~x* resetchannels -@all +@scripting +set";
  const std::string with = EncodeRedisRequest(script);
  EXPECT_EQ(with.substr(0, without.size()), without);
  absl::StatusOr<RedisRequest> decoded = DecodeRedisRequest(with);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, script);
  RedisRequest exec;
  exec.routing_key = "k";
  exec.transaction = true;
  exec.commands = {{"evalsha", std::string(40, 'a'), "0"}};
  exec.script_bodies[std::string(40, 'a')] = "return 1";
  exec.user_acl = "~* resetchannels -@all +evalsha";
  decoded = DecodeRedisRequest(EncodeRedisRequest(exec));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, exec);
  // Truncated, empty, repeated or out-of-order trailers are refused.
  std::string bytes = with;
  bytes.pop_back();
  EXPECT_FALSE(DecodeRedisRequest(bytes).ok());
  script.user_acl.clear();
  EXPECT_FALSE(DecodeRedisRequest(without + std::string("\x03\x00", 2)).ok());
  EXPECT_FALSE(DecodeRedisRequest(with + std::string("\x03\x01x", 3)).ok());
  EXPECT_FALSE(DecodeRedisRequest(with + std::string("\x01", 1)).ok());
}

// FCALL's function name rides last (tag 5), after the keyspace event classes, and only on a
// function call: an EVAL encodes as before.
TEST(ScriptRequestCodecTest, FunctionNameRoundTripsLast) {
  RedisRequest call = ScriptRequest({"get k"});
  call.notify_flags = 1;
  const std::string eval = EncodeRedisRequest(call);
  call.script->function = "myfunc";
  const std::string with = EncodeRedisRequest(call);
  EXPECT_EQ(with.substr(0, eval.size()), eval);
  absl::StatusOr<RedisRequest> decoded = DecodeRedisRequest(with);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, call);
  EXPECT_EQ(decoded->script->function, "myfunc");
  // Truncated, empty, repeated, or without a script: refused.
  std::string bytes = with;
  bytes.pop_back();
  EXPECT_FALSE(DecodeRedisRequest(bytes).ok());
  EXPECT_FALSE(DecodeRedisRequest(eval + std::string("\x05\x00", 2)).ok());
  EXPECT_FALSE(DecodeRedisRequest(with + std::string("\x05\x01x", 3)).ok());
  RedisRequest plain;
  plain.routing_key = "k";
  plain.commands = {{"get", "k"}};
  EXPECT_FALSE(DecodeRedisRequest(EncodeRedisRequest(plain) + std::string("\x05\x01f", 3)).ok());
}

// What only a script returns (redis.setresp(3) booleans, {big_number=},
// {verbatim_string=}) travels from the group to the front door like any reply.
TEST(ScriptRequestCodecTest, ScriptOnlyReplyKindsRoundTrip) {
  const Reply reply = Reply::Array({Reply::Bool(true), Reply::Bool(false),
                                    Reply::BigNumber("12345678901234567890123"),
                                    Reply::Verbatim("markdown", "text"), Reply::Verbatim("", "x")});
  EXPECT_EQ(reply.elements[3].text, "mar:text");
  EXPECT_EQ(reply.elements[4].text, "   :x");
  absl::StatusOr<Reply> decoded = DecodeReply(EncodeReply(reply));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, reply);
  // A boolean other than 0/1 and a verbatim string without its format do not decode.
  Reply bad = Reply::Bool(true);
  bad.integer = 2;
  EXPECT_FALSE(DecodeReply(EncodeReply(bad)).ok());
  bad = Reply::Verbatim("txt", "x");
  bad.text = "tx";
  EXPECT_FALSE(DecodeReply(EncodeReply(bad)).ok());
}

TEST_F(ScriptRequestTest, WithoutARunnerAScriptIsAClearError) {
  EXPECT_EQ(Execute(ScriptRequest({"set k v"}), nullptr), Reply::Error(kNoScriptRunnerError));
  const ScriptEnvironment no_runner{nullptr, nullptr};
  EXPECT_EQ(Execute(ScriptRequest({"set k v"}), &no_runner), Reply::Error(kNoScriptRunnerError));
  EXPECT_EQ(engine_.size(), 0u) << "nothing written";
}

TEST_F(ScriptRequestTest, CallsSeeEarlierWritesAndAreCheckedAsRedisChecksThem) {
  const ScriptEnvironment scripts{&runner_, [](absl::string_view key) { return key != "far"; }};
  EXPECT_EQ(
      Execute(ScriptRequest({"set k 1", "incr k", "get k", "lpush k x", "get", "nosuch",
                             "ekv-stamp k", "get far", "rpush l a b", "lrange l 0 -1"}),
              &scripts),
      Reply::Array({Reply::Ok(), Reply::Integer(2), Reply::Bulk("2"), WrongTypeError(),
                    Reply::Error("ERR Wrong number of args calling Redis command from script"),
                    Reply::Error("ERR Unknown Redis command called from script"),
                    Reply::Error("ERR Unknown Redis command called from script"),
                    Reply::Error("ERR Script attempted to access a non local key in a "
                                 "cluster node"),
                    Reply::Integer(2), Reply::Array({Reply::Bulk("a"), Reply::Bulk("b")})}));
  // The script's writes were one batch, visible to the next request.
  EXPECT_EQ(Execute(ScriptRequest({"get k"}), &scripts), Reply::Array({Reply::Bulk("2")}));
  // Read-only scripts (EVAL_RO) refuse writes, as do scripts run as a query.
  const Reply refused = Reply::Error("ERR Write commands are not allowed from read-only scripts.");
  EXPECT_EQ(Execute(ScriptRequest({"set k 3", "get k"}, /*read_only=*/true), &scripts),
            Reply::Array({refused, Reply::Bulk("2")}));
  EXPECT_EQ(Execute(ScriptRequest({"set k 3"}), &scripts, /*write=*/false),
            Reply::Array({refused}));
}

// EVAL / EVALSHA queued in an EXEC (RunQueuedScript): run by EXEC's one executor with the
// runner, EVALSHA's body from the request's script_bodies, errors in their slots; the
// request round-trips with its bodies, and a script's KEYS are the EXEC's keys.
TEST_F(ScriptRequestTest, ScriptsQueuedInAnExecRunWithTheOtherCommands) {
  const ScriptEnvironment scripts{&runner_, nullptr};
  const std::string sha(40, 'a');
  RedisRequest exec;
  exec.routing_key = "k";
  exec.transaction = true;
  exec.script_bodies[sha] = "body";
  exec.commands = {{"set", "k", "1"},
                   {"EVAL", "body", "1", "k", "incr k", "get k"},
                   {"evalsha", std::string(40, 'A'), "0", "incr k"},
                   {"evalsha", std::string(40, 'b'), "0"},
                   {"evalsha", "short", "x"},
                   {"eval", "body", "x"},
                   {"eval", "body", "2", "k"},
                   {"eval_ro", "body", "0", "set k 9"},
                   {"get", "k"}};
  absl::StatusOr<RedisRequest> decoded = DecodeRedisRequest(EncodeRedisRequest(exec));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, exec);
  const Reply noscript = Reply::Error("NOSCRIPT No matching script. Please use EVAL.");
  EXPECT_EQ(Execute(exec, &scripts),
            Reply::Array({Reply::Ok(), Reply::Array({Reply::Integer(2), Reply::Bulk("2")}),
                          Reply::Array({Reply::Integer(3)}), noscript, noscript,
                          Reply::Error("ERR value is not an integer or out of range"),
                          Reply::Error("ERR Number of keys can't be greater than number of args"),
                          Reply::Array({Reply::Error(
                              "ERR Write commands are not allowed from read-only scripts.")}),
                          Reply::Bulk("3")}));
  EXPECT_EQ(QueuedCommandKeys({"EVAL", "body", "2", "a", "b", "arg"}),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(QueuedCommandKeys({"eval", "body", "3", "a"}).empty());
  // Without a runner (the simulator) a queued script answers the clear error in its slot.
  EXPECT_EQ(Execute(exec, nullptr).elements.at(1), Reply::Error(kNoScriptRunnerError));
  // Script bodies belong to an EXEC only.
  RedisRequest plain;
  plain.routing_key = "k";
  plain.commands = {{"get", "k"}};
  plain.script_bodies[sha] = "body";
  EXPECT_FALSE(DecodeRedisRequest(EncodeRedisRequest(plain)).ok());
}

// SORT's BY and GET patterns read keys the request does not name: only where the group's
// ownership check (the predicate the group hands ExecuteRequest) allows; a key it refuses
// answers Redis Cluster's words and nothing is written (STORE included). A script's SORT
// of a set with a constant BY is sorted, as Redis sorts it for scripts.
TEST_F(ScriptRequestTest, SortPatternKeysOnlyWhereTheGroupOwnsThem) {
  const ScriptEnvironment scripts{&runner_, [](absl::string_view key) { return key != "w_far"; }};
  auto command = [](std::vector<std::string> args) {
    RedisRequest request;
    request.routing_key = args[1];
    request.now_ms = 1000;
    request.commands = {std::move(args)};
    return request;
  };
  EXPECT_EQ(Execute(command({"rpush", "ids", "near", "far"}), &scripts), Reply::Integer(2));
  EXPECT_EQ(Execute(command({"mset", "w_near", "2", "w_far", "1"}), nullptr), Reply::Ok());
  EXPECT_EQ(Execute(command({"sort", "ids", "by", "w_*"}), &scripts),
            Reply::Error("ERR BY option of SORT denied in Cluster mode."));
  EXPECT_EQ(Execute(command({"sort", "ids", "alpha", "get", "w_*", "store", "dst"}), &scripts),
            Reply::Error("ERR GET option of SORT denied in Cluster mode."));
  EXPECT_EQ(Execute(command({"exists", "dst"}), &scripts), Reply::Integer(0));
  // Without the far element every pattern key is the group's.
  EXPECT_EQ(Execute(command({"lrem", "ids", "0", "far"}), &scripts), Reply::Integer(1));
  EXPECT_EQ(Execute(command({"sort", "ids", "by", "w_*", "get", "#", "get", "w_*"}), &scripts),
            Reply::Array({Reply::Bulk("near"), Reply::Bulk("2")}));
  // The same check holds for a script's redis.call.
  EXPECT_EQ(Execute(command({"rpush", "ids", "far"}), &scripts), Reply::Integer(2));
  EXPECT_EQ(Execute(ScriptRequest({"sort ids by w_*"}), &scripts),
            Reply::Array({Reply::Error("ERR BY option of SORT denied in Cluster mode.")}));
  // A set with a constant BY: unsorted for a client, sorted (ALPHA) for a script.
  EXPECT_EQ(Execute(command({"sadd", "s", "10", "9", "100"}), &scripts), Reply::Integer(3));
  EXPECT_EQ(Execute(command({"sort", "s", "by", "nosort"}), &scripts),
            Reply::Array({Reply::Bulk("9"), Reply::Bulk("10"), Reply::Bulk("100")}));
  EXPECT_EQ(
      Execute(ScriptRequest({"sort s by nosort"}), &scripts),
      Reply::Array({Reply::Array({Reply::Bulk("10"), Reply::Bulk("100"), Reply::Bulk("9")})}));
}

// A script's math.random seed (ScriptCalls::random_seed) is drawn from the request's seed:
// the same request gives the same seed on every replica, another request another one, and
// two scripts queued in one EXEC differ too.
class SeedRunner final : public ScriptRunner {
 public:
  absl::StatusOr<Reply> Run(const RedisRequest::Script&, ScriptCalls& calls) const override {
    return Reply::Integer(calls.random_seed());
  }
};

TEST_F(ScriptRequestTest, ScriptRandomSeedComesFromTheRequest) {
  SeedRunner runner;
  const ScriptEnvironment scripts{&runner, nullptr};
  RedisRequest request = ScriptRequest({});
  const Reply first = Execute(request, &scripts);
  EXPECT_EQ(Execute(request, &scripts), first);
  request.seed = 8;
  EXPECT_NE(Execute(request, &scripts), first);
  RedisRequest exec;
  exec.routing_key = "k";
  exec.seed = 7;
  exec.transaction = true;
  exec.commands = {{"EVAL", "body", "0"}, {"EVAL", "body", "0"}};
  const Reply both = Execute(exec, &scripts);
  ASSERT_EQ(both.elements.size(), 2u) << DebugString(both);
  EXPECT_NE(both.elements[0], both.elements[1]);
}

}  // namespace
}  // namespace ekv::redis_core
