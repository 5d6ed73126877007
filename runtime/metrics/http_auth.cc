#include "runtime/metrics/http_auth.h"

#include <utility>

#include <httplib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace ekv::runtime::metrics {
namespace {

// The length is not secret (the operator chose it), the contents are.
bool SameSecret(absl::string_view given, absl::string_view expected) {
  unsigned char differ = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    differ |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return differ == 0;
}

// RFC 7235: the scheme name is case-insensitive, followed by one space.
bool TakeScheme(absl::string_view& value, absl::string_view scheme) {
  if (value.size() <= scheme.size() || value[scheme.size()] != ' ' ||
      !absl::EqualsIgnoreCase(value.substr(0, scheme.size()), scheme)) {
    return false;
  }
  value = absl::StripAsciiWhitespace(value.substr(scheme.size() + 1));
  return true;
}

}  // namespace

bool HttpRequestCarriesToken(const httplib::Request& request, const std::string& token) {
  const std::string header = request.get_header_value("Authorization");  // a copy
  absl::string_view value = header;
  if (TakeScheme(value, "Bearer")) return SameSecret(value, token);
  if (TakeScheme(value, "Basic")) {
    std::string decoded;
    if (!absl::Base64Unescape(value, &decoded)) return false;
    const size_t colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    return SameSecret(absl::string_view(decoded).substr(colon + 1), token);
  }
  return false;
}

void RequireHttpToken(httplib::Server& server, std::string token,
                      std::set<std::string> open_paths) {
  if (token.empty()) return;
  server.set_pre_routing_handler(
      [token = std::move(token), open_paths = std::move(open_paths)](
          const httplib::Request& request,
          httplib::Response& response) -> httplib::Server::HandlerResponse {
        if (open_paths.contains(request.path) || HttpRequestCarriesToken(request, token)) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        response.status = 401;
        response.set_header("WWW-Authenticate", "Basic realm=\"ekv\", charset=\"UTF-8\"");
        response.set_content(
            "401 Unauthorized: send Authorization: Bearer <token> (or Basic with the token as "
            "the password)\n",
            "text/plain");
        return httplib::Server::HandlerResponse::Handled;
      });
}

}  // namespace ekv::runtime::metrics
