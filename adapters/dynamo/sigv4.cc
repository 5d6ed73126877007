#include "adapters/dynamo/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/util/assert.h"
#include "nlohmann/json.hpp"
#include "runtime/secrets/secret_file.h"

namespace ekv::dynamo {
namespace {

constexpr absl::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr absl::string_view kAmzDateFormat = "%E4Y%m%dT%H%M%SZ";
// DynamoDB's allowed clock difference between a signature and the server.
constexpr absl::Duration kMaxSkew = absl::Minutes(15);
// A sanity bound on one credentials file (a handful of keys in practice).
constexpr size_t kMaxKeys = 10000;

AuthFailure Incomplete(absl::string_view message) {
  return {"IncompleteSignatureException", std::string(message)};
}
AuthFailure InvalidSignature(absl::string_view message) {
  return {"InvalidSignatureException", std::string(message)};
}

// RFC 3986 percent-encoding as SigV4 specifies: unreserved characters stay, everything
// else becomes %XY (upper-case hex); '/' stays when `keep_slash`.
std::string UriEncode(absl::string_view in, bool keep_slash) {
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    const bool unreserved = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                            c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// A header value as SigV4 canonicalizes it: surrounding spaces dropped, every run of
// spaces inside folded to one.
std::string CanonicalHeaderValue(absl::string_view value) {
  std::string out;
  bool in_space = false;
  for (const char c : absl::StripAsciiWhitespace(value)) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::string HeaderValues(const SignedRequest& request, absl::string_view lower_name) {
  std::vector<std::string> values;
  for (const auto& [name, value] : request.headers) {
    if (absl::AsciiStrToLower(name) == lower_name) values.push_back(CanonicalHeaderValue(value));
  }
  return absl::StrJoin(values, ",");
}

std::string Hex(absl::string_view raw) { return absl::BytesToHexString(raw); }

struct AuthorizationFields {
  std::string access_key;
  std::string scope_date;
  std::string region;
  std::string service;
  std::string terminator;
  std::string signed_headers;  // verbatim, e.g. "host;x-amz-date;x-amz-target"
  std::string signature;       // lowercase hex
};

std::optional<AuthFailure> ParseAuthorization(absl::string_view header,
                                              AuthorizationFields* fields) {
  header = absl::StripAsciiWhitespace(header);
  if (!absl::ConsumePrefix(&header, kAlgorithm) || header.empty() ||
      !absl::ascii_isspace(static_cast<unsigned char>(header.front()))) {
    return Incomplete(
        "Authorization header requires 'AWS4-HMAC-SHA256' as its algorithm (Signature "
        "Version 4).");
  }
  std::string credential;
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view key = part.substr(0, eq);
    const std::string value(absl::StripAsciiWhitespace(part.substr(eq + 1)));
    if (key == "Credential") credential = value;
    if (key == "SignedHeaders") fields->signed_headers = value;
    if (key == "Signature") fields->signature = value;
  }
  std::string missing;
  if (credential.empty()) missing += "Authorization header requires 'Credential' parameter. ";
  if (fields->signature.empty()) {
    missing += "Authorization header requires 'Signature' parameter. ";
  }
  if (fields->signed_headers.empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!missing.empty()) return Incomplete(absl::StripTrailingAsciiWhitespace(missing));
  std::vector<std::string> scope = absl::StrSplit(credential, '/');
  if (scope.size() != 5 || scope[0].empty()) {
    return Incomplete(
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term");
  }
  fields->access_key = scope[0];
  fields->scope_date = scope[1];
  fields->region = scope[2];
  fields->service = scope[3];
  fields->terminator = scope[4];
  return std::nullopt;
}

std::string CanonicalQuery(const SignedRequest& request) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(request.query.size());
  for (const auto& [key, value] : request.query) {
    encoded.emplace_back(UriEncode(key, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::vector<std::string> parts;
  parts.reserve(encoded.size());
  for (const auto& [key, value] : encoded) parts.push_back(absl::StrCat(key, "=", value));
  return absl::StrJoin(parts, "&");
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const int ok = EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  EKV_ASSERT(ok == 1 && length == 32, "EVP_Digest(SHA-256) failed");
  return Hex(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
  EKV_ASSERT(result != nullptr && length == 32, "HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(mac), length);
}

SigV4Verifier::SigV4Verifier(std::map<std::string, std::string> secrets, std::string service)
    : secrets_(std::move(secrets)), service_(std::move(service)) {}

absl::StatusOr<SigV4Verifier> SigV4Verifier::FromFile(const std::string& path) {
  absl::StatusOr<std::string> contents = runtime::ReadSecretFile(path, "secret keys");
  if (!contents.ok()) return contents.status();
  std::map<std::string, std::string> secrets;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*contents, '\n')) {
    ++line_number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text.front() == '#') continue;
    std::vector<std::string> words =
        absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s line %d: expected \"ACCESS_KEY_ID SECRET_ACCESS_KEY\" (two words)",
                          path, line_number));
    }
    if (secrets.size() >= kMaxKeys) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: more than %d access keys", path, kMaxKeys));
    }
    if (!secrets.emplace(words[0], words[1]).second) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s line %d: access key id %s appears twice", path, line_number, words[0]));
    }
  }
  if (secrets.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " holds no key"));
  return SigV4Verifier(std::move(secrets));
}

