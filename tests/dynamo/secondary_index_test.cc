// Global and local secondary indexes through the operation handlers: CreateTable's checks,
// DescribeTable, Query and Scan with IndexName (sparse, ordered by the index key, projected,
// paginated), the index following every kind of write at once, UpdateTable's
// GlobalSecondaryIndexUpdates.
#include <string>
#include <vector>

#include "adapters/dynamo/index_backfiller.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/secondary_index.h"
#include "core/coord/read_restart.h"
#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

class SecondaryIndexTest : public DynamoOperationTest {
 protected:
  // events(customer, seq) with a local index by_total(customer, total) of `projection`.
  void CreateEventsTable(const std::string& projection) {
    json table = json::parse(R"({
        "TableName": "events", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                      {"AttributeName": "seq", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "customer", "AttributeType": "S"},
                                 {"AttributeName": "seq", "AttributeType": "N"},
                                 {"AttributeName": "total", "AttributeType": "N"}],
        "LocalSecondaryIndexes": [{"IndexName": "by_total",
            "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                          {"AttributeName": "total", "KeyType": "RANGE"}]}]})");
    table["LocalSecondaryIndexes"][0]["Projection"] = json::parse(projection);
    Ok("CreateTable", table);
  }

  // orders(customer, seq) with GSI by_status(status, total) and KEYS_ONLY LSI by_total.
  void CreateIndexedTable(const std::string& gsi_projection = R"({"ProjectionType": "ALL"})") {
    Ok("CreateTable", json::parse(R"({
      "TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                    {"AttributeName": "seq", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "customer", "AttributeType": "S"},
                               {"AttributeName": "seq", "AttributeType": "N"},
                               {"AttributeName": "status", "AttributeType": "S"},
                               {"AttributeName": "total", "AttributeType": "N"}],
      "GlobalSecondaryIndexes": [{"IndexName": "by_status",
          "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "total", "KeyType": "RANGE"}],
          "Projection": )" + gsi_projection +
                                  R"(}],
      "LocalSecondaryIndexes": [{"IndexName": "by_total",
          "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                        {"AttributeName": "total", "KeyType": "RANGE"}],
          "Projection": {"ProjectionType": "KEYS_ONLY"}}]})"));
  }
  void Put(const std::string& customer, int seq, const std::string& status, int total) {
    json item = {{"customer", {{"S", customer}}},
                 {"seq", {{"N", std::to_string(seq)}}},
                 {"note", {{"S", "n" + std::to_string(seq)}}}};
    if (!status.empty()) item["status"] = {{"S", status}};
    if (total >= 0) item["total"] = {{"N", std::to_string(total)}};
    Ok("PutItem", {{"TableName", "orders"}, {"Item", item}});
  }
  json QueryStatus(const std::string& status, json extra = json::object()) {
    json body = {{"TableName", "orders"},
                 {"IndexName", "by_status"},
                 {"KeyConditionExpression", "#s = :s"},
                 {"ExpressionAttributeNames", {{"#s", "status"}}},
                 {"ExpressionAttributeValues", {{":s", {{"S", status}}}}}};
    body.update(extra);
    return Ok("Query", body);
  }
  static std::vector<int> Totals(const json& reply) {
    std::vector<int> out;
    for (const json& item : reply["Items"]) {
      out.push_back(std::stoi(item["total"]["N"].get<std::string>()));
    }
    return out;
  }
};

TEST_F(SecondaryIndexTest, DescribeTableShowsBothIndexesActive) {
  CreateIndexedTable();
  json table = Ok("DescribeTable", {{"TableName", "orders"}})["Table"];
  ASSERT_EQ(table["GlobalSecondaryIndexes"].size(), 1u) << table.dump();
  EXPECT_EQ(table["GlobalSecondaryIndexes"][0]["IndexName"], "by_status");
  EXPECT_EQ(table["GlobalSecondaryIndexes"][0]["IndexStatus"], "ACTIVE");
  EXPECT_EQ(table["GlobalSecondaryIndexes"][0]["KeySchema"][1]["AttributeName"], "total");
  ASSERT_EQ(table["LocalSecondaryIndexes"].size(), 1u) << table.dump();
  EXPECT_EQ(table["LocalSecondaryIndexes"][0]["Projection"]["ProjectionType"], "KEYS_ONLY");
  EXPECT_EQ(table["AttributeDefinitions"].size(), 4u);
}

// ReturnItemCollectionMetrics SIZE on a table with a local index: the item's collection
// (its partition key) and DynamoDB's size estimate range; NONE answers nothing, and a value
// outside the enum is refused before anything is written.
TEST_F(SecondaryIndexTest, WritesReturnItemCollectionMetrics) {
  CreateIndexedTable();
  json item = {{"customer", {{"S", "c1"}}}, {"seq", {{"N", "1"}}}, {"total", {{"N", "5"}}}};
  json reply =
      Ok("PutItem",
         {{"TableName", "orders"}, {"Item", item}, {"ReturnItemCollectionMetrics", "SIZE"}});
  ASSERT_TRUE(reply.contains("ItemCollectionMetrics")) << reply.dump();
  EXPECT_EQ(reply["ItemCollectionMetrics"]["ItemCollectionKey"],
            json({{"customer", {{"S", "c1"}}}}));
  EXPECT_EQ(reply["ItemCollectionMetrics"]["SizeEstimateRangeGB"], json({0.0, 1.0}));
  const json key = {{"customer", {{"S", "c1"}}}, {"seq", {{"N", "1"}}}};
  reply = Ok("UpdateItem", {{"TableName", "orders"},
                            {"Key", key},
                            {"UpdateExpression", "SET #t = :t"},
                            {"ExpressionAttributeNames", {{"#t", "total"}}},
                            {"ExpressionAttributeValues", {{":t", {{"N", "6"}}}}},
                            {"ReturnItemCollectionMetrics", "NONE"}});
  EXPECT_FALSE(reply.contains("ItemCollectionMetrics")) << reply.dump();
  json refused =
      Call("DeleteItem",
           {{"TableName", "orders"}, {"Key", key}, {"ReturnItemCollectionMetrics", "ALL"}});
  EXPECT_EQ(refused["message"],
            "1 validation error detected: Value 'ALL' at 'returnItemCollectionMetrics' failed to "
            "satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]")
      << refused.dump();
  EXPECT_TRUE(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}}).contains("Item"));
  reply = Ok("DeleteItem",
             {{"TableName", "orders"}, {"Key", key}, {"ReturnItemCollectionMetrics", "SIZE"}});
  EXPECT_EQ(reply["ItemCollectionMetrics"]["ItemCollectionKey"],
            json({{"customer", {{"S", "c1"}}}}));
}

