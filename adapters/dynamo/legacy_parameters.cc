#include "adapters/dynamo/legacy_parameters.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

bool Present(const json& request, const char* field) {
  auto it = request.find(field);
  return it != request.end() && !it->is_null();
}

absl::Status Mixed(const char* legacy_field, const char* expression_field) {
  return ValidationError(
      absl::StrCat("Can not use both expression and non-expression parameters in the same request: "
                   "Non-expression parameters: {",
                   legacy_field, "} Expression parameters: {", expression_field, "}"));
}

Operand PathOperand(const std::string& name) {
  Operand o;
  o.kind = Operand::Kind::kPath;
  o.path = Path{PathElement{name, -1}};
  return o;
}

Operand ValueOperand(AttributeValue value) {
  Operand o;
  o.kind = Operand::Kind::kValue;
  o.value = std::move(value);
  return o;
}

absl::StatusOr<std::vector<AttributeValue>> ValueList(const json& entry) {
  std::vector<AttributeValue> values;
  auto list = entry.find("AttributeValueList");
  if (list == entry.end() || list->is_null()) return values;
  if (!list->is_array()) return SerializationError("AttributeValueList must be a list");
  for (const json& v : *list) {
    absl::StatusOr<AttributeValue> value = AttributeValueFromJson(v);
    if (!value.ok()) return value.status();
    values.push_back(*std::move(value));
  }
  return values;
}

bool IsScalar(AttributeType type) {
  return type == AttributeType::kS || type == AttributeType::kN || type == AttributeType::kB;
}

// The types each ComparisonOperator accepts in its AttributeValueList: a wrong one is the
// request's error (ValidationException), not a false condition. EQ and NE take any type.
absl::Status CheckComparisonValues(const std::string& op,
                                   const std::vector<AttributeValue>& values) {
  if (op == "EQ" || op == "NE" || op == "NULL" || op == "NOT_NULL") return absl::OkStatus();
  for (const AttributeValue& v : values) {
    const bool allowed = op == "BEGINS_WITH"
                             ? v.type == AttributeType::kS || v.type == AttributeType::kB
                             : IsScalar(v.type);
    if (!allowed) {
      return InvalidParameter(absl::StrCat("ComparisonOperator ", op, " is not valid for ",
                                           TypeName(v.type), " AttributeValue type"));
    }
  }
  if ((op == "IN" || op == "BETWEEN") && !values.empty()) {
    for (const AttributeValue& v : values) {
      if (v.type != values.front().type) {
        return InvalidParameter("AttributeValues inside AttributeValueList must be of same type");
      }
    }
  }
  if (op == "BETWEEN") {
    std::optional<int> order = CompareValues(values[0], values[1]);
    if (order.has_value() && *order > 0) {
      return ValidationError(
          "The BETWEEN condition was provided a range where the lower bound is greater than the "
          "upper bound");
    }
  }
  return absl::OkStatus();
}

