// ReturnConsumedCapacity: what an operation would have consumed in DynamoDB's capacity
// units, reported in DynamoDB's shapes. ekv does not meter or throttle by capacity; the
// numbers follow DynamoDB's documented rounding so that clients that log or budget by them
// see realistic values: a read is one unit per 4 KB started (half for an eventually
// consistent read), a write one unit per 1 KB started, at least one unit per item touched.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "adapters/dynamo/attribute_value.h"
#include "adapters/dynamo/table_schema.h"

namespace ekv::dynamo {

// NONE (default), TOTAL or INDEXES; anything else is DynamoDB's enum ValidationException.
absl::StatusOr<std::string> ReturnConsumedCapacityOf(const nlohmann::json& request);

// ReturnItemCollectionMetrics: NONE (default) or SIZE; anything else is DynamoDB's enum
// ValidationException.
absl::StatusOr<std::string> ReturnItemCollectionMetricsOf(const nlohmann::json& request);

double ReadUnits(size_t item_bytes, bool consistent);
double WriteUnits(size_t item_bytes);

// One table's ConsumedCapacity object for `mode` TOTAL or INDEXES (callers skip NONE),
// all of `units` on the table itself.
nlohmann::json ConsumedCapacityJson(const std::string& table, double units,
                                    const std::string& mode);

// What one request consumed on a table and on each of its indexes: TOTAL reports the sum,
// INDEXES also the Table / LocalSecondaryIndexes / GlobalSecondaryIndexes breakdown.
struct CapacityUse {
  double table = 0;
  std::map<std::string, double> local_indexes;   // by index name
  std::map<std::string, double> global_indexes;  // by index name
  double Total() const;
  // Units read through `index` (a Query or Scan with IndexName).
  void AddIndexRead(const SecondaryIndex& index, double units);
};
nlohmann::json ConsumedCapacityJson(const std::string& table, const CapacityUse& use,
                                    const std::string& mode);

// The index writes of one item write, metered as DynamoDB documents: per index, nothing
// when the item is in the index neither before nor after (or its entry is unchanged); one
// write of the entry's size when it is added, removed or rewritten under the same index
// key; two (the old entry deleted, the new one put) when its index key changes. `base_key`
// is the item's storage key.
void AddIndexWriteUnits(const TableSchema& schema, const std::string& base_key,
                        const std::optional<AttributeMap>& old_item,
                        const std::optional<AttributeMap>& new_item, CapacityUse* use);

// ReturnItemCollectionMetrics SIZE of a write to a table with local secondary indexes: the
// item's collection (its partition key) and DynamoDB's size estimate range. ekv does not
// bound a collection's size (DynamoDB: 10 GB), so the estimate is its smallest, 0-1 GB.
// nullopt when the table has no local index or `item` is absent.
std::optional<nlohmann::json> ItemCollectionMetricsJson(const TableSchema& schema,
                                                        const std::optional<AttributeMap>& item);

}  // namespace ekv::dynamo
