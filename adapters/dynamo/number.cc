#include "adapters/dynamo/number.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"

namespace ekv::dynamo {
namespace {

// 10^126 is the first magnitude too large: 0.d * 10^126 >= 10^125 is fine, 0.d * 10^127
// is not. 10^-130 is the smallest: 0.1 * 10^-129.
constexpr int kMaxExponent = 126;
constexpr int kMinExponent = -129;
// Bounds on the exponent text before the range check: keeps a huge "1e999999999999"
// from overflowing int.
constexpr int kMaxExponentTextDigits = 6;

absl::Status NotANumber(absl::string_view text) {
  return ValidationError(
      absl::StrCat("The parameter cannot be converted to a numeric value: ", text));
}

absl::StatusOr<Decimal> Checked(Decimal d) {
  if (d.is_zero()) {
    d.negative = false;
    d.exponent = 0;
    return d;
  }
  if (static_cast<int>(d.digits.size()) > kMaxNumberDigits) {
    return ValidationError("Attempting to store more than 38 significant digits in a Number");
  }
  if (d.exponent > kMaxExponent) {
    return ValidationError(
        "Number overflow. Attempting to store a number with magnitude larger than supported "
        "range");
  }
  if (d.exponent < kMinExponent) {
    return ValidationError(
        "Number underflow. Attempting to store a number with magnitude smaller than supported "
        "range");
  }
  return d;
}

// Strips leading zeros (adjusting the exponent) and trailing zeros.
void Normalize(Decimal* d) {
  size_t lead = 0;
  while (lead < d->digits.size() && d->digits[lead] == '0') ++lead;
  d->digits.erase(0, lead);
  d->exponent -= static_cast<int>(lead);
  while (!d->digits.empty() && d->digits.back() == '0') d->digits.pop_back();
  if (d->digits.empty()) {
    d->negative = false;
    d->exponent = 0;
  }
}

int CompareMagnitude(const Decimal& a, const Decimal& b) {
  if (a.is_zero() || b.is_zero()) return a.is_zero() ? (b.is_zero() ? 0 : -1) : 1;
  if (a.exponent != b.exponent) return a.exponent < b.exponent ? -1 : 1;
  const int c = a.digits.compare(b.digits);  // no trailing zeros: shorter prefix is smaller
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// Integer digit strings aligned to a common scale: value = digits * 10^scale.
void Align(const Decimal& a, const Decimal& b, std::string* x, std::string* y) {
  const int scale_a = a.exponent - static_cast<int>(a.digits.size());
  const int scale_b = b.exponent - static_cast<int>(b.digits.size());
  const int scale = std::min(scale_a, scale_b);
  *x = a.digits + std::string(scale_a - scale, '0');
  *y = b.digits + std::string(scale_b - scale, '0');
  const size_t width = std::max(x->size(), y->size());
  x->insert(0, width - x->size(), '0');
  y->insert(0, width - y->size(), '0');
}

// Digit strings of equal width.
std::string AddDigits(const std::string& x, const std::string& y) {
  std::string out(x.size() + 1, '0');
  int carry = 0;
  for (size_t i = x.size(); i-- > 0;) {
    int s = (x[i] - '0') + (y[i] - '0') + carry;
    out[i + 1] = static_cast<char>('0' + s % 10);
    carry = s / 10;
  }
  out[0] = static_cast<char>('0' + carry);
  return out;
}

// x >= y, equal width.
std::string SubtractDigits(const std::string& x, const std::string& y) {
  std::string out(x.size(), '0');
  int borrow = 0;
  for (size_t i = x.size(); i-- > 0;) {
    int s = (x[i] - '0') - (y[i] - '0') - borrow;
    borrow = s < 0 ? 1 : 0;
    out[i] = static_cast<char>('0' + (s + 10) % 10);
  }
  return out;
}

}  // namespace

absl::StatusOr<Decimal> ParseDecimal(absl::string_view text) {
  size_t i = 0;
  Decimal d;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) d.negative = text[i++] == '-';
  std::string digits;
  int point_at = -1;
  bool any_digit = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
      any_digit = true;
    } else if (c == '.' && point_at < 0) {
      point_at = static_cast<int>(digits.size());
    } else {
      break;
    }
  }
  if (!any_digit) return NotANumber(text);
  int exp10 = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (i - start >= kMaxExponentTextDigits) {
        return exp_negative ? Checked(Decimal{false, "1", kMinExponent - 1})
                            : Checked(Decimal{false, "1", kMaxExponent + 1});
      }
      exp10 = exp10 * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start) return NotANumber(text);
    if (exp_negative) exp10 = -exp10;
  }
  if (i != text.size()) return NotANumber(text);
  if (point_at < 0) point_at = static_cast<int>(digits.size());
  d.digits = std::move(digits);
  d.exponent = point_at + exp10;
  Normalize(&d);
  return Checked(std::move(d));
}

std::string FormatDecimal(const Decimal& d) {
  if (d.is_zero()) return "0";
  std::string out = d.negative ? "-" : "";
  const int n = static_cast<int>(d.digits.size());
  if (d.exponent <= 0) {
    absl::StrAppend(&out, "0.", std::string(-d.exponent, '0'), d.digits);
  } else if (d.exponent >= n) {
    absl::StrAppend(&out, d.digits, std::string(d.exponent - n, '0'));
  } else {
    absl::StrAppend(&out, d.digits.substr(0, d.exponent), ".", d.digits.substr(d.exponent));
  }
  return out;
}

int CompareDecimal(const Decimal& a, const Decimal& b) {
  const bool a_neg = a.negative && !a.is_zero();
  const bool b_neg = b.negative && !b.is_zero();
  if (a_neg != b_neg) return a_neg ? -1 : 1;
  const int magnitude = CompareMagnitude(a, b);
  return a_neg ? -magnitude : magnitude;
}

absl::StatusOr<Decimal> AddDecimal(const Decimal& a, const Decimal& b) {
  if (a.is_zero()) return b;
  if (b.is_zero()) return a;
  std::string x, y;
  Align(a, b, &x, &y);
  const int scale = std::min(a.exponent - static_cast<int>(a.digits.size()),
                             b.exponent - static_cast<int>(b.digits.size()));
  Decimal sum;
  std::string digits;
  if (a.negative == b.negative) {
    digits = AddDigits(x, y);
    sum.negative = a.negative;
  } else if (x >= y) {
    digits = SubtractDigits(x, y);
    sum.negative = a.negative;
  } else {
    digits = SubtractDigits(y, x);
    sum.negative = b.negative;
  }
  sum.exponent = scale + static_cast<int>(digits.size());
  sum.digits = std::move(digits);
  Normalize(&sum);
  // DynamoDB reports a sum that needs more than 38 digits as an overflow, whatever its
  // magnitude.
  if (static_cast<int>(sum.digits.size()) > kMaxNumberDigits) {
    return ValidationError(
        "Number overflow. Attempting to store a number with magnitude larger than supported "
        "range");
  }
  return Checked(std::move(sum));
}

absl::StatusOr<Decimal> SubtractDecimal(const Decimal& a, Decimal b) {
  if (!b.is_zero()) b.negative = !b.negative;
  return AddDecimal(a, b);
}

absl::StatusOr<std::string> CanonicalNumber(absl::string_view text) {
  absl::StatusOr<Decimal> d = ParseDecimal(text);
  if (!d.ok()) return d.status();
  return FormatDecimal(*d);
}

}  // namespace ekv::dynamo
