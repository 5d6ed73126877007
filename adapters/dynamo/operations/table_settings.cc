// Table settings and account facts: UpdateTable (billing mode and provisioned throughput,
// GlobalSecondaryIndexUpdates; streams and replicas are refused, not ignored), TagResource,
// UntagResource, ListTagsOfResource (tags live in the table's metadata record), UpdateTimeToLive,
// DescribeTimeToLive (the TTL attribute lives there too; DynamoServer's sweeper deletes
// expired items), DescribeLimits.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  if (!absl::StartsWith(text, "arn:")) {
    return ValidationError(absl::StrCat("Invalid TableArn: ARNs must start with 'arn:': ", text));
  }
  const size_t slash = text.find(":table/");
  if (!absl::StartsWith(text, "arn:aws:dynamodb:") || slash == std::string::npos ||
      text.find('/', slash + 7) != std::string::npos) {
    return ValidationError(
        absl::StrCat("Invalid TableArn: Invalid ResourceArn provided as input ", text));
  }
  return text.substr(slash + 7);
}

// One GlobalSecondaryIndexUpdates list applied to `schema`: Create (its key attributes come
// from the request's AttributeDefinitions), Update (throughput) and Delete. A created index
// is CREATING until IndexBackfiller has copied the table's items into it (TableStore gives
// it its id); a deleted one's entries are removed by TableStore::UpdateTable. Definitions no
// key uses any more are dropped, as DynamoDB does.
absl::Status ApplyIndexUpdates(const json& request, TableSchema* schema) {
  const json& updates = request["GlobalSecondaryIndexUpdates"];
  if (!updates.is_array()) return SerializationError("GlobalSecondaryIndexUpdates must be a list");
  if (absl::Status s = CheckKeyAttributeNames(request); !s.ok()) return s;
  // DynamoDB builds one index at a time: one Create or Delete per request.
  const size_t online = std::count_if(updates.begin(), updates.end(), [](const json& u) {
    return u.is_object() && (u.contains("Create") || u.contains("Delete"));
  });
  if (online > 1) {
    return DynamoError(absl::StatusCode::kResourceExhausted, "LimitExceededException",
                       "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                       "simultaneously per table");
  }
  // A new index's key attributes are named in this request's AttributeDefinitions, even
  // one the table already defines (DynamoDB requires it).
  std::set<std::string> defined;
  if (auto defs = request.find("AttributeDefinitions"); defs != request.end() && defs->is_array()) {
    for (const json& d : *defs) {
      if (d.is_object() && d.contains("AttributeName") && d["AttributeName"].is_string()) {
        defined.insert(d["AttributeName"].get<std::string>());
      }
    }
  }
  for (const json& update : updates) {
    if (!update.is_object() || !update.contains("Create") || !update["Create"].is_object())
      continue;
    const json& create = update["Create"];
    auto index_name = create.find("IndexName");
    const std::string index = index_name != create.end() && index_name->is_string()
                                  ? index_name->get<std::string>()
                                  : std::string();
    auto keys = create.find("KeySchema");
    if (keys == create.end() || !keys->is_array()) continue;
    for (const json& k : *keys) {
      if (!k.is_object() || !k.contains("AttributeName") || !k["AttributeName"].is_string())
        continue;
      const std::string name = k["AttributeName"].get<std::string>();
      if (defined.count(name) != 0) continue;
      if (defined.empty()) {
        return InvalidParameter(
            absl::StrCat("AttributeDefinitions is not specified for index: ", index));
      }
      return InvalidParameter(
          absl::StrCat("Some index key attributes are not defined in AttributeDefinitions. Keys: [",
                       name, "], AttributeDefinitions: [", absl::StrJoin(defined, ", "), "]"));
    }
  }
  if (auto defs = request.find("AttributeDefinitions"); defs != request.end() && !defs->is_null()) {
    if (!defs->is_array()) return SerializationError("AttributeDefinitions must be a list");
    for (const json& d : *defs) {
      if (!d.is_object() || !d.contains("AttributeName") || !d["AttributeName"].is_string() ||
          !d.contains("AttributeType") || !d["AttributeType"].is_string()) {
        return ValidationError(
            "Invalid AttributeDefinitions: each needs AttributeName and AttributeType");
      }
      const std::string name = d["AttributeName"].get<std::string>();
      const std::string type = d["AttributeType"].get<std::string>();
      if (type != "S" && type != "N" && type != "B") {
        return ValidationError(absl::StrCat(
            "1 validation error detected: Value '", type,
            "' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [B, N, S]"));
      }
      const AttributeType parsed = type == "S"   ? AttributeType::kS
                                   : type == "N" ? AttributeType::kN
                                                 : AttributeType::kB;
      bool known = false;
      for (const KeyElement& existing : schema->attribute_definitions) {
        if (existing.name != name) continue;
        known = true;
        if (existing.type != parsed) {
          return InvalidParameter(
              "Attributes cannot be redefined. Please check that your attribute has the same "
              "type as previously defined.");
        }
      }
      if (!known) schema->attribute_definitions.push_back({name, parsed});
    }
  }
  for (const json& update : updates) {
    // DynamoDB's words: one action per entry, and Create, Update or Delete is it.
    if (update.is_object() && update.size() > 1) {
      return InvalidParameter(
          "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate "
          "object");
    }
    const std::string action = update.is_object() && !update.empty() ? update.begin().key() : "";
    if (action != "Create" && action != "Update" && action != "Delete") {
      return InvalidParameter(
          "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
          "GlobalSecondaryIndexUpdate.Delete must not be null");
    }
    const json& body = update.begin().value();
    const std::string name =
        body.is_object() && body.contains("IndexName") && body["IndexName"].is_string()
            ? body["IndexName"].get<std::string>()
            : "";
    const auto named = [&](const SecondaryIndex& i) { return i.name == name; };
    if (action == "Create") {
      // The name is checked before the rest of the new index, as DynamoDB does.
      if (std::any_of(schema->indexes.begin(), schema->indexes.end(), named)) {
        return ValidationError("Attempting to create an index which already exists");
      }
      absl::StatusOr<SecondaryIndex> index = ParseSecondaryIndex(body, /*global=*/true, *schema);
      if (!index.ok()) return index.status();
      index->backfilling = true;
      schema->indexes.push_back(*std::move(index));
      continue;
    }
    auto it = std::find_if(schema->indexes.begin(), schema->indexes.end(), named);
    if (it != schema->indexes.end() && !it->global) {
      return ValidationError(absl::StrCat("Cannot ", action == "Delete" ? "delete" : "update",
                                          " an index that is not a GlobalSecondaryIndex: ", name));
    }
    if (it == schema->indexes.end()) {
      return ResourceNotFound(absl::StrCat("Requested resource not found: Index: ", name,
                                           " not found for table: ", schema->name));
    }
    if (action == "Delete") {
      schema->indexes.erase(it);
      continue;
    }
    const json throughput = body.value("ProvisionedThroughput", json());
    if (schema->billing_mode != "PROVISIONED" || !throughput.is_object() ||
        !throughput.value("ReadCapacityUnits", json()).is_number_integer() ||
        !throughput.value("WriteCapacityUnits", json()).is_number_integer()) {
      return ValidationError(
          "One or more parameter values were invalid: ProvisionedThroughput of a global "
          "secondary index can be updated only on a PROVISIONED table, with ReadCapacityUnits "
          "and WriteCapacityUnits");
    }
    it->read_capacity_units = throughput["ReadCapacityUnits"].get<int64_t>();
    it->write_capacity_units = throughput["WriteCapacityUnits"].get<int64_t>();
  }
  std::set<std::string> used = {schema->hash.name};
  if (schema->range) used.insert(schema->range->name);
  for (const SecondaryIndex& index : schema->indexes) {
    used.insert(index.hash.name);
    if (index.range) used.insert(index.range->name);
  }
  std::erase_if(schema->attribute_definitions,
                [&](const KeyElement& d) { return used.count(d.name) == 0; });
  return CheckAttributeDefinitionsUsed(*schema);
}

absl::Status ArnNotFound(const json& request) {
  return ResourceNotFound(absl::StrCat("Requested resource not found: ResourcArn: ",
                                       request["ResourceArn"].get<std::string>(), " not found"));
}

}  // namespace

