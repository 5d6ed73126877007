#include "adapters/dynamo/expression.h"

#include <nlohmann/json.hpp>

#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/key_condition.h"
#include "adapters/dynamo/reserved_words.h"
#include "gtest/gtest.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

AttributeMap Item(const char* text) { return *AttributeMapFromJson(json::parse(text)); }

ExpressionContext Context(const char* values = "{}",
                          std::map<std::string, std::string> names = {}) {
  ExpressionContext context;
  context.values = Item(values);
  context.names = std::move(names);
  return context;
}

// Evaluates `condition` on `item`; "error: ..." when parsing or evaluation fails.
std::string Eval(const char* condition, const char* item, const char* values = "{}",
                 std::map<std::string, std::string> names = {}) {
  ExpressionContext context = Context(values, std::move(names));
  absl::StatusOr<Condition> parsed = ParseCondition(condition, "ConditionExpression", &context);
  if (!parsed.ok()) return "error: " + std::string(parsed.status().message());
  absl::StatusOr<bool> holds = EvaluateCondition(*parsed, Item(item));
  if (!holds.ok()) return "error: " + std::string(holds.status().message());
  return *holds ? "true" : "false";
}

TEST(DynamoCondition, ComparisonsFunctionsAndBooleans) {
  const char* item = R"({"a": {"N": "5"}, "s": {"S": "hello"}, "l": {"L": [{"N": "1"}]},
                         "m": {"M": {"x": {"S": "y"}}}, "ss": {"SS": ["p", "q"]}})";
  const char* values = R"({":five": {"N": "5.0"}, ":ten": {"N": "10"}, ":he": {"S": "he"},
                           ":y": {"S": "y"}, ":p": {"S": "p"}, ":one": {"N": "1"}})";
  EXPECT_EQ(Eval("a = :five", item, values), "true");
  EXPECT_EQ(Eval("a <> :five", item, values), "false");
  EXPECT_EQ(Eval("a < :ten AND a >= :five", item, values), "true");
  EXPECT_EQ(Eval("a > :ten OR NOT a <= :one", item, values), "true");
  EXPECT_EQ(Eval("NOT (a = :five)", item, values), "false");
  EXPECT_EQ(Eval("a BETWEEN :one AND :ten", item, values), "true");
  EXPECT_EQ(Eval("a IN (:one, :ten, :five)", item, values), "true");
  EXPECT_EQ(Eval("attribute_exists(s) and attribute_not_exists(nope)", item, values), "true");
  EXPECT_EQ(Eval("attribute_exists(m.x) AND attribute_not_exists(m.z)", item, values), "true");
  EXPECT_EQ(Eval("m.x = :y AND l[0] = :one", item, values), "true");
  EXPECT_EQ(Eval("begins_with(s, :he)", item, values), "true");
  EXPECT_EQ(Eval("contains(ss, :p) AND contains(s, :he)", item, values), "true");
  EXPECT_EQ(Eval("size(s) = :five", item, values), "true");
  // attribute_type: the attribute's type against a type name given as a value.
  const char* types = R"({":n": {"S": "N"}, ":s": {"S": "S"}, ":ss": {"S": "SS"},
                          ":m": {"S": "M"}, ":l": {"S": "L"}})";
  EXPECT_EQ(Eval("attribute_type(a, :n) AND attribute_type(s, :s) AND attribute_type(ss, :ss)",
                 item, types),
            "true");
  EXPECT_EQ(Eval("attribute_type(m, :m) AND attribute_type(l, :l)", item, types), "true");
  EXPECT_EQ(Eval("attribute_type(a, :s)", item, types), "false");
  EXPECT_EQ(Eval("attribute_type(nope, :s)", item, types), "false");
  // A missing attribute or another type: comparisons are false, <> is true.
  EXPECT_EQ(Eval("nope = :five", item, values), "false");
  EXPECT_EQ(Eval("nope <> :five", item, values), "true");
  EXPECT_EQ(Eval("s < :ten", item, values), "false");
  EXPECT_EQ(Eval("#k = :five", item, values, {{"#k", "a"}}), "true");
}

TEST(DynamoCondition, PrecedenceIsNotThenAndThenOr) {
  const char* values = R"({":t": {"BOOL": true}, ":f": {"BOOL": false}})";
  const char* item = R"({"x": {"BOOL": true}})";
  // x = :f OR x = :t AND x = :f  ==  false OR (true AND false)  == false
  EXPECT_EQ(Eval("x = :f OR x = :t AND x = :f", item, values), "false");
  EXPECT_EQ(Eval("(x = :f OR x = :t) AND x = :t", item, values), "true");
  EXPECT_EQ(Eval("NOT x = :f AND x = :t", item, values), "true");
}

