// Authentication of a node's operator HTTP endpoints (--http_auth_token_file): the metrics
// endpoint and the console answer 401 unless a request carries the configured token, as
//   Authorization: Bearer <token>             (Prometheus' bearer_token_file, curl -H)
//   Authorization: Basic base64(<any>:<token>) (a browser's login prompt: any user name,
//                                               the token as the password)
// The 401 reply asks for Basic credentials (WWW-Authenticate), so a browser opening the
// console prompts for them and then sends them with the page's own /api requests.
//
// Some paths stay open (the metrics endpoint's /healthz and /readyz, which load balancers
// and orchestrators probe without credentials and which tell only up or down).
//
// The check compares in time independent of where a wrong token differs, and never logs
// or echoes the token.
#pragma once

#include <set>
#include <string>

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace ekv::runtime::metrics {

// True when `request` carries `token` in one of the two forms above. `token` is not empty.
bool HttpRequestCarriesToken(const httplib::Request& request, const std::string& token);

// Makes `server` refuse every request except those to `open_paths` without the token
// (a pre-routing handler: no route handler runs for a refused request). An empty token
// leaves the server open.
void RequireHttpToken(httplib::Server& server, std::string token, std::set<std::string> open_paths);

}  // namespace ekv::runtime::metrics