Task<absl::StatusOr<json>> UpdateTableOperation(const json& request, TableStore* store) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) co_return s;
  for (const char* field : {"StreamSpecification", "ReplicaUpdates", "SSESpecification"}) {
    if (request.contains(field) && !request[field].is_null()) {
      co_return ValidationError(
          absl::StrCat(field,
                       " is not supported by ekv: ekv has no streams, replicas or "
                       "encryption settings to change"));
    }
  }
  const bool index_updates = request.contains("GlobalSecondaryIndexUpdates") &&
                             !request["GlobalSecondaryIndexUpdates"].is_null();
  if (index_updates && request["GlobalSecondaryIndexUpdates"].is_array() &&
      request["GlobalSecondaryIndexUpdates"].empty()) {
    co_return InvalidParameter("List of GlobalSecondaryIndexUpdates is empty");
  }
  if (!index_updates && request.contains("AttributeDefinitions") &&
      !request["AttributeDefinitions"].is_null()) {
    co_return ValidationError(
        "One or more parameter values were invalid: AttributeDefinitions can only be specified "
        "together with GlobalSecondaryIndexUpdates");
  }
  if (!index_updates && !request.contains("BillingMode") &&
      !request.contains("ProvisionedThroughput") && !request.contains("TableClass") &&
      !request.contains("DeletionProtectionEnabled")) {
    co_return ValidationError(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  absl::StatusOr<TableSchema> schema = co_await store->UpdateTable(
      request["TableName"].get<std::string>(), [&](TableSchema* schema) {
        if (!index_updates || request.contains("BillingMode") ||
            request.contains("ProvisionedThroughput")) {
          if (absl::Status s = ApplyBillingParameters(request, schema); !s.ok()) return s;
        }
        return index_updates ? ApplyIndexUpdates(request, schema) : absl::OkStatus();
      });
  if (!schema.ok()) co_return schema.status();
  // The counts DescribeTable answers (the background count's last record, table_stats.h).
  absl::StatusOr<std::optional<TableStats>> stats = co_await store->GetTableStats(schema->id);
  if (!stats.ok()) co_return stats.status();
  // UPDATING as DynamoDB answers UpdateTable (an asynchronous change there); in ekv the
  // change is done when this answers, so DescribeTable says ACTIVE at once (a new index's
  // own IndexStatus stays CREATING while it backfills).
  co_return json{{"TableDescription",
                  DescribeTable(*schema, "UPDATING", stats->has_value() ? &**stats : nullptr)}};
}

Task<absl::StatusOr<json>> TagResourceOperation(const json& request, TableStore* store) {
  absl::StatusOr<std::string> table = TableOfArn(request);
  if (!table.ok()) co_return table.status();
  auto tags = request.find("Tags");
  if (tags == request.end() || tags->is_null()) {
    co_return ValidationError(
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
        "Member must not be null");
  }
  if (tags->is_array() && tags->empty()) {
    co_return ValidationError(
        "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1");
  }
  absl::StatusOr<TableSchema> schema = co_await store->UpdateTable(
      *table, [&](TableSchema* schema) { return ApplyTags(*tags, schema); });
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    co_return ArnNotFound(request);
  }
  if (!schema.ok()) co_return schema.status();
  co_return json(nullptr);  // DynamoDB answers an empty body (OperationTable::Handle)
}

