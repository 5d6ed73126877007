// DescribeContinuousBackups and UpdateContinuousBackups. ekv has no point-in-time recovery
// (PITR). DynamoDB reports continuous backups ENABLED on every table from its creation and
// PITR DISABLED until it is turned on, and that is ekv's answer for every table. Tools that
// read it on every refresh (Terraform's aws_dynamodb_table, the AWS CLI) then work;
// enabling PITR is refused with a ValidationException (never silently accepted, as there
// would be nothing to restore from), while disabling it, a no-op, is accepted.
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/request_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

// TableName, which these operations also accept as the table's ARN
// ("arn:aws:dynamodb:<region>:<account>:table/<name>"); a missing table is DynamoDB's
// TableNotFoundException for them, not ResourceNotFoundException.
Task<absl::StatusOr<TableSchema>> BackupsTable(const json& request, TableStore* store) {
  json named = request;
  if (auto it = request.find("TableName"); it != request.end() && it->is_string()) {
    const std::string text = it->get<std::string>();
    const size_t slash = text.find(":table/");
    if (absl::StartsWith(text, "arn:aws:dynamodb:") && slash != std::string::npos) {
      named["TableName"] = text.substr(slash + 7);
    }
  }
  absl::StatusOr<TableSchema> schema = co_await TableOf(named, store);
  if (!schema.ok() && ErrorName(schema.status()) == "ResourceNotFoundException") {
    co_return DynamoError(absl::StatusCode::kNotFound, "TableNotFoundException",
                          absl::StrCat("Table not found: ", named["TableName"].get<std::string>()));
  }
  co_return schema;
}

json NoPointInTimeRecovery() {
  return json{{"ContinuousBackupsDescription",
               {{"ContinuousBackupsStatus", "ENABLED"},
                {"PointInTimeRecoveryDescription", {{"PointInTimeRecoveryStatus", "DISABLED"}}}}}};
}

}  // namespace

Task<absl::StatusOr<json>> DescribeContinuousBackupsOperation(const json& request,
                                                              TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await BackupsTable(request, store);
  if (!schema.ok()) co_return schema.status();
  co_return NoPointInTimeRecovery();
}

Task<absl::StatusOr<json>> UpdateContinuousBackupsOperation(const json& request,
                                                            TableStore* store) {
  auto spec = request.find("PointInTimeRecoverySpecification");
  if (spec == request.end() || spec->is_null()) {
    co_return ValidationError(
        "1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed "
        "to satisfy constraint: Member must not be null");
  }
  if (!spec->is_object()) {
    co_return SerializationError("PointInTimeRecoverySpecification must be a structure");
  }
  auto enabled = spec->find("PointInTimeRecoveryEnabled");
  if (enabled == spec->end() || enabled->is_null()) {
    co_return ValidationError(
        "1 validation error detected: Value null at "
        "'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy "
        "constraint: Member must not be null");
  }
  if (!enabled->is_boolean()) {
    co_return SerializationError("PointInTimeRecoveryEnabled must be a boolean");
  }
  if (auto days = spec->find("RecoveryPeriodInDays"); days != spec->end() && !days->is_null()) {
    if (!days->is_number_integer() || days->get<int64_t>() < 1 || days->get<int64_t>() > 35) {
      co_return ValidationError(
          "1 validation error detected: Value at "
          "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy "
          "constraint: Member must have value between 1 and 35");
    }
  }
  absl::StatusOr<TableSchema> schema = co_await BackupsTable(request, store);
  if (!schema.ok()) co_return schema.status();
  if (enabled->get<bool>()) {
    co_return ValidationError(
        "Point-in-time recovery is not supported by ekv: PointInTimeRecoveryEnabled must be "
        "false (ekv keeps no continuous backups to restore from)");
  }
  co_return NoPointInTimeRecovery();
}

}  // namespace ekv::dynamo
