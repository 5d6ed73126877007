// Every operation through OperationTable::Handle (the HTTP body in, the HTTP status and
// body out) against the in-memory fake backend.
#include <algorithm>
#include <regex>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

#include "adapters/dynamo/table_schema.h"
#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

TEST_F(DynamoOperationTest, TableLifecycle) {
  CreateOrdersTable();
  json described = Ok("DescribeTable", {{"TableName", "orders"}});
  EXPECT_EQ(described["Table"]["TableStatus"], "ACTIVE");
  EXPECT_EQ(described["Table"]["KeySchema"][1]["AttributeName"], "seq");
  EXPECT_EQ(described["Table"]["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
  EXPECT_EQ(
      Error("CreateTable", json::parse(R"({"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}]})")),
      "ResourceInUseException");
  EXPECT_EQ(status_, 400);
  Ok("CreateTable", json::parse(R"({"TableName": "accounts",
      "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "B"}]})"));
  EXPECT_EQ(Ok("ListTables", json::object())["TableNames"],
            json::parse(R"(["accounts", "orders"])"));
  json page = Ok("ListTables", {{"Limit", 1}});
  EXPECT_EQ(page["TableNames"], json::parse(R"(["accounts"])"));
  EXPECT_EQ(page["LastEvaluatedTableName"], "accounts");
  page = Ok("ListTables", {{"Limit", 1}, {"ExclusiveStartTableName", "accounts"}});
  EXPECT_EQ(page["TableNames"], json::parse(R"(["orders"])"));
  EXPECT_FALSE(page.contains("LastEvaluatedTableName"));

  PutOrder("c1", 1);
  json deleted = Ok("DeleteTable", {{"TableName", "orders"}})["TableDescription"];
  EXPECT_EQ(deleted["TableStatus"], "DELETING");
  // As DynamoDB's: no key schema or attribute definitions in DeleteTable's description.
  EXPECT_FALSE(deleted.contains("KeySchema")) << deleted.dump();
  EXPECT_FALSE(deleted.contains("AttributeDefinitions")) << deleted.dump();
  EXPECT_FALSE(deleted.contains("CreationDateTime")) << deleted.dump();
  EXPECT_EQ(deleted["TableName"], "orders");
  EXPECT_EQ(Error("DescribeTable", {{"TableName", "orders"}}), "ResourceNotFoundException");
  EXPECT_EQ(Error("DeleteTable", {{"TableName", "orders"}}), "ResourceNotFoundException");
  // Recreated under the same name: empty (a new table id scopes its items).
  CreateOrdersTable();
  EXPECT_EQ(Ok("Scan", {{"TableName", "orders"}})["Count"], 0);
}

TEST_F(DynamoOperationTest, CreateTableValidation) {
  EXPECT_EQ(Error("CreateTable", json::parse(R"({"TableName": "x",
      "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}]})")),
            "ValidationException");
  EXPECT_EQ(
      Error("CreateTable", json::parse(R"({"TableName": "good", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "b", "AttributeType": "S"}]})")),
      "ValidationException");
  EXPECT_EQ(Error("CreateTable", json::parse(R"({"TableName": "good",
      "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}]})")),
            "ValidationException");  // PROVISIONED without throughput
  // A ProvisionedThroughput missing a member fails DynamoDB's request model, in its words.
  const auto provisioned = [&](const char* throughput) {
    return Call("CreateTable", json::parse(absl::StrCat(R"({"TableName": "good",
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
        "BillingMode": "PROVISIONED", "ProvisionedThroughput": )",
                                                        throughput, "}")))
        .value("message", "");
  };
  EXPECT_EQ(provisioned(R"({"WriteCapacityUnits": 1})"),
            "1 validation error detected: Value null at 'provisionedThroughput.readCapacityUnits' "
            "failed to satisfy constraint: Member must not be null");
  EXPECT_EQ(provisioned(R"({"ReadCapacityUnits": 0})"),
            "2 validation errors detected: Value '0' at 'provisionedThroughput.readCapacityUnits' "
            "failed to satisfy constraint: Member must have value greater than or equal to 1; "
            "Value null at 'provisionedThroughput.writeCapacityUnits' failed to satisfy "
            "constraint: Member must not be null");
  EXPECT_EQ(
      Error("CreateTable", json::parse(R"({"TableName": "good", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "BOOL"}]})")),
      "ValidationException");
}

