// TrackingTable (adapters/redis/tracking_table.h): default-mode readers, BCAST prefixes, and
// the tracking-table-max-keys bound.
#include "adapters/redis/tracking_table.h"

#include "gtest/gtest.h"

namespace ekv::redis {
namespace {

using Readers = std::vector<uint64_t>;

TEST(TrackingTableTest, AChangeTakesTheReadersOutOnce) {
  TrackingTable table;
  table.Remember("a", 7);
  table.Remember("a", 3);
  table.Remember("a", 7);  // again: one item
  table.Remember("b", 7);
  EXPECT_EQ(table.keys(), 2u);
  EXPECT_EQ(table.items(), 3u);
  EXPECT_EQ(table.Invalidate("a"), (Readers{3, 7}));
  // Told once: a reader must read again to be told again.
  EXPECT_EQ(table.Invalidate("a"), Readers{});
  EXPECT_EQ(table.Invalidate("never-read"), Readers{});
  EXPECT_EQ(table.keys(), 1u);
  EXPECT_EQ(table.items(), 1u);
  table.Clear();
  EXPECT_EQ(table.keys(), 0u);
  EXPECT_EQ(table.items(), 0u);
  EXPECT_EQ(table.Invalidate("b"), Readers{});
}

TEST(TrackingTableTest, OverTheLimitTheOldestKeysGoWithTheirReaders) {
  TrackingTable table(/*max_keys=*/0);  // no limit
  for (int i = 0; i < 5; ++i) table.Remember("k" + std::to_string(i), 1);
  table.Remember("k0", 2);  // read again later: still the oldest
  EXPECT_TRUE(table.TrimToLimit().empty());
  table.set_max_keys(2);
  const auto trimmed = table.TrimToLimit();
  ASSERT_EQ(trimmed.size(), 3u);
  EXPECT_EQ(trimmed[0].first, "k0");
  EXPECT_EQ(trimmed[0].second, (Readers{1, 2}));
  EXPECT_EQ(trimmed[1].first, "k1");
  EXPECT_EQ(trimmed[2].first, "k2");
  EXPECT_EQ(table.keys(), 2u);
  EXPECT_EQ(table.items(), 2u);
  EXPECT_TRUE(table.TrimToLimit().empty());
  // A key remembered again after it went counts as new.
  table.Remember("k0", 1);
  const auto again = table.TrimToLimit();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].first, "k3");
}

TEST(TrackingTableTest, BroadcastGathersChangedKeysPerPrefix) {
  TrackingTable table;
  table.AddPrefix("user:", 1);
  table.AddPrefix("user:", 2);
  table.AddPrefix("", 3);
  EXPECT_EQ(table.prefixes(), 2u);
  table.NoteChanged("user:9", 2);
  table.NoteChanged("order:1", 0);
  table.NoteChanged("user:1", 0);
  table.NoteChanged("user:9", 1);  // the last writer is kept (NOLOOP)
  std::vector<TrackingTable::Broadcast> sent = table.TakeBroadcasts();
  ASSERT_EQ(sent.size(), 2u);
  // Prefix order: "" first.
  EXPECT_EQ(sent[0].clients, (std::set<uint64_t>{3}));
  EXPECT_EQ(sent[0].keys,
            (std::map<std::string, uint64_t>{{"order:1", 0}, {"user:1", 0}, {"user:9", 1}}));
  EXPECT_EQ(sent[1].clients, (std::set<uint64_t>{1, 2}));
  EXPECT_EQ(sent[1].keys, (std::map<std::string, uint64_t>{{"user:1", 0}, {"user:9", 1}}));
  EXPECT_TRUE(table.TakeBroadcasts().empty());  // taken once
  table.RemovePrefix("user:", 1);
  table.RemovePrefix("user:", 2);
  EXPECT_EQ(table.prefixes(), 1u);
  table.NoteChanged("user:2", 0);
  sent = table.TakeBroadcasts();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].clients, (std::set<uint64_t>{3}));
  // Default-mode keys are not broadcast keys.
  EXPECT_EQ(table.keys(), 0u);
}

}  // namespace
}  // namespace ekv::redis
