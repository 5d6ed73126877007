// UpdateTable (billing), TagResource / UntagResource / ListTagsOfResource, Time to Live
// (the setting and the sweeper's bounded, conditional deletes), DescribeLimits.
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/dynamo/ttl_sweeper.h"
#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

class TableSettingsTest : public DynamoOperationTest {};

TEST_F(TableSettingsTest, UpdateTableChangesBilling) {
  CreateOrdersTable();
  json out = Ok("UpdateTable", json::parse(R"({"TableName": "orders", "BillingMode": "PROVISIONED",
      "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3}})"));
  EXPECT_EQ(out["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"], 7);
  EXPECT_FALSE(out["TableDescription"].contains("BillingModeSummary"));
  json described = Ok("DescribeTable", {{"TableName", "orders"}});
  EXPECT_EQ(described["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"], 3);
  EXPECT_EQ(Error("UpdateTable", {{"TableName", "orders"},
                                  {"BillingMode", "PAY_PER_REQUEST"},
                                  {"ProvisionedThroughput",
                                   {{"ReadCapacityUnits", 1}, {"WriteCapacityUnits", 1}}}}),
            "ValidationException");
  Ok("UpdateTable", {{"TableName", "orders"}, {"BillingMode", "PAY_PER_REQUEST"}});
  EXPECT_EQ(
      Ok("DescribeTable", {{"TableName", "orders"}})["Table"]["BillingModeSummary"]["BillingMode"],
      "PAY_PER_REQUEST");
  EXPECT_EQ(Error("UpdateTable",
                  {{"TableName", "orders"}, {"StreamSpecification", {{"StreamEnabled", true}}}}),
            "ValidationException");
  EXPECT_EQ(Error("UpdateTable", {{"TableName", "orders"}}), "ValidationException");
  EXPECT_EQ(Error("UpdateTable", {{"TableName", "nosuch"}, {"BillingMode", "PAY_PER_REQUEST"}}),
            "ResourceNotFoundException");
}

