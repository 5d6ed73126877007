// Streams in redis_core's executor on what the differential test cannot show: the ids XADD
// makes from `*` come from the time the group passes in (its replicated clock), never a
// node's, and stay above the stream's last id when that time is behind it.
#include <string>
#include <vector>

#include "core/kv/codec.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/redis/executor.h"
#include "core/redis/request.h"
#include "core/redis/store.h"
#include "core/redis/stream_id.h"
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

// XINFO STREAM's radix-tree-keys: the stream's node count.
int64_t NodeCount(const Reply& info) {
  for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
    if (info.elements[i] == Reply::Bulk("radix-tree-keys")) return info.elements[i + 1].integer;
  }
  return -1;
}

// A node record written before ekv sized nodes (live, total, last id and nothing more)
// still reads, and closes by its entry count only; the nodes after it close by bytes.
TEST_F(StreamExecutorTest, NodeRecordsWithoutBytesCloseByCountOnly) {
  const std::string value(1000, 'v');
  ASSERT_EQ(Run({"xadd", "s", "1-0", "f", value}, 1000), Reply::Bulk("1-0"));
  {
    const kv::Timestamp ts = kv::MakeTimestamp(2'000'000, ++logical_);
    Store store(&engine_, &mvcc_);
    Executor ex(&store, 1000, 1, ts);
    absl::StatusOr<Executor::Found> found = ex.Lookup("s");
    ASSERT_TRUE(found.ok() && found->type == Type::kStream);
    std::string old_record;  // varints: live 1, total 1, last id 1-0
    kv::AppendVarint64(&old_record, 1);
    kv::AppendVarint64(&old_record, 1);
    kv::AppendVarint64(&old_record, 1);
    kv::AppendVarint64(&old_record, 0);
    const std::string node_key =
        ex.ElementKey("s", found->meta, std::string(1, 'n') + EncodeStreamId(StreamId{1, 0}));
    absl::StatusOr<std::optional<std::string>> current = store.Get(node_key);
    ASSERT_TRUE(current.ok() && current->has_value()) << "the node record is where layout.h says";
    EXPECT_GT((*current)->size(), old_record.size()) << "new node records carry their bytes";
    store.Put(node_key, old_record);
    kv::MvccBatch batch;
    ASSERT_TRUE(store.Flush(&batch, ts).ok());
    ASSERT_TRUE(mvcc_.Apply(batch).ok());
  }
  for (int i = 2; i <= 6; ++i) {
    const std::string id = std::to_string(i) + "-0";
    ASSERT_EQ(Run({"xadd", "s", id, "f", value}, 1000), Reply::Bulk(id));
  }
  EXPECT_EQ(NodeCount(Run({"xinfo", "stream", "s"}, 1000)), 1) << "6 entries of 1 KB, by count";
  // A fresh stream of the same entries: about 4 of them fill a 4096-byte node.
  for (int i = 1; i <= 6; ++i) {
    const std::string id = std::to_string(i) + "-0";
    ASSERT_EQ(Run({"xadd", "t", id, "f", value}, 1000), Reply::Bulk(id));
  }
  EXPECT_EQ(NodeCount(Run({"xinfo", "stream", "t"}, 1000)), 2);
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
