// HttpListener: binds a configured cpp-httplib server to a listen address and serves it on
// a thread of its own, for every HTTP endpoint of a node (metrics, the DynamoDB API).
//
// Binding happens on the caller's thread, so an address in use is a startup error, with
// SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, with which a second server
// would share a port in use instead of failing, and requests would land on either.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ekv::runtime::metrics {

// How much an HTTP endpoint takes on at once, and for how long.
struct HttpServerLimits {
  size_t worker_threads = 2;          // requests served at once
  size_t max_queued_connections = 8;  // accepted, waiting for a worker
  std::chrono::seconds read_timeout{2};
  std::chrono::seconds write_timeout{2};
  std::chrono::seconds keep_alive_timeout{2};  // an idle keep-alive connection holds a worker
  size_t keep_alive_max_requests = 16;
  size_t max_request_body_bytes = 1024;  // bigger bodies are refused (413)
  // Threads that serve connections arriving when every worker is busy and the queue is
  // full, with InOverflowConnection() true (bounded_task_queue.h), so handlers refuse them
  // at once; at most max_overflow_connections wait for one. 0: such connections wait in
  // the listen backlog.
  size_t overflow_threads = 0;
  size_t max_overflow_connections = 0;
};

// Gives `server` a bounded worker queue (bounded_task_queue.h), the timeouts and the body
// limit of `limits`.
void ApplyHttpServerLimits(httplib::Server& server, const HttpServerLimits& limits);

class HttpListener {
 public:
  // `server` (configured: handlers, limits) must outlive the listener; `what` names the
  // endpoint in errors ("the metrics server").
  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(httplib::Server* server,
                                                             absl::string_view address,
                                                             absl::string_view what);
  ~HttpListener();  // Stop()

  // Stops accepting, lets connections in progress finish (bounded by the server's
  // timeouts) and joins every thread. Idempotent.
  void Stop();

  // The address actually bound, e.g. "127.0.0.1:9091" (the real port when asked for 0).
  const std::string& address() const { return address_; }
  int port() const { return port_; }

 private:
  explicit HttpListener(httplib::Server* server) : server_(server) {}

  httplib::Server* server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::string address_;
  int port_ = 0;
};

}  // namespace ekv::runtime::metrics