TEST_F(TableSettingsTest, Tags) {
  CreateOrdersTable();
  const std::string arn =
      Ok("DescribeTable", {{"TableName", "orders"}})["Table"]["TableArn"].get<std::string>();
  Ok("TagResource", {{"ResourceArn", arn}, {"Tags", json::parse(R"([{"Key": "team", "Value": "a"},
                                              {"Key": "env", "Value": "dev"}])")}});
  Ok("TagResource",
     {{"ResourceArn", arn}, {"Tags", json::parse(R"([{"Key": "team", "Value": "b"}])")}});
  EXPECT_EQ(Ok("ListTagsOfResource", {{"ResourceArn", arn}})["Tags"],
            json::parse(R"([{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])"));
  Ok("UntagResource", {{"ResourceArn", arn}, {"TagKeys", {"env", "absent"}}});
  EXPECT_EQ(Ok("ListTagsOfResource", {{"ResourceArn", arn}})["Tags"],
            json::parse(R"([{"Key": "team", "Value": "b"}])"));
  // Items are untouched by metadata changes.
  PutOrder("ann", 1);
  Ok("TagResource",
     {{"ResourceArn", arn}, {"Tags", json::parse(R"([{"Key": "k", "Value": ""}])")}});
  EXPECT_EQ(Ok("Scan", {{"TableName", "orders"}})["Count"], 1);
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back({{"Key", "k" + std::to_string(i)}, {"Value", "v"}});
  EXPECT_EQ(Error("TagResource", {{"ResourceArn", arn}, {"Tags", many}}), "ValidationException");
  EXPECT_EQ(Error("ListTagsOfResource",
                  {{"ResourceArn", "arn:aws:dynamodb:ddblocal:000000000000:table/nosuch"}}),
            "ResourceNotFoundException");
  EXPECT_EQ(Error("ListTagsOfResource", {{"ResourceArn", "not-an-arn"}}), "ValidationException");
  // Tags given at creation.
  Ok("CreateTable", json::parse(R"({"TableName": "tagged", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
      "Tags": [{"Key": "owner", "Value": "me"}]})"));
  EXPECT_EQ(Ok("ListTagsOfResource",
               {{"ResourceArn", "arn:aws:dynamodb:us-east-1:123456789012:table/tagged"}})["Tags"],
            json::parse(R"([{"Key": "owner", "Value": "me"}])"));
}

TEST_F(TableSettingsTest, TimeToLiveSettingAndSweep) {
  CreateOrdersTable();
  EXPECT_EQ(Ok("DescribeTimeToLive", {{"TableName", "orders"}}),
            json::parse(R"({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})"));
  json enable = json::parse(R"({"TableName": "orders",
      "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires"}})");
  EXPECT_EQ(Ok("UpdateTimeToLive", enable)["TimeToLiveSpecification"],
            enable["TimeToLiveSpecification"]);
  EXPECT_EQ(Error("UpdateTimeToLive", enable), "ValidationException");  // already enabled
  EXPECT_EQ(Ok("DescribeTimeToLive", {{"TableName", "orders"}}),
            json::parse(R"({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                            "AttributeName": "expires"}})"));
  const double now = 1'800'000'000;
  for (int i = 0; i < 30; ++i) {
    json item = {{"customer", {{"S", "c"}}}, {"seq", {{"N", std::to_string(i)}}}};
    if (i % 3 == 0) item["expires"] = {{"N", std::to_string(now - 100 + i)}};  // 0..27: past
    if (i % 3 == 1) item["expires"] = {{"N", std::to_string(now + 1000)}};     // future
    if (i % 3 == 2) item["expires"] = {{"S", "not a number"}};                 // never expires
    Ok("PutItem", {{"TableName", "orders"}, {"Item", item}});
  }
  // Expired items stay readable until swept, as in DynamoDB.
  EXPECT_EQ(Ok("Scan", {{"TableName", "orders"}})["Count"], 30);
  TtlSweeper sweeper(&store_, TtlSweeperOptions{.items_per_pass = 7, .tables_per_pass = 100});
  size_t deleted = 0;
  for (int pass = 0; pass < 10; ++pass) {
    absl::StatusOr<size_t> n = RunInline(sweeper.RunPass(now));
    ASSERT_TRUE(n.ok()) << n.status();
    deleted += *n;
  }
  EXPECT_EQ(deleted, 10u);
  EXPECT_EQ(Ok("Scan", {{"TableName", "orders"}})["Count"], 20);
  // An item updated to expire later between the scan and the delete survives: the delete
  // is decided on the current value.
  Ok("UpdateItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "c"}, "seq": {"N": "1"}}, "UpdateExpression": "SET expires = :e",
      "ExpressionAttributeValues": {":e": {"N": "5"}}})"));
  backend_.before_next_cas = [&] {
    backend_.before_next_cas = nullptr;
    Ok("UpdateItem", json::parse(R"({"TableName": "orders",
        "Key": {"customer": {"S": "c"}, "seq": {"N": "1"}}, "UpdateExpression": "SET expires = :e",
        "ExpressionAttributeValues": {":e": {"N": "9999999999"}}})"));
  };
  for (int pass = 0; pass < 10; ++pass) ASSERT_TRUE(RunInline(sweeper.RunPass(now)).ok());
  EXPECT_TRUE(Ok("GetItem", json::parse(R"({"TableName": "orders",
      "Key": {"customer": {"S": "c"}, "seq": {"N": "1"}}})"))
                  .contains("Item"));
  json disable = enable;
  disable["TimeToLiveSpecification"]["Enabled"] = false;
  Ok("UpdateTimeToLive", disable);
  EXPECT_EQ(Error("UpdateTimeToLive", disable), "ValidationException");  // already disabled
}

TEST_F(TableSettingsTest, DescribeLimits) {
  EXPECT_EQ(Ok("DescribeLimits", json::object())["TableMaxWriteCapacityUnits"], 40000);
}

}  // namespace
}  // namespace ekv::dynamo
