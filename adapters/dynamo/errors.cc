#include "adapters/dynamo/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace ekv::dynamo {
namespace {

constexpr absl::string_view kNamePayload = "ekv.dynamo/error-name";
constexpr absl::string_view kFieldsPayload = "ekv.dynamo/error-fields";
constexpr absl::string_view kServicePrefix = "com.amazonaws.dynamodb.v20120810#";
// Errors DynamoDB raises in its request-routing layer (Coral) before any operation runs
// carry Coral's namespace, and SDKs only read the part after '#'.
constexpr absl::string_view kCoralPrefix = "com.amazon.coral.service#";

}  // namespace

absl::Status DynamoError(absl::StatusCode code, absl::string_view name, absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kNamePayload, absl::Cord(name));
  return status;
}

absl::Status ValidationError(absl::string_view message) {
  return DynamoError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

absl::Status InvalidParameter(absl::string_view detail) {
  return ValidationError(absl::StrCat("One or more parameter values were invalid: ", detail));
}

absl::Status NodeOverloaded(absl::string_view operation) {
  static constexpr absl::string_view kItemOperations[] = {
      "GetItem", "PutItem",      "UpdateItem",     "DeleteItem",       "Query",
      "Scan",    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems"};
  for (absl::string_view item_operation : kItemOperations) {
    if (operation != item_operation) continue;
    return DynamoError(absl::StatusCode::kResourceExhausted,
                       "ProvisionedThroughputExceededException",
                       "The level of configured provisioned throughput for the table was "
                       "exceeded. Consider increasing your provisioning level with the "
                       "UpdateTable API.");
  }
  return DynamoError(absl::StatusCode::kResourceExhausted, "ThrottlingException",
                     "Rate of requests exceeds the allowed throughput.");
}

absl::Status ResourceNotFound(absl::string_view message) {
  return DynamoError(absl::StatusCode::kNotFound, "ResourceNotFoundException", message);
}

absl::Status ResourceInUse(absl::string_view message) {
  return DynamoError(absl::StatusCode::kAlreadyExists, "ResourceInUseException", message);
}

absl::Status ConditionalCheckFailed() {
  return DynamoError(absl::StatusCode::kFailedPrecondition, "ConditionalCheckFailedException",
                     "The conditional request failed");
}

absl::Status SerializationError(absl::string_view message) {
  return DynamoError(absl::StatusCode::kInvalidArgument, "SerializationException", message);
}

absl::Status WithErrorFields(absl::Status status, std::string json_object_text) {
  status.SetPayload(kFieldsPayload, absl::Cord(std::move(json_object_text)));
  return status;
}

std::string ErrorName(const absl::Status& status) {
  auto name = status.GetPayload(kNamePayload);
  return name.has_value() ? std::string(*name) : std::string();
}

WireError ToWireError(const absl::Status& status) {
  WireError wire;
  std::string name = ErrorName(status);
  if (name.empty()) {
    // The store's own failure (no leader, deadline, overload): a server error, which
    // SDKs retry with backoff.
    wire.http_status = 500;
    wire.type = absl::StrCat(kServicePrefix, "InternalServerError");
    wire.message = absl::StrCat("Internal server error: ", status.message());
    return wire;
  }
  const bool coral = name == "UnknownOperationException" || name == "SerializationException" ||
                     name == "MissingAuthenticationTokenException";
  wire.http_status = status.code() == absl::StatusCode::kInternal ? 500 : 400;
  wire.type = absl::StrCat(coral ? kCoralPrefix : kServicePrefix, name);
  wire.message = std::string(status.message());
  if (auto fields = status.GetPayload(kFieldsPayload); fields.has_value()) {
    wire.extra_fields = std::string(*fields);
  }
  return wire;
}

}  // namespace ekv::dynamo
