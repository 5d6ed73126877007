#include "adapters/dynamo/operation_table.h"

#include <exception>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

std::string Dump(const json& j) {
  // Replace, never throw, on invalid UTF-8 (none should reach here: request strings were
  // validated by the JSON parser and binaries are base64).
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

const OperationTable& OperationTable::Default() {
  static const OperationTable* table = new OperationTable({
      {"CreateTable", CreateTableOperation, "creates a table (HASH and optional RANGE key)"},
      {"DescribeTable", DescribeTableOperation, "describes a table"},
      {"ListTables", ListTablesOperation, "lists table names, paginated"},
      {"DeleteTable", DeleteTableOperation, "deletes a table and its items"},
      {"PutItem", PutItemOperation, "writes an item, optionally conditionally"},
      {"GetItem", GetItemOperation, "reads an item by key (always strongly consistent)"},
      {"DeleteItem", DeleteItemOperation, "deletes an item, optionally conditionally"},
      {"UpdateItem", UpdateItemOperation, "SET/REMOVE/ADD/DELETE on an item, atomically"},
      {"Query", QueryOperation, "items of one hash key, range-key conditions, paginated"},
      {"Scan", ScanOperation, "every item of a table, paginated (parallel segments)"},
      {"BatchWriteItem", BatchWriteItemOperation, "up to 25 puts/deletes, each atomic alone"},
      {"BatchGetItem", BatchGetItemOperation, "up to 100 items by key, 16 MB per answer"},
      {"UpdateTable", UpdateTableOperation, "changes billing mode / provisioned throughput"},
      {"TagResource", TagResourceOperation, "adds or replaces a table's tags (50 max)"},
      {"UntagResource", UntagResourceOperation, "removes tags from a table"},
      {"ListTagsOfResource", ListTagsOfResourceOperation, "a table's tags"},
      {"UpdateTimeToLive", UpdateTimeToLiveOperation, "enables/disables expiry by attribute"},
      {"DescribeTimeToLive", DescribeTimeToLiveOperation, "a table's Time to Live setting"},
      {"DescribeLimits", DescribeLimitsOperation, "DynamoDB's default capacity quotas"},
      {"DescribeContinuousBackups", DescribeContinuousBackupsOperation,
       "backups ENABLED, point-in-time recovery DISABLED (ekv has none)"},
      {"UpdateContinuousBackups", UpdateContinuousBackupsOperation,
       "disabling point-in-time recovery is accepted; enabling it is refused"},
      {"TransactWriteItems", TransactWriteItemsOperation,
       "up to 100 condition checks, puts, updates and deletes, all or nothing (serializable)"},
      {"TransactGetItems", TransactGetItemsOperation,
       "up to 100 gets read at one snapshot timestamp"},
  });
  return *table;
}

OperationTable::OperationTable(std::vector<OperationSpec> specs) {
  for (OperationSpec& spec : specs) {
    std::string name = spec.name;
    specs_.emplace(std::move(name), std::move(spec));
  }
}

const OperationSpec* OperationTable::Find(absl::string_view name) const {
  auto it = specs_.find(name);
  return it == specs_.end() ? nullptr : &it->second;
}

HttpReply ErrorReply(const absl::Status& status) {
  WireError wire = ToWireError(status);
  json body = {{"__type", wire.type}};
  // DynamoDB answers some errors (a body that is not JSON) with no message at all.
  if (!wire.message.empty()) body["message"] = wire.message;
  if (!wire.extra_fields.empty()) {
    json extra = json::parse(wire.extra_fields, nullptr, /*allow_exceptions=*/false);
    if (extra.is_object()) body.update(extra);
  }
  return HttpReply{wire.http_status, Dump(body)};
}

Task<HttpReply> OperationTable::Handle(absl::string_view target, absl::string_view body,
                                       TableStore* store) const {
  const OperationSpec* spec = nullptr;
  if (absl::StartsWith(target, kTargetPrefix)) spec = Find(target.substr(kTargetPrefix.size()));
  if (spec == nullptr) {
    co_return ErrorReply(DynamoError(absl::StatusCode::kUnimplemented, "UnknownOperationException",
                                     "An unknown operation was requested."));
  }
  json request = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    // DynamoDB's answer to a body it cannot parse: the exception's name, no message.
    co_return ErrorReply(SerializationError(""));
  }
  // nlohmann throws on a field of an unexpected JSON type that a handler did not check;
  // that is the client's malformed request, answered like DynamoDB's deserializer would.
  // (A reply cannot be co_returned from a handler: the error is kept for after it.)
  absl::Status thrown;
  try {
    absl::StatusOr<json> answer = co_await spec->handler(request, store);
    if (!answer.ok()) co_return ErrorReply(answer.status());
    // JSON null: an operation without output (TagResource), whose reply has no body.
    co_return HttpReply{200, answer->is_null() ? std::string() : Dump(*answer)};
  } catch (const json::exception& e) {
    thrown = SerializationError(e.what());
  } catch (const std::exception& e) {
    thrown = absl::InternalError(e.what());
  }
  co_return ErrorReply(thrown);
}

}  // namespace ekv::dynamo
