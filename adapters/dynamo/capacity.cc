#include "adapters/dynamo/capacity.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/request_fields.h"
#include "adapters/dynamo/secondary_index.h"

namespace ekv::dynamo {

using nlohmann::json;

absl::StatusOr<std::string> ReturnConsumedCapacityOf(const json& request) {
  absl::StatusOr<std::optional<std::string>> mode =
      OptionalString(request, "ReturnConsumedCapacity");
  if (!mode.ok()) return mode.status();
  if (!mode->has_value()) return std::string("NONE");
  if (**mode == "NONE" || **mode == "TOTAL" || **mode == "INDEXES") return **mode;
  return ValidationError(absl::StrCat(
      "1 validation error detected: Value '", **mode,
      "' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum "
      "value set: [INDEXES, TOTAL, NONE]"));
}

absl::StatusOr<std::string> ReturnItemCollectionMetricsOf(const json& request) {
  absl::StatusOr<std::optional<std::string>> mode =
      OptionalString(request, "ReturnItemCollectionMetrics");
  if (!mode.ok()) return mode.status();
  if (!mode->has_value()) return std::string("NONE");
  if (**mode == "NONE" || **mode == "SIZE") return **mode;
  return ValidationError(absl::StrCat(
      "1 validation error detected: Value '", **mode,
      "' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy "
      "enum value set: [SIZE, NONE]"));
}

double ReadUnits(size_t item_bytes, bool consistent) {
  const double units = static_cast<double>(item_bytes == 0 ? 1 : (item_bytes + 4095) / 4096);
  return consistent ? units : units / 2;
}

double WriteUnits(size_t item_bytes) {
  return static_cast<double>(item_bytes == 0 ? 1 : (item_bytes + 1023) / 1024);
}

json ConsumedCapacityJson(const std::string& table, double units, const std::string& mode) {
  CapacityUse use;
  use.table = units;
  return ConsumedCapacityJson(table, use, mode);
}

double CapacityUse::Total() const {
  double total = table;
  for (const auto& [name, units] : local_indexes) total += units;
  for (const auto& [name, units] : global_indexes) total += units;
  return total;
}

void CapacityUse::AddIndexRead(const SecondaryIndex& index, double units) {
  (index.global ? global_indexes : local_indexes)[index.name] += units;
}

json ConsumedCapacityJson(const std::string& table, const CapacityUse& use,
                          const std::string& mode) {
  json out = {{"TableName", table}, {"CapacityUnits", use.Total()}};
  if (mode != "INDEXES") return out;
  out["Table"] = {{"CapacityUnits", use.table}};
  const auto indexes = [](const std::map<std::string, double>& units) {
    json by_name = json::object();
    for (const auto& [name, n] : units) by_name[name] = {{"CapacityUnits", n}};
    return by_name;
  };
  if (!use.local_indexes.empty()) out["LocalSecondaryIndexes"] = indexes(use.local_indexes);
  if (!use.global_indexes.empty()) out["GlobalSecondaryIndexes"] = indexes(use.global_indexes);
  return out;
}

void AddIndexWriteUnits(const TableSchema& schema, const std::string& base_key,
                        const std::optional<AttributeMap>& old_item,
                        const std::optional<AttributeMap>& new_item, CapacityUse* use) {
  for (const SecondaryIndex& index : schema.indexes) {
    // The entry key of each side (nullopt: not in the index). A mistyped key was refused
    // before the write, so kSkip only guards items stored before such checks.
    const auto entry_key = [&](const std::optional<AttributeMap>& item) {
      std::optional<std::string> key;
      if (!item.has_value()) return key;
      absl::StatusOr<std::optional<std::string>> k =
          IndexEntryKey(schema, index, base_key, *item, IndexKeyCheck::kSkip);
      if (k.ok()) key = *std::move(k);
      return key;
    };
    const std::optional<std::string> old_key = entry_key(old_item);
    const std::optional<std::string> new_key = entry_key(new_item);
    double units = 0;
    if (old_key && new_key && *old_key == *new_key) {
      const AttributeMap old_entry = ProjectIntoIndex(schema, index, *old_item);
      const AttributeMap new_entry = ProjectIntoIndex(schema, index, *new_item);
      if (old_entry != new_entry) {
        units = WriteUnits(std::max(ItemSize(old_entry), ItemSize(new_entry)));
      }
    } else {
      if (old_key) units += WriteUnits(ItemSize(ProjectIntoIndex(schema, index, *old_item)));
      if (new_key) units += WriteUnits(ItemSize(ProjectIntoIndex(schema, index, *new_item)));
    }
    if (units > 0) (index.global ? use->global_indexes : use->local_indexes)[index.name] += units;
  }
}

std::optional<json> ItemCollectionMetricsJson(const TableSchema& schema,
                                              const std::optional<AttributeMap>& item) {
  const bool has_local_index = std::any_of(schema.indexes.begin(), schema.indexes.end(),
                                           [](const SecondaryIndex& i) { return !i.global; });
  if (!has_local_index || !item.has_value()) return std::nullopt;
  AttributeMap collection_key;
  if (auto it = item->find(schema.hash.name); it != item->end()) collection_key.insert(*it);
  return json{{"ItemCollectionKey", AttributeMapToJson(collection_key)},
              {"SizeEstimateRangeGB", {0.0, 1.0}}};
}

}  // namespace ekv::dynamo
