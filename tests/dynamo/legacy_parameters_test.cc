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

// Each ComparisonOperator accepts only certain types in its AttributeValueList: a wrong one
// is the request's error, in DynamoDB's words, before any item is read.
TEST_F(LegacyParametersTest, ComparisonOperatorValuesAreValidated) {
  CreateOrdersTable();
  PutOrder("ann", 1, "hello");
  const json key = json::parse(R"({"customer": {"S": "ann"}, "seq": {"N": "1"}})");
  const auto update_expecting = [&](const char* expected) {
    json reply =
        Call("UpdateItem", {{"TableName", "orders"},
                            {"Key", key},
                            {"AttributeUpdates", json::parse(R"({"z": {"Value": {"N": "1"}}})")},
                            {"Expected", json::parse(expected)}});
    return reply.value("message", "ok");
  };
  EXPECT_EQ(update_expecting(R"({"note": {"ComparisonOperator": "LE",
                                          "AttributeValueList": [{"L": [{"N": "1"}]}]}})"),
            "One or more parameter values were invalid: ComparisonOperator LE is not valid for L "
            "AttributeValue type");
  EXPECT_EQ(update_expecting(R"({"note": {"ComparisonOperator": "BEGINS_WITH",
                                          "AttributeValueList": [{"N": "1"}]}})"),
            "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not "
            "valid for N AttributeValue type");
  EXPECT_EQ(update_expecting(R"({"note": {"ComparisonOperator": "IN",
                                          "AttributeValueList": [{"N": "1"}, {"S": "x"}]}})"),
            "One or more parameter values were invalid: AttributeValues inside "
            "AttributeValueList must be of same type");
  EXPECT_EQ(update_expecting(R"({"note": {"ComparisonOperator": "BETWEEN",
                                          "AttributeValueList": [{"S": "b"}, {"S": "a"}]}})"),
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound");
  // NOT_CONTAINS, unlike NE, is false for an absent attribute.
  EXPECT_EQ(update_expecting(R"({"absent": {"ComparisonOperator": "NOT_CONTAINS",
                                            "AttributeValueList": [{"S": "x"}]}})"),
            "The conditional request failed");
  EXPECT_EQ(update_expecting(R"({"note": {"ComparisonOperator": "NOT_CONTAINS",
                                          "AttributeValueList": [{"S": "x"}]}})"),
            "ok");
  // ConditionalOperator needs conditions to join.
  EXPECT_EQ(
      Error("UpdateItem", {{"TableName", "orders"},
                           {"Key", key},
                           {"AttributeUpdates", json::parse(R"({"z": {"Value": {"N": "2"}}})")},
                           {"Expected", json::object()},
                           {"ConditionalOperator", "OR"}}),
      "ValidationException");
  // AttributeUpdates' ADD appends a list to a list; another type is a mismatch.
  json add_list = {{"TableName", "orders"},
                   {"Key", key},
                   {"AttributeUpdates",
                    json::parse(R"({"l": {"Action": "ADD", "Value": {"L": [{"N": "1"}]}}})")},
                   {"ReturnValues", "UPDATED_NEW"}};
  Ok("UpdateItem", add_list);
  EXPECT_EQ(Ok("UpdateItem", add_list)["Attributes"],
            json::parse(R"({"l": {"L": [{"N": "1"}, {"N": "1"}]}})"));
  json mismatch = Call(
      "UpdateItem",
      {{"TableName", "orders"},
       {"Key", key},
       {"AttributeUpdates", json::parse(R"({"l": {"Action": "ADD", "Value": {"NS": ["1"]}}})")}});
  EXPECT_EQ(mismatch.value("message", ""),
            "One or more parameter values were invalid: Type mismatch for attribute to update");
}

// A Query's filter may not name the key it queries; AttributesToGet and QueryFilter do not
// mix with expressions, while KeyConditions may accompany a FilterExpression.
TEST_F(LegacyParametersTest, QueryFiltersAndMixing) {
  CreateOrdersTable();
  PutOrder("ann", 1, "even");
  json filter_on_key = Call("Query", json::parse(R"({"TableName": "orders",
      "KeyConditionExpression": "customer = :c", "FilterExpression": "seq = :s",
      "ExpressionAttributeValues": {":c": {"S": "ann"}, ":s": {"N": "1"}}})"));
  EXPECT_EQ(filter_on_key.value("message", ""),
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: seq");
  json legacy_on_key = Call("Query", json::parse(R"({"TableName": "orders",
      "KeyConditions": {"customer": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "ann"}]}},
      "QueryFilter": {"customer": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "ann"}]}}})"));
  EXPECT_EQ(legacy_on_key.value("message", ""),
            "QueryFilter can only contain non-primary key attributes: Primary key attribute: "
            "customer");
  json mixed = Call("Query", json::parse(R"({"TableName": "orders",
      "KeyConditionExpression": "customer = :c", "FilterExpression": "note = :n",
      "AttributesToGet": ["note"],
      "ExpressionAttributeValues": {":c": {"S": "ann"}, ":n": {"S": "even"}}})"));
  EXPECT_EQ(mixed.value("message", ""),
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{FilterExpression, KeyConditionExpression}");
  json allowed = Ok("Query", json::parse(R"({"TableName": "orders",
      "KeyConditions": {"customer": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "ann"}]}},
      "FilterExpression": "note = :n", "ExpressionAttributeValues": {":n": {"S": "even"}}})"));
  EXPECT_EQ(allowed["Count"], 1) << allowed.dump();
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
