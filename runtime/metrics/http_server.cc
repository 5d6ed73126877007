#include "runtime/metrics/http_server.h"

#include <exception>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/metrics/http_auth.h"
#include "runtime/metrics/http_listener.h"
#include "runtime/metrics/text_format.h"

namespace ekv::runtime::metrics {
namespace {

void ServeMetrics(const MetricRegistry& registry, httplib::Response& response) {
  response.set_content(registry.RenderText(), kTextFormatContentType);
}

void ServeHealth(const MetricsHttpServer::HealthCheck& health, httplib::Response& response) {
  absl::Status status = health ? health() : absl::OkStatus();
  if (status.ok()) {
    response.set_content("ok\n", "text/plain; charset=utf-8");
  } else {
    response.status = 503;
    response.set_content(absl::StrCat(status.message(), "\n"), "text/plain; charset=utf-8");
  }
}

// Runs a handler; an exception (allocation failure, a collector's bug) becomes a 500
// rather than unwinding into httplib.
template <typename Handler>
void Guarded(httplib::Response& response, Handler handler) {
  try {
    handler();
  } catch (const std::exception& e) {
    response.status = 500;
    response.set_content(absl::StrCat("internal error: ", e.what(), "\n"), "text/plain");
  } catch (...) {
    response.status = 500;
    response.set_content("internal error\n", "text/plain");
  }
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "' is not host:port (e.g. 127.0.0.1:9091)"));
  }
  absl::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "': the port must be a number in 0..65535"));
  }
  if (host.empty()) return absl::InvalidArgumentError(absl::StrCat("'", address, "': no host"));
  return std::make_pair(std::string(host), port);
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    absl::string_view address, const MetricRegistry* registry, HealthCheck health,
    MetricsServerOptions options) {
  std::unique_ptr<MetricsHttpServer> self(new MetricsHttpServer());
  try {
    absl::StatusOr<std::unique_ptr<httplib::Server>> created = NewHttpServer(options.tls);
    if (!created.ok()) return created.status();
    self->server_ = std::move(*created);
    httplib::Server& server = *self->server_;
    ApplyHttpServerLimits(server, options.http);
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
          response.status = 500;
          response.set_content("internal error\n", "text/plain");
        });
    RequireHttpToken(server, std::move(options.auth_token), {"/healthz", "/readyz"});
    server.Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
      Guarded(response, [&] { ServeMetrics(*registry, response); });
    });
    HealthCheck readiness = options.readiness ? std::move(options.readiness) : health;
    server.Get("/healthz",
               [health = std::move(health)](const httplib::Request&, httplib::Response& response) {
                 Guarded(response, [&] { ServeHealth(health, response); });
               });
    server.Get("/readyz", [readiness = std::move(readiness)](const httplib::Request&,
                                                             httplib::Response& response) {
      Guarded(response, [&] { ServeHealth(readiness, response); });
    });
    for (auto& [path, render] : options.json_endpoints) {
      server.Get(
          path, [render = std::move(render)](const httplib::Request&, httplib::Response& response) {
            Guarded(response, [&] { response.set_content(render(), "application/json"); });
          });
    }
    absl::StatusOr<std::unique_ptr<HttpListener>> listener =
        HttpListener::Start(&server, address, "the metrics server");
    if (!listener.ok()) return listener.status();
    self->listener_ = std::move(*listener);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("starting the metrics server on ", address, ": ", e.what()));
  }
  return self;
}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

void MetricsHttpServer::Stop() {
  if (listener_) listener_->Stop();
}

}  // namespace ekv::runtime::metrics
