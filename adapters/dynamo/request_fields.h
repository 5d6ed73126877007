// Reading the common parameters of DynamoDB requests: optional strings, the placeholder
// maps of expressions, ReturnValues, Limit. Errors in DynamoDB's words.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "adapters/dynamo/expression.h"
#include "adapters/dynamo/table_schema.h"
#include "adapters/dynamo/table_store.h"

namespace ekv::dynamo {

// A string field, nullopt when absent; an error when present with another JSON type.
absl::StatusOr<std::optional<std::string>> OptionalString(const nlohmann::json& request,
                                                          const char* field);
// ExpressionAttributeNames and ExpressionAttributeValues.
absl::StatusOr<ExpressionContext> ExpressionContextOf(const nlohmann::json& request);
// ReturnValues, checked against the values the operation allows ("NONE" when absent).
absl::StatusOr<std::string> ReturnValuesOf(const nlohmann::json& request,
                                           const std::vector<std::string>& allowed);
// Limit (nullopt when absent), at least 1.
absl::StatusOr<std::optional<int64_t>> LimitOf(const nlohmann::json& request);
// Refuses legacy or not-yet-supported parameters that would silently change the meaning.
absl::Status RefuseUnsupported(const nlohmann::json& request,
                               const std::vector<const char*>& fields);
// The table named by TableName (validated), or ResourceNotFoundException.
Task<absl::StatusOr<TableSchema>> TableOf(const nlohmann::json& request, TableStore* store);
// The table called `name` (validated like TableName), or ResourceNotFoundException.
Task<absl::StatusOr<TableSchema>> TableNamed(const std::string& name, TableStore* store);
// What a read returns: ProjectionExpression (parsed through `context`, whose placeholders
// it uses) or the legacy AttributesToGet; nullopt when neither asks for a projection.
absl::StatusOr<std::optional<std::vector<Path>>> ProjectionOf(const nlohmann::json& request,
                                                              ExpressionContext* context);
// DynamoDB's item size limit (400 KB, names and values counted).
inline constexpr size_t kMaxItemBytes = 400 * 1024;
absl::Status CheckItemSize(const AttributeMap& item);
// The optional ConditionExpression, parsed.
absl::StatusOr<std::optional<Condition>> ConditionOf(const nlohmann::json& request,
                                                     const char* field, ExpressionContext* context);

}  // namespace ekv::dynamo
