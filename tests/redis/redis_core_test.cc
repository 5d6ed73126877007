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
#include "core/redis/keyspace_events.h"
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

// A plain SET (no NX, XX, GET or KEEPTTL, no expiry already past) does not read the old
// value; it must leave what the general path leaves.
TEST_F(ExecutorTest, PlainSetReplacesWhateverTheKeyHolds) {
  EXPECT_EQ(Run({"hset", "k", "f", "v"}, 1000), Reply::Integer(1));
  EXPECT_EQ(Run({"expire", "k", "100"}, 1000), Reply::Integer(1));
  EXPECT_EQ(Run({"set", "k", "s"}, 1000), Reply::Ok());
  EXPECT_EQ(Run({"type", "k"}, 1000), Reply::Status("string"));
  EXPECT_EQ(Run({"ttl", "k"}, 1000), Reply::Integer(-1)) << "the hash's TTL went with it";
  EXPECT_EQ(Run({"get", "k"}, 1000), Reply::Bulk("s"));
  EXPECT_EQ(Run({"hget", "k", "f"}, 1000), kWrongType);
  EXPECT_EQ(Run({"set", "k", "t", "px", "500"}, 2000), Reply::Ok());
  EXPECT_EQ(Run({"pttl", "k"}, 2000), Reply::Integer(500));
  EXPECT_EQ(Run({"set", "k", "u"}, 2100), Reply::Ok());
  EXPECT_EQ(Run({"pttl", "k"}, 2100), Reply::Integer(-1)) << "a plain SET drops the TTL";
  EXPECT_EQ(Run({"set", "k", "v", "px", "500"}, 3000), Reply::Ok());
  EXPECT_EQ(Run({"set", "k", "w", "keepttl"}, 3100), Reply::Ok());
  EXPECT_EQ(Run({"pttl", "k"}, 3100), Reply::Integer(400));
  EXPECT_EQ(Run({"set", "k", "x", "pxat", "3200"}, 3300), Reply::Ok()) << "an expiry already past";
  EXPECT_EQ(Run({"exists", "k"}, 3300), Reply::Integer(0));
  EXPECT_EQ(Run({"set", "k", "y", "pxat", "3400"}, 3300), Reply::Ok());
  EXPECT_EQ(Run({"pttl", "k"}, 3300), Reply::Integer(100));
  EXPECT_EQ(Run({"set", "k", "z"}, 3500), Reply::Ok()) << "over an expired string";
  EXPECT_EQ(Run({"get", "k"}, 3500), Reply::Bulk("z"));
  EXPECT_EQ(Run({"pttl", "k"}, 3500), Reply::Integer(-1));
}

RedisRequest OneCommand(std::vector<std::string> args) {
  RedisRequest request;
  request.routing_key = args.at(1);
  request.commands.push_back(std::move(args));
  return request;
}

TEST_F(ExecutorTest, EveryFormOfSetStopsAtATransactionsLock) {
  EXPECT_EQ(Run({"set", "k", "v"}, 1000), Reply::Ok());
  kv::LockRecord lock;
  lock.primary = "k";
  lock.start_ts = kv::MakeTimestamp(1500, 0);
  lock.ttl_ms = 1000;
  lock.value = "txn";
  kv::MvccBatch locks;
  locks.PutLock("k", lock);
  ASSERT_TRUE(mvcc_.Apply(locks).ok());
  const std::vector<std::vector<std::string>> commands = {{"set", "k", "w"},
                                                          {"set", "k", "w", "px", "100"},
                                                          {"set", "k", "w", "nx"},
                                                          {"set", "k", "w", "get"}};
  for (const std::vector<std::string>& args : commands) {
    Store store(&engine_, &mvcc_);
    RequestOutcome outcome =
        ExecuteRequest(OneCommand(args), &store, 2000, kv::MakeTimestamp(2000, ++logical_));
    EXPECT_EQ(outcome.status.code(), absl::StatusCode::kUnavailable)
        << args.size() << "-argument SET: " << outcome.status;
    EXPECT_TRUE(outcome.locked.has_value()) << args.size() << "-argument SET";
    EXPECT_FALSE(store.dirty()) << args.size() << "-argument SET";
  }
}

