// redis_core's executor on what the differential test cannot show: SCAN cursors over more
// than one page, random picks, limits ekv adds (SETBIT and LCS), copies that share no
// records with their source, and the keys the table names for the commands with counted
// keys (what routing and the CROSSSLOT check use).
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kv/kv_command.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/redis/executor.h"
#include "core/redis/layout.h"
#include "core/redis/request.h"
#include "core/redis/store.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

class ExecutorCommandsTest : public ::testing::Test {
 protected:
  Reply Run(std::vector<std::string> args, uint64_t seed = 1) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.seed = seed;
    request.commands.push_back(args);
    const CommandInfo* info = FindCommand(args[0]);
    const bool write = info != nullptr && info->write;
    const kv::Timestamp ts = write ? kv::MakeTimestamp(kNowMs, ++logical_) : 0;
    Store store(&engine_, &mvcc_);
    RequestOutcome outcome = ExecuteRequest(request, &store, kNowMs, ts);
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    if (write) {
      kv::MvccBatch batch;
      EXPECT_TRUE(store.Flush(&batch, ts).ok());
      EXPECT_TRUE(mvcc_.Apply(batch).ok());
    }
    return outcome.reply;
  }

  static constexpr uint64_t kNowMs = 1'000'000;
  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  uint64_t logical_ = 0;
};

// Walks a whole collection with `scan` pages of COUNT 7 and returns every element seen.
std::vector<std::string> WalkAll(ExecutorCommandsTest* test,
                                 const std::function<Reply(const std::string&)>& page,
                                 size_t step) {
  std::vector<std::string> seen;
  std::string cursor = "0";
  for (int pages = 0; pages < 1000; ++pages) {
    Reply reply = page(cursor);
    EXPECT_EQ(reply.kind, Reply::Kind::kArray) << DebugString(reply);
    if (reply.elements.size() != 2) return seen;
    for (size_t i = 0; i < reply.elements[1].elements.size(); i += step) {
      seen.push_back(reply.elements[1].elements[i].text);
    }
    cursor = reply.elements[0].text;
    if (cursor == "0") return seen;
  }
  ADD_FAILURE() << "the walk never ended";
  return seen;
}

TEST_F(ExecutorCommandsTest, ScansWalkEveryElementOnceOverManyPages) {
  std::vector<std::string> expected;
  // More than 128: hashes and sorted sets past Redis's listpack, which HSCAN and ZSCAN
  // answer in one page (HashInsertionOrder in redis_differential_test).
  for (int i = 0; i < 150; ++i) {
    const std::string name = absl::StrCat("m", 100 + i);
    expected.push_back(name);
    ASSERT_EQ(Run({"hset", "h", name, "v"}), Reply::Integer(1));
    ASSERT_EQ(Run({"sadd", "s", name}), Reply::Integer(1));
    ASSERT_EQ(Run({"zadd", "z", absl::StrCat(150 - i), name}), Reply::Integer(1));
  }
  for (const auto& [command, key, step] : std::vector<std::tuple<std::string, std::string, size_t>>{
           {"hscan", "h", 2}, {"sscan", "s", 1}, {"zscan", "z", 2}}) {
    std::vector<std::string> seen = WalkAll(
        this,
        [&, command = command, key = key](const std::string& cursor) {
          return Run({command, key, cursor, "COUNT", "7"});
        },
        step);
    EXPECT_EQ(seen, expected) << command;
  }
  // A page whose members all miss the pattern still moves the cursor on.
  Reply first = Run({"sscan", "s", "0", "COUNT", "5", "MATCH", "nothing*"});
  EXPECT_EQ(first, Reply::Array({Reply::Bulk("5"), Reply::Array()})) << DebugString(first);
  // ZSCAN's scores are strings, as Redis sends a small sorted set's.
  Reply z = Run({"zscan", "z", "0", "COUNT", "1000", "MATCH", "m100"});
  EXPECT_EQ(
      z, Reply::Array({Reply::Bulk("0"), Reply::Array({Reply::Bulk("m100"), Reply::Bulk("150")})}))
      << DebugString(z);
}

