// Item operations: PutItem, GetItem, DeleteItem, UpdateItem. Every write runs as
// TableStore::ModifyItem (an atomic read-modify-write of the item and its index entries).
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/capacity.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/legacy_parameters.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/projection.h"
#include "adapters/dynamo/request_fields.h"
#include "adapters/dynamo/transaction_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

absl::StatusOr<AttributeMap> MapField(const json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end()) {
    return ValidationError(absl::StrCat("1 validation error detected: Value null at '",
                                        field == std::string("Item") ? "item" : "key",
                                        "' failed to satisfy constraint: Member must not be null"));
  }
  return AttributeMapFromJson(*it);
}

// The request's "Key": its attributes and the item key they encode.
struct RequestKey {
  AttributeMap attributes;
  std::string key;
};

absl::StatusOr<RequestKey> KeyOf(const json& request, const TableSchema& schema) {
  absl::StatusOr<AttributeMap> attributes = MapField(request, "Key");
  if (!attributes.ok()) return attributes.status();
  absl::StatusOr<std::string> key = ItemKeyOfKey(schema, *attributes);
  if (!key.ok()) return key.status();
  return RequestKey{*std::move(attributes), *std::move(key)};
}

// PutItem's and DeleteItem's reply: the old item when ReturnValues asked for ALL_OLD.
json AllOldReply(const std::string& return_values, const TableStore::ItemChange& change) {
  json reply = json::object();
  if (return_values == "ALL_OLD" && change.old_item.has_value()) {
    reply["Attributes"] = AttributeMapToJson(*change.old_item);
  }
  return reply;
}

// ReturnConsumedCapacity and ReturnItemCollectionMetrics of a single-item write, checked
// before the write (their values are used after it).
absl::Status CheckWriteReturnFields(const json& request) {
  if (absl::StatusOr<std::string> mode = ReturnConsumedCapacityOf(request); !mode.ok()) {
    return mode.status();
  }
  return ReturnItemCollectionMetricsOf(request).status();
}

// ReturnConsumedCapacity of a single-item write: DynamoDB meters the larger of the old and
// the new item on the table, plus each index entry the write changed (capacity.h).
// ReturnItemCollectionMetrics SIZE: on a table with local secondary indexes, the item's
// collection (capacity.h, ItemCollectionMetricsJson).
absl::StatusOr<json> WithWriteCapacity(const json& request, json reply, const TableSchema& schema,
                                       const std::string& key,
                                       const TableStore::ItemChange& change) {
  absl::StatusOr<std::string> metrics = ReturnItemCollectionMetricsOf(request);
  if (!metrics.ok()) return metrics.status();
  if (*metrics == "SIZE") {
    std::optional<json> collection =
        ItemCollectionMetricsJson(schema, change.new_item ? change.new_item : change.old_item);
    if (collection.has_value()) reply["ItemCollectionMetrics"] = *std::move(collection);
  }
  absl::StatusOr<std::string> mode = ReturnConsumedCapacityOf(request);
  if (!mode.ok()) return mode.status();
  if (*mode == "NONE") return reply;
  CapacityUse use;
  use.table = WriteUnits(std::max(change.old_item ? ItemSize(*change.old_item) : 0,
                                  change.new_item ? ItemSize(*change.new_item) : 0));
  AddIndexWriteUnits(schema, key, change.old_item, change.new_item, &use);
  reply["ConsumedCapacity"] = ConsumedCapacityJson(schema.name, use, *mode);
  return reply;
}

// A failed condition is ConditionalCheckFailedException (carrying the item when
// ReturnValuesOnConditionCheckFailure is ALL_OLD); evaluation errors pass through.
absl::Status Check(const std::optional<Condition>& condition,
                   const std::optional<AttributeMap>& current, bool return_old_on_failure) {
  if (!condition.has_value()) return absl::OkStatus();
  static const AttributeMap kEmpty;
  absl::StatusOr<bool> holds = EvaluateCondition(*condition, current ? *current : kEmpty);
  if (!holds.ok()) return holds.status();
  if (*holds) return absl::OkStatus();
  if (!return_old_on_failure || !current.has_value()) return ConditionalCheckFailed();
  return WithErrorFields(ConditionalCheckFailed(),
                         json{{"Item", AttributeMapToJson(*current)}}.dump());
}

// What UPDATED_OLD / UPDATED_NEW return: the parts of `item` at the update's paths (a
// nested path returns only that member, inside its parents).
AttributeMap Touched(const std::vector<UpdateAction>& actions, const AttributeMap& item) {
  std::vector<Path> paths;
  for (const UpdateAction& action : actions) paths.push_back(action.path);
  return Project(item, paths);
}