std::optional<AuthFailure> SigV4Verifier::Verify(const SignedRequest& request,
                                                 absl::Time now) const {
  const std::string authorization = HeaderValues(request, "authorization");
  if (authorization.empty()) {
    return AuthFailure{"MissingAuthenticationTokenException",
                       "Request is missing Authentication Token"};
  }
  AuthorizationFields fields;
  if (auto failure = ParseAuthorization(authorization, &fields)) return failure;
  const std::string amz_date = HeaderValues(request, "x-amz-date");
  absl::Time signed_at;
  std::string parse_error;
  if (amz_date.empty()) {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
        "header.");
  }
  if (!absl::ParseTime(kAmzDateFormat, amz_date, absl::UTCTimeZone(), &signed_at, &parse_error)) {
    return Incomplete(absl::StrCat("X-Amz-Date must be in ISO-8601 basic format (",
                                   "YYYYMMDD'T'HHMMSS'Z'), got '", amz_date, "'"));
  }
  // The key id is checked before the signature, as DynamoDB does: an unknown key cannot
  // be told apart from a wrong secret otherwise.
  const auto secret = secrets_.find(fields.access_key);
  if (secret == secrets_.end()) {
    return AuthFailure{"UnrecognizedClientException",
                       "The security token included in the request is invalid."};
  }
  if (fields.service != service_) {
    return InvalidSignature(
        absl::StrCat("Credential should be scoped to correct service: '", service_, "'. "));
  }
  if (fields.terminator != "aws4_request") {
    return InvalidSignature(
        "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
        fields.terminator + "'. ");
  }
  if (fields.scope_date != amz_date.substr(0, 8)) {
    return InvalidSignature(absl::StrCat(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
        "from HTTP: '",
        fields.scope_date, "' != '", amz_date.substr(0, 8), "', from '", amz_date, "'."));
  }
  const auto format = [](absl::Time t) {
    return absl::FormatTime(kAmzDateFormat, t, absl::UTCTimeZone());
  };
  if (signed_at < now - kMaxSkew) {
    return InvalidSignature(absl::StrCat("Signature expired: ", amz_date, " is now earlier than ",
                                         format(now - kMaxSkew), " (", format(now), " - 15 min.)"));
  }
  if (signed_at > now + kMaxSkew) {
    return InvalidSignature(absl::StrCat("Signature not yet current: ", amz_date,
                                         " is still later than ", format(now + kMaxSkew), " (",
                                         format(now), " + 15 min.)"));
  }

  // The canonical request (AWS: "Create a canonical request for Signature Version 4").
  // Paths are encoded twice for every service but S3: once as sent, once more here.
  std::string canonical =
      absl::StrCat(request.method, "\n", UriEncode(UriEncode(request.path, true), true), "\n",
                   CanonicalQuery(request), "\n");
  for (absl::string_view name : absl::StrSplit(fields.signed_headers, ';')) {
    absl::StrAppend(&canonical, name, ":", HeaderValues(request, name), "\n");
  }
  absl::StrAppend(&canonical, "\n", fields.signed_headers, "\n", Sha256Hex(request.body));
  const std::string scope = absl::StrCat(fields.scope_date, "/", fields.region, "/", fields.service,
                                         "/", fields.terminator);
  const std::string string_to_sign =
      absl::StrCat(kAlgorithm, "\n", amz_date, "\n", scope, "\n", Sha256Hex(canonical));
  std::string key = HmacSha256(absl::StrCat("AWS4", secret->second), fields.scope_date);
  key = HmacSha256(key, fields.region);
  key = HmacSha256(key, fields.service);
  key = HmacSha256(key, fields.terminator);
  const std::string expected = Hex(HmacSha256(key, string_to_sign));
  const std::string given = absl::AsciiStrToLower(fields.signature);
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    return InvalidSignature(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.");
  }
  return std::nullopt;
}

std::string AuthFailureBody(const AuthFailure& failure) {
  return nlohmann::json{{"__type", "com.amazon.coral.service#" + failure.name},
                        {"message", failure.message}}
      .dump();
}

}  // namespace ekv::dynamo