// ReturnConsumedCapacity INDEXES: the Table / GlobalSecondaryIndexes /
// LocalSecondaryIndexes breakdown, as DynamoDB meters index writes: an entry added or
// removed is one write, an entry whose index key changes two (delete + put), an entry that
// does not change nothing. TOTAL is the sum. A Query of an index is metered on the index.
TEST_F(SecondaryIndexTest, IndexesCapacityNamesEveryIndexAWriteTouches) {
  CreateIndexedTable();
  const json key = {{"customer", {{"S", "c1"}}}, {"seq", {{"N", "1"}}}};
  json item = key;
  item["status"] = {{"S", "open"}};
  item["total"] = {{"N", "5"}};
  json reply = Ok("PutItem",
                  {{"TableName", "orders"}, {"Item", item}, {"ReturnConsumedCapacity", "INDEXES"}});
  EXPECT_EQ(reply["ConsumedCapacity"], json::parse(R"({"TableName": "orders",
      "CapacityUnits": 3.0, "Table": {"CapacityUnits": 1.0},
      "GlobalSecondaryIndexes": {"by_status": {"CapacityUnits": 1.0}},
      "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 1.0}}})"))
      << reply.dump();
  const auto update = [&](const std::string& set, const json& value, const std::string& mode) {
    return Ok("UpdateItem", {{"TableName", "orders"},
                             {"Key", key},
                             {"UpdateExpression", "SET #a = :v"},
                             {"ExpressionAttributeNames", {{"#a", set}}},
                             {"ExpressionAttributeValues", {{":v", value}}},
                             {"ReturnConsumedCapacity", mode}})["ConsumedCapacity"];
  };
  // A non-key attribute: the ALL-projected GSI entry is rewritten, the KEYS_ONLY LSI entry
  // is unchanged.
  EXPECT_EQ(update("note", {{"S", "x"}}, "INDEXES"), json::parse(R"({"TableName": "orders",
      "CapacityUnits": 2.0, "Table": {"CapacityUnits": 1.0},
      "GlobalSecondaryIndexes": {"by_status": {"CapacityUnits": 1.0}}})"));
  // The GSI's key changes: its old entry is deleted and a new one put.
  EXPECT_EQ(update("status", {{"S", "closed"}}, "INDEXES"), json::parse(R"({"TableName": "orders",
      "CapacityUnits": 3.0, "Table": {"CapacityUnits": 1.0},
      "GlobalSecondaryIndexes": {"by_status": {"CapacityUnits": 2.0}}})"));
  // Both indexes' keys change; TOTAL is the sum without the breakdown.
  EXPECT_EQ(update("total", {{"N", "7"}}, "TOTAL"),
            json::parse(R"({"TableName": "orders", "CapacityUnits": 5.0})"));
  reply = QueryStatus("closed", {{"ReturnConsumedCapacity", "INDEXES"}});
  EXPECT_EQ(reply["ConsumedCapacity"], json::parse(R"({"TableName": "orders",
      "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.0},
      "GlobalSecondaryIndexes": {"by_status": {"CapacityUnits": 0.5}}})"))
      << reply.dump();
  reply = Ok("DeleteItem",
             {{"TableName", "orders"}, {"Key", key}, {"ReturnConsumedCapacity", "INDEXES"}});
  EXPECT_EQ(reply["ConsumedCapacity"], json::parse(R"({"TableName": "orders",
      "CapacityUnits": 3.0, "Table": {"CapacityUnits": 1.0},
      "GlobalSecondaryIndexes": {"by_status": {"CapacityUnits": 1.0}},
      "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 1.0}}})"))
      << reply.dump();
}

// BatchWriteItem and TransactWriteItems with ReturnItemCollectionMetrics SIZE: per table
// with a local index, one collection per item written (tables without one are left out);
// their INDEXES capacity names the indexes too (a transaction's at twice the units).
TEST_F(SecondaryIndexTest, BatchesAndTransactionsReturnItemCollectionMetrics) {
  CreateIndexedTable();
  Ok("CreateTable", json::parse(R"({
      "TableName": "plain", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]})"));
  const auto order = [](const std::string& customer, int seq) {
    return json{{"customer", {{"S", customer}}},
                {"seq", {{"N", std::to_string(seq)}}},
                {"status", {{"S", "open"}}},
                {"total", {{"N", "1"}}}};
  };
  json batch = {{"RequestItems",
                 {{"orders",
                   {{{"PutRequest", {{"Item", order("c1", 1)}}}},
                    {{"PutRequest", {{"Item", order("c2", 1)}}}}}},
                  {"plain", {{{"PutRequest", {{"Item", {{"id", {{"S", "p"}}}}}}}}}}}},
                {"ReturnItemCollectionMetrics", "SIZE"},
                {"ReturnConsumedCapacity", "INDEXES"}};
  json reply = Ok("BatchWriteItem", batch);
  EXPECT_EQ(reply["ItemCollectionMetrics"], json::parse(R"({"orders": [
      {"ItemCollectionKey": {"customer": {"S": "c1"}}, "SizeEstimateRangeGB": [0.0, 1.0]},
      {"ItemCollectionKey": {"customer": {"S": "c2"}}, "SizeEstimateRangeGB": [0.0, 1.0]}]})"))
      << reply.dump();
  EXPECT_EQ(reply["ConsumedCapacity"], json::parse(R"([
      {"TableName": "orders", "CapacityUnits": 6.0, "Table": {"CapacityUnits": 2.0},
       "GlobalSecondaryIndexes": {"by_status": {"CapacityUnits": 2.0}},
       "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 2.0}}},
      {"TableName": "plain", "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}])"))
      << reply.dump();
  batch.erase("ReturnItemCollectionMetrics");
  EXPECT_FALSE(Ok("BatchWriteItem", batch).contains("ItemCollectionMetrics"));

  json transaction = json::parse(R"({"TransactItems": [
      {"Delete": {"TableName": "orders", "Key": {"customer": {"S": "c1"}, "seq": {"N": "1"}}}},
      {"Put": {"TableName": "plain", "Item": {"id": {"S": "q"}}}}],
      "ReturnItemCollectionMetrics": "SIZE", "ReturnConsumedCapacity": "INDEXES"})");
  json put = json::object();
  put["Put"] = {{"TableName", "orders"}, {"Item", order("c3", 1)}};
  transaction["TransactItems"].insert(transaction["TransactItems"].begin(), put);
  reply = Ok("TransactWriteItems", transaction);
  EXPECT_EQ(reply["ItemCollectionMetrics"], json::parse(R"({"orders": [
      {"ItemCollectionKey": {"customer": {"S": "c3"}}, "SizeEstimateRangeGB": [0.0, 1.0]},
      {"ItemCollectionKey": {"customer": {"S": "c1"}}, "SizeEstimateRangeGB": [0.0, 1.0]}]})"))
      << reply.dump();
  EXPECT_EQ(reply["ConsumedCapacity"], json::parse(R"([
      {"TableName": "orders", "CapacityUnits": 12.0, "Table": {"CapacityUnits": 4.0},
       "GlobalSecondaryIndexes": {"by_status": {"CapacityUnits": 4.0}},
       "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 4.0}}},
      {"TableName": "plain", "CapacityUnits": 2.0, "Table": {"CapacityUnits": 2.0}}])"))
      << reply.dump();
}

