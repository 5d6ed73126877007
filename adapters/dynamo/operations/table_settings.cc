// Table settings and account facts: UpdateTable (billing mode and provisioned throughput;
// streams and index changes are refused, not ignored), TagResource, UntagResource,
// ListTagsOfResource (tags live in the table's metadata record), UpdateTimeToLive,
// DescribeTimeToLive (the TTL attribute lives there too; DynamoServer's sweeper deletes
// expired items), DescribeLimits.
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/request_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

// ResourceArn -> table name. ekv answers for its own ARNs (DescribeTable's TableArn) and,
// so that ARNs built by clients for another region or account still work, for any
// "arn:aws:dynamodb:<region>:<account>:table/<name>".
absl::StatusOr<std::string> TableOfArn(const json& request) {
  absl::StatusOr<std::optional<std::string>> arn = OptionalString(request, "ResourceArn");
  if (!arn.ok()) return arn.status();
  if (!arn->has_value()) {
    return ValidationError(
        "1 validation error detected: Value null at 'resourceArn' failed to satisfy "
        "constraint: Member must not be null");
  }
  const std::string& text = **arn;
  const size_t slash = text.find(":table/");
  if (!absl::StartsWith(text, "arn:aws:dynamodb:") || slash == std::string::npos ||
      text.find('/', slash + 7) != std::string::npos) {
    return ValidationError(
        absl::StrCat("Invalid TableArn: Invalid ResourceArn provided as input ", text));
  }
  return text.substr(slash + 7);
}

absl::Status ArnNotFound(const json& request) {
  return ResourceNotFound(absl::StrCat("Requested resource not found: ResourcArn: ",
                                       request["ResourceArn"].get<std::string>(), " not found"));
}

}  // namespace

absl::StatusOr<json> UpdateTableOperation(const json& request, TableStore* store) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) return s;
  for (const char* field : {"StreamSpecification", "GlobalSecondaryIndexUpdates", "ReplicaUpdates",
                            "SSESpecification", "AttributeDefinitions"}) {
    if (request.contains(field) && !request[field].is_null()) {
      return ValidationError(
          absl::StrCat(field,
                       " is not supported by ekv: ekv has no streams, indexes, replicas or "
                       "encryption settings to change"));
    }
  }
  if (!request.contains("BillingMode") && !request.contains("ProvisionedThroughput") &&
      !request.contains("TableClass") && !request.contains("DeletionProtectionEnabled")) {
    return ValidationError(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  absl::StatusOr<TableSchema> schema = store->UpdateTable(
      request["TableName"].get<std::string>(),
      [&](TableSchema* schema) { return ApplyBillingParameters(request, schema); });
  if (!schema.ok()) return schema.status();
  return json{{"TableDescription", DescribeTable(*schema, "ACTIVE")}};
}

absl::StatusOr<json> TagResourceOperation(const json& request, TableStore* store) {
  absl::StatusOr<std::string> table = TableOfArn(request);
  if (!table.ok()) return table.status();
  auto tags = request.find("Tags");
  if (tags == request.end() || tags->is_null()) {
    return ValidationError(
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
        "Member must not be null");
  }
  absl::StatusOr<TableSchema> schema =
      store->UpdateTable(*table, [&](TableSchema* schema) { return ApplyTags(*tags, schema); });
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    return ArnNotFound(request);
  }
  if (!schema.ok()) return schema.status();
  return json::object();
}

absl::StatusOr<json> UntagResourceOperation(const json& request, TableStore* store) {
  absl::StatusOr<std::string> table = TableOfArn(request);
  if (!table.ok()) return table.status();
  auto keys = request.find("TagKeys");
  if (keys == request.end() || !keys->is_array()) {
    return ValidationError(
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
        "Member must not be null");
  }
  absl::StatusOr<TableSchema> schema = store->UpdateTable(*table, [&](TableSchema* schema) {
    for (const json& key : *keys) {
      if (!key.is_string()) return SerializationError("TagKeys must hold strings");
      schema->tags.erase(key.get<std::string>());
    }
    return absl::OkStatus();
  });
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    return ArnNotFound(request);
  }
  if (!schema.ok()) return schema.status();
  return json::object();
}

