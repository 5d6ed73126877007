#include "runtime/metrics/http_listener.h"

#include <sys/socket.h>

#include <chrono>
#include <exception>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "runtime/metrics/bounded_task_queue.h"
#include "runtime/metrics/http_server.h"

namespace ekv::runtime::metrics {
namespace {

// httplib listens with a backlog of 5: a burst of connects while the accepting thread
// waits for a core overflows it, and the kernel drops the handshakes (clients then see
// resets or a 1 s SYN retry) instead of our queue refusing them in words.
constexpr int kListenBacklog = 1024;

void ListenSocketOptions(int socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

void ApplyHttpServerLimits(httplib::Server& server, const HttpServerLimits& limits) {
  server.new_task_queue = [limits]() -> httplib::TaskQueue* {
    return new BoundedTaskQueue(limits.worker_threads, limits.max_queued_connections,
                                limits.overflow_threads, limits.max_overflow_connections);
  };
  server.set_read_timeout(limits.read_timeout);
  server.set_write_timeout(limits.write_timeout);
  server.set_keep_alive_timeout(limits.keep_alive_timeout.count());
  server.set_keep_alive_max_count(limits.keep_alive_max_requests);
  server.set_payload_max_length(limits.max_request_body_bytes);
}

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(httplib::Server* server,
                                                                  absl::string_view address,
                                                                  absl::string_view what) {
  absl::StatusOr<std::pair<std::string, int>> parsed = ParseListenAddress(address);
  if (!parsed.ok()) return parsed.status();
  const auto& [host, port] = *parsed;
  std::unique_ptr<HttpListener> self(new HttpListener(server));
  try {
    int listening = -1;  // the socket httplib binds, for its backlog
    server->set_socket_options([&listening](int socket) {
      listening = socket;
      ListenSocketOptions(socket);
    });
    int bound_port = port;
    if (port == 0) {
      bound_port = server->bind_to_any_port(host);
    } else if (!server->bind_to_port(host, port)) {
      bound_port = -1;
    }
    if (bound_port <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", address, " (in use or not a local address?)"));
    }
    // listen() again on a listening socket only changes its backlog (Linux).
    if (listening >= 0) ::listen(listening, kListenBacklog);
    server->set_socket_options(ListenSocketOptions);  // no reference to `listening` left
    self->port_ = bound_port;
    self->address_ = host.find(':') == std::string::npos
                         ? absl::StrCat(host, ":", bound_port)
                         : absl::StrCat("[", host, "]:", bound_port);
    HttpListener* raw = self.get();
    self->thread_ = std::thread([raw] {
      try {
        raw->server_->listen_after_bind();
      } catch (...) {
        // Nothing may escape a thread; the endpoint just stops serving.
      }
      raw->listen_returned_.store(true);
    });
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("starting ", what, " on ", address, ": ", e.what()));
  }
  return self;
}

HttpListener::~HttpListener() { Stop(); }

void HttpListener::Stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() only acts once the listener thread has marked itself running, which
  // it may not have done yet; and it must act only once (it closes the listening socket).
  while (!listen_returned_.load()) {
    if (server_->is_running()) {
      server_->stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace ekv::runtime::metrics