TEST_F(SecondaryIndexTest, CreateTableRefusesBadIndexes) {
  json base = json::parse(R"({
      "TableName": "bad", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                               {"AttributeName": "g", "AttributeType": "S"}]})");
  // A definition no key uses.
  EXPECT_EQ(Error("CreateTable", base), "ValidationException");
  json lsi = base;
  lsi["LocalSecondaryIndexes"] = json::parse(R"([{"IndexName": "lsi1",
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"},
                    {"AttributeName": "g", "KeyType": "RANGE"}],
      "Projection": {"ProjectionType": "ALL"}}])");
  json reply = Call("CreateTable", lsi);  // the table has no range key
  EXPECT_NE(reply["message"].get<std::string>().find("does not have a range key"),
            std::string::npos)
      << reply.dump();
  json twice = base;
  twice["GlobalSecondaryIndexes"] = json::parse(R"([
      {"IndexName": "gsi1", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
       "Projection": {"ProjectionType": "ALL"}},
      {"IndexName": "gsi1", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
       "Projection": {"ProjectionType": "ALL"}}])");
  reply = Call("CreateTable", twice);
  EXPECT_NE(reply["message"].get<std::string>().find("Duplicate index name: gsi1"),
            std::string::npos)
      << reply.dump();
  json include = base;
  include["GlobalSecondaryIndexes"] = json::parse(R"([
      {"IndexName": "gsi1", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
       "Projection": {"ProjectionType": "INCLUDE"}}])");
  EXPECT_EQ(Error("CreateTable", include), "ValidationException");
  json good = base;
  good["GlobalSecondaryIndexes"] = json::parse(R"([
      {"IndexName": "gsi1", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
       "Projection": {"ProjectionType": "ALL"}}])");
  Ok("CreateTable", good);
}

TEST_F(SecondaryIndexTest, QueryIsSparseOrderedAndPaginated) {
  CreateIndexedTable();
  Put("alice", 1, "open", 30);
  Put("bob", 2, "open", 10);
  Put("carol", 3, "open", 20);
  Put("dave", 4, "shipped", 5);
  Put("erin", 5, "", 7);       // no status: not in by_status
  Put("fred", 6, "open", -1);  // no total: not in by_status either
  EXPECT_EQ(Totals(QueryStatus("open")), (std::vector<int>{10, 20, 30}));
  EXPECT_EQ(Totals(QueryStatus("open", {{"ScanIndexForward", false}})),
            (std::vector<int>{30, 20, 10}));
  json page = QueryStatus("open", {{"Limit", 2}});
  EXPECT_EQ(Totals(page), (std::vector<int>{10, 20}));
  ASSERT_TRUE(page.contains("LastEvaluatedKey")) << page.dump();
  // The key of an index page names the base key and the index key.
  EXPECT_EQ(page["LastEvaluatedKey"].size(), 4u) << page.dump();
  json rest = QueryStatus("open", {{"ExclusiveStartKey", page["LastEvaluatedKey"]}});
  EXPECT_EQ(Totals(rest), (std::vector<int>{30}));
  EXPECT_FALSE(rest.contains("LastEvaluatedKey")) << rest.dump();
  json range = QueryStatus(
      "open", {{"KeyConditionExpression", "#s = :s AND #t > :t"},
               {"ExpressionAttributeNames", {{"#s", "status"}, {"#t", "total"}}},
               {"ExpressionAttributeValues", {{":s", {{"S", "open"}}}, {":t", {{"N", "15"}}}}}});
  EXPECT_EQ(Totals(range), (std::vector<int>{20, 30}));
  json scan = Ok("Scan", {{"TableName", "orders"}, {"IndexName", "by_status"}});
  EXPECT_EQ(scan["Count"], 4) << scan.dump();
}

TEST_F(SecondaryIndexTest, IndexFollowsEveryWriteAtOnce) {
  CreateIndexedTable();
  Put("alice", 1, "open", 30);
  Ok("UpdateItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "alice"}, "seq": {"N": "1"}},
      "UpdateExpression": "SET #s = :x", "ExpressionAttributeNames": {"#s": "status"},
      "ExpressionAttributeValues": {":x": {"S": "shipped"}}})"));
  EXPECT_EQ(QueryStatus("open")["Count"], 0);
  EXPECT_EQ(Totals(QueryStatus("shipped")), (std::vector<int>{30}));
  Ok("TransactWriteItems", json::parse(R"({"TransactItems": [
      {"Put": {"TableName": "orders", "Item": {"customer": {"S": "bob"}, "seq": {"N": "2"},
               "status": {"S": "shipped"}, "total": {"N": "12"}}}},
      {"Delete": {"TableName": "orders",
                  "Key": {"customer": {"S": "alice"}, "seq": {"N": "1"}}}}]})"));
  EXPECT_EQ(Totals(QueryStatus("shipped")), (std::vector<int>{12}));
}