absl::StatusOr<json> ListTagsOfResourceOperation(const json& request, TableStore* store) {
  absl::StatusOr<std::string> table = TableOfArn(request);
  if (!table.ok()) return table.status();
  absl::StatusOr<TableSchema> schema = store->GetTable(*table);
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    return ArnNotFound(request);
  }
  if (!schema.ok()) return schema.status();
  // At most 50 tags: one page, never a NextToken.
  json tags = json::array();
  for (const auto& [key, value] : schema->tags) tags.push_back({{"Key", key}, {"Value", value}});
  return json{{"Tags", std::move(tags)}};
}

absl::StatusOr<json> UpdateTimeToLiveOperation(const json& request, TableStore* store) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) return s;
  auto spec = request.find("TimeToLiveSpecification");
  if (spec == request.end() || !spec->is_object() || !spec->contains("Enabled") ||
      !(*spec)["Enabled"].is_boolean() || !spec->contains("AttributeName") ||
      !(*spec)["AttributeName"].is_string()) {
    return ValidationError(
        "1 validation error detected: Value null at 'timeToLiveSpecification' failed to "
        "satisfy constraint: Member must not be null");
  }
  const bool enable = (*spec)["Enabled"].get<bool>();
  const std::string attribute = (*spec)["AttributeName"].get<std::string>();
  if (attribute.empty() || attribute.size() > 255) {
    return ValidationError(
        "1 validation error detected: Value at 'timeToLiveSpecification.attributeName' failed "
        "to satisfy constraint: Member must have length between 1 and 255");
  }
  absl::StatusOr<TableSchema> schema =
      store->UpdateTable(request["TableName"].get<std::string>(), [&](TableSchema* schema) {
        if (enable && !schema->ttl_attribute.empty()) {
          return ValidationError(schema->ttl_attribute == attribute
                                     ? "TimeToLive is already enabled"
                                     : absl::StrCat("TimeToLive is active on a different "
                                                    "AttributeName: current AttributeName is ",
                                                    schema->ttl_attribute));
        }
        if (!enable && schema->ttl_attribute.empty()) {
          return ValidationError("TimeToLive is already disabled");
        }
        if (!enable && schema->ttl_attribute != attribute) {
          return ValidationError(absl::StrCat(
              "TimeToLive is active on a different AttributeName: current AttributeName is ",
              schema->ttl_attribute));
        }
        schema->ttl_attribute = enable ? attribute : "";
        return absl::OkStatus();
      });
  if (!schema.ok()) return schema.status();
  return json{{"TimeToLiveSpecification", {{"Enabled", enable}, {"AttributeName", attribute}}}};
}

absl::StatusOr<json> DescribeTimeToLiveOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = TableOf(request, store);
  if (!schema.ok()) return schema.status();
  // Enabling and disabling take effect at once in ekv: never ENABLING / DISABLING.
  json description = {{"TimeToLiveStatus", schema->ttl_attribute.empty() ? "DISABLED" : "ENABLED"}};
  if (!schema->ttl_attribute.empty()) description["AttributeName"] = schema->ttl_attribute;
  return json{{"TimeToLiveDescription", std::move(description)}};
}

absl::StatusOr<json> DescribeLimitsOperation(const json& request, TableStore* store) {
  // DynamoDB's default quotas for an account in a region (ekv meters nothing; these are
  // what capacity planners built for DynamoDB expect to read).
  return json{{"AccountMaxReadCapacityUnits", 80000},
              {"AccountMaxWriteCapacityUnits", 80000},
              {"TableMaxReadCapacityUnits", 40000},
              {"TableMaxWriteCapacityUnits", 40000}};
}

}  // namespace ekv::dynamo
