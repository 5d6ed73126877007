// The admin console of a real 3-node cluster, in a real browser: after a split, a hot key
// range gets most of the writes; the console's JSON and the page that headless Chromium
// renders (its DOM after the scripts ran) list every node and show the hot range as the
// hottest cell of the heat map. The test also takes the screenshot the README shows
// (written to EKV_CONSOLE_SCREENSHOT in the build tree; docs/console.png is a copy).
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

nlohmann::json GetJson(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  httplib::Client client(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  client.set_connection_timeout(seconds(2));
  client.set_read_timeout(seconds(10));
  httplib::Result result = client.Get(path);
  if (!result || result->status != 200) return nullptr;
  return nlohmann::json::parse(result->body, nullptr, false);
}

// The route id of the hottest cell for `metric` in a /api/cluster answer (0: none).
uint64_t HottestRoute(const nlohmann::json& cluster, const std::string& metric) {
  double max = 0;
  uint64_t hottest = 0;
  if (!cluster.is_object() || !cluster.contains("heat_map")) return 0;
  for (const nlohmann::json& route : cluster["heat_map"]["routes"]) {
    for (const nlohmann::json& value : route[metric]) {
      if (value.get<double>() > max) {
        max = value.get<double>();
        hottest = route["route_id"].get<uint64_t>();
      }
    }
  }
  return hottest;
}

// The opening tag of the element with id `id` in `html` (empty if absent).
std::string OpeningTag(const std::string& html, const std::string& id) {
  const size_t at = html.find(absl::StrCat("id=\"", id, "\""));
  if (at == std::string::npos) return "";
  const size_t open = html.rfind('<', at);
  return html.substr(open, html.find('>', at) - open + 1);
}

class ConsoleTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.metrics = true;  // peers' samples are fetched from their metrics endpoints
    options.console = true;
    options.redis = true;  // every front door, so the page (and the screenshot) lists them
    options.dynamo = true;
    options.tick_ms = 50;  // the server's Raft timing: no spurious elections under load
    options.extra_flags = {"--load_sample_ms=1000"};
    StartCluster(options);
  }
};