// DynamoDB does not create an absent item for an update that only removes attributes.
bool OnlyRemoves(const std::vector<UpdateAction>& actions) {
  if (actions.empty()) return false;
  for (const UpdateAction& action : actions) {
    if (action.kind != UpdateAction::Kind::kRemove && action.kind != UpdateAction::Kind::kDelete) {
      return false;
    }
  }
  return true;
}

}  // namespace

Task<absl::StatusOr<json>> PutItemOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  if (!schema.ok()) co_return schema.status();
  absl::StatusOr<AttributeMap> item = MapField(request, "Item");
  if (!item.ok()) co_return item.status();
  if (absl::Status s = CheckItemSize(*item); !s.ok()) co_return s;
  absl::StatusOr<std::string> key = ItemKeyOfItem(*schema, *item);
  if (!key.ok()) co_return key.status();
  absl::StatusOr<std::string> return_values = ReturnValuesOf(request, {"NONE", "ALL_OLD"});
  if (!return_values.ok()) co_return return_values.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) co_return context.status();
  absl::StatusOr<std::optional<Condition>> condition =
      LegacyConditionOf(request, "Expected", "ConditionExpression");
  if (!condition.ok()) co_return condition.status();
  if (!condition->has_value()) condition = ConditionOf(request, "ConditionExpression", &*context);
  if (!condition.ok()) co_return condition.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  absl::StatusOr<bool> return_old = ReturnOldOnConditionFailureOf(request);
  if (!return_old.ok()) co_return return_old.status();
  // Checked before the write, used after it.
  if (absl::Status s = CheckWriteReturnFields(request); !s.ok()) co_return s;

  absl::StatusOr<TableStore::ItemChange> change = co_await store->ModifyItem(
      *schema, *key,
      [&](const std::optional<AttributeMap>& current)
          -> absl::StatusOr<std::optional<AttributeMap>> {
        if (absl::Status s = Check(*condition, current, *return_old); !s.ok()) return s;
        return std::optional<AttributeMap>(*item);
      },
      /*assume_absent=*/true);
  if (!change.ok()) co_return change.status();
  co_return WithWriteCapacity(request, AllOldReply(*return_values, *change), *schema, *key,
                              *change);
}

Task<absl::StatusOr<json>> GetItemOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  if (!schema.ok()) co_return schema.status();
  absl::StatusOr<RequestKey> key = KeyOf(request, *schema);
  if (!key.ok()) co_return key.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) co_return context.status();
  absl::StatusOr<std::optional<std::vector<Path>>> projection = ProjectionOf(request, &*context);
  if (!projection.ok()) co_return projection.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  absl::StatusOr<std::string> capacity_mode = ReturnConsumedCapacityOf(request);
  if (!capacity_mode.ok()) co_return capacity_mode.status();
  bool consistent = false;
  if (auto it = request.find("ConsistentRead"); it != request.end() && !it->is_null()) {
    if (!it->is_boolean()) co_return SerializationError("ConsistentRead must be a boolean");
    consistent = it->get<bool>();
  }
  // Every ekv read is linearizable, whatever ConsistentRead says; it only changes the
  // capacity reported.
  absl::StatusOr<std::optional<AttributeMap>> item = co_await store->GetItem(key->key);
  if (!item.ok()) co_return item.status();
  json reply = json::object();
  if (item->has_value()) {
    reply["Item"] = AttributeMapToJson(*projection ? Project(**item, **projection) : **item);
  }
  if (*capacity_mode != "NONE") {
    reply["ConsumedCapacity"] = ConsumedCapacityJson(
        schema->name, ReadUnits(item->has_value() ? ItemSize(**item) : 0, consistent),
        *capacity_mode);
  }
  co_return reply;
}

