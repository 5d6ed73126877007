// Secondary indexes at read time. ekv stores no copy of an index: Query and Scan with
// IndexName read the base table's items and keep those that are in the index (the item has
// the index's key attributes, of their defined types: indexes are sparse), ordered by the
// index key and then the base key, projected as the index projects them. An index is
// therefore always as current as its base items -- maintained "atomically with the base
// item" by construction, and a new GSI needs no backfill -- at the price of reading the
// whole table per page (bounded by kMaxIndexedItems).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "adapters/dynamo/expression.h"
#include "adapters/dynamo/table_schema.h"
#include "adapters/dynamo/table_store.h"

namespace ekv::dynamo {

// The most base items one index read considers; a larger table is a ValidationException.
inline constexpr size_t kMaxIndexedItems = 100000;

// The request's IndexName (nullptr when absent), or DynamoDB's error for an unknown name.
absl::StatusOr<const SecondaryIndex*> IndexOf(const nlohmann::json& request,
                                              const TableSchema& schema);

// The index's key as a schema (for KeyConditionExpression's checks).
TableSchema IndexKeySchema(const TableSchema& base, const SecondaryIndex& index);

// The item's place in the index (index key, then base key: storage-key encodings), or
// nullopt when the item is not in the index.
std::optional<std::string> IndexOrderKey(const TableSchema& base, const SecondaryIndex& index,
                                         const AttributeMap& item);

// The item as the index holds it: base and index keys, plus what the projection adds.
AttributeMap ProjectIntoIndex(const TableSchema& base, const SecondaryIndex& index,
                              const AttributeMap& item);
// Base and index key attributes (an index read's LastEvaluatedKey).
AttributeMap IndexKeyAttributes(const TableSchema& base, const SecondaryIndex& index,
                                const AttributeMap& item);

struct IndexRead {
  const SecondaryIndex* index = nullptr;
  std::optional<Condition> key_condition;  // Query
  std::string base_start, base_end;        // Scan segment: base keys in [start, end)
  bool forward = true;
  std::optional<AttributeMap> exclusive_start;  // ExclusiveStartKey
};

// The index entries after ExclusiveStartKey that the key condition selects, in index order,
// each with its full base item; at most `limit` entries or max_bytes of items. *more: entries
// remain after the page.
absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>> ReadIndexPage(
    TableStore* store, const TableSchema& base, const IndexRead& read, size_t limit,
    size_t max_bytes, bool* more);

}  // namespace ekv::dynamo
