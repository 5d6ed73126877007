// Issue #25: a range moves from one Raft group to another on a live 3-node cluster
// (Distribution.MoveRange, the core's StartMoveRange) while clients keep writing through
// every node, to the moving range and to one that stays. Afterwards:
//   - every acknowledged write is readable, with its value, through every node;
//   - a scan of the moved range through every node returns each key once, in key order;
//   - every node's catalog names the target group, ACTIVE, for the route;
//   - new writes to the moved range are applied by the target group's Raft log and not by
//     the source's (the per-group applied index from /metrics), and read back.
// Then ekv-client move-range moves it back, which checks the command line end to end.
//
// Nothing here measures time: every wait is a bounded poll with a generous deadline, and
// a failure prints what the test saw (the fixture adds every node's log).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"
#include "tests/integration/write_load.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// Three groups: 1 = ["", "g"), 2 = ["g", "p"), 3 = ["p", +inf). WriteLoad's "a/..." keys
// stay on group 1; its "n/..." keys are in the route that moves from group 2 to group 3.
constexpr char kMovedStart[] = "g";
constexpr char kMovedEnd[] = "p";
constexpr uint64_t kSource = 2;
constexpr uint64_t kTarget = 3;
constexpr int kSeedKeys = 200;
constexpr int kProbeWrites = 100;  // sequential writes after the move, for the log check

std::string SeedKey(int i) { return absl::StrFormat("h/seed/%04d", i); }

