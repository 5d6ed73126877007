// KeyConditionExpression -> the key range Query scans. The condition must be
// `hash = :v`, optionally AND one range-key condition (=, <, <=, >, >=, BETWEEN,
// begins_with); under key_codec.h's order-preserving encoding each of those is one
// contiguous range [start, end) of item keys.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "adapters/dynamo/expression.h"
#include "adapters/dynamo/table_schema.h"

namespace ekv::dynamo {

struct KeyRange {
  std::string start;  // inclusive
  std::string end;    // exclusive
};

absl::StatusOr<KeyRange> KeyConditionRange(const Condition& condition, const TableSchema& schema);

}  // namespace ekv::dynamo
