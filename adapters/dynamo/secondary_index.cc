#include "adapters/dynamo/secondary_index.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/request_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

absl::StatusOr<const SecondaryIndex*> IndexOf(const json& request, const TableSchema& schema) {
  absl::StatusOr<std::optional<std::string>> name = OptionalString(request, "IndexName");
  if (!name.ok()) return name.status();
  if (!name->has_value()) return nullptr;
  for (const SecondaryIndex& index : schema.indexes) {
    if (index.name == **name) return &index;
  }
  return ValidationError("The table does not have the specified index: " + **name);
}

TableSchema IndexKeySchema(const TableSchema& base, const SecondaryIndex& index) {
  TableSchema view;
  view.name = base.name;
  view.id = base.id;
  view.hash = index.hash;
  view.range = index.range;
  view.attribute_definitions = base.attribute_definitions;
  return view;
}

std::optional<std::string> IndexOrderKey(const TableSchema& base, const SecondaryIndex& index,
                                         const AttributeMap& item) {
  // A missing or mistyped index key attribute keeps the item out of the index.
  absl::StatusOr<std::string> index_key = ItemKeyOfItem(IndexKeySchema(base, index), item);
  if (!index_key.ok()) return std::nullopt;
  absl::StatusOr<std::string> base_key = ItemKeyOfItem(base, item);
  if (!base_key.ok()) return std::nullopt;
  // Both keys start with the table's prefix; the index key's parts are self-delimiting, so
  // the concatenation orders by index key, then base key.
  return absl::StrCat(*index_key, *base_key);
}

AttributeMap IndexKeyAttributes(const TableSchema& base, const SecondaryIndex& index,
                                const AttributeMap& item) {
  AttributeMap keys = KeyAttributesOf(base, item);
  for (const AttributeMap::value_type& entry : KeyAttributesOf(IndexKeySchema(base, index), item)) {
    keys.insert(entry);
  }
  return keys;
}

AttributeMap ProjectIntoIndex(const TableSchema& base, const SecondaryIndex& index,
                              const AttributeMap& item) {
  if (index.projection_type == "ALL") return item;
  AttributeMap projected = IndexKeyAttributes(base, index, item);
  for (const std::string& name : index.non_key_attributes) {
    if (auto it = item.find(name); it != item.end()) projected.insert(*it);
  }
  return projected;
}

absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>> ReadIndexPage(
    TableStore* store, const TableSchema& base, const IndexRead& read, size_t limit,
    size_t max_bytes, bool* more) {
  const std::string prefix = ItemPrefix(base.id);
  const std::string start = read.base_start.empty() ? prefix : read.base_start;
  const std::string end = read.base_end.empty() ? PrefixEnd(prefix) : read.base_end;
  auto items = store->ScanItems(start, end, kMaxIndexedItems + 1);
  if (!items.ok()) return items.status();
  if (items->size() > kMaxIndexedItems) {
    return ValidationError(
        absl::StrCat("Query and Scan with IndexName read at most ", kMaxIndexedItems,
                     " items of the base table in this version of ekv; this table has more"));
  }
  std::optional<std::string> after;
  if (read.exclusive_start.has_value()) {
    after = IndexOrderKey(base, *read.index, *read.exclusive_start);
    if (!after.has_value()) {
      return ValidationError(
          "The provided starting key is invalid: The provided key element does not match the "
          "schema");
    }
  }
  std::vector<std::pair<std::string, AttributeMap>> entries;
  for (auto& [key, item] : *items) {
    std::optional<std::string> order = IndexOrderKey(base, *read.index, item);
    if (!order.has_value()) continue;
    if (after.has_value() && (read.forward ? *order <= *after : *order >= *after)) continue;
    if (read.key_condition.has_value()) {
      absl::StatusOr<bool> selected = EvaluateCondition(*read.key_condition, item);
      if (!selected.ok()) return selected.status();
      if (!*selected) continue;
    }
    entries.emplace_back(*std::move(order), std::move(item));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  if (!read.forward) std::reverse(entries.begin(), entries.end());
  std::vector<std::pair<std::string, AttributeMap>> page;
  size_t bytes = 0;
  *more = false;
  for (auto& entry : entries) {
    if (page.size() >= limit || bytes >= max_bytes) {
      *more = true;
      break;
    }
    bytes += ItemSize(entry.second);
    page.push_back(std::move(entry));
  }
  return page;
}

}  // namespace ekv::dynamo
