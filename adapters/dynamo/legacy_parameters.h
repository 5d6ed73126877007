// DynamoDB's legacy (pre-expression) parameters, translated into the expression model so
// one evaluator serves both: Expected + ConditionalOperator (conditional writes),
// KeyConditions (Query), QueryFilter / ScanFilter + ConditionalOperator, and
// AttributeUpdates (UpdateItem). AttributesToGet is read by ProjectionOf
// (request_fields.h). Mixing a legacy parameter with an expression parameter is refused in
// DynamoDB's words.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "adapters/dynamo/expression.h"

namespace ekv::dynamo {

// `legacy_field` ("Expected", "KeyConditions", "QueryFilter", "ScanFilter") as one
// condition, its entries joined by the request's ConditionalOperator (AND when absent;
// KeyConditions always AND). nullopt when the field is absent. `expression_field` is the
// expression parameter that may not appear with it ("ConditionExpression", ...).
absl::StatusOr<std::optional<Condition>> LegacyConditionOf(const nlohmann::json& request,
                                                           const char* legacy_field,
                                                           const char* expression_field);

// AttributeUpdates as update actions (PUT -> SET, DELETE without a value -> REMOVE,
// DELETE with a set -> DELETE, ADD -> ADD); nullopt when absent.
absl::StatusOr<std::optional<std::vector<UpdateAction>>> LegacyUpdatesOf(
    const nlohmann::json& request);

}  // namespace ekv::dynamo
