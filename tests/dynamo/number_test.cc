#include "adapters/dynamo/number.h"

#include "adapters/dynamo/errors.h"
#include "gtest/gtest.h"

namespace ekv::dynamo {
namespace {

std::string Canon(const std::string& text) {
  absl::StatusOr<std::string> c = CanonicalNumber(text);
  return c.ok() ? *c : "error: " + std::string(c.status().message());
}

TEST(DynamoNumber, CanonicalFormStripsZerosAndExponent) {
  EXPECT_EQ(Canon("0"), "0");
  EXPECT_EQ(Canon("-0"), "0");
  EXPECT_EQ(Canon("007"), "7");
  EXPECT_EQ(Canon("1.50"), "1.5");
  EXPECT_EQ(Canon("1e3"), "1000");
  EXPECT_EQ(Canon("-12.5E-2"), "-0.125");
  EXPECT_EQ(Canon("+.5"), "0.5");
  EXPECT_EQ(Canon("123.456"), "123.456");
}

TEST(DynamoNumber, RefusesWhatDynamoDbRefuses) {
  for (const char* bad : {"", "abc", "1.2.3", "1e", "--1", "1 ", "0x10", "NaN"}) {
    absl::StatusOr<Decimal> d = ParseDecimal(bad);
    EXPECT_FALSE(d.ok()) << bad;
    EXPECT_EQ(ErrorName(d.status()), "ValidationException") << bad;
  }
  EXPECT_FALSE(ParseDecimal(std::string(39, '9')).ok());  // 39 significant digits
  EXPECT_TRUE(ParseDecimal(std::string(38, '9')).ok());
  EXPECT_TRUE(ParseDecimal("1" + std::string(60, '0')).ok());  // trailing zeros are free
  EXPECT_FALSE(ParseDecimal("1e126").ok());
  EXPECT_TRUE(ParseDecimal("9.9e125").ok());
  EXPECT_TRUE(ParseDecimal("1e-130").ok());
  EXPECT_FALSE(ParseDecimal("1e-131").ok());
  EXPECT_FALSE(ParseDecimal("1e99999999999").ok());
}

TEST(DynamoNumber, ArithmeticIsExact) {
  auto add = [](const char* a, const char* b) {
    return FormatDecimal(*AddDecimal(*ParseDecimal(a), *ParseDecimal(b)));
  };
  auto sub = [](const char* a, const char* b) {
    return FormatDecimal(*SubtractDecimal(*ParseDecimal(a), *ParseDecimal(b)));
  };
  EXPECT_EQ(add("0.1", "0.2"), "0.3");
  EXPECT_EQ(add("999", "1"), "1000");
  EXPECT_EQ(add("-5", "3"), "-2");
  EXPECT_EQ(add("5", "-5"), "0");
  EXPECT_EQ(sub("1", "0.001"), "0.999");
  EXPECT_EQ(sub("-1", "-1"), "0");
  EXPECT_EQ(add("12345678901234567890123456789012345678", "0"),
            "12345678901234567890123456789012345678");
  EXPECT_FALSE(AddDecimal(*ParseDecimal("1e100"), *ParseDecimal("1e-100")).ok());  // > 38 digits
  // DynamoDB words a sum that needs more than 38 digits as an overflow.
  EXPECT_EQ(AddDecimal(*ParseDecimal("1e50"), *ParseDecimal("1")).status().message(),
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range");
  EXPECT_EQ(ParseDecimal("dog").status().message(),
            "The parameter cannot be converted to a numeric value: dog");
}

TEST(DynamoNumber, CompareIsNumeric) {
  auto cmp = [](const char* a, const char* b) {
    return CompareDecimal(*ParseDecimal(a), *ParseDecimal(b));
  };
  EXPECT_EQ(cmp("2", "10"), -1);
  EXPECT_EQ(cmp("-2", "-10"), 1);
  EXPECT_EQ(cmp("0.5", "0.50"), 0);
  EXPECT_EQ(cmp("-0.001", "0"), -1);
  EXPECT_EQ(cmp("1.1", "1.09"), 1);
}

}  // namespace
}  // namespace ekv::dynamo
