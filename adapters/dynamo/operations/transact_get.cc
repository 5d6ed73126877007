// TransactGetItems: up to 100 Gets on items of any tables, all read at one snapshot
// timestamp from the cluster's oracle (core's MVCC snapshot reads; locks of transactions
// in the way are resolved first), so the answer is a serializable view: either all or none
// of any TransactWriteItems' writes.
#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/capacity.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/projection.h"
#include "adapters/dynamo/request_fields.h"
#include "adapters/dynamo/snapshot_restarts.h"
#include "adapters/dynamo/transaction_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

struct GetAction {
  std::string table;
  std::string key;
  std::optional<std::vector<Path>> projection;
};

Task<absl::StatusOr<GetAction>> ParseGet(const json& element, size_t index,
                                         std::map<std::string, TableSchema>* schemas,
                                         TableStore* store) {
  if (!element.is_object()) co_return SerializationError("A TransactGetItem must be a structure");
  auto get = element.find("Get");
  if (get == element.end() || get->is_null()) {
    co_return ValidationError(
        absl::StrCat("1 validation error detected: Value null at 'transactItems.", index + 1,
                     ".member.get' failed to satisfy constraint: Member must "
                     "not be null"));
  }
  if (!get->is_object()) co_return SerializationError("Get must be a structure");
  absl::StatusOr<const TableSchema*> schema = co_await TransactionTable(*get, schemas, store);
  if (!schema.ok()) co_return schema.status();
  auto key_json = get->find("Key");
  if (key_json == get->end() || key_json->is_null()) {
    co_return ValidationError(
        absl::StrCat("1 validation error detected: Value null at 'transactItems.", index + 1,
                     ".member.get.key' failed to satisfy constraint: Member "
                     "must not be null"));
  }
  absl::StatusOr<AttributeMap> attributes = AttributeMapFromJson(*key_json);
  if (!attributes.ok()) co_return attributes.status();
  absl::StatusOr<std::string> key = ItemKeyOfKey(**schema, *attributes);
  if (!key.ok()) co_return key.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(*get);
  if (!context.ok()) co_return context.status();
  absl::StatusOr<std::optional<std::vector<Path>>> projection = ProjectionOf(*get, &*context);
  if (!projection.ok()) co_return projection.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  co_return GetAction{(*schema)->name, *std::move(key), *std::move(projection)};
}

}  // namespace

Task<absl::StatusOr<json>> TransactGetItemsOperation(const json& request, TableStore* store) {
  absl::StatusOr<const json*> items = TransactItemsOf(request);
  if (!items.ok()) co_return items.status();
  absl::StatusOr<std::string> mode = ReturnConsumedCapacityOf(request);
  if (!mode.ok()) co_return mode.status();
  std::map<std::string, TableSchema> schemas;
  std::vector<GetAction> gets;
  for (size_t i = 0; i < (*items)->size(); ++i) {
    absl::StatusOr<GetAction> get = co_await ParseGet((**items)[i], i, &schemas, store);
    if (!get.ok()) co_return get.status();
    gets.push_back(*std::move(get));
  }

  // Every item at one snapshot; a ReadRestart (a write the snapshot cannot place) means
  // all of them again at a snapshot above it.
  std::vector<std::optional<AttributeMap>> read(gets.size());
  SnapshotRestarts restarts(TableStore::kMaxSnapshotRestarts);
  for (bool again = true; again;) {
    absl::StatusOr<uint64_t> ts = co_await store->SnapshotTimestamp(restarts.at_least());
    if (!ts.ok()) co_return ts.status();
    again = false;
    for (size_t i = 0; i < gets.size() && !again; ++i) {
      absl::StatusOr<std::optional<AttributeMap>> item =
          co_await store->GetItemAt(gets[i].key, *ts);
      again = restarts.Retry(item.status());
      if (again) break;
      if (!item.ok()) co_return item.status();
      read[i] = *std::move(item);
    }
  }
  json responses = json::array();
  std::map<std::string, double> units;
  size_t read_bytes = 0;
  for (size_t i = 0; i < gets.size(); ++i) {
    const GetAction& get = gets[i];
    const std::optional<AttributeMap>& item = read[i];
    read_bytes += item.has_value() ? ItemSize(*item) : 0;
    json response = json::object();
    if (item.has_value()) {
      response["Item"] =
          AttributeMapToJson(get.projection ? Project(*item, *get.projection) : *item);
    }
    responses.push_back(std::move(response));
    // A transactional read costs twice a strongly consistent one.
    units[get.table] += 2 * ReadUnits(item.has_value() ? ItemSize(*item) : 0, true);
  }
  // DynamoDB rejects the whole request when the items it read exceed 4 MB in all (it does
  // not document the error's type; ekv answers as for TransactWriteItems' 4 MB).
  if (read_bytes > kMaxTransactionBytes) co_return TransactionTooLarge();
  json reply = {{"Responses", std::move(responses)}};
  if (*mode != "NONE") {
    reply["ConsumedCapacity"] = json::array();
    for (const auto& [table, total] : units) {
      reply["ConsumedCapacity"].push_back(ConsumedCapacityJson(table, total, *mode));
    }
  }
  co_return reply;
}

}  // namespace ekv::dynamo
