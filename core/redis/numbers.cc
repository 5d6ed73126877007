#include "core/redis/numbers.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace ekv::redis_core {

std::optional<int64_t> ParseInt64(absl::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (text.size() == 1 && text[0] == '0') return 0;
  if (text[0] == '-') {
    negative = true;
    ++i;
    if (i == text.size()) return std::nullopt;
  }
  if (text[i] < '1' || text[i] > '9') return std::nullopt;
  uint64_t value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (negative) {
    if (value > uint64_t{1} << 63) return std::nullopt;
    return static_cast<int64_t>(0 - value);
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(value);
}

std::optional<double> ParseDouble(absl::string_view text) {
  if (text.empty() || text.size() > 5000) return std::nullopt;
  if (absl::ascii_isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || std::isnan(value)) return std::nullopt;
  if (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || value == 0)) {
    return std::nullopt;
  }
  return value;
}

std::optional<long double> ParseLongDouble(absl::string_view text) {
  if (text.empty() || text.size() > 5000) return std::nullopt;
  if (absl::ascii_isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const long double value = std::strtold(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || std::isnan(value) || errno == ERANGE) {
    return std::nullopt;
  }
  return value;
}

std::string FormatLongDouble(long double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // absl's formatter, not snprintf: core may not include <cstdio> (tests/purity).
  std::string out = absl::StrFormat("%.17f", value);
  if (out.find('.') != std::string::npos) {
    while (!out.empty() && out.back() == '0') out.pop_back();
    if (!out.empty() && out.back() == '.') out.pop_back();
  }
  // Returned, not assigned: GCC 12's -Wrestrict misreads `out = "0"` in some unity batches.
  if (out == "-0") return std::string("0");
  return out;
}

std::string FormatScore(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.17g", value);
}

}  // namespace ekv::redis_core
