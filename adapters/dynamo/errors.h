// DynamoDB errors as absl::Status values. Every layer of adapters/dynamo returns plain
// statuses; the DynamoDB error name ("ValidationException", ...) rides along as a status
// payload, and the server turns it into DynamoDB's wire shape (HTTP 400/500 and
// {"__type": "com.amazonaws.dynamodb.v20120810#<Name>", "message": ...}).
// A status without a name is the store's own error: retryable ones (no leader yet,
// deadline, overloaded) answer 500 InternalServerError, which SDKs retry; others 500 too.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ekv::dynamo {

// Builds a status carrying DynamoDB error `name`. Client errors use kInvalidArgument
// (or a more precise code), so they answer HTTP 400.
absl::Status DynamoError(absl::StatusCode code, absl::string_view name, absl::string_view message);

absl::Status ValidationError(absl::string_view message);
absl::Status ResourceNotFound(absl::string_view message);
absl::Status ResourceInUse(absl::string_view message);
absl::Status ConditionalCheckFailed();
absl::Status SerializationError(absl::string_view message);

// Extra top-level fields of the error's reply body, as the text of a JSON object (e.g.
// {"Item": ...} for ConditionalCheckFailedException with ReturnValuesOnConditionCheckFailure,
// {"CancellationReasons": [...]} for TransactionCanceledException).
absl::Status WithErrorFields(absl::Status status, std::string json_object_text);

// "One or more parameter values were invalid: " + detail, DynamoDB's usual prefix.
absl::Status InvalidParameter(absl::string_view detail);
// The node has --dynamo_max_inflight requests in progress: DynamoDB's throttling errors, which
// every SDK retries with backoff -- ProvisionedThroughputExceededException for an item
// operation (GetItem ... TransactWriteItems), ThrottlingException for the others.
absl::Status NodeOverloaded(absl::string_view operation);

// The wire form of an error.
struct WireError {
  int http_status = 500;
  std::string type;  // full __type, e.g. "com.amazonaws.dynamodb.v20120810#ValidationException"
  std::string message;
  std::string extra_fields;  // JSON object text, or empty
};
WireError ToWireError(const absl::Status& status);

// The error name carried by `status`, or "" (tests use it).
std::string ErrorName(const absl::Status& status);

}  // namespace ekv::dynamo
