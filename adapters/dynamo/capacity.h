// ReturnConsumedCapacity: what an operation would have consumed in DynamoDB's capacity
// units, reported in DynamoDB's shapes. ekv does not meter or throttle by capacity; the
// numbers follow DynamoDB's documented rounding so that clients that log or budget by them
// see realistic values: a read is one unit per 4 KB started (half for an eventually
// consistent read), a write one unit per 1 KB started, at least one unit per item touched.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"

namespace ekv::dynamo {

// NONE (default), TOTAL or INDEXES; anything else is DynamoDB's enum ValidationException.
absl::StatusOr<std::string> ReturnConsumedCapacityOf(const nlohmann::json& request);

// ReturnItemCollectionMetrics: NONE (default) or SIZE; anything else is DynamoDB's enum
// ValidationException.
absl::StatusOr<std::string> ReturnItemCollectionMetricsOf(const nlohmann::json& request);

double ReadUnits(size_t item_bytes, bool consistent);
double WriteUnits(size_t item_bytes);

// One table's ConsumedCapacity object for `mode` TOTAL or INDEXES (callers skip NONE).
nlohmann::json ConsumedCapacityJson(const std::string& table, double units,
                                    const std::string& mode);

}  // namespace ekv::dynamo
