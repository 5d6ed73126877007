// DynamoDB numbers: signed decimals of at most 38 significant digits, magnitude in
// [1E-130, 1E+126), zero included. Held exactly (never as a double) so that comparisons,
// ADD/SET arithmetic and the order-preserving key encoding agree with DynamoDB.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::dynamo {

constexpr int kMaxNumberDigits = 38;

// value = (negative ? -1 : 1) * 0.d1 d2 ... dn * 10^exponent, d1 != 0 and dn != 0
// (no leading or trailing zeros); zero is digits == "".
struct Decimal {
  bool negative = false;
  std::string digits;  // '0'..'9'
  int exponent = 0;
  bool is_zero() const { return digits.empty(); }
  bool operator==(const Decimal&) const = default;
};

// Parses DynamoDB's number syntax ("-12.50", "1e3", "+.5"). Errors are ValidationExceptions
// in DynamoDB's words (not a number, more than 38 digits, overflow, underflow).
absl::StatusOr<Decimal> ParseDecimal(absl::string_view text);
// The canonical text DynamoDB answers with: no exponent, no leading or trailing zeros
// ("1.50" -> "1.5", "1e3" -> "1000", "-0" -> "0").
std::string FormatDecimal(const Decimal& value);
// -1, 0, 1.
int CompareDecimal(const Decimal& a, const Decimal& b);
// a + b and a - b; errors when the result needs more than 38 digits or leaves the range.
absl::StatusOr<Decimal> AddDecimal(const Decimal& a, const Decimal& b);
absl::StatusOr<Decimal> SubtractDecimal(const Decimal& a, Decimal b);

// Canonical form of a number text (ParseDecimal then FormatDecimal).
absl::StatusOr<std::string> CanonicalNumber(absl::string_view text);

}  // namespace ekv::dynamo
