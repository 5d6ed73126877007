// How an item is stored: one version byte (kItemFormatV1) then the item's DynamoDB JSON
// (compact, attributes in name order). JSON keeps the first form simple and readable with
// any RawKV client; the version byte lets a binary encoding replace it later while old
// records stay readable.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dynamo/attribute_value.h"

namespace ekv::dynamo {

constexpr char kItemFormatV1 = '\x01';

std::string EncodeItem(const AttributeMap& item);
absl::StatusOr<AttributeMap> DecodeItem(absl::string_view bytes);

}  // namespace ekv::dynamo
