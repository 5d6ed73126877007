// libFuzzer target: the DynamoDB front door's expression parser and evaluator. The first
// byte picks the grammar (condition, update, projection); the rest is the expression text,
// parsed with a fixed set of #name and :value placeholders, then, when it parses, evaluated
// against a fixed item (conditions) or applied to it (updates). Invariants: no input
// crashes, hangs or asserts; every refusal is a status carrying a DynamoDB error name; an
// update that applies never changes a key attribute and yields a valid item.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "adapters/dynamo/attribute_value.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/expression.h"
#include "core/util/assert.h"

namespace {

using ekv::dynamo::AttributeMap;

const AttributeMap& Item() {
  static const AttributeMap* item = [] {
    auto parsed = ekv::dynamo::AttributeMapFromJson(nlohmann::json::parse(R"({
      "pk": {"S": "key"}, "n": {"N": "12.5"}, "s": {"S": "text"}, "b": {"B": "AAE="},
      "ok": {"BOOL": true}, "nil": {"NULL": true}, "ss": {"SS": ["a", "b"]},
      "ns": {"NS": ["1", "2"]}, "l": {"L": [{"N": "1"}, {"S": "x"}, {"L": []}]},
      "m": {"M": {"inner": {"M": {"deep": {"N": "-3"}}}, "list": {"L": [{"N": "7"}]}}}})"));
    EKV_ASSERT(parsed.ok(), "the fuzz item must parse");
    return new AttributeMap(*std::move(parsed));
  }();
  return *item;
}

ekv::dynamo::ExpressionContext Context() {
  ekv::dynamo::ExpressionContext context;
  context.names = {{"#k", "pk"}, {"#n", "n"}, {"#m", "m"}, {"#x", "missing"}, {"#l", "l"}};
  auto values = ekv::dynamo::AttributeMapFromJson(nlohmann::json::parse(R"({
      ":one": {"N": "1"}, ":s": {"S": "te"}, ":ss": {"SS": ["a"]}, ":l": {"L": [{"N": "9"}]},
      ":m": {"M": {"a": {"BOOL": false}}}, ":big": {"N": "9.9999999999999999999999999999999999999E+125"},
      ":b": {"B": "AA=="}, ":null": {"NULL": true}})"));
  EKV_ASSERT(values.ok(), "the fuzz values must parse");
  context.values = *std::move(values);
  return context;
}

void ExpectNamedError(const absl::Status& status) {
  EKV_ASSERT(!status.ok(), "an error status was expected");
  EKV_ASSERT(!ekv::dynamo::ErrorName(status).empty(),
             "every expression error must carry a DynamoDB error name");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  ekv::dynamo::ExpressionContext context = Context();
  switch (data[0] % 3) {
    case 0: {
      auto condition = ekv::dynamo::ParseCondition(text, "ConditionExpression", &context);
      if (!condition.ok()) return ExpectNamedError(condition.status()), 0;
      auto holds = ekv::dynamo::EvaluateCondition(*condition, Item());
      if (!holds.ok()) ExpectNamedError(holds.status());
      (void)ekv::dynamo::CheckAllPlaceholdersUsed(context);
      break;
    }
    case 1: {
      auto actions = ekv::dynamo::ParseUpdate(text, &context);
      if (!actions.ok()) return ExpectNamedError(actions.status()), 0;
      auto next = ekv::dynamo::ApplyUpdate(*actions, Item(), std::set<std::string>{"pk"});
      if (!next.ok()) return ExpectNamedError(next.status()), 0;
      auto key = next->find("pk");
      EKV_ASSERT(key != next->end() && key->second == Item().at("pk"),
                 "an update must never change a key attribute");
      // The result must survive its own wire form.
      auto again = ekv::dynamo::AttributeMapFromJson(ekv::dynamo::AttributeMapToJson(*next));
      EKV_ASSERT(again.ok(), "an updated item must be a valid item");
      break;
    }
    default: {
      auto paths = ekv::dynamo::ParseProjection(text, &context);
      if (!paths.ok()) ExpectNamedError(paths.status());
      break;
    }
  }
  return 0;
}
