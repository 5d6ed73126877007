// DynamoServer: the DynamoDB front door's network side (--dynamo_address). HTTP/1.1 over
// cpp-httplib: POST / with X-Amz-Target: DynamoDB_20120810.<Operation> and a JSON body,
// answered by OperationTable::Handle. GET / answers a short health text (load balancers
// and curl), anything else 400/404.
//
// Auth: AWS SDKs sign every request with SigV4 (Authorization header). This first form
// accepts any signature, or none, and does not check it: anyone who can reach the port
// can read and write every table. Keep it on a trusted network.
//
// Bounded (options.http): worker_threads requests run at once (each blocks on the store),
// at most max_queued_connections more wait, bodies are at most max_request_body_bytes (DynamoDB's
// own limit is 16 MB per request; 400 KB items), read/write/keep-alive timeouts are short.
// httplib's exceptions are caught at this seam.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dynamo/backend.h"
#include "adapters/dynamo/table_store.h"
#include "runtime/metrics/http_listener.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ekv::dynamo {

struct DynamoServerOptions {
  runtime::metrics::HttpServerLimits http{.worker_threads = 8,
                                          .max_queued_connections = 64,
                                          .read_timeout = std::chrono::seconds(10),
                                          .write_timeout = std::chrono::seconds(10),
                                          .keep_alive_timeout = std::chrono::seconds(5),
                                          .keep_alive_max_requests = 1000,
                                          .max_request_body_bytes = 16 * 1024 * 1024};
  TableStoreOptions store;
};

class DynamoServer {
 public:
  // Binds `address` ("host:port"; port 0 picks one) and starts serving. `backend` must
  // outlive the server. An address in use is an error.
  static absl::StatusOr<std::unique_ptr<DynamoServer>> Start(absl::string_view address,
                                                             DynamoBackend* backend,
                                                             DynamoServerOptions options = {});
  ~DynamoServer();  // Stop()

  // Stops accepting, lets requests in progress finish (bounded by the timeouts), joins
  // every thread. Idempotent.
  void Stop();

  int port() const { return listener_->port(); }
  const std::string& address() const { return listener_->address(); }

 private:
  DynamoServer() = default;

  std::unique_ptr<TableStore> store_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<runtime::metrics::HttpListener> listener_;  // after server_: stopped first
};

}  // namespace ekv::dynamo
