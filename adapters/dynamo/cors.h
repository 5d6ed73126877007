// Cross-origin requests from browsers (--dynamo_cors_origins): which origins a web page may
// call the DynamoDB front door from, as DynamoDB Local's -cors allow list. Off by default,
// unlike DynamoDB Local's "*": without --dynamo_credentials_file nothing else stops any page
// a user opens from writing to the cluster.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::dynamo {

class CorsPolicy {
 public:
  // A comma-separated list of origins ("https://app.example.com"), or "*" for any; empty
  // turns cross-origin requests off. An origin is a scheme, a host and an optional port.
  static absl::StatusOr<CorsPolicy> Parse(absl::string_view list);

  bool enabled() const { return any_origin_ || !origins_.empty(); }
  // The Access-Control-Allow-Origin a request from `origin` gets, or nullopt when that
  // origin may not call (or the request named none).
  std::optional<std::string> AllowedOrigin(absl::string_view origin) const;
  // Whether the answer depends on the request's Origin (a cache must key on it).
  bool varies_by_origin() const { return !any_origin_; }

 private:
  bool any_origin_ = false;
  std::vector<std::string> origins_;  // lower case, sorted
};

// What DynamoDB answers a browser: the methods and the reply headers a page may read.
inline constexpr absl::string_view kCorsAllowedMethods = "GET, POST, OPTIONS";
inline constexpr absl::string_view kCorsExposedHeaders =
    "x-amzn-RequestId, x-amzn-ErrorType, x-amz-crc32, Date";
// How long a browser may cache a preflight's answer (seconds).
inline constexpr absl::string_view kCorsMaxAgeSeconds = "172800";

}  // namespace ekv::dynamo
