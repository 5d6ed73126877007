#include "adapters/dynamo/attribute_value.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/number.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

// Nesting bound for M and L: DynamoDB allows 32 levels; deeper input is refused before
// recursion can exhaust the stack.
constexpr int kMaxNesting = 32;

struct TypeEntry {
  absl::string_view name;
  AttributeType type;
};
constexpr TypeEntry kTypes[] = {{"S", AttributeType::kS},       {"N", AttributeType::kN},
                                {"B", AttributeType::kB},       {"SS", AttributeType::kSS},
                                {"NS", AttributeType::kNS},     {"BS", AttributeType::kBS},
                                {"M", AttributeType::kM},       {"L", AttributeType::kL},
                                {"NULL", AttributeType::kNull}, {"BOOL", AttributeType::kBool}};

absl::StatusOr<std::string> DecodeBase64(const json& j) {
  if (!j.is_string()) return SerializationError("Binary values must be base64 strings");
  // Padded base64 only, as DynamoDB's parser: absl also accepts a text without its '='s.
  const std::string& text = j.get_ref<const std::string&>();
  std::string bytes;
  if (text.size() % 4 != 0) {
    return SerializationError(absl::StrCat(
        "Base64 encoded length is expected a multiple of 4 bytes but found: ", text.size()));
  }
  if (!absl::Base64Unescape(text, &bytes)) {
    return SerializationError("Base64 encoded length is expected a multiple of 4 bytes");
  }
  return bytes;
}

absl::StatusOr<std::string> ScalarOf(AttributeType type, const json& j) {
  switch (type) {
    case AttributeType::kS:
    case AttributeType::kSS:
      if (!j.is_string()) return SerializationError("String values must be JSON strings");
      return j.get<std::string>();
    case AttributeType::kN:
    case AttributeType::kNS:
      if (!j.is_string()) return SerializationError("Number values must be JSON strings");
      return CanonicalNumber(j.get_ref<const std::string&>());
    default:
      return DecodeBase64(j);
  }
}

absl::StatusOr<AttributeValue> Parse(const json& j, int depth) {
  if (depth > kMaxNesting) {
    return ValidationError(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit");
  }
  if (!j.is_object() || j.empty()) {
    return ValidationError(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  }
  if (j.size() > 1) {
    return ValidationError(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
        "the supported datatypes");
  }
  const auto it = j.begin();
  const TypeEntry* entry = nullptr;
  for (const TypeEntry& t : kTypes) {
    if (t.name == it.key()) entry = &t;
  }
  if (entry == nullptr) {
    return ValidationError(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  }
  AttributeValue v;
  v.type = entry->type;
  const json& body = it.value();
  switch (v.type) {
    case AttributeType::kS:
    case AttributeType::kN:
    case AttributeType::kB: {
      absl::StatusOr<std::string> scalar = ScalarOf(v.type, body);
      if (!scalar.ok()) return scalar.status();
      v.scalar = *std::move(scalar);
      return v;
    }
    case AttributeType::kSS:
    case AttributeType::kNS:
    case AttributeType::kBS: {
      if (!body.is_array()) return SerializationError("Set values must be JSON arrays");
      if (body.empty()) {
        const char* what = v.type == AttributeType::kSS   ? "string"
                           : v.type == AttributeType::kNS ? "number"
                                                          : "binary";
        return InvalidParameter(absl::StrCat("An ", what, " set  may not be empty"));
      }
      std::set<std::string> seen;
      for (const json& element : body) {
        absl::StatusOr<std::string> scalar = ScalarOf(v.type, element);
        if (!scalar.ok()) return scalar.status();
        if (!seen.insert(*scalar).second) {
          std::vector<std::string> shown;
          for (const json& e : body) shown.push_back(e.is_string() ? e.get<std::string>() : "?");
          return InvalidParameter(absl::StrCat("Input collection [", absl::StrJoin(shown, ", "),
                                               "] contains duplicates."));
        }
        v.set.push_back(*std::move(scalar));
      }
      return v;
    }
    case AttributeType::kM: {
      if (!body.is_object()) return SerializationError("Map values must be JSON objects");
      for (auto member = body.begin(); member != body.end(); ++member) {
        absl::StatusOr<AttributeValue> inner = Parse(member.value(), depth + 1);
        if (!inner.ok()) return inner.status();
        if (absl::Status name = CheckAttributeName(member.key()); !name.ok()) return name;
        v.map.emplace(member.key(), *std::move(inner));
      }
      return v;
    }
    case AttributeType::kL: {
      if (!body.is_array()) return SerializationError("List values must be JSON arrays");
      for (const json& element : body) {
        absl::StatusOr<AttributeValue> inner = Parse(element, depth + 1);
        if (!inner.ok()) return inner.status();
        v.list.push_back(*std::move(inner));
      }
      return v;
    }
    case AttributeType::kNull:
      if (!body.is_boolean() || !body.get<bool>()) {
        return InvalidParameter("Null attribute value types must have the value of true");
      }
      return v;
    case AttributeType::kBool:
      if (!body.is_boolean()) return SerializationError("BOOL values must be JSON booleans");
      v.boolean = body.get<bool>();
      return v;
  }
  return ValidationError("unknown attribute type");
}

}  // namespace

absl::Status CheckAttributeName(absl::string_view name) {
  // The too-large message is DynamoDB's (it names 65536, the first refused size). For an
  // empty name we only know that DynamoDB's message says "Empty attribute name".
  if (name.empty()) return ValidationError("1 validation error detected: Empty attribute name");
  if (name.size() > kMaxAttributeNameBytes) {
    return ValidationError(
        "1 validation error detected: Attribute name is too large, must be less than 65536 "
        "bytes");
  }
  return absl::OkStatus();
}

absl::string_view TypeName(AttributeType type) {
  for (const TypeEntry& t : kTypes) {
    if (t.type == type) return t.name;
  }
  return "?";
}

AttributeValue AttributeValue::String(std::string s) {
  AttributeValue v;
  v.type = AttributeType::kS;
  v.scalar = std::move(s);
  return v;
}
AttributeValue AttributeValue::Number(std::string canonical) {
  AttributeValue v;
  v.type = AttributeType::kN;
  v.scalar = std::move(canonical);
  return v;
}
AttributeValue AttributeValue::Binary(std::string bytes) {
  AttributeValue v;
  v.type = AttributeType::kB;
  v.scalar = std::move(bytes);
  return v;
}
AttributeValue AttributeValue::Bool(bool b) {
  AttributeValue v;
  v.type = AttributeType::kBool;
  v.boolean = b;
  return v;
}
AttributeValue AttributeValue::Null() { return AttributeValue(); }

bool operator==(const AttributeValue& a, const AttributeValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case AttributeType::kS:
    case AttributeType::kN:  // canonical text: equal numbers have equal text
    case AttributeType::kB:
      return a.scalar == b.scalar;
    case AttributeType::kSS:
    case AttributeType::kNS:
    case AttributeType::kBS:
      return std::set<std::string>(a.set.begin(), a.set.end()) ==
             std::set<std::string>(b.set.begin(), b.set.end());
    case AttributeType::kM:
      return a.map == b.map;
    case AttributeType::kL:
      return a.list == b.list;
    case AttributeType::kNull:
      return true;
    case AttributeType::kBool:
      return a.boolean == b.boolean;
  }
  return false;
}

absl::StatusOr<AttributeValue> AttributeValueFromJson(const json& j) { return Parse(j, 0); }

absl::StatusOr<AttributeMap> AttributeMapFromJson(const json& j) {
  if (!j.is_object()) return SerializationError("Expected a map of attribute values");
  AttributeMap map;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (absl::Status name = CheckAttributeName(it.key()); !name.ok()) return name;
    absl::StatusOr<AttributeValue> v = Parse(it.value(), 1);
    if (!v.ok()) return v.status();
    map.emplace(it.key(), *std::move(v));
  }
  return map;
}