Task<absl::StatusOr<json>> DeleteItemOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  if (!schema.ok()) co_return schema.status();
  absl::StatusOr<RequestKey> key = KeyOf(request, *schema);
  if (!key.ok()) co_return key.status();
  absl::StatusOr<std::string> return_values = ReturnValuesOf(request, {"NONE", "ALL_OLD"});
  if (!return_values.ok()) co_return return_values.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) co_return context.status();
  absl::StatusOr<std::optional<Condition>> condition =
      LegacyConditionOf(request, "Expected", "ConditionExpression");
  if (!condition.ok()) co_return condition.status();
  if (!condition->has_value()) condition = ConditionOf(request, "ConditionExpression", &*context);
  if (!condition.ok()) co_return condition.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  absl::StatusOr<bool> return_old = ReturnOldOnConditionFailureOf(request);
  if (!return_old.ok()) co_return return_old.status();
  // Checked before the write, used after it.
  if (absl::Status s = CheckWriteReturnFields(request); !s.ok()) co_return s;

  absl::StatusOr<TableStore::ItemChange> change = co_await store->ModifyItem(
      *schema, key->key,
      [&](const std::optional<AttributeMap>& current)
          -> absl::StatusOr<std::optional<AttributeMap>> {
        if (absl::Status s = Check(*condition, current, *return_old); !s.ok()) return s;
        return std::optional<AttributeMap>();
      });
  if (!change.ok()) co_return change.status();
  co_return WithWriteCapacity(request, AllOldReply(*return_values, *change), *schema, key->key,
                              *change);
}

Task<absl::StatusOr<json>> UpdateItemOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  if (!schema.ok()) co_return schema.status();
  absl::StatusOr<RequestKey> key = KeyOf(request, *schema);
  if (!key.ok()) co_return key.status();
  absl::StatusOr<std::string> return_values =
      ReturnValuesOf(request, {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"});
  if (!return_values.ok()) co_return return_values.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) co_return context.status();
  std::vector<UpdateAction> actions;
  absl::StatusOr<std::optional<std::string>> update_text =
      OptionalString(request, "UpdateExpression");
  if (!update_text.ok()) co_return update_text.status();
  absl::StatusOr<std::optional<std::vector<UpdateAction>>> legacy = LegacyUpdatesOf(request);
  if (!legacy.ok()) co_return legacy.status();
  if (legacy->has_value()) {
    actions = **std::move(legacy);
  } else if (update_text->has_value()) {
    absl::StatusOr<std::vector<UpdateAction>> parsed = ParseUpdate(**update_text, &*context);
    if (!parsed.ok()) co_return parsed.status();
    actions = *std::move(parsed);
  }
  absl::StatusOr<std::optional<Condition>> condition =
      LegacyConditionOf(request, "Expected", "ConditionExpression");
  if (!condition.ok()) co_return condition.status();
  if (!condition->has_value()) condition = ConditionOf(request, "ConditionExpression", &*context);
  if (!condition.ok()) co_return condition.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  absl::StatusOr<bool> return_old = ReturnOldOnConditionFailureOf(request);
  if (!return_old.ok()) co_return return_old.status();
  // Checked before the write, used after it.
  if (absl::Status s = CheckWriteReturnFields(request); !s.ok()) co_return s;
  std::set<std::string> key_names = {schema->hash.name};
  if (schema->range) key_names.insert(schema->range->name);

  absl::StatusOr<TableStore::ItemChange> change = co_await store->ModifyItem(
      *schema, key->key,
      [&](const std::optional<AttributeMap>& current)
          -> absl::StatusOr<std::optional<AttributeMap>> {
        if (absl::Status s = Check(*condition, current, *return_old); !s.ok()) return s;
        // An absent item is created from its key, as DynamoDB's UpdateItem does.
        absl::StatusOr<AttributeMap> next =
            ApplyUpdate(actions, current ? *current : key->attributes, key_names);
        if (!next.ok()) return next.status();
        if (!current.has_value() && OnlyRemoves(actions)) return std::optional<AttributeMap>();
        if (absl::Status s = CheckItemSize(*next); !s.ok()) return s;
        return std::optional<AttributeMap>(*std::move(next));
      });
  if (!change.ok()) co_return change.status();
  json reply = json::object();
  const AttributeMap empty;
  const AttributeMap& old_item = change->old_item ? *change->old_item : empty;
  const AttributeMap& new_item = change->new_item ? *change->new_item : empty;
  std::optional<AttributeMap> attributes;
  if (*return_values == "ALL_OLD" && change->old_item.has_value()) attributes = old_item;
  if (*return_values == "ALL_NEW") attributes = new_item;
  if (*return_values == "UPDATED_OLD") attributes = Touched(actions, old_item);
  if (*return_values == "UPDATED_NEW") attributes = Touched(actions, new_item);
  if (attributes.has_value() && !attributes->empty()) {
    reply["Attributes"] = AttributeMapToJson(*attributes);
  }
  co_return WithWriteCapacity(request, std::move(reply), *schema, key->key, *change);
}

}  // namespace ekv::dynamo