TEST_F(SecondaryIndexTest, ProjectionsAndSelect) {
  CreateIndexedTable(R"({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]})");
  Put("alice", 1, "open", 30);
  json item = QueryStatus("open")["Items"][0];
  EXPECT_EQ(item.size(), 5u) << item.dump();  // 4 keys + note
  EXPECT_EQ(item["note"]["S"], "n1");
  // KEYS_ONLY local index: the keys only by default, the whole item on ALL_ATTRIBUTES.
  json local = {{"TableName", "orders"},
                {"IndexName", "by_total"},
                {"KeyConditionExpression", "customer = :c"},
                {"ExpressionAttributeValues", {{":c", {{"S", "alice"}}}}}};
  EXPECT_EQ(Ok("Query", local)["Items"][0].size(), 3u);
  local["Select"] = "ALL_ATTRIBUTES";
  EXPECT_EQ(Ok("Query", local)["Items"][0].size(), 5u);
  // A global index that does not project everything cannot answer whole items.
  EXPECT_EQ(Error("Query", {{"TableName", "orders"},
                            {"IndexName", "by_status"},
                            {"Select", "ALL_ATTRIBUTES"},
                            {"KeyConditionExpression", "#s = :s"},
                            {"ExpressionAttributeNames", {{"#s", "status"}}},
                            {"ExpressionAttributeValues", {{":s", {{"S", "open"}}}}}}),
            "ValidationException");
}

TEST_F(SecondaryIndexTest, LocalIndexFetchesWhatItDoesNotProjectGlobalIndexRefuses) {
  CreateIndexedTable(R"({"ProjectionType": "KEYS_ONLY"})");
  Put("alice", 1, "open", 30);
  Put("alice", 2, "open", 40);
  // The KEYS_ONLY local index holds no "note": a projection naming it reads the table.
  json local = {{"TableName", "orders"},
                {"IndexName", "by_total"},
                {"KeyConditionExpression", "customer = :c"},
                {"ProjectionExpression", "note, #t"},
                {"ExpressionAttributeNames", {{"#t", "total"}}},
                {"ExpressionAttributeValues", {{":c", {{"S", "alice"}}}}}};
  json reply = Ok("Query", local);
  EXPECT_EQ(reply["Items"], json::parse(R"([{"note": {"S": "n1"}, "total": {"N": "30"}},
                                            {"note": {"S": "n2"}, "total": {"N": "40"}}])"))
      << reply.dump();
  // The legacy AttributesToGet likewise, on a Scan of the index.
  reply = Ok("Scan",
             {{"TableName", "orders"}, {"IndexName", "by_total"}, {"AttributesToGet", {"note"}}});
  EXPECT_EQ(reply["Items"], json::parse(R"([{"note": {"S": "n1"}}, {"note": {"S": "n2"}}])"))
      << reply.dump();
  // A filter on an attribute the local index does not hold sees the table's item.
  local.erase("ProjectionExpression");
  local.erase("ExpressionAttributeNames");
  local["FilterExpression"] = "note = :n";
  local["ExpressionAttributeValues"][":n"] = {{"S", "n2"}};
  reply = Ok("Query", local);
  EXPECT_EQ(reply["Count"], 1) << reply.dump();
  EXPECT_EQ(reply["ScannedCount"], 2) << reply.dump();
  EXPECT_EQ(reply["Items"][0]["seq"]["N"], "2") << reply.dump();
  // A global index cannot read the table: DynamoDB refuses the projection.
  reply = Call("Query", {{"TableName", "orders"},
                         {"IndexName", "by_status"},
                         {"KeyConditionExpression", "#s = :s"},
                         {"ProjectionExpression", "customer, note"},
                         {"ExpressionAttributeNames", {{"#s", "status"}}},
                         {"ExpressionAttributeValues", {{":s", {{"S", "open"}}}}}});
  EXPECT_EQ(reply.value("message", ""),
            "One or more parameter values were invalid: Global secondary index by_status does "
            "not project [note]")
      << reply.dump();
  // What it projects it answers.
  reply = QueryStatus("open", {{"ProjectionExpression", "customer, seq"}});
  EXPECT_EQ(reply["Count"], 2) << reply.dump();
}

