#include "adapters/dynamo/table_schema.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/table_stats.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

constexpr int kSchemaVersion = 1;
constexpr size_t kMinTableName = 3;
constexpr size_t kMaxTableName = 255;
// DynamoDB's limits on key attribute values.
constexpr size_t kMaxHashKeyBytes = 2048;
constexpr size_t kMaxRangeKeyBytes = 1024;

absl::StatusOr<AttributeType> KeyTypeOf(const json& j) {
  if (j == "S") return AttributeType::kS;
  if (j == "N") return AttributeType::kN;
  if (j == "B") return AttributeType::kB;
  return ValidationError(absl::StrCat(
      "1 validation error detected: Value '", j.is_string() ? j.get<std::string>() : j.dump(),
      "' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
      "Member must satisfy enum value set: [B, N, S]"));
}

// DynamoDB's model limits the names of key attributes (of the table and its indexes, in
// AttributeDefinitions too) and of attributes an index projects by name to 255 bytes. The
// check comes before any cross-checking of the names, as DynamoDB's does.
constexpr size_t kMaxKeyAttributeName = 255;

absl::Status CheckKeyAttributeName(const std::string& name, const std::string& path) {
  if (!name.empty() && name.size() <= kMaxKeyAttributeName) return absl::OkStatus();
  return ValidationError(
      absl::StrCat("1 validation error detected: Value '", name, "' at '", path,
                   "' failed to satisfy constraint: Member must have length ",
                   name.empty() ? "greater than or equal to 1" : "less than or equal to 255"));
}

