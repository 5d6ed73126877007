// redis_core's executor over an in-memory engine (what a group runs at apply time), and
// the group's hook (GroupStateMachine: a Redis request as a kKv command or query).
#include <string>
#include <vector>

#include "core/kv/kv_command.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/redis/executor.h"
#include "core/redis/request.h"
#include "core/redis/store.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

class ExecutorTest : public ::testing::Test {
 protected:
  // Runs one command at `now_ms` as a group would (writes flushed only on success).
  Reply Run(std::vector<std::string> args, uint64_t now_ms) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.commands.push_back(args);
    const CommandInfo* info = FindCommand(args[0]);
    const bool write = info != nullptr && info->write;
    const kv::Timestamp ts = write ? kv::MakeTimestamp(now_ms, ++logical_) : 0;
    Store store(&engine_, &mvcc_);
    RequestOutcome outcome = ExecuteRequest(request, &store, now_ms, ts);
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    if (write) {
      kv::MvccBatch batch;
      EXPECT_TRUE(store.Flush(&batch, ts).ok());
      EXPECT_TRUE(mvcc_.Apply(batch).ok());
    }
    return outcome.reply;
  }
  size_t EngineRecords() { return engine_.size(); }

  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  uint64_t logical_ = 0;
};

const Reply kWrongType = WrongTypeError();

TEST_F(ExecutorTest, WrongTypeIsRefusedAndWritesNothing) {
  EXPECT_EQ(Run({"set", "s", "v"}, 1000), Reply::Ok());
  EXPECT_EQ(Run({"rpush", "l", "a", "b"}, 1000), Reply::Integer(2));
  const size_t records = EngineRecords();
  EXPECT_EQ(Run({"lpush", "s", "x"}, 1000), kWrongType);
  EXPECT_EQ(Run({"hset", "l", "f", "v"}, 1000), kWrongType);
  EXPECT_EQ(Run({"zadd", "s", "1", "m"}, 1000), kWrongType);
  EXPECT_EQ(Run({"sadd", "l", "m"}, 1000), kWrongType);
  EXPECT_EQ(Run({"incr", "l"}, 1000), kWrongType);
  EXPECT_EQ(EngineRecords(), records) << "a refused command writes nothing";
  EXPECT_EQ(Run({"get", "l"}, 1000), kWrongType);
  EXPECT_EQ(Run({"type", "l"}, 1000), Reply::Status("list"));
  EXPECT_EQ(Run({"type", "s"}, 1000), Reply::Status("string"));
  EXPECT_EQ(Run({"lrange", "l", "0", "-1"}, 1000),
            Reply::Array({Reply::Bulk("a"), Reply::Bulk("b")}));
  EXPECT_EQ(Run({"set", "l", "now a string"}, 1000), Reply::Ok()) << "SET ignores the type";
  EXPECT_EQ(Run({"llen", "l"}, 1000), kWrongType);
  EXPECT_EQ(Run({"rpush", "fresh", "x"}, 1000), Reply::Integer(1));
}

