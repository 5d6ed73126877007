// BatchWriteItem, BatchGetItem and projections through OperationTable::Handle against the
// fake backend: limits and validation in DynamoDB's words, all-or-nothing validation,
// UnprocessedItems/UnprocessedKeys when the store fails or the 16 MB answer limit is hit.
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

json PutRequest(const std::string& customer, int seq) {
  return {{"PutRequest",
           {{"Item", {{"customer", {{"S", customer}}}, {"seq", {{"N", std::to_string(seq)}}}}}}}};
}
json DeleteRequest(const std::string& customer, int seq) {
  return {{"DeleteRequest",
           {{"Key", {{"customer", {{"S", customer}}}, {"seq", {{"N", std::to_string(seq)}}}}}}}};
}
json OrderKey(const std::string& customer, int seq) {
  return {{"customer", {{"S", customer}}}, {"seq", {{"N", std::to_string(seq)}}}};
}

class BatchTest : public DynamoOperationTest {
 protected:
  std::string Message(const std::string& operation, const json& body) {
    json reply = Call(operation, body);
    EXPECT_EQ(status_, 400) << reply.dump();
    return reply.value("message", "");
  }
  size_t Count() { return Ok("Scan", {{"TableName", "orders"}})["Count"].get<size_t>(); }
};

TEST_F(BatchTest, BatchWriteItemPutsAndDeletes) {
  CreateOrdersTable();
  PutOrder("ann", 9);
  json batch = json::array({PutRequest("ann", 1), PutRequest("bob", 2), DeleteRequest("ann", 9),
                            DeleteRequest("zed", 1)});
  json reply = Ok("BatchWriteItem", {{"RequestItems", {{"orders", batch}}}});
  EXPECT_EQ(reply, json::parse(R"({"UnprocessedItems": {}})"));
  EXPECT_EQ(Count(), 2u);
  EXPECT_TRUE(
      Ok("GetItem", {{"TableName", "orders"}, {"Key", OrderKey("bob", 2)}}).contains("Item"));
  EXPECT_FALSE(
      Ok("GetItem", {{"TableName", "orders"}, {"Key", OrderKey("ann", 9)}}).contains("Item"));

  json capacity = Ok("BatchWriteItem", {{"RequestItems", {{"orders", {PutRequest("cy", 1)}}}},
                                        {"ReturnConsumedCapacity", "TOTAL"}});
  EXPECT_EQ(capacity["ConsumedCapacity"],
            json::parse(R"([{"TableName": "orders", "CapacityUnits": 1.0}])"));
}

TEST_F(BatchTest, BatchWriteItemValidationRefusesTheWholeBatch) {
  CreateOrdersTable();
  EXPECT_EQ(Message("BatchWriteItem", json::object()),
            "BatchWriteItem cannot have a null or no requests set");
  EXPECT_EQ(Message("BatchWriteItem", {{"RequestItems", json::object()}}),
            "BatchWriteItem cannot have a null or no requests set");
  EXPECT_EQ(Message("BatchWriteItem", {{"RequestItems", {{"orders", json::array()}}}}),
            "The batch write request list for a table cannot be null or empty: orders");
  json many = json::array();
  for (int i = 0; i < 26; ++i) many.push_back(PutRequest("c", i));
  // Over 25 in one table: DynamoDB's model constraint on each table's list.
  EXPECT_EQ(Message("BatchWriteItem", {{"RequestItems", {{"orders", many}}}}),
            "1 validation error detected: Value '{orders=[...]}' at 'requestItems' failed to "
            "satisfy constraint: Map value must satisfy constraint: [Member must have length "
            "less than or equal to 25, Member must have length greater than or equal to 1]");
  // Each table within 25 but 26 in all: the operation's own limit, checked before the
  // tables are looked up (the second one does not exist).
  json half(many.begin(), many.begin() + 13);
  EXPECT_EQ(
      Message("BatchWriteItem", {{"RequestItems", {{"orders", half}, {"nosuchtable", half}}}}),
      "Too many items requested for the BatchWriteItem call");
  many.erase(many.begin());
  Ok("BatchWriteItem", {{"RequestItems", {{"orders", many}}}});  // 25 is allowed
  EXPECT_EQ(Count(), 25u);

  // A duplicate key (put + delete of one item) refuses everything, nothing is written.
  EXPECT_EQ(
      Message("BatchWriteItem",
              {{"RequestItems", {{"orders", {PutRequest("dup", 1), DeleteRequest("dup", 1)}}}}}),
      "Provided list of item keys contains duplicates");
  // An unknown table anywhere refuses the batch, including the other table's writes.
  EXPECT_EQ(Error("BatchWriteItem",
                  {{"RequestItems",
                    {{"orders", {PutRequest("new", 1)}}, {"nosuchtable", {PutRequest("x", 1)}}}}}),
            "ResourceNotFoundException");
  // A bad key likewise.
  EXPECT_EQ(
      Error("BatchWriteItem", {{"RequestItems",
                                {{"orders",
                                  {PutRequest("new", 2),
                                   {{"PutRequest", {{"Item", {{"customer", {{"S", "k"}}}}}}}}}}}}}),
      "ValidationException");
  EXPECT_EQ(
      Message("BatchWriteItem", {{"RequestItems", {{"orders", {json::object({{"Neither", 1}})}}}}}),
      "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
      "of the supported datatypes");
  EXPECT_EQ(Count(), 25u);
}

