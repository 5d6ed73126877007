#include "runtime/console/console_server.h"

#include <exception>
#include <future>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "core/route/route.h"
#include "runtime/console/console_page.h"
#include "runtime/console/heat_map.h"
#include "runtime/console/load_history.h"
#include "runtime/metrics/http_auth.h"
#include "runtime/metrics/http_server.h"

namespace ekv::runtime::console {
namespace {

nlohmann::json RoutesJson(const route::RouteCatalog& catalog) {
  nlohmann::json routes = nlohmann::json::array();
  catalog.ForEachRoute([&](const route::RouteDescriptor& route) {
    routes.push_back({{"route_id", route.route_id},
                      {"start", DisplayKey(route.start)},
                      {"end", DisplayKey(route.end)},
                      {"group", route.raft_group_id},
                      {"state", std::string(route::RouteStateName(route.state))},
                      {"parent_route_id", route.parent_route_id}});
  });
  return routes;
}

// Every group any node reported, with its replicas, leader and apply lag.
nlohmann::json GroupsJson(const std::map<raft::NodeId, nlohmann::json>& documents) {
  struct Replica {
    raft::NodeId node;
    const nlohmann::json* status;
  };
  std::map<uint64_t, std::vector<Replica>> by_group;
  for (const auto& [node, document] : documents) {
    auto groups = document.find("groups");
    if (groups == document.end() || !groups->is_array()) continue;
    for (const nlohmann::json& status : *groups) {
      if (!status.is_object()) continue;  // another node's answer: never trusted
      by_group[JsonU64(status, "group")].push_back({node, &status});
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [group, replicas] : by_group) {
    // The leader: the replica that leads at the highest term; else what most replicas
    // believe (0: none known).
    uint64_t leader = 0;
    uint64_t leader_term = 0;
    std::map<uint64_t, int> votes;
    uint64_t max_commit = 0;
    for (const Replica& r : replicas) {
      const uint64_t term = JsonU64(*r.status, "term");
      if (r.status->value("state", "") == "leader" && term >= leader_term) {
        leader = r.node;
        leader_term = term;
      }
      ++votes[JsonU64(*r.status, "leader")];
      max_commit = std::max(max_commit, JsonU64(*r.status, "commit"));
    }
    if (leader == 0) {
      int best = 0;
      for (const auto& [candidate, count] : votes) {
        if (candidate != 0 && count > best) {
          leader = candidate;
          best = count;
        }
      }
    }
    nlohmann::json replica_json = nlohmann::json::array();
    for (const Replica& r : replicas) {
      const uint64_t applied = JsonU64(*r.status, "applied");
      replica_json.push_back({{"node", r.node},
                              {"state", r.status->value("state", "")},
                              {"term", JsonU64(*r.status, "term")},
                              {"commit", JsonU64(*r.status, "commit")},
                              {"applied", applied},
                              {"lag", max_commit > applied ? max_commit - applied : 0}});
    }
    out.push_back(
        {{"group", group}, {"leader", leader}, {"commit", max_commit}, {"replicas", replica_json}});
  }
  return out;
}

template <typename Handler>
void Guarded(httplib::Response& response, Handler handler) {
  try {
    handler();
  } catch (const std::exception& e) {
    response.status = 500;
    response.set_content(absl::StrCat("internal error: ", e.what(), "\n"), "text/plain");
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> FetchJson(const std::string& address, const std::string& path,
                                         std::chrono::milliseconds timeout,
                                         const metrics::TlsFiles& tls,
                                         const std::string& bearer_token) {
  absl::StatusOr<std::pair<std::string, int>> host_port = metrics::ParseListenAddress(address);
  if (!host_port.ok()) return host_port.status();
  const std::string url = absl::StrCat(tls.enabled() ? "https://" : "http://", address, path);
  try {
    httplib::Client client(absl::StrCat(tls.enabled() ? "https://" : "http://", address));
    if (tls.enabled()) {
      if (!tls.ca_file.empty()) client.set_ca_cert_path(tls.ca_file);
      client.enable_server_certificate_verification(true);
    }
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    if (!bearer_token.empty()) client.set_bearer_token_auth(bearer_token.c_str());
    httplib::Result result = client.Get(path);
    if (!result) {
      return absl::UnavailableError(
          absl::StrCat("GET ", url, ": ", httplib::to_string(result.error())));
    }
    if (result->status != 200) {
      return absl::UnavailableError(absl::StrCat("GET ", url, ": HTTP ", result->status));
    }
    nlohmann::json parsed =
        nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return absl::DataLossError(absl::StrCat("GET ", url, ": not a JSON object"));
    }
    return parsed;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("GET ", url, ": ", e.what()));
  }
}

nlohmann::json ClusterDocument(raft::NodeId self, const node::MemberDirectory& members,
                               const std::map<raft::NodeId, nlohmann::json>& documents,
                               const std::map<raft::NodeId, std::string>& errors,
                               const absl::StatusOr<route::RouteCatalog>& catalog,
                               size_t heat_map_buckets) {
  std::set<raft::NodeId> ids;
  for (const auto& [id, addresses] : members) ids.insert(id);
  for (const auto& [id, document] : documents) ids.insert(id);
  nlohmann::json nodes = nlohmann::json::array();
  std::vector<nlohmann::json> loads;
  for (raft::NodeId id : ids) {
    nlohmann::json node = {{"id", id}, {"name", absl::StrCat("n", id)}, {"self", id == self}};
    if (auto it = members.find(id); it != members.end()) {
      node["raft"] = it->second.raft_address;
      node["grpc"] = it->second.grpc_address;
      node["redis"] = it->second.redis_address;
      node["dynamo"] = it->second.dynamo_address;
      node["metrics"] = it->second.metrics_address;
    }
    auto document = documents.find(id);
    node["reachable"] = document != documents.end();
    if (auto error = errors.find(id); error != errors.end()) node["error"] = error->second;
    if (document != documents.end()) {
      node["ready"] = document->second.value("ready", false);
      node["ready_reason"] = document->second.value("ready_reason", "");
      if (auto load = document->second.find("load"); load != document->second.end()) {
        loads.push_back(*load);
      }
    }
    nodes.push_back(std::move(node));
  }
  nlohmann::json out = {{"self", self},
                        {"nodes", nodes},
                        {"groups", GroupsJson(documents)},
                        {"heat_map", MergeHeatMap(loads, heat_map_buckets)}};
  if (catalog.ok()) {
    out["catalog_version"] = catalog->version();
    out["routes"] = RoutesJson(*catalog);
  } else {
    out["catalog_error"] = std::string(catalog.status().message());
    out["routes"] = nlohmann::json::array();
  }
  return out;
}

nlohmann::json ConsoleServer::Cluster() const {
  absl::StatusOr<node::MemberDirectory> members = sources_.members();
  std::map<raft::NodeId, nlohmann::json> documents;
  std::map<raft::NodeId, std::string> errors;
  documents[sources_.node] = sources_.local_document();
  if (!members.ok()) errors[sources_.node] = std::string(members.status().message());
  // Peers in parallel, each bounded by the peer timeout.
  std::map<raft::NodeId, std::future<absl::StatusOr<nlohmann::json>>> fetches;
  if (members.ok()) {
    for (const auto& [id, addresses] : *members) {
      if (id == sources_.node) continue;
      if (addresses.metrics_address.empty()) {
        errors[id] = "no metrics endpoint: its status and load are not known here";
        continue;
      }
      fetches[id] = std::async(std::launch::async, FetchJson, addresses.metrics_address,
                               std::string("/api/node"), options_.peer_timeout, options_.tls,
                               options_.auth_token);
    }
  }
  for (auto& [id, fetch] : fetches) {
    absl::StatusOr<nlohmann::json> document = fetch.get();
    if (document.ok()) {
      documents[id] = std::move(*document);
    } else {
      errors[id] = std::string(document.status().message());
    }
  }
  return ClusterDocument(sources_.node, members.ok() ? *members : node::MemberDirectory{},
                         documents, errors, sources_.catalog(), options_.heat_map_buckets);
}

absl::StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(absl::string_view address,
                                                                    ConsoleSources sources,
                                                                    ConsoleOptions options) {
  std::unique_ptr<ConsoleServer> self(new ConsoleServer());
  self->sources_ = std::move(sources);
  self->options_ = options;
  try {
    absl::StatusOr<std::unique_ptr<httplib::Server>> created = metrics::NewHttpServer(options.tls);
    if (!created.ok()) return created.status();
    self->server_ = std::move(*created);
    httplib::Server& server = *self->server_;
    metrics::ApplyHttpServerLimits(server, options.http);
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
          response.status = 500;
          response.set_content("internal error\n", "text/plain");
        });
    metrics::RequireHttpToken(server, options.auth_token, /*open_paths=*/{});
    server.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(kConsolePage, "text/html; charset=utf-8");
    });
    ConsoleServer* raw = self.get();
    server.Get("/api/node", [raw](const httplib::Request&, httplib::Response& response) {
      Guarded(response, [&] {
        response.set_content(raw->sources_.local_document().dump(), "application/json");
      });
    });
    server.Get("/api/cluster", [raw](const httplib::Request&, httplib::Response& response) {
      Guarded(response, [&] { response.set_content(raw->Cluster().dump(), "application/json"); });
    });
    absl::StatusOr<std::unique_ptr<metrics::HttpListener>> listener =
        metrics::HttpListener::Start(&server, address, "the console");
    if (!listener.ok()) return listener.status();
    self->listener_ = std::move(*listener);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("starting the console on ", address, ": ", e.what()));
  }
  return self;
}

ConsoleServer::~ConsoleServer() { Stop(); }

void ConsoleServer::Stop() {
  if (listener_) listener_->Stop();
}

}  // namespace ekv::runtime::console
