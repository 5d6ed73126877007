// Redis EXEC over keys of several groups (core/coord/coordinator_redis.cc, the prepare in
// core/node/group_redis.cc, the staged locks' commit in core/kv): the group state machine
// staging writes in Percolator locks, and the coordinator's split EXEC, driven by a fake
// driver over real GroupStateMachines (groups 1 = ["", "m") and 2 = ["m", +inf), each a
// Raft group of one, every call applied at once).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/kv/kv_command.h"
#include "core/kv/memory_engine.h"
#include "core/kv/timestamp.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/redis/executor.h"
#include "core/redis/prepare_request.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"
#include "core/route/catalog.h"
#include "core/util/assert.h"
#include "gtest/gtest.h"

namespace ekv::coord {
namespace {

using redis_core::Reply;
using Args = std::vector<std::string>;

constexpr raft::NodeId kNode = 1;
constexpr uint64_t kLockTtlMs = 3000;

route::RouteCatalog Bootstrap() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EKV_ASSERT(catalog.ok(), "the demo catalog is valid");
  return *catalog;
}

// A reply's text for assertions: "OK", "1", "x", "(nil)", "[OK, 1]", "(nil array)", "-ERR ...".
std::string Text(const Reply& reply) {
  switch (reply.kind) {
    case Reply::Kind::kStatus:
    case Reply::Kind::kBulk:
      return reply.text;
    case Reply::Kind::kError:
      return absl::StrCat("-", reply.text);
    case Reply::Kind::kInteger:
      return absl::StrCat(reply.integer);
    case Reply::Kind::kNil:
      return "(nil)";
    case Reply::Kind::kNilArray:
      return "(nil array)";
    default: {
      std::string out = "[";
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        absl::StrAppend(&out, i == 0 ? "" : ", ", Text(reply.elements[i]));
      }
      return out + "]";
    }
  }
}

std::string ResultText(const node::GroupResult& result) {
  if (!result.status().ok()) return absl::StrCat("status: ", result.status().ToString());
  if (!result.value.has_value()) return "(no reply)";
  absl::StatusOr<Reply> reply = redis_core::DecodeReply(*result.value);
  if (!reply.ok()) return absl::StrCat("undecodable: ", reply.status().ToString());
  return Text(*reply);
}

class FakeDriver : public GroupView {
 public:
  // `coordinated`: whether a coordinator is attached (the group-only tests drive the
  // state machines directly).
  FakeDriver() : bootstrap_(Bootstrap()) {
    for (raft::GroupId g : {1, 2}) {
      groups_[g] = std::make_unique<node::GroupStateMachine>(
          g, g == 1 ? std::optional<route::RouteCatalog>(bootstrap_) : std::nullopt, bootstrap_,
          std::make_unique<kv::MemoryEngine>());
    }
    CoordinatorOptions options;
    options.node_id = kNode;
    options.request_timeout_us = 20'000'000;
    options.attempt_timeout_us = 200'000;
    options.default_lock_ttl_ms = kLockTtlMs;
    options.seed = 5;
    coordinator_ = std::make_unique<Coordinator>(options, this);
    coordinator_->SetTime(now_us_, wall_ms());
    coordinator_->OnCatalog(*groups_[1]->catalog());
  }

  bool Hosts(raft::GroupId group) const override { return groups_.count(group) != 0; }
  raft::NodeId LeaderOf(raft::GroupId group) const override {
    return Hosts(group) ? kNode : raft::kNoNode;
  }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override { return {}; }

  uint64_t wall_ms() const { return 1'000'000 + now_us_ / 1000; }
  void Advance(uint64_t us) { now_us_ += us; }
  // A timestamp as the oracle would issue it now.
  // (Above every group's timestamps, as the real oracle is above every completed write.)
  uint64_t NextTs() {
    oracle_ = std::max(oracle_ + 1, kv::MakeTimestamp(wall_ms(), 0));
    for (const auto& [g, machine] : groups_)
      oracle_ = std::max(oracle_, machine->max_timestamp() + 1);
    return oracle_;
  }
  // Calls seen, by kind of payload: prepares sent (a test of retries counts them).
  int prepares() const { return prepares_; }
  // Runs before each call is delivered (a test's concurrent writer).
  void set_before_call(std::function<void(const node::ClientRequest&)> hook) {
    before_call_ = std::move(hook);
  }

  // ---- straight to a group's state machine ----
  node::GroupResult ApplyRedis(raft::GroupId g, const redis_core::RedisRequest& request) {
    return ApplyPayload(g, redis_core::EncodeRedisRequest(request));
  }
  node::GroupResult ApplyRedis(raft::GroupId g, const redis_core::PrepareRequest& prepare) {
    return ApplyPayload(g, redis_core::EncodePrepareRequest(prepare));
  }
  node::GroupResult ApplyKv(raft::GroupId g, const kv::KvCommand& command) {
    return ApplyPayload(g, kv::EncodeKvCommand(command));
  }
  node::GroupResult QueryRedis(raft::GroupId g, const Args& args) {
    redis_core::RedisRequest request;
    request.routing_key = args.size() > 1 ? args[1] : "a";
    request.now_ms = wall_ms();
    request.commands = {args};
    node::GroupQuery query;
    query.op = node::GroupQueryOp::kKv;
    query.payload = redis_core::EncodeRedisRequest(request);
    std::optional<std::string> bytes = groups_.at(g)->Query(node::EncodeGroupQuery(query));
    EKV_ASSERT(bytes.has_value(), "a kv query answers");
    absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(*bytes);
    EKV_ASSERT(result.ok(), "a group result decodes");
    return *result;
  }