TEST_F(DynamoOperationTest, PutGetDeleteWithReturnValues) {
  CreateOrdersTable();
  json key = json::parse(R"({"customer": {"S": "c1"}, "seq": {"N": "1"}})");
  EXPECT_EQ(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}}), json::object());
  PutOrder("c1", 1, "first");
  EXPECT_EQ(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}})["Item"]["note"]["S"], "first");
  json item = key;
  item["note"] = {{"S", "second"}};
  json old = Ok("PutItem", {{"TableName", "orders"}, {"Item", item}, {"ReturnValues", "ALL_OLD"}});
  EXPECT_EQ(old["Attributes"]["note"]["S"], "first");
  EXPECT_EQ(
      Error("PutItem", {{"TableName", "orders"}, {"Item", item}, {"ReturnValues", "ALL_NEW"}}),
      "ValidationException");
  old = Ok("DeleteItem", {{"TableName", "orders"}, {"Key", key}, {"ReturnValues", "ALL_OLD"}});
  EXPECT_EQ(old["Attributes"]["note"]["S"], "second");
  EXPECT_EQ(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}}), json::object());
  EXPECT_EQ(Ok("DeleteItem", {{"TableName", "orders"}, {"Key", key}}), json::object());
}

TEST_F(DynamoOperationTest, KeyValidation) {
  CreateOrdersTable();
  EXPECT_EQ(
      Error("PutItem", json::parse(R"({"TableName": "orders", "Item": {"customer": {"S": "c"}}})")),
      "ValidationException");
  json reply =
      Call("PutItem",
           json::parse(
               R"({"TableName": "orders", "Item": {"customer": {"S": "c"}, "seq": {"S": "1"}}})"));
  EXPECT_EQ(reply["message"],
            "One or more parameter values were invalid: Type mismatch for key seq expected: N "
            "actual: S");
  reply =
      Call("GetItem", json::parse(R"({"TableName": "orders", "Key": {"customer": {"S": "c"}}})"));
  EXPECT_EQ(reply["message"], "The provided key element does not match the schema");
  reply =
      Call("PutItem",
           json::parse(
               R"({"TableName": "orders", "Item": {"customer": {"S": ""}, "seq": {"N": "1"}}})"));
  EXPECT_EQ(reply["message"],
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: customer");
  EXPECT_EQ(
      Error("GetItem", json::parse(R"({"TableName": "nope", "Key": {"customer": {"S": "c"}}})")),
      "ResourceNotFoundException");
}

TEST_F(DynamoOperationTest, ConditionalWrites) {
  CreateOrdersTable();
  json item = json::parse(R"({"customer": {"S": "c1"}, "seq": {"N": "1"}, "state": {"S": "new"}})");
  json put_if_absent = {{"TableName", "orders"},
                        {"Item", item},
                        {"ConditionExpression", "attribute_not_exists(customer)"}};
  Ok("PutItem", put_if_absent);
  EXPECT_EQ(Error("PutItem", put_if_absent), "ConditionalCheckFailedException");
  EXPECT_EQ(status_, 400);
  json key = json::parse(R"({"customer": {"S": "c1"}, "seq": {"N": "1"}})");
  json guarded_delete = {{"TableName", "orders"},
                         {"Key", key},
                         {"ConditionExpression", "#s = :done"},
                         {"ExpressionAttributeNames", {{"#s", "state"}}},
                         {"ExpressionAttributeValues", {{":done", {{"S", "done"}}}}}};
  EXPECT_EQ(Error("DeleteItem", guarded_delete), "ConditionalCheckFailedException");
  EXPECT_TRUE(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}}).contains("Item"));
  json update = {
      {"TableName", "orders"},
      {"Key", key},
      {"UpdateExpression", "SET #s = :done"},
      {"ConditionExpression", "#s = :new OR #s = :done"},
      {"ExpressionAttributeNames", {{"#s", "state"}}},
      {"ExpressionAttributeValues", {{":done", {{"S", "done"}}}, {":new", {{"S", "new"}}}}},
      {"ReturnValues", "UPDATED_NEW"}};
  EXPECT_EQ(Ok("UpdateItem", update)["Attributes"], json::parse(R"({"state": {"S": "done"}})"));
  Ok("DeleteItem", guarded_delete);
  EXPECT_FALSE(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}}).contains("Item"));
  // Unused or undefined placeholders.
  guarded_delete["ExpressionAttributeValues"][":extra"] = {{"S", "x"}};
  EXPECT_EQ(Error("DeleteItem", guarded_delete), "ValidationException");
}

