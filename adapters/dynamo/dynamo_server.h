// DynamoServer: the DynamoDB front door's network side (--dynamo_address). HTTP/1.1 over
// cpp-httplib: POST / with X-Amz-Target: DynamoDB_20120810.<Operation> and a JSON body,
// answered by OperationTable::Handle. GET / answers a short health text (load balancers
// and curl), anything else 400/404.
//
// Auth: AWS SDKs sign every request with SigV4 (Authorization header). With
// options.credentials (--dynamo_credentials_file) every POST is verified against the
// configured access keys before it reaches an operation (sigv4.h) and refused with
// DynamoDB's own errors; without, any signature or none is accepted: anyone who can reach
// the port can read and write every table.
//
// Bounded (options.http): worker_threads connections are served at once (each request
// blocks on the store), at most max_queued_connections more wait; one more is served by one
// of overflow_threads (at most max_overflow_connections waiting for them), which answers
// every request on it with HTTP 400 ThrottlingException ("Rate of requests exceeds the
// allowed throughput.", as DynamoDB) and closes it; only past that do clients wait in the
// listen backlog. Bodies are at most max_request_body_bytes (DynamoDB's own limit is 16 MB
// per request; 400 KB items), sent with Content-Length or chunked alike (HTTP 413);
// read/write/keep-alive timeouts are short.
// httplib's exceptions are caught at this seam. With max_inflight, operations beyond it are
// refused at once with DynamoDB's throttling errors instead of waiting for a worker. One more
// thread (background_passes.h) runs the Time to Live sweeper (ttl_sweeper.h), the index
// backfiller (index_backfiller.h), the table counter (table_stats_counter.h: DescribeTable's
// ItemCount and sizes) and the sweep of expired transaction tokens (token_sweeper.h) every
// ttl_sweep_interval.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dynamo/backend.h"
#include "adapters/dynamo/background_passes.h"
#include "adapters/dynamo/cors.h"
#include "adapters/dynamo/index_backfiller.h"
#include "adapters/dynamo/sigv4.h"
#include "adapters/dynamo/table_stats_counter.h"
#include "adapters/dynamo/table_store.h"
#include "adapters/dynamo/token_sweeper.h"
#include "adapters/dynamo/ttl_sweeper.h"
#include "runtime/metrics/http_listener.h"
#include "runtime/metrics/tls_files.h"

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
                                          .max_request_body_bytes = 16 * 1024 * 1024,
                                          .overflow_threads = 2,
                                          .max_overflow_connections = 256};
  TableStoreOptions store;
  // Time to Live: how often expired items are looked for, and how much one pass does.
  std::chrono::milliseconds ttl_sweep_interval{2000};
  TtlSweeperOptions ttl;
  IndexBackfillerOptions backfill;
  // DescribeTable's ItemCount / TableSizeBytes: how often each table is counted
  // (--dynamo_table_stats_interval_s) and how much one pass reads. Start draws this node's
  // delay_seconds (up to a tenth of the interval, at most 10 minutes) unless it is set.
  TableStatsOptions table_stats;
  TokenSweeperOptions tokens;
  // TLS (--tls_cert_file/--tls_key_file): HTTPS only, plaintext HTTP is refused. Off when
  // tls.enabled() is false.
  runtime::metrics::TlsFiles tls;
  // Origins whose web pages may call (--dynamo_cors_origins): preflight OPTIONS requests are
  // answered and replies carry Access-Control-Allow-Origin. Default: off.
  CorsPolicy cors;
  // SigV4 verification (--dynamo_credentials_file). Null: signatures are not checked.
  std::shared_ptr<const SigV4Verifier> credentials;
  // --dynamo_max_inflight: operations in progress at once; one more is answered at once with
  // DynamoDB's throttling error (NodeOverloaded in errors.h), which SDKs retry with backoff.
  // 0: no bound beyond the worker pool.
  int64_t max_inflight = 0;
  // When set, called once per request that named an operation ekv serves (or
  // DescribeEndpoints), with that name ("PutItem") and the time from the request's arrival
  // at a worker to its reply, errors included, on the worker's thread (ekv-server: the
  // ekv_request_duration_seconds{front_door="dynamo"} histograms). Requests shed by
  // max_inflight are not timed.
  std::function<void(absl::string_view operation, std::chrono::nanoseconds elapsed)>
      observe_latency;
};

class DynamoServer {
 public:
  // Binds `address` ("host:port"; port 0 picks one) and starts serving. `backend` must
  // outlive the server. An address in use is an error.
  static absl::StatusOr<std::unique_ptr<DynamoServer>> Start(absl::string_view address,
                                                             DynamoBackend* backend,
                                                             DynamoServerOptions options = {});
  ~DynamoServer();  // Stop()

  // Stops accepting and lets requests in progress finish (bounded by the timeouts); tells
  // the background pass to end. Returns without waiting for that pass: on a node without
  // quorum its requests end only when the node's loop stops and answers them. Idempotent.
  void BeginStop();
  // BeginStop, then joins every thread. Idempotent.
  void Stop();

  int port() const { return listener_->port(); }
  const std::string& address() const { return listener_->address(); }

 private:
  DynamoServer() = default;

  std::unique_ptr<TableStore> store_;
  std::unique_ptr<TtlSweeper> sweeper_;
  std::unique_ptr<IndexBackfiller> backfiller_;
  std::unique_ptr<TableStatsCounter> stats_counter_;
  std::unique_ptr<TokenSweeper> token_sweeper_;
  std::unique_ptr<BackgroundPasses> passes_;  // after what its passes use: stopped first
  std::atomic<int64_t> inflight_{0};          // operations in progress (max_inflight)
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<runtime::metrics::HttpListener> listener_;  // after server_: stopped first
};

}  // namespace ekv::dynamo
