// BatchWriteItem and BatchGetItem. As in DynamoDB, a batch is many independent single-item
// operations, not a transaction: each put or delete is atomic on its own, and a request
// that the store could not carry out (no leader, deadline, overload) is handed back in
// UnprocessedItems / UnprocessedKeys for the client to resend (SDKs' batch helpers do),
// rather than failing the requests that did succeed. Only when nothing at all succeeded is
// the store's error the answer (HTTP 500, which SDKs retry).
//
// Everything the client can get wrong is checked before anything is written: unknown
// tables, bad keys, duplicate keys, oversized items and limits refuse the whole batch.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/capacity.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/projection.h"
#include "adapters/dynamo/request_fields.h"
#include "adapters/dynamo/secondary_index.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

constexpr size_t kMaxBatchWriteRequests = 25;
constexpr size_t kMaxBatchGetKeys = 100;
// DynamoDB's BatchGetItem answers at most 16 MB of items; the rest are UnprocessedKeys.
constexpr size_t kMaxBatchGetResponseBytes = 16 * 1024 * 1024;

absl::Status DuplicateKeys() {
  return ValidationError("Provided list of item keys contains duplicates");
}

// RequestItems: a non-empty map of table name to the table's part of the batch.
absl::StatusOr<const json*> RequestItemsOf(const json& request, const char* empty_message) {
  auto it = request.find("RequestItems");
  if (it == request.end() || it->is_null()) return ValidationError(empty_message);
  if (!it->is_object()) return SerializationError("RequestItems must be a map");
  if (it->empty()) return ValidationError(empty_message);
  return &*it;
}

struct WriteStep {
  std::string key;
  std::optional<AttributeMap> item;  // nullopt: delete
  const json* original = nullptr;    // the client's WriteRequest, for UnprocessedItems
};

struct TableWrites {
  std::string table;
  TableSchema schema;
  std::vector<WriteStep> steps;
};

absl::StatusOr<WriteStep> ParseWriteRequest(const json& request, const TableSchema& schema) {
  if (!request.is_object()) return SerializationError("A WriteRequest must be a structure");
  auto put = request.find("PutRequest");
  auto del = request.find("DeleteRequest");
  const bool has_put = put != request.end() && !put->is_null();
  const bool has_del = del != request.end() && !del->is_null();
  if (has_put == has_del) {
    return ValidationError(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
        "the supported datatypes");
  }
  WriteStep step;
  step.original = &request;
  if (has_put) {
    auto item_json = put->find("Item");
    if (item_json == put->end() || item_json->is_null()) {
      return ValidationError(
          "1 validation error detected: Value null at 'requestItems.member.putRequest.item' "
          "failed to satisfy constraint: Member must not be null");
    }
    absl::StatusOr<AttributeMap> item = AttributeMapFromJson(*item_json);
    if (!item.ok()) return item.status();
    if (absl::Status s = CheckItemSize(*item); !s.ok()) return s;
    absl::StatusOr<std::string> key = ItemKeyOfItem(schema, *item);
    if (!key.ok()) return key.status();
    step.key = *std::move(key);
    step.item = *std::move(item);
  } else {
    auto key_json = del->find("Key");
    if (key_json == del->end() || key_json->is_null()) {
      return ValidationError(
          "1 validation error detected: Value null at 'requestItems.member.deleteRequest.key' "
          "failed to satisfy constraint: Member must not be null");
    }
    absl::StatusOr<AttributeMap> key_attributes = AttributeMapFromJson(*key_json);
    if (!key_attributes.ok()) return key_attributes.status();
    absl::StatusOr<std::string> key = ItemKeyOfKey(schema, *key_attributes);
    if (!key.ok()) return key.status();
    step.key = *std::move(key);
  }
  return step;
}

}  // namespace

