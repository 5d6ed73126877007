// What TransactWriteItems and TransactGetItems share: the TransactItems list and its
// limits, the tables the actions name (each read once per request), and the
// TransactionCanceledException with one CancellationReason per action, in request order.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "adapters/dynamo/expression.h"
#include "adapters/dynamo/table_schema.h"
#include "adapters/dynamo/table_store.h"

namespace ekv::dynamo {

// DynamoDB's limits on one transaction: its actions, and the aggregate size of its items
// (TransactWriteItems: the items written; TransactGetItems: the items read).
inline constexpr size_t kMaxTransactItems = 100;
inline constexpr size_t kMaxTransactionBytes = 4 * 1024 * 1024;
// The refusal of a transaction over kMaxTransactionBytes (ValidationException).
absl::Status TransactionTooLarge();

// TransactItems: a list of 1..100 entries.
absl::StatusOr<const nlohmann::json*> TransactItemsOf(const nlohmann::json& request);
// The table an action names (its TableName), read once per request into `schemas`.
Task<absl::StatusOr<const TableSchema*>> TransactionTable(
    const nlohmann::json& action, std::map<std::string, TableSchema>* schemas, TableStore* store);
// ReturnValuesOnConditionCheckFailure: NONE (default) or ALL_OLD.
absl::StatusOr<bool> ReturnOldOnConditionFailureOf(const nlohmann::json& action);
// Whether `condition` (none: true) holds on `item` (absent: an empty item).
absl::StatusOr<bool> ConditionHolds(const std::optional<Condition>& condition,
                                    const std::optional<AttributeMap>& item);

struct CancellationReason {
  std::string code = "None";
  std::string message;               // empty for None
  std::optional<AttributeMap> item;  // ConditionalCheckFailed with ALL_OLD
};
CancellationReason ConditionFailedReason(const std::optional<AttributeMap>& item, bool return_old);
CancellationReason TransactionConflictReason();
// TransactionCanceledException with its CancellationReasons.
absl::Status TransactionCanceled(const std::vector<CancellationReason>& reasons);

}  // namespace ekv::dynamo