TEST_F(BatchTest, BatchWriteItemHandsBackWhatTheStoreCouldNotWrite) {
  CreateOrdersTable();
  int writes = 0;
  // Every second write fails like a store without a leader.
  backend_.write_fault = [&](const std::string&) {
    return ++writes % 2 == 0 ? absl::UnavailableError("no leader") : absl::OkStatus();
  };
  json batch = json::array();
  for (int i = 0; i < 10; ++i) batch.push_back(PutRequest("c", i));
  json reply = Ok("BatchWriteItem", {{"RequestItems", {{"orders", batch}}}});
  ASSERT_EQ(reply["UnprocessedItems"]["orders"].size(), 5u) << reply.dump();
  EXPECT_EQ(reply["UnprocessedItems"]["orders"][0], PutRequest("c", 1));
  // Resending the unprocessed part, as SDK helpers do, finishes the batch.
  backend_.write_fault = nullptr;
  json again = Ok("BatchWriteItem", {{"RequestItems", reply["UnprocessedItems"]}});
  EXPECT_EQ(again["UnprocessedItems"], json::object());
  EXPECT_EQ(Count(), 10u);
  // When nothing at all could be written, the store's error is the answer (500: retry).
  backend_.write_fault = [](const std::string&) { return absl::UnavailableError("no leader"); };
  Call("BatchWriteItem", {{"RequestItems", {{"orders", {PutRequest("z", 1)}}}}});
  EXPECT_EQ(status_, 500);
}

TEST_F(BatchTest, BatchGetItemReadsProjectsAndValidates) {
  CreateOrdersTable();
  Ok("PutItem", json::parse(R"({"TableName": "orders", "Item": {"customer": {"S": "ann"},
      "seq": {"N": "1"}, "note": {"S": "n"}, "doc": {"M": {"a": {"N": "1"}, "b": {"L": [
      {"S": "x"}, {"S": "y"}, {"S": "z"}]}}}}})"));
  PutOrder("bob", 2, "hello");
  json reply =
      Ok("BatchGetItem", {{"RequestItems",
                           {{"orders",
                             {{"Keys", {OrderKey("ann", 1), OrderKey("bob", 2), OrderKey("cy", 3)}},
                              {"ConsistentRead", true},
                              {"ProjectionExpression", "#n, doc.b[2], doc.b[0], seq"},
                              {"ExpressionAttributeNames", {{"#n", "note"}}}}}}}});
  EXPECT_EQ(reply["UnprocessedKeys"], json::object());
  ASSERT_EQ(reply["Responses"]["orders"].size(), 2u) << reply.dump();
  EXPECT_EQ(reply["Responses"]["orders"][0], json::parse(R"({"note": {"S": "n"},
      "seq": {"N": "1"}, "doc": {"M": {"b": {"L": [{"S": "x"}, {"S": "z"}]}}}})"));
  EXPECT_EQ(reply["Responses"]["orders"][1],
            json::parse(R"({"note": {"S": "hello"}, "seq": {"N": "2"}})"));

  json legacy = Ok(
      "BatchGetItem",
      {{"RequestItems",
        {{"orders", {{"Keys", {OrderKey("bob", 2)}}, {"AttributesToGet", {"note", "absent"}}}}}}});
  EXPECT_EQ(legacy["Responses"]["orders"][0], json::parse(R"({"note": {"S": "hello"}})"));

  EXPECT_EQ(
      Message("BatchGetItem",
              {{"RequestItems", {{"orders", {{"Keys", {OrderKey("a", 1), OrderKey("a", 1)}}}}}}}),
      "Provided list of item keys contains duplicates");
  EXPECT_EQ(Message("BatchGetItem", {{"RequestItems", {{"orders", {{"Keys", json::array()}}}}}}),
            "The list of keys in RequestItems for BatchGetItem is required: orders has empty list");
  json keys = json::array();
  for (int i = 0; i < 101; ++i) keys.push_back(OrderKey("k", i));
  EXPECT_TRUE(
      absl::StrContains(Message("BatchGetItem", {{"RequestItems", {{"orders", {{"Keys", keys}}}}}}),
                        "Member must have length less than or equal to 100"));
  EXPECT_EQ(
      Message(
          "BatchGetItem",
          {{"RequestItems",
            {{"orders", {{"Keys", {OrderKey("a", 1)}}, {"ProjectionExpression", "doc, doc.a"}}}}}}),
      "Invalid ProjectionExpression: Two document paths overlap with each other; must "
      "remove or rewrite one of these paths; path one: [doc], path two: [doc, a]");
  EXPECT_EQ(
      Error("BatchGetItem", {{"RequestItems", {{"nosuchtable", {{"Keys", {OrderKey("a", 1)}}}}}}}),
      "ResourceNotFoundException");
}

