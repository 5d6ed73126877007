// The console's pieces without a cluster: load frames from published counters, the heat
// map's merge rules (writes: max over replicas, reads: sum over nodes), the cluster
// document, and the server's page and JSON over a real socket.
#include <chrono>
#include <map>
#include <string>

#include <httplib.h>

#include "gtest/gtest.h"
#include "runtime/console/console_server.h"
#include "runtime/console/heat_map.h"
#include "runtime/console/load_history.h"
#include "runtime/console/node_document.h"
#include "runtime/metrics/http_server.h"
#include "runtime/metrics/registry.h"

namespace ekv::runtime::console {
namespace {

std::map<raft::GroupId, node::GroupStatus> Counters(uint64_t writes1, uint64_t reads2) {
  std::map<raft::GroupId, node::GroupStatus> statuses;
  statuses[1].group = 1;
  statuses[1].route_loads.push_back({1, "", "m", 0, writes1, 0, writes1 * 10});
  statuses[2].group = 2;
  statuses[2].route_loads.push_back({2, "m", "", reads2, 0, reads2 * 3, 0});
  return statuses;
}

TEST(LoadHistoryTest, FramesHoldDifferencesAndTheWindowIsBounded) {
  LoadHistory history({std::chrono::milliseconds(1000), /*max_frames=*/2});
  history.Record(10'000, Counters(5, 1));  // baseline only
  EXPECT_TRUE(history.Frames().empty());
  history.Record(11'000, Counters(8, 4));
  history.Record(12'000, Counters(2, 4));  // a restarted replica counts from zero
  history.Record(13'000, Counters(3, 9));
  std::vector<LoadFrame> frames = history.Frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].end_ms, 12'000u);
  EXPECT_EQ(frames[0].duration_ms, 1000u);
  ASSERT_EQ(frames[0].routes.size(), 2u);
  EXPECT_EQ(frames[0].routes[0].writes, 2u);
  EXPECT_EQ(frames[0].routes[0].write_bytes, 20u);
  EXPECT_EQ(frames[0].routes[1].reads, 0u);
  EXPECT_EQ(frames[1].routes[0].writes, 1u);
  EXPECT_EQ(frames[1].routes[1].reads, 5u);
  EXPECT_EQ(frames[1].routes[1].read_bytes, 15u);
  nlohmann::json json = history.ToJson();
  EXPECT_EQ(json["resolution_ms"], 1000);
  EXPECT_EQ(json["frames"][1]["routes"][1]["start"], "m");
}

TEST(LoadHistoryTest, DisplayKeyEscapesWhatIsNotPrintable) {
  EXPECT_EQ(DisplayKey(std::string("\x00"
                                   "ddb\\x\xff",
                                   7)),
            "\\x00ddb\\\\x\\xff");
}

nlohmann::json NodeLoad(uint64_t end_ms, uint64_t writes, uint64_t reads) {
  return {{"resolution_ms", 1000},
          {"frames",
           {{{"end_ms", end_ms},
             {"duration_ms", 1000},
             {"routes",
              {{{"group", 1},
                {"route_id", 4},
                {"start", "g"},
                {"end", "m"},
                {"reads", reads},
                {"writes", writes},
                {"read_bytes", reads},
                {"write_bytes", writes * 2}},
               {{"group", 1},
                {"route_id", 3},
                {"start", ""},
                {"end", "g"},
                {"reads", 0},
                {"writes", 1},
                {"read_bytes", 0},
                {"write_bytes", 1}}}}}}}};
}

TEST(HeatMapTest, WritesTakeTheMaximumOverReplicasReadsAddUp) {
  // Three replicas applied the same 100 writes; each served its own reads.
  nlohmann::json map =
      MergeHeatMap({NodeLoad(5'100, 100, 7), NodeLoad(5'900, 100, 3), NodeLoad(5'500, 99, 0)}, 60);
  EXPECT_EQ(map["resolution_ms"], 1000);
  EXPECT_EQ(map["times_ms"], nlohmann::json::array({5000}));
  ASSERT_EQ(map["routes"].size(), 2u);
  // Key order: route 3 ["", "g") first.
  EXPECT_EQ(map["routes"][0]["route_id"], 3);
  EXPECT_EQ(map["routes"][1]["route_id"], 4);
  EXPECT_EQ(map["routes"][1]["writes"][0], 100.0);
  EXPECT_EQ(map["routes"][1]["reads"][0], 10.0);
  EXPECT_EQ(map["routes"][1]["bytes"][0], 200.0 + 10.0);
}

TEST(HeatMapTest, TimeAxisIsContiguousAndBounded) {
  nlohmann::json map = MergeHeatMap({NodeLoad(1'000, 1, 0), NodeLoad(4'000, 2, 0)}, 3);
  EXPECT_EQ(map["times_ms"], nlohmann::json::array({2000, 3000, 4000}));
  EXPECT_EQ(map["routes"][1]["writes"], nlohmann::json::array({0.0, 0.0, 2.0}));
  EXPECT_EQ(MergeHeatMap({}, 60)["routes"].size(), 0u);
}

TEST(ClusterDocumentTest, NodesGroupsLagAndUnreachablePeers) {
  node::MemberDirectory members;
  members[1] = {"127.0.0.1:1", "127.0.0.1:2", "", "", "127.0.0.1:3"};
  members[2] = {"127.0.0.1:4", "127.0.0.1:5", "", "", "127.0.0.1:6"};
  std::map<raft::GroupId, node::GroupStatus> statuses;
  statuses[1].group = 1;
  statuses[1].leader = 1;
  statuses[1].term = 2;
  statuses[1].state = raft::StateType::kLeader;
  statuses[1].commit = 10;
  statuses[1].applied = 7;
  LoadHistory history;
  std::map<raft::NodeId, nlohmann::json> documents;
  documents[1] = NodeDocument(1, absl::OkStatus(), statuses, history);
  absl::StatusOr<route::RouteCatalog> catalog = route::RouteCatalog::Bootstrap({{"", "", 1}});
  ASSERT_TRUE(catalog.ok());
  nlohmann::json doc =
      ClusterDocument(1, members, documents, {{2, "connection refused"}}, catalog, 60);
  ASSERT_EQ(doc["nodes"].size(), 2u);
  EXPECT_EQ(doc["nodes"][0]["name"], "n1");
  EXPECT_EQ(doc["nodes"][0]["ready"], true);
  EXPECT_EQ(doc["nodes"][0]["grpc"], "127.0.0.1:2");
  EXPECT_EQ(doc["nodes"][1]["reachable"], false);
  EXPECT_EQ(doc["nodes"][1]["error"], "connection refused");
  ASSERT_EQ(doc["groups"].size(), 1u);
  EXPECT_EQ(doc["groups"][0]["leader"], 1);
  EXPECT_EQ(doc["groups"][0]["replicas"][0]["lag"], 3);
  EXPECT_EQ(doc["catalog_version"], 1);
  EXPECT_EQ(doc["routes"][0]["state"], "ROUTE_STATE_ACTIVE");
}

TEST(ConsoleServerTest, ServesThePageAndTheClusterDocument) {
  ConsoleSources sources;
  sources.node = 1;
  LoadHistory history;
  sources.local_document = [&] { return NodeDocument(1, absl::OkStatus(), {}, history); };
  sources.members = [] {
    node::MemberDirectory members;
    members[1] = {"127.0.0.1:1", "127.0.0.1:2", "", "", ""};
    return absl::StatusOr<node::MemberDirectory>(members);
  };
  sources.catalog = [] {
    return absl::StatusOr<route::RouteCatalog>(absl::UnavailableError("no leader"));
  };
  auto console = ConsoleServer::Start("127.0.0.1:0", std::move(sources));
  ASSERT_TRUE(console.ok()) << console.status();
  const std::string address = (*console)->address();
  httplib::Client client("127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1)));
  client.set_read_timeout(std::chrono::seconds(5));
  httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>ekv console</title>"), std::string::npos);
  httplib::Result cluster = client.Get("/api/cluster");
  ASSERT_TRUE(cluster);
  ASSERT_EQ(cluster->status, 200) << cluster->body;
  nlohmann::json doc = nlohmann::json::parse(cluster->body);
  EXPECT_EQ(doc["self"], 1);
  EXPECT_EQ(doc["catalog_error"], "no leader");
  EXPECT_EQ(doc["nodes"][0]["ready"], true);
  absl::StatusOr<nlohmann::json> node = FetchJson(address, "/api/node", std::chrono::seconds(2));
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)["node"], 1);
  EXPECT_FALSE(FetchJson(address, "/nope", std::chrono::seconds(2)).ok());
}

// --http_auth_token_file on the console: every path needs the token, and the console
// presents it to the peers' metrics endpoints; a peer with another token is shown
// unreachable with the reason.
TEST(ConsoleServerTest, AuthTokenGuardsThePageAndIsSentToPeers) {
  metrics::MetricRegistry registry;
  auto peer_with = [&](const std::string& token) {
    metrics::MetricsServerOptions options;
    options.auth_token = token;
    options.json_endpoints["/api/node"] = [] { return std::string(R"({"node":2,"ready":true})"); };
    return metrics::MetricsHttpServer::Start(
        "127.0.0.1:0", &registry, [] { return absl::OkStatus(); }, options);
  };
  auto peer = peer_with("same-token");
  ASSERT_TRUE(peer.ok()) << peer.status();
  auto stranger = peer_with("other-token");
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  ConsoleSources sources;
  sources.node = 1;
  LoadHistory history;
  sources.local_document = [&] { return NodeDocument(1, absl::OkStatus(), {}, history); };
  const std::string peer_address = (*peer)->address();
  const std::string stranger_address = (*stranger)->address();
  sources.members = [&] {
    node::MemberDirectory members;
    members[1] = {"127.0.0.1:1", "127.0.0.1:2", "", "", ""};
    members[2] = {"127.0.0.1:3", "127.0.0.1:4", "", "", peer_address};
    members[3] = {"127.0.0.1:5", "127.0.0.1:6", "", "", stranger_address};
    return absl::StatusOr<node::MemberDirectory>(members);
  };
  sources.catalog = [] {
    return absl::StatusOr<route::RouteCatalog>(absl::UnavailableError("no leader"));
  };
  ConsoleOptions options;
  options.auth_token = "same-token";
  auto console = ConsoleServer::Start("127.0.0.1:0", std::move(sources), options);
  ASSERT_TRUE(console.ok()) << console.status();
  const std::string address = (*console)->address();
  httplib::Client client("127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1)));
  client.set_read_timeout(std::chrono::seconds(10));
  for (const char* path : {"/", "/api/cluster", "/api/node"}) {
    httplib::Result refused = client.Get(path);
    ASSERT_TRUE(refused) << path;
    EXPECT_EQ(refused->status, 401) << path;
    EXPECT_EQ(refused->body.find("ekv console"), std::string::npos);
    httplib::Result wrong = client.Get(path, {{"Authorization", "Bearer other-token"}});
    ASSERT_TRUE(wrong) << path;
    EXPECT_EQ(wrong->status, 401) << path;
  }
  client.set_basic_auth("operator", "same-token");
  httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>ekv console</title>"), std::string::npos);
  httplib::Result cluster = client.Get("/api/cluster");
  ASSERT_TRUE(cluster);
  ASSERT_EQ(cluster->status, 200) << cluster->body;
  const nlohmann::json doc = nlohmann::json::parse(cluster->body);
  ASSERT_EQ(doc["nodes"].size(), 3u) << doc.dump();
  EXPECT_FALSE(doc["nodes"][1].contains("error")) << doc.dump();
  EXPECT_NE(doc["nodes"][2].value("error", "").find("HTTP 401"), std::string::npos) << doc.dump();
  EXPECT_TRUE(FetchJson(peer_address, "/api/node", std::chrono::seconds(2), {}, "same-token").ok());
  EXPECT_FALSE(FetchJson(peer_address, "/api/node", std::chrono::seconds(2)).ok());
}

}  // namespace
}  // namespace ekv::runtime::console
