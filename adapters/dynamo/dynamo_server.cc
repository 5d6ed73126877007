#include "adapters/dynamo/dynamo_server.h"

#include <exception>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "runtime/metrics/http_listener.h"

namespace ekv::dynamo {
namespace {

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
  std::unique_ptr<DynamoServer> self(new DynamoServer());
  self->store_ = std::make_unique<TableStore>(backend, options.store);
  try {
    self->server_ = std::make_unique<httplib::Server>();
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
    absl::StatusOr<std::unique_ptr<runtime::metrics::HttpListener>> listener =
        runtime::metrics::HttpListener::Start(&server, address, "the DynamoDB server");
    if (!listener.ok()) return listener.status();
    self->listener_ = std::move(*listener);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("starting the DynamoDB server on ", address, ": ", e.what()));
  }
  return self;
}

DynamoServer::~DynamoServer() { Stop(); }

void DynamoServer::Stop() {
  if (listener_) listener_->Stop();
}

}  // namespace ekv::dynamo