// One {"ComparisonOperator": ..., "AttributeValueList": [...]} on attribute `name`.
absl::StatusOr<Condition> Comparison(const std::string& name, const std::string& op,
                                     std::vector<AttributeValue> values) {
  struct Arity {
    const char* op;
    size_t count;  // values expected
  };
  static const Arity kArities[] = {
      {"EQ", 1},          {"NE", 1},       {"LE", 1},       {"LT", 1},       {"GE", 1},
      {"GT", 1},          {"NOT_NULL", 0}, {"NULL", 0},     {"CONTAINS", 1}, {"NOT_CONTAINS", 1},
      {"BEGINS_WITH", 1}, {"BETWEEN", 2},  {"IN", 0 /*1+*/}};
  const Arity* arity = nullptr;
  for (const Arity& a : kArities) {
    if (op == a.op) arity = &a;
  }
  if (arity == nullptr) {
    return ValidationError(absl::StrCat(
        "1 validation error detected: Value '", op,
        "' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum "
        "value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, "
        "BEGINS_WITH, GE, CONTAINS]"));
  }
  const bool count_ok = op == "IN" ? !values.empty() : values.size() == arity->count;
  if (!count_ok) {
    return InvalidParameter(
        absl::StrCat("Invalid number of argument(s) for the ", op, " ComparisonOperator"));
  }
  if (absl::Status s = CheckComparisonValues(op, values); !s.ok()) return s;
  Condition c;
  c.operands.push_back(PathOperand(name));
  for (AttributeValue& v : values) c.operands.push_back(ValueOperand(std::move(v)));
  static const std::pair<const char*, CompareOp> kCompare[] = {
      {"EQ", CompareOp::kEq}, {"NE", CompareOp::kNe}, {"LE", CompareOp::kLe},
      {"LT", CompareOp::kLt}, {"GE", CompareOp::kGe}, {"GT", CompareOp::kGt}};
  for (const auto& [text, compare] : kCompare) {
    if (op == text) {
      c.kind = Condition::Kind::kCompare;
      c.op = compare;
      return c;
    }
  }
  if (op == "NOT_NULL") c.kind = Condition::Kind::kAttributeExists;
  if (op == "NULL") c.kind = Condition::Kind::kAttributeNotExists;
  if (op == "CONTAINS" || op == "NOT_CONTAINS") c.kind = Condition::Kind::kContains;
  if (op == "BEGINS_WITH") c.kind = Condition::Kind::kBeginsWith;
  if (op == "BETWEEN") c.kind = Condition::Kind::kBetween;
  if (op == "IN") c.kind = Condition::Kind::kIn;
  if (op == "NOT_CONTAINS") {
    // Unlike NE, NOT_CONTAINS is false for an absent attribute.
    Condition negated;
    negated.kind = Condition::Kind::kNot;
    negated.children.push_back(std::move(c));
    Condition exists;
    exists.kind = Condition::Kind::kAttributeExists;
    exists.operands.push_back(PathOperand(name));
    Condition both;
    both.kind = Condition::Kind::kAnd;
    both.children.push_back(std::move(exists));
    both.children.push_back(std::move(negated));
    return both;
  }
  return c;
}

// Expected's extra form: {"Value": v, "Exists": bool}.
absl::StatusOr<Condition> ExpectedEntry(const std::string& name, const json& entry) {
  if (!entry.is_object()) return SerializationError("Expected values must be structures");
  if (Present(entry, "ComparisonOperator")) {
    if (Present(entry, "Value") || Present(entry, "Exists")) {
      return InvalidParameter(absl::StrCat(
          "Value or Exists parameter cannot be used with ComparisonOperator for Attribute: ",
          name));
    }
    absl::StatusOr<std::vector<AttributeValue>> values = ValueList(entry);
    if (!values.ok()) return values.status();
    return Comparison(name, entry["ComparisonOperator"].get<std::string>(), *std::move(values));
  }
  bool exists = true;
  if (Present(entry, "Exists")) {
    if (!entry["Exists"].is_boolean()) return SerializationError("Exists must be a boolean");
    exists = entry["Exists"].get<bool>();
  }
  const bool has_value = Present(entry, "Value");
  if (!exists) {
    if (has_value) {
      return InvalidParameter(
          absl::StrCat("Value cannot be used when Exists is false for Attribute: ", name));
    }
    return Comparison(name, "NULL", {});
  }
  if (!has_value) {
    return InvalidParameter(
        absl::StrCat("Value must be provided when Exists is true for Attribute: ", name));
  }
  absl::StatusOr<AttributeValue> value = AttributeValueFromJson(entry["Value"]);
  if (!value.ok()) return value.status();
  return Comparison(name, "EQ", {*std::move(value)});
}

}  // namespace

