// range_records: the spans of a user-key range hold exactly the records IsRangeRecord
// accepts, for random keys of every namespace (Redis elements, filed by key length first,
// included) and random bounds, including bounds longer or shorter than the keys and
// bytes 0x00 and 0xff next to them.
#include "core/node/range_records.h"

#include <string>
#include <vector>

#include "core/kv/key_codec.h"
#include "core/kv/memory_engine.h"
#include "core/kv/write_batch.h"
#include "core/redis/layout.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

std::string RandomUserKey(Rng& rng) {
  static constexpr char kBytes[] = {'\0', 'a', 'b', '\xff'};
  std::string key;
  const uint64_t length = rng.Range(0, 3);
  for (uint64_t i = 0; i < length; ++i) key.push_back(kBytes[rng.Uniform(4)]);
  return key;
}

TEST(RangeRecordsTest, SpansHoldExactlyTheRangeRecords) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    kv::MemoryEngine engine;
    kv::WriteBatch batch;
    for (int i = 0; i < 40; ++i) {
      const std::string key = RandomUserKey(rng);
      redis_core::Meta meta;
      meta.version_ts = rng.Range(1, 3);
      switch (rng.Uniform(7)) {
        case 0:
          batch.Put(kv::DataKey(key, rng.Range(1, 9)), "v");
          break;
        case 1:
          batch.Put(kv::LockKey(key), "l");
          break;
        case 2:
          batch.Put(kv::TxnStatusKey(key, rng.Range(1, 9)), "s");
          break;
        case 3:
          batch.Put(kv::ExpiryKey(key, rng.Range(1, 9)), "x");
          break;
        case 4:
          batch.Put(redis_core::MetaKey(key), "m");
          break;
        case 5:
          batch.Put(redis_core::TouchKey(key), "t");
          break;
        default:
          batch.Put(redis_core::ElementPrefix(key, meta) + RandomUserKey(rng), "e");
          break;
      }
    }
    batch.Put(kv::MetaKey("applied_index"), "1");  // never a range record
    ASSERT_TRUE(engine.Write(batch).ok());
    std::string start = RandomUserKey(rng);
    std::string end = RandomUserKey(rng);
    if (!end.empty() && end < start) std::swap(start, end);
    if (!end.empty() && end == start) end.clear();

    std::vector<RawRecord> expected;
    std::unique_ptr<kv::EngineIterator> it = engine.NewIterator({});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (IsRangeRecord(it->key(), start, end)) {
        expected.emplace_back(std::string(it->key()), std::string(it->value()));
      }
    }
    absl::StatusOr<RangeChunk> chunk = ExportRangeChunk(engine, {start, end, "", 1 << 20});
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    EXPECT_EQ(chunk->records, expected) << "seed " << seed;

    // Deleting the range leaves exactly the other records.
    absl::StatusOr<kv::MvccBatch> drop = BuildDeleteRangeBatch(engine, start, end);
    ASSERT_TRUE(drop.ok());
    const size_t before = engine.size();
    ASSERT_TRUE(engine.Write(drop->engine_batch()).ok());
    EXPECT_EQ(engine.size(), before - expected.size()) << "seed " << seed;
    absl::StatusOr<RangeChunk> after = ExportRangeChunk(engine, {start, end, "", 1 << 20});
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after->records.empty()) << "seed " << seed;
  }
}

TEST(RangeRecordsTest, RequestsRoundTripAndRejectGarbage) {
  IngestRangeRequest ingest{7, 3, "a", "m", "cur", "", {{"d1", "v1"}, {"l2", ""}}};
  absl::StatusOr<IngestRangeRequest> back = DecodeIngestRange(EncodeIngestRange(ingest));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, ingest);
  std::string bytes = EncodeIngestRange(ingest);
  EXPECT_FALSE(DecodeIngestRange(bytes + "x").ok());
  EXPECT_FALSE(DecodeIngestRange(bytes.substr(0, bytes.size() - 1)).ok());
  ExportRangeRequest request{"a", "", "c", 10};
  EXPECT_EQ(*DecodeExportRange(EncodeExportRange(request)), request);
  DeleteRangeRequest drop{"a", "b", 4};
  EXPECT_EQ(*DecodeDeleteRange(EncodeDeleteRange(drop)), drop);
}

}  // namespace
}  // namespace ekv::node
