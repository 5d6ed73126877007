// Evaluation of parsed expressions against an item, with DynamoDB's semantics: a
// comparison with a missing attribute or between different types is false (and `<>` true),
// ordering comparisons apply to S, N and B only, update right-hand sides see the item as it
// was before the update.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/expression.h"
#include "adapters/dynamo/number.h"

namespace ekv::dynamo {
namespace {

using Value = std::optional<AttributeValue>;

const AttributeValue* Resolve(const AttributeMap& item, const Path& path) {
  const AttributeValue* current = nullptr;
  const AttributeMap* map = &item;
  for (size_t i = 0; i < path.size(); ++i) {
    const PathElement& e = path[i];
    if (e.index >= 0) {
      if (current == nullptr || current->type != AttributeType::kL ||
          static_cast<size_t>(e.index) >= current->list.size()) {
        return nullptr;
      }
      current = &current->list[e.index];
    } else {
      if (i > 0 && (current == nullptr || current->type != AttributeType::kM)) return nullptr;
      if (i > 0) map = &current->map;
      auto it = map->find(e.name);
      if (it == map->end()) return nullptr;
      current = &it->second;
    }
  }
  return current;
}

absl::Status OperandTypeError(absl::string_view what, absl::string_view function,
                              const AttributeValue& value) {
  return ValidationError(absl::StrCat("Invalid ", what,
                                      ": Incorrect operand type for operator or function; "
                                      "operator or function: ",
                                      function, ", operand type: ", TypeName(value.type)));
}

absl::StatusOr<Value> EvalOperand(const Operand& o, const AttributeMap& item) {
  switch (o.kind) {
    case Operand::Kind::kValue:
      return Value(o.value);
    case Operand::Kind::kPath: {
      const AttributeValue* v = Resolve(item, o.path);
      return v == nullptr ? Value() : Value(*v);
    }
    case Operand::Kind::kSize: {
      // The parser refused a constant argument without a size; an item's attribute
      // without one (a number, a boolean) has no size, so a comparison with it is false.
      absl::StatusOr<Value> argument = EvalOperand(o.args[0], item);
      if (!argument.ok() || !argument->has_value()) return argument;
      const AttributeValue* v = &**argument;
      size_t size = 0;
      switch (v->type) {
        case AttributeType::kS:
        case AttributeType::kB:
          size = v->scalar.size();
          break;
        case AttributeType::kSS:
        case AttributeType::kNS:
        case AttributeType::kBS:
          size = v->set.size();
          break;
        case AttributeType::kL:
          size = v->list.size();
          break;
        case AttributeType::kM:
          size = v->map.size();
          break;
        default:
          return Value();
      }
      return Value(AttributeValue::Number(absl::StrCat(size)));
    }
    case Operand::Kind::kIfNotExists: {
      const AttributeValue* v = Resolve(item, o.path);
      if (v != nullptr) return Value(*v);
      return EvalOperand(o.args[0], item);
    }
    case Operand::Kind::kListAppend: {
      absl::StatusOr<Value> a = EvalOperand(o.args[0], item);
      if (!a.ok()) return a.status();
      absl::StatusOr<Value> b = EvalOperand(o.args[1], item);
      if (!b.ok()) return b.status();
      if (!a->has_value() || !b->has_value()) {
        return ValidationError(
            "The provided expression refers to an attribute that does not exist in the item");
      }
      for (const AttributeValue* v : {&**a, &**b}) {
        if (v->type != AttributeType::kL) {
          return OperandTypeError("UpdateExpression", "list_append", *v);
        }
      }
      AttributeValue out = **a;
      for (const AttributeValue& e : (*b)->list) out.list.push_back(e);
      return Value(std::move(out));
    }
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus: {
      absl::StatusOr<Value> a = EvalOperand(o.args[0], item);
      if (!a.ok()) return a.status();
      absl::StatusOr<Value> b = EvalOperand(o.args[1], item);
      if (!b.ok()) return b.status();
      if (!a->has_value() || !b->has_value()) {
        return ValidationError(
            "The provided expression refers to an attribute that does not exist in the item");
      }
      const char* op = o.kind == Operand::Kind::kPlus ? "+" : "-";
      for (const AttributeValue* v : {&**a, &**b}) {
        if (v->type != AttributeType::kN) return OperandTypeError("UpdateExpression", op, *v);
      }
      absl::StatusOr<Decimal> x = ParseDecimal((*a)->scalar);
      absl::StatusOr<Decimal> y = ParseDecimal((*b)->scalar);
      if (!x.ok()) return x.status();
      if (!y.ok()) return y.status();
      absl::StatusOr<Decimal> r =
          o.kind == Operand::Kind::kPlus ? AddDecimal(*x, *y) : SubtractDecimal(*x, *y);
      if (!r.ok()) return r.status();
      return Value(AttributeValue::Number(FormatDecimal(*r)));
    }
  }
  return Value();
}

bool CompareHolds(CompareOp op, const Value& a, const Value& b) {
  if (op == CompareOp::kEq) return a.has_value() && b.has_value() && *a == *b;
  if (op == CompareOp::kNe) return !(a.has_value() && b.has_value() && *a == *b);
  if (!a.has_value() || !b.has_value()) return false;
  std::optional<int> c = CompareValues(*a, *b);
  if (!c.has_value()) return false;
  switch (op) {
    case CompareOp::kLt:
      return *c < 0;
    case CompareOp::kLe:
      return *c <= 0;
    case CompareOp::kGt:
      return *c > 0;
    case CompareOp::kGe:
      return *c >= 0;
    default:
      return false;
  }
}

bool IsSetType(AttributeType t) {
  return t == AttributeType::kSS || t == AttributeType::kNS || t == AttributeType::kBS;
}

AttributeType ElementTypeOfSet(AttributeType t) {
  return t == AttributeType::kSS   ? AttributeType::kS
         : t == AttributeType::kNS ? AttributeType::kN
                                   : AttributeType::kB;
}

// Where a SET/ADD writes: the slot at `path` in `item`, created at the last step (a map
// member or a list element past the end, which appends). Null when a parent is missing or
// of the wrong type.
AttributeValue* Slot(AttributeMap* item, const Path& path) {
  AttributeValue* current = nullptr;
  for (size_t i = 0; i < path.size(); ++i) {
    const PathElement& e = path[i];
    const bool last = i + 1 == path.size();
    if (e.index >= 0) {
      if (current == nullptr || current->type != AttributeType::kL) return nullptr;
      if (static_cast<size_t>(e.index) >= current->list.size()) {
        if (!last) return nullptr;
        current->list.emplace_back();
        current = &current->list.back();
      } else {
        current = &current->list[e.index];
      }
    } else {
      AttributeMap* map = item;
      if (i > 0) {
        if (current == nullptr || current->type != AttributeType::kM) return nullptr;
        map = &current->map;
      }
      auto it = map->find(e.name);
      if (it == map->end()) {
        if (!last) return nullptr;
        it = map->emplace(e.name, AttributeValue()).first;
      }
      current = &it->second;
    }
  }
  return current;
}

absl::Status InvalidDocumentPath() {
  return ValidationError(
      "The document path provided in the update expression is invalid for update");
}

// Removes the attribute at `path`. A parent that is missing or not a map (for a.b) or a
// list (for a[1]) makes the path invalid; a list index past the end removes nothing.
absl::Status Remove(AttributeMap* item, const Path& path) {
  if (path.size() == 1) {
    item->erase(path[0].name);
    return absl::OkStatus();
  }
  Path parent_path(path.begin(), path.end() - 1);
  AttributeValue* parent = const_cast<AttributeValue*>(Resolve(*item, parent_path));
  const PathElement& last = path.back();
  if (parent == nullptr) return InvalidDocumentPath();
  if (last.index >= 0) {
    if (parent->type != AttributeType::kL) return InvalidDocumentPath();
    if (static_cast<size_t>(last.index) < parent->list.size()) {
      parent->list.erase(parent->list.begin() + last.index);
    }
  } else {
    if (parent->type != AttributeType::kM) return InvalidDocumentPath();
    parent->map.erase(last.name);
  }
  return absl::OkStatus();
}

// List indexes in an update name elements of the item as it was: removals run last and
// from the highest index down, and SETs past a list's end append in index order.
bool PathBefore(const Path& a, const Path& b, bool indexes_descending) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const PathElement& x = a[i];
    const PathElement& y = b[i];
    if (x.index != y.index) {
      return indexes_descending ? x.index > y.index : x.index < y.index;
    }
    if (x.name != y.name) return x.name < y.name;
  }
  return a.size() < b.size();
}

