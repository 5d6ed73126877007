// The background cleanup of dead Redis records (core/redis/cleanup.h): DEL of a big
// collection is one small write, later bounded passes remove its elements, a re-created
// key's elements survive, expired collections leave storage (not only reads), locked and
// foreign keys are left alone, and the group decides expiry by its replicated time.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kv/kv_command.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/redis/cleanup.h"
#include "core/redis/executor.h"
#include "core/redis/layout.h"
#include "core/redis/request.h"
#include "core/redis/store.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

class CleanupTest : public ::testing::Test {
 protected:
  // Runs one command at `now_ms` as a group would; returns the reply and, through
  // `ops`, how many engine writes it made.
  Reply Run(std::vector<std::string> args, uint64_t now_ms, size_t* ops = nullptr) {
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
      if (ops != nullptr) *ops = batch.engine_batch().ops().size();
      EXPECT_TRUE(mvcc_.Apply(batch).ok());
    }
    return outcome.reply;
  }

  // Fills hash `key` with `fields` fields in HSETs of 500.
  void FillHash(const std::string& key, int fields, const std::string& tag, uint64_t now_ms) {
    for (int first = 0; first < fields; first += 500) {
      std::vector<std::string> args = {"hset", key};
      for (int i = first; i < std::min(fields, first + 500); ++i) {
        args.push_back(absl::StrCat("f", i));
        args.push_back(absl::StrCat(tag, i));
      }
      ASSERT_EQ(Run(args, now_ms), Reply::Integer(std::min(fields, first + 500) - first));
    }
  }

  // One pass; returns its outcome (deletions applied).
  CleanupOutcome Pass(const std::string& start, uint64_t max_records, uint64_t now_ms,
                      const MayClean& may_clean = nullptr, bool drop_live = false) {
    kv::MvccBatch batch;
    absl::StatusOr<CleanupOutcome> outcome = PlanCleanup(
        engine_, mvcc_, CleanupPass{start, max_records}, now_ms, may_clean, &batch, drop_live);
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_TRUE(mvcc_.Apply(batch).ok());
    ++passes_;
    return *outcome;
  }
  // Passes from the start until the walk reaches the end (bounded).
  void Round(uint64_t max_records, uint64_t now_ms, const MayClean& may_clean = nullptr) {
    std::string start;
    for (int i = 0; i < 10'000; ++i) {
      CleanupOutcome outcome = Pass(start, max_records, now_ms, may_clean);
      if (!outcome.resume_key.has_value()) return;
      ASSERT_GT(*outcome.resume_key, start) << "a pass makes progress";
      start = *outcome.resume_key;
    }
    FAIL() << "a round never ended";
  }

  // Element records of `user_key`, any version.
  size_t ElementRecords(const std::string& user_key) {
    size_t count = 0;
    kv::IterOptions options;
    options.lower_bound = ElementNamespaceStart();
    options.upper_bound = ElementNamespaceEnd();
    auto it = engine_.NewIterator(options);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::optional<ParsedElementKey> parsed = ParseElementKey(it->key());
      if (parsed.has_value() && parsed->user_key == user_key) ++count;
    }
    return count;
  }
  bool HasMeta(const std::string& user_key) {
    absl::StatusOr<std::optional<std::string>> meta = engine_.Get(MetaKey(user_key));
    return meta.ok() && meta->has_value();
  }

  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  uint64_t logical_ = 0;
  int passes_ = 0;
};

