#include "adapters/dynamo/item_codec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace ekv::dynamo {

std::string EncodeItem(const AttributeMap& item) {
  return absl::StrCat(std::string(1, kItemFormatV1), AttributeMapToJson(item).dump());
}

absl::StatusOr<AttributeMap> DecodeItem(absl::string_view bytes) {
  if (bytes.empty() || bytes[0] != kItemFormatV1) {
    return absl::DataLossError("stored DynamoDB item has an unknown format");
  }
  bytes.remove_prefix(1);
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::DataLossError("stored DynamoDB item is not valid JSON");
  absl::StatusOr<AttributeMap> item = AttributeMapFromJson(j);
  if (!item.ok()) {
    return absl::DataLossError(absl::StrCat("stored DynamoDB item: ", item.status().message()));
  }
  return item;
}

}  // namespace ekv::dynamo
