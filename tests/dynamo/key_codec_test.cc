// The key encoding's one promise, checked as a property: for random values of one key
// type, bytewise order of the encodings equals DynamoDB's order of the values (numbers
// numerically, strings and binaries bytewise), and no encoding is a prefix of another.
#include "adapters/dynamo/key_codec.h"

#include <algorithm>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/expression.h"
#include "adapters/dynamo/number.h"
#include "gtest/gtest.h"

namespace ekv::dynamo {
namespace {

std::string RandomNumberText(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> digits(1, 38);
  std::uniform_int_distribution<int> digit(0, 9);
  std::uniform_int_distribution<int> exponent(-120, 80);
  std::uniform_int_distribution<int> shape(0, 9);
  std::string text = shape(rng) < 5 ? "-" : "";
  const int kind = shape(rng);
  if (kind == 0) return "0";
  if (kind <= 3) {
    // Small integers and near-equal values stress the digit comparison.
    return absl::StrCat(text, std::uniform_int_distribution<int>(0, 1000)(rng));
  }
  const int n = digits(rng);
  for (int i = 0; i < n; ++i) text.push_back(static_cast<char>('0' + digit(rng)));
  return absl::StrCat(text, "e", exponent(rng));
}

std::string RandomBytes(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> length(0, 6);
  // A small alphabet with 0x00, 0x01 and 0xff makes shared prefixes and escapes common.
  static const char kAlphabet[] = {'\0', '\x01', 'a', 'b', '\xfe', '\xff'};
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 1);
  std::string s;
  const int n = length(rng);
  for (int i = 0; i < n; ++i) s.push_back(kAlphabet[pick(rng)]);
  return s;
}

void CheckOrder(const std::vector<AttributeValue>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values.size(); ++j) {
      const std::string a = *EncodeKeyValue(values[i]);
      const std::string b = *EncodeKeyValue(values[j]);
      const int want = *CompareValues(values[i], values[j]);
      const int got = a < b ? -1 : (a > b ? 1 : 0);
      ASSERT_EQ(got, want) << values[i].scalar << " vs " << values[j].scalar;
      if (a != b) {
        ASSERT_FALSE(absl::StartsWith(b, a))
            << "encoding of " << values[i].scalar << " is a prefix of " << values[j].scalar;
      }
    }
  }
}

TEST(DynamoKeyCodec, NumberEncodingOrderIsNumericOrder) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 20; ++round) {
    std::vector<AttributeValue> values;
    for (int i = 0; i < 60; ++i) {
      values.push_back(AttributeValue::Number(*CanonicalNumber(RandomNumberText(rng))));
    }
    CheckOrder(values);
  }
}

TEST(DynamoKeyCodec, NumberEdgeCases) {
  std::vector<AttributeValue> values;
  for (const char* n : {"-1e125", "-10", "-9.99", "-1", "-0.1", "-0.01", "-1e-130", "0", "1e-130",
                        "0.01", "0.1", "0.11", "1", "1.5", "2", "10", "11", "100", "9.9999e125"}) {
    values.push_back(AttributeValue::Number(*CanonicalNumber(n)));
  }
  CheckOrder(values);
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    EXPECT_LT(*EncodeKeyValue(values[i]), *EncodeKeyValue(values[i + 1])) << values[i].scalar;
  }
}

TEST(DynamoKeyCodec, StringAndBinaryEncodingOrderIsBytewise) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<AttributeValue> strings;
    std::vector<AttributeValue> binaries;
    for (int i = 0; i < 60; ++i) {
      strings.push_back(AttributeValue::String(RandomBytes(rng)));
      binaries.push_back(AttributeValue::Binary(RandomBytes(rng)));
    }
    CheckOrder(strings);
    CheckOrder(binaries);
  }
}

TEST(DynamoKeyCodec, BeginsWithPrefixMatchesExactlyTheValuesWithThatPrefix) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    const std::string prefix = RandomBytes(rng);
    const std::string value = RandomBytes(rng);
    const bool encoded_match =
        absl::StartsWith(*EncodeKeyValue(AttributeValue::String(value)), EncodeBytesPrefix(prefix));
    ASSERT_EQ(encoded_match, absl::StartsWith(value, prefix));
  }
}

TEST(DynamoKeyCodec, LayoutKeepsTablesApartAndUnderTheReservedPrefix) {
  EXPECT_TRUE(absl::StartsWith(TableMetaKey("t1"), DynamoPrefix()));
  EXPECT_TRUE(absl::StartsWith(ItemPrefix(7), DynamoPrefix()));
  EXPECT_LT(ItemPrefix(7), ItemPrefix(8));
  EXPECT_FALSE(absl::StartsWith(ItemPrefix(8), ItemPrefix(7)));
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd("\xff"), "");
  EXPECT_FALSE(EncodeKeyValue(AttributeValue::Bool(true)).ok());
}

}  // namespace
}  // namespace ekv::dynamo