TEST_F(DynamoOperationTest, UpdateItemCreatesAndReturnsValues) {
  CreateOrdersTable();
  json key = json::parse(R"({"customer": {"S": "c1"}, "seq": {"N": "7"}})");
  json add = {{"TableName", "orders"},
              {"Key", key},
              // TOTAL is a reserved word: named through a placeholder, as DynamoDB requires.
              {"UpdateExpression", "SET #t = if_not_exists(#t, :zero) + :amount"},
              {"ExpressionAttributeNames", {{"#t", "total"}}},
              {"ExpressionAttributeValues", {{":zero", {{"N", "0"}}}, {":amount", {{"N", "2.5"}}}}},
              {"ReturnValues", "ALL_NEW"}};
  EXPECT_EQ(Ok("UpdateItem", add)["Attributes"],
            json::parse(R"({"customer": {"S": "c1"}, "seq": {"N": "7"}, "total": {"N": "2.5"}})"));
  EXPECT_EQ(Ok("UpdateItem", add)["Attributes"]["total"]["N"], "5");
  add["ReturnValues"] = "ALL_OLD";
  EXPECT_EQ(Ok("UpdateItem", add)["Attributes"]["total"]["N"], "5");
  json remove = {{"TableName", "orders"},
                 {"Key", key},
                 {"UpdateExpression", "REMOVE #t"},
                 {"ExpressionAttributeNames", {{"#t", "total"}}},
                 {"ReturnValues", "UPDATED_OLD"}};
  EXPECT_EQ(Ok("UpdateItem", remove)["Attributes"], json::parse(R"({"total": {"N": "7.5"}})"));
  json set_key = {{"TableName", "orders"},
                  {"Key", key},
                  {"UpdateExpression", "SET seq = :v"},
                  {"ExpressionAttributeValues", {{":v", {{"N", "1"}}}}}};
  EXPECT_EQ(Error("UpdateItem", set_key), "ValidationException");
}

// The read-modify-write must decide on the value it replaces: a write that lands between
// the handler's read and its compare-and-set makes it decide again.
// An update that only removes attributes does not create an absent item (one that sets
// nothing at all does); UPDATED_OLD / UPDATED_NEW return only the updated nested members.
TEST_F(DynamoOperationTest, UpdateItemRemovalsAndNestedReturnValues) {
  CreateOrdersTable();
  const auto key = [](int seq) {
    return json{{"customer", {{"S", "ann"}}}, {"seq", {{"N", std::to_string(seq)}}}};
  };
  const auto get = [&](int seq) {
    return Ok("GetItem", {{"TableName", "orders"}, {"Key", key(seq)}});
  };
  json removed = Ok("UpdateItem", {{"TableName", "orders"},
                                   {"Key", key(1)},
                                   {"UpdateExpression", "REMOVE a"},
                                   {"ReturnValues", "ALL_NEW"}});
  EXPECT_FALSE(removed.contains("Attributes")) << removed.dump();
  EXPECT_FALSE(get(1).contains("Item")) << get(1).dump();
  Ok("UpdateItem", {{"TableName", "orders"},
                    {"Key", key(2)},
                    {"AttributeUpdates", json::parse(R"({"a": {"Action": "DELETE"}})")}});
  EXPECT_FALSE(get(2).contains("Item")) << get(2).dump();
  Ok("UpdateItem", {{"TableName", "orders"}, {"Key", key(3)}});
  EXPECT_EQ(get(3)["Item"], key(3));
  // A key attribute is refused even when the item is absent.
  EXPECT_EQ(Error("UpdateItem",
                  {{"TableName", "orders"}, {"Key", key(4)}, {"UpdateExpression", "REMOVE seq"}}),
            "ValidationException");

  Ok("PutItem",
     {{"TableName", "orders"}, {"Item", json::parse(R"({"customer": {"S": "ann"}, "seq": {"N": "5"},
                      "a": {"M": {"b": {"S": "old"}, "c": {"L": [{"N": "1"}]}}}})")}});
  json nested = Ok("UpdateItem", {{"TableName", "orders"},
                                  {"Key", key(5)},
                                  {"UpdateExpression", "SET a.b = :v"},
                                  {"ExpressionAttributeValues", {{":v", {{"S", "new"}}}}},
                                  {"ReturnValues", "UPDATED_NEW"}});
  EXPECT_EQ(nested["Attributes"], json::parse(R"({"a": {"M": {"b": {"S": "new"}}}})"));
  nested = Ok("UpdateItem", {{"TableName", "orders"},
                             {"Key", key(5)},
                             {"UpdateExpression", "REMOVE a.c[0]"},
                             {"ReturnValues", "UPDATED_OLD"}});
  EXPECT_EQ(nested["Attributes"], json::parse(R"({"a": {"M": {"c": {"L": [{"N": "1"}]}}}})"));
}

// What an independent DynamoDB suite checks on CreateTable, Scan and values: a stream that is
// off is no stream; a duplicate attribute definition is named; a parallel scan's start key
// must lie in its segment; a number written as a JSON number is a SerializationException.
TEST_F(DynamoOperationTest, StreamOffDuplicateNamesSegmentsAndJsonNumbers) {
  json create = json::parse(R"({"TableName": "streamless", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
      "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}})");
  EXPECT_EQ(Error("CreateTable", create), "ValidationException");
  create["StreamSpecification"] = {{"StreamEnabled", false}};
  Ok("CreateTable", create);
  // TableId has a UUID's form.
  const std::string id =
      Ok("DescribeTable", {{"TableName", "streamless"}})["Table"]["TableId"].get<std::string>();
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                              "[0-9a-f]{12}")))
      << id;
  EXPECT_EQ(TableIdUuid(0x1234), "00000000-0000-0000-0000-000000001234");
  json duplicate = json::parse(R"({"TableName": "duplicated", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "xyz", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "xyz", "AttributeType": "S"},
                               {"AttributeName": "xyz", "AttributeType": "N"}]})");
  EXPECT_EQ(Call("CreateTable", duplicate).value("message", ""),
            "One or more parameter values were invalid: Cannot have two attributes with the same "
            "name in AttributeDefinitions: Duplicate AttributeName: xyz");

  for (int i = 0; i < 20; ++i) {
    Ok("PutItem",
       {{"TableName", "streamless"}, {"Item", {{"p", {{"S", "k" + std::to_string(i)}}}}}});
  }
  // The items of segment 0 of 2 continue within it; another segment's item is refused.
  json first =
      Ok("Scan", json::parse(R"({"TableName": "streamless", "Segment": 0, "TotalSegments": 2})"));
  json second =
      Ok("Scan", json::parse(R"({"TableName": "streamless", "Segment": 1, "TotalSegments": 2})"));
  ASSERT_FALSE(first["Items"].empty()) << first.dump();
  ASSERT_FALSE(second["Items"].empty()) << second.dump();
  json within = {{"TableName", "streamless"},
                 {"Segment", 0},
                 {"TotalSegments", 2},
                 {"ExclusiveStartKey", first["Items"][0]}};
  Ok("Scan", within);
  within["ExclusiveStartKey"] = second["Items"][0];
  EXPECT_EQ(Call("Scan", within).value("message", ""),
            "The provided Exclusive start key does not map to the provided segment");

  json as_number =
      Call("UpdateItem", json::parse(R"({"TableName": "streamless", "Key": {"p": {"S": "k0"}},
      "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"N": 123}}})"));
  EXPECT_NE(as_number.value("__type", "").find("SerializationException"), std::string::npos)
      << as_number.dump();
}

