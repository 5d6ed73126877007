// AttributeValue: DynamoDB's typed value (S, N, B, SS, NS, BS, M, L, NULL, BOOL) and its
// JSON wire form ({"S": "x"}, {"N": "1.5"}, {"B": "<base64>"}, ...). Parsing validates the
// way DynamoDB does (exactly one type, no empty sets, no duplicates in a set, numbers in
// range) and keeps numbers in canonical text, binaries as raw bytes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::dynamo {

enum class AttributeType { kS, kN, kB, kSS, kNS, kBS, kM, kL, kNull, kBool };

// The type's wire name: "S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL".
absl::string_view TypeName(AttributeType type);

struct AttributeValue;
// Ordered by name, so a stored item and every reply list attributes deterministically.
using AttributeMap = std::map<std::string, AttributeValue>;

struct AttributeValue {
  AttributeType type = AttributeType::kNull;
  std::string scalar;                // S text, N canonical text, B raw bytes
  bool boolean = false;              // BOOL
  std::vector<std::string> set;      // SS, NS (canonical), BS (raw bytes), in the client's order
  std::vector<AttributeValue> list;  // L
  AttributeMap map;                  // M

  static AttributeValue String(std::string s);
  static AttributeValue Number(std::string canonical);
  static AttributeValue Binary(std::string bytes);
  static AttributeValue Bool(bool b);
  static AttributeValue Null();
};

// Value equality as DynamoDB's "=" sees it: same type and value; sets compare as sets.
bool operator==(const AttributeValue& a, const AttributeValue& b);

// DynamoDB's limits on an attribute name (a map key at any depth too): not empty and
// below 64 KB; 65535 bytes is the longest accepted.
inline constexpr size_t kMaxAttributeNameBytes = 65535;
absl::Status CheckAttributeName(absl::string_view name);

// JSON <-> model. Errors are ValidationExceptions in DynamoDB's words; every map key is
// checked by CheckAttributeName.
absl::StatusOr<AttributeValue> AttributeValueFromJson(const nlohmann::json& json);
absl::StatusOr<AttributeMap> AttributeMapFromJson(const nlohmann::json& json);
nlohmann::json AttributeValueToJson(const AttributeValue& value);
nlohmann::json AttributeMapToJson(const AttributeMap& map);

// Approximate stored size as DynamoDB counts it (names + values), for the 400 KB item limit
// and the 1 MB page limit.
size_t AttributeSize(const AttributeValue& value);
size_t ItemSize(const AttributeMap& item);

}  // namespace ekv::dynamo
