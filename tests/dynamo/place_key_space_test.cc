// The hashed key layout and the placement of a table's key space over the groups
// (key_codec.h, place_key_space.h; the planner's own tests are core's,
// tests/placement/table_placement_test.cc): PlaceKeySpace over a fake store, CreateTable spreading
// a table's items over both groups of the fake's demo-like catalog, Query staying inside one route,
// Scan and parallel Scan returning every item exactly once with paging, index reads at a snapshot,
// and tables stored before the hashed layout still readable.
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/place_key_space.h"
#include "adapters/dynamo/table_schema.h"
#include "gtest/gtest.h"
#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

using Routes = DynamoBackend::Routes;

std::string EncodedS(const std::string& s) { return *EncodeKeyValue(AttributeValue::String(s)); }

TEST(PartitionHash, IsStableAndSpreadsSimilarKeys) {
  // Stored in every key of a hashed table: these values must never change.
  EXPECT_EQ(PartitionHash(""), PartitionHash(""));
  const uint32_t a = PartitionHash(EncodedS("user1"));
  const uint32_t b = PartitionHash(EncodedS("user2"));
  EXPECT_NE(a, b);
  // Keys that differ in their last byte land in different quarters often: over 400 keys
  // every quarter of the hash space gets at least 60 (a fair split gives 100 each).
  std::map<uint32_t, int> quarters;
  for (int i = 0; i < 400; ++i) ++quarters[PartitionHash(EncodedS(absl::StrCat("user", i))) >> 30];
  ASSERT_EQ(quarters.size(), 4u);
  for (const auto& [quarter, count] : quarters) EXPECT_GE(count, 60) << "quarter " << quarter;
}

TEST(PartitionHash, PrefixLayouts) {
  const std::string enc = EncodedS("p");
  EXPECT_EQ(PartitionPrefix(7, KeyLayout::kUnhashed, enc), ItemPrefix(7) + enc);
  const std::string hashed = PartitionPrefix(7, KeyLayout::kHashed, enc);
  EXPECT_EQ(hashed, HashBoundary(7, PartitionHash(enc)) + enc);
  EXPECT_EQ(hashed.size(), ItemPrefix(7).size() + kPartitionHashBytes + enc.size());
  EXPECT_TRUE(absl::StartsWith(hashed, ItemPrefix(7)));
}

TEST(Placement, SingleGroupCatalogNeedsNothing) {
  testing::FakeBackend backend;
  backend.SetSingleGroupCatalog();
  ASSERT_TRUE(RunInline(PlaceKeySpace(&backend, 42)).ok());
  EXPECT_EQ(backend.splits, 0);
  EXPECT_EQ(backend.moves, 0);
}

TEST(Placement, CutsTheKeySpaceThenMovesEveryOtherPart) {
  testing::FakeBackend backend;
  ASSERT_TRUE(RunInline(PlaceKeySpace(&backend, 42)).ok());
  const std::vector<std::string> boundaries = PlacementBoundaries(42, 2);
  ASSERT_EQ(boundaries.size(), 3u);
  EXPECT_EQ(backend.splits, 3);  // start, the middle hash, end
  EXPECT_EQ(backend.moves, 1);   // the upper half to group 2
  EXPECT_EQ(backend.GroupOf(boundaries[0]), 1u);
  EXPECT_EQ(backend.GroupOf(HashBoundary(42, 0x7fffffff)), 1u);
  EXPECT_EQ(backend.GroupOf(boundaries[1]), 2u);
  EXPECT_EQ(backend.GroupOf(HashBoundary(42, 0xffffffff) + "zzz"), 2u);
  // Keys just outside the table stay where they were.
  EXPECT_EQ(backend.GroupOf(ItemPrefix(41) + "\xff"), 1u);
  EXPECT_EQ(backend.GroupOf(boundaries[2]), 1u);
  // Placing again is a no-op.
  ASSERT_TRUE(RunInline(PlaceKeySpace(&backend, 42)).ok());
  EXPECT_EQ(backend.splits, 3);
  EXPECT_EQ(backend.moves, 1);
}

