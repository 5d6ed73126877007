// UpdateTable (billing), TagResource / UntagResource / ListTagsOfResource, Time to Live
// (the setting and the sweeper's bounded, conditional deletes), DescribeLimits, and
// DescribeTable's ItemCount / sizes from the background count (TableStatsCounter).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

#include "adapters/dynamo/table_stats_counter.h"
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
  // TagResource and UntagResource have no output: DynamoDB's reply has an empty body.
  EXPECT_EQ(body_, "");
  EXPECT_EQ(Ok("ListTagsOfResource", {{"ResourceArn", arn}})["Tags"],
            json::parse(R"([{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])"));
  Ok("UntagResource", {{"ResourceArn", arn}, {"TagKeys", {"env", "absent"}}});
  EXPECT_EQ(body_, "");
  EXPECT_EQ(
      Call("TagResource", {{"ResourceArn", arn}, {"Tags", json::array()}}).value("message", ""),
      "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: "
      "Member must have length greater than or equal to 1");
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
  // Tag characters are AWS's: letters, digits, spaces and _ . : / = + - @.
  Ok("TagResource", {{"ResourceArn", arn},
                     {"Tags", json::parse(R"([{"Key": "a b_c.d:e/f=g+h-i@j", "Value": "ok"}])")}});
  EXPECT_EQ(Call("TagResource",
                 {{"ResourceArn", arn}, {"Tags", json::parse(R"([{"Key": "hi!", "Value": "v"}])")}})
                .value("message", ""),
            "1 validation error detected: Value 'hi!' at 'tags.member.key' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
  EXPECT_EQ(Error("TagResource", {{"ResourceArn", arn},
                                  {"Tags", json::parse(R"([{"Key": "k", "Value": "d%g"}])")}}),
            "ValidationException");
  EXPECT_EQ(Call("TagResource", {{"ResourceArn", "I_do_not_exist"},
                                 {"Tags", json::parse(R"([{"Key": "k", "Value": "v"}])")}})
                .value("message", ""),
            "Invalid TableArn: ARNs must start with 'arn:': I_do_not_exist");
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
  // A missing member of the specification is named.
  EXPECT_EQ(Call("UpdateTimeToLive", json::parse(R"({"TableName": "orders",
                "TimeToLiveSpecification": {"Enabled": true}})"))
                .value("message", ""),
            "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' "
            "failed to satisfy constraint: Member must not be null");
  EXPECT_EQ(Call("UpdateTimeToLive", json::parse(R"({"TableName": "orders",
                "TimeToLiveSpecification": {"AttributeName": "expires"}})"))
                .value("message", ""),
            "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed "
            "to satisfy constraint: Member must not be null");
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
      "ExpressionAttributeValues": {":e": {"N": "1799999990"}}})"));
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

// As in DynamoDB, a TTL value more than five years in the past is not an expiry time (it
// was not meant as epoch seconds): the item stays; one just under five years old expires.
TEST_F(TableSettingsTest, TimeToLiveIgnoresValuesMoreThanFiveYearsOld) {
  CreateOrdersTable();
  Ok("UpdateTimeToLive", json::parse(R"({"TableName": "orders",
      "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires"}})"));
  const double now = 1'800'000'000;
  const double five_years = 5 * 365.2425 * 86400;
  const std::vector<std::pair<std::string, double>> expiries = {
      {"0", 162777600},                // 1975: ignored
      {"1", now - five_years - 1000},  // just over five years ago: ignored
      {"2", now - five_years + 1000},  // just under: expired
      {"3", now - 60}};                // a minute ago: expired
  for (const auto& [seq, expires] : expiries) {
    Ok("PutItem", {{"TableName", "orders"},
                   {"Item",
                    {{"customer", {{"S", "c"}}},
                     {"seq", {{"N", seq}}},
                     {"expires", {{"N", absl::StrCat(static_cast<int64_t>(expires))}}}}}});
  }
  TtlSweeper sweeper(&store_, TtlSweeperOptions{.items_per_pass = 100, .tables_per_pass = 100});
  absl::StatusOr<size_t> deleted = RunInline(sweeper.RunPass(now));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2u);
  json left = Ok("Scan", {{"TableName", "orders"}});
  ASSERT_EQ(left["Count"], 2) << left.dump();
  EXPECT_EQ(left["Items"][0]["seq"]["N"], "0") << left.dump();
  EXPECT_EQ(left["Items"][1]["seq"]["N"], "1") << left.dump();
}