TEST_F(DynamoOperationTest, ConcurrentWriteBetweenReadAndWriteIsNotLost) {
  CreateOrdersTable();
  json key = json::parse(R"({"customer": {"S": "c1"}, "seq": {"N": "1"}})");
  json increment = {{"TableName", "orders"},
                    {"Key", key},
                    {"UpdateExpression", "ADD hits :one"},
                    {"ExpressionAttributeValues", {{":one", {{"N", "1"}}}}}};
  Ok("UpdateItem", increment);
  backend_.before_next_cas = [&] {
    // Another client's increment, applied while ours is in flight.
    TableStore other(&backend_);
    RunInline(
        OperationTable::Default().Handle("DynamoDB_20120810.UpdateItem", increment.dump(), &other));
  };
  Ok("UpdateItem", increment);
  EXPECT_EQ(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}})["Item"]["hits"]["N"], "3");

  // And a condition that held on the stale read but not on the current value fails.
  json claim = {{"TableName", "orders"},
                {"Key", key},
                {"UpdateExpression", "SET #o = :me"},
                {"ConditionExpression", "attribute_not_exists(#o)"},
                {"ExpressionAttributeNames", {{"#o", "owner"}}},
                {"ExpressionAttributeValues", {{":me", {{"S", "me"}}}}}};
  backend_.before_next_cas = [&] {
    json rival = claim;
    rival["ExpressionAttributeValues"][":me"] = {{"S", "rival"}};
    TableStore other(&backend_);
    RunInline(
        OperationTable::Default().Handle("DynamoDB_20120810.UpdateItem", rival.dump(), &other));
  };
  EXPECT_EQ(Error("UpdateItem", claim), "ConditionalCheckFailedException");
  EXPECT_EQ(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}})["Item"]["owner"]["S"], "rival");
}