TEST(DynamoCondition, ErrorsInDynamoDbWords) {
  EXPECT_EQ(Eval("a = :missing", "{}"),
            "error: Invalid ConditionExpression: An expression attribute value used in "
            "expression is not defined; attribute value: :missing");
  EXPECT_EQ(Eval("#n = :v", "{}", R"({":v": {"S": "x"}})"),
            "error: Invalid ConditionExpression: An expression attribute name used in the "
            "document path is not defined; attribute name: #n");
  EXPECT_NE(Eval("a = ", "{}").find("Invalid ConditionExpression: Syntax error; token: \"<EOF>\""),
            std::string::npos);
  EXPECT_EQ(Eval("a == :v", "{}", R"({":v": {"S": "x"}})").substr(0, 55),
            "error: Invalid ConditionExpression: Syntax error; token");
  EXPECT_EQ(Eval("frobnicate(a)", "{}"),
            "error: Invalid ConditionExpression: Invalid function name; function: frobnicate");
  EXPECT_EQ(Eval("attribute_exists(:v)", "{}", R"({":v": {"S": "x"}})").substr(0, 80),
            "error: Invalid ConditionExpression: Operator or function requires a document pat");
  std::string deep(100, '(');
  EXPECT_NE(Eval((deep + "a").c_str(), "{}").find("error"), std::string::npos);
}

// A wrong type known from the request itself (a constant, or size() which is a number) is
// the request's error even when no item is read; the same wrong type found in the item only
// makes the condition false.
TEST(DynamoCondition, RequestTypeErrorsAreRefusedItemTypeMismatchIsFalse) {
  const char* item = R"({"a": {"N": "1"}, "s": {"S": "hello"}, "l": {"L": [{"N": "1"}]},
                         "x": {"N": "3"}, "y": {"N": "2"}, "t": {"S": "N"}})";
  const char* values = R"({":list": {"L": [{"N": "1"}]}, ":two": {"N": "2"}, ":one": {"N": "1"},
                           ":dog": {"S": "dog"}, ":he": {"S": "he"}, ":n": {"S": "N"},
                           ":bad": {"S": "DOG"}, ":hello": {"S": "hellothere"}})";
  EXPECT_EQ(Eval("a < :list", item, values),
            "error: Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: <, operand type: L");
  EXPECT_EQ(Eval(":list >= a", "{}", values).substr(0, 35), "error: Invalid ConditionExpression:");
  EXPECT_EQ(Eval("l < :two", item, values), "false");
  EXPECT_EQ(Eval(":two > l", item, values), "false");
  EXPECT_EQ(Eval("a BETWEEN :two AND :one", "{}", values),
            "error: Invalid ConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound");
  EXPECT_EQ(Eval("a BETWEEN :one AND :dog", "{}", values).substr(0, 89),
            "error: Invalid ConditionExpression: The BETWEEN operator requires same data type for "
            "lowe");
  EXPECT_EQ(Eval("a BETWEEN x AND y", item, values), "false");  // bounds from the item
  // size(): a number in the item has none (false); a constant without one is refused.
  EXPECT_EQ(Eval("size(a) = :one", item, values), "false");
  EXPECT_EQ(Eval("size(:dog) = :two", "{}", values), "false");
  EXPECT_EQ(Eval("size(:he) = :two", "{}", values), "true");
  EXPECT_EQ(Eval("size(:two) = :one", "{}", values),
            "error: Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: size, operand type: N");
  EXPECT_EQ(Eval("size(size(s)) = :one", item, values).substr(0, 60),
            "error: Invalid ConditionExpression: Incorrect operand type f");
  EXPECT_EQ(Eval("size(s, s) = :one", item, values),
            "error: Invalid ConditionExpression: Incorrect number of operands for operator or "
            "function; operator or function: size, number of operands: 2");
  // begins_with: either operand may be a path or a value.
  EXPECT_EQ(Eval("begins_with(:hello, s)", item, values), "true");
  EXPECT_EQ(Eval("begins_with(s, :he) AND begins_with(:he, :he)", item, values), "true");
  EXPECT_EQ(Eval("begins_with(s, :two)", item, values),
            "error: Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
  EXPECT_EQ(Eval("begins_with(s, a)", item, values), "false");
  // attribute_type: any first operand; the second a value naming a type.
  EXPECT_EQ(Eval("attribute_type(:two, :n)", "{}", values), "true");
  EXPECT_EQ(Eval("attribute_type(a, :bad)", item, values),
            "error: Invalid ConditionExpression: Invalid attribute type name found; type: DOG, "
            "valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }");
  EXPECT_EQ(Eval("attribute_type(a, t)", item, values).substr(0, 60),
            "error: Invalid ConditionExpression: Incorrect operand type f");
  // Update-only and boolean functions are known but not operands.
  EXPECT_EQ(Eval("if_not_exists(a, a) = :one", item, values),
            "error: Invalid ConditionExpression: The function is not allowed to be used this way "
            "in an expression; function: if_not_exists");
  EXPECT_EQ(Eval("list_append(l, l) = :one", item, values).substr(0, 69),
            "error: Invalid ConditionExpression: The function is not allowed to be");
  EXPECT_EQ(Eval("dog(a) = :one", item, values),
            "error: Invalid ConditionExpression: Invalid function name; function: dog");
  // A name starts with a letter.
  EXPECT_EQ(Eval("_a = :one", item, values).substr(0, 57),
            "error: Invalid ConditionExpression: Syntax error; token: ");
}

