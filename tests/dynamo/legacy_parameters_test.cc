// The legacy (pre-expression) parameters through the handlers: Expected with
// ConditionalOperator, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter,
// AttributesToGet, and the refusal to mix them with expressions.
#include <string>

#include <nlohmann/json.hpp>

#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

class LegacyParametersTest : public DynamoOperationTest {};

TEST_F(LegacyParametersTest, ExpectedGuardsWrites) {
  CreateOrdersTable();
  const json key = json::parse(R"({"customer": {"S": "ann"}, "seq": {"N": "1"}})");
  json put = {
      {"TableName", "orders"}, {"Item", key}, {"Expected", {{"customer", {{"Exists", false}}}}}};
  put["Item"]["note"] = {{"S", "first"}};
  Ok("PutItem", put);
  EXPECT_EQ(Error("PutItem", put), "ConditionalCheckFailedException");
  json guarded = {{"TableName", "orders"},
                  {"Item", key},
                  {"Expected", json::parse(R"({"note": {"Value": {"S": "first"}},
                      "seq": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}})")}};
  EXPECT_EQ(Error("PutItem", guarded), "ConditionalCheckFailedException");  // AND: seq > 5 fails
  guarded["ConditionalOperator"] = "OR";
  Ok("PutItem", guarded);
  EXPECT_EQ(Error("DeleteItem", {{"TableName", "orders"},
                                 {"Key", key},
                                 {"Expected", {{"note", {{"ComparisonOperator", "NOT_NULL"}}}}},
                                 {"ConditionExpression", "attribute_exists(note)"}}),
            "ValidationException");
  EXPECT_EQ(Error("DeleteItem", {{"TableName", "orders"},
                                 {"Key", key},
                                 {"Expected", {{"note", {{"ComparisonOperator", "NOT_NULL"}}}}}}),
            "ConditionalCheckFailedException");  // the OR put replaced the item without note
  Ok("DeleteItem", {{"TableName", "orders"},
                    {"Key", key},
                    {"Expected", {{"note", {{"ComparisonOperator", "NULL"}}}}}});
  EXPECT_FALSE(Ok("GetItem", {{"TableName", "orders"}, {"Key", key}}).contains("Item"));
}

TEST_F(LegacyParametersTest, AttributeUpdates) {
  CreateOrdersTable();
  const json key = json::parse(R"({"customer": {"S": "ann"}, "seq": {"N": "1"}})");
  json reply = Ok("UpdateItem", {{"TableName", "orders"},
                                 {"Key", key},
                                 {"ReturnValues", "ALL_NEW"},
                                 {"AttributeUpdates", json::parse(R"({
      "note": {"Action": "PUT", "Value": {"S": "x"}},
      "count": {"Action": "ADD", "Value": {"N": "2"}},
      "tags": {"Action": "ADD", "Value": {"SS": ["a", "b"]}}})")}});
  EXPECT_EQ(reply["Attributes"], json::parse(R"({"customer": {"S": "ann"}, "seq": {"N": "1"},
      "note": {"S": "x"}, "count": {"N": "2"}, "tags": {"SS": ["a", "b"]}})"));
  reply = Ok("UpdateItem", {{"TableName", "orders"},
                            {"Key", key},
                            {"ReturnValues", "ALL_NEW"},
                            {"Expected", {{"count", {{"Value", {{"N", "2"}}}}}}},
                            {"AttributeUpdates", json::parse(R"({"note": {"Action": "DELETE"},
      "tags": {"Action": "DELETE", "Value": {"SS": ["a"]}}})")}});
  EXPECT_EQ(reply["Attributes"], json::parse(R"({"customer": {"S": "ann"}, "seq": {"N": "1"},
      "count": {"N": "2"}, "tags": {"SS": ["b"]}})"));
  EXPECT_EQ(Error("UpdateItem", {{"TableName", "orders"},
                                 {"Key", key},
                                 {"UpdateExpression", "SET a = :v"},
                                 {"ExpressionAttributeValues", {{":v", {{"N", "1"}}}}},
                                 {"AttributeUpdates", {{"b", {{"Action", "DELETE"}}}}}}),
            "ValidationException");
}

TEST_F(LegacyParametersTest, KeyConditionsAndFilters) {
  CreateOrdersTable();
  for (int i = 1; i <= 6; ++i) PutOrder("ann", i, i % 2 == 0 ? "even" : "odd");
  PutOrder("bob", 1, "odd");
  json query = Ok("Query", json::parse(R"({"TableName": "orders", "KeyConditions": {
      "customer": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "ann"}]},
      "seq": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "2"}, {"N": "5"}]}},
      "QueryFilter": {"note": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "even"}]}},
      "AttributesToGet": ["seq"]})"));
  EXPECT_EQ(query["Items"], json::parse(R"([{"seq": {"N": "2"}}, {"seq": {"N": "4"}}])"));
  EXPECT_EQ(query["ScannedCount"], 4);
  json scan = Ok("Scan", json::parse(R"({"TableName": "orders", "ConditionalOperator": "OR",
      "ScanFilter": {"customer": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "b"}]},
                     "seq": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "6"}, {"N": "9"}]}}})"));
  EXPECT_EQ(scan["Count"], 2);
  EXPECT_EQ(Error("Scan", json::parse(R"({"TableName": "orders",
      "ScanFilter": {"seq": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}}})")),
            "ValidationException");
  EXPECT_EQ(Error("Scan", json::parse(R"({"TableName": "orders",
      "ScanFilter": {"seq": {"ComparisonOperator": "ALMOST", "AttributeValueList": [{"N": "1"}]}}})")),
            "ValidationException");
}

}  // namespace
}  // namespace ekv::dynamo
