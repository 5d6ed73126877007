#include "adapters/dynamo/cors.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ekv::dynamo {
namespace {

// scheme://host[:port], nothing after it (browsers send exactly this in Origin).
bool IsOrigin(absl::string_view origin) {
  const size_t scheme_end = origin.find("://");
  if (scheme_end == absl::string_view::npos || scheme_end == 0) return false;
  const absl::string_view rest = origin.substr(scheme_end + 3);
  return !rest.empty() && rest.find_first_of("/?#*, ") == absl::string_view::npos;
}

}  // namespace

absl::StatusOr<CorsPolicy> CorsPolicy::Parse(absl::string_view list) {
  CorsPolicy policy;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    if (item == "*") {
      policy.any_origin_ = true;
      continue;
    }
    if (!IsOrigin(item)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", item, "' is not an origin (scheme://host[:port], or * for any)"));
    }
    policy.origins_.push_back(absl::AsciiStrToLower(item));
  }
  std::sort(policy.origins_.begin(), policy.origins_.end());
  return policy;
}

std::optional<std::string> CorsPolicy::AllowedOrigin(absl::string_view origin) const {
  if (origin.empty()) return std::nullopt;
  if (any_origin_) return std::string("*");
  const std::string lower = absl::AsciiStrToLower(origin);
  if (!std::binary_search(origins_.begin(), origins_.end(), lower)) return std::nullopt;
  return std::string(origin);
}

}  // namespace ekv::dynamo