// DynamoDB's metering of a local index read that fetches from the table (LSI.md,
// "Provisioned throughput considerations"): the index entries read, summed and rounded up
// to 4 KB once, on the index; each item fetched, whole and rounded up to 4 KB on its own,
// on the table; half of each for an eventually consistent read.
TEST_F(SecondaryIndexTest, LocalIndexFetchesAreMeteredOnTheTable) {
  // events(customer, seq) with an LSI by_total(customer, total) projecting "kind" only.
  CreateEventsTable(R"({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kind"]})");
  for (int seq : {1, 2}) {
    // About 5 KB each: two read units per item, while its entry is a few bytes.
    Ok("PutItem", {{"TableName", "events"},
                   {"Item",
                    {{"customer", {{"S", "alice"}}},
                     {"seq", {{"N", std::to_string(seq)}}},
                     {"total", {{"N", std::to_string(seq * 10)}}},
                     {"kind", {{"S", seq == 1 ? "a" : "b"}}},
                     {"note", {{"S", std::string(5000, 'x')}}}}}});
  }
  const auto query = [&](json extra) {
    json body = {{"TableName", "events"},
                 {"IndexName", "by_total"},
                 {"KeyConditionExpression", "customer = :c"},
                 {"ExpressionAttributeValues", {{":c", {{"S", "alice"}}}}},
                 {"ReturnConsumedCapacity", "INDEXES"}};
    for (const auto& [name, value] : extra.items()) {
      if (name == "ExpressionAttributeValues") {
        body[name].update(value);
      } else {
        body[name] = value;
      }
    }
    json reply = Ok("Query", body);
    EXPECT_TRUE(reply.contains("ConsumedCapacity")) << reply.dump();
    return reply;
  };
  const auto capacity = [](double total, double table, double index) {
    return json{{"TableName", "events"},
                {"CapacityUnits", total},
                {"Table", {{"CapacityUnits", table}}},
                {"LocalSecondaryIndexes", {{"by_total", {{"CapacityUnits", index}}}}}};
  };
  // What the index holds: no fetch, the entries' bytes only.
  json reply = query({{"ConsistentRead", true}});
  EXPECT_EQ(reply["ConsumedCapacity"], capacity(1, 0, 1)) << reply.dump();
  // Select ALL_ATTRIBUTES fetches both items: 1 unit on the index, 2 + 2 on the table.
  reply = query({{"ConsistentRead", true}, {"Select", "ALL_ATTRIBUTES"}});
  EXPECT_EQ(reply["Items"].size(), 2u) << reply.dump();
  EXPECT_EQ(reply["ConsumedCapacity"], capacity(5, 4, 1)) << reply.dump();
  // Eventually consistent: half of each share.
  reply = query({{"ProjectionExpression", "note"}});
  EXPECT_EQ(reply["ConsumedCapacity"], capacity(2.5, 2, 0.5)) << reply.dump();
  // A filter on what the index projects is decided on the entry: only the kept item is
  // fetched (both entries were read, and count on the index).
  reply = query({{"ConsistentRead", true},
                 {"Select", "ALL_ATTRIBUTES"},
                 {"FilterExpression", "kind = :k"},
                 {"ExpressionAttributeValues", {{":k", {{"S", "b"}}}}}});
  EXPECT_EQ(reply["Count"], 1) << reply.dump();
  EXPECT_EQ(reply["Items"][0]["note"]["S"].get<std::string>().size(), 5000u) << reply.dump();
  EXPECT_EQ(reply["ConsumedCapacity"], capacity(3, 2, 1)) << reply.dump();
  // A filter on what it does not project needs every item fetched before it is decided.
  reply = query({{"ConsistentRead", true},
                 {"ProjectionExpression", "kind"},
                 {"FilterExpression", "begins_with(note, :x)"},
                 {"ExpressionAttributeValues", {{":x", {{"S", "x"}}}}}});
  EXPECT_EQ(reply["Count"], 2) << reply.dump();
  EXPECT_EQ(reply["ConsumedCapacity"], capacity(5, 4, 1)) << reply.dump();
  // Select COUNT answers no attributes: nothing is fetched.
  reply = query({{"ConsistentRead", true}, {"Select", "COUNT"}});
  EXPECT_EQ(reply["ConsumedCapacity"], capacity(1, 0, 1)) << reply.dump();
  // A Scan of the index is metered alike; TOTAL is the sum.
  reply = Ok("Scan", {{"TableName", "events"},
                      {"IndexName", "by_total"},
                      {"Select", "ALL_ATTRIBUTES"},
                      {"ConsistentRead", true},
                      {"ReturnConsumedCapacity", "TOTAL"}});
  EXPECT_EQ(reply["ConsumedCapacity"],
            json::parse(R"({"TableName": "events", "CapacityUnits": 5.0})"))
      << reply.dump();
}

// A local index read fetches each item as of the snapshot its entries were read at: an item
// whose index key changed after that snapshot is answered as the entry placed it (inside the
// key condition, in order), and LastEvaluatedKey names that entry, so the next page goes on
// from it. Reading the latest version instead answered total 99 where the index said 10.
TEST_F(SecondaryIndexTest, LocalIndexFetchesReadTheIndexSnapshot) {
  CreateEventsTable(R"({"ProjectionType": "KEYS_ONLY"})");
  const auto put = [&](int seq, int total) {
    Ok("PutItem", {{"TableName", "events"},
                   {"Item",
                    {{"customer", {{"S", "alice"}}},
                     {"seq", {{"N", std::to_string(seq)}}},
                     {"total", {{"N", std::to_string(total)}}},
                     {"note", {{"S", "n" + std::to_string(seq)}}}}}});
  };
  put(1, 10);
  put(2, 20);
  // Once the query took its snapshot, another client moves item 1 to total 99.
  bool moved = false;
  backend_.snapshot_read_fault = [&](const std::string&, uint64_t) {
    if (moved) return absl::OkStatus();
    moved = true;
    put(1, 99);
    return absl::OkStatus();
  };
  json reply =
      Ok("Query", {{"TableName", "events"},
                   {"IndexName", "by_total"},
                   {"KeyConditionExpression", "customer = :c AND #t < :t"},
                   {"ExpressionAttributeNames", {{"#t", "total"}}},
                   {"ExpressionAttributeValues", {{":c", {{"S", "alice"}}}, {":t", {{"N", "50"}}}}},
                   {"Select", "ALL_ATTRIBUTES"},
                   {"Limit", 1}});
  backend_.snapshot_read_fault = nullptr;
  ASSERT_TRUE(moved);
  ASSERT_EQ(reply["Items"].size(), 1u) << reply.dump();
  EXPECT_EQ(reply["Items"][0]["total"], json({{"N", "10"}})) << reply.dump();
  EXPECT_EQ(reply["Items"][0]["note"], json({{"S", "n1"}})) << reply.dump();
  EXPECT_EQ(reply["LastEvaluatedKey"]["total"], json({{"N", "10"}})) << reply.dump();
}

// DynamoDB's 1 MB page of a local index read that fetches: the entries' size rounded up to
// 4 KB plus each fetched item's rounded up on its own. Six items of ~300 KB with tiny
// KEYS_ONLY entries: a page of entries holds all six, a fetching page ends after the fourth
// (4 KB + 4 x 300 KB reaches 1 MB), and the next page continues from there.
TEST_F(SecondaryIndexTest, LocalIndexFetchesCountTowardTheOneMegabytePage) {
  CreateIndexedTable();
  for (int seq = 0; seq < 6; ++seq) {
    Ok("PutItem", {{"TableName", "orders"},
                   {"Item",
                    {{"customer", {{"S", "alice"}}},
                     {"seq", {{"N", std::to_string(seq)}}},
                     {"total", {{"N", std::to_string(seq)}}},
                     {"note", {{"S", std::string(300 * 1024, 'x')}}}}}});
  }
  json query = {{"TableName", "orders"},
                {"IndexName", "by_total"},
                {"KeyConditionExpression", "customer = :c"},
                {"ExpressionAttributeValues", {{":c", {{"S", "alice"}}}}}};
  json reply = Ok("Query", query);
  EXPECT_EQ(reply["Count"], 6) << reply["Count"];
  EXPECT_FALSE(reply.contains("LastEvaluatedKey"));
  query["Select"] = "ALL_ATTRIBUTES";
  query["ReturnConsumedCapacity"] = "INDEXES";
  query["ConsistentRead"] = true;
  reply = Ok("Query", query);
  EXPECT_EQ(reply["Count"], 4);
  EXPECT_EQ(reply["ScannedCount"], 4);
  ASSERT_TRUE(reply.contains("LastEvaluatedKey")) << reply["Count"];
  EXPECT_EQ(reply["LastEvaluatedKey"]["total"]["N"], "3");
  // Only the entries of the page are metered: 1 unit on the index, 4 x 76 on the table.
  EXPECT_EQ(reply["ConsumedCapacity"]["Table"]["CapacityUnits"], 4 * 76.0);
  EXPECT_EQ(reply["ConsumedCapacity"]["LocalSecondaryIndexes"]["by_total"]["CapacityUnits"], 1.0);
  query["ExclusiveStartKey"] = reply["LastEvaluatedKey"];
  reply = Ok("Query", query);
  EXPECT_EQ(reply["Count"], 2);
  EXPECT_FALSE(reply.contains("LastEvaluatedKey"));
  EXPECT_EQ(reply["Items"][1]["seq"]["N"], "5");
}