// The route starting at `start` in `node`'s catalog, retried within the poll budget.
std::optional<proto::RouteDescriptor> RouteStartingAt(ProcessCluster& cluster, int node,
                                                      const std::string& start, uint64_t* version,
                                                      std::string* seen) {
  const auto deadline = Clock::now() + kPollBudget;
  while (true) {
    grpc::ClientContext context;
    SetDeadline(&context, seconds(10));
    proto::ListRoutesResponse response;
    grpc::Status status = cluster.dist(node).ListRoutes(&context, {}, &response);
    if (status.ok()) {
      *seen = response.DebugString();
      if (version != nullptr) *version = response.catalog_version();
      for (const proto::RouteDescriptor& route : response.routes()) {
        if (route.start() == start) return route;
      }
      return std::nullopt;
    }
    *seen = Describe(status);
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// Polls `node`'s catalog until route `route_id` is ACTIVE on `group` (each node learns the
// catalog through its watch, some time after it commits). Empty when it is; otherwise what
// the catalog last showed.
std::string WaitRouteOn(ProcessCluster& cluster, int node, uint64_t route_id, uint64_t group) {
  const auto deadline = Clock::now() + kPollBudget;
  std::string seen;
  while (true) {
    grpc::ClientContext context;
    SetDeadline(&context, seconds(10));
    proto::ListRoutesResponse routes;
    grpc::Status status = cluster.dist(node).ListRoutes(&context, {}, &routes);
    seen = status.ok() ? routes.DebugString() : Describe(status);
    bool routed = false;
    if (status.ok()) {
      for (const proto::RouteDescriptor& route : routes.routes()) {
        routed = routed || (route.route_id() == route_id && route.raft_group_id() == group &&
                            route.state() == proto::ROUTE_STATE_ACTIVE);
      }
    }
    // GetRoute answers from the node's route table: it must agree.
    grpc::ClientContext route_context;
    SetDeadline(&route_context, seconds(10));
    proto::GetRouteRequest request;
    request.set_key("n/probe");
    proto::GetRouteResponse route;
    status = cluster.dist(node).GetRoute(&route_context, request, &route);
    routed = routed && status.ok() && route.raft_group_id() == group &&
             route.start() == kMovedStart && route.end() == kMovedEnd;
    if (routed) return "";
    if (Clock::now() >= deadline) {
      return absl::StrCat("n", node, " never showed route ", route_id, " ACTIVE on group ", group,
                          "; ListRoutes: ", seen, " GetRoute(n/probe): ", Describe(status), " ",
                          route.DebugString());
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// Every key of [start, end) through `node`, page by page; a key seen twice or out of order
// is reported in `problems`.
std::map<std::string, std::string> ScanChecked(ProcessCluster& cluster, int node,
                                               const std::string& start, const std::string& end,
                                               std::string* problems) {
  std::map<std::string, std::string> out;
  std::string cursor = start;
  std::string last;
  for (int pages = 0; pages < 1000; ++pages) {
    proto::RawScanAtResponse response;
    grpc::Status status;
    const auto deadline = Clock::now() + kPollBudget;
    do {
      grpc::ClientContext context;
      SetDeadline(&context, seconds(10));
      proto::RawScanAtRequest request;
      request.set_start_key(cursor);
      request.set_end_key(end);
      request.set_limit(500);
      response.Clear();
      status = cluster.raw(node).RawScanAt(&context, request, &response);
      if (!status.ok()) std::this_thread::sleep_for(milliseconds(200));
    } while (!status.ok() && Clock::now() < deadline);
    if (!status.ok()) {
      absl::StrAppend(problems, "scan through n", node, " from '", cursor,
                      "' kept failing: ", Describe(status), "\n");
      return out;
    }
    for (const proto::RawKVPair& pair : response.kv()) {
      if (!last.empty() && pair.key() <= last) {
        absl::StrAppend(problems, "n", node, ": key '", pair.key(), "' after '", last,
                        "' (duplicate or out of order)\n");
      }
      if (pair.key() < start || pair.key() >= end) {
        absl::StrAppend(problems, "n", node, ": key '", pair.key(), "' outside the range\n");
      }
      last = pair.key();
      out[pair.key()] = pair.value();
    }
    if (response.kv_size() < 500) return out;
    cursor = last + std::string(1, '\0');
  }
  absl::StrAppend(problems, "n", node, ": too many pages\n");
  return out;
}

// The applied index of every group in node `node`'s /metrics, or what went wrong.
std::map<int, double> AppliedIndexes(const std::string& metrics_address, std::string* error) {
  const size_t colon = metrics_address.rfind(':');
  httplib::Client client(metrics_address.substr(0, colon),
                         std::stoi(metrics_address.substr(colon + 1)));
  client.set_connection_timeout(seconds(5));
  client.set_read_timeout(seconds(10));
  httplib::Result result = client.Get("/metrics");
  std::map<int, double> out;
  if (!result || result->status != 200) {
    *error = "no /metrics answer";
    return out;
  }
  for (int group = 1; group <= 3; ++group) {
    const std::string needle = absl::StrCat("\nekv_raft_applied_index{group=\"", group, "\"} ");
    const size_t at = result->body.find(needle);
    if (at == std::string::npos) continue;
    const size_t start = at + needle.size();
    double value = 0;
    if (absl::SimpleAtod(result->body.substr(start, result->body.find('\n', start) - start),
                         &value)) {
      out[group] = value;
    }
  }
  if (out.size() != 3)
    *error =
        absl::StrCat("applied index not found for every group in:\n", result->body.substr(0, 3000));
  return out;
}

class RangeMoveTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.metrics = true;
    options.request_timeout_ms = 5000;
    options.extra_flags = {"--groups=3", "--split_points=g,p"};
    StartCluster(options);
  }
};

TEST_F(RangeMoveTest, MoveUnderWriteLoadLosesNothingAndServesFromTheTarget) {
  uint64_t version = 0;
  std::string seen;
  std::optional<proto::RouteDescriptor> route =
      RouteStartingAt(cluster(), 1, kMovedStart, &version, &seen);
  ASSERT_TRUE(route.has_value()) << "no route starts at 'g': " << seen;
  ASSERT_EQ(route->raft_group_id(), kSource) << route->DebugString();
  ASSERT_EQ(route->end(), kMovedEnd) << route->DebugString();
  const uint64_t route_id = route->route_id();

  for (int i = 0; i < kSeedKeys; ++i) {
    grpc::Status put = RawPutEventually(cluster(), 1 + i % 3, SeedKey(i), "seed");
    ASSERT_TRUE(put.ok()) << SeedKey(i) << ": " << Describe(put);
  }

  // Clients write through every node, half of their keys into the moving route.
  WriteLoad load(&cluster(), "mv", {1, 2, 3}, 3, milliseconds(10000));
  load.Start();
  // Some writes before the move starts, without depending on how fast they go.
  const auto warmup_deadline = Clock::now() + seconds(30);
  while (load.Acked().size() < 20 && Clock::now() < warmup_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }

  // The move, through a node chosen without regard to leaders, with the catalog version
  // it expects.
  proto::MoveRangeRequest request;
  request.set_expected_catalog_version(version);
  request.set_route_id(route_id);
  request.set_target_raft_group_id(kTarget);
  request.set_timeout_ms(90000);
  proto::MoveRangeResponse moved;
  grpc::ClientContext context;
  SetDeadline(&context, seconds(240));
  grpc::Status status = cluster().dist(2).MoveRange(&context, request, &moved);
  const size_t acked_at_move = load.Acked().size();

  // Writes keep going for a while after the cut-over, routed by catalogs that may lag.
  const auto after_deadline = Clock::now() + seconds(30);
  while (load.Acked().size() < acked_at_move + 40 && Clock::now() < after_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  load.Stop();
  ASSERT_TRUE(status.ok()) << "MoveRange: " << Describe(status);
  EXPECT_EQ(moved.route().route_id(), route_id) << moved.DebugString();
  EXPECT_EQ(moved.route().raft_group_id(), kTarget) << moved.DebugString();
  EXPECT_EQ(moved.route().state(), proto::ROUTE_STATE_ACTIVE) << moved.DebugString();
  EXPECT_EQ(moved.source_raft_group_id(), kSource) << moved.DebugString();
  EXPECT_GT(moved.catalog_version(), version) << moved.DebugString();
  EXPECT_GE(moved.records_copied(), static_cast<uint64_t>(kSeedKeys)) << moved.DebugString();

  const std::vector<AckedWrite> acked = load.Acked();
  size_t acked_in_moved = 0;
  for (const AckedWrite& write : acked) acked_in_moved += write.group == 2 ? 1 : 0;
  std::cout << "writes: " << load.attempts() << " attempted, " << acked.size() << " acked ("
            << acked_in_moved << " in the moved route, " << acked_at_move
            << " before the move answered), " << load.failures()
            << " failed; move: " << moved.ShortDebugString() << "\n";
  ASSERT_GT(acked_in_moved, 0u) << "no write to the moving route was acknowledged";

  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(WaitRouteOn(cluster(), node, route_id, kTarget), "");
  }
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "through n" << node;
    std::string problems;
    std::map<std::string, std::string> moved_keys =
        ScanChecked(cluster(), node, kMovedStart, kMovedEnd, &problems);
    EXPECT_EQ(problems, "") << "scan of the moved range through n" << node;
    for (int i = 0; i < kSeedKeys; ++i) {
      auto it = moved_keys.find(SeedKey(i));
      if (it == moved_keys.end() || it->second != "seed") {
        ADD_FAILURE() << "n" << node << ": seed key " << SeedKey(i) << " "
                      << (it == moved_keys.end() ? "missing" : "holds " + it->second);
        break;
      }
    }
  }

  // The moved route's writes now land in the target group's log, not the source's: on a
  // node's /metrics the target's applied index grows by at least one entry per sequential
  // write (each waits for the last), and the source's, which now owns no route, by less.
  std::string error;
  const std::map<int, double> before = AppliedIndexes(cluster().metrics_address(1), &error);
  ASSERT_EQ(error, "");
  for (int i = 0; i < kProbeWrites; ++i) {
    const std::string key = absl::StrFormat("n/probe/%04d", i);
    grpc::Status put = RawPutEventually(cluster(), 1 + i % 3, key, "probe");
    ASSERT_TRUE(put.ok()) << key << ": " << Describe(put);
  }
  std::map<int, double> after;
  const auto applied_deadline = Clock::now() + kPollBudget;
  do {
    after = AppliedIndexes(cluster().metrics_address(1), &error);
    if (error.empty() && after[kTarget] - before.at(kTarget) >= kProbeWrites) break;
    std::this_thread::sleep_for(milliseconds(200));
  } while (Clock::now() < applied_deadline);
  ASSERT_EQ(error, "");
  EXPECT_GE(after[kTarget] - before.at(kTarget), kProbeWrites)
      << "target group's applied index " << before.at(kTarget) << " -> " << after[kTarget];
  EXPECT_LT(after[kSource] - before.at(kSource), kProbeWrites)
      << "source group's applied index " << before.at(kSource) << " -> " << after[kSource];
  for (int i = 0; i < kProbeWrites; i += 7) {
    const std::string key = absl::StrFormat("n/probe/%04d", i);
    ReadResult read = RawGetEventually(cluster(), 1 + (i + 1) % 3, key);
    EXPECT_TRUE(read.status.ok() && read.exists && read.value == "probe")
        << key << ": " << Describe(read.status) << " exists=" << read.exists << " '" << read.value
        << "'";
  }

  // ekv-client move-range: back to the source, through another node.
  const std::string out_path = cluster().temp_dir() + "/move-range.out";
  const int exit_code = RunProgram(
      {EKV_CLIENT_BINARY, "--addr=" + cluster().grpc_address(3), "--move_deadline_ms=240000",
       "--move_timeout_ms=90000", "move-range", std::to_string(route_id), std::to_string(kSource)},
      out_path, seconds(300));
  const std::string out = ReadWholeFile(out_path);
  EXPECT_EQ(exit_code, 0) << out;
  EXPECT_NE(out.find(absl::StrCat("route ", route_id, " [\"g\", \"p\") group ", kSource,
                                  " ROUTE_STATE_ACTIVE")),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(absl::StrCat("moved from group ", kTarget)), std::string::npos) << out;
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(WaitRouteOn(cluster(), node, route_id, kSource), "");
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "")
        << "through n" << node << " after the move back";
  }
  ReadResult probe = RawGetEventually(cluster(), 2, "n/probe/0000");
  EXPECT_TRUE(probe.status.ok() && probe.exists && probe.value == "probe")
      << Describe(probe.status) << " exists=" << probe.exists;

  // A version that is no longer current refuses the move and changes nothing.
  proto::MoveRangeRequest stale = request;
  stale.set_target_raft_group_id(kTarget);
  proto::MoveRangeResponse refused;
  grpc::ClientContext stale_context;
  SetDeadline(&stale_context, seconds(60));
  status = cluster().dist(1).MoveRange(&stale_context, stale, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_EQ(WaitRouteOn(cluster(), 1, route_id, kSource), "");
}

}  // namespace
}  // namespace ekv::integration