// A hash and a sorted set written before encodings were tracked (metadata format 1, field
// records holding bare values) read as they did: fields in byte order, values whole, and
// a write keeps them untracked (no sequence is mixed into their records).
// MEMORY USAGE's estimate: nil for no key, the key and value for a string, and for a
// collection more for more or bigger elements, whatever SAMPLES says.
TEST_F(ExecutorCommandsTest, MemoryUsageGrowsWithTheValue) {
  EXPECT_EQ(Run({"memory", "usage", "nope"}), Reply::Nil());
  ASSERT_EQ(Run({"set", "s", "abc"}), Reply::Status("OK"));
  const Reply small = Run({"memory", "usage", "s"});
  ASSERT_EQ(small.kind, Reply::Kind::kInteger) << DebugString(small);
  ASSERT_EQ(Run({"set", "s", std::string(1000, 'x')}), Reply::Status("OK"));
  const Reply big = Run({"memory", "usage", "s"});
  ASSERT_EQ(big.kind, Reply::Kind::kInteger) << DebugString(big);
  EXPECT_EQ(big.integer - small.integer, 997) << "the value's bytes";
  for (const std::string key : {"l", "h", "z", "set"}) {
    std::vector<int64_t> sizes;
    int filled = 0;
    for (int n : {1, 10, 100}) {
      for (; filled < n; ++filled) {
        const std::string element = absl::StrCat("element-", filled);
        if (key == "l") Run({"rpush", key, element});
        if (key == "h") Run({"hset", key, element, "value"});
        if (key == "z") Run({"zadd", key, absl::StrCat(filled), element});
        if (key == "set") Run({"sadd", key, element});
      }
      const Reply all = Run({"memory", "usage", key, "samples", "0"});
      ASSERT_EQ(all.kind, Reply::Kind::kInteger) << key << ": " << DebugString(all);
      const Reply usage = Run({"memory", "usage", key});
      ASSERT_EQ(usage.kind, Reply::Kind::kInteger) << key << ": " << DebugString(usage);
      sizes.push_back(usage.integer);
    }
    ASSERT_EQ(sizes.size(), 3u);
    EXPECT_LT(sizes[0], sizes[1]) << key;
    EXPECT_LT(sizes[1], sizes[2]) << key;
    EXPECT_GT(sizes[2], 100 * 8) << key << ": at least each element's bytes";
  }
}

TEST_F(ExecutorCommandsTest, RecordsWrittenBeforeEncodingsWereTrackedReadAsBefore) {
  Meta hash;
  hash.type = Type::kHash;
  hash.version_ts = kv::MakeTimestamp(kNowMs - 10, 0);
  hash.size = 3;
  hash.head = hash.tail = kListStartIndex;
  Meta zset = hash;
  zset.type = Type::kZset;
  zset.version_seq = 1;
  zset.size = 1;
  ASSERT_EQ(EncodeMeta(hash)[0], 1) << "an untracked record keeps format 1";
  {
    const kv::Timestamp ts = kv::MakeTimestamp(kNowMs - 10, 1);
    Store store(&engine_, &mvcc_);
    store.Put(MetaKey("old"), EncodeMeta(hash));
    for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
             {"zeta", "1"}, {"alpha", "two"}, {"mid", std::string(70, 'v')}}) {
      store.Put(ElementPrefix("old", hash) + field, value);
    }
    store.Put(MetaKey("oldz"), EncodeMeta(zset));
    store.Put(ElementPrefix("oldz", zset) + "m" + "a", std::string(8, '\0'));
    store.Put(ElementPrefix("oldz", zset) + "o" + EncodeScore(0) + "a", "");
    kv::MvccBatch batch;
    ASSERT_TRUE(store.Flush(&batch, ts).ok());
    ASSERT_TRUE(mvcc_.Apply(batch).ok());
  }
  auto bulks = [](std::vector<std::string> items) {
    std::vector<Reply> out;
    for (std::string& item : items) out.push_back(Reply::Bulk(std::move(item)));
    return out;
  };
  EXPECT_EQ(Run({"hget", "old", "alpha"}), Reply::Bulk("two"));
  EXPECT_EQ(Run({"hstrlen", "old", "mid"}), Reply::Integer(70));
  EXPECT_EQ(Run({"hset", "old", "beta", "3", "zeta", "9"}), Reply::Integer(1));
  EXPECT_EQ(Run({"hincrby", "old", "zeta", "1"}), Reply::Integer(10));
  EXPECT_EQ(Run({"hkeys", "old"}), Reply::Array(bulks({"alpha", "beta", "mid", "zeta"})));
  Reply all = Run({"hgetall", "old"});
  EXPECT_EQ(
      all,
      Reply::Map(bulks({"alpha", "two", "beta", "3", "mid", std::string(70, 'v'), "zeta", "10"})))
      << DebugString(all);
  EXPECT_EQ(Run({"hdel", "old", "mid"}), Reply::Integer(1));
  EXPECT_EQ(Run({"hscan", "old", "0", "COUNT", "2"}),
            Reply::Array({Reply::Bulk("2"), Reply::Array(bulks({"alpha", "two", "beta", "3"}))}));
  // By content, as before: three short fields now.
  EXPECT_EQ(Run({"object", "encoding", "old"}), Reply::Bulk("listpack"));
  EXPECT_EQ(Run({"zscore", "oldz", "a"}), Reply::Double(0));
  EXPECT_EQ(Run({"zadd", "oldz", "-0", "b"}), Reply::Integer(1));
  const Reply b = Run({"zscore", "oldz", "b"});
  EXPECT_EQ(b.kind, Reply::Kind::kDouble) << DebugString(b);
  EXPECT_TRUE(b.number == 0 && std::signbit(b.number)) << "untracked: -0 kept as before";
  // A copy keeps the record format of its source.
  EXPECT_EQ(Run({"copy", "old", "new"}), Reply::Integer(1));
  EXPECT_EQ(Run({"hgetall", "new"}), Run({"hgetall", "old"}));
}