TEST_F(SecondaryIndexTest, QueryErrors) {
  CreateIndexedTable();
  json reply = Call("Query", {{"TableName", "orders"},
                              {"IndexName", "nope"},
                              {"KeyConditionExpression", "customer = :c"},
                              {"ExpressionAttributeValues", {{":c", {{"S", "a"}}}}}});
  EXPECT_EQ(reply["message"], "The table does not have the specified index: nope");
  reply = Call("Query", {{"TableName", "orders"},
                         {"IndexName", "by_status"},
                         {"ConsistentRead", true},
                         {"KeyConditionExpression", "#s = :s"},
                         {"ExpressionAttributeNames", {{"#s", "status"}}},
                         {"ExpressionAttributeValues", {{":s", {{"S", "open"}}}}}});
  EXPECT_EQ(reply["message"], "Consistent reads are not supported on global secondary indexes");
  // The base table's key is not the index's key.
  EXPECT_EQ(Error("Query", {{"TableName", "orders"},
                            {"IndexName", "by_status"},
                            {"KeyConditionExpression", "customer = :c"},
                            {"ExpressionAttributeValues", {{":c", {{"S", "a"}}}}}}),
            "ValidationException");
}

TEST_F(SecondaryIndexTest, UpdateTableCreatesAndDeletesGlobalIndexes) {
  CreateOrdersTable();
  PutOrder("alice", 1, "hello");
  PutOrder("bob", 2, "hello");
  PutOrder("carol", 3, "bye");
  json create = json::parse(R"({"TableName": "orders",
      "AttributeDefinitions": [{"AttributeName": "note", "AttributeType": "S"}],
      "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "by_note",
          "KeySchema": [{"AttributeName": "note", "KeyType": "HASH"}],
          "Projection": {"ProjectionType": "KEYS_ONLY"}}}]})");
  json described = Ok("UpdateTable", create)["TableDescription"];
  EXPECT_EQ(described["GlobalSecondaryIndexes"][0]["IndexStatus"], "CREATING") << described.dump();
  EXPECT_EQ(described["GlobalSecondaryIndexes"][0]["Backfilling"], true) << described.dump();
  const json query = {{"TableName", "orders"},
                      {"IndexName", "by_note"},
                      {"KeyConditionExpression", "note = :n"},
                      {"ExpressionAttributeValues", {{":n", {{"S", "hello"}}}}}};
  EXPECT_EQ(Call("Query", query)["message"],
            "Cannot read from backfilling global secondary index: by_note");
  IndexBackfiller backfiller(&store_, {});
  ASSERT_EQ(RunInline(backfiller.RunPass()).value_or(0), 3u);
  described = Ok("DescribeTable", {{"TableName", "orders"}})["Table"];
  EXPECT_EQ(described["GlobalSecondaryIndexes"][0]["IndexStatus"], "ACTIVE") << described.dump();
  EXPECT_FALSE(described["GlobalSecondaryIndexes"][0].contains("Backfilling"));
  // Items written before the index are in it.
  json hello = Ok("Query", query);
  EXPECT_EQ(Seqs(hello), (std::vector<int>{1, 2}));
  Ok("UpdateTable", json::parse(R"({"TableName": "orders",
      "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by_note"}}]})"));
  json table = Ok("DescribeTable", {{"TableName", "orders"}})["Table"];
  EXPECT_FALSE(table.contains("GlobalSecondaryIndexes")) << table.dump();
  EXPECT_EQ(table["AttributeDefinitions"].size(), 2u) << table.dump();
  EXPECT_EQ(Error("UpdateTable", json::parse(R"({"TableName": "orders",
      "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by_note"}}]})")),
            "ResourceNotFoundException");
}