TEST_F(ExecutorTest, ExpiryFollowsThePassedInTime) {
  EXPECT_EQ(Run({"set", "s", "v", "px", "1000"}, 10'000), Reply::Ok());
  EXPECT_EQ(Run({"pttl", "s"}, 10'400), Reply::Integer(600));
  EXPECT_EQ(Run({"get", "s"}, 11'000), Reply::Bulk("v")) << "expired only once now > expiry";
  EXPECT_EQ(Run({"get", "s"}, 11'001), Reply::Nil());
  EXPECT_EQ(Run({"exists", "s"}, 11'001), Reply::Integer(0));
  EXPECT_EQ(Run({"ttl", "s"}, 11'001), Reply::Integer(-2));

  EXPECT_EQ(Run({"hset", "h", "a", "1", "b", "2"}, 20'000), Reply::Integer(2));
  EXPECT_EQ(Run({"expire", "h", "5"}, 20'000), Reply::Integer(1));
  EXPECT_EQ(Run({"ttl", "h"}, 21'000), Reply::Integer(4));
  EXPECT_EQ(Run({"hlen", "h"}, 25'000), Reply::Integer(2));
  EXPECT_EQ(Run({"hlen", "h"}, 25'001), Reply::Integer(0));
  EXPECT_EQ(Run({"type", "h"}, 25'001), Reply::Status("none"));
  // A new hash under the key: the expired one's fields do not come back.
  EXPECT_EQ(Run({"hset", "h", "c", "3"}, 25'002), Reply::Integer(1));
  EXPECT_EQ(Run({"hgetall", "h"}, 25'002), Reply::Map({Reply::Bulk("c"), Reply::Bulk("3")}));
  EXPECT_EQ(Run({"ttl", "h"}, 25'002), Reply::Integer(-1));
  EXPECT_EQ(Run({"incr", "n"}, 30'000), Reply::Integer(1));
  EXPECT_EQ(Run({"pexpire", "n", "10"}, 30'000), Reply::Integer(1));
  EXPECT_EQ(Run({"incr", "n"}, 30'011), Reply::Integer(1)) << "INCR of an expired counter";
}

TEST(RedisRequestTest, RoundTripAndTagDistinctFromKvPayloads) {
  RedisRequest request;
  request.routing_key = "k";
  request.now_ms = 123;
  request.seed = 7;
  request.commands = {{"lpush", "k", "a"}};
  const std::string bytes = EncodeRedisRequest(request);
  EXPECT_TRUE(IsRedisRequest(bytes));
  absl::StatusOr<RedisRequest> decoded = DecodeRedisRequest(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, request);
  EXPECT_FALSE(IsRedisRequest(kv::EncodeKvCommand(kv::SetHlcCeilingCommand{5})));
  EXPECT_FALSE(IsRedisRequest(node::EncodeKvQuery(kv::KvQuery::Get("k", 1))));
  EXPECT_FALSE(IsRedisRequest(""));
}

// The group hook: a Redis write is one applied entry whose reply rides in the result.
TEST(GroupRedisTest, WritesApplyAndReadsQuery) {
  node::GroupStateMachine group(1, std::nullopt);
  uint64_t index = 0;
  auto apply = [&](std::vector<std::string> args) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.now_ms = 50'000;
    request.commands.push_back(std::move(args));
    node::GroupCommand command;
    command.physical_ms = 50'000;
    command.payload = EncodeRedisRequest(request);
    node::Command entry;
    entry.kind = node::OpKind::kApply;
    entry.value = node::EncodeGroupCommand(command);
    node::ApplyResult applied = group.Apply(++index, entry);
    absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(*applied.value);
    EXPECT_TRUE(result.ok() && result->status().ok());
    return *DecodeReply(*result->value);
  };
  auto query = [&](std::vector<std::string> args) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.now_ms = 50'000;
    request.commands.push_back(std::move(args));
    node::GroupQuery q;
    q.payload = EncodeRedisRequest(request);
    absl::StatusOr<node::GroupResult> result =
        node::DecodeGroupResult(*group.Query(node::EncodeGroupQuery(q)));
    EXPECT_TRUE(result.ok() && result->status().ok());
    return *DecodeReply(*result->value);
  };
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(apply({"incr", "n"}), Reply::Integer(i));
  EXPECT_EQ(apply({"lpush", "l", "a", "b"}), Reply::Integer(2));
  EXPECT_EQ(group.applied_index(), index) << "each command is one applied entry";
  EXPECT_EQ(query({"get", "n"}), Reply::Bulk("5"));
  EXPECT_EQ(query({"lrange", "l", "0", "-1"}), Reply::Array({Reply::Bulk("b"), Reply::Bulk("a")}));
  EXPECT_TRUE(query({"lpush", "l", "c"}).is_error()) << "a query never writes";
  EXPECT_EQ(query({"llen", "l"}), Reply::Integer(2));
}

}  // namespace
}  // namespace ekv::redis_core