// A Store trusts its caller's note that a key has no lock (core/node read the lock of
// every key a request names just before the request runs) and does not read it again;
// keys not noted (a script's undeclared ones) are checked as before.
TEST_F(ExecutorTest, KeysNotedUnlockedAreNotReadForLocksAgain) {
  kv::LockRecord lock;
  lock.primary = "k";
  lock.start_ts = kv::MakeTimestamp(1500, 0);
  lock.ttl_ms = 1000;
  kv::MvccBatch locks;
  locks.PutLock("k", lock);
  locks.PutLock("m", lock);
  ASSERT_TRUE(mvcc_.Apply(locks).ok());

  Store plain(&engine_, &mvcc_);
  EXPECT_EQ(plain.CheckStringWritable("k").code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(plain.locked().has_value());

  // "k" noted: its (planted, contradicting) lock is not read; "m" still is.
  Store noted(&engine_, &mvcc_);
  noted.NoteUnlocked({"k"});
  EXPECT_TRUE(noted.CheckStringWritable("k").ok());
  EXPECT_TRUE(noted.GetString("k").ok());
  EXPECT_FALSE(noted.locked().has_value());
  EXPECT_EQ(noted.CheckStringWritable("m").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(noted.GetString("m").status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(noted.locked().has_value());
  EXPECT_EQ(noted.locked()->key, "m");
}

// Flush refuses a commit timestamp not above the key's newest version, whether the request
// read that version (INCR, APPEND: their read's seek answers the check) or not (plain SET).
TEST_F(ExecutorTest, FlushRefusesATimestampNotAboveTheNewestVersion) {
  kv::MvccBatch newer;
  newer.Put("k", "5", kv::MakeTimestamp(9000, 0));
  newer.Delete("gone", kv::MakeTimestamp(9000, 0));
  ASSERT_TRUE(mvcc_.Apply(newer).ok());
  const std::vector<std::vector<std::string>> commands = {
      {"incr", "k"},    {"append", "k", "x"}, {"set", "k", "v"}, {"set", "k", "v", "get"},
      {"incr", "gone"}, {"set", "gone", "v"}};
  for (const kv::Timestamp ts : {kv::MakeTimestamp(5000, 1), kv::MakeTimestamp(9000, 0)}) {
    for (const std::vector<std::string>& args : commands) {
      Store store(&engine_, &mvcc_);
      RequestOutcome outcome = ExecuteRequest(OneCommand(args), &store, 5000, ts);
      ASSERT_TRUE(outcome.status.ok()) << args[0] << " " << args[1] << ": " << outcome.status;
      kv::MvccBatch batch;
      const absl::Status flushed = store.Flush(&batch, ts);
      EXPECT_EQ(flushed.code(), absl::StatusCode::kInternal)
          << args[0] << " " << args[1] << " at " << ts << ": " << flushed;
    }
  }
  // Above the newest version the same writes go through.
  for (const std::vector<std::string>& args : commands) {
    Store store(&engine_, &mvcc_);
    const kv::Timestamp ts = kv::MakeTimestamp(9000, 1);
    RequestOutcome outcome = ExecuteRequest(OneCommand(args), &store, 9000, ts);
    ASSERT_TRUE(outcome.status.ok()) << args[0] << " " << args[1] << ": " << outcome.status;
    kv::MvccBatch batch;
    EXPECT_TRUE(store.Flush(&batch, ts).ok()) << args[0] << " " << args[1];
  }
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

// Redis users queue thousands of commands in one MULTI (Redis's own suite queues 10,000 XADDs):
// such an EXEC travels as one request and decodes whole.
TEST(RedisRequestTest, ATransactionOfTenThousandCommandsRoundTrips) {
  RedisRequest request;
  request.routing_key = "s";
  request.transaction = true;
  for (int i = 0; i < 10000; ++i) request.commands.push_back({"xadd", "s", "*", "item", "1"});
  absl::StatusOr<RedisRequest> decoded = DecodeRedisRequest(EncodeRedisRequest(request));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->commands.size(), 10000u);
  EXPECT_EQ(*decoded, request);
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

// The group reads the lock of every key a request names once (LockedRefusal) and its Store
// trusts that read: a key a transaction holds is still refused -- alone, in a pipelined
// run, named twice, in a read -- and the others are served.
TEST(GroupRedisTest, AKeyUnderATransactionsLockIsRefusedWhateverTheRequest) {
  node::GroupStateMachine group(1, std::nullopt);
  uint64_t index = 0;
  auto request_of = [](std::vector<std::vector<std::string>> commands) {
    RedisRequest request;
    request.routing_key = commands.at(0).at(1);
    request.now_ms = 50'000;
    request.transaction = commands.size() > 1;
    request.commands = std::move(commands);
    return request;
  };
  auto apply = [&](RedisRequest request) {
    node::GroupCommand command;
    command.physical_ms = 50'000;
    command.payload = EncodeRedisRequest(request);
    node::Command entry;
    entry.kind = node::OpKind::kApply;
    entry.value = node::EncodeGroupCommand(command);
    node::ApplyResult applied = group.Apply(++index, entry);
    absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(*applied.value);
    EXPECT_TRUE(result.ok());
    return *result;
  };
  auto query = [&](RedisRequest request) {
    node::GroupQuery q;
    q.payload = EncodeRedisRequest(request);
    absl::StatusOr<node::GroupResult> result =
        node::DecodeGroupResult(*group.Query(node::EncodeGroupQuery(q)));
    EXPECT_TRUE(result.ok());
    return *result;
  };
  ASSERT_TRUE(apply(request_of({{"set", "k", "old"}})).status().ok());

  kv::PrewriteCommand prewrite;
  prewrite.mutations = {kv::Mutation::Put("k", "txn")};
  prewrite.primary = "k";
  prewrite.start_ts = kv::MakeTimestamp(60'000, 0);
  prewrite.lock_ttl_ms = 3000;
  node::GroupCommand locking;
  locking.op = node::GroupCommandOp::kKv;
  locking.physical_ms = 50'000;
  locking.payload = kv::EncodeKvCommand(prewrite);
  node::Command entry;
  entry.kind = node::OpKind::kApply;
  entry.value = node::EncodeGroupCommand(locking);
  ASSERT_TRUE(group.Apply(++index, entry).ok);

  const std::vector<RedisRequest> refused = {request_of({{"set", "k", "v"}}),
                                             request_of({{"incr", "k"}}),
                                             request_of({{"set", "a", "1"}, {"set", "k", "v"}}),
                                             request_of({{"set", "k", "1"}, {"append", "k", "v"}})};
  for (const RedisRequest& request : refused) {
    const node::GroupResult result = apply(request);
    EXPECT_EQ(result.code, absl::StatusCode::kUnavailable)
        << request.commands.size() << " commands: " << result.message;
    ASSERT_EQ(result.key_errors.size(), 1u) << result.message;
    EXPECT_EQ(result.key_errors[0].key, "k");
  }
  const node::GroupResult read = query(request_of({{"get", "k"}}));
  EXPECT_EQ(read.code, absl::StatusCode::kUnavailable) << read.message;
  ASSERT_EQ(read.key_errors.size(), 1u) << read.message;

  const node::GroupResult other = apply(request_of({{"set", "a", "2"}, {"incr", "n"}}));
  ASSERT_TRUE(other.status().ok()) << other.message;
  const node::GroupResult got = query(request_of({{"get", "a"}}));
  ASSERT_TRUE(got.status().ok()) << got.message;
  EXPECT_EQ(*DecodeReply(*got.value), Reply::Bulk("2"));
}

// Keyspace notifications (keyspace_events.h): the classes as Redis parses and prints them,
// the request field and the reply trailer round-trip (older encodings unchanged), and a
// write applied by the group brings its events back in its reply; a read, an error, a
// write that changed nothing and a request without classes bring none.
TEST(KeyspaceEventsTest, ClassesParseAndPrintAsRedis) {
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("KA")), "AK");
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("gKE")), "gKE");
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("$lshzxeKE")), "$lshzxeKE");
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("nmE")), "nEm");
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("KEAn")), "AKE");  // n on, not shown
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("")), "");
  EXPECT_FALSE(ParseKeyspaceEvents("KEZ").has_value());
  EXPECT_EQ(RequestNotifyFlags(*ParseKeyspaceEvents("A")), 0u);   // no channel
  EXPECT_EQ(RequestNotifyFlags(*ParseKeyspaceEvents("KE")), 0u);  // no class
  EXPECT_NE(RequestNotifyFlags(*ParseKeyspaceEvents("Kl")), 0u);
}