  // ---- through the coordinator ----
  OpResult Run(const std::function<OpId(Coordinator&)>& start) {
    coordinator_->SetTime(now_us_, wall_ms());
    const OpId op = start(*coordinator_);
    std::vector<GroupCall> pending;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      Effects effects = coordinator_->TakeEffects();
      for (OpDone& done : effects.done) {
        if (done.op == op) return std::move(done.result);
      }
      for (const TimerRequest& timer : effects.timers) timers_.emplace(timer.at_us, timer.timer);
      for (GroupCall& call : effects.calls) pending.push_back(std::move(call));
      if (!pending.empty()) {
        GroupCall call = std::move(pending.front());
        pending.erase(pending.begin());
        now_us_ += 100;
        coordinator_->SetTime(now_us_, wall_ms());
        if (before_call_) before_call_(call.request);
        coordinator_->OnCallReply(call.call, Execute(call.request));
        continue;
      }
      EKV_ASSERT(!timers_.empty(), "an operation without an answer waits for a timer");
      auto next = timers_.begin();
      now_us_ = std::max(now_us_, next->first);
      const TimerId timer = next->second;
      timers_.erase(next);
      coordinator_->SetTime(now_us_, wall_ms());
      coordinator_->OnTimer(timer);
    }
    ADD_FAILURE() << "operation did not finish";
    return OpResult{};
  }

  // A Redis request through StartRedisRequest: its reply as text (or the failure).
  std::string Redis(const std::vector<Args>& commands, bool transaction = false,
                    std::vector<redis_core::Watch> watches = {}) {
    redis_core::RedisRequest request;
    request.now_ms = wall_ms();
    request.transaction = transaction;
    request.commands = commands;
    request.watches = std::move(watches);
    request.user_acl = user_acl;
    request.notify_flags = notify_flags;
    bool write = false;
    for (const Args& args : commands) {
      const redis_core::CommandInfo* info = redis_core::FindCommand(args[0]);
      write = write || (info != nullptr && info->write);
      if (request.routing_key.empty() && info != nullptr) {
        for (const std::string& key : redis_core::CommandKeys(*info, args)) {
          request.routing_key = key;
          break;
        }
      }
    }
    if (request.routing_key.empty() && !request.watches.empty()) {
      request.routing_key = request.watches.front().key;
    }
    OpResult result = Run([&](Coordinator& c) {
      return c.StartRedisRequest(redis_core::EncodeRedisRequest(request), write);
    });
    if (!result.status.ok()) return absl::StrCat("failed: ", result.status.ToString());
    last_events.clear();
    if (result.group_result.value.has_value()) {
      absl::StatusOr<Reply> reply = redis_core::DecodeReply(*result.group_result.value);
      if (reply.ok()) last_events = reply->events();
    }
    return ResultText(result.group_result);
  }
  // Put in every request Redis() sends; the events of the last one's reply.
  std::string user_acl;
  uint32_t notify_flags = 0;
  std::vector<redis_core::KeyEvent> last_events;
  // Pipelined one-key commands through StartRedisPipeline: each reply as text.
  std::vector<std::string> Pipeline(const std::vector<Args>& commands) {
    redis_core::RedisPipeline pipeline;
    pipeline.now_ms = wall_ms();
    pipeline.seed = 7;
    for (const Args& args : commands) {
      const redis_core::CommandInfo* info = redis_core::FindCommand(args[0]);
      EKV_ASSERT(info != nullptr, "a pipelined command the executor knows");
      pipeline.commands.push_back({args, redis_core::CommandKeys(*info, args).at(0), info->write});
    }
    OpResult result = Run([&](Coordinator& c) { return c.StartRedisPipeline(pipeline); });
    std::vector<std::string> texts;
    if (!result.status.ok()) return {absl::StrCat("failed: ", result.status.ToString())};
    for (const node::GroupResult& reply : result.redis_replies) texts.push_back(ResultText(reply));
    return texts;
  }
  std::string Exec(const std::vector<Args>& commands, std::vector<redis_core::Watch> watches = {}) {
    return Redis(commands, /*transaction=*/true, std::move(watches));
  }
  uint64_t Stamp(const std::string& key) {
    const std::string text = Redis({{std::string(redis_core::kStampCommand), key}});
    uint64_t stamp = 0;
    EKV_ASSERT(absl::SimpleAtoi(text, &stamp), "a stamp is a number: ", text);
    return stamp;
  }

 private:
  node::GroupResult ApplyPayload(raft::GroupId g, std::string payload) {
    node::GroupCommand command;
    command.op = node::GroupCommandOp::kKv;
    command.physical_ms = wall_ms();
    command.payload = std::move(payload);
    node::ApplyResult applied = Apply(*groups_.at(g), node::EncodeGroupCommand(command));
    absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(applied.value.value_or(""));
    EKV_ASSERT(result.ok(), "a group result decodes");
    return *result;
  }

  node::ClientReply Execute(const node::ClientRequest& request) {
    node::ClientReply reply;
    reply.group = request.group;
    reply.status = node::ReplyStatus::kOk;
    if (request.kind == node::OpKind::kTimestamp) {
      reply.timestamp = NextTs();
      return reply;
    }
    node::GroupStateMachine& machine = *groups_.at(request.group);
    if (request.kind == node::OpKind::kQuery) {
      if (const uint64_t ts = machine.QueryReadTimestamp(request.value);
          ts > machine.read_floor_ts()) {
        Apply(machine, machine.EncodeReadFloorCommand(ts));
      }
      reply.value = machine.Query(request.value);
      reply.index = machine.applied_index();
      return reply;
    }
    EKV_ASSERT(request.kind == node::OpKind::kApply, "unexpected request kind");
    absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(request.value);
    if (command.ok() && redis_core::IsPrepareRequest(command->payload)) ++prepares_;
    node::ApplyResult applied = Apply(machine, request.value);
    reply.value = applied.value;
    reply.index = machine.applied_index();
    return reply;
  }

  node::ApplyResult Apply(node::GroupStateMachine& machine, const std::string& bytes) {
    node::Command command;
    command.kind = node::OpKind::kApply;
    command.value = bytes;
    return machine.Apply(machine.applied_index() + 1, command);
  }

  route::RouteCatalog bootstrap_;
  std::map<raft::GroupId, std::unique_ptr<node::GroupStateMachine>> groups_;
  std::unique_ptr<Coordinator> coordinator_;
  std::multimap<uint64_t, TimerId> timers_;
  std::function<void(const node::ClientRequest&)> before_call_;
  uint64_t now_us_ = 0;
  uint64_t oracle_ = 0;
  int prepares_ = 0;
};