TEST_F(ConsoleTest, BrowserShowsNodesAndTheHotRange) {
  // Routes 3 = ["", "g") and 4 = ["g", "m") on group 1 after the split, 2 = ["m", +inf).
  proto::SplitRangeResponse split;
  grpc::Status split_status;
  int split_attempts = 0;
  const auto split_deadline = std::chrono::steady_clock::now() + seconds(20);
  do {
    ++split_attempts;
    grpc::ClientContext context;
    SetDeadline(&context, seconds(5));
    proto::SplitRangeRequest request;
    request.set_expected_catalog_version(1);
    request.set_route_id(1);
    request.set_split_key("g");
    split_status = cluster().dist(1).SplitRange(&context, request, &split);
    if (split_status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) break;
  } while (!split_status.ok() && std::chrono::steady_clock::now() < split_deadline);
  if (split_status.error_code() == grpc::StatusCode::FAILED_PRECONDITION && split_attempts > 1) {
    // A retry found catalog version 1 gone: an earlier attempt split and its answer was lost
    // (its deadline passed on a loaded machine). The catalog shows that split.
    grpc::ClientContext context;
    SetDeadline(&context, seconds(5));
    proto::ListRoutesResponse routes;
    const grpc::Status listed =
        cluster().dist(1).ListRoutes(&context, proto::ListRoutesRequest(), &routes);
    ASSERT_TRUE(listed.ok()) << Describe(listed);
    for (const proto::RouteDescriptor& route : routes.routes()) {
      if (route.start() == "g" && route.end() == "m") {
        *split.mutable_right() = route;
        split_status = grpc::Status::OK;
      }
    }
  }
  ASSERT_TRUE(split_status.ok()) << Describe(split_status);
  ASSERT_EQ(split.right().route_id(), 4u);

  // Writes until the test is done: 20 to the hot range ["g", "m") for each one elsewhere,
  // through every node.
  std::atomic<bool> stop{false};
  std::atomic<int> hot_ok{0};
  std::thread writer([&] {
    for (int n = 0; !stop.load(); ++n) {
      const int node = 1 + n % cluster().size();
      const std::string key =
          n % 21 == 0 ? absl::StrCat(n % 2 == 0 ? "a" : "z", n % 50) : absl::StrCat("h", n % 500);
      if (RawPut(cluster(), node, key, "some value bytes", seconds(5)).ok() && key[0] == 'h') {
        ++hot_ok;
      }
    }
  });
  struct StopWriter {
    std::atomic<bool>* stop;
    std::thread* writer;
    ~StopWriter() {
      stop->store(true);
      writer->join();
    }
  } stop_writer{&stop, &writer};

  // The console's JSON (served by n2, merging every node's samples) shows the hot range.
  nlohmann::json view;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    view = GetJson(cluster().console_address(2), "/api/cluster");
    if (HottestRoute(view, "writes") == 4 && view["nodes"].size() == 3 && hot_ok.load() > 50) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(500));
  }
  ASSERT_EQ(HottestRoute(view, "writes"), 4u) << view.dump(1) << "\nhot writes: " << hot_ok;
  ASSERT_EQ(view["nodes"].size(), 3u) << view.dump(1);
  for (const nlohmann::json& node : view["nodes"]) {
    EXPECT_TRUE(node["reachable"].get<bool>()) << node.dump();
    EXPECT_EQ(node["metrics"], cluster().metrics_address(node["id"].get<int>())) << node.dump();
  }
  EXPECT_EQ(view["catalog_version"], 2) << view.dump(1);
  EXPECT_EQ(view["routes"].size(), 3u) << view.dump(1);

  // The page in headless Chromium, after its scripts fetched /api/cluster and drew.
  const std::string url = absl::StrCat("http://", cluster().console_address(2), "/?metric=writes");
  const std::string profile = absl::StrCat(cluster().temp_dir(), "/chromium");
  const std::vector<std::string> chromium = {"chromium",
                                             "--headless",
                                             "--no-sandbox",
                                             "--disable-gpu",
                                             "--disable-dev-shm-usage",
                                             absl::StrCat("--user-data-dir=", profile),
                                             "--no-first-run",
                                             "--virtual-time-budget=6000"};
  std::vector<std::string> dump = chromium;
  dump.push_back("--dump-dom");
  dump.push_back(url);
  const std::string dom_path = absl::StrCat(cluster().temp_dir(), "/console-dom.html");
  const int dumped = RunProgram(dump, dom_path, seconds(90));
  const std::string dom = ReadWholeFile(dom_path);
  ASSERT_EQ(dumped, 0) << "chromium --dump-dom failed (is Debian's chromium installed? "
                          "scripts/install-deps.sh):\n"
                       << dom.substr(0, 4000);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(dom.find(absl::StrCat("id=\"node-n", i, "\"")), std::string::npos)
        << "n" << i << " not listed:\n"
        << dom.substr(0, 6000);
  }
  const std::string hottest = OpeningTag(dom, "hottest");
  EXPECT_NE(hottest.find("data-route-id=\"4\""), std::string::npos)
      << "hottest cell: " << hottest << "\n"
      << dom.substr(0, 6000);
  EXPECT_NE(dom.find("<rect class=\"cell\" data-route-id=\"4\""), std::string::npos);

  std::vector<std::string> shot = chromium;
  shot.push_back("--hide-scrollbars");
  shot.push_back("--window-size=1280,1000");
  shot.push_back(absl::StrCat("--screenshot=", EKV_CONSOLE_SCREENSHOT));
  shot.push_back(url);
  const std::string shot_log = absl::StrCat(cluster().temp_dir(), "/console-shot.log");
  ASSERT_EQ(RunProgram(shot, shot_log, seconds(90)), 0) << ReadWholeFile(shot_log);
  const std::string png = ReadWholeFile(EKV_CONSOLE_SCREENSHOT);
  EXPECT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 4), "\x89PNG");
}

}  // namespace
}  // namespace ekv::integration
