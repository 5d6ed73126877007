#include "adapters/dynamo/transaction_fields.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/request_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

absl::Status TransactionTooLarge() {
  return ValidationError("Transaction request size exceeds the limit of 4 MB");
}

absl::StatusOr<const json*> TransactItemsOf(const json& request) {
  auto it = request.find("TransactItems");
  if (it == request.end() || it->is_null()) {
    return ValidationError(
        "1 validation error detected: Value null at 'transactItems' failed to satisfy "
        "constraint: Member must not be null");
  }
  if (!it->is_array()) return SerializationError("TransactItems must be a list");
  if (it->empty() || it->size() > kMaxTransactItems) {
    return ValidationError(
        absl::StrCat("1 validation error detected: Value '", it->dump(),
                     "' at 'transactItems' failed to satisfy constraint: Member must have length ",
                     it->empty() ? "greater than or equal to 1" : "less than or equal to 100"));
  }
  return &*it;
}

Task<absl::StatusOr<const TableSchema*>> TransactionTable(
    const json& action, std::map<std::string, TableSchema>* schemas, TableStore* store) {
  if (absl::Status s = ValidateTableName(action); !s.ok()) co_return s;
  const std::string name = action["TableName"].get<std::string>();
  auto it = schemas->find(name);
  if (it == schemas->end()) {
    absl::StatusOr<TableSchema> schema = co_await TableNamed(name, store);
    if (!schema.ok()) co_return schema.status();
    it = schemas->emplace(name, *std::move(schema)).first;
  }
  co_return &it->second;
}

absl::StatusOr<bool> ReturnOldOnConditionFailureOf(const json& action) {
  absl::StatusOr<std::optional<std::string>> value =
      OptionalString(action, "ReturnValuesOnConditionCheckFailure");
  if (!value.ok()) return value.status();
  if (!value->has_value() || **value == "NONE") return false;
  if (**value == "ALL_OLD") return true;
  return ValidationError(absl::StrCat(
      "1 validation error detected: Value '", **value,
      "' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must "
      "satisfy enum value set: [ALL_OLD, NONE]"));
}

absl::StatusOr<bool> ConditionHolds(const std::optional<Condition>& condition,
                                    const std::optional<AttributeMap>& item) {
  if (!condition.has_value()) return true;
  static const AttributeMap* kEmpty = new AttributeMap();
  return EvaluateCondition(*condition, item ? *item : *kEmpty);
}

CancellationReason ConditionFailedReason(const std::optional<AttributeMap>& item, bool return_old) {
  CancellationReason reason{"ConditionalCheckFailed", "The conditional request failed", {}};
  if (return_old) reason.item = item;
  return reason;
}

CancellationReason TransactionConflictReason() {
  return {"TransactionConflict", "Transaction is ongoing for the item", {}};
}

absl::Status TransactionCanceled(const std::vector<CancellationReason>& reasons) {
  json list = json::array();
  std::vector<std::string> codes;
  for (const CancellationReason& reason : reasons) {
    json entry = {{"Code", reason.code}};
    if (!reason.message.empty()) entry["Message"] = reason.message;
    if (reason.item.has_value()) entry["Item"] = AttributeMapToJson(*reason.item);
    list.push_back(std::move(entry));
    codes.push_back(reason.code);
  }
  return WithErrorFields(
      DynamoError(absl::StatusCode::kAborted, "TransactionCanceledException",
                  absl::StrCat("Transaction cancelled, please refer cancellation reasons for "
                               "specific reasons [",
                               absl::StrJoin(codes, ", "), "]")),
      json{{"CancellationReasons", std::move(list)}}.dump());
}

}  // namespace ekv::dynamo