TEST(KeyspaceEventsTest, RequestFlagsAndReplyEventsRoundTrip) {
  RedisRequest request;
  request.routing_key = "k";
  request.commands = {{"set", "k", "v"}};
  const std::string plain = EncodeRedisRequest(request);
  request.notify_flags = kNotifyKeyspace | kNotifyString;
  request.user_acl = "~* +@all";
  const std::string flagged = EncodeRedisRequest(request);
  EXPECT_EQ(flagged.substr(0, plain.size()), plain);  // an optional trailer after the old bytes
  absl::StatusOr<RedisRequest> decoded = DecodeRedisRequest(flagged);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, request);

  Reply reply = Reply::Array({Reply::Ok(), Reply::Integer(3)});
  const std::string bare = EncodeReply(reply);
  reply.events() = {{"set", "k"}, {"del", "other"}};
  const std::string with_events = EncodeReply(reply);
  EXPECT_EQ(with_events.substr(0, bare.size()), bare);
  absl::StatusOr<Reply> back = DecodeReply(with_events);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, reply);
  EXPECT_FALSE(DecodeReply(bare + "x").ok());
  // The lists live out of line: copies carry them, and an emptied list equals none.
  Reply copy = reply;
  EXPECT_EQ(copy, reply);
  EXPECT_EQ(copy.TakeEvents().size(), 2u);
  EXPECT_EQ(copy, Reply::Array({Reply::Ok(), Reply::Integer(3)}));
  EXPECT_EQ(reply.events().size(), 2u);
}