// DynamoDB counts operators and functions (not parentheses) and allows 300 of them.
TEST(DynamoCondition, AtMost300Operators) {
  const char* item = R"({"a": {"N": "1"}, "b": {"N": "2"}})";
  const auto nested = [](int depth) {
    std::string text = "a<b ";
    for (int i = 0; i < depth; ++i) text += "or (a<b ";
    return text + std::string(depth, ')');
  };
  EXPECT_EQ(Eval(nested(149).c_str(), item), "true");  // 299 operators
  EXPECT_EQ(Eval(nested(150).c_str(), item),
            "error: Invalid ConditionExpression: The expression contains too many operators; "
            "operator count: 301");
  std::string flat = "a<b";
  for (int i = 0; i < 200; ++i) flat += " or a<b";
  EXPECT_EQ(Eval(flat.c_str(), item).substr(0, 86),
            "error: Invalid ConditionExpression: The expression contains too many operators; "
            "operat");
}

// IN takes at most 100 candidates; the 101st is refused in DynamoDB's words.
TEST(DynamoCondition, InTakesAtMost100Operands) {
  const auto in = [](int candidates) {
    std::string text = "a IN (:x";
    for (int i = 1; i < candidates; ++i) text += ", :v";
    return text + ")";
  };
  const char* item = R"({"a": {"N": "1"}})";
  const char* values = R"({":v": {"N": "2"}, ":x": {"N": "1"}})";
  EXPECT_EQ(Eval(in(100).c_str(), item, values), "true");
  EXPECT_EQ(Eval(in(101).c_str(), item, values),
            "error: Invalid ConditionExpression: The IN operator is provided with too many "
            "operands; number of operands: 101");
}

TEST(DynamoCondition, UnusedPlaceholdersAreRefused) {
  ExpressionContext context = Context(R"({":a": {"S": "x"}, ":b": {"S": "y"}})", {{"#n", "name"}});
  ASSERT_TRUE(ParseCondition("x = :a", "ConditionExpression", &context).ok());
  absl::Status unused = CheckAllPlaceholdersUsed(context);
  EXPECT_EQ(unused.message(),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}");
}

std::string Update(const char* expression, const char* item, const char* values = "{}",
                   std::map<std::string, std::string> names = {}) {
  ExpressionContext context = Context(values, std::move(names));
  absl::StatusOr<std::vector<UpdateAction>> actions = ParseUpdate(expression, &context);
  if (!actions.ok()) return "error: " + std::string(actions.status().message());
  absl::StatusOr<AttributeMap> out = ApplyUpdate(*actions, Item(item), {"pk"});
  if (!out.ok()) return "error: " + std::string(out.status().message());
  return AttributeMapToJson(*out).dump();
}