redis_core::PrepareRequest Prepare(std::vector<Args> commands, uint64_t start_ts,
                                   std::string primary, uint64_t now_ms,
                                   std::vector<redis_core::Watch> watches = {}) {
  redis_core::PrepareRequest prepare;
  redis_core::RedisRequest& request = prepare.part;
  request.transaction = true;
  request.now_ms = now_ms;
  request.commands = std::move(commands);
  request.watches = std::move(watches);
  request.routing_key = redis_core::RequestKeys(request).size() > 1
                            ? redis_core::RequestKeys(request)[1]
                            : std::string();
  prepare.start_ts = start_ts;
  prepare.primary = std::move(primary);
  prepare.lock_ttl_ms = kLockTtlMs;
  return prepare;
}

kv::CommitCommand Commit(std::vector<std::string> keys, uint64_t start_ts, uint64_t commit_ts) {
  kv::CommitCommand command;
  command.keys = std::move(keys);
  command.start_ts = start_ts;
  command.commit_ts = commit_ts;
  return command;
}

kv::RollbackCommand Rollback(std::vector<std::string> keys, uint64_t start_ts) {
  kv::RollbackCommand command;
  command.keys = std::move(keys);
  command.start_ts = start_ts;
  return command;
}

// ---------------------------------------------------------------------------------------
// The group: prepare stages, commit applies, rollback discards.

