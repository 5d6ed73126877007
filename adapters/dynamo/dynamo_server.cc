#include "adapters/dynamo/dynamo_server.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <random>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "runtime/metrics/bounded_task_queue.h"
#include "runtime/metrics/http_listener.h"
#include "runtime/metrics/tls_files.h"

namespace ekv::dynamo {
namespace {

void Send(const HttpReply& reply, httplib::Response& response) {
  response.status = reply.status;
  response.set_content(reply.body, std::string(kContentType));
}

// The request's signature checked by `credentials`; a refusal is answered here.
bool Authenticated(const SigV4Verifier& credentials, const httplib::Request& request,
                   const std::string& body, httplib::Response& response) {
  SignedRequest signed_request;
  signed_request.method = request.method;
  signed_request.path = request.path;
  signed_request.body = body;
  for (const auto& [name, value] : request.params) signed_request.query.emplace_back(name, value);
  for (const auto& [name, value] : request.headers)
    signed_request.headers.emplace_back(name, value);
  const std::optional<AuthFailure> failure = credentials.Verify(signed_request, absl::Now());
  if (!failure.has_value()) return true;
  response.status = 400;
  response.set_content(AuthFailureBody(*failure), std::string(kContentType));
  return false;
}

// DescribeEndpoints: the address to keep using is the one the client reached this node by
// (its Host header), cached for DynamoDB's 1440 minutes. It needs the request's headers,
// which operation handlers do not see, so it is answered here.
HttpReply DescribeEndpoints(const httplib::Request& request) {
  const std::string host = request.get_header_value("Host");
  nlohmann::json reply = {{"Endpoints", {{{"Address", host}, {"CachePeriodInMinutes", 1440}}}}};
  return HttpReply{200, reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

void ServeRequest(const OperationTable& table, TableStore* store, const SigV4Verifier* credentials,
                  const httplib::Request& request, const std::string& body,
                  httplib::Response& response) {
  // Without credentials the Authorization header is accepted unverified (dynamo_server.h).
  if (credentials != nullptr && !Authenticated(*credentials, request, body, response)) return;
  const std::string target = request.get_header_value("X-Amz-Target");
  if (target.empty()) {
    Send(ErrorReply(DynamoError(absl::StatusCode::kInvalidArgument,
                                "MissingAuthenticationTokenException",
                                "Missing Authentication Token")),
         response);
    return;
  }
  if (target == absl::StrCat(kTargetPrefix, "DescribeEndpoints")) {
    Send(DescribeEndpoints(request), response);
    return;
  }
  Send(RunInline(table.Handle(target, body, store)), response);
}

// Counts an operation in progress for max_inflight; false (nothing counted) when the node
// already has that many.
bool TryAcquire(std::atomic<int64_t>* inflight, int64_t max_inflight) {
  int64_t now = inflight->load(std::memory_order_relaxed);
  do {
    if (max_inflight > 0 && now >= max_inflight) return false;
  } while (!inflight->compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
  return true;
}

// Times a request under its operation's name; a target that names no operation ekv serves
// is not timed (its name is the client's, so it would make the metric's labels unbounded).
void ObserveLatency(const std::function<void(absl::string_view, std::chrono::nanoseconds)>& observe,
                    const OperationTable& table, const httplib::Request& request,
                    std::chrono::nanoseconds elapsed) {
  const std::string target = request.get_header_value("X-Amz-Target");
  if (!absl::StartsWith(target, kTargetPrefix)) return;
  const absl::string_view operation = absl::string_view(target).substr(kTargetPrefix.size());
  if (operation != "DescribeEndpoints" && table.Find(operation) == nullptr) return;
  observe(operation, elapsed);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DynamoServer>> DynamoServer::Start(absl::string_view address,
                                                                  DynamoBackend* backend,
                                                                  DynamoServerOptions options) {
  std::unique_ptr<DynamoServer> self(new DynamoServer());
  self->store_ = std::make_unique<TableStore>(backend, options.store);
  try {
    absl::StatusOr<std::unique_ptr<httplib::Server>> http =
        runtime::metrics::NewHttpServer(options.tls);
    if (!http.ok()) return http.status();
    self->server_ = std::move(*http);
    httplib::Server& server = *self->server_;
    runtime::metrics::ApplyHttpServerLimits(server, options.http);
    // httplib writes a reply's headers and body separately: with Nagle's algorithm on, the
    // body waits for the client's delayed ACK (~40 ms per request on Linux).
    server.set_tcp_nodelay(true);
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
          Send(ErrorReply(absl::InternalError("unexpected exception")), response);
        });
    TableStore* store = self->store_.get();
    const OperationTable* table = &OperationTable::Default();
    std::atomic<int64_t>* inflight = &self->inflight_;
    server.Post("/", [table, store, inflight, max_inflight = options.max_inflight,
                      max_body = options.http.max_request_body_bytes,
                      credentials = options.credentials, observe = options.observe_latency](
                         const httplib::Request& request, httplib::Response& response,
                         const httplib::ContentReader& read_body) {
      // The body is read here, not by httplib before the handler: httplib bounds a body
      // sent with Content-Length (it skips it and answers 413) but not a chunked one, which
      // DynamoDB refuses past 16 MB alike. Past the limit the rest is read and dropped, as
      // httplib skips an oversized Content-Length body, so the reply is not lost to a reset
      // connection.
      std::string body;
      bool too_large = false;
      const bool read = read_body([&](const char* data, size_t size) {
        too_large = too_large || body.size() + size > max_body;
        if (!too_large) body.append(data, size);
        return true;
      });
      if (!read) return;  // httplib answers: 413 over Content-Length's limit, else 400
      if (too_large) {
        response.status = 413;
        return;
      }
      // A connection that arrived with every worker busy and the queue full (served by an
      // overflow thread, http_listener.h) is refused with DynamoDB's ThrottlingException and
      // closed, so its client retries with backoff instead of waiting unanswered.
      if (runtime::metrics::InOverflowConnection()) {
        Send(ErrorReply(DynamoError(absl::StatusCode::kResourceExhausted, "ThrottlingException",
                                    "Rate of requests exceeds the allowed throughput.")),
             response);
        response.set_header("Connection", "close");
        return;
      }
      // Refused before anything else (signature checks included): an overloaded node sheds
      // load for the cost of reading one header.
      if (!TryAcquire(inflight, max_inflight)) {
        const std::string target = request.get_header_value("X-Amz-Target");
        const absl::string_view operation =
            absl::StartsWith(target, kTargetPrefix)
                ? absl::string_view(target).substr(kTargetPrefix.size())
                : absl::string_view();
        Send(ErrorReply(NodeOverloaded(operation)), response);
        return;
      }
      const auto start = std::chrono::steady_clock::now();
      try {
        ServeRequest(*table, store, credentials.get(), request, body, response);
      } catch (const std::exception& e) {
        Send(ErrorReply(absl::InternalError(e.what())), response);
      }
      inflight->fetch_sub(1, std::memory_order_relaxed);
      if (observe)
        ObserveLatency(observe, *table, request, std::chrono::steady_clock::now() - start);
    });
    if (options.cors.enabled()) {
      // A browser's preflight: may a page of this origin POST with these headers?
      server.Options(
          "/", [cors = options.cors](const httplib::Request& request, httplib::Response& response) {
            if (!cors.AllowedOrigin(request.get_header_value("Origin")).has_value()) {
              response.status = 403;
              return;
            }
            response.set_header("Access-Control-Allow-Methods", std::string(kCorsAllowedMethods));
            const std::string asked = request.get_header_value("Access-Control-Request-Headers");
            if (!asked.empty()) response.set_header("Access-Control-Allow-Headers", asked);
            response.set_header("Access-Control-Max-Age", std::string(kCorsMaxAgeSeconds));
          });
    }
    // Every reply carries a Date, as DynamoDB's do (SDKs correct their clock skew by it), and,
    // to an allowed origin, what lets its page read the reply.
    server.set_post_routing_handler(
        [cors = options.cors](const httplib::Request& request, httplib::Response& response) {
          if (!response.has_header("Date")) {
            response.set_header("Date", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now(),
                                                         absl::UTCTimeZone()));
          }
          if (!cors.enabled()) return;
          if (cors.varies_by_origin()) response.set_header("Vary", "Origin");
          if (std::optional<std::string> allowed =
                  cors.AllowedOrigin(request.get_header_value("Origin"))) {
            response.set_header("Access-Control-Allow-Origin", *allowed);
            response.set_header("Access-Control-Expose-Headers", std::string(kCorsExposedHeaders));
          }
        });
    server.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("healthy: ekv DynamoDB API\n", "text/plain");
    });
    absl::StatusOr<std::unique_ptr<runtime::metrics::HttpListener>> listener =
        runtime::metrics::HttpListener::Start(&server, address, "the DynamoDB server");
    if (!listener.ok()) return listener.status();
    self->listener_ = std::move(*listener);
    self->sweeper_ = std::make_unique<TtlSweeper>(self->store_.get(), options.ttl);
    self->backfiller_ = std::make_unique<IndexBackfiller>(self->store_.get(), options.backfill);
    TableStatsOptions stats = options.table_stats;
    if (stats.delay_seconds == 0) {
      // Spread the nodes' counts of one table apart, so that usually one node counts it.
      const double max_delay = std::min(stats.interval_seconds / 10, 600.0);
      std::mt19937_64 rng(std::random_device{}());
      stats.delay_seconds = std::uniform_real_distribution<double>(0, max_delay)(rng);
    }
    self->stats_counter_ = std::make_unique<TableStatsCounter>(self->store_.get(), stats);
    self->token_sweeper_ = std::make_unique<TokenSweeper>(self->store_.get(), options.tokens);
    DynamoServer* raw = self.get();
    const auto now = [] {
      return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    // A failed pass (no leader yet, deadline) is simply tried again next interval.
    self->passes_ = std::make_unique<BackgroundPasses>(
        std::vector<BackgroundPasses::Pass>{
            [raw, now] { (void)RunInline(raw->sweeper_->RunPass(now())); },
            [raw] { (void)RunInline(raw->backfiller_->RunPass()); },
            [raw, now] { (void)RunInline(raw->stats_counter_->RunPass(now())); },
            [raw, now] { (void)RunInline(raw->token_sweeper_->RunPass(now())); }},
        options.ttl_sweep_interval);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("starting the DynamoDB server on ", address, ": ", e.what()));
  }
  return self;
}

DynamoServer::~DynamoServer() { Stop(); }

void DynamoServer::BeginStop() {
  if (passes_) passes_->BeginStop();
  if (listener_) listener_->Stop();
}

void DynamoServer::Stop() {
  BeginStop();
  if (passes_) passes_->Stop();
}

}  // namespace ekv::dynamo
