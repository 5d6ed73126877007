#include "adapters/dynamo/dynamo_server.h"

#include <sys/socket.h>

#include <exception>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "runtime/metrics/bounded_task_queue.h"
#include "runtime/metrics/http_server.h"

namespace ekv::dynamo {
namespace {

// SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second server share a port
// in use instead of failing at startup.
void ListenSocketOptions(int socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

void Send(const HttpReply& reply, httplib::Response& response) {
  response.status = reply.status;
  response.set_content(reply.body, std::string(kContentType));
}

void ServeRequest(const OperationTable& table, TableStore* store, const httplib::Request& request,
                  httplib::Response& response) {
  // The Authorization header (SigV4) is accepted and not verified: see dynamo_server.h.
  const std::string target = request.get_header_value("X-Amz-Target");
  if (target.empty()) {
    Send(ErrorReply(DynamoError(absl::StatusCode::kInvalidArgument,
                                "MissingAuthenticationTokenException",
                                "Missing Authentication Token")),
         response);
    return;
  }
  Send(table.Handle(target, request.body, store), response);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DynamoServer>> DynamoServer::Start(absl::string_view address,
                                                                  DynamoBackend* backend,
                                                                  DynamoServerOptions options) {
  absl::StatusOr<std::pair<std::string, int>> parsed =
      runtime::metrics::ParseListenAddress(address);
  if (!parsed.ok()) return parsed.status();
  const auto& [host, port] = *parsed;
  std::unique_ptr<DynamoServer> self(new DynamoServer());
  self->store_ = std::make_unique<TableStore>(backend, options.store);
  try {
    self->server_ = std::make_unique<httplib::Server>();
    httplib::Server& server = *self->server_;
    server.new_task_queue = [options]() -> httplib::TaskQueue* {
      return new runtime::metrics::BoundedTaskQueue(options.worker_threads,
                                                    options.max_queued_connections);
    };
    server.set_socket_options(ListenSocketOptions);
    // httplib writes a reply's headers and body separately: with Nagle's algorithm on, the
    // body waits for the client's delayed ACK (~40 ms per request on Linux).
    server.set_tcp_nodelay(true);
    server.set_read_timeout(options.read_timeout);
    server.set_write_timeout(options.write_timeout);
    server.set_keep_alive_timeout(options.keep_alive_timeout.count());
    server.set_keep_alive_max_count(options.keep_alive_max_requests);
    server.set_payload_max_length(options.max_request_body_bytes);
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
          Send(ErrorReply(absl::InternalError("unexpected exception")), response);
        });
    TableStore* store = self->store_.get();
    const OperationTable* table = &OperationTable::Default();
    server.Post("/", [table, store](const httplib::Request& request, httplib::Response& response) {
      try {
        ServeRequest(*table, store, request, response);
      } catch (const std::exception& e) {
        Send(ErrorReply(absl::InternalError(e.what())), response);
      }
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("healthy: ekv DynamoDB API\n", "text/plain");
    });
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
    self->address_ = absl::StrCat(host, ":", bound_port);
    DynamoServer* raw = self.get();
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
        absl::StrCat("starting the DynamoDB server on ", address, ": ", e.what()));
  }
  return self;
}

DynamoServer::~DynamoServer() { Stop(); }

void DynamoServer::Stop() {
  if (!listener_.joinable()) return;
  // As in MetricsHttpServer::Stop: stop() acts only once the listener runs, and only once.
  while (!listen_returned_.load()) {
    if (server_->is_running()) {
      server_->stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  listener_.join();
}

}  // namespace ekv::dynamo