// A backend whose catalog changes between every read and the first split (another node's
// CreateTable): placement plans again and still finishes.
class RacingBackend : public testing::FakeBackend {
 public:
  Task<absl::Status> SplitRoute(uint64_t expected_version, uint64_t route_id,
                                const std::string& split_key) override {
    if (races_left > 0) {
      --races_left;
      absl::StatusOr<Routes> now = co_await ReadRoutes();
      // Someone else's split far away (route 2 holds "m"..).
      const std::string far = absl::StrCat("z", 9 - races_left);
      absl::Status raced =
          co_await FakeBackend::SplitRoute(now->version, now->routes.back().route_id, far);
      EXPECT_TRUE(raced.ok()) << raced;
    }
    absl::Status split = co_await FakeBackend::SplitRoute(expected_version, route_id, split_key);
    co_return split;
  }
  int races_left = 3;
};

TEST(Placement, LostCatalogRacesAreRetried) {
  RacingBackend backend;
  ASSERT_TRUE(RunInline(PlaceKeySpace(&backend, 42)).ok());
  EXPECT_EQ(backend.races_left, 0);
  EXPECT_EQ(backend.GroupOf(PlacementBoundaries(42, 2)[1]), 2u);
}

class PlacedTableTest : public DynamoOperationTest {
 protected:
  // Every stored item key of `table_id` and the group its route names.
  std::map<std::string, uint64_t> ItemGroups(uint64_t table_id) {
    std::map<std::string, uint64_t> out;
    const std::string prefix = ItemPrefix(table_id);
    auto pairs = RunInline(backend_.Scan(prefix, PrefixEnd(prefix), 100000));
    EXPECT_TRUE(pairs.ok());
    for (const auto& [key, value] : *pairs) out[key] = backend_.GroupOf(key);
    return out;
  }
  uint64_t TableId(const std::string& name) { return RunInline(store_.GetTable(name))->id; }
};

TEST_F(PlacedTableTest, ItemsOfOneTableSpreadOverBothGroupsAndQueryStaysInOnePartition) {
  CreateOrdersTable();
  for (int c = 0; c < 40; ++c) {
    for (int seq = 0; seq < 3; ++seq) PutOrder(absl::StrCat("cust", c), seq);
  }
  std::map<uint64_t, int> per_group;
  for (const auto& [key, group] : ItemGroups(TableId("orders"))) ++per_group[group];
  ASSERT_EQ(per_group.size(), 2u);
  EXPECT_GE(per_group[1], 30);
  EXPECT_GE(per_group[2], 30);
  // Query: exactly the partition, in sort-key order.
  json reply = Ok("Query", {{"TableName", "orders"},
                            {"KeyConditionExpression", "customer = :c"},
                            {"ExpressionAttributeValues", {{":c", {{"S", "cust7"}}}}}});
  EXPECT_EQ(Seqs(reply), (std::vector<int>{0, 1, 2}));
  reply =
      Ok("Query", {{"TableName", "orders"},
                   {"KeyConditionExpression", "customer = :c AND seq > :s"},
                   {"ExpressionAttributeValues", {{":c", {{"S", "cust7"}}}, {":s", {{"N", "0"}}}}},
                   {"ScanIndexForward", false}});
  EXPECT_EQ(Seqs(reply), (std::vector<int>{2, 1}));
}

TEST_F(PlacedTableTest, ScanPagesAndSegmentsSeeEveryItemOnce) {
  CreateOrdersTable();
  std::set<std::pair<std::string, int>> all;
  for (int c = 0; c < 30; ++c) {
    for (int seq = 0; seq < 2; ++seq) {
      PutOrder(absl::StrCat("cust", c), seq);
      all.insert({absl::StrCat("cust", c), seq});
    }
  }
  const auto item_id = [](const json& item) {
    return std::make_pair(item["customer"]["S"].get<std::string>(),
                          std::stoi(item["seq"]["N"].get<std::string>()));
  };
  // Whole-table scan in pages of 7, across the route boundary between the groups.
  std::set<std::pair<std::string, int>> seen;
  json start;
  int pages = 0;
  do {
    json request = {{"TableName", "orders"}, {"Limit", 7}};
    if (!start.is_null()) request["ExclusiveStartKey"] = start;
    json reply = Ok("Scan", request);
    for (const json& item : reply["Items"]) EXPECT_TRUE(seen.insert(item_id(item)).second);
    start = reply.contains("LastEvaluatedKey") ? reply["LastEvaluatedKey"] : json();
    ASSERT_LT(++pages, 20);
  } while (!start.is_null());
  EXPECT_EQ(seen, all);
  // Parallel scan: 3 segments, each paged, together every item exactly once.
  seen.clear();
  for (int segment = 0; segment < 3; ++segment) {
    json seg_start;
    do {
      json request = {
          {"TableName", "orders"}, {"Limit", 5}, {"Segment", segment}, {"TotalSegments", 3}};
      if (!seg_start.is_null()) request["ExclusiveStartKey"] = seg_start;
      json reply = Ok("Scan", request);
      for (const json& item : reply["Items"]) EXPECT_TRUE(seen.insert(item_id(item)).second);
      seg_start = reply.contains("LastEvaluatedKey") ? reply["LastEvaluatedKey"] : json();
    } while (!seg_start.is_null());
  }
  EXPECT_EQ(seen, all);
}

