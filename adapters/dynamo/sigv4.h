// SigV4 verification for the DynamoDB front door (--dynamo_credentials_file).
//
// AWS SDKs sign every request with Signature Version 4 ("AWS4-HMAC-SHA256"): a canonical
// request (method, URI, query, the signed headers, the payload's SHA-256) is hashed into a
// string to sign, which is HMAC'd with a key derived from the secret access key, the date,
// region and service. The verifier recomputes that signature with the secret configured
// for the request's access key id and compares it in constant time. Refusals use
// DynamoDB's own error names and texts (HTTP 400, "com.amazon.coral.service#..."):
//   - no Authorization header: MissingAuthenticationTokenException;
//   - a malformed one or no X-Amz-Date: IncompleteSignatureException;
//   - an access key id nobody configured: UnrecognizedClientException;
//   - a wrong signature, a scope for another service or day, a date more than 15
//     minutes from the server's clock: InvalidSignatureException.
// Any region is accepted (a local endpoint has none of its own). Secrets never appear in
// an error, a log line or a metric.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ekv::dynamo {

// One HTTP request as received, for verification.
struct SignedRequest {
  std::string method;  // "POST"
  std::string path;    // decoded, e.g. "/"
  // Decoded query parameters in any order (DynamoDB requests have none).
  std::vector<std::pair<std::string, std::string>> query;
  // Every header as received (names in any case; a name may repeat).
  std::vector<std::pair<std::string, std::string>> headers;
  absl::string_view body;
};

// A refusal: DynamoDB's error name (without the "com.amazon.coral.service#" prefix) and
// message. The server answers HTTP 400 with them.
struct AuthFailure {
  std::string name;
  std::string message;
};

class SigV4Verifier {
 public:
  // `secrets`: access key id -> secret access key. `service`: the credential scope's
  // service, "dynamodb" for the front door (tests use AWS's published examples).
  explicit SigV4Verifier(std::map<std::string, std::string> secrets,
                         std::string service = "dynamodb");

  // Reads a credentials file: one "ACCESS_KEY_ID SECRET_ACCESS_KEY" pair per line, blank
  // lines and lines starting with '#' ignored. Refused when the file is readable by every
  // user, holds no key, or a line is not exactly two words. Errors name the file and line,
  // never a secret.
  static absl::StatusOr<SigV4Verifier> FromFile(const std::string& path);

  // Nothing when `request` carries a valid signature by a configured key, made within 15
  // minutes of `now`; otherwise the refusal.
  std::optional<AuthFailure> Verify(const SignedRequest& request, absl::Time now) const;

  size_t key_count() const { return secrets_.size(); }

 private:
  std::map<std::string, std::string> secrets_;
  std::string service_;
};

// The JSON body DynamoDB answers a refusal with (HTTP 400).
std::string AuthFailureBody(const AuthFailure& failure);

// Exposed for tests: lowercase hex of SHA-256(data) and of HMAC-SHA256(key, data) (raw).
std::string Sha256Hex(absl::string_view data);
std::string HmacSha256(absl::string_view key, absl::string_view data);

}  // namespace ekv::dynamo
