// SPOP and SRANDMEMBER on a big set read a few records per pick (set_sample.h), never the
// whole set, and pick deterministically from the request's seed.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// An engine reader that counts the records a command reads (gets and iterator steps).
class CountingReader final : public kv::EngineReader {
 public:
  explicit CountingReader(const kv::EngineReader* inner) : inner_(inner) {}
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    ++reads;
    return inner_->Get(key);
  }
  std::unique_ptr<kv::EngineIterator> NewIterator(const kv::IterOptions& options) const override {
    return std::make_unique<Iterator>(inner_->NewIterator(options), &reads);
  }
  mutable uint64_t reads = 0;

 private:
  class Iterator final : public kv::EngineIterator {
   public:
    Iterator(std::unique_ptr<kv::EngineIterator> inner, uint64_t* reads)
        : inner_(std::move(inner)), reads_(reads) {}
    bool Valid() const override { return inner_->Valid(); }
    void SeekToFirst() override { ++*reads_, inner_->SeekToFirst(); }
    void SeekToLast() override { ++*reads_, inner_->SeekToLast(); }
    void Seek(absl::string_view target) override { ++*reads_, inner_->Seek(target); }
    void SeekForPrev(absl::string_view target) override { ++*reads_, inner_->SeekForPrev(target); }
    void Next() override { ++*reads_, inner_->Next(); }
    void Prev() override { ++*reads_, inner_->Prev(); }
    absl::string_view key() const override { return inner_->key(); }
    absl::string_view value() const override { return inner_->value(); }
    absl::Status status() const override { return inner_->status(); }

   private:
    std::unique_ptr<kv::EngineIterator> inner_;
    uint64_t* reads_;
  };
  const kv::EngineReader* inner_;
};

class SetSampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int first = 0; first < kMembers; first += 1000) {
      std::vector<std::string> args = {"sadd", "s"};
      for (int i = first; i < first + 1000; ++i) args.push_back(absl::StrCat("member:", i));
      ASSERT_EQ(Run(args, 1), Reply::Integer(1000));
    }
  }
  // Runs one command with `seed`; `reads` gets the records it read.
  Reply Run(std::vector<std::string> args, uint64_t seed, uint64_t* reads = nullptr) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.seed = seed;
    request.commands.push_back(args);
    const CommandInfo* info = FindCommand(args[0]);
    const bool write = info != nullptr && info->write;
    const kv::Timestamp ts = write ? kv::MakeTimestamp(1000, ++logical_) : 0;
    CountingReader counting(&engine_);
    Store store(&counting, &mvcc_);
    RequestOutcome outcome = ExecuteRequest(request, &store, 1000, ts);
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    if (reads != nullptr) *reads = counting.reads;
    if (write) {
      kv::MvccBatch batch;
      EXPECT_TRUE(store.Flush(&batch, ts).ok());
      EXPECT_TRUE(mvcc_.Apply(batch).ok());
    }
    return outcome.reply;
  }
  static std::set<std::string> Texts(const Reply& reply) {
    std::set<std::string> out;
    for (const Reply& element : reply.elements) out.insert(element.text);
    return out;
  }

  static constexpr int kMembers = 50'000;
  // Far below kMembers: a pick is a few seeks per byte level of the members.
  static constexpr uint64_t kReadsPerPick = 100;
  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  uint64_t logical_ = 0;
};

TEST_F(SetSampleTest, SpopReadsAFewRecordsPerPick) {
  uint64_t reads = 0;
  const Reply popped = Run({"spop", "s", "10"}, 7, &reads);
  ASSERT_EQ(popped.elements.size(), 10u) << DebugString(popped);
  EXPECT_EQ(Texts(popped).size(), 10u) << "distinct: " << DebugString(popped);
  EXPECT_LE(reads, 10 * kReadsPerPick)
      << "SPOP 10 of " << kMembers << " read " << reads << " records";
  EXPECT_EQ(Run({"scard", "s"}, 0), Reply::Integer(kMembers - 10));
  for (const std::string& member : Texts(popped)) {
    EXPECT_EQ(Run({"sismember", "s", member}, 0), Reply::Integer(0)) << member;
  }
  const Reply one = Run({"spop", "s"}, 8, &reads);
  EXPECT_EQ(one.kind, Reply::Kind::kBulk) << DebugString(one);
  EXPECT_LE(reads, kReadsPerPick);
}

TEST_F(SetSampleTest, SrandmemberReadsAFewRecordsPerPickAndIsDeterministic) {
  uint64_t reads = 0;
  const Reply distinct = Run({"srandmember", "s", "20"}, 11, &reads);
  ASSERT_EQ(distinct.elements.size(), 20u) << DebugString(distinct);
  EXPECT_EQ(Texts(distinct).size(), 20u);
  EXPECT_LE(reads, 2 * 20 * kReadsPerPick) << "read " << reads;
  EXPECT_EQ(Run({"srandmember", "s", "20"}, 11), distinct) << "the same seed picks the same";

  const Reply repeats = Run({"srandmember", "s", "-300"}, 12, &reads);
  ASSERT_EQ(repeats.elements.size(), 300u);
  EXPECT_LE(reads, 300 * kReadsPerPick);
  // Spread over the set, not stuck on a few members.
  EXPECT_GE(Texts(repeats).size(), 100u) << DebugString(repeats);
  for (const std::string& member : Texts(repeats)) {
    ASSERT_EQ(Run({"sismember", "s", member}, 0), Reply::Integer(1)) << member;
  }
  const Reply single = Run({"srandmember", "s"}, 13, &reads);
  EXPECT_EQ(single.kind, Reply::Kind::kBulk);
  EXPECT_LE(reads, kReadsPerPick);
}

}  // namespace
}  // namespace ekv::redis_core
