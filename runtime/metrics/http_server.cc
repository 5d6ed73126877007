#include "runtime/metrics/http_server.h"

#include <sys/socket.h>

#include <exception>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/metrics/bounded_task_queue.h"
#include "runtime/metrics/text_format.h"

namespace ekv::runtime::metrics {
namespace {

// Only SO_REUSEADDR (a restart may bind over connections in TIME_WAIT). httplib's default
// also sets SO_REUSEPORT, with which a second server would share a port in use instead of
// failing, and scrapes would land on either.
void ListenSocketOptions(int socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

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
  absl::StatusOr<std::pair<std::string, int>> parsed = ParseListenAddress(address);
  if (!parsed.ok()) return parsed.status();
  const auto& [host, port] = *parsed;
  std::unique_ptr<MetricsHttpServer> self(new MetricsHttpServer());
  try {
    self->server_ = std::make_unique<httplib::Server>();
    httplib::Server& server = *self->server_;
    server.new_task_queue = [options]() -> httplib::TaskQueue* {
      return new BoundedTaskQueue(options.worker_threads, options.max_queued_connections);
    };
    server.set_socket_options(ListenSocketOptions);
    server.set_read_timeout(options.read_timeout);
    server.set_write_timeout(options.write_timeout);
    server.set_keep_alive_timeout(options.keep_alive_timeout.count());
    server.set_keep_alive_max_count(options.keep_alive_max_requests);
    server.set_payload_max_length(options.max_request_body_bytes);
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
          response.status = 500;
          response.set_content("internal error\n", "text/plain");
        });
    server.Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
      Guarded(response, [&] { ServeMetrics(*registry, response); });
    });
    server.Get("/healthz",
               [health = std::move(health)](const httplib::Request&, httplib::Response& response) {
                 Guarded(response, [&] { ServeHealth(health, response); });
               });
    // Binding here, on the caller's thread, turns a port in use into a startup error.
    int bound_port = port;
    if (port == 0) {
      bound_port = server.bind_to_any_port(host);
    } else if (!server.bind_to_port(host, port)) {
      bound_port = -1;
    }
    if (bound_port <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", address, " (in use or not a local address?)"));
    }
    self->port_ = bound_port;
    self->address_ = host.find(':') == std::string::npos
                         ? absl::StrCat(host, ":", bound_port)
                         : absl::StrCat("[", host, "]:", bound_port);
    MetricsHttpServer* raw = self.get();
    self->listener_ = std::thread([raw] {
      try {
        raw->server_->listen_after_bind();
      } catch (...) {
        // Nothing may escape a thread; the endpoint just stops serving.
      }
      raw->listen_returned_.store(true);
    });
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("starting the metrics server on ", address, ": ", e.what()));
  }
  return self;
}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

void MetricsHttpServer::Stop() {
  if (!listener_.joinable()) return;
  // httplib's stop() only acts once the listener thread has marked itself running, which
  // it may not have done yet; and it must act only once (it closes the listening socket).
  while (!listen_returned_.load()) {
    if (server_->is_running()) {
      server_->stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  listener_.join();
}

}  // namespace ekv::runtime::metrics
