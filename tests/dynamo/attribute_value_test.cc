#include "adapters/dynamo/attribute_value.h"

#include <nlohmann/json.hpp>

#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/item_codec.h"
#include "gtest/gtest.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

absl::StatusOr<AttributeValue> Parse(const char* text) {
  return AttributeValueFromJson(json::parse(text));
}

std::string ErrorOf(const char* text) {
  absl::StatusOr<AttributeValue> v = Parse(text);
  if (v.ok()) return "ok";
  return ErrorName(v.status()) + ": " + std::string(v.status().message());
}

TEST(DynamoAttributeValue, EveryTypeRoundTrips) {
  const char* kItem = R"({
    "s": {"S": "héllo"}, "n": {"N": "42.5"}, "b": {"B": "AAH/"},
    "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["AQ==", "Ag=="]},
    "m": {"M": {"inner": {"L": [{"S": "x"}, {"NULL": true}, {"BOOL": false}]}}},
    "t": {"BOOL": true}, "z": {"NULL": true}})";
  absl::StatusOr<AttributeMap> item = AttributeMapFromJson(json::parse(kItem));
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(AttributeMapToJson(*item), json::parse(kItem));
  EXPECT_EQ(item->at("b").scalar, std::string("\x00\x01\xff", 3));
  absl::StatusOr<AttributeMap> decoded = DecodeItem(EncodeItem(*item));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, *item);
}

TEST(DynamoAttributeValue, NumbersAreCanonical) {
  EXPECT_EQ(Parse(R"({"N": "0010.500"})")->scalar, "10.5");
  EXPECT_EQ(AttributeValueToJson(*Parse(R"({"NS": ["1.0", "2e1"]})")),
            json::parse(R"({"NS": ["1", "20"]})"));
}

TEST(DynamoAttributeValue, ValidationInDynamoDbWords) {
  EXPECT_EQ(ErrorOf(R"({})"),
            "ValidationException: Supplied AttributeValue is empty, must contain exactly one of "
            "the supported datatypes");
  EXPECT_EQ(ErrorOf(R"({"S": "a", "N": "1"})"),
            "ValidationException: Supplied AttributeValue has more than one datatypes set, must "
            "contain exactly one of the supported datatypes");
  EXPECT_EQ(ErrorOf(R"({"SS": []})"),
            "ValidationException: One or more parameter values were invalid: An string set  may "
            "not be empty");
  EXPECT_EQ(ErrorOf(R"({"SS": ["a", "a"]})"),
            "ValidationException: One or more parameter values were invalid: Input collection "
            "[a, a] contains duplicates.");
  EXPECT_EQ(ErrorOf(R"({"N": "x1"})"),
            "ValidationException: The parameter cannot be converted to a numeric value: x1");
  EXPECT_EQ(ErrorOf(R"({"NULL": false})"),
            "ValidationException: One or more parameter values were invalid: Null attribute "
            "value types must have the value of true");
  EXPECT_EQ(ErrorName(Parse(R"({"S": 5})").status()), "SerializationException");
  EXPECT_EQ(ErrorName(Parse(R"({"B": "!!"})").status()), "SerializationException");
  EXPECT_EQ(ErrorName(Parse(R"({"X": "1"})").status()), "ValidationException");
  // Base64 without its '=' padding is refused, as DynamoDB's parser refuses it.
  EXPECT_EQ(ErrorOf(R"({"B": "YWJjZGVmZ2g"})"),
            "SerializationException: Base64 encoded length is expected a multiple of 4 bytes but "
            "found: 11");
  EXPECT_TRUE(Parse(R"({"BS": ["YWJjZGVmZ2g="]})").ok());
  EXPECT_EQ(ErrorName(Parse(R"({"BS": ["fakebase64"]})").status()), "SerializationException");
}

// DynamoDB's item size: a number is 1 byte per two significant digits (leading and
// trailing zeros trimmed) plus 1, whatever its magnitude; names count too.
TEST(DynamoAttributeValue, SizesCountSignificantDigitsOfNumbers) {
  const auto size = [](const char* text) { return AttributeSize(*Parse(text)); };
  EXPECT_EQ(size(R"({"N": "0"})"), 2u);
  EXPECT_EQ(size(R"({"N": "3"})"), 2u);
  EXPECT_EQ(size(R"({"N": "-3.14"})"), 3u);  // 3 digits
  EXPECT_EQ(size(R"({"N": "1000"})"), 2u);   // 1 significant digit
  EXPECT_EQ(size(R"({"N": "0.00015"})"), 2u);
  EXPECT_EQ(size(R"({"N": "100.5"})"), 3u);  // 4 digits
  // 38 significant digits and 30 zeros: 20 bytes, not the 35 of its 68-digit text.
  EXPECT_EQ(size(R"({"N": "31415926535897932384626433832795028841e30"})"), 20u);
  EXPECT_EQ(size(R"({"NS": ["1e100", "12"]})"), 1u + 2u + 2u);
  absl::StatusOr<AttributeMap> item = AttributeMapFromJson(json::parse(R"({"ab": {"N": "1e9"}})"));
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(ItemSize(*item), 2u + 2u);
}

TEST(DynamoAttributeValue, NestingIsBounded) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += R"({"L": [)";
  deep += R"({"S": "x"})";
  for (int i = 0; i < 40; ++i) deep += "]}";
  EXPECT_EQ(AttributeValueFromJson(json::parse(deep)).status().message(),
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
            "levels beyond supported limit");
  EXPECT_EQ(ErrorName(AttributeValueFromJson(json::parse(deep)).status()), "ValidationException");
}

TEST(DynamoAttributeValue, EqualityTreatsSetsAsSets) {
  EXPECT_EQ(*Parse(R"({"SS": ["a", "b"]})"), *Parse(R"({"SS": ["b", "a"]})"));
  EXPECT_NE(*Parse(R"({"SS": ["a"]})"), *Parse(R"({"S": "a"})"));
  EXPECT_EQ(*Parse(R"({"N": "1.0"})"), *Parse(R"({"N": "1"})"));
  EXPECT_NE(*Parse(R"({"L": [{"S": "a"}, {"S": "b"}]})"),
            *Parse(R"({"L": [{"S": "b"}, {"S": "a"}]})"));
}

TEST(DynamoAttributeValue, StoredItemOfUnknownFormatIsDataLoss) {
  EXPECT_EQ(DecodeItem("\x02{}").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeItem("").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ekv::dynamo