Task<absl::StatusOr<json>> BatchWriteItemOperation(const json& request, TableStore* store) {
  absl::StatusOr<const json*> request_items =
      RequestItemsOf(request, "BatchWriteItem cannot have a null or no requests set");
  if (!request_items.ok()) co_return request_items.status();
  absl::StatusOr<std::string> capacity_mode = ReturnConsumedCapacityOf(request);
  if (!capacity_mode.ok()) co_return capacity_mode.status();
  absl::StatusOr<std::string> metrics_mode = ReturnItemCollectionMetricsOf(request);
  if (!metrics_mode.ok()) co_return metrics_mode.status();
  size_t total = 0;
  for (auto it = (*request_items)->begin(); it != (*request_items)->end(); ++it) {
    if (!it.value().is_array()) co_return SerializationError("RequestItems values must be lists");
    if (it.value().empty()) {
      co_return ValidationError(absl::StrCat(
          "The batch write request list for a table cannot be null or empty: ", it.key()));
    }
    if (it.value().size() > kMaxBatchWriteRequests) {
      // DynamoDB checks each table's list against the model's length constraint first, in
      // its generic constraint wording (its Value is Java's rendering of the map; we give
      // the table's name, the part a reader can act on).
      co_return ValidationError(absl::StrCat(
          "1 validation error detected: Value '{", it.key(),
          "=[...]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy "
          "constraint: [Member must have length less than or equal to 25, Member must have "
          "length greater than or equal to 1]"));
    }
    total += it.value().size();
  }
  if (total > kMaxBatchWriteRequests) {
    // Every table's list is within 25, but together they are not: the operation's own limit.
    co_return ValidationError("Too many items requested for the BatchWriteItem call");
  }
  std::vector<TableWrites> plan;
  for (auto it = (*request_items)->begin(); it != (*request_items)->end(); ++it) {
    absl::StatusOr<TableSchema> schema = co_await TableNamed(it.key(), store);
    if (!schema.ok()) co_return schema.status();
    TableWrites writes{it.key(), *schema, {}};
    std::set<std::string> keys;
    for (const json& write_request : it.value()) {
      absl::StatusOr<WriteStep> step = ParseWriteRequest(write_request, *schema);
      if (!step.ok()) co_return step.status();
      if (!keys.insert(step->key).second) co_return DuplicateKeys();
      if (step->item.has_value()) {
        // A mistyped index key refuses the whole batch before anything is written.
        absl::StatusOr<std::vector<IndexEntryWrite>> entries =
            IndexWrites(*schema, step->key, std::nullopt, *step->item, IndexKeyCheck::kRefuse);
        if (!entries.ok()) co_return entries.status();
      }
      writes.steps.push_back(*std::move(step));
    }
    plan.push_back(std::move(writes));
  }

  json unprocessed = json::object();
  json consumed = json::array();
  // ReturnItemCollectionMetrics SIZE: per table with local indexes, one entry per item
  // written, as DynamoDB answers.
  json collections = json::object();
  absl::Status first_error;
  size_t done = 0;
  for (const TableWrites& writes : plan) {
    CapacityUse use;
    for (const WriteStep& step : writes.steps) {
      // The old item comes back from the atomic step: it meters the write and its index
      // entries.
      const TableStore::Modify replace = [&step](const std::optional<AttributeMap>&)
          -> absl::StatusOr<std::optional<AttributeMap>> { return step.item; };
      absl::StatusOr<TableStore::ItemChange> change = co_await store->ModifyItem(
          writes.schema, step.key, replace, /*assume_absent=*/step.item.has_value());
      if (!change.ok()) {
        if (first_error.ok()) first_error = change.status();
        unprocessed[writes.table].push_back(*step.original);
        continue;
      }
      ++done;
      use.table += WriteUnits(std::max(change->old_item ? ItemSize(*change->old_item) : 0,
                                       change->new_item ? ItemSize(*change->new_item) : 0));
      AddIndexWriteUnits(writes.schema, step.key, change->old_item, change->new_item, &use);
      if (*metrics_mode == "SIZE") {
        std::optional<json> collection = ItemCollectionMetricsJson(
            writes.schema, change->new_item ? change->new_item : change->old_item);
        if (collection.has_value()) collections[writes.table].push_back(*std::move(collection));
      }
    }
    if (*capacity_mode != "NONE") {
      consumed.push_back(ConsumedCapacityJson(writes.table, use, *capacity_mode));
    }
  }
  if (done == 0) co_return first_error;
  json reply = {{"UnprocessedItems", std::move(unprocessed)}};
  if (*capacity_mode != "NONE") reply["ConsumedCapacity"] = std::move(consumed);
  if (*metrics_mode == "SIZE") reply["ItemCollectionMetrics"] = std::move(collections);
  co_return reply;
}

