#include "adapters/dynamo/capacity.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/request_fields.h"

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
  json out = {{"TableName", table}, {"CapacityUnits", units}};
  if (mode == "INDEXES") out["Table"] = {{"CapacityUnits", units}};
  return out;
}

}  // namespace ekv::dynamo
