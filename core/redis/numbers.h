// Number parsing and formatting exactly as Redis 7.0 does it (util.c string2ll,
// getDoubleFromObject / getLongDoubleFromObject, ld2string, addReplyDouble), so replies
// and errors match byte for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace ekv::redis_core {

// A decimal int64 with no spaces, no '+', no leading zeros (Redis string2ll).
std::optional<int64_t> ParseInt64(absl::string_view text);
// A double as strtod reads it, whole string, no spaces, not NaN ("inf" is fine).
std::optional<double> ParseDouble(absl::string_view text);
// A long double the same way (INCRBYFLOAT, HINCRBYFLOAT).
std::optional<long double> ParseLongDouble(absl::string_view text);
// INCRBYFLOAT's result text: %.17Lf with trailing zeros (and a bare '.') removed.
std::string FormatLongDouble(long double value);
// A score as RESP2 sends it (%.17g; "inf", "-inf").
std::string FormatScore(double value);

}  // namespace ekv::redis_core