TEST_F(PlacedTableTest, IndexKeySpacesArePlacedAndReadAtASnapshot) {
  Ok("CreateTable", json::parse(R"({
      "TableName": "people", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                               {"AttributeName": "city", "AttributeType": "S"}],
      "GlobalSecondaryIndexes": [{"IndexName": "by_city",
          "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
          "Projection": {"ProjectionType": "ALL"}}]})"));
  const TableSchema schema = *RunInline(store_.GetTable("people"));
  ASSERT_EQ(schema.indexes.size(), 1u);
  EXPECT_EQ(schema.indexes[0].key_layout, KeyLayout::kHashed);
  EXPECT_EQ(backend_.moves, 2);  // the table's upper half and the index's
  for (int i = 0; i < 40; ++i) {
    Ok("PutItem",
       {{"TableName", "people"},
        {"Item",
         {{"id", {{"S", absl::StrCat("p", i)}}}, {"city", {{"S", absl::StrCat("c", i % 20)}}}}}});
  }
  std::set<uint64_t> entry_groups;
  for (const auto& [key, group] : ItemGroups(schema.indexes[0].id)) entry_groups.insert(group);
  EXPECT_EQ(entry_groups, (std::set<uint64_t>{1, 2}));
  const int scans_before = backend_.snapshot_scans;
  json reply = Ok("Query", {{"TableName", "people"},
                            {"IndexName", "by_city"},
                            {"KeyConditionExpression", "city = :c"},
                            {"ExpressionAttributeValues", {{":c", {{"S", "c3"}}}}}});
  EXPECT_EQ(reply["Count"], 2);
  EXPECT_GT(backend_.snapshot_scans, scans_before);
}

TEST_F(PlacedTableTest, TablesStoredBeforeTheHashedLayoutStayReadable) {
  // A metadata record as ekv wrote it before layouts existed (no "layout" member), and an
  // item under the old key (table prefix, then the partition key).
  TableSchema old;
  old.name = "legacy";
  old.id = 9;
  old.hash = {"k", AttributeType::kS};
  old.attribute_definitions = {old.hash};
  old.billing_mode = "PAY_PER_REQUEST";
  json record = json::parse(EncodeTableSchema(old));
  record.erase("layout");
  ASSERT_TRUE(RunInline(backend_.Put(TableMetaKey("legacy"), record.dump())).ok());
  const TableSchema decoded = *DecodeTableSchema(record.dump());
  EXPECT_EQ(decoded.key_layout, KeyLayout::kUnhashed);
  ASSERT_EQ(*ItemKeyOfKey(decoded, {{"k", AttributeValue::String("a")}}),
            ItemPrefix(9) + EncodedS("a"));
  Ok("PutItem", {{"TableName", "legacy"}, {"Item", {{"k", {{"S", "a"}}}, {"v", {{"N", "1"}}}}}});
  auto stored = RunInline(backend_.Get(ItemPrefix(9) + EncodedS("a")));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  json got = Ok("GetItem", {{"TableName", "legacy"}, {"Key", {{"k", {{"S", "a"}}}}}});
  EXPECT_EQ(got["Item"]["v"]["N"], "1");
  json queried = Ok("Query", {{"TableName", "legacy"},
                              {"KeyConditionExpression", "k = :k"},
                              {"ExpressionAttributeValues", {{":k", {{"S", "a"}}}}}});
  EXPECT_EQ(queried["Count"], 1);
  // An unknown layout number is refused, not guessed.
  record["layout"] = 7;
  EXPECT_EQ(DecodeTableSchema(record.dump()).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ekv::dynamo