TEST(RedisPrepareTest, StagedWritesAppearOnlyAtCommit) {
  FakeDriver driver;
  redis_core::RedisRequest set_old;
  set_old.routing_key = "a";
  set_old.commands = {{"SET", "a", "old"}};
  ASSERT_EQ(ResultText(driver.ApplyRedis(1, set_old)), "OK");
  const uint64_t start_ts = driver.NextTs();
  node::GroupResult prepared = driver.ApplyRedis(
      1, Prepare({{"INCR", "c"}, {"RPUSH", "b", "x", "y"}, {"GET", "a"}, {"SET", "a", "new"}},
                 start_ts, "a", driver.wall_ms()));
  ASSERT_EQ(ResultText(prepared), "[1, 2, old, OK]");
  // Every key named is locked: a reader meets the lock (and can resolve it).
  for (const Args& read :
       std::vector<Args>{{"GET", "a"}, {"LRANGE", "b", "0", "-1"}, {"GET", "c"}}) {
    node::GroupResult refused = driver.QueryRedis(1, read);
    ASSERT_EQ(refused.key_errors.size(), 1u) << read[1] << ": " << ResultText(refused);
    EXPECT_EQ(refused.key_errors[0].lock_start_ts, start_ts);
    EXPECT_EQ(refused.key_errors[0].lock_primary, "a");
    EXPECT_EQ(refused.code, absl::StatusCode::kUnavailable);
  }
  // Writes meet it too.
  redis_core::RedisRequest write;
  write.routing_key = "b";
  write.commands = {{"RPUSH", "b", "z"}};
  EXPECT_EQ(driver.ApplyRedis(1, write).key_errors.size(), 1u);

  const uint64_t commit_ts = driver.NextTs();
  node::GroupResult committed = driver.ApplyKv(1, Commit({"a", "b", "c"}, start_ts, commit_ts));
  ASSERT_TRUE(committed.status().ok()) << committed.status();
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"GET", "a"})), "new");
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"LRANGE", "b", "0", "-1"})), "[x, y]");
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"GET", "c"})), "1");
  // WATCH's stamp is the commit point, for the string and the collection alike.
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"ekv-stamp", "a"})), absl::StrCat(commit_ts));
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"ekv-stamp", "b"})), absl::StrCat(commit_ts));
  // A repeated commit is answered from the records; a rollback now is refused.
  EXPECT_TRUE(driver.ApplyKv(1, Commit({"a", "b", "c"}, start_ts, commit_ts)).status().ok());
  node::GroupResult late_rollback = driver.ApplyKv(1, Rollback({"b"}, start_ts));
  ASSERT_EQ(late_rollback.key_errors.size(), 1u);
  EXPECT_EQ(late_rollback.key_errors[0].code,
            static_cast<uint8_t>(kv::KeyErrorCode::kTxnCommitted));
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"LRANGE", "b", "0", "-1"})), "[x, y]");
  // Later writes of the keys land above the commit point.
  write.commands = {{"RPUSH", "b", "z"}};
  EXPECT_EQ(ResultText(driver.ApplyRedis(1, write)), "3");
}

TEST(RedisPrepareTest, RollbackLeavesNothingAndStopsALatePrepare) {
  FakeDriver driver;
  const uint64_t start_ts = driver.NextTs();
  const redis_core::PrepareRequest prepare =
      Prepare({{"SET", "a", "1"}, {"HSET", "h", "f", "v"}}, start_ts, "a", driver.wall_ms());
  ASSERT_EQ(ResultText(driver.ApplyRedis(1, prepare)), "[OK, 1]");
  // The same prepare again (a duplicate) locks nothing more.
  EXPECT_EQ(driver.ApplyRedis(1, prepare).code, absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(driver.ApplyKv(1, Rollback({"a", "h"}, start_ts)).status().ok());
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"GET", "a"})), "(nil)");
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"HGETALL", "h"})), "[]");
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"ekv-stamp", "h"})), "0");
  // Rolled back: a late copy of the prepare must not lock again, nor a commit apply.
  EXPECT_EQ(driver.ApplyRedis(1, prepare).code, absl::StatusCode::kAborted);
  EXPECT_FALSE(driver.ApplyKv(1, Commit({"a", "h"}, start_ts, driver.NextTs())).status().ok());
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"GET", "a"})), "(nil)");
}

TEST(RedisPrepareTest, AChangedWatchAbortsAndLocksNothing) {
  FakeDriver driver;
  redis_core::RedisRequest set;
  set.routing_key = "a";
  set.commands = {{"SET", "a", "1"}};
  ASSERT_EQ(ResultText(driver.ApplyRedis(1, set)), "OK");
  const uint64_t stamp = std::stoull(ResultText(driver.QueryRedis(1, {"ekv-stamp", "a"})));
  const uint64_t start_ts = driver.NextTs();
  node::GroupResult aborted = driver.ApplyRedis(
      1, Prepare({{"SET", "b", "2"}}, start_ts, "b", driver.wall_ms(), {{"a", stamp - 1}}));
  EXPECT_EQ(ResultText(aborted), "(nil array)");
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"GET", "b"})), "(nil)");  // no lock, no value
  node::GroupResult ok = driver.ApplyRedis(
      1, Prepare({{"SET", "b", "2"}}, driver.NextTs(), "b", driver.wall_ms(), {{"a", stamp}}));
  EXPECT_EQ(ResultText(ok), "[OK]");
  EXPECT_EQ(driver.QueryRedis(1, {"GET", "a"}).key_errors.size(), 1u) << "a watched key is locked";
}

TEST(RedisPrepareTest, AForeignLockOrANewerChangeRefusesThePrepare) {
  FakeDriver driver;
  const uint64_t first = driver.NextTs();
  ASSERT_EQ(
      ResultText(driver.ApplyRedis(1, Prepare({{"SET", "a", "1"}}, first, "a", driver.wall_ms()))),
      "[OK]");
  node::GroupResult locked =
      driver.ApplyRedis(1, Prepare({{"GET", "a"}}, driver.NextTs(), "a", driver.wall_ms()));
  ASSERT_EQ(locked.key_errors.size(), 1u) << ResultText(locked);
  EXPECT_EQ(locked.key_errors[0].lock_start_ts, first);
  ASSERT_TRUE(driver.ApplyKv(1, Commit({"a"}, first, driver.NextTs())).status().ok());
  // A start_ts older than the key's last change: a conflict (a new start_ts is needed).
  node::GroupResult stale =
      driver.ApplyRedis(1, Prepare({{"GET", "a"}}, first + 1, "a", driver.wall_ms()));
  ASSERT_EQ(stale.key_errors.size(), 1u) << ResultText(stale);
  EXPECT_EQ(stale.key_errors[0].code, static_cast<uint8_t>(kv::KeyErrorCode::kWriteConflict));
}

