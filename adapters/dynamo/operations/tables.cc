// Table operations: CreateTable, DescribeTable, ListTables, DeleteTable. CreateTable answers
// TableStatus CREATING, as DynamoDB does (clients then wait for ACTIVE with DescribeTable,
// the SDKs' table-exists waiters); the table's key space is placed before CreateTable
// answers, so DescribeTable already says ACTIVE and waiters return on their first poll.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/request_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {
constexpr int64_t kMaxListTablesLimit = 100;
}  // namespace

Task<absl::StatusOr<json>> CreateTableOperation(const json& request, TableStore* store) {
  // {"StreamEnabled": false} (what infrastructure tools send) is a table without a stream,
  // which every ekv table is; a stream itself is refused.
  const auto stream = request.find("StreamSpecification");
  const bool stream_off =
      stream != request.end() && stream->is_object() && stream->contains("StreamEnabled") &&
      (*stream)["StreamEnabled"].is_boolean() && !(*stream)["StreamEnabled"].get<bool>();
  if (!stream_off) {
    if (absl::Status s = RefuseUnsupported(request, {"StreamSpecification"}); !s.ok()) {
      co_return s;
    }
  }
  absl::StatusOr<TableSchema> schema = SchemaFromCreateTable(request);
  if (!schema.ok()) co_return schema.status();
  if (absl::Status s = co_await store->CreateTable(&*schema); !s.ok()) co_return s;
  co_return json{{"TableDescription", DescribeTable(*schema, "CREATING")}};
}

Task<absl::StatusOr<json>> DescribeTableOperation(const json& request, TableStore* store) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) co_return s;
  absl::StatusOr<TableSchema> schema =
      co_await store->GetTable(request["TableName"].get<std::string>());
  if (!schema.ok()) co_return schema.status();
  absl::StatusOr<std::optional<TableStats>> stats = co_await store->GetTableStats(schema->id);
  if (!stats.ok()) co_return stats.status();
  co_return json{
      {"Table", DescribeTable(*schema, "ACTIVE", stats->has_value() ? &**stats : nullptr)}};
}

Task<absl::StatusOr<json>> ListTablesOperation(const json& request, TableStore* store) {
  absl::StatusOr<std::optional<int64_t>> limit = LimitOf(request);
  if (!limit.ok()) co_return limit.status();
  if (limit->has_value() && **limit > kMaxListTablesLimit) {
    co_return ValidationError(absl::StrCat("1 validation error detected: Value '", **limit,
                                           "' at 'limit' failed to satisfy constraint: Member must "
                                           "have value less than or equal to 100"));
  }
  absl::StatusOr<std::optional<std::string>> start =
      OptionalString(request, "ExclusiveStartTableName");
  if (!start.ok()) co_return start.status();
  bool more = false;
  absl::StatusOr<std::vector<std::string>> names =
      co_await store->ListTables(start->value_or(""), limit->value_or(kMaxListTablesLimit), &more);
  if (!names.ok()) co_return names.status();
  json reply = {{"TableNames", *names}};
  if (more && !names->empty()) reply["LastEvaluatedTableName"] = names->back();
  co_return reply;
}

Task<absl::StatusOr<json>> DeleteTableOperation(const json& request, TableStore* store) {
  if (absl::Status s = ValidateTableName(request); !s.ok()) co_return s;
  absl::StatusOr<TableSchema> schema =
      co_await store->DeleteTable(request["TableName"].get<std::string>());
  if (!schema.ok()) co_return schema.status();
  // DynamoDB's DeleteTable describes the table without its creation time, key schema,
  // attribute definitions and indexes.
  json description = DescribeTable(*schema, "DELETING");
  for (const char* field : {"CreationDateTime", "KeySchema", "AttributeDefinitions",
                            "GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    description.erase(field);
  }
  co_return json{{"TableDescription", std::move(description)}};
}

}  // namespace ekv::dynamo