TEST_F(SecondaryIndexTest, UpdateTableRefusesBadIndexUpdatesInDynamoDbWords) {
  CreateIndexedTable();
  const auto message = [&](const json& updates, json definitions = json()) {
    json body = {{"TableName", "orders"}, {"GlobalSecondaryIndexUpdates", updates}};
    if (!definitions.is_null()) body["AttributeDefinitions"] = definitions;
    json reply = Call("UpdateTable", body);
    EXPECT_EQ(status_, 400) << reply.dump();
    return reply.value("message", "");
  };
  const json note_def = {{{"AttributeName", "note"}, {"AttributeType", "S"}}};
  const json create = {{"IndexName", "by_note"},
                       {"KeySchema", {{{"AttributeName", "note"}, {"KeyType", "HASH"}}}},
                       {"Projection", {{"ProjectionType", "ALL"}}}};
  EXPECT_EQ(message(json::array()),
            "One or more parameter values were invalid: List of GlobalSecondaryIndexUpdates is "
            "empty");
  const std::string no_action =
      "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, "
      "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null";
  EXPECT_EQ(message(json::array({json::object()})), no_action);
  EXPECT_EQ(message({{{"Dog", create}}}, note_def), no_action);
  EXPECT_EQ(message({{{"Create", create}, {"Delete", {{"IndexName", "by_status"}}}}}, note_def),
            "One or more parameter values were invalid: Only one global secondary index action "
            "is allowed per GlobalSecondaryIndexUpdate object");
  // A name an index of either kind has, checked before the rest of the new index.
  for (const char* taken : {"by_status", "by_total"}) {
    json again = create;
    again["IndexName"] = taken;
    EXPECT_EQ(message({{{"Create", again}}}, note_def),
              "Attempting to create an index which already exists");
  }
  // A new index's key is defined in the request itself, even one the table knows.
  EXPECT_EQ(message({{{"Create", create}}}),
            "One or more parameter values were invalid: AttributeDefinitions is not specified "
            "for index: by_note");
  json by_customer = create;
  by_customer["IndexName"] = "by_customer";
  by_customer["KeySchema"][0]["AttributeName"] = "customer";
  EXPECT_EQ(message({{{"Create", by_customer}}}, note_def),
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [customer], AttributeDefinitions: [note]");
  // One index built at a time.
  json reply =
      Call("UpdateTable", {{"TableName", "orders"},
                           {"AttributeDefinitions", note_def},
                           {"GlobalSecondaryIndexUpdates",
                            {{{"Create", create}}, {{"Delete", {{"IndexName", "by_status"}}}}}}});
  EXPECT_EQ(reply.value("__type", ""), "com.amazonaws.dynamodb.v20120810#LimitExceededException")
      << reply.dump();
  EXPECT_EQ(reply.value("message", ""),
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            "simultaneously per table");
  EXPECT_EQ(message({{{"Delete", {{"IndexName", "by_total"}}}}}),
            "Cannot delete an index that is not a GlobalSecondaryIndex: by_total");
  // A key attribute keeps its type.
  json status_as_number = create;
  status_as_number["KeySchema"][0]["AttributeName"] = "status";
  EXPECT_EQ(message({{{"Create", status_as_number}}},
                    {{{"AttributeName", "status"}, {"AttributeType", "N"}}}),
            "One or more parameter values were invalid: Attributes cannot be redefined. Please "
            "check that your attribute has the same type as previously defined.");
  json table = Ok("DescribeTable", {{"TableName", "orders"}})["Table"];
  EXPECT_EQ(table["GlobalSecondaryIndexes"].size(), 1u) << table.dump();
  EXPECT_EQ(table["LocalSecondaryIndexes"].size(), 1u) << table.dump();
}

// Index reads and indexed writes read at a snapshot: one refused as ReadRestart (a write
// the snapshot cannot place) is done again above it, invisibly; one that keeps restarting
// is given up after a bounded number of snapshots (SnapshotRestarts).
TEST_F(SecondaryIndexTest, SnapshotReadsRestartAboveAReadRestart) {
  CreateIndexedTable();
  Put("alice", 1, "open", 30);
  int restarts = 0;
  uint64_t above = 0;
  backend_.snapshot_read_fault = [&](const std::string&, uint64_t ts) {
    if (ts > above) return absl::OkStatus();
    ++restarts;
    return coord::ReadRestartError(above, "ReadRestart: test");
  };
  above = 1'000;
  EXPECT_EQ(Totals(QueryStatus("open")), (std::vector<int>{30}));
  EXPECT_EQ(restarts, 1);
  restarts = 0;
  above = 2'000;
  // An UpdateItem of an indexed table decides on the item read at a snapshot.
  Ok("UpdateItem", {{"TableName", "orders"},
                    {"Key", {{"customer", {{"S", "alice"}}}, {"seq", {{"N", "1"}}}}},
                    {"UpdateExpression", "SET #t = :t"},
                    {"ExpressionAttributeNames", {{"#t", "total"}}},
                    {"ExpressionAttributeValues", {{":t", {{"N", "31"}}}}}});
  EXPECT_EQ(restarts, 1);
  EXPECT_EQ(Totals(QueryStatus("open")), (std::vector<int>{31}));
  backend_.snapshot_read_fault = [&](const std::string&, uint64_t ts) {
    ++restarts;
    return coord::ReadRestartError(ts + 1, "ReadRestart: test");
  };
  restarts = 0;
  json reply = Call("Query", {{"TableName", "orders"},
                              {"IndexName", "by_status"},
                              {"KeyConditionExpression", "#s = :s"},
                              {"ExpressionAttributeNames", {{"#s", "status"}}},
                              {"ExpressionAttributeValues", {{":s", {{"S", "open"}}}}}});
  EXPECT_NE(status_, 200) << reply.dump();
  EXPECT_EQ(restarts, 1 + TableStore::kMaxSnapshotRestarts) << reply.dump();
  backend_.snapshot_read_fault = nullptr;
}

TEST_F(SecondaryIndexTest, MistypedIndexKeyIsRefusedByEveryWrite) {
  CreateIndexedTable();
  const json bad_item = {
      {"customer", {{"S", "alice"}}}, {"seq", {{"N", "1"}}}, {"status", {{"N", "7"}}}};
  json reply = Call("PutItem", {{"TableName", "orders"}, {"Item", bad_item}});
  EXPECT_EQ(reply["message"],
            "One or more parameter values were invalid: Type mismatch for Index Key status "
            "Expected: S Actual: N IndexName: by_status")
      << reply.dump();
  EXPECT_EQ(reply["__type"], "com.amazonaws.dynamodb.v20120810#ValidationException");
  reply = Call(
      "PutItem",
      {{"TableName", "orders"},
       {"Item", {{"customer", {{"S", "alice"}}}, {"seq", {{"N", "1"}}}, {"status", {{"S", ""}}}}}});
  EXPECT_EQ(reply["message"],
            "One or more parameter values are not valid. A value specified for a secondary index "
            "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
            "string value. IndexName: by_status, IndexKey: status")
      << reply.dump();
  EXPECT_EQ(Error("BatchWriteItem",
                  {{"RequestItems", {{"orders", {{{"PutRequest", {{"Item", bad_item}}}}}}}}}),
            "ValidationException");
  EXPECT_EQ(Error("TransactWriteItems",
                  {{"TransactItems", {{{"Put", {{"TableName", "orders"}, {"Item", bad_item}}}}}}}),
            "ValidationException");
  Put("alice", 1, "open", 30);
  EXPECT_EQ(Error("UpdateItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "alice"}, "seq": {"N": "1"}},
      "UpdateExpression": "SET #t = :x", "ExpressionAttributeNames": {"#t": "total"},
      "ExpressionAttributeValues": {":x": {"S": "many"}}})")),
            "ValidationException");
  // Nothing refused was written: the item is as first put, once in each index.
  EXPECT_EQ(Totals(QueryStatus("open")), (std::vector<int>{30}));
  EXPECT_EQ(Ok("Scan", {{"TableName", "orders"}})["Count"], 1);
}