std::vector<const UpdateAction*> ApplicationOrder(const std::vector<UpdateAction>& actions) {
  std::vector<const UpdateAction*> writes;
  std::vector<const UpdateAction*> removes;
  for (const UpdateAction& action : actions) {
    (action.kind == UpdateAction::Kind::kRemove ? removes : writes).push_back(&action);
  }
  std::stable_sort(writes.begin(), writes.end(), [](const UpdateAction* a, const UpdateAction* b) {
    return PathBefore(a->path, b->path, /*indexes_descending=*/false);
  });
  std::stable_sort(removes.begin(), removes.end(),
                   [](const UpdateAction* a, const UpdateAction* b) {
                     return PathBefore(a->path, b->path, /*indexes_descending=*/true);
                   });
  writes.insert(writes.end(), removes.begin(), removes.end());
  return writes;
}

// ADD or DELETE of a value whose type differs from the attribute's.
absl::Status TypeMismatch(const UpdateAction& action, const AttributeValue& existing) {
  if (action.legacy) {
    return InvalidParameter("Type mismatch for attribute to update");
  }
  return OperandTypeError("UpdateExpression",
                          action.kind == UpdateAction::Kind::kAdd ? "ADD" : "DELETE", existing);
}

}  // namespace

std::optional<int> CompareValues(const AttributeValue& a, const AttributeValue& b) {
  if (a.type != b.type) return std::nullopt;
  switch (a.type) {
    case AttributeType::kS:
    case AttributeType::kB: {
      const int c = a.scalar.compare(b.scalar);  // bytewise, as DynamoDB orders S and B
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case AttributeType::kN: {
      absl::StatusOr<Decimal> x = ParseDecimal(a.scalar);
      absl::StatusOr<Decimal> y = ParseDecimal(b.scalar);
      if (!x.ok() || !y.ok()) return std::nullopt;
      return CompareDecimal(*x, *y);
    }
    default:
      return std::nullopt;
  }
}

absl::StatusOr<bool> EvaluateCondition(const Condition& c, const AttributeMap& item) {
  switch (c.kind) {
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr: {
      absl::StatusOr<bool> left = EvaluateCondition(c.children[0], item);
      if (!left.ok()) return left;
      if (*left == (c.kind == Condition::Kind::kOr)) return *left;
      return EvaluateCondition(c.children[1], item);
    }
    case Condition::Kind::kNot: {
      absl::StatusOr<bool> inner = EvaluateCondition(c.children[0], item);
      if (!inner.ok()) return inner;
      return !*inner;
    }
    case Condition::Kind::kAttributeExists:
      return Resolve(item, c.operands[0].path) != nullptr;
    case Condition::Kind::kAttributeNotExists:
      return Resolve(item, c.operands[0].path) == nullptr;
    default:
      break;
  }
  std::vector<Value> values;
  for (const Operand& o : c.operands) {
    absl::StatusOr<Value> v = EvalOperand(o, item);
    if (!v.ok()) return v.status();
    values.push_back(*std::move(v));
  }
  switch (c.kind) {
    case Condition::Kind::kCompare:
      return CompareHolds(c.op, values[0], values[1]);
    case Condition::Kind::kBetween:
      // Bounds from the request were checked by the parser; bounds from the item that are
      // out of order or of another type make the condition false.
      return CompareHolds(CompareOp::kGe, values[0], values[1]) &&
             CompareHolds(CompareOp::kLe, values[0], values[2]);
    case Condition::Kind::kIn:
      for (size_t i = 1; i < values.size(); ++i) {
        if (CompareHolds(CompareOp::kEq, values[0], values[i])) return true;
      }
      return false;
    case Condition::Kind::kAttributeType:
      // The parser made the second operand a type name.
      return values[0].has_value() && values[1].has_value() &&
             TypeName(values[0]->type) == values[1]->scalar;
    case Condition::Kind::kBeginsWith: {
      // A constant of another type than S or B was refused by the parser; one in the item
      // makes the condition false.
      if (!values[0].has_value() || !values[1].has_value()) return false;
      const AttributeValue& a = *values[0];
      const AttributeValue& p = *values[1];
      if (p.type != AttributeType::kS && p.type != AttributeType::kB) return false;
      return a.type == p.type && absl::StartsWith(a.scalar, p.scalar);
    }
    case Condition::Kind::kContains: {
      if (!values[0].has_value() || !values[1].has_value()) return false;
      const AttributeValue& a = *values[0];
      const AttributeValue& x = *values[1];
      if (a.type == AttributeType::kS && x.type == AttributeType::kS) {
        return absl::StrContains(a.scalar, x.scalar);
      }
      if (a.type == AttributeType::kB && x.type == AttributeType::kB) {
        return absl::StrContains(a.scalar, x.scalar);
      }
      if (IsSetType(a.type) && x.type == ElementTypeOfSet(a.type)) {
        return std::find(a.set.begin(), a.set.end(), x.scalar) != a.set.end();
      }
      if (a.type == AttributeType::kL) {
        return std::find(a.list.begin(), a.list.end(), x) != a.list.end();
      }
      return false;
    }
    default:
      return ValidationError("unsupported condition");
  }
}

absl::StatusOr<AttributeMap> ApplyUpdate(const std::vector<UpdateAction>& actions,
                                         const AttributeMap& item,
                                         const std::set<std::string>& key_names) {
  AttributeMap out = item;
  for (const UpdateAction* action_pointer : ApplicationOrder(actions)) {
    const UpdateAction& action = *action_pointer;
    if (key_names.count(action.path.front().name) != 0) {
      return InvalidParameter(absl::StrCat("Cannot update attribute ", action.path.front().name,
                                           ". This attribute is part of the key"));
    }
    if (action.kind == UpdateAction::Kind::kRemove) {
      if (absl::Status s = Remove(&out, action.path); !s.ok()) return s;
      continue;
    }
    absl::StatusOr<Value> value = EvalOperand(action.value, item);  // the item before
    if (!value.ok()) return value.status();
    if (!value->has_value()) {
      return ValidationError(
          "The provided expression refers to an attribute that does not exist in the item");
    }
    const AttributeValue* existing = Resolve(item, action.path);
    switch (action.kind) {
      case UpdateAction::Kind::kSet: {
        AttributeValue* slot = Slot(&out, action.path);
        if (slot == nullptr) return InvalidDocumentPath();
        *slot = **value;
        break;
      }
      case UpdateAction::Kind::kAdd: {
        const AttributeValue& v = **value;
        // AttributeUpdates' ADD also appends a list to a list.
        const bool legacy_list = action.legacy && v.type == AttributeType::kL;
        if (v.type != AttributeType::kN && !IsSetType(v.type) && !legacy_list) {
          return OperandTypeError("UpdateExpression", "ADD", v);
        }
        AttributeValue result = v;
        if (existing != nullptr && legacy_list) {
          if (existing->type != AttributeType::kL) return TypeMismatch(action, *existing);
          result = *existing;
          for (const AttributeValue& e : v.list) result.list.push_back(e);
        } else if (existing != nullptr) {
          if (existing->type != v.type) return TypeMismatch(action, *existing);
          if (v.type == AttributeType::kN) {
            absl::StatusOr<Decimal> x = ParseDecimal(existing->scalar);
            absl::StatusOr<Decimal> y = ParseDecimal(v.scalar);
            if (!x.ok()) return x.status();
            if (!y.ok()) return y.status();
            absl::StatusOr<Decimal> sum = AddDecimal(*x, *y);
            if (!sum.ok()) return sum.status();
            result = AttributeValue::Number(FormatDecimal(*sum));
          } else {
            result = *existing;
            for (const std::string& e : v.set) {
              if (std::find(result.set.begin(), result.set.end(), e) == result.set.end()) {
                result.set.push_back(e);
              }
            }
          }
        }
        AttributeValue* slot = Slot(&out, action.path);
        if (slot == nullptr) return InvalidDocumentPath();
        *slot = std::move(result);
        break;
      }
      case UpdateAction::Kind::kDelete: {
        const AttributeValue& v = **value;
        if (!IsSetType(v.type)) return OperandTypeError("UpdateExpression", "DELETE", v);
        if (existing == nullptr) break;
        if (existing->type != v.type) return TypeMismatch(action, *existing);
        AttributeValue result = *existing;
        std::erase_if(result.set, [&](const std::string& e) {
          return std::find(v.set.begin(), v.set.end(), e) != v.set.end();
        });
        if (result.set.empty()) {
          if (absl::Status s = Remove(&out, action.path); !s.ok()) return s;
        } else {
          AttributeValue* slot = Slot(&out, action.path);
          if (slot == nullptr) return InvalidDocumentPath();
          *slot = std::move(result);
        }
        break;
      }
      case UpdateAction::Kind::kRemove:
        break;
    }
  }
  return out;
}

}  // namespace ekv::dynamo