// ekv has no point-in-time recovery: DescribeContinuousBackups answers what DynamoDB
// answers for a table without it, disabling it is accepted, enabling it is refused.
TEST_F(TableSettingsTest, ContinuousBackups) {
  CreateOrdersTable();
  const json without_pitr = json::parse(R"({"ContinuousBackupsDescription": {
      "ContinuousBackupsStatus": "ENABLED",
      "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}})");
  EXPECT_EQ(Ok("DescribeContinuousBackups", {{"TableName", "orders"}}), without_pitr);
  // TableName may be the table's ARN.
  EXPECT_EQ(Ok("DescribeContinuousBackups",
               {{"TableName", "arn:aws:dynamodb:us-east-1:000000000000:table/orders"}}),
            without_pitr);
  json missing = Call("DescribeContinuousBackups", {{"TableName", "nosuch"}});
  EXPECT_EQ(status_, 400) << missing.dump();
  EXPECT_EQ(missing.value("__type", ""), "com.amazonaws.dynamodb.v20120810#TableNotFoundException")
      << missing.dump();
  EXPECT_EQ(missing.value("message", ""), "Table not found: nosuch") << missing.dump();

  const json disable = json::parse(R"({"TableName": "orders",
      "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false}})");
  EXPECT_EQ(Ok("UpdateContinuousBackups", disable), without_pitr);
  json enable = disable;
  enable["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = true;
  json refused = Call("UpdateContinuousBackups", enable);
  EXPECT_EQ(refused.value("__type", ""), "com.amazonaws.dynamodb.v20120810#ValidationException")
      << refused.dump();
  EXPECT_NE(refused.value("message", "").find("Point-in-time recovery is not supported by ekv"),
            std::string::npos)
      << refused.dump();
  EXPECT_EQ(Ok("DescribeContinuousBackups", {{"TableName", "orders"}}), without_pitr);
  EXPECT_EQ(Error("UpdateContinuousBackups", {{"TableName", "orders"}}), "ValidationException");
  EXPECT_EQ(Call("UpdateContinuousBackups", json::parse(R"({"TableName": "orders",
                "PointInTimeRecoverySpecification": {}})"))
                .value("message", ""),
            "1 validation error detected: Value null at "
            "'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy "
            "constraint: Member must not be null");
  json no_table = disable;
  no_table["TableName"] = "nosuch";
  EXPECT_EQ(Error("UpdateContinuousBackups", no_table), "TableNotFoundException");
}

// DescribeTable's figures come from the background count: 0 until a table was counted,
// then exactly its items and DynamoDB's item sizes (names plus values; the index's entries
// as it projects them), counted over several bounded passes, recounted only once the
// figures are older than the interval, and a count overtaken by a newer one (another
// node's) is dropped.
TEST_F(TableSettingsTest, TableStatsCountItemsAndSizes) {
  Ok("CreateTable", json::parse(R"({
      "TableName": "stats", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"},
                               {"AttributeName": "g", "AttributeType": "S"}],
      "GlobalSecondaryIndexes": [{"IndexName": "by_g",
          "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
          "Projection": {"ProjectionType": "KEYS_ONLY"}}]})"));
  int64_t table_bytes = 0;
  int64_t index_entries = 0;
  for (int i = 0; i < 23; ++i) {
    json item = {{"k", {{"S", absl::StrCat("k", i < 10 ? "0" : "", i)}}},
                 {"v", {{"S", std::string(i, 'x')}}}};
    table_bytes += 1 + 3 + 1 + i;  // "k" + "kNN", "v" + i bytes
    if (i % 2 == 0) {
      item["g"] = {{"S", "g"}};
      table_bytes += 2;
      ++index_entries;  // KEYS_ONLY: k and g, 6 bytes
    }
    Ok("PutItem", {{"TableName", "stats"}, {"Item", item}});
  }
  auto figures = [&] {
    json table = Ok("DescribeTable", {{"TableName", "stats"}})["Table"];
    const json& index = table["GlobalSecondaryIndexes"][0];
    return std::vector<int64_t>{
        table["ItemCount"].get<int64_t>(), table["TableSizeBytes"].get<int64_t>(),
        index["ItemCount"].get<int64_t>(), index["IndexSizeBytes"].get<int64_t>()};
  };
  EXPECT_EQ(figures(), (std::vector<int64_t>{0, 0, 0, 0}));
  const TableStatsOptions options{
      .interval_seconds = 100, .delay_seconds = 0, .items_per_pass = 5, .tables_per_pass = 10};
  TableStatsCounter counter(&store_, options);
  int passes = 0;
  while (figures()[0] == 0 && passes < 50) {
    ASSERT_TRUE(RunInline(counter.RunPass(1000)).ok());
    ++passes;
  }
  EXPECT_GE(passes, 7);  // 23 items and 12 entries, 5 per pass
  const std::vector<int64_t> full = {23, table_bytes, index_entries, 6 * index_entries};
  EXPECT_EQ(figures(), full);

  // Fresh figures are not recounted; once they are older than the interval they are.
  for (int i = 0; i < 3; ++i) {
    Ok("DeleteItem", {{"TableName", "stats"}, {"Key", {{"k", {{"S", absl::StrCat("k0", i)}}}}}});
  }
  for (int pass = 0; pass < 20; ++pass) ASSERT_TRUE(RunInline(counter.RunPass(1099)).ok());
  EXPECT_EQ(figures(), full);
  for (int pass = 0; pass < 20; ++pass) ASSERT_TRUE(RunInline(counter.RunPass(1100)).ok());
  // k00 (with g, 4 + 1 + 0 + 2), k01 (4 + 1 + 1), k02 (4 + 1 + 2 + 2) are gone.
  EXPECT_EQ(figures(), (std::vector<int64_t>{20, table_bytes - 7 - 6 - 9, index_entries - 2,
                                             6 * (index_entries - 2)}));

  // Two nodes: `slow` starts a count at 2000 and is overtaken by `fast`, which starts at
  // 2001 and finishes first; slow's older count, finished later, is dropped.
  TableStatsCounter slow(&store_, {.interval_seconds = 100, .items_per_pass = 3});
  TableStatsCounter fast(&store_, {.interval_seconds = 100, .items_per_pass = 1000});
  ASSERT_TRUE(RunInline(slow.RunPass(2000)).ok());
  ASSERT_TRUE(RunInline(fast.RunPass(2001)).ok());
  const std::vector<int64_t> after_fast = figures();
  EXPECT_EQ(after_fast[0], 20);
  Ok("DeleteItem", {{"TableName", "stats"}, {"Key", {{"k", {{"S", "k10"}}}}}});
  for (int pass = 0; pass < 20; ++pass) ASSERT_TRUE(RunInline(slow.RunPass(2002)).ok());
  EXPECT_EQ(figures(), after_fast);
}

TEST_F(TableSettingsTest, DescribeLimits) {
  EXPECT_EQ(Ok("DescribeLimits", json::object())["TableMaxWriteCapacityUnits"], 40000);
}

}  // namespace
}  // namespace ekv::dynamo