json AttributeValueToJson(const AttributeValue& v) {
  const std::string name(TypeName(v.type));
  switch (v.type) {
    case AttributeType::kS:
    case AttributeType::kN:
      return json{{name, v.scalar}};
    case AttributeType::kB:
      return json{{name, absl::Base64Escape(v.scalar)}};
    case AttributeType::kSS:
    case AttributeType::kNS:
      return json{{name, v.set}};
    case AttributeType::kBS: {
      json out = json::array();
      for (const std::string& b : v.set) out.push_back(absl::Base64Escape(b));
      return json{{name, out}};
    }
    case AttributeType::kM:
      return json{{name, AttributeMapToJson(v.map)}};
    case AttributeType::kL: {
      json out = json::array();
      for (const AttributeValue& e : v.list) out.push_back(AttributeValueToJson(e));
      return json{{name, out}};
    }
    case AttributeType::kNull:
      return json{{name, true}};
    case AttributeType::kBool:
      return json{{name, v.boolean}};
  }
  return json::object();
}

json AttributeMapToJson(const AttributeMap& map) {
  json out = json::object();
  for (const auto& [name, value] : map) out[name] = AttributeValueToJson(value);
  return out;
}

namespace {

// DynamoDB's size of a number: 1 byte per two significant digits (leading and trailing
// zeros trimmed), plus 1. `canonical` is FormatDecimal's text ("-1200", "0.0015").
size_t NumberSize(absl::string_view canonical) {
  const size_t first = canonical.find_first_not_of("-0.");
  if (first == absl::string_view::npos) return 2;  // zero: one digit
  const size_t last = canonical.find_last_not_of('0');
  size_t digits = 0;
  for (size_t i = first; i <= last; ++i) digits += canonical[i] != '.';
  return 1 + (digits + 1) / 2;
}

}  // namespace

size_t AttributeSize(const AttributeValue& v) {
  size_t size = 1;
  switch (v.type) {
    case AttributeType::kS:
    case AttributeType::kB:
      return v.scalar.size();
    case AttributeType::kN:
      return NumberSize(v.scalar);
    case AttributeType::kNS:
      for (const std::string& s : v.set) size += NumberSize(s);
      return size;
    case AttributeType::kSS:
    case AttributeType::kBS:
      for (const std::string& s : v.set) size += s.size();
      return size;
    case AttributeType::kM:
      size = 3;
      for (const auto& [name, inner] : v.map) size += 1 + name.size() + AttributeSize(inner);
      return size;
    case AttributeType::kL:
      size = 3;
      for (const AttributeValue& inner : v.list) size += 1 + AttributeSize(inner);
      return size;
    case AttributeType::kNull:
    case AttributeType::kBool:
      return 1;
  }
  return size;
}

size_t ItemSize(const AttributeMap& item) {
  size_t size = 0;
  for (const auto& [name, value] : item) size += name.size() + AttributeSize(value);
  return size;
}

}  // namespace ekv::dynamo