TEST_F(SecondaryIndexTest, EntriesAreStoredAndFollowKeyChanges) {
  CreateIndexedTable();
  Put("alice", 1, "open", 30);
  Put("alice", 2, "open", 10);
  Put("bob", 3, "", 5);  // not in by_status (sparse), in by_total
  Ok("UpdateItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "alice"}, "seq": {"N": "2"}},
      "UpdateExpression": "SET #t = :x", "ExpressionAttributeNames": {"#t": "total"},
      "ExpressionAttributeValues": {":x": {"N": "40"}}})"));
  Ok("DeleteItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "alice"}, "seq": {"N": "1"}}})"));
  // What is stored under each index's prefix: one entry per item the index holds, no
  // leftovers of the old index keys.
  absl::StatusOr<TableSchema> schema = RunInline(store_.GetTable("orders"));
  ASSERT_TRUE(schema.ok()) << schema.status();
  ASSERT_EQ(schema->indexes.size(), 2u);
  size_t entries[2] = {0, 0};
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_NE(schema->indexes[i].id, 0u);
    const std::string prefix = ItemPrefix(schema->indexes[i].id);
    auto stored = RunInline(store_.ScanItems(prefix, PrefixEnd(prefix), 100));
    ASSERT_TRUE(stored.ok()) << stored.status();
    entries[i] = stored->size();
  }
  EXPECT_EQ(entries[0], 1u);  // by_status: alice/2 only
  EXPECT_EQ(entries[1], 2u);  // by_total: alice/2 and bob/3
  EXPECT_EQ(Totals(QueryStatus("open")), (std::vector<int>{40}));
}

TEST_F(SecondaryIndexTest, BackfillIsResumableAndKeepsUpWithWrites) {
  CreateOrdersTable();
  for (int seq = 1; seq <= 25; ++seq) PutOrder("alice", seq, seq % 2 == 0 ? "even" : "odd");
  Ok("UpdateTable", json::parse(R"({"TableName": "orders",
      "AttributeDefinitions": [{"AttributeName": "note", "AttributeType": "S"},
                               {"AttributeName": "seq", "AttributeType": "N"}],
      "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "by_note",
          "KeySchema": [{"AttributeName": "note", "KeyType": "HASH"},
                        {"AttributeName": "seq", "KeyType": "RANGE"}],
          "Projection": {"ProjectionType": "ALL"}}}]})"));
  TableStore small_batches(&backend_, TableStoreOptions{.backfill_batch = 4});
  IndexBackfiller backfiller(&small_batches, {.items_per_pass = 10, .tables_per_pass = 100});
  ASSERT_EQ(RunInline(backfiller.RunPass()).value_or(0), 10u);
  EXPECT_EQ(Ok("DescribeTable",
               {{"TableName", "orders"}})["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"],
            "CREATING");
  // Writes during the backfill, before and after its cursor, maintain the index themselves.
  PutOrder("alice", 2, "odd");   // already copied: its entry must move
  PutOrder("alice", 24, "odd");  // not yet copied
  PutOrder("alice", 26, "even");
  for (int pass = 0; pass < 10; ++pass) ASSERT_TRUE(RunInline(backfiller.RunPass()).ok());
  json table = Ok("DescribeTable", {{"TableName", "orders"}})["Table"];
  EXPECT_EQ(table["GlobalSecondaryIndexes"][0]["IndexStatus"], "ACTIVE") << table.dump();
  json even = Ok("Query", {{"TableName", "orders"},
                           {"IndexName", "by_note"},
                           {"KeyConditionExpression", "note = :n"},
                           {"ExpressionAttributeValues", {{":n", {{"S", "even"}}}}}});
  EXPECT_EQ(Seqs(even), (std::vector<int>{4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 26}));
  json odd = Ok("Query", {{"TableName", "orders"},
                          {"IndexName", "by_note"},
                          {"KeyConditionExpression", "note = :n"},
                          {"ExpressionAttributeValues", {{":n", {{"S", "odd"}}}}}});
  EXPECT_EQ(odd["Count"], 15) << odd.dump();
}

TEST_F(SecondaryIndexTest, WriteDecidedOnAnOlderSchemaRepairsTheNewIndex) {
  CreateOrdersTable();
  PutOrder("alice", 1, "old");
  absl::StatusOr<TableSchema> before = RunInline(store_.GetTable("orders"));
  ASSERT_TRUE(before.ok());
  Ok("UpdateTable", json::parse(R"({"TableName": "orders",
      "AttributeDefinitions": [{"AttributeName": "note", "AttributeType": "S"}],
      "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "by_note",
          "KeySchema": [{"AttributeName": "note", "KeyType": "HASH"}],
          "Projection": {"ProjectionType": "KEYS_ONLY"}}}]})"));
  IndexBackfiller backfiller(&store_, {});
  ASSERT_TRUE(RunInline(backfiller.RunPass()).ok());
  // A write that read the table before the index existed (a request in flight across the
  // UpdateTable) lands after the backfill copied the item.
  absl::StatusOr<std::string> key = ItemKeyOfKey(
      *before,
      {{"customer", AttributeValue::String("alice")}, {"seq", AttributeValue::Number("1")}});
  ASSERT_TRUE(key.ok());
  const AttributeMap item = {{"customer", AttributeValue::String("alice")},
                             {"seq", AttributeValue::Number("1")},
                             {"note", AttributeValue::String("new")}};
  ASSERT_TRUE(RunInline(store_.PutItem(*before, *key, item)).ok());
  const auto count = [&](const std::string& note) {
    return Ok("Query", {{"TableName", "orders"},
                        {"IndexName", "by_note"},
                        {"KeyConditionExpression", "note = :n"},
                        {"ExpressionAttributeValues", {{":n", {{"S", note}}}}}})["Count"];
  };
  EXPECT_EQ(count("old"), 0);
  EXPECT_EQ(count("new"), 1);
}

}  // namespace
}  // namespace ekv::dynamo