TEST_F(ExecutorCommandsTest, RandomPicksAreDistinctAndDeterministicPerSeed) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Run({"zadd", "z", absl::StrCat(i), absl::StrCat("m", i)}), Reply::Integer(1));
    ASSERT_EQ(Run({"hset", "h", absl::StrCat("f", i), "v"}), Reply::Integer(1));
  }
  for (uint64_t seed = 1; seed < 20; ++seed) {
    Reply picks = Run({"zrandmember", "z", "5"}, seed);
    ASSERT_EQ(picks.elements.size(), 5u);
    std::set<std::string> distinct;
    for (const Reply& pick : picks.elements) distinct.insert(pick.text);
    EXPECT_EQ(distinct.size(), 5u) << DebugString(picks);
    EXPECT_EQ(Run({"zrandmember", "z", "5"}, seed), picks) << "same seed, same picks";
    EXPECT_EQ(Run({"hrandfield", "h", "-30"}, seed).elements.size(), 30u);
  }
  std::set<std::string> singles;
  for (uint64_t seed = 1; seed < 60; ++seed) singles.insert(Run({"hrandfield", "h"}, seed).text);
  EXPECT_GT(singles.size(), 5u) << "one field per call, but not always the same one";
}

TEST_F(ExecutorCommandsTest, SetBitAndLcsStayWithinEkvLimits) {
  const std::string beyond = absl::StrCat(kv::kMaxValueBytes * 8);
  EXPECT_EQ(Run({"setbit", "b", beyond, "1"}),
            Reply::Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  EXPECT_EQ(Run({"exists", "b"}), Reply::Integer(0)) << "a refused SETBIT writes nothing";
  EXPECT_EQ(Run({"setbit", "b", absl::StrCat(kv::kMaxValueBytes * 8 - 1), "1"}), Reply::Integer(0));
  EXPECT_EQ(Run({"strlen", "b"}), Reply::Integer(static_cast<int64_t>(kv::kMaxValueBytes)));
  EXPECT_EQ(Run({"bitcount", "b"}), Reply::Integer(1));
  EXPECT_EQ(Run({"bitpos", "b", "1"}),
            Reply::Integer(static_cast<int64_t>(kv::kMaxValueBytes * 8 - 1)));
  ASSERT_EQ(Run({"set", "big", std::string(20'000, 'a')}), Reply::Ok());
  EXPECT_EQ(Run({"lcs", "big", "big", "LEN"}),
            Reply::Error("ERR Insufficient memory, transient memory for LCS exceeds "
                         "proto-max-bulk-len"));
}

TEST_F(ExecutorCommandsTest, CopiesAreIndependentOfTheirSource) {
  ASSERT_EQ(Run({"rpush", "l", "a", "b"}), Reply::Integer(2));
  ASSERT_EQ(Run({"copy", "l", "l2"}), Reply::Integer(1));
  ASSERT_EQ(Run({"lpop", "l"}), Reply::Bulk("a"));
  EXPECT_EQ(Run({"lrange", "l2", "0", "-1"}), Reply::Array({Reply::Bulk("a"), Reply::Bulk("b")}));
  ASSERT_EQ(Run({"del", "l"}), Reply::Integer(1));
  EXPECT_EQ(Run({"llen", "l2"}), Reply::Integer(2));
  // Replacing a collection with a copy of another: none of the old elements show through.
  ASSERT_EQ(Run({"sadd", "s", "x", "y"}), Reply::Integer(2));
  ASSERT_EQ(Run({"sadd", "t", "z"}), Reply::Integer(1));
  ASSERT_EQ(Run({"copy", "t", "s", "replace"}), Reply::Integer(1));
  EXPECT_EQ(Run({"smembers", "s"}), Reply::Set({Reply::Bulk("z")}));
  // ZUNIONSTORE into one of its own inputs.
  ASSERT_EQ(Run({"zadd", "z", "1", "a"}), Reply::Integer(1));
  ASSERT_EQ(Run({"zunionstore", "z", "2", "z", "t"}), Reply::Integer(2));
  EXPECT_EQ(Run({"zrange", "z", "0", "-1", "withscores"}),
            Reply::Pairs({Reply::Bulk("a"), Reply::Double(1), Reply::Bulk("z"), Reply::Double(1)}));
}

TEST(CommandKeysTest, CountedKeysFollowTheFixedOnes) {
  auto keys = [](std::vector<std::string> args) {
    const CommandInfo* info = FindCommand(args[0]);
    EXPECT_NE(info, nullptr) << args[0];
    return info == nullptr ? std::vector<std::string>() : CommandKeys(*info, args);
  };
  using Keys = std::vector<std::string>;
  EXPECT_EQ(keys({"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"}), (Keys{"d", "a", "b"}));
  EXPECT_EQ(keys({"zdiffstore", "d", "1", "a"}), (Keys{"d", "a"}));
  EXPECT_EQ(keys({"zinter", "2", "a", "b", "WITHSCORES"}), (Keys{"a", "b"}));
  EXPECT_EQ(keys({"sintercard", "2", "a", "b", "LIMIT", "1"}), (Keys{"a", "b"}));
  EXPECT_EQ(keys({"bitop", "and", "d", "a", "b"}), (Keys{"d", "a", "b"}));
  EXPECT_EQ(keys({"zrangestore", "d", "s", "0", "-1"}), (Keys{"d", "s"}));
  EXPECT_EQ(keys({"smove", "a", "b", "m"}), (Keys{"a", "b"}));
  EXPECT_EQ(keys({"copy", "a", "b", "REPLACE"}), (Keys{"a", "b"}));
  EXPECT_EQ(keys({"lcs", "a", "b", "IDX"}), (Keys{"a", "b"}));
}

// OBJECT ENCODING at Redis 7.0's default thresholds (the differential test shows the small
// cases), and IDLETIME from the key's last write.
TEST_F(ExecutorCommandsTest, ObjectEncodingThresholdsAndIdleTime) {
  std::vector<std::string> sadd = {"sadd", "ints"};
  for (int i = 0; i < 512; ++i) sadd.push_back(std::to_string(i));
  ASSERT_EQ(Run(sadd), Reply::Integer(512));
  EXPECT_EQ(Run({"object", "encoding", "ints"}), Reply::Bulk("intset"));
  ASSERT_EQ(Run({"sadd", "ints", "512"}), Reply::Integer(1));
  EXPECT_EQ(Run({"object", "encoding", "ints"}), Reply::Bulk("hashtable"));
  std::vector<std::string> hset = {"hset", "h"};
  for (int i = 0; i < 128; ++i) {
    hset.push_back(absl::StrCat("f", i));
    hset.push_back("v");
  }
  ASSERT_EQ(Run(hset), Reply::Integer(128));
  EXPECT_EQ(Run({"object", "encoding", "h"}), Reply::Bulk("listpack"));
  ASSERT_EQ(Run({"hset", "h", "f128", "v"}), Reply::Integer(1));
  EXPECT_EQ(Run({"object", "encoding", "h"}), Reply::Bulk("hashtable"));
  ASSERT_EQ(Run({"zadd", "z", "1", std::string(64, 'm')}), Reply::Integer(1));
  EXPECT_EQ(Run({"object", "encoding", "z"}), Reply::Bulk("listpack"));
  ASSERT_EQ(Run({"zadd", "z", "2", std::string(65, 'm')}), Reply::Integer(1));
  EXPECT_EQ(Run({"object", "encoding", "z"}), Reply::Bulk("skiplist"));
  ASSERT_EQ(Run({"set", "s", std::string(44, 'x')}), Reply::Ok());
  EXPECT_EQ(Run({"object", "encoding", "s"}), Reply::Bulk("embstr"));
  ASSERT_EQ(Run({"set", "s", std::string(45, 'x')}), Reply::Ok());
  EXPECT_EQ(Run({"object", "encoding", "s"}), Reply::Bulk("raw"));
  // Written at kNowMs; read at kNowMs: idle 0 (Run reads at kNowMs).
  EXPECT_EQ(Run({"object", "idletime", "s"}), Reply::Integer(0));
}

}  // namespace
}  // namespace ekv::redis_core