TEST_F(BatchTest, BatchGetItemStopsAtSixteenMegabytesAndOnStoreErrors) {
  CreateOrdersTable();
  const std::string big(390 * 1024, 'x');
  json keys = json::array();
  for (int i = 0; i < 50; ++i) {
    Ok("PutItem", {{"TableName", "orders"},
                   {"Item",
                    {{"customer", {{"S", "c"}}},
                     {"seq", {{"N", std::to_string(i)}}},
                     {"blob", {{"S", big}}}}}});
    keys.push_back(OrderKey("c", i));
  }
  json request = {
      {"RequestItems", {{"orders", {{"Keys", keys}, {"ProjectionExpression", "seq"}}}}}};
  // The limit counts the items read, not the projection, as DynamoDB's does.
  json first = Ok("BatchGetItem", request);
  const size_t got = first["Responses"]["orders"].size();
  ASSERT_GT(got, 0u);
  ASSERT_LT(got, 50u);
  json rest = first["UnprocessedKeys"]["orders"];
  EXPECT_EQ(rest["Keys"].size(), 50u - got);
  EXPECT_EQ(rest["ProjectionExpression"], "seq");
  json second = Ok("BatchGetItem", {{"RequestItems", first["UnprocessedKeys"]}});
  EXPECT_EQ(second["UnprocessedKeys"], json::object());
  EXPECT_EQ(got + second["Responses"]["orders"].size(), 50u);

  int reads = 0;
  // Get #1 reads the table's metadata; #3 is the second key's item.
  backend_.read_fault = [&](const std::string&) {
    return ++reads == 3 ? absl::DeadlineExceededError("deadline") : absl::OkStatus();
  };
  json partial =
      Ok("BatchGetItem", {{"RequestItems",
                           {{"orders",
                             {{"Keys", {OrderKey("c", 1), OrderKey("c", 2), OrderKey("c", 3)}},
                              {"AttributesToGet", {"seq"}}}}}}});
  EXPECT_EQ(partial["Responses"]["orders"].size(), 2u);
  EXPECT_EQ(partial["UnprocessedKeys"]["orders"]["Keys"], json::array({OrderKey("c", 2)}));
}

TEST_F(BatchTest, GetItemProjection) {
  CreateOrdersTable();
  PutOrder("ann", 1, "hi");
  json key = OrderKey("ann", 1);
  EXPECT_EQ(
      Ok("GetItem", {{"TableName", "orders"}, {"Key", key}, {"ProjectionExpression", "note"}}),
      json::parse(R"({"Item": {"note": {"S": "hi"}}})"));
  EXPECT_EQ(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}, {"ProjectionExpression", "zz"}}),
            json::parse(R"({"Item": {}})"));
  EXPECT_EQ(Message("GetItem", {{"TableName", "orders"},
                                {"Key", key},
                                {"ProjectionExpression", "note"},
                                {"AttributesToGet", {"note"}}}),
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{ProjectionExpression}");
  EXPECT_EQ(Message("GetItem", {{"TableName", "orders"},
                                {"Key", key},
                                {"ProjectionExpression", "note"},
                                {"ExpressionAttributeNames", {{"#x", "y"}}}}),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}");
  EXPECT_EQ(Ok("GetItem", {{"TableName", "orders"},
                           {"Key", key},
                           {"ReturnConsumedCapacity", "INDEXES"}})["ConsumedCapacity"],
            json::parse(R"({"TableName": "orders", "CapacityUnits": 0.5,
                            "Table": {"CapacityUnits": 0.5}})"));
}

}  // namespace
}  // namespace ekv::dynamo
