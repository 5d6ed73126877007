// Query and Scan read options: ProjectionExpression, Select's rules, parallel-scan
// segments (every item in exactly one segment, each segment paginated), and
// ReturnConsumedCapacity.
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

class ReadOptionsTest : public DynamoOperationTest {
 protected:
  std::string Message(const std::string& operation, const json& body) {
    json reply = Call(operation, body);
    EXPECT_EQ(status_, 400) << reply.dump();
    return reply.value("message", "");
  }
};

TEST_F(ReadOptionsTest, QueryAndScanProject) {
  CreateOrdersTable();
  PutOrder("ann", 1, "a");
  PutOrder("ann", 2, "b");
  json query = Ok("Query", json::parse(R"({"TableName": "orders",
      "KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": {"S": "ann"}},
      "ProjectionExpression": "#n", "ExpressionAttributeNames": {"#n": "note"}})"));
  EXPECT_EQ(query["Items"], json::parse(R"([{"note": {"S": "a"}}, {"note": {"S": "b"}}])"));
  json scan = Ok("Scan", json::parse(R"({"TableName": "orders", "Select": "SPECIFIC_ATTRIBUTES",
      "AttributesToGet": ["seq"], "ReturnConsumedCapacity": "TOTAL"})"));
  EXPECT_EQ(scan["Items"], json::parse(R"([{"seq": {"N": "1"}}, {"seq": {"N": "2"}}])"));
  EXPECT_EQ(scan["ConsumedCapacity"],
            json::parse(R"({"TableName": "orders", "CapacityUnits": 0.5})"));
  EXPECT_EQ(Ok("Scan", {{"TableName", "orders"}, {"Select", "COUNT"}}),
            json::parse(R"({"Count": 2, "ScannedCount": 2})"));
}

TEST_F(ReadOptionsTest, SelectRules) {
  CreateOrdersTable();
  EXPECT_EQ(Message("Scan", {{"TableName", "orders"}, {"Select", "ALL_PROJECTED_ATTRIBUTES"}}),
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  EXPECT_EQ(Message("Scan", {{"TableName", "orders"}, {"Select", "SPECIFIC_ATTRIBUTES"}}),
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES");
  EXPECT_EQ(Message("Scan", {{"TableName", "orders"},
                             {"Select", "ALL_ATTRIBUTES"},
                             {"ProjectionExpression", "seq"}}),
            "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES");
  EXPECT_TRUE(absl::StrContains(Message("Scan", {{"TableName", "orders"}, {"Select", "SOME"}}),
                                "Member must satisfy enum value set"));
}

TEST_F(ReadOptionsTest, ParallelScanSegmentsPartitionTheTable) {
  CreateOrdersTable();
  for (int i = 0; i < 60; ++i) PutOrder("customer" + std::to_string(i * 7919 % 1000), i);
  for (int total : {1, 2, 3, 7, 1000}) {
    std::multiset<int> seen;
    for (int segment = 0; segment < total; ++segment) {
      json request = {
          {"TableName", "orders"}, {"Segment", segment}, {"TotalSegments", total}, {"Limit", 4}};
      for (int page = 0; page < 100; ++page) {
        json reply = Ok("Scan", request);
        for (int seq : Seqs(reply)) seen.insert(seq);
        if (!reply.contains("LastEvaluatedKey")) break;
        request["ExclusiveStartKey"] = reply["LastEvaluatedKey"];
      }
    }
    ASSERT_EQ(seen.size(), 60u) << "TotalSegments " << total;
    EXPECT_EQ(std::set<int>(seen.begin(), seen.end()).size(), 60u) << "TotalSegments " << total;
  }
  EXPECT_EQ(Message("Scan", {{"TableName", "orders"}, {"Segment", 1}}),
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present");
  EXPECT_EQ(Message("Scan", {{"TableName", "orders"}, {"TotalSegments", 2}}),
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present");
  EXPECT_EQ(Message("Scan", {{"TableName", "orders"}, {"Segment", 2}, {"TotalSegments", 2}}),
            "The Segment parameter is zero-based and must be less than parameter "
            "TotalSegments: Segment: 2 is not less than TotalSegments: 2");
  EXPECT_TRUE(absl::StrContains(
      Message("Scan", {{"TableName", "orders"}, {"Segment", 0}, {"TotalSegments", 1000001}}),
      "less than or equal to 1000000"));
}

TEST_F(ReadOptionsTest, WritesReportOldItemOnConditionFailureAndCapacity) {
  CreateOrdersTable();
  PutOrder("ann", 1, "first");
  json put = json::parse(R"json({"TableName": "orders",
      "Item": {"customer": {"S": "ann"}, "seq": {"N": "1"}},
      "ConditionExpression": "attribute_not_exists(customer)",
      "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})json");
  json failed = Call("PutItem", put);
  EXPECT_EQ(status_, 400);
  EXPECT_EQ(failed["__type"], "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
  EXPECT_EQ(failed["Item"]["note"], json::parse(R"({"S": "first"})")) << failed.dump();
  put.erase("ReturnValuesOnConditionCheckFailure");
  EXPECT_FALSE(Call("PutItem", put).contains("Item"));
  put["ReturnValuesOnConditionCheckFailure"] = "ALL_NEW";
  EXPECT_EQ(Error("PutItem", put), "ValidationException");

  json update = Ok("UpdateItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "ann"}, "seq": {"N": "1"}}, "UpdateExpression": "SET n2 = :v",
      "ExpressionAttributeValues": {":v": {"N": "5"}}, "ReturnValues": "UPDATED_NEW",
      "ReturnConsumedCapacity": "TOTAL"})"));
  EXPECT_EQ(update, json::parse(R"({"Attributes": {"n2": {"N": "5"}},
      "ConsumedCapacity": {"TableName": "orders", "CapacityUnits": 1.0}})"));
  EXPECT_EQ(Error("DeleteItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "ann"}, "seq": {"N": "1"}}, "ReturnConsumedCapacity": "ALL"})")),
            "ValidationException");
  EXPECT_TRUE(Ok("GetItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "ann"}, "seq": {"N": "1"}}})"))
                  .contains("Item"));
}

}  // namespace
}  // namespace ekv::dynamo