// ---------------------------------------------------------------------------------------
// The coordinator: EXEC over both groups.

TEST(RedisExecTest, AnExecOverTwoGroupsCommitsWithRepliesInOrder) {
  FakeDriver driver;
  ASSERT_EQ(driver.Redis({{"SET", "zed", "5"}}), "OK");
  EXPECT_EQ(driver.Exec({{"SET", "apple", "1"},
                         {"INCR", "zed"},
                         {"RPUSH", "list", "x"},
                         {"PING"},
                         {"GET", "zed"},
                         {"RENAME", "apple", "zoo"},
                         {"GET", "apple"}}),
            "[OK, 6, 1, PONG, 6, -CROSSSLOT Keys in request don't hash to the same slot, 1]");
  EXPECT_EQ(driver.prepares(), 2);
  EXPECT_EQ(driver.Redis({{"GET", "apple"}}), "1");
  EXPECT_EQ(driver.Redis({{"GET", "zed"}}), "6");
  EXPECT_EQ(driver.Redis({{"LRANGE", "list", "0", "-1"}}), "[x]");
  EXPECT_EQ(driver.Redis({{"EXISTS", "zoo"}}), "0");
  // A one-group EXEC keeps the one-entry path.
  EXPECT_EQ(driver.Exec({{"INCR", "zed"}, {"GET", "zed"}}), "[7, 7]");
  EXPECT_EQ(driver.prepares(), 2);
  // A read-only EXEC over both groups reads one consistent state.
  EXPECT_EQ(driver.Exec({{"GET", "apple"}, {"GET", "zed"}}), "[1, 7]");
}

// Each part of an EXEC over several groups carries the request's user ACL rules (its queued
// scripts' redis.calls are checked against them: without them a restricted user's script
// ran unchecked) and keyspace event classes; the parts' events come back with EXEC's reply.
TEST(RedisExecTest, PartsCarryTheCallersAclRulesAndNotifyClasses) {
  FakeDriver driver;
  driver.user_acl = "~* +@all -set";
  driver.notify_flags = redis_core::kNotifyKeyspace | redis_core::kNotifyAll;
  std::vector<redis_core::RedisRequest> parts;
  driver.set_before_call([&](const node::ClientRequest& request) {
    absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(request.value);
    if (!command.ok() || !redis_core::IsPrepareRequest(command->payload)) return;
    absl::StatusOr<redis_core::PrepareRequest> prepare =
        redis_core::DecodePrepareRequest(command->payload);
    ASSERT_TRUE(prepare.ok()) << prepare.status();
    parts.push_back(prepare->part);
  });
  EXPECT_EQ(driver.Exec({{"RPUSH", "apple", "1"}, {"INCR", "zed"}}), "[1, 1]");
  ASSERT_EQ(parts.size(), 2u);
  for (const redis_core::RedisRequest& part : parts) {
    EXPECT_EQ(part.user_acl, driver.user_acl);
    EXPECT_EQ(part.notify_flags, driver.notify_flags);
  }
  EXPECT_EQ(driver.last_events,
            (std::vector<redis_core::KeyEvent>{{"rpush", "apple"}, {"incrby", "zed"}}));
}

// ---------------------------------------------------------------------------------------
// Pipelined commands (coordinator_redis_pipeline.cc): one request per stretch of one group.

TEST(RedisPipelineTest, EachStretchOfOneGroupIsOneRequestAndRepliesKeepTheirOrder) {
  FakeDriver driver;
  std::vector<std::string> kinds;  // the calls the pipeline made, in order
  driver.set_before_call([&](const node::ClientRequest& request) {
    kinds.push_back(
        absl::StrCat(request.kind == node::OpKind::kApply ? "write" : "read", "@", request.group));
  });
  EXPECT_EQ(driver.Pipeline({{"SET", "apple", "1"},
                             {"INCR", "apple"},
                             {"SET", "zed", "5"},
                             {"INCR", "zed"},
                             {"GET", "apple"},
                             {"LPUSH", "apple", "x"},  // wrong type: answers alone
                             {"INCR", "apple"},
                             {"GET", "zed"},
                             {"GET", "zoo"}}),
            (std::vector<std::string>{
                "OK", "2", "OK", "6", "2",
                "-WRONGTYPE Operation against a key holding the wrong kind of value", "3", "6",
                "(nil)"}));
  EXPECT_EQ(kinds, (std::vector<std::string>{"write@1", "write@2", "write@1", "read@2"}))
      << "a stretch with a write is one entry, a read-only one one read";
  EXPECT_EQ(driver.Redis({{"GET", "apple"}}), "3");
}

