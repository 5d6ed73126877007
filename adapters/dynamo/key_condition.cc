#include "adapters/dynamo/key_condition.h"

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/key_codec.h"

namespace ekv::dynamo {
namespace {

absl::Status NotSupported() { return ValidationError("Query key condition not supported"); }

// One conjunct: which key attribute it constrains, with what, against which values.
struct KeyTerm {
  std::string attribute;
  Condition::Kind kind = Condition::Kind::kCompare;
  CompareOp op = CompareOp::kEq;
  std::vector<AttributeValue> values;
};

CompareOp Mirror(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    default:
      return op;
  }
}

bool IsSimplePath(const Operand& o) {
  return o.kind == Operand::Kind::kPath && o.path.size() == 1 && o.path[0].index < 0;
}

absl::Status InvalidOperator(absl::string_view op) {
  return ValidationError(absl::StrCat("Invalid operator used in KeyConditionExpression: ", op));
}

// A key condition names top-level key attributes only.
absl::Status CheckNotNested(const Condition& c) {
  for (const Operand& o : c.operands) {
    if (o.kind == Operand::Kind::kPath && o.path.size() > 1) {
      return ValidationError(
          absl::StrCat("KeyConditionExpressions cannot contain nested attributes; attribute: ",
                       PathToString(o.path)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyTerm> TermOf(const Condition& c) {
  if (absl::Status s = CheckNotNested(c); !s.ok()) return s;
  KeyTerm term;
  term.kind = c.kind;
  switch (c.kind) {
    case Condition::Kind::kCompare: {
      if (c.op == CompareOp::kNe) {
        return ValidationError("Unsupported operator in KeyConditionExpression: <>");
      }
      const Operand* path = &c.operands[0];
      const Operand* value = &c.operands[1];
      term.op = c.op;
      if (!IsSimplePath(*path)) {
        std::swap(path, value);
        term.op = Mirror(c.op);
      }
      if (!IsSimplePath(*path) || value->kind != Operand::Kind::kValue) return NotSupported();
      term.attribute = path->path[0].name;
      term.values.push_back(value->value);
      return term;
    }
    case Condition::Kind::kBetween:
    case Condition::Kind::kBeginsWith: {
      if (!IsSimplePath(c.operands[0])) return NotSupported();
      term.attribute = c.operands[0].path[0].name;
      for (size_t i = 1; i < c.operands.size(); ++i) {
        if (c.operands[i].kind != Operand::Kind::kValue) return NotSupported();
        term.values.push_back(c.operands[i].value);
      }
      return term;
    }
    case Condition::Kind::kOr:
      return InvalidOperator("OR");
    case Condition::Kind::kNot:
      return InvalidOperator("NOT");
    case Condition::Kind::kIn:
      return InvalidOperator("IN");
    case Condition::Kind::kAttributeExists:
      return InvalidOperator("attribute_exists");
    case Condition::Kind::kAttributeNotExists:
      return InvalidOperator("attribute_not_exists");
    case Condition::Kind::kAttributeType:
      return InvalidOperator("attribute_type");
    case Condition::Kind::kContains:
      return InvalidOperator("contains");
    default:
      return NotSupported();
  }
}

absl::StatusOr<std::string> Encoded(const KeyElement& element, const AttributeValue& value) {
  if (value.type != element.type) {
    return InvalidParameter("Condition parameter type does not match schema type");
  }
  return EncodeKeyValue(value);
}

}  // namespace

absl::StatusOr<KeyRange> KeyConditionRange(const Condition& condition, const TableSchema& schema) {
  std::vector<const Condition*> conjuncts;
  if (condition.kind == Condition::Kind::kAnd) {
    for (const Condition& child : condition.children) {
      if (child.kind == Condition::Kind::kAnd) {
        return ValidationError("Conditions can be of length 1 or 2 only");
      }
      conjuncts.push_back(&child);
    }
  } else {
    conjuncts.push_back(&condition);
  }
  std::optional<KeyTerm> hash_term;
  std::optional<KeyTerm> range_term;
  for (const Condition* c : conjuncts) {
    absl::StatusOr<KeyTerm> term = TermOf(*c);
    if (!term.ok()) return term.status();
    const bool is_hash = term->attribute == schema.hash.name;
    const bool is_range = schema.range && term->attribute == schema.range->name;
    if ((is_hash && hash_term) || (is_range && range_term)) {
      return ValidationError("KeyConditionExpressions must only contain one condition per key");
    }
    if (is_hash) {
      hash_term = *std::move(term);
    } else if (is_range) {
      range_term = *std::move(term);
    } else {
      return NotSupported();
    }
  }
  if (!hash_term) {
    return ValidationError(
        absl::StrCat("Query condition missed key schema element: ", schema.hash.name));
  }
  if (hash_term->kind != Condition::Kind::kCompare || hash_term->op != CompareOp::kEq) {
    return ValidationError("Query key condition not supported");
  }
  absl::StatusOr<std::string> hash = Encoded(schema.hash, hash_term->values[0]);
  if (!hash.ok()) return hash.status();
  const std::string prefix = PartitionPrefix(schema.id, schema.key_layout, *hash);
  KeyRange range{prefix, PrefixEnd(prefix)};
  if (!range_term) return range;

  const KeyElement& element = *schema.range;
  std::vector<std::string> encoded;
  for (const AttributeValue& v : range_term->values) {
    absl::StatusOr<std::string> e = Encoded(element, v);
    if (!e.ok()) return e.status();
    encoded.push_back(*std::move(e));
  }
  // "Just after every key starting with k" is PrefixEnd(k): for a table's items (prefix-free
  // encodings, nothing continues k) it is the same as k + "\0"; for a stored index's entries
  // it also passes the base-key suffix after the index key (secondary_index.h).
  switch (range_term->kind) {
    case Condition::Kind::kCompare:
      switch (range_term->op) {
        case CompareOp::kEq:
          return KeyRange{prefix + encoded[0], PrefixEnd(prefix + encoded[0])};
        case CompareOp::kLt:
          return KeyRange{prefix, prefix + encoded[0]};
        case CompareOp::kLe:
          return KeyRange{prefix, PrefixEnd(prefix + encoded[0])};
        case CompareOp::kGt:
          return KeyRange{PrefixEnd(prefix + encoded[0]), range.end};
        case CompareOp::kGe:
          return KeyRange{prefix + encoded[0], range.end};
        default:
          return NotSupported();
      }
    case Condition::Kind::kBetween: {
      std::optional<int> order = CompareValues(range_term->values[0], range_term->values[1]);
      if (order.has_value() && *order > 0) {
        return ValidationError(
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound");
      }
      return KeyRange{prefix + encoded[0], PrefixEnd(prefix + encoded[1])};
    }
    case Condition::Kind::kBeginsWith: {
      if (element.type == AttributeType::kN) {
        return ValidationError(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
      }
      const std::string start = prefix + EncodeBytesPrefix(range_term->values[0].scalar);
      return KeyRange{start, PrefixEnd(start)};
    }
    default:
      return NotSupported();
  }
}

}  // namespace ekv::dynamo