Task<absl::StatusOr<json>> BatchGetItemOperation(const json& request, TableStore* store) {
  absl::StatusOr<const json*> request_items =
      RequestItemsOf(request, "BatchGetItem must have some requests set");
  if (!request_items.ok()) co_return request_items.status();
  absl::StatusOr<std::string> capacity_mode = ReturnConsumedCapacityOf(request);
  if (!capacity_mode.ok()) co_return capacity_mode.status();

  struct TableReads {
    std::string table;
    const json* keys_and_attributes = nullptr;
    std::vector<std::string> keys;
    std::optional<std::vector<Path>> projection;
    bool consistent = false;
  };
  std::vector<TableReads> plan;
  size_t total = 0;
  for (auto it = (*request_items)->begin(); it != (*request_items)->end(); ++it) {
    const json& spec = it.value();
    if (!spec.is_object()) co_return SerializationError("KeysAndAttributes must be a structure");
    auto keys = spec.find("Keys");
    if (keys == spec.end() || keys->is_null()) {
      co_return ValidationError(
          absl::StrCat("1 validation error detected: Value null at "
                       "'requestItems.",
                       it.key(),
                       ".member.keys' failed to satisfy constraint: Member "
                       "must not be null"));
    }
    if (!keys->is_array()) co_return SerializationError("Keys must be a list");
    if (keys->empty()) {
      co_return ValidationError(
          absl::StrCat("The list of keys in RequestItems for BatchGetItem is required: ", it.key(),
                       " has empty list"));
    }
    if (keys->size() > kMaxBatchGetKeys) {
      co_return ValidationError(absl::StrCat(
          "1 validation error detected: Value at 'requestItems.", it.key(),
          ".member.keys' failed to satisfy constraint: Member must have length less than or "
          "equal to 100"));
    }
    total += keys->size();
  }
  if (total > kMaxBatchGetKeys) {
    co_return ValidationError("Too many items requested for the BatchGetItem call");
  }
  for (auto it = (*request_items)->begin(); it != (*request_items)->end(); ++it) {
    const json& spec = it.value();
    absl::StatusOr<TableSchema> schema = co_await TableNamed(it.key(), store);
    if (!schema.ok()) co_return schema.status();
    TableReads reads;
    reads.table = it.key();
    reads.keys_and_attributes = &spec;
    if (auto consistent = spec.find("ConsistentRead");
        consistent != spec.end() && !consistent->is_null()) {
      if (!consistent->is_boolean())
        co_return SerializationError("ConsistentRead must be a boolean");
      reads.consistent = consistent->get<bool>();
    }
    absl::StatusOr<ExpressionContext> context = ExpressionContextOf(spec);
    if (!context.ok()) co_return context.status();
    absl::StatusOr<std::optional<std::vector<Path>>> projection = ProjectionOf(spec, &*context);
    if (!projection.ok()) co_return projection.status();
    if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
    reads.projection = *std::move(projection);
    std::set<std::string> seen;
    for (const json& key_json : spec["Keys"]) {
      absl::StatusOr<AttributeMap> key_attributes = AttributeMapFromJson(key_json);
      if (!key_attributes.ok()) co_return key_attributes.status();
      absl::StatusOr<std::string> key = ItemKeyOfKey(*schema, *key_attributes);
      if (!key.ok()) co_return key.status();
      if (!seen.insert(*key).second) co_return DuplicateKeys();
      reads.keys.push_back(*std::move(key));
    }
    plan.push_back(std::move(reads));
  }

  json responses = json::object();
  json unprocessed = json::object();
  json consumed = json::array();
  absl::Status first_error;
  size_t done = 0;
  size_t response_bytes = 0;
  for (const TableReads& reads : plan) {
    json& items = responses[reads.table] = json::array();
    json left = json::array();
    double units = 0;
    for (size_t i = 0; i < reads.keys.size(); ++i) {
      // Past the response limit the remaining keys are handed back unread.
      if (response_bytes >= kMaxBatchGetResponseBytes) {
        left.push_back((*reads.keys_and_attributes)["Keys"][i]);
        continue;
      }
      absl::StatusOr<std::optional<AttributeMap>> item = co_await store->GetItem(reads.keys[i]);
      if (!item.ok()) {
        if (first_error.ok()) first_error = item.status();
        left.push_back((*reads.keys_and_attributes)["Keys"][i]);
        continue;
      }
      ++done;
      units += ReadUnits(item->has_value() ? ItemSize(**item) : 0, reads.consistent);
      if (!item->has_value()) continue;
      response_bytes += ItemSize(**item);
      items.push_back(
          AttributeMapToJson(reads.projection ? Project(**item, *reads.projection) : **item));
    }
    if (!left.empty()) {
      json again = *reads.keys_and_attributes;
      again["Keys"] = std::move(left);
      unprocessed[reads.table] = std::move(again);
    }
    if (*capacity_mode != "NONE") {
      consumed.push_back(ConsumedCapacityJson(reads.table, units, *capacity_mode));
    }
  }
  if (done == 0 && !first_error.ok()) co_return first_error;
  json reply = {{"Responses", std::move(responses)}, {"UnprocessedKeys", std::move(unprocessed)}};
  if (*capacity_mode != "NONE") reply["ConsumedCapacity"] = std::move(consumed);
  co_return reply;
}

}  // namespace ekv::dynamo
