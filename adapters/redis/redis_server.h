// RedisServer: the Redis front door's network side. One event-loop thread (epoll) owns
// the listening socket and every connection: non-blocking accept, read, parse
// (RespParser), dispatch (CommandTable) and write.
//
// Ordering: a connection's commands run in the order they arrived, and the next request
// starts only once the previous one answered. Redis clients rely on that (a pipelined SET
// then GET of the same key reads the new value; a write seen by another client implies
// every earlier write of this connection is visible), and the store's async paths do not
// order two requests by submission. Pipelining: when several commands are buffered, the
// longest run of consecutive one-key data commands (at most 64, 1 MiB of arguments;
// pipeline_run.h) goes as one request, which the coordinator sends as one request per
// stretch of one group, each run there in order at one point (one Raft entry, or one
// linearizable read when none writes), the stretches one after the other; every command
// still gets its own reply or error, in order. Any other command goes alone, as before.
//
// Backend answers arrive on other threads (the node loop, the coordinator's pool); they
// are queued with the connection id and an eventfd wakes the loop, which writes the
// reply. No other thread touches a socket.
//
// Backpressure: the loop stops reading a connection while it holds
// `max_pending_commands` parsed commands not yet answered, or `max_output_bytes` of
// replies the client has not read; it resumes once either drops. Every buffer is bounded:
// parsed commands by RespLimits and the pending bound, input by the parser's limits,
// output by the backpressure bound plus one request's replies (one command's, or one
// run's: at most 64).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "adapters/redis/backend.h"
#include "adapters/redis/resp_parser.h"
#include "adapters/redis/server_control.h"

namespace ekv::redis {

class DeliveryInbox;  // redis_server.cc
class TlsContext;     // connection_stream.h

// Carries a PUBLISH to the cluster's other nodes (the server's implementation calls each
// member over gRPC; tests may use a fake). Each peer hands it to its own
// RedisServer::DeliverPublished.
class PubSubFanout {
 public:
  virtual ~PubSubFanout() = default;
  // Delivers on every other node; `done` gets how many subscribers received it there.
  // Called on the loop thread; `done` runs exactly once, on any thread.
  virtual void PublishToPeers(std::string channel, std::string message,
                              std::function<void(int64_t receivers)> done) = 0;
};

struct RedisServerOptions {
  std::string address;  // host:port to listen on; port 0 picks a free one
  // requirepass, maxclients (connections beyond it get "-ERR max number of clients
  // reached" and are closed), proto-max-bulk-len, the subscriber output limit: CONFIG
  // SET changes the server's copy.
  RedisSettings settings;
  // Null: PUBLISH reaches this node's subscribers only.
  PubSubFanout* fanout = nullptr;
  // Per connection: parsed commands waiting or running before reading pauses.
  size_t max_pending_commands = 1024;
  // Per connection: reply bytes the client has not read yet before reading pauses.
  size_t max_output_bytes = 4 * 1024 * 1024;
  RespLimits limits;
  // TLS (PEM files, both or neither): every connection must complete a TLS handshake
  // first; plaintext clients are closed. Empty: plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Stop(): how long running commands may take to answer and replies to drain.
  std::chrono::milliseconds stop_grace{2000};
};

class RedisServer {
 public:
  // `backend` must outlive the server.
  RedisServer(RedisServerOptions options, RedisBackend* backend);
  ~RedisServer();  // Stop()
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Binds and listens (an address in use is an error), then starts the loop thread.
  absl::Status Start();
  // Stops accepting and reading, lets running commands answer and replies drain (at most
  // options.stop_grace), closes every connection and joins the thread. Idempotent.
  // Backend answers that arrive later are dropped.
  void Stop();

  // Delivers a message PUBLISHed on another node to this node's subscribers; `done` gets
  // their number (0 once the server stopped). Thread-safe; `done` runs on the loop thread
  // or, when the server is not running, on the caller's.
  void DeliverPublished(std::string channel, std::string message,
                        std::function<void(int64_t receivers)> done);

  // The port actually listened on (after Start).
  int port() const { return port_; }
  // Connections open right now (approximate when read from another thread).
  size_t connections() const { return connection_count_.load(std::memory_order_relaxed); }

 private:
  class Loop;
  RedisServerOptions options_;
  std::shared_ptr<DeliveryInbox> inbox_;
  RedisBackend* backend_;
  std::unique_ptr<TlsContext> tls_;  // null: plaintext
  int port_ = 0;
  std::atomic<size_t> connection_count_{0};
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

// Splits "host:port" ("[::1]:6379" for IPv6). Error when malformed.
absl::Status ParseListenAddress(const std::string& address, std::string* host, int* port);

}  // namespace ekv::redis