absl::StatusOr<std::optional<Condition>> LegacyConditionOf(const json& request,
                                                           const char* legacy_field,
                                                           const char* expression_field) {
  const bool is_key_conditions = std::string(legacy_field) == "KeyConditions";
  const bool is_expected = std::string(legacy_field) == "Expected";
  const bool empty = !Present(request, legacy_field) ||
                     (request[legacy_field].is_object() && request[legacy_field].empty());
  if (empty && !is_key_conditions && Present(request, "ConditionalOperator")) {
    return InvalidParameter(absl::StrCat("ConditionalOperator can only be used when ", legacy_field,
                                         " is present and not empty"));
  }
  if (!Present(request, legacy_field)) return std::optional<Condition>();
  if (Present(request, expression_field)) return Mixed(legacy_field, expression_field);
  // Expected may not accompany an UpdateExpression either (AttributeUpdates is its pair).
  if (is_expected && Present(request, "UpdateExpression")) {
    return Mixed(legacy_field, "UpdateExpression");
  }
  const json& entries = request[legacy_field];
  if (!entries.is_object()) return SerializationError(absl::StrCat(legacy_field, " must be a map"));
  bool use_or = false;
  if (Present(request, "ConditionalOperator") && !is_key_conditions) {
    const std::string op = request["ConditionalOperator"].get<std::string>();
    if (op != "AND" && op != "OR") {
      return ValidationError(absl::StrCat(
          "1 validation error detected: Value '", op,
          "' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum "
          "value set: [OR, AND]"));
    }
    use_or = op == "OR";
  }
  std::optional<Condition> combined;
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    absl::StatusOr<Condition> one = [&]() -> absl::StatusOr<Condition> {
      if (absl::Status s = CheckAttributeName(it.key()); !s.ok()) return s;
      if (std::string(legacy_field) == "Expected") return ExpectedEntry(it.key(), it.value());
      if (!it.value().is_object() || !Present(it.value(), "ComparisonOperator")) {
        return ValidationError(absl::StrCat(
            "1 validation error detected: Value null at '", legacy_field, ".", it.key(),
            ".member.comparisonOperator' failed to satisfy constraint: Member must not be "
            "null"));
      }
      absl::StatusOr<std::vector<AttributeValue>> values = ValueList(it.value());
      if (!values.ok()) return values.status();
      return Comparison(it.key(), it.value()["ComparisonOperator"].get<std::string>(),
                        *std::move(values));
    }();
    if (!one.ok()) return one.status();
    if (!combined.has_value()) {
      combined = *std::move(one);
      continue;
    }
    Condition joined;
    joined.kind = use_or ? Condition::Kind::kOr : Condition::Kind::kAnd;
    joined.children.push_back(*std::move(combined));
    joined.children.push_back(*std::move(one));
    combined = std::move(joined);
  }
  return combined;
}

absl::StatusOr<std::optional<std::vector<UpdateAction>>> LegacyUpdatesOf(const json& request) {
  using Result = std::optional<std::vector<UpdateAction>>;
  if (!Present(request, "AttributeUpdates")) return Result();
  for (const char* expression : {"UpdateExpression", "ConditionExpression"}) {
    if (Present(request, expression)) return Mixed("AttributeUpdates", expression);
  }
  const json& updates = request["AttributeUpdates"];
  if (!updates.is_object()) return SerializationError("AttributeUpdates must be a map");
  std::vector<UpdateAction> actions;
  for (auto it = updates.begin(); it != updates.end(); ++it) {
    const json& update = it.value();
    if (absl::Status s = CheckAttributeName(it.key()); !s.ok()) return s;
    if (!update.is_object())
      return SerializationError("AttributeUpdates values must be structures");
    std::string action = "PUT";
    if (Present(update, "Action")) action = update["Action"].get<std::string>();
    std::optional<AttributeValue> value;
    if (Present(update, "Value")) {
      absl::StatusOr<AttributeValue> parsed = AttributeValueFromJson(update["Value"]);
      if (!parsed.ok()) return parsed.status();
      value = *std::move(parsed);
    }
    UpdateAction a;
    a.legacy = true;
    a.path = Path{PathElement{it.key(), -1}};
    if (action == "PUT") {
      if (!value.has_value()) {
        return InvalidParameter(absl::StrCat(
            "Only DELETE action is allowed when no attribute value is specified: ", it.key()));
      }
      a.kind = UpdateAction::Kind::kSet;
      a.value = ValueOperand(*std::move(value));
    } else if (action == "DELETE") {
      if (value.has_value()) {
        a.kind = UpdateAction::Kind::kDelete;
        a.value = ValueOperand(*std::move(value));
      } else {
        a.kind = UpdateAction::Kind::kRemove;
      }
    } else if (action == "ADD") {
      if (!value.has_value()) {
        return InvalidParameter(absl::StrCat(
            "Only DELETE action is allowed when no attribute value is specified: ", it.key()));
      }
      a.kind = UpdateAction::Kind::kAdd;
      a.value = ValueOperand(*std::move(value));
    } else {
      return ValidationError(absl::StrCat(
          "1 validation error detected: Value '", action, "' at 'attributeUpdates.", it.key(),
          ".member.action' failed to satisfy constraint: Member must satisfy enum value set: "
          "[ADD, PUT, DELETE]"));
    }
    actions.push_back(std::move(a));
  }
  return Result(std::move(actions));
}

}  // namespace ekv::dynamo