Task<absl::StatusOr<json>> UntagResourceOperation(const json& request, TableStore* store) {
  absl::StatusOr<std::string> table = TableOfArn(request);
  if (!table.ok()) co_return table.status();
  auto keys = request.find("TagKeys");
  if (keys == request.end() || !keys->is_array()) {
    co_return ValidationError(
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
        "Member must not be null");
  }
  absl::StatusOr<TableSchema> schema =
      co_await store->UpdateTable(*table, [&](TableSchema* schema) {
        for (const json& key : *keys) {
          if (!key.is_string()) return SerializationError("TagKeys must hold strings");
          schema->tags.erase(key.get<std::string>());
        }
        return absl::OkStatus();
      });
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    co_return ArnNotFound(request);
  }
  if (!schema.ok()) co_return schema.status();
  co_return json(nullptr);  // DynamoDB answers an empty body (OperationTable::Handle)
}

Task<absl::StatusOr<json>> ListTagsOfResourceOperation(const json& request, TableStore* store) {
  absl::StatusOr<std::string> table = TableOfArn(request);
  if (!table.ok()) co_return table.status();
  absl::StatusOr<TableSchema> schema = co_await store->GetTable(*table);
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    co_return ArnNotFound(request);
  }
  if (!schema.ok()) co_return schema.status();
  // At most 50 tags: one page, never a NextToken.
  json tags = json::array();
  for (const auto& [key, value] : schema->tags) tags.push_back({{"Key", key}, {"Value", value}});
  co_return json{{"Tags", std::move(tags)}};
}