// The names in a list of {AttributeName: ...} elements (KeySchema, AttributeDefinitions)
// at `path` ("keySchema", ...). Malformed elements are left to the parsing that follows.
absl::Status CheckNamesIn(const json& parent, const char* field, const std::string& path) {
  auto list = parent.find(field);
  if (list == parent.end() || !list->is_array()) return absl::OkStatus();
  for (size_t i = 0; i < list->size(); ++i) {
    const json& element = (*list)[i];
    if (!element.is_object()) continue;
    auto name = element.find("AttributeName");
    if (name == element.end() || !name->is_string()) continue;
    if (absl::Status s = CheckKeyAttributeName(
            name->get<std::string>(), absl::StrCat(path, ".", i + 1, ".member.attributeName"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// One index description (CreateTable's GlobalSecondaryIndexes/LocalSecondaryIndexes member
// or UpdateTable's Create) at `path`: its key names and the names it projects.
absl::Status CheckIndexNames(const json& index, const std::string& path) {
  if (!index.is_object()) return absl::OkStatus();
  if (absl::Status s = CheckNamesIn(index, "KeySchema", path + ".keySchema"); !s.ok()) return s;
  auto projection = index.find("Projection");
  if (projection == index.end() || !projection->is_object()) return absl::OkStatus();
  auto non_key = projection->find("NonKeyAttributes");
  if (non_key == projection->end() || !non_key->is_array()) return absl::OkStatus();
  for (const json& name : *non_key) {
    if (!name.is_string()) continue;
    if (absl::Status s = CheckKeyAttributeName(name.get<std::string>(),
                                               path + ".projection.nonKeyAttributes.member");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckKeyAttributeNames(const json& request) {
  if (!request.is_object()) return absl::OkStatus();
  if (absl::Status s = CheckNamesIn(request, "KeySchema", "keySchema"); !s.ok()) return s;
  if (absl::Status s = CheckNamesIn(request, "AttributeDefinitions", "attributeDefinitions");
      !s.ok()) {
    return s;
  }
  for (const auto& [field, path] : {std::pair{"GlobalSecondaryIndexes", "globalSecondaryIndexes"},
                                    std::pair{"LocalSecondaryIndexes", "localSecondaryIndexes"}}) {
    auto list = request.find(field);
    if (list == request.end() || !list->is_array()) continue;
    for (size_t i = 0; i < list->size(); ++i) {
      if (absl::Status s = CheckIndexNames((*list)[i], absl::StrCat(path, ".", i + 1, ".member"));
          !s.ok()) {
        return s;
      }
    }
  }
  auto updates = request.find("GlobalSecondaryIndexUpdates");
  if (updates != request.end() && updates->is_array()) {
    for (size_t i = 0; i < updates->size(); ++i) {
      const json& update = (*updates)[i];
      if (!update.is_object() || !update.contains("Create")) continue;
      if (absl::Status s = CheckIndexNames(
              update["Create"],
              absl::StrCat("globalSecondaryIndexUpdates.", i + 1, ".member.create"));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

namespace {

json KeyElementsJson(const TableSchema& s) {
  json key_schema = json::array();
  key_schema.push_back({{"AttributeName", s.hash.name}, {"KeyType", "HASH"}});
  if (s.range) key_schema.push_back({{"AttributeName", s.range->name}, {"KeyType", "RANGE"}});
  return key_schema;
}

json AttributeDefinitionsJson(const TableSchema& s) {
  json defs = json::array();
  for (const KeyElement& d : s.attribute_definitions) {
    defs.push_back({{"AttributeName", d.name}, {"AttributeType", std::string(TypeName(d.type))}});
  }
  return defs;
}

absl::StatusOr<std::string> EncodeKeyPart(const KeyElement& element, const AttributeValue& value,
                                          size_t max_bytes, bool from_key_parameter) {
  if (value.type != element.type) {
    if (from_key_parameter) {
      return ValidationError("The provided key element does not match the schema");
    }
    return InvalidParameter(absl::StrCat("Type mismatch for key ", element.name,
                                         " expected: ", TypeName(element.type),
                                         " actual: ", TypeName(value.type)));
  }
  if ((value.type == AttributeType::kS || value.type == AttributeType::kB) &&
      value.scalar.empty()) {
    return ValidationError(absl::StrCat(
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty ",
        value.type == AttributeType::kS ? "string" : "binary", " value. Key: ", element.name));
  }
  if (value.scalar.size() > max_bytes) {
    return ValidationError(absl::StrCat("One or more parameter values were invalid: Size of ",
                                        max_bytes == kMaxHashKeyBytes ? "hashkey" : "rangekey",
                                        " has exceeded the maximum size limit of ", max_bytes,
                                        " bytes"));
  }
  return EncodeKeyValue(value);
}

absl::StatusOr<std::string> ItemKey(const TableSchema& schema, const AttributeMap& attributes,
                                    bool from_key_parameter) {
  std::string key;
  const KeyElement* elements[2] = {&schema.hash, schema.range ? &*schema.range : nullptr};
  for (const KeyElement* element : elements) {
    if (element == nullptr) continue;
    auto it = attributes.find(element->name);
    if (it == attributes.end()) {
      if (from_key_parameter) {
        return ValidationError("The provided key element does not match the schema");
      }
      return InvalidParameter(absl::StrCat("Missing the key ", element->name, " in the item"));
    }
    absl::StatusOr<std::string> part = EncodeKeyPart(
        *element, it->second, element == &schema.hash ? kMaxHashKeyBytes : kMaxRangeKeyBytes,
        from_key_parameter);
    if (!part.ok()) return part.status();
    if (element == &schema.hash) {
      key = PartitionPrefix(schema.id, schema.key_layout, *part);
    } else {
      key += *part;
    }
  }
  return key;
}

}  // namespace

absl::Status ValidateTableName(const json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end() || !it->is_string()) {
    return ValidationError(
        absl::StrCat("1 validation error detected: Value null at 'tableName' failed to satisfy "
                     "constraint: Member must not be null"));
  }
  const std::string& name = it->get_ref<const std::string&>();
  if (name.size() < kMinTableName || name.size() > kMaxTableName) {
    return ValidationError(absl::StrCat(
        "1 validation error detected: Value '", name,
        "' at 'tableName' failed to satisfy constraint: Member must have length ",
        name.size() < kMinTableName ? "greater than or equal to 3" : "less than or equal to 255"));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return ValidationError(
          absl::StrCat("1 validation error detected: Value '", name,
                       "' at 'tableName' failed to satisfy constraint: Member must satisfy regular "
                       "expression pattern: [a-zA-Z0-9_.-]+"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TableSchema> SchemaFromCreateTable(const json& request) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) return s;
  TableSchema schema;
  schema.name = request["TableName"].get<std::string>();
  auto defs = request.find("AttributeDefinitions");
  auto keys = request.find("KeySchema");
  if (keys == request.end() || !keys->is_array()) {
    return ValidationError(
        "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
        "Member must not be null");
  }
  if (defs == request.end() || !defs->is_array()) {
    return ValidationError(
        "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy "
        "constraint: Member must not be null");
  }
  if (absl::Status st = CheckKeyAttributeNames(request); !st.ok()) return st;
  for (const json& d : *defs) {
    if (!d.is_object() || !d.contains("AttributeName") || !d["AttributeName"].is_string() ||
        !d.contains("AttributeType")) {
      return ValidationError(
          "Invalid AttributeDefinitions: each needs AttributeName and "
          "AttributeType");
    }
    absl::StatusOr<AttributeType> type = KeyTypeOf(d["AttributeType"]);
    if (!type.ok()) return type.status();
    for (const KeyElement& seen : schema.attribute_definitions) {
      if (seen.name == d["AttributeName"]) {
        return InvalidParameter(absl::StrCat(
            "Cannot have two attributes with the same name in AttributeDefinitions: Duplicate "
            "AttributeName: ",
            seen.name));
      }
    }
    schema.attribute_definitions.push_back({d["AttributeName"].get<std::string>(), *type});
  }
  if (keys->empty() || keys->size() > 2) {
    return ValidationError(
        absl::StrCat("1 validation error detected: Value '", keys->dump(),
                     "' at 'keySchema' failed to satisfy constraint: Member must have length ",
                     keys->empty() ? "greater than or equal to 1" : "less than or equal to 2"));
  }
  bool have_hash = false;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& k = (*keys)[i];
    if (!k.is_object() || !k.contains("AttributeName") || !k["AttributeName"].is_string() ||
        !k.contains("KeyType") || !k["KeyType"].is_string()) {
      return ValidationError("Invalid KeySchema: each element needs AttributeName and KeyType");
    }
    const std::string name = k["AttributeName"].get<std::string>();
    const std::string key_type = k["KeyType"].get<std::string>();
    const KeyElement* def = nullptr;
    for (const KeyElement& d : schema.attribute_definitions) {
      if (d.name == name) def = &d;
    }
    if (def == nullptr) {
      return InvalidParameter(
          "Some index key attributes are not defined in AttributeDefinitions. Keys: [" + name +
          "], AttributeDefinitions: []");
    }
    if (key_type == "HASH" && i == 0) {
      schema.hash = *def;
      have_hash = true;
    } else if (key_type == "RANGE" && i == 1) {
      schema.range = *def;
    } else if (key_type != "HASH" && key_type != "RANGE") {
      return ValidationError(absl::StrCat(
          "1 validation error detected: Value '", key_type, "' at 'keySchema.", i + 1,
          ".member.keyType' failed to satisfy constraint: Member must satisfy enum value set: "
          "[HASH, RANGE]"));
    } else {
      return InvalidParameter(
          "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
    }
  }
  if (!have_hash) {
    return InvalidParameter("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (schema.range && schema.range->name == schema.hash.name) {
    return InvalidParameter(
        "Both the Hash Key and the Range Key element in the KeySchema have "
        "the same name");
  }
  if (absl::Status st = ApplyBillingParameters(request, &schema); !st.ok()) return st;
  for (const bool global : {true, false}) {
    const char* field = global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes";
    auto list = request.find(field);
    if (list == request.end() || list->is_null()) continue;
    if (!list->is_array()) return SerializationError(absl::StrCat(field, " must be a list"));
    if (list->empty()) {
      return ValidationError(
          absl::StrCat("One or more parameter values were invalid: List of ", field, " is empty"));
    }
    if (!global && !schema.range) {
      return InvalidParameter(
          "Table KeySchema does not have a range key, which is required when specifying a "
          "LocalSecondaryIndex");
    }
    for (const json& element : *list) {
      absl::StatusOr<SecondaryIndex> index = ParseSecondaryIndex(element, global, schema);
      if (!index.ok()) return index.status();
      schema.indexes.push_back(*std::move(index));
    }
  }
  if (absl::Status st = CheckAttributeDefinitionsUsed(schema); !st.ok()) return st;
  if (auto tags = request.find("Tags"); tags != request.end() && !tags->is_null()) {
    if (absl::Status st = ApplyTags(*tags, &schema); !st.ok()) return st;
  }
  return schema;
}

absl::Status CheckNewIndexName(const std::string& name, const TableSchema& schema) {
  const bool valid_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
  if (name.size() < kMinTableName || name.size() > kMaxTableName || !valid_chars) {
    return ValidationError(absl::StrCat(
        "1 validation error detected: Value '", name,
        "' at 'indexName' failed to satisfy constraint: Member must satisfy regular expression "
        "pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255"));
  }
  for (const SecondaryIndex& index : schema.indexes) {
    if (index.name == name) return InvalidParameter("Duplicate index name: " + name);
  }
  return absl::OkStatus();
}

absl::StatusOr<SecondaryIndex> ParseSecondaryIndex(const json& element, bool global,
                                                   const TableSchema& schema) {
  if (!element.is_object() || !element.contains("IndexName") || !element["IndexName"].is_string()) {
    return ValidationError(
        "1 validation error detected: Value null at 'indexName' failed to satisfy constraint: "
        "Member must not be null");
  }
  SecondaryIndex index;
  index.global = global;
  index.name = element["IndexName"].get<std::string>();
  if (absl::Status s = CheckNewIndexName(index.name, schema); !s.ok()) return s;
  auto keys = element.find("KeySchema");
  if (keys == element.end() || !keys->is_array() || keys->empty() || keys->size() > 2) {
    return ValidationError(absl::StrCat(
        "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
        "Member must have length less than or equal to 2 and at least 1 for index: ",
        index.name));
  }
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& k = (*keys)[i];
    if (!k.is_object() || !k.contains("AttributeName") || !k["AttributeName"].is_string() ||
        !k.contains("KeyType") || !k["KeyType"].is_string()) {
      return ValidationError("Invalid KeySchema: each element needs AttributeName and KeyType");
    }
    const std::string name = k["AttributeName"].get<std::string>();
    const KeyElement* def = nullptr;
    for (const KeyElement& d : schema.attribute_definitions) {
      if (d.name == name) def = &d;
    }
    if (def == nullptr) {
      return InvalidParameter(
          absl::StrCat("Some index key attributes are not defined in AttributeDefinitions. Keys: [",
                       name, "], AttributeDefinitions: []"));
    }
    const std::string type = k["KeyType"].get<std::string>();
    if (type == "HASH" && i == 0) {
      index.hash = *def;
    } else if (type == "RANGE" && i == 1) {
      index.range = *def;
    } else {
      return InvalidParameter(absl::StrCat(
          "Invalid KeySchema: The first KeySchemaElement is not a HASH key type for index: ",
          index.name));
    }
  }
  if (index.range && index.range->name == index.hash.name) {
    return InvalidParameter(
        "Both the Hash Key and the Range Key element in the KeySchema have the same name");
  }
  if (!global) {
    if (index.hash.name != schema.hash.name) {
      return InvalidParameter(absl::StrCat(
          "Index KeySchema does not have the same leading hash key as table KeySchema for "
          "index: ",
          index.name, ". index hash key: ", index.hash.name,
          ", table hash key: ", schema.hash.name));
    }
    if (!index.range) {
      return InvalidParameter(absl::StrCat(
          "Index KeySchema must have a range key for the LocalSecondaryIndex: ", index.name));
    }
  }
  auto projection = element.find("Projection");
  if (projection == element.end() || !projection->is_object()) {
    return ValidationError(absl::StrCat(
        "1 validation error detected: Value null at 'projection' failed to satisfy constraint: "
        "Member must not be null for index: ",
        index.name));
  }
  index.projection_type = projection->value("ProjectionType", std::string("ALL"));
  if (index.projection_type != "ALL" && index.projection_type != "KEYS_ONLY" &&
      index.projection_type != "INCLUDE") {
    return ValidationError(absl::StrCat(
        "1 validation error detected: Value '", index.projection_type,
        "' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy "
        "enum value set: [ALL, INCLUDE, KEYS_ONLY]"));
  }
  auto non_key = projection->find("NonKeyAttributes");
  const bool has_non_key = non_key != projection->end() && !non_key->is_null();
  if (index.projection_type == "INCLUDE") {
    if (!has_non_key || !non_key->is_array() || non_key->empty()) {
      return InvalidParameter("ProjectionType is INCLUDE, but NonKeyAttributes is not specified");
    }
    for (const json& name : *non_key) {
      if (!name.is_string()) return SerializationError("NonKeyAttributes must be strings");
      index.non_key_attributes.push_back(name.get<std::string>());
    }
  } else if (has_non_key) {
    return InvalidParameter(absl::StrCat("ProjectionType is ", index.projection_type,
                                         ", but NonKeyAttributes is specified"));
  }
  auto throughput = element.find("ProvisionedThroughput");
  const bool has_throughput = throughput != element.end() && !throughput->is_null();
  if (global && schema.billing_mode == "PROVISIONED") {
    if (!has_throughput || !throughput->is_object() ||
        !(*throughput)["ReadCapacityUnits"].is_number_integer() ||
        !(*throughput)["WriteCapacityUnits"].is_number_integer() ||
        (*throughput)["ReadCapacityUnits"].get<int64_t>() < 1 ||
        (*throughput)["WriteCapacityUnits"].get<int64_t>() < 1) {
      return ValidationError(absl::StrCat(
          "One or more parameter values were invalid: ProvisionedThroughput is not specified for "
          "index: ",
          index.name));
    }
    index.read_capacity_units = (*throughput)["ReadCapacityUnits"].get<int64_t>();
    index.write_capacity_units = (*throughput)["WriteCapacityUnits"].get<int64_t>();
  } else if (has_throughput && global) {
    return ValidationError(
        "One or more parameter values were invalid: ProvisionedThroughput should not be "
        "specified for index: " +
        index.name + " when BillingMode is PAY_PER_REQUEST");
  }
  return index;
}

absl::Status CheckAttributeDefinitionsUsed(const TableSchema& schema) {
  std::set<std::string> used = {schema.hash.name};
  if (schema.range) used.insert(schema.range->name);
  for (const SecondaryIndex& index : schema.indexes) {
    used.insert(index.hash.name);
    if (index.range) used.insert(index.range->name);
  }
  std::set<std::string> defined;
  for (const KeyElement& d : schema.attribute_definitions) defined.insert(d.name);
  if (defined == used) return absl::OkStatus();
  if (schema.indexes.empty()) {
    return InvalidParameter(
        "Number of attributes in KeySchema does not exactly match number of attributes defined "
        "in AttributeDefinitions");
  }
  return InvalidParameter(absl::StrCat(
      "Some AttributeDefinitions are not used. AttributeDefinitions: [",
      absl::StrJoin(defined, ", "), "], keys used: [", absl::StrJoin(used, ", "), "]"));
}

absl::Status ApplyBillingParameters(const json& request, TableSchema* schema_out) {
  TableSchema& schema = *schema_out;
  if (auto billing = request.find("BillingMode"); billing != request.end()) {
    if (*billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST") {
      return ValidationError(absl::StrCat(
          "1 validation error detected: Value '", billing->dump(),
          "' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: "
          "[PROVISIONED, PAY_PER_REQUEST]"));
    }
    schema.billing_mode = billing->get<std::string>();
  }
  auto throughput = request.find("ProvisionedThroughput");
  if (schema.billing_mode == "PROVISIONED") {
    if (throughput == request.end() || !throughput->is_object()) {
      return ValidationError(
          "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
          "must both be specified when BillingMode is PROVISIONED");
    }
    // DynamoDB's request model checks the members first: each missing or below 1 is one
    // validation error of the whole request.
    std::vector<std::string> invalid;
    for (const auto& [field, path] : {std::pair{"ReadCapacityUnits", "readCapacityUnits"},
                                      std::pair{"WriteCapacityUnits", "writeCapacityUnits"}}) {
      auto member = throughput->find(field);
      if (member == throughput->end() || member->is_null()) {
        invalid.push_back(absl::StrCat("Value null at 'provisionedThroughput.", path,
                                       "' failed to satisfy constraint: Member must not be null"));
      } else if (member->is_number_integer() && member->get<int64_t>() < 1) {
        invalid.push_back(absl::StrCat(
            "Value '", member->get<int64_t>(), "' at 'provisionedThroughput.", path,
            "' failed to satisfy constraint: Member must have value greater than or equal to 1"));
      }
    }
    if (!invalid.empty()) {
      return ValidationError(absl::StrCat(invalid.size(), " validation error",
                                          invalid.size() == 1 ? "" : "s",
                                          " detected: ", absl::StrJoin(invalid, "; ")));
    }
    const json& rcu = (*throughput)["ReadCapacityUnits"];
    const json& wcu = (*throughput)["WriteCapacityUnits"];
    if (!rcu.is_number_integer() || !wcu.is_number_integer() || rcu.get<int64_t>() < 1 ||
        wcu.get<int64_t>() < 1) {
      return ValidationError(
          "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
          "must both be specified when BillingMode is PROVISIONED");
    }
    schema.read_capacity_units = rcu.get<int64_t>();
    schema.write_capacity_units = wcu.get<int64_t>();
  } else if (throughput != request.end()) {
    return ValidationError(
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
        "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
  }
  if (schema.billing_mode == "PAY_PER_REQUEST") {
    schema.read_capacity_units = 0;
    schema.write_capacity_units = 0;
  }
  return absl::OkStatus();
}

absl::Status ApplyTags(const json& tags, TableSchema* schema) {
  if (!tags.is_array()) return SerializationError("Tags must be a list");
  for (const json& tag : tags) {
    if (!tag.is_object() || !tag.contains("Key") || !tag["Key"].is_string() ||
        !tag.contains("Value") || !tag["Value"].is_string()) {
      return ValidationError(
          "1 validation error detected: Value null at 'tags.member.key' failed to satisfy "
          "constraint: Member must not be null");
    }
    const std::string key = tag["Key"].get<std::string>();
    const std::string value = tag["Value"].get<std::string>();
    if (key.empty() || key.size() > 128 || value.size() > 256) {
      return ValidationError(
          "One or more parameter values were invalid: tag keys must be 1 to 128 characters and "
          "tag values at most 256");
    }
    // AWS tags hold letters, digits, spaces and _ . : / = + - @ (any non-ASCII byte is let
    // through as part of a UTF-8 letter).
    for (const auto& [text, member] :
         {std::pair<const std::string*, const char*>{&key, "key"}, {&value, "value"}}) {
      const bool valid = std::all_of(text->begin(), text->end(), [](char c) {
        const unsigned char u = static_cast<unsigned char>(c);
        return u >= 0x80 || std::isalnum(u) || u == ' ' ||
               absl::string_view("_.:/=+-@").find(c) != absl::string_view::npos;
      });
      if (!valid) {
        return ValidationError(absl::StrCat(
            "1 validation error detected: Value '", *text, "' at 'tags.member.", member,
            "' failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"));
      }
    }
    schema->tags[key] = value;
  }
  if (schema->tags.size() > kMaxTags) {
    return ValidationError("The number of tags exceeds the limit of 50 per resource");
  }
  return absl::OkStatus();
}

namespace {

// A stored layout number; unknown numbers are refused where the record is decoded.
KeyLayout KeyLayoutOf(int stored) {
  if (stored != static_cast<int>(KeyLayout::kUnhashed) &&
      stored != static_cast<int>(KeyLayout::kHashed)) {
    throw std::invalid_argument(absl::StrCat("unknown key layout ", stored));
  }
  return static_cast<KeyLayout>(stored);
}

}  // namespace

std::string EncodeTableSchema(const TableSchema& s) {
  json j = {{"v", kSchemaVersion},
            {"name", s.name},
            {"id", s.id},
            {"layout", static_cast<int>(s.key_layout)},
            {"key_schema", KeyElementsJson(s)},
            {"attribute_definitions", AttributeDefinitionsJson(s)},
            {"billing_mode", s.billing_mode},
            {"rcu", s.read_capacity_units},
            {"wcu", s.write_capacity_units},
            {"created", s.creation_date_time}};
  if (!s.tags.empty()) j["tags"] = s.tags;
  if (!s.ttl_attribute.empty()) j["ttl"] = s.ttl_attribute;
  for (const SecondaryIndex& index : s.indexes) {
    json stored = {
        {"name", index.name},
        {"id", index.id},
        {"layout", static_cast<int>(index.key_layout)},
        {"backfilling", index.backfilling},
        {"cursor", absl::BytesToHexString(index.backfill_cursor)},  // key bytes: not UTF-8
        {"global", index.global},
        {"hash", index.hash.name},
        {"projection", index.projection_type},
        {"non_key", index.non_key_attributes},
        {"rcu", index.read_capacity_units},
        {"wcu", index.write_capacity_units}};
    if (index.range) stored["range"] = index.range->name;
    j["indexes"].push_back(std::move(stored));
  }
  return j.dump();
}

absl::StatusOr<TableSchema> DecodeTableSchema(absl::string_view bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != kSchemaVersion) {
    return absl::DataLossError("stored DynamoDB table metadata is unreadable");
  }
  TableSchema s;
  try {
    s.name = j.at("name").get<std::string>();
    s.id = j.at("id").get<uint64_t>();
    // Absent in records written before partition hashes existed: those keys have none.
    s.key_layout = KeyLayoutOf(j.value("layout", 0));
    for (const json& d : j.at("attribute_definitions")) {
      absl::StatusOr<AttributeType> type = KeyTypeOf(d.at("AttributeType"));
      if (!type.ok()) return absl::DataLossError("stored table metadata has a bad key type");
      s.attribute_definitions.push_back({d.at("AttributeName").get<std::string>(), *type});
    }
    for (const json& k : j.at("key_schema")) {
      KeyElement element;
      element.name = k.at("AttributeName").get<std::string>();
      for (const KeyElement& d : s.attribute_definitions) {
        if (d.name == element.name) element.type = d.type;
      }
      if (k.at("KeyType") == "HASH") {
        s.hash = element;
      } else {
        s.range = element;
      }
    }
    s.billing_mode = j.at("billing_mode").get<std::string>();
    s.read_capacity_units = j.at("rcu").get<int64_t>();
    s.write_capacity_units = j.at("wcu").get<int64_t>();
    s.creation_date_time = j.at("created").get<double>();
    // Absent in records written before tags existed.
    if (j.contains("tags")) s.tags = j.at("tags").get<std::map<std::string, std::string>>();
    if (j.contains("ttl")) s.ttl_attribute = j.at("ttl").get<std::string>();
    const auto element = [&](const std::string& name) {
      KeyElement e{name, AttributeType::kS};
      for (const KeyElement& d : s.attribute_definitions) {
        if (d.name == name) e.type = d.type;
      }
      return e;
    };
    if (j.contains("indexes")) {
      for (const json& stored : j.at("indexes")) {
        SecondaryIndex index;
        index.name = stored.at("name").get<std::string>();
        // Records written before indexes were stored have no id: such an index is
        // backfilled like a new one (the backfiller gives it an id first).
        index.id = stored.value("id", uint64_t{0});
        index.key_layout = KeyLayoutOf(stored.value("layout", 0));
        index.backfilling = stored.value("backfilling", true);
        if (index.id == 0) index.backfilling = true;
        index.backfill_cursor = absl::HexStringToBytes(stored.value("cursor", std::string()));
        index.global = stored.at("global").get<bool>();
        index.hash = element(stored.at("hash").get<std::string>());
        if (stored.contains("range")) index.range = element(stored.at("range").get<std::string>());
        index.projection_type = stored.at("projection").get<std::string>();
        index.non_key_attributes = stored.at("non_key").get<std::vector<std::string>>();
        index.read_capacity_units = stored.at("rcu").get<int64_t>();
        index.write_capacity_units = stored.at("wcu").get<int64_t>();
        s.indexes.push_back(std::move(index));
      }
    }
  } catch (const json::exception& e) {
    // A malformed record is data loss, not a crash of the request thread.
    return absl::DataLossError(absl::StrCat("stored DynamoDB table metadata: ", e.what()));
  } catch (const std::invalid_argument& e) {
    return absl::DataLossError(absl::StrCat("stored DynamoDB table metadata: ", e.what()));
  }
  return s;
}

// DynamoDB's TableId is a UUID; ekv's is the catalog's 64-bit table id written in that form
// (zero-padded hex), so it is stable and unique like the id itself.
std::string TableIdUuid(uint64_t id) {
  const std::string hex = absl::StrCat(std::string(16, '0'), absl::Hex(id, absl::kZeroPad16));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20, 12));
}

std::string TableArn(absl::string_view table_name) {
  return absl::StrCat(kTableArnPrefix, table_name);
}

json DescribeTable(const TableSchema& s, const char* status, const TableStats* stats) {
  json description = {
      {"TableName", s.name},
      {"TableStatus", status},
      {"KeySchema", KeyElementsJson(s)},
      {"AttributeDefinitions", AttributeDefinitionsJson(s)},
      {"CreationDateTime", s.creation_date_time},
      {"TableArn", TableArn(s.name)},
      {"TableId", TableIdUuid(s.id)},
      // Approximate, as DynamoDB's: the last background count (table_stats.h).
      {"ItemCount", stats != nullptr ? stats->table.item_count : 0},
      {"TableSizeBytes", stats != nullptr ? stats->table.size_bytes : 0},
      {"ProvisionedThroughput",
       {{"ReadCapacityUnits", s.read_capacity_units},
        {"WriteCapacityUnits", s.write_capacity_units},
        {"NumberOfDecreasesToday", 0}}},
  };
  for (const SecondaryIndex& index : s.indexes) {
    json key_schema = json::array();
    key_schema.push_back({{"AttributeName", index.hash.name}, {"KeyType", "HASH"}});
    if (index.range) {
      key_schema.push_back({{"AttributeName", index.range->name}, {"KeyType", "RANGE"}});
    }
    json projection = {{"ProjectionType", index.projection_type}};
    if (index.projection_type == "INCLUDE")
      projection["NonKeyAttributes"] = index.non_key_attributes;
    json described = {{"IndexName", index.name},
                      {"KeySchema", std::move(key_schema)},
                      {"Projection", std::move(projection)},
                      {"IndexArn", absl::StrCat(TableArn(s.name), "/index/", index.name)},
                      {"IndexSizeBytes", 0},
                      {"ItemCount", 0}};
    if (stats != nullptr) {
      if (auto it = stats->indexes.find(index.id); it != stats->indexes.end()) {
        described["IndexSizeBytes"] = it->second.size_bytes;
        described["ItemCount"] = it->second.item_count;
      }
    }
    if (index.global) {
      described["IndexStatus"] = index.backfilling ? "CREATING" : "ACTIVE";
      if (index.backfilling) described["Backfilling"] = true;
      described["ProvisionedThroughput"] = {{"ReadCapacityUnits", index.read_capacity_units},
                                            {"WriteCapacityUnits", index.write_capacity_units},
                                            {"NumberOfDecreasesToday", 0}};
      description["GlobalSecondaryIndexes"].push_back(std::move(described));
    } else {
      description["LocalSecondaryIndexes"].push_back(std::move(described));
    }
  }
  if (s.billing_mode == "PAY_PER_REQUEST") {
    description["BillingModeSummary"] = {
        {"BillingMode", "PAY_PER_REQUEST"},
        {"LastUpdateToPayPerRequestDateTime", s.creation_date_time}};
  }
  return description;
}

absl::StatusOr<std::string> ItemKeyOfItem(const TableSchema& schema, const AttributeMap& item) {
  return ItemKey(schema, item, /*from_key_parameter=*/false);
}

absl::StatusOr<std::string> ItemKeyOfKey(const TableSchema& schema, const AttributeMap& key) {
  if (key.size() != (schema.range ? 2u : 1u)) {
    return ValidationError("The provided key element does not match the schema");
  }
  return ItemKey(schema, key, /*from_key_parameter=*/true);
}

AttributeMap KeyAttributesOf(const TableSchema& schema, const AttributeMap& item) {
  AttributeMap key;
  if (auto it = item.find(schema.hash.name); it != item.end()) key.insert(*it);
  if (schema.range) {
    if (auto it = item.find(schema.range->name); it != item.end()) key.insert(*it);
  }
  return key;
}

}  // namespace ekv::dynamo