TEST_F(DynamoOperationTest, QueryRangeConditionsOrderAndPagination) {
  CreateOrdersTable();
  for (int seq : {10, -3, 2, 7, 100, 1}) PutOrder("c1", seq);
  PutOrder("c2", 5);
  PutOrder("c", 4);  // a hash key that is a prefix of another
  auto query = [&](const std::string& condition, json values, json extra = json::object()) {
    json request = {{"TableName", "orders"},
                    {"KeyConditionExpression", condition},
                    {"ExpressionAttributeValues", values}};
    request.update(extra);
    return Ok("Query", request);
  };
  const json c1 = {{":c", {{"S", "c1"}}}};
  EXPECT_EQ(Seqs(query("customer = :c", c1)), (std::vector<int>{-3, 1, 2, 7, 10, 100}));
  json values = c1;
  values[":a"] = {{"N", "2"}};
  values[":b"] = {{"N", "10"}};
  json two = c1;
  two[":a"] = {{"N", "2"}};
  EXPECT_EQ(Seqs(query("customer = :c AND seq > :a", two)), (std::vector<int>{7, 10, 100}));
  // A placeholder defined and not used is refused, as DynamoDB does.
  EXPECT_EQ(Call("Query", {{"TableName", "orders"},
                           {"KeyConditionExpression", "customer = :c AND seq > :a"},
                           {"ExpressionAttributeValues", values}})["message"],
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}");
  EXPECT_EQ(Seqs(query("customer = :c AND seq <= :a", two)), (std::vector<int>{-3, 1, 2}));
  EXPECT_EQ(Seqs(query("customer = :c AND seq BETWEEN :a AND :b", values)),
            (std::vector<int>{2, 7, 10}));
  EXPECT_EQ(Seqs(query("customer = :c", c1, {{"ScanIndexForward", false}})),
            (std::vector<int>{100, 10, 7, 2, 1, -3}));

  // Pagination forward and backward: pages of 4 cover everything once, in order.
  for (bool forward : {true, false}) {
    std::vector<int> seen;
    json start;
    int pages = 0;
    do {
      json extra = {{"Limit", 4}, {"ScanIndexForward", forward}};
      if (!start.is_null()) extra["ExclusiveStartKey"] = start;
      json page = query("customer = :c", c1, extra);
      for (int s : Seqs(page)) seen.push_back(s);
      start = page.contains("LastEvaluatedKey") ? page["LastEvaluatedKey"] : json();
      ++pages;
    } while (!start.is_null() && pages < 10);
    EXPECT_EQ(pages, 2);
    EXPECT_EQ(seen, forward ? std::vector<int>({-3, 1, 2, 7, 10, 100})
                            : std::vector<int>({100, 10, 7, 2, 1, -3}));
  }
  json count = query("customer = :c", c1, {{"Select", "COUNT"}});
  EXPECT_EQ(count["Count"], 6);
  EXPECT_FALSE(count.contains("Items"));
  json request = {{"TableName", "orders"},
                  {"KeyConditionExpression", "seq = :c"},
                  {"ExpressionAttributeValues", {{":c", {{"N", "1"}}}}}};
  EXPECT_EQ(Call("Query", request)["message"],
            "Query condition missed key schema element: customer");
}

