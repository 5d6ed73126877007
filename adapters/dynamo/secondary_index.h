// Stored secondary indexes. Every GSI and LSI keeps one entry per base item it holds, under
// its own key prefix ItemPrefix(index.id):
//   ItemPrefix(index id) [<partition hash of the index hash key>] <index hash encoded>
//     [<index range encoded>] <base key after its table prefix>
//     -> the item as the index projects it (item_codec.h)
// The partition hash is there under the index's KeyLayout::kHashed (key_codec.h), so an
// index's partitions spread over its key space like a table's. The base key after the index
// key makes entries of equal index keys distinct; every part is prefix-free, so a Query on
// the index is one key range (key_condition.h) and reads are O(result).
//
// Entries change in the same transaction as their base item (TableStore): IndexWrites is the
// pure function from (old item, new item) to the entry puts and deletes. Indexes are sparse:
// an item without an index key attribute has no entry. A write giving an index key
// attribute the wrong type (or an empty or oversized value) is refused as DynamoDB refuses
// it; the backfill of a new index skips such items, as DynamoDB's does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "adapters/dynamo/attribute_value.h"
#include "adapters/dynamo/table_schema.h"

namespace ekv::dynamo {

// The request's IndexName (nullptr when absent), or DynamoDB's error for an unknown name.
absl::StatusOr<const SecondaryIndex*> IndexOf(const nlohmann::json& request,
                                              const TableSchema& schema);

// The index's key as a schema whose id is the index's (KeyConditionExpression's checks and
// key range, ScanSegmentRange over the entries).
TableSchema IndexKeySchema(const TableSchema& base, const SecondaryIndex& index);

// The item as the index holds it: base and index keys, plus what the projection adds.
AttributeMap ProjectIntoIndex(const TableSchema& base, const SecondaryIndex& index,
                              const AttributeMap& item);
// Whether the index holds the top-level attribute `name` of its items.
bool IndexProjects(const TableSchema& base, const SecondaryIndex& index, const std::string& name);
// Base and index key attributes (an index read's LastEvaluatedKey).
AttributeMap IndexKeyAttributes(const TableSchema& base, const SecondaryIndex& index,
                                const AttributeMap& item);

// What a mistyped, empty or oversized index key attribute does: a client write is refused
// (ValidationException); the backfill leaves the item out of the index.
enum class IndexKeyCheck { kRefuse, kSkip };

// The entry key of the item whose base key is `base_key` (a full storage key of `base`), or
// nullopt when the item is not in the index.
absl::StatusOr<std::optional<std::string>> IndexEntryKey(const TableSchema& base,
                                                         const SecondaryIndex& index,
                                                         const std::string& base_key,
                                                         const AttributeMap& item,
                                                         IndexKeyCheck check);

struct IndexEntryWrite {
  std::string key;
  std::optional<AttributeMap> entry;  // nullopt: delete the entry
};
// The entry writes that take every index of `base` from `old_item` to `new_item` (nullopt:
// absent) of one base key, in index order. An entry that would not change is not written
// unless `rewrite_unchanged` (a repair that cannot know what is stored).
absl::StatusOr<std::vector<IndexEntryWrite>> IndexWrites(
    const TableSchema& base, const std::string& base_key,
    const std::optional<AttributeMap>& old_item, const std::optional<AttributeMap>& new_item,
    IndexKeyCheck check, bool rewrite_unchanged = false);

// ValidationException for a Query or Scan on a GSI still backfilling, as DynamoDB answers.
absl::Status CheckIndexReadable(const SecondaryIndex& index);

}  // namespace ekv::dynamo