TEST(RedisPipelineTest, ALockInTheWayIsResolvedAndTheStretchRunsOnce) {
  FakeDriver driver;
  ASSERT_EQ(driver.Redis({{"SET", "apple", "0"}}), "OK");
  // An EXEC whose coordinator died after preparing: its lock on apple is alive until its
  // TTL passes, then rolled back; the stretch waits for that and runs exactly once.
  const uint64_t start_ts = driver.NextTs();
  ASSERT_EQ(ResultText(driver.ApplyRedis(
                1, Prepare({{"SET", "apple", "lost"}}, start_ts, "apple", driver.wall_ms()))),
            "[OK]");
  EXPECT_EQ(driver.Pipeline({{"INCR", "apple"}, {"INCR", "apple"}, {"GET", "apple"}}),
            (std::vector<std::string>{"1", "2", "2"}));
  EXPECT_EQ(driver.Redis({{"GET", "apple"}}), "2");
}

TEST(RedisPipelineTest, AMalformedPipelineIsRefused) {
  FakeDriver driver;
  OpResult empty = driver.Run([](Coordinator& c) { return c.StartRedisPipeline({}); });
  EXPECT_EQ(empty.status.code(), absl::StatusCode::kInvalidArgument) << empty.status;
  redis_core::RedisPipeline keyless;
  keyless.commands.push_back({{"GET", "a"}, "", false});
  OpResult refused = driver.Run([&](Coordinator& c) { return c.StartRedisPipeline(keyless); });
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kInvalidArgument) << refused.status;
}

TEST(RedisExecTest, AChangedWatchInTheOtherGroupAbortsAndWritesNothing) {
  FakeDriver driver;
  ASSERT_EQ(driver.Redis({{"SET", "zed", "1"}}), "OK");
  const uint64_t stamp = driver.Stamp("zed");
  ASSERT_EQ(driver.Redis({{"SET", "zed", "2"}}), "OK");  // another client's change
  EXPECT_EQ(driver.Exec({{"SET", "apple", "1"}, {"SET", "zoo", "1"}}, {{"zed", stamp}}),
            "(nil array)");
  // Nothing written, nothing left locked (a locked key would make these reads resolve,
  // and a write lock would fail them once its TTL is long).
  EXPECT_EQ(driver.QueryRedis(1, {"GET", "apple"}).key_errors.size(), 0u);
  EXPECT_EQ(driver.QueryRedis(2, {"GET", "zoo"}).key_errors.size(), 0u);
  EXPECT_EQ(ResultText(driver.QueryRedis(1, {"EXISTS", "apple"})), "0");
  EXPECT_EQ(ResultText(driver.QueryRedis(2, {"EXISTS", "zoo"})), "0");
}

TEST(RedisExecTest, AnUnchangedWatchInTheOtherGroupLetsItCommit) {
  FakeDriver driver;
  ASSERT_EQ(driver.Redis({{"SET", "zed", "1"}}), "OK");
  const uint64_t stamp = driver.Stamp("zed");
  EXPECT_EQ(driver.Exec({{"SET", "apple", "1"}}, {{"zed", stamp}}), "[OK]");
  EXPECT_EQ(driver.Redis({{"GET", "apple"}}), "1");
  // The watched key was locked and unlocked, not changed: its stamp stays.
  EXPECT_EQ(driver.Stamp("zed"), stamp);
}

TEST(RedisExecTest, ALockOfAnAbandonedExecIsResolvedAndTheNextOneRetries) {
  FakeDriver driver;
  // An EXEC whose coordinator died after preparing both groups and committing nothing.
  const uint64_t start_ts = driver.NextTs();
  ASSERT_EQ(ResultText(driver.ApplyRedis(
                1, Prepare({{"SET", "apple", "lost"}}, start_ts, "apple", driver.wall_ms()))),
            "[OK]");
  ASSERT_EQ(ResultText(driver.ApplyRedis(
                2, Prepare({{"SET", "zed", "lost"}}, start_ts, "apple", driver.wall_ms()))),
            "[OK]");
  // Until its TTL passes the lock is alive: the new EXEC backs off and tries again; after
  // it, the lock is rolled back and the EXEC goes through.
  EXPECT_EQ(driver.Exec({{"SET", "apple", "1"}, {"SET", "zed", "2"}}), "[OK, OK]");
  EXPECT_GT(driver.prepares(), 2 + 1) << "the EXEC was prepared again after the conflict";
  EXPECT_EQ(driver.Redis({{"GET", "apple"}}), "1");
  EXPECT_EQ(driver.Redis({{"GET", "zed"}}), "2");
}

