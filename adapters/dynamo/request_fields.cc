#include "adapters/dynamo/request_fields.h"

#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/projection.h"

namespace ekv::dynamo {

using nlohmann::json;

absl::StatusOr<std::optional<std::string>> OptionalString(const json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return SerializationError(absl::StrCat(field, " must be a string"));
  return std::optional<std::string>(it->get<std::string>());
}

absl::StatusOr<ExpressionContext> ExpressionContextOf(const json& request) {
  // A request uses expressions or the legacy parameters, never both (DynamoDB lists both
  // kinds it found, each in alphabetical order). DynamoDB lets KeyConditions accompany a
  // FilterExpression, so it is not among them.
  static const char* const kLegacy[] = {"AttributeUpdates",    "AttributesToGet",
                                        "ConditionalOperator", "Expected",
                                        "QueryFilter",         "ScanFilter"};
  static const char* const kExpressions[] = {"ConditionExpression", "FilterExpression",
                                             "KeyConditionExpression", "ProjectionExpression",
                                             "UpdateExpression"};
  const auto present = [&](const char* const* names, size_t count) {
    std::vector<std::string> found;
    for (size_t i = 0; i < count; ++i) {
      auto it = request.find(names[i]);
      if (it != request.end() && !it->is_null()) found.push_back(names[i]);
    }
    return found;
  };
  const std::vector<std::string> legacy = present(kLegacy, std::size(kLegacy));
  const std::vector<std::string> expressions = present(kExpressions, std::size(kExpressions));
  if (!legacy.empty() && !expressions.empty()) {
    return ValidationError(absl::StrCat(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {",
        absl::StrJoin(legacy, ", "), "} Expression parameters: {", absl::StrJoin(expressions, ", "),
        "}"));
  }
  ExpressionContext context;
  if (auto names = request.find("ExpressionAttributeNames"); names != request.end()) {
    if (!names->is_object()) {
      return SerializationError("ExpressionAttributeNames must be a map");
    }
    if (names->empty()) {
      return ValidationError("ExpressionAttributeNames must not be empty");
    }
    for (auto it = names->begin(); it != names->end(); ++it) {
      if (!it.value().is_string()) {
        return SerializationError("ExpressionAttributeNames values must be strings");
      }
      std::string name = it.value().get<std::string>();
      if (name.empty()) {
        return ValidationError(absl::StrCat(
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key ",
            it.key()));
      }
      if (absl::Status s = CheckAttributeName(name); !s.ok()) return s;
      context.names.emplace(it.key(), std::move(name));
    }
  }
  if (auto values = request.find("ExpressionAttributeValues"); values != request.end()) {
    if (values->is_object() && values->empty()) {
      return ValidationError("ExpressionAttributeValues must not be empty");
    }
    absl::StatusOr<AttributeMap> parsed = AttributeMapFromJson(*values);
    if (!parsed.ok()) {
      // A value of the wrong JSON shape is a SerializationException, as everywhere.
      if (ErrorName(parsed.status()) == "SerializationException") return parsed.status();
      return ValidationError(absl::StrCat("ExpressionAttributeValues contains invalid value: ",
                                          parsed.status().message()));
    }
    context.values = *std::move(parsed);
  }
  return context;
}

absl::StatusOr<std::string> ReturnValuesOf(const json& request,
                                           const std::vector<std::string>& allowed) {
  absl::StatusOr<std::optional<std::string>> value = OptionalString(request, "ReturnValues");
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::string("NONE");
  for (const std::string& a : allowed) {
    if (a == **value) return a;
  }
  return ValidationError("Return values set to invalid value");
}

absl::StatusOr<std::optional<int64_t>> LimitOf(const json& request) {
  auto it = request.find("Limit");
  if (it == request.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return SerializationError("Limit must be an integer");
  const int64_t limit = it->get<int64_t>();
  if (limit < 1) {
    return ValidationError(absl::StrCat("1 validation error detected: Value '", limit,
                                        "' at 'limit' failed to satisfy constraint: Member must "
                                        "have value greater than or equal to 1"));
  }
  return std::optional<int64_t>(limit);
}

absl::Status RefuseUnsupported(const json& request, const std::vector<const char*>& fields) {
  for (const char* field : fields) {
    if (request.contains(field) && !request[field].is_null()) {
      return ValidationError(absl::StrCat(field, " is not supported by ekv yet"));
    }
  }
  return absl::OkStatus();
}

Task<absl::StatusOr<TableSchema>> TableOf(const json& request, TableStore* store) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) co_return s;
  const std::string name = request["TableName"].get<std::string>();
  absl::StatusOr<TableSchema> schema = co_await store->GetTable(name);
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    // Item operations on a missing table answer with DynamoDB's shorter message.
    co_return ResourceNotFound("Requested resource not found");
  }
  co_return schema;
}

Task<absl::StatusOr<TableSchema>> TableNamed(const std::string& name, TableStore* store) {
  const json request = {{"TableName", name}};
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  co_return schema;
}

absl::StatusOr<std::optional<std::vector<Path>>> ProjectionOf(const json& request,
                                                              ExpressionContext* context) {
  using Result = std::optional<std::vector<Path>>;
  absl::StatusOr<std::optional<std::string>> text = OptionalString(request, "ProjectionExpression");
  if (!text.ok()) return text.status();
  auto legacy = request.find("AttributesToGet");
  const bool has_legacy = legacy != request.end() && !legacy->is_null();
  if (text->has_value() && has_legacy) {
    return ValidationError(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}");
  }
  std::vector<Path> paths;
  if (text->has_value()) {
    absl::StatusOr<std::vector<Path>> parsed = ParseProjection(**text, context);
    if (!parsed.ok()) return parsed.status();
    paths = *std::move(parsed);
  } else if (has_legacy) {
    if (!legacy->is_array()) return SerializationError("AttributesToGet must be a list");
    if (legacy->empty()) {
      return ValidationError(
          "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
          "constraint: Member must have length greater than or equal to 1");
    }
    std::set<std::string> seen;
    for (const json& name : *legacy) {
      if (!name.is_string()) return SerializationError("AttributesToGet must hold strings");
      if (absl::Status s = CheckAttributeName(name.get<std::string>()); !s.ok()) return s;
      if (!seen.insert(name.get<std::string>()).second) {
        return InvalidParameter(
            absl::StrCat("Duplicate value in attribute name: ", name.get<std::string>()));
      }
      paths.push_back(Path{PathElement{name.get<std::string>(), -1}});
    }
  } else {
    return Result();
  }
  if (absl::Status s = CheckProjectionPaths(paths); !s.ok()) return s;
  return Result(std::move(paths));
}

absl::Status CheckItemSize(const AttributeMap& item) {
  if (ItemSize(item) > kMaxItemBytes) {
    return ValidationError("Item size has exceeded the maximum allowed size");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Condition>> ConditionOf(const json& request, const char* field,
                                                     ExpressionContext* context) {
  absl::StatusOr<std::optional<std::string>> text = OptionalString(request, field);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return std::optional<Condition>();
  absl::StatusOr<Condition> condition = ParseCondition(**text, field, context);
  if (!condition.ok()) return condition.status();
  return std::optional<Condition>(*std::move(condition));
}

}  // namespace ekv::dynamo
