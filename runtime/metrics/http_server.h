// MetricsHttpServer: the node's operator endpoint (--metrics_address), serving
//   GET /metrics  the registry in the Prometheus text format 0.0.4 (text_format.h)
//   GET /healthz  200 "ok" while the health check passes, else 503 and the reason
//   GET /readyz   the same for the readiness check (readiness.h): can the node serve now
//   GET <path>    each of MetricsServerOptions::json_endpoints (the console's load samples)
// With MetricsServerOptions::auth_token, all but /healthz and /readyz need it (http_auth.h).
// over cpp-httplib. Read-only and bounded: a few worker threads, a bounded queue of
// accepted connections (bounded_task_queue.h), short read/write and keep-alive timeouts,
// no request bodies; httplib itself caps the request line and each header at 8 KiB.
// Nothing here throws: httplib's exceptions are caught at this seam and become statuses or
// 500 replies.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/metrics/http_listener.h"
#include "runtime/metrics/registry.h"
#include "runtime/metrics/tls_files.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ekv::runtime::metrics {

struct MetricsServerOptions {
  // The defaults suit a read-only endpoint: GET needs no body.
  HttpServerLimits http;
  // GET /readyz; unset: the same answer as /healthz.
  std::function<absl::Status()> readiness;
  // HTTPS with these files (tls_files.h); plain HTTP when not enabled.
  TlsFiles tls;
  // --http_auth_token_file (http_auth.h): when set, every path but /healthz and /readyz
  // needs the token. Needs `tls`: a token sent in plaintext could be read off the network.
  std::string auth_token;
  // More read-only GET endpoints answering JSON, by path (e.g. "/api/node").
  std::map<std::string, std::function<std::string()>> json_endpoints;
};

// "host:port" or "[ipv6]:port" (port 0: any free port) -> host and port.
absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(absl::string_view address);

class MetricsHttpServer {
 public:
  // Ok: serving. An error's message says why (a bad address, a port in use, a thread that
  // could not start). Runs on the server's worker threads.
  using HealthCheck = std::function<absl::Status()>;

  // Binds `address` and starts serving. `registry` must outlive the server.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      absl::string_view address, const MetricRegistry* registry, HealthCheck health,
      MetricsServerOptions options = {});
  ~MetricsHttpServer();

  // Stops accepting, finishes the connections in progress (bounded by the timeouts) and
  // joins every thread. Idempotent.
  void Stop();

  // The address actually bound, e.g. "127.0.0.1:9091" (the real port when asked for 0).
  const std::string& address() const { return listener_->address(); }
  int port() const { return listener_->port(); }

 private:
  MetricsHttpServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<HttpListener> listener_;  // after server_: stopped before it goes
};

}  // namespace ekv::runtime::metrics