TEST_F(CleanupTest, DelOfBigHashIsOneSmallWriteAndPassesRemoveItsElements) {
  FillHash("big", 10'000, "v", 1000);
  FillHash("other", 50, "o", 1000);
  ASSERT_EQ(ElementRecords("big"), 10'000u);
  size_t del_ops = 0;
  ASSERT_EQ(Run({"del", "big"}, 1000, &del_ops), Reply::Integer(1));
  EXPECT_LE(del_ops, 2u) << "DEL writes the metadata and the touch record, whatever the size";
  EXPECT_EQ(ElementRecords("big"), 10'000u) << "DEL leaves the elements to the cleanup";
  EXPECT_EQ(Run({"hlen", "big"}, 1000), Reply::Integer(0));

  // Bounded passes: 1000 records each, so at least ten of them.
  Round(1000, 1000);
  EXPECT_GE(passes_, 10);
  EXPECT_EQ(ElementRecords("big"), 0u);
  EXPECT_EQ(ElementRecords("other"), 50u) << "a live hash keeps every element";
  EXPECT_EQ(Run({"hlen", "other"}, 1000), Reply::Integer(50));
  EXPECT_EQ(Run({"hget", "other", "f49"}, 1000), Reply::Bulk("o49"));

  // A second round finds nothing to do and examines the live hash with one seek.
  passes_ = 0;
  Round(1000, 1000);
  EXPECT_EQ(passes_, 1);
}

TEST_F(CleanupTest, RecreatedKeyKeepsItsNewElements) {
  FillHash("h", 300, "old", 1000);
  ASSERT_EQ(Run({"del", "h"}, 1000), Reply::Integer(1));
  ASSERT_EQ(Run({"hset", "h", "f1", "new1", "g", "new-g"}, 1000), Reply::Integer(2));
  // An overwrite by another type kills a version too.
  ASSERT_EQ(Run({"rpush", "l", "a", "b", "c"}, 1000), Reply::Integer(3));
  ASSERT_EQ(Run({"set", "l", "now a string"}, 1000), Reply::Ok());
  ASSERT_EQ(Run({"sadd", "s", "x", "y"}, 1000), Reply::Integer(2));
  ASSERT_EQ(Run({"srem", "s", "x", "y"}, 1000), Reply::Integer(2));  // emptied: deleted
  ASSERT_EQ(Run({"sadd", "s", "z"}, 1000), Reply::Integer(1));
  Round(7, 1000);  // small passes: resumes land everywhere, mid-version included
  EXPECT_EQ(ElementRecords("h"), 2u);
  EXPECT_EQ(Run({"hgetall", "h"}, 1000), Reply::Map({Reply::Bulk("f1"), Reply::Bulk("new1"),
                                                     Reply::Bulk("g"), Reply::Bulk("new-g")}));
  EXPECT_EQ(ElementRecords("l"), 0u);
  EXPECT_EQ(Run({"get", "l"}, 1000), Reply::Bulk("now a string"));
  EXPECT_EQ(ElementRecords("s"), 1u);
  EXPECT_EQ(Run({"smembers", "s"}, 1000), Reply::Set({Reply::Bulk("z")}));
}

TEST_F(CleanupTest, ExpiredCollectionsLeaveStorageOnlyOnceExpired) {
  ASSERT_EQ(Run({"rpush", "l", "a", "b", "c"}, 10'000), Reply::Integer(3));
  ASSERT_EQ(Run({"zadd", "z", "1", "m1", "2", "m2"}, 10'000), Reply::Integer(2));
  ASSERT_EQ(Run({"pexpire", "l", "500"}, 10'000), Reply::Integer(1));
  ASSERT_EQ(Run({"pexpire", "z", "500"}, 10'000), Reply::Integer(1));
  ASSERT_EQ(Run({"persist", "z"}, 10'100), Reply::Integer(1));

  Round(100, 10'500);  // not yet: expired only once now > expiry
  EXPECT_TRUE(HasMeta("l"));
  EXPECT_EQ(ElementRecords("l"), 3u);
  EXPECT_EQ(Run({"lrange", "l", "0", "-1"}, 10'500),
            Reply::Array({Reply::Bulk("a"), Reply::Bulk("b"), Reply::Bulk("c")}));

  Round(100, 10'501);
  EXPECT_FALSE(HasMeta("l")) << "the expired list's metadata left storage";
  Round(100, 10'501);  // its elements, now of no live version
  EXPECT_EQ(ElementRecords("l"), 0u);
  EXPECT_EQ(Run({"exists", "l"}, 10'501), Reply::Integer(0));
  EXPECT_TRUE(HasMeta("z")) << "PERSIST made it live for ever";
  EXPECT_EQ(ElementRecords("z"), 4u) << "two members, each in the member and score index";
  EXPECT_EQ(Run({"zcard", "z"}, 10'501), Reply::Integer(2));
  // A key re-created after the cleanup is a fresh one.
  ASSERT_EQ(Run({"rpush", "l", "d"}, 10'600), Reply::Integer(1));
  EXPECT_EQ(Run({"lrange", "l", "0", "-1"}, 10'600), Reply::Array({Reply::Bulk("d")}));
}

TEST_F(CleanupTest, LockedAndForeignKeysAreLeftForALaterPass) {
  FillHash("locked", 20, "v", 1000);
  FillHash("foreign", 20, "v", 1000);
  ASSERT_EQ(Run({"del", "locked"}, 1000), Reply::Integer(1));
  ASSERT_EQ(Run({"del", "foreign"}, 1000), Reply::Integer(1));
  kv::LockRecord lock;
  lock.primary = "locked";
  lock.start_ts = kv::MakeTimestamp(2000, 0);
  lock.ttl_ms = 3000;
  lock.kind = kv::MutationKind::kRedisStaged;
  ASSERT_TRUE(mvcc_.PutLock("locked", lock).ok());
  const MayClean not_foreign = [](absl::string_view key) { return key != "foreign"; };
  Round(1000, 1000, not_foreign);
  EXPECT_EQ(ElementRecords("locked"), 20u) << "a transaction's lock freezes the key";
  EXPECT_EQ(ElementRecords("foreign"), 20u) << "a key the group may not write stays";
  ASSERT_TRUE(mvcc_.DeleteLock("locked").ok());
  Round(1000, 1000, not_foreign);
  EXPECT_EQ(ElementRecords("locked"), 0u);
  Round(1000, 1000);
  EXPECT_EQ(ElementRecords("foreign"), 0u);
}

// The planted bug the simulator's list checker must catch does what it says.
// Touch records (WATCH stamps) of keys that hold nothing go once older than the retention,
// and the group's touch floor takes their place: a key's stamp never comes back to a value
// a WATCH saw before the key changed, so such an EXEC still aborts (cleanup.h).
TEST_F(CleanupTest, TouchRecordsOfDeletedKeysGoAndTheFloorKeepsWatchesHonest) {
  auto stamp = [&](const std::string& key, uint64_t now_ms) {
    Reply reply = Run({std::string(kStampCommand), key}, now_ms);
    EXPECT_EQ(reply.kind, Reply::Kind::kInteger) << DebugString(reply);
    return static_cast<uint64_t>(reply.integer);
  };
  auto has_touch = [&](const std::string& key) {
    absl::StatusOr<std::optional<std::string>> record = engine_.Get(TouchKey(key));
    return record.ok() && record->has_value();
  };
  // EXEC [INCR key] under a WATCH of `key` at `watched`: whether it ran.
  auto exec_runs = [&](const std::string& key, uint64_t watched, uint64_t now_ms) {
    RedisRequest request;
    request.routing_key = key;
    request.transaction = true;
    request.commands.push_back({"incr", key});
    request.watches.push_back({key, watched});
    const kv::Timestamp ts = kv::MakeTimestamp(now_ms, ++logical_);
    Store store(&engine_, &mvcc_);
    RequestOutcome outcome = ExecuteRequest(request, &store, now_ms, ts);
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    kv::MvccBatch batch;
    EXPECT_TRUE(store.Flush(&batch, ts).ok());
    EXPECT_TRUE(mvcc_.Apply(batch).ok());
    return outcome.reply.kind != Reply::Kind::kNilArray;
  };
  const uint64_t t0 = 1'000'000;
  // A WATCH of a key that never existed, then the key is created and deleted.
  const uint64_t before = stamp("gone", t0);
  ASSERT_EQ(Run({"hset", "gone", "f", "v"}, t0 + 1), Reply::Integer(1));
  ASSERT_EQ(Run({"del", "gone"}, t0 + 2), Reply::Integer(1));
  FillHash("live", 3, "v", t0 + 2);
  ASSERT_EQ(Run({"hset", "recent", "f", "v"}, t0 + 2), Reply::Integer(1));
  const uint64_t deleted = stamp("gone", t0 + 3);
  ASSERT_GT(deleted, before);

  // Within the retention the record stays.
  Round(1000, t0 + kTouchRecordRetentionMs);
  EXPECT_TRUE(has_touch("gone"));
  ASSERT_EQ(Run({"del", "recent"}, t0 + kTouchRecordRetentionMs), Reply::Integer(1));

  // Past it: the deleted key's record goes; a live key's and a just-deleted key's stay.
  const uint64_t later = t0 + kTouchRecordRetentionMs + 10;
  CleanupOutcome total;
  std::string start;
  for (int i = 0; i < 100; ++i) {
    CleanupOutcome outcome = Pass(start, 1000, later);
    total.touches_deleted += outcome.touches_deleted;
    if (!outcome.resume_key.has_value()) break;
    start = *outcome.resume_key;
  }
  EXPECT_EQ(total.touches_deleted, 1u);
  EXPECT_FALSE(has_touch("gone"));
  EXPECT_TRUE(has_touch("live"));
  EXPECT_TRUE(has_touch("recent"));

  // The stamp is the floor now: never below the removed one, so the WATCH taken before the
  // key changed still aborts EXEC, and a WATCH taken now lets it run.
  const uint64_t now_stamp = stamp("gone", later);
  EXPECT_GE(now_stamp, deleted);
  EXPECT_NE(now_stamp, before);
  EXPECT_FALSE(exec_runs("gone", before, later + 1)) << "ABA: the stamp came back";
  EXPECT_TRUE(exec_runs("gone", stamp("gone", later + 2), later + 3));
  // Written again: a new record, above the floor.
  EXPECT_GT(stamp("gone", later + 4), now_stamp);
}

TEST_F(CleanupTest, PlantedBugDropsLiveElements) {
  ASSERT_EQ(Run({"rpush", "l", "a", "b"}, 1000), Reply::Integer(2));
  Pass("", 100, 1000, nullptr, /*drop_live=*/true);
  EXPECT_EQ(ElementRecords("l"), 0u);
  EXPECT_TRUE(HasMeta("l")) << "the list still claims two elements: the checker's catch";
}

TEST(CleanupPassCodecTest, RoundTripAndDistinctTag) {
  const CleanupPass pass{"r\x45some", 1000};
  const std::string bytes = EncodeCleanupPass(pass);
  EXPECT_TRUE(IsCleanupPass(bytes));
  EXPECT_FALSE(IsRedisRequest(bytes));
  absl::StatusOr<CleanupPass> decoded = DecodeCleanupPass(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, pass);
  EXPECT_FALSE(IsCleanupPass(kv::EncodeKvCommand(kv::SetHlcCeilingCommand{5})));
  EXPECT_FALSE(IsCleanupPass(node::EncodeKvQuery(kv::KvQuery::Get("k", 1))));
  EXPECT_FALSE(IsCleanupPass(EncodeRedisRequest(RedisRequest{})));
  EXPECT_FALSE(DecodeCleanupPass(EncodeCleanupPass({"", 0})).ok()) << "max_records 0";
  EXPECT_FALSE(DecodeCleanupPass(EncodeCleanupPass({"", kMaxCleanupRecordsPerPass + 1})).ok());
}

// Through the group: a pass is one applied entry, and expiry is decided by the group's
// newest timestamp, not by the proposer's clock (a node whose clock runs an hour ahead
// must not remove a key every other request still sees).
TEST(GroupCleanupTest, PassIsAnEntryAndUsesTheGroupsTime) {
  node::GroupStateMachine group(1, std::nullopt);
  uint64_t index = 0;
  auto entry = [&](std::string payload, uint64_t physical_ms) {
    node::GroupCommand command;
    command.physical_ms = physical_ms;
    command.payload = std::move(payload);
    node::Command apply;
    apply.kind = node::OpKind::kApply;
    apply.value = node::EncodeGroupCommand(command);
    node::ApplyResult applied = group.Apply(++index, apply);
    absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(*applied.value);
    EXPECT_TRUE(result.ok() && result->status().ok())
        << (result.ok() ? result->message : result.status().ToString());
    return *result;
  };
  auto redis = [&](std::vector<std::string> args, uint64_t now_ms) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.now_ms = now_ms;
    request.commands.push_back(std::move(args));
    node::GroupResult result = entry(EncodeRedisRequest(request), now_ms);
    return *DecodeReply(*result.value);
  };
  auto query = [&](std::vector<std::string> args, uint64_t now_ms) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.now_ms = now_ms;
    request.commands.push_back(std::move(args));
    node::GroupQuery q;
    q.payload = EncodeRedisRequest(request);
    absl::StatusOr<node::GroupResult> result =
        node::DecodeGroupResult(*group.Query(node::EncodeGroupQuery(q)));
    EXPECT_TRUE(result.ok() && result->status().ok());
    return *DecodeReply(*result->value);
  };
  auto round = [&](uint64_t proposer_ms) {
    std::string start;
    for (int i = 0; i < 100; ++i) {
      node::GroupResult result = entry(EncodeCleanupPass({start, 3}), proposer_ms);
      if (!result.value.has_value()) return;
      start = *result.value;
    }
    ADD_FAILURE() << "a round never ended";
  };
  ASSERT_EQ(redis({"rpush", "l", "a", "b", "c", "d"}, 50'000), Reply::Integer(4));
  ASSERT_EQ(redis({"pexpire", "l", "1000"}, 50'000), Reply::Integer(1));
  ASSERT_EQ(redis({"hset", "h", "f", "v"}, 50'000), Reply::Integer(1));
  const uint64_t applied_before = group.applied_index();
  round(/*proposer_ms=*/50'000 + 3'600'000);
  EXPECT_GT(group.applied_index(), applied_before) << "passes are applied entries";
  EXPECT_EQ(query({"llen", "l"}, 50'500), Reply::Integer(4))
      << "a proposer's clock ahead of the group removed a live key";
  // The group's time moves past the expiry with a write elsewhere.
  ASSERT_EQ(redis({"set", "clock", "x"}, 51'001), Reply::Ok());
  round(/*proposer_ms=*/0);
  round(/*proposer_ms=*/0);
  EXPECT_EQ(query({"llen", "l"}, 51'001), Reply::Integer(0));
  EXPECT_EQ(query({"hget", "h", "f"}, 51'001), Reply::Bulk("v"));
  EXPECT_EQ(query({"exists", "l"}, 51'001), Reply::Integer(0));
}

}  // namespace
}  // namespace ekv::redis_core
