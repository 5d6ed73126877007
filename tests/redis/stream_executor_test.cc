// Streams in redis_core's executor on what the differential test cannot show: the ids XADD
// makes from `*` come from the time the group passes in (its replicated clock), never a
// node's, and stay above the stream's last id when that time is behind it.
#include <string>
#include <vector>

#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/redis/executor.h"
#include "core/redis/request.h"
#include "core/redis/store.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

class StreamExecutorTest : public ::testing::Test {
 protected:
  Reply Run(std::vector<std::string> args, uint64_t now_ms) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.commands.push_back(args);
    const CommandInfo* info = FindCommand(args[0]);
    const bool write = info != nullptr && info->write;
    const kv::Timestamp ts = write ? kv::MakeTimestamp(now_ms + 1'000'000, ++logical_) : 0;
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

  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  uint64_t logical_ = 0;
};

TEST_F(StreamExecutorTest, AutoIdsComeFromTheGroupsTimeAndStayMonotonic) {
  EXPECT_EQ(Run({"xadd", "s", "*", "f", "v"}, 1000), Reply::Bulk("1000-0"));
  EXPECT_EQ(Run({"xadd", "s", "*", "f", "v"}, 1000), Reply::Bulk("1000-1"));
  // A time behind the last id (another leader's clock): the next sequence, never an id
  // below the stream's top.
  EXPECT_EQ(Run({"xadd", "s", "*", "f", "v"}, 500), Reply::Bulk("1000-2"));
  EXPECT_EQ(Run({"xadd", "s", "*", "f", "v"}, 2000), Reply::Bulk("2000-0"));
  EXPECT_EQ(Run({"xsetid", "s", "5000-18446744073709551615"}, 2000), Reply::Ok());
  EXPECT_EQ(Run({"xadd", "s", "*", "f", "v"}, 2000), Reply::Bulk("5001-0"));
  EXPECT_EQ(Run({"xlen", "s"}, 2000), Reply::Integer(5));
  // The same request on the same state answers the same everywhere.
  const Reply range = Run({"xrange", "s", "-", "+"}, 9999);
  ASSERT_EQ(range.elements.size(), 5u);
  EXPECT_EQ(range.elements[4].elements[0], Reply::Bulk("5001-0"));
}

TEST_F(StreamExecutorTest, AStreamEmptiedByDeletesStaysAndDelRemovesIt) {
  EXPECT_EQ(Run({"xadd", "s", "1-1", "f", "v"}, 1), Reply::Bulk("1-1"));
  EXPECT_EQ(Run({"xdel", "s", "1-1"}, 1), Reply::Integer(1));
  EXPECT_EQ(Run({"type", "s"}, 1), Reply::Status("stream"));
  EXPECT_EQ(Run({"xadd", "s", "1-1", "f", "v"}, 1).kind, Reply::Kind::kError);
  EXPECT_EQ(Run({"del", "s"}, 1), Reply::Integer(1));
  EXPECT_EQ(Run({"type", "s"}, 1), Reply::Status("none"));
  // A new stream under the key starts from 0-0 again.
  EXPECT_EQ(Run({"xadd", "s", "1-1", "f", "v"}, 1), Reply::Bulk("1-1"));
}

}  // namespace
}  // namespace ekv::redis_core