Task<absl::StatusOr<json>> UpdateTimeToLiveOperation(const json& request, TableStore* store) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) co_return s;
  auto spec = request.find("TimeToLiveSpecification");
  if (spec == request.end() || !spec->is_object()) {
    co_return ValidationError(
        "1 validation error detected: Value null at 'timeToLiveSpecification' failed to "
        "satisfy constraint: Member must not be null");
  }
  // A missing member is named, as DynamoDB names it.
  for (const auto& [field, member] :
       {std::pair<const char*, const char*>{"AttributeName", "attributeName"},
        {"Enabled", "enabled"}}) {
    if (!spec->contains(field) || (*spec)[field].is_null()) {
      co_return ValidationError(
          absl::StrCat("1 validation error detected: Value null at 'timeToLiveSpecification.",
                       member, "' failed to satisfy constraint: Member must not be null"));
    }
  }
  if (!(*spec)["Enabled"].is_boolean() || !(*spec)["AttributeName"].is_string()) {
    co_return SerializationError("TimeToLiveSpecification has a member of the wrong type");
  }
  const bool enable = (*spec)["Enabled"].get<bool>();
  const std::string attribute = (*spec)["AttributeName"].get<std::string>();
  if (attribute.empty() || attribute.size() > 255) {
    co_return ValidationError(
        "1 validation error detected: Value at 'timeToLiveSpecification.attributeName' failed "
        "to satisfy constraint: Member must have length between 1 and 255");
  }
  absl::StatusOr<TableSchema> schema = co_await store->UpdateTable(
      request["TableName"].get<std::string>(), [&](TableSchema* schema) {
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
  if (!schema.ok()) co_return schema.status();
  co_return json{{"TimeToLiveSpecification", {{"Enabled", enable}, {"AttributeName", attribute}}}};
}

Task<absl::StatusOr<json>> DescribeTimeToLiveOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  if (!schema.ok()) co_return schema.status();
  // Enabling and disabling take effect at once in ekv: never ENABLING / DISABLING.
  json description = {{"TimeToLiveStatus", schema->ttl_attribute.empty() ? "DISABLED" : "ENABLED"}};
  if (!schema->ttl_attribute.empty()) description["AttributeName"] = schema->ttl_attribute;
  co_return json{{"TimeToLiveDescription", std::move(description)}};
}

Task<absl::StatusOr<json>> DescribeLimitsOperation(const json& request, TableStore* store) {
  // DynamoDB's default quotas for an account in a region (ekv meters nothing; these are
  // what capacity planners built for DynamoDB expect to read).
  co_return json{{"AccountMaxReadCapacityUnits", 80000},
                 {"AccountMaxWriteCapacityUnits", 80000},
                 {"TableMaxReadCapacityUnits", 40000},
                 {"TableMaxWriteCapacityUnits", 40000}};
}

}  // namespace ekv::dynamo