TEST(RedisExecTest, AReaderRollsACommittedExecForwardOnTheOtherGroup) {
  FakeDriver driver;
  const uint64_t start_ts = driver.NextTs();
  ASSERT_EQ(ResultText(driver.ApplyRedis(
                1, Prepare({{"SET", "apple", "1"}}, start_ts, "apple", driver.wall_ms()))),
            "[OK]");
  ASSERT_EQ(ResultText(driver.ApplyRedis(
                2, Prepare({{"RPUSH", "zed", "x"}}, start_ts, "apple", driver.wall_ms()))),
            "[1]");
  // The primary committed (the commit point); the coordinator died before group 2.
  ASSERT_TRUE(driver.ApplyKv(1, Commit({"apple"}, start_ts, driver.NextTs())).status().ok());
  // A reader of the secondary resolves the lock through the primary: committed.
  EXPECT_EQ(driver.Redis({{"LRANGE", "zed", "0", "-1"}}), "[x]");
  EXPECT_EQ(driver.Redis({{"RPUSH", "zed", "y"}}), "2");
}

TEST(RedisExecTest, AReaderRollsAnExpiredUncommittedExecBack) {
  FakeDriver driver;
  const uint64_t start_ts = driver.NextTs();
  ASSERT_EQ(ResultText(driver.ApplyRedis(
                1, Prepare({{"SET", "apple", "1"}}, start_ts, "apple", driver.wall_ms()))),
            "[OK]");
  ASSERT_EQ(ResultText(driver.ApplyRedis(
                2, Prepare({{"RPUSH", "zed", "x"}}, start_ts, "apple", driver.wall_ms()))),
            "[1]");
  driver.Advance((kLockTtlMs + 1) * 1000);
  EXPECT_EQ(driver.Redis({{"LRANGE", "zed", "0", "-1"}}), "[]");
  EXPECT_EQ(driver.Redis({{"GET", "apple"}}), "(nil)");
}

// ---------------------------------------------------------------------------------------
// The coordinator: single commands whose keys live in both groups (coordinator_redis_cross.cc)
// run as a one-command EXEC: read, run, write back under the locks.

TEST(RedisCrossCommandTest, RenameMovesAValueWithItsExpiryAcrossGroups) {
  FakeDriver driver;
  ASSERT_EQ(driver.Redis({{"SET", "apple", "v", "PX", "100000"}}), "OK");
  EXPECT_EQ(driver.Redis({{"RENAME", "apple", "zoo"}}), "OK");
  EXPECT_EQ(driver.prepares(), 2);
  EXPECT_EQ(driver.Redis({{"EXISTS", "apple"}}), "0");
  EXPECT_EQ(driver.Redis({{"GET", "zoo"}}), "v");
  const std::string pttl = driver.Redis({{"PTTL", "zoo"}});
  int64_t ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(pttl, &ms)) << pttl;
  EXPECT_GT(ms, 90'000);
  EXPECT_EQ(driver.Redis({{"RENAME", "apple", "zoo"}}), "-ERR no such key");
  ASSERT_EQ(driver.Redis({{"RPUSH", "list", "a", "b"}}), "2");
  EXPECT_EQ(driver.Redis({{"RENAMENX", "list", "zoo"}}), "0");
  EXPECT_EQ(driver.Redis({{"RENAMENX", "list", "zlist"}}), "1");
  EXPECT_EQ(driver.Redis({{"LRANGE", "zlist", "0", "-1"}}), "[a, b]");
  EXPECT_EQ(driver.Redis({{"TYPE", "list"}}), "none");
  // A collection overwritten by RENAME keeps nothing of the old one.
  ASSERT_EQ(driver.Redis({{"SADD", "set", "x"}}), "1");
  EXPECT_EQ(driver.Redis({{"RENAME", "set", "zlist"}}), "OK");
  EXPECT_EQ(driver.Redis({{"TYPE", "zlist"}}), "set");
  EXPECT_EQ(driver.Redis({{"SMEMBERS", "zlist"}}), "[x]");
}