// DynamoDB refuses a reserved word (its list of 573, case-insensitive) as a bare
// attribute name anywhere in a document path, in every kind of expression; a placeholder
// standing for it, a word merely containing one, and the grammar's own keywords and
// functions are fine.
TEST(DynamoReservedWords, BareReservedNamesAreRefusedInEveryExpression) {
  EXPECT_EQ(ReservedWordCount(), 573u);
  for (const char* word : {"status", "STATUS", "Name", "count", "total", "owner", "size", "value",
                           "data", "year", "ttl", "loged", "localtimestamp"}) {
    EXPECT_TRUE(IsReservedWord(word)) << word;
  }
  for (const char* word : {"", "statuses", "id", "balance", "version", "stale", "extra",
                           "attribute_exists", "localtimestamps", "na me"}) {
    EXPECT_FALSE(IsReservedWord(word)) << word;
  }
  const char* values = R"({":v": {"S": "x"}})";
  const char* item = R"({"status": {"S": "x"}, "m": {"M": {"name": {"S": "x"}}}})";
  EXPECT_EQ(Eval("status = :v", item, values),
            "error: Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: status");
  // The word as the client wrote it; any part of a path.
  EXPECT_EQ(Eval("attribute_exists(m.Name)", item),
            "error: Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: Name");
  EXPECT_EQ(Eval("size(data) = :v", item, values),
            "error: Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: data");
  EXPECT_EQ(Eval("#s = :v AND m.#n = :v", item, values, {{"#s", "status"}, {"#n", "name"}}),
            "true");
  EXPECT_EQ(Eval("statuses = :v OR begins_with(m.#n, :v)", item, values, {{"#n", "name"}}), "true");
  EXPECT_EQ(Update("SET count = :v", "{}", values),
            "error: Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
            "keyword: count");
  EXPECT_EQ(Update("SET a = :v REMOVE ttl", "{}", values),
            "error: Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
            "keyword: ttl");
  EXPECT_EQ(Update("SET a = if_not_exists(total, :v)", "{}", values),
            "error: Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
            "keyword: total");
  EXPECT_EQ(Update("SET #c = :v", "{}", values, {{"#c", "count"}}), R"({"count":{"S":"x"}})");
  ExpressionContext context = Context();
  absl::StatusOr<std::vector<Path>> projection = ParseProjection("a, year", &context);
  EXPECT_EQ(projection.status().message(),
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: year");
}

TEST(DynamoUpdate, SetRemoveAddDelete) {
  const char* item = R"({"pk": {"S": "k"}, "n": {"N": "1"}, "stale": {"S": "x"},
                         "tags": {"SS": ["a", "b"]}, "m": {"M": {"x": {"N": "1"}}},
                         "l": {"L": [{"N": "1"}]}})";
  const char* values = R"({":v": {"S": "new"}, ":one": {"N": "1"}, ":c": {"SS": ["c"]},
                           ":a": {"SS": ["a"]}, ":l": {"L": [{"N": "2"}]}})";
  EXPECT_EQ(Update("SET a = :v, n = n + :one REMOVE stale", item, values),
            R"({"a":{"S":"new"},"l":{"L":[{"N":"1"}]},"m":{"M":{"x":{"N":"1"}}},"n":{"N":"2"},)"
            R"("pk":{"S":"k"},"tags":{"SS":["a","b"]}})");
  EXPECT_EQ(
      Update("SET m.y = :v, l = list_append(l, :l) ADD tags :c DELETE tags2 :a", item, values),
      R"({"l":{"L":[{"N":"1"},{"N":"2"}]},"m":{"M":{"x":{"N":"1"},"y":{"S":"new"}}},)"
      R"("n":{"N":"1"},"pk":{"S":"k"},"stale":{"S":"x"},"tags":{"SS":["a","b","c"]}})");
  EXPECT_EQ(Update("SET c = if_not_exists(c, :one) ADD n :one DELETE tags :a", item, values),
            R"({"c":{"N":"1"},"l":{"L":[{"N":"1"}]},"m":{"M":{"x":{"N":"1"}}},"n":{"N":"2"},)"
            R"("pk":{"S":"k"},"stale":{"S":"x"},"tags":{"SS":["b"]}})");
  // Right-hand sides see the item before the update.
  EXPECT_EQ(Update("SET #a = n, n = :v", R"({"n": {"N": "7"}})", values, {{"#a", "copy"}}),
            R"({"copy":{"N":"7"},"n":{"S":"new"}})");
}

