// ConsoleServer: the admin web console every node can serve (--console_address).
//
//   GET /             the page (console_page.h: HTML, CSS and plain JS embedded in the
//                     binary; it polls /api/cluster every 2 s and draws with SVG)
//   GET /api/node     this node's own document (node_document.h)
//   GET /api/cluster  the cluster as this node sees it: the member directory's nodes with
//                     their endpoints, each node's readiness and groups (fetched from its
//                     metrics endpoint's /api/node), every group's leader, replicas and
//                     apply lag, the route table with its catalog version, and the key-space
//                     heat map merged from every reachable node's samples (heat_map.h)
//
// Threading: httplib's bounded workers (two) serve requests. /api/cluster reads the
// directory and the catalog through the coordinator (linearizable reads through Raft,
// bounded by the request deadline) and fetches the peers' documents in parallel, each
// bounded by `peer_timeout`; a peer that does not answer is shown as unreachable. Peers
// are reached through their metrics endpoints (the member directory records those), so a
// node without --metrics_address shows no samples in other nodes' consoles.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/node/member_directory.h"
#include "core/raft/types.h"
#include "core/route/catalog.h"
#include "nlohmann/json.hpp"
#include "runtime/metrics/http_listener.h"
#include "runtime/metrics/tls_files.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ekv::runtime::console {

struct ConsoleSources {
  raft::NodeId node = raft::kNoNode;
  std::function<nlohmann::json()> local_document;  // NodeDocument of this node
  std::function<absl::StatusOr<node::MemberDirectory>()> members;
  std::function<absl::StatusOr<route::RouteCatalog>()> catalog;
};

struct ConsoleOptions {
  metrics::HttpServerLimits http;
  // HTTPS for the console (tls_files.h); when enabled, peers' metrics endpoints are
  // reached over HTTPS too, trusting `tls.ca_file`.
  metrics::TlsFiles tls;
  // --http_auth_token_file (runtime/metrics/http_auth.h): every console path needs it, and
  // the console sends it to the peers' metrics endpoints (every node has the same token).
  std::string auth_token;
  std::chrono::milliseconds peer_timeout{1500};
  size_t heat_map_buckets = 60;
};

// GET <path> on "host:port" over HTTP, or over HTTPS when `tls` is enabled (verifying the
// server against tls.ca_file, or the system's CAs when that is empty), with
// `Authorization: Bearer <bearer_token>` unless it is empty; the parsed JSON body, or why
// not.
absl::StatusOr<nlohmann::json> FetchJson(const std::string& address, const std::string& path,
                                         std::chrono::milliseconds timeout,
                                         const metrics::TlsFiles& tls = {},
                                         const std::string& bearer_token = "");

// The /api/cluster answer from already gathered parts (pure; unit-tested):
// `documents` by node id (a node absent there was unreachable, `errors` says why).
nlohmann::json ClusterDocument(raft::NodeId self, const node::MemberDirectory& members,
                               const std::map<raft::NodeId, nlohmann::json>& documents,
                               const std::map<raft::NodeId, std::string>& errors,
                               const absl::StatusOr<route::RouteCatalog>& catalog,
                               size_t heat_map_buckets);

class ConsoleServer {
 public:
  static absl::StatusOr<std::unique_ptr<ConsoleServer>> Start(absl::string_view address,
                                                              ConsoleSources sources,
                                                              ConsoleOptions options = {});
  ~ConsoleServer();
  void Stop();  // idempotent
  const std::string& address() const { return listener_->address(); }

 private:
  ConsoleServer() = default;
  nlohmann::json Cluster() const;

  ConsoleSources sources_;
  ConsoleOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<metrics::HttpListener> listener_;  // after server_: stopped before it goes
};

}  // namespace ekv::runtime::console