TEST(RedisCrossCommandTest, SetListZsetAndStringCommandsAcrossGroups) {
  FakeDriver driver;
  ASSERT_EQ(driver.Redis({{"SADD", "aset", "m1", "m2"}}), "2");
  ASSERT_EQ(driver.Redis({{"SADD", "zset1", "m2", "m3"}}), "2");
  EXPECT_EQ(driver.Redis({{"SMOVE", "aset", "zset1", "m1"}}), "1");
  EXPECT_EQ(driver.Redis({{"SMOVE", "aset", "zset1", "nope"}}), "0");
  EXPECT_EQ(driver.Redis({{"SMEMBERS", "aset"}}), "[m2]");
  EXPECT_EQ(driver.Redis({{"SMEMBERS", "zset1"}}), "[m1, m2, m3]");
  EXPECT_EQ(driver.Redis({{"SINTER", "aset", "zset1"}}), "[m2]");
  EXPECT_EQ(driver.Redis({{"SUNIONSTORE", "bdst", "aset", "zset1"}}), "3");
  EXPECT_EQ(driver.Redis({{"SDIFFSTORE", "zdst", "zset1", "aset"}}), "2");
  EXPECT_EQ(driver.Redis({{"SMEMBERS", "zdst"}}), "[m1, m3]");
  // An empty result deletes the destination.
  EXPECT_EQ(driver.Redis({{"SINTERSTORE", "zdst", "aset", "nothing"}}), "0");
  EXPECT_EQ(driver.Redis({{"EXISTS", "zdst"}}), "0");
  ASSERT_EQ(driver.Redis({{"RPUSH", "alist", "a", "b", "c"}}), "3");
  EXPECT_EQ(driver.Redis({{"LMOVE", "alist", "zlist", "LEFT", "RIGHT"}}), "a");
  EXPECT_EQ(driver.Redis({{"RPOPLPUSH", "alist", "zlist"}}), "c");
  EXPECT_EQ(driver.Redis({{"BLMOVE", "zlist", "alist", "RIGHT", "LEFT", "0"}}), "a");
  EXPECT_EQ(driver.Redis({{"LRANGE", "alist", "0", "-1"}}), "[a, b]");
  EXPECT_EQ(driver.Redis({{"LRANGE", "zlist", "0", "-1"}}), "[c]");
  EXPECT_EQ(driver.Redis({{"LMOVE", "empty", "zlist", "LEFT", "RIGHT"}}), "(nil)");
  ASSERT_EQ(driver.Redis({{"ZADD", "az", "1", "x", "2", "y"}}), "2");
  ASSERT_EQ(driver.Redis({{"ZADD", "zz", "10", "y"}}), "1");
  EXPECT_EQ(driver.Redis({{"ZUNIONSTORE", "zout", "2", "az", "zz"}}), "2");
  EXPECT_EQ(driver.Redis({{"ZRANGE", "zout", "0", "-1"}}), "[x, y]");
  EXPECT_EQ(driver.Redis({{"ZCOUNT", "zout", "12", "12"}}), "1");
  EXPECT_EQ(driver.Redis({{"ZINTERSTORE", "aout", "2", "az", "zz"}}), "1");
  EXPECT_EQ(driver.Redis({{"ZRANGESTORE", "zr", "az", "0", "0"}}), "1");
  EXPECT_EQ(driver.Redis({{"ZRANGE", "zr", "0", "-1"}}), "[x]");
  ASSERT_EQ(driver.Redis({{"SET", "abits", "\xff"}}), "OK");
  ASSERT_EQ(driver.Redis({{"SET", "zbits", "\x0f"}}), "OK");
  EXPECT_EQ(driver.Redis({{"BITOP", "AND", "zout2", "abits", "zbits"}}), "1");
  EXPECT_EQ(driver.Redis({{"GET", "zout2"}}), "\x0f");
  EXPECT_EQ(driver.Redis({{"MSETNX", "ak", "1", "zk", "2"}}), "1");
  EXPECT_EQ(driver.Redis({{"MSETNX", "ak2", "1", "zk", "3"}}), "0");
  EXPECT_EQ(driver.Redis({{"GET", "zk"}}), "2");
  EXPECT_EQ(driver.Redis({{"EXISTS", "ak2"}}), "0");
  EXPECT_EQ(driver.Redis({{"COPY", "az", "zcopy"}}), "1");
  EXPECT_EQ(driver.Redis({{"ZRANGE", "zcopy", "0", "-1"}}), "[x, y]");
  // Errors are the command's own, and write nothing.
  EXPECT_EQ(driver.Redis({{"SMOVE", "alist", "zset1", "a"}}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(driver.Redis({{"LLEN", "alist"}}), "2");
}

TEST(RedisCrossCommandTest, AKeyChangedBetweenItsReadAndItsLockMakesItStartAgain) {
  FakeDriver driver;
  ASSERT_EQ(driver.Redis({{"SADD", "aset", "m"}}), "1");
  ASSERT_EQ(driver.Redis({{"SADD", "zset1", "z"}}), "1");
  // Just before the first prepare, another client takes m away and adds n.
  bool changed = false;
  driver.set_before_call([&](const node::ClientRequest& request) {
    if (changed || request.kind != node::OpKind::kApply) return;
    absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(request.value);
    if (!command.ok() || !redis_core::IsPrepareRequest(command->payload)) return;
    changed = true;
    redis_core::RedisRequest other;
    other.routing_key = "aset";
    other.now_ms = driver.wall_ms();
    other.commands = {{"SREM", "aset", "m"}, {"SADD", "aset", "n"}};
    other.transaction = true;
    ASSERT_EQ(ResultText(driver.ApplyRedis(1, other)), "[1, 1]");
  });
  EXPECT_EQ(driver.Redis({{"SMOVE", "aset", "zset1", "m"}}), "0");
  EXPECT_TRUE(changed);
  EXPECT_GT(driver.prepares(), 2) << "the stale run was rolled back and run again";
  driver.set_before_call(nullptr);
  EXPECT_EQ(driver.Redis({{"SMEMBERS", "aset"}}), "[n]");
  EXPECT_EQ(driver.Redis({{"SMEMBERS", "zset1"}}), "[z]");
}

}  // namespace
}  // namespace ekv::coord
