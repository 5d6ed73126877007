// DynamoDB expressions: condition expressions (ConditionExpression, and the grammar that
// KeyConditionExpression is a restricted form of), update expressions (SET, REMOVE, ADD,
// DELETE), their parser and their evaluation against an item.
//
// Parsing resolves every #name and :value placeholder through the request's
// ExpressionAttributeNames / ExpressionAttributeValues and records which were used, so a
// request can be refused for undefined or unused placeholders as DynamoDB does. Errors
// are ValidationExceptions worded like DynamoDB's ("Invalid ConditionExpression: Syntax
// error; token: ...").
//
// A bare attribute name that is one of DynamoDB's reserved words (reserved_words.h) is
// refused as DynamoDB refuses it: "Invalid ConditionExpression: Attribute name is a
// reserved keyword; reserved keyword: status".
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dynamo/attribute_value.h"

namespace ekv::dynamo {

// A document path: a.b[2].c
struct PathElement {
  std::string name;  // when index < 0
  int index = -1;    // list index
  bool operator==(const PathElement&) const = default;
};
using Path = std::vector<PathElement>;
std::string PathToString(const Path& path);

struct Operand {
  enum class Kind { kPath, kValue, kSize, kIfNotExists, kListAppend, kPlus, kMinus };
  Kind kind = Kind::kValue;
  Path path;                  // kPath, kIfNotExists
  AttributeValue value;       // kValue
  std::vector<Operand> args;  // kSize (1: any operand), kIfNotExists (1: fallback),
                              // kListAppend, kPlus, kMinus (2)
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

struct Condition {
  enum class Kind {
    kCompare,
    kBetween,
    kIn,
    kAnd,
    kOr,
    kNot,
    kAttributeExists,
    kAttributeNotExists,
    kAttributeType,
    kBeginsWith,
    kContains,
  };
  Kind kind = Kind::kCompare;
  CompareOp op = CompareOp::kEq;
  std::vector<Operand> operands;    // compare: 2; between: 3; in: 1 + list; functions
  std::vector<Condition> children;  // and/or: 2; not: 1
};

struct UpdateAction {
  enum class Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  Path path;
  Operand value;  // not for kRemove
  // From AttributeUpdates: a set of the wrong type is refused in that parameter's words.
  bool legacy = false;
};

// The request's placeholder maps and what parsing used of them.
struct ExpressionContext {
  std::map<std::string, std::string> names;  // "#n" -> attribute name
  AttributeMap values;                       // ":v" -> value
  std::set<std::string> used_names;
  std::set<std::string> used_values;
};

// `what` names the parameter in messages ("ConditionExpression", "KeyConditionExpression").
absl::StatusOr<Condition> ParseCondition(absl::string_view text, absl::string_view what,
                                         ExpressionContext* context);
absl::StatusOr<std::vector<UpdateAction>> ParseUpdate(absl::string_view text,
                                                      ExpressionContext* context);
// ProjectionExpression: a comma-separated list of document paths (projection.h applies it).
absl::StatusOr<std::vector<Path>> ParseProjection(absl::string_view text,
                                                  ExpressionContext* context);
// After every expression of a request is parsed: refuses placeholders defined but unused.
absl::Status CheckAllPlaceholdersUsed(const ExpressionContext& context);

// Evaluation. A missing item is an item without attributes.
absl::StatusOr<bool> EvaluateCondition(const Condition& condition, const AttributeMap& item);
// The item after the actions. Right-hand sides are evaluated against the item before any
// action, as DynamoDB does. Key attributes may not be changed (`key_names`).
absl::StatusOr<AttributeMap> ApplyUpdate(const std::vector<UpdateAction>& actions,
                                         const AttributeMap& item,
                                         const std::set<std::string>& key_names);

// Comparison in DynamoDB's order for two values of one scalar type (S, N: numeric, B);
// nullopt when the types differ or are not comparable.
std::optional<int> CompareValues(const AttributeValue& a, const AttributeValue& b);

}  // namespace ekv::dynamo