TEST(KeyspaceEventsTest, TheGroupReturnsTheEventsOfWhatAWriteChanged) {
  node::GroupStateMachine group(1, std::nullopt);
  uint64_t index = 0;
  auto apply = [&](std::vector<std::string> args, uint32_t flags) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.now_ms = 50'000;
    request.notify_flags = flags;
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
  const uint32_t all = kNotifyKeyspace | kNotifyAll | kNotifyNew;
  using Events = std::vector<KeyEvent>;
  EXPECT_EQ(apply({"rpush", "l", "a"}, all).events(), (Events{{"new", "l"}, {"rpush", "l"}}));
  EXPECT_EQ(apply({"rpush", "l", "b"}, 0).events(), Events{});
  EXPECT_EQ(apply({"lrem", "l", "0", "x"}, all).events(), Events{});
  EXPECT_EQ(apply({"incr", "l"}, all).events(), Events{});  // WRONGTYPE
  EXPECT_EQ(apply({"lpop", "l", "2"}, all).events(), (Events{{"lpop", "l"}, {"del", "l"}}));
  EXPECT_EQ(apply({"set", "s", "1", "px", "100000"}, kNotifyKeyspace | kNotifyGeneric).events(),
            (Events{{"expire", "s"}}));
}

}  // namespace
}  // namespace ekv::redis_core