// List indexes name elements of the item before the update: removals come after the other
// actions and run from the highest index; SETs past the end append in index order.
TEST(DynamoUpdate, ListIndexesReferToTheItemBefore) {
  const char* item = R"({"a": {"L": [{"N": "2"}, {"N": "3"}, {"N": "4"}, {"N": "5"}]}})";
  const char* values = R"({":v": {"N": "17"}, ":w": {"N": "18"}, ":x": {"N": "19"}})";
  const char* expected = R"({"a":{"L":[{"N":"2"},{"N":"4"},{"N":"17"}]}})";
  EXPECT_EQ(Update("REMOVE a[1] SET a[3] = :v", item, values), expected);
  EXPECT_EQ(Update("SET a[3] = :v REMOVE a[1]", item, values), expected);
  EXPECT_EQ(Update("REMOVE a[0], a[2]", item, values), R"({"a":{"L":[{"N":"3"},{"N":"5"}]}})");
  EXPECT_EQ(Update("SET a[90] = :v, a[50] = :x, a[70] = :w", item, values),
            R"({"a":{"L":[{"N":"2"},{"N":"3"},{"N":"4"},{"N":"5"},{"N":"19"},{"N":"18"},)"
            R"({"N":"17"}]}})");
}

TEST(DynamoUpdate, InvalidPathsAndConflicts) {
  const char* item = R"({"s": {"S": "x"}, "l": {"L": [{"N": "1"}]}})";
  const char* values = R"({":v": {"N": "1"}, ":w": {"N": "2"}})";
  const std::string invalid =
      "error: The document path provided in the update expression is invalid for update";
  EXPECT_EQ(Update("REMOVE s.c", item), invalid);
  EXPECT_EQ(Update("REMOVE l.c", item), invalid);
  EXPECT_EQ(Update("REMOVE nope.c", item), invalid);
  EXPECT_EQ(Update("REMOVE s[0]", item), invalid);
  EXPECT_EQ(Update("SET s[0] = :v", item, values), invalid);
  // 32 levels of nesting; indexes within int range.
  std::string deep = "a";
  for (int i = 0; i < 31; ++i) deep += ".b";
  ExpressionContext context = Context();
  EXPECT_TRUE(ParseProjection(deep, &context).ok());
  EXPECT_EQ(ParseProjection(deep + ".b", &context).status().message(),
            "Invalid ProjectionExpression: The document path has too many nesting levels; "
            "nesting levels: 33");
  EXPECT_EQ(ParseProjection("a[99999999999999]", &context).status().message(),
            "Invalid ProjectionExpression: List index is not within the allowable range; index: "
            "[99999999999999]");
  // An index past a list's end removes nothing.
  EXPECT_EQ(Update("REMOVE l[5]", item), R"({"l":{"L":[{"N":"1"}]},"s":{"S":"x"}})");
  EXPECT_EQ(Update("SET m.b = :v, m[1] = :w", "{}", values),
            "error: Invalid UpdateExpression: Two document paths conflict with each other; must "
            "remove or rewrite one of these paths; path one: [m, b], path two: [m, [1]]");
  EXPECT_NE(Update("SET _a = :v", "{}", values).find("Syntax error; token: \"_\""),
            std::string::npos);
}

TEST(DynamoUpdate, Errors) {
  const char* values = R"({":v": {"S": "x"}, ":one": {"N": "1"}})";
  EXPECT_EQ(Update("SET pk = :v", "{}", values),
            "error: One or more parameter values were invalid: Cannot update attribute pk. This "
            "attribute is part of the key");
  EXPECT_EQ(Update("SET a = :v, a = :one", "{}", values),
            "error: Invalid UpdateExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [a], path two: [a]");
  EXPECT_EQ(Update("SET a.b[1] = :v REMOVE a.b", "{}", values),
            "error: Invalid UpdateExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [a, b, [1]], path two: [a, b]");
  EXPECT_EQ(Update("SET a = :v SET b = :one", "{}", values),
            "error: Invalid UpdateExpression: The \"SET\" section can only be used once in an "
            "update expression;");
  EXPECT_EQ(Update("SET a = b + :one", "{}", values),
            "error: The provided expression refers to an attribute that does not exist in the "
            "item");
  EXPECT_EQ(Update("SET a = :v + :one", "{}", values),
            "error: Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator or function: +, operand type: S");
  EXPECT_EQ(Update("SET m.x = :v", "{}", values),
            "error: The document path provided in the update expression is invalid for update");
  EXPECT_NE(Update("FROB a", "{}", values).find("Syntax error"), std::string::npos);
}