// A descending Query pages over a partition of any size: more items than one read batch
// (1,000), every item once, in descending order, each page continuing below the last one's
// LastEvaluatedKey. (The first form read the partition forward and refused more than
// 10,000 items.) Without Limit only 1 MB ends a page, as in DynamoDB: 10,050 tiny items
// (~170 KB) are one page (ekv once also ended a page at 10,000 items).
TEST_F(DynamoOperationTest, DescendingQueryPagesOverAnyNumberOfItems) {
  CreateOrdersTable();
  constexpr int kItems = 10'050;
  for (int first = 0; first < kItems; first += 25) {
    json puts = json::array();
    for (int seq = first; seq < std::min(first + 25, kItems); ++seq) {
      puts.push_back(
          {{"PutRequest",
            {{"Item", {{"customer", {{"S", "big"}}}, {"seq", {{"N", std::to_string(seq)}}}}}}}});
    }
    json reply = Ok("BatchWriteItem", {{"RequestItems", {{"orders", puts}}}});
    ASSERT_TRUE(reply["UnprocessedItems"].empty()) << reply.dump();
  }
  PutOrder("bigger", 1);  // a neighbouring partition, never part of the answer
  auto pages = [&](json extra) {
    std::vector<std::vector<int>> out;
    json start;
    do {
      json request = {{"TableName", "orders"},
                      {"KeyConditionExpression", "customer = :c"},
                      {"ExpressionAttributeValues", {{":c", {{"S", "big"}}}}},
                      {"ScanIndexForward", false}};
      request.update(extra);
      if (!start.is_null()) request["ExclusiveStartKey"] = start;
      json reply = Ok("Query", request);
      out.push_back(Seqs(reply));
      start = reply.contains("LastEvaluatedKey") ? reply["LastEvaluatedKey"] : json();
    } while (!start.is_null() && out.size() < 100);
    return out;
  };
  std::vector<int> descending;
  for (int seq = kItems - 1; seq >= 0; --seq) descending.push_back(seq);
  // Without Limit: one page of every item.
  std::vector<std::vector<int>> whole = pages(json::object());
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].size(), 10'050u);
  std::vector<int> seen;
  for (const auto& page : whole) seen.insert(seen.end(), page.begin(), page.end());
  EXPECT_EQ(seen, descending);
  // Pages of 1,500 (each more than one read batch), the last one exactly full: DynamoDB
  // answers a LastEvaluatedKey then, and the next page is empty.
  std::vector<std::vector<int>> limited = pages({{"Limit", 1'500}});
  seen.clear();
  for (const auto& page : limited) seen.insert(seen.end(), page.begin(), page.end());
  EXPECT_EQ(seen, descending);
  EXPECT_EQ(limited.size(), 7u);  // 6 full pages of 1,500 and 1,050
  EXPECT_GT(backend_.reverse_scans, 0);
  // Starting in the middle: the items below the start key, highest first.
  json middle = {{"TableName", "orders"},
                 {"KeyConditionExpression", "customer = :c AND seq < :s"},
                 {"ScanIndexForward", false},
                 {"Limit", 3}};
  middle["ExpressionAttributeValues"] = {{":c", {{"S", "big"}}}, {":s", {{"N", "5000"}}}};
  middle["ExclusiveStartKey"] = {{"customer", {{"S", "big"}}}, {"seq", {{"N", "20"}}}};
  EXPECT_EQ(Seqs(Ok("Query", middle)), (std::vector<int>{19, 18, 17}));
}

TEST_F(DynamoOperationTest, ScanPaginatesAndFilters) {
  CreateOrdersTable();
  for (int seq = 0; seq < 25; ++seq) PutOrder(seq % 2 ? "odd" : "even", seq, seq % 5 ? "" : "five");
  std::set<int> seen;
  json start;
  int pages = 0;
  do {
    json request = {{"TableName", "orders"}, {"Limit", 10}};
    if (!start.is_null()) request["ExclusiveStartKey"] = start;
    json page = Ok("Scan", request);
    for (int s : Seqs(page)) EXPECT_TRUE(seen.insert(s).second) << s;
    start = page.contains("LastEvaluatedKey") ? page["LastEvaluatedKey"] : json();
    ++pages;
  } while (!start.is_null() && pages < 10);
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 3);
  json filtered =
      Ok("Scan", {{"TableName", "orders"}, {"FilterExpression", "attribute_exists(note)"}});
  EXPECT_EQ(filtered["Count"], 5);
  EXPECT_EQ(filtered["ScannedCount"], 25);
}

TEST_F(DynamoOperationTest, ProtocolErrors) {
  HttpReply reply =
      RunInline(OperationTable::Default().Handle("DynamoDB_20120810.Frobnicate", "{}", &store_));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(json::parse(reply.body)["__type"],
            "com.amazon.coral.service#UnknownOperationException");
  reply = RunInline(
      OperationTable::Default().Handle("DynamoDB_20120810.ListTables", "{not json", &store_));
  EXPECT_EQ(reply.status, 400);
  // As DynamoDB answers it: the exception's name and no message.
  EXPECT_EQ(json::parse(reply.body),
            json::parse(R"({"__type": "com.amazon.coral.service#SerializationException"})"))
      << reply.body;
  reply = RunInline(OperationTable::Default().Handle("DynamoDB_20120810.DescribeTable",
                                                     R"({"TableName": "nope"})", &store_));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(json::parse(reply.body),
            json::parse(R"({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                            "message": "Requested resource not found: Table: nope not found"})"));
  // A field of the wrong JSON type is a serialization error, not a crash.
  reply = RunInline(OperationTable::Default().Handle("DynamoDB_20120810.ListTables",
                                                     R"({"Limit": "x"})", &store_));
  EXPECT_EQ(reply.status, 400);
}

// DynamoDB's key size limits, in its words: a partition key value up to 2048 bytes, a sort
// key value up to 1024; one byte more is refused before anything is written.
TEST_F(DynamoOperationTest, AttributeNamesAreLimitedAsDynamoDbLimitsThem) {
  CreateOrdersTable();
  const std::string longest(65535, 'a');
  const std::string too_long(65536, 'a');
  const std::string too_large =
      "1 validation error detected: Attribute name is too large, must be less than 65536 bytes";
  const json key = {{"customer", {{"S", "c"}}}, {"seq", {{"N", "1"}}}};
  const auto message = [&](const std::string& operation, const json& body) {
    json reply = Call(operation, body);
    EXPECT_EQ(status_, 400) << reply.dump().substr(0, 300);
    return reply.value("message", "");
  };
  const auto with = [&](const std::string& name, const json& value) {
    json item = key;
    item[name] = value;
    return item;
  };
  // 65535 bytes is the longest name: stored, read back through a placeholder and updated.
  Ok("PutItem", {{"TableName", "orders"}, {"Item", with(longest, {{"N", "1"}})}});
  json reply = Ok("GetItem", {{"TableName", "orders"},
                              {"Key", key},
                              {"ProjectionExpression", "#n"},
                              {"ExpressionAttributeNames", {{"#n", longest}}}});
  EXPECT_EQ(reply["Item"].size(), 1u);
  Ok("UpdateItem", {{"TableName", "orders"},
                    {"Key", key},
                    {"UpdateExpression", "SET #n = #n + :one"},
                    {"ExpressionAttributeNames", {{"#n", longest}}},
                    {"ExpressionAttributeValues", {{":one", {{"N", "1"}}}}}});
  // One byte more is refused wherever a name is given, a nested map's key too.
  EXPECT_EQ(message("PutItem", {{"TableName", "orders"}, {"Item", with(too_long, {{"N", "1"}})}}),
            too_large);
  EXPECT_EQ(message("PutItem", {{"TableName", "orders"},
                                {"Item", with("doc", {{"M", {{too_long, {{"N", "1"}}}}}})}}),
            too_large);
  EXPECT_EQ(message("GetItem", {{"TableName", "orders"},
                                {"Key", key},
                                {"ProjectionExpression", "#n"},
                                {"ExpressionAttributeNames", {{"#n", too_long}}}}),
            too_large);
  EXPECT_EQ(
      message("GetItem", {{"TableName", "orders"}, {"Key", key}, {"AttributesToGet", {too_long}}}),
      too_large);
  EXPECT_EQ(message("UpdateItem", {{"TableName", "orders"},
                                   {"Key", key},
                                   {"AttributeUpdates",
                                    {{too_long, {{"Action", "PUT"}, {"Value", {{"N", "2"}}}}}}}}),
            too_large);
  EXPECT_EQ(message("DeleteItem", {{"TableName", "orders"},
                                   {"Key", key},
                                   {"Expected", {{too_long, {{"Exists", false}}}}}}),
            too_large);
  // An empty name likewise; in ExpressionAttributeNames in DynamoDB's words for it.
  EXPECT_EQ(message("PutItem", {{"TableName", "orders"}, {"Item", with("", {{"N", "1"}})}}),
            "1 validation error detected: Empty attribute name");
  EXPECT_EQ(message("UpdateItem", {{"TableName", "orders"},
                                   {"Key", key},
                                   {"UpdateExpression", "SET #n = :v"},
                                   {"ExpressionAttributeNames", {{"#n", ""}}},
                                   {"ExpressionAttributeValues", {{":v", {{"N", "1"}}}}}}),
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n");
  // Nothing refused was written.
  reply = Ok("GetItem", {{"TableName", "orders"}, {"Key", key}});
  EXPECT_EQ(reply["Item"].size(), 3u) << reply.dump().substr(0, 300);
  EXPECT_EQ(reply["Item"][longest]["N"], "2");
}

TEST_F(DynamoOperationTest, KeyAttributeNamesAreLimitedTo255Bytes) {
  const std::string longest(255, 'k');
  const std::string too_long(256, 'k');
  const auto table = [](const std::string& hash, const std::string& defined) {
    return json{{"TableName", "names"},
                {"BillingMode", "PAY_PER_REQUEST"},
                {"KeySchema", {{{"AttributeName", hash}, {"KeyType", "HASH"}}}},
                {"AttributeDefinitions", {{{"AttributeName", defined}, {"AttributeType", "S"}}}}};
  };
  const auto refused = [](const std::string& name, const std::string& path) {
    return "1 validation error detected: Value '" + name + "' at '" + path +
           "' failed to satisfy constraint: Member must have length less than or equal to 255";
  };
  // The length is checked before the names are matched against each other, as DynamoDB does.
  json reply = Call("CreateTable", table(too_long, "other"));
  EXPECT_EQ(reply.value("message", ""), refused(too_long, "keySchema.1.member.attributeName"));
  reply = Call("CreateTable", table("other", too_long));
  EXPECT_EQ(reply.value("message", ""),
            refused(too_long, "attributeDefinitions.1.member.attributeName"));
  // Index keys and the names an index projects.
  json with_index = table("h", "h");
  with_index["AttributeDefinitions"].push_back({{"AttributeName", "g"}, {"AttributeType", "S"}});
  with_index["GlobalSecondaryIndexes"] = {
      {{"IndexName", "gsi"},
       {"KeySchema", {{{"AttributeName", too_long}, {"KeyType", "HASH"}}}},
       {"Projection", {{"ProjectionType", "ALL"}}}}};
  reply = Call("CreateTable", with_index);
  EXPECT_EQ(reply.value("message", ""),
            refused(too_long, "globalSecondaryIndexes.1.member.keySchema.1.member.attributeName"));
  with_index["GlobalSecondaryIndexes"][0]["KeySchema"][0]["AttributeName"] = "g";
  with_index["GlobalSecondaryIndexes"][0]["Projection"] = {{"ProjectionType", "INCLUDE"},
                                                           {"NonKeyAttributes", {too_long}}};
  reply = Call("CreateTable", with_index);
  EXPECT_EQ(
      reply.value("message", ""),
      refused(too_long, "globalSecondaryIndexes.1.member.projection.nonKeyAttributes.member"));
  // 255 bytes is allowed, and such a table serves items.
  Ok("CreateTable", table(longest, longest));
  Ok("PutItem",
     {{"TableName", "names"}, {"Item", {{longest, {{"S", "v"}}}, {too_long, {{"N", "1"}}}}}});
  EXPECT_EQ(
      Ok("GetItem", {{"TableName", "names"}, {"Key", {{longest, {{"S", "v"}}}}}})["Item"].size(),
      2u);
  // UpdateTable's new global index likewise.
  reply = Call("UpdateTable",
               {{"TableName", "names"},
                {"AttributeDefinitions", {{{"AttributeName", too_long}, {"AttributeType", "S"}}}},
                {"GlobalSecondaryIndexUpdates",
                 {{{"Create",
                    {{"IndexName", "gsi"},
                     {"KeySchema", {{{"AttributeName", too_long}, {"KeyType", "HASH"}}}},
                     {"Projection", {{"ProjectionType", "ALL"}}}}}}}}});
  EXPECT_EQ(reply.value("message", ""),
            refused(too_long, "attributeDefinitions.1.member.attributeName"));
}

TEST_F(DynamoOperationTest, KeySizesAreLimitedAsDynamoDbLimitsThem) {
  Ok("CreateTable", json::parse(R"({
      "TableName": "keys", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"},
                    {"AttributeName": "r", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "h", "AttributeType": "S"},
                               {"AttributeName": "r", "AttributeType": "S"}]})"));
  const auto item = [](size_t hash_bytes, size_t range_bytes) {
    return json{{"h", {{"S", std::string(hash_bytes, 'h')}}},
                {"r", {{"S", std::string(range_bytes, 'r')}}}};
  };
  Ok("PutItem", {{"TableName", "keys"}, {"Item", item(2048, 1024)}});
  json reply = Call("PutItem", {{"TableName", "keys"}, {"Item", item(2049, 1)}});
  EXPECT_EQ(reply["message"],
            "One or more parameter values were invalid: Size of hashkey has exceeded the "
            "maximum size limit of 2048 bytes")
      << reply.dump().substr(0, 300);
  reply = Call("PutItem", {{"TableName", "keys"}, {"Item", item(1, 1025)}});
  EXPECT_EQ(reply["message"],
            "One or more parameter values were invalid: Size of rangekey has exceeded the "
            "maximum size limit of 1024 bytes")
      << reply.dump().substr(0, 300);
  EXPECT_EQ(Error("GetItem", {{"TableName", "keys"}, {"Key", item(2049, 1)}}),
            "ValidationException");
  EXPECT_TRUE(Ok("GetItem", {{"TableName", "keys"}, {"Key", item(2048, 1024)}}).contains("Item"));
  EXPECT_EQ(Ok("Scan", {{"TableName", "keys"}})["Count"], 1);
}

}  // namespace
}  // namespace ekv::dynamo