class KeyConditionTest : public ::testing::Test {
 protected:
  KeyConditionTest() {
    schema_.id = 9;
    schema_.hash = {"pk", AttributeType::kS};
    schema_.range = KeyElement{"sk", AttributeType::kN};
  }
  absl::StatusOr<KeyRange> Range(const char* text, const char* values) {
    ExpressionContext context = Context(values);
    absl::StatusOr<Condition> c = ParseCondition(text, "KeyConditionExpression", &context);
    if (!c.ok()) return c.status();
    return KeyConditionRange(*c, schema_);
  }
  // Whether an item with range key `n` falls in the range of `text`.
  bool Matches(const KeyRange& range, const char* n) {
    const std::string key =
        PartitionPrefix(9, KeyLayout::kHashed, *EncodeKeyValue(AttributeValue::String("h"))) +
        *EncodeKeyValue(AttributeValue::Number(n));
    return range.start <= key && (range.end.empty() || key < range.end);
  }
  TableSchema schema_;
};

TEST_F(KeyConditionTest, RangeConditionsSelectExactlyTheirKeys) {
  const char* values = R"({":h": {"S": "h"}, ":a": {"N": "5"}, ":b": {"N": "10"}})";
  struct Case {
    const char* expression;
    std::vector<const char*> in, out;
  };
  const Case cases[] = {
      {"pk = :h", {"-1", "5", "100"}, {}},
      {"pk = :h AND sk = :a", {"5"}, {"4", "6", "50"}},
      {"pk = :h AND sk < :a", {"4.9", "-3"}, {"5", "10"}},
      {"pk = :h AND sk <= :a", {"5", "-3"}, {"5.1", "10"}},
      {"pk = :h AND sk > :a", {"5.01", "10"}, {"5", "-5"}},
      {"pk = :h AND sk >= :a", {"5", "100"}, {"4.99"}},
      {"pk = :h AND :a < sk", {"6"}, {"5"}},
      {"sk BETWEEN :a AND :b AND pk = :h", {"5", "7", "10"}, {"4", "10.5"}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<KeyRange> range = Range(c.expression, values);
    ASSERT_TRUE(range.ok()) << c.expression << ": " << range.status();
    for (const char* n : c.in) EXPECT_TRUE(Matches(*range, n)) << c.expression << " " << n;
    for (const char* n : c.out) EXPECT_FALSE(Matches(*range, n)) << c.expression << " " << n;
  }
  // Another hash key is never in range.
  absl::StatusOr<KeyRange> range = Range("pk = :h", values);
  const std::string other =
      PartitionPrefix(9, KeyLayout::kHashed, *EncodeKeyValue(AttributeValue::String("hh")));
  EXPECT_FALSE(range->start <= other && other < range->end);
}

TEST_F(KeyConditionTest, RefusesWhatDynamoDbRefuses) {
  const char* values = R"({":h": {"S": "h"}, ":a": {"N": "5"}, ":s": {"S": "x"}})";
  EXPECT_EQ(Range("sk = :a", values).status().message(),
            "Query condition missed key schema element: pk");
  EXPECT_EQ(Range("pk = :h OR sk = :a", values).status().message(),
            "Invalid operator used in KeyConditionExpression: OR");
  EXPECT_EQ(Range("pk = :h AND extra = :a", values).status().message(),
            "Query key condition not supported");
  EXPECT_EQ(Range("pk = :h AND sk = :s", values).status().message(),
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type");
  EXPECT_FALSE(Range("pk = :h AND begins_with(sk, :a)", values).ok());
  EXPECT_FALSE(Range("pk < :h", values).ok());
}

TEST(DynamoKeyCondition, BeginsWithOnStringRangeKeys) {
  TableSchema schema;
  schema.id = 3;
  schema.hash = {"pk", AttributeType::kN};
  schema.range = KeyElement{"sk", AttributeType::kS};
  ExpressionContext context = Context(R"({":h": {"N": "1"}, ":p": {"S": "ab"}})");
  absl::StatusOr<Condition> c =
      ParseCondition("pk = :h AND begins_with(sk, :p)", "KeyConditionExpression", &context);
  ASSERT_TRUE(c.ok());
  absl::StatusOr<KeyRange> range = KeyConditionRange(*c, schema);
  ASSERT_TRUE(range.ok());
  auto key = [](const char* s) {
    return PartitionPrefix(3, KeyLayout::kHashed, *EncodeKeyValue(AttributeValue::Number("1"))) +
           *EncodeKeyValue(AttributeValue::String(s));
  };
  for (const char* in : {"ab", "abc", "ab\xff"}) {
    EXPECT_TRUE(range->start <= key(in) && key(in) < range->end) << in;
  }
  for (const char* out : {"a", "aa", "ac", "b"}) {
    EXPECT_FALSE(range->start <= key(out) && key(out) < range->end) << out;
  }
}

}  // namespace
}  // namespace ekv::dynamo
