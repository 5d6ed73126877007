// Issue #25: ranges merge on a live 3-node cluster (Distribution.MergeRange, the core's
// StartMergeRange) while clients keep writing through every node:
//   - two routes of one group merge through `ekv-client merge KEY` (metadata only);
//   - the merged route and the route of another group merge through gRPC with
//     move_if_needed (the right one moves into the left's group first), after the same
//     request without it was refused FAILED_PRECONDITION;
//   - the last route has nothing to merge with (INVALID_ARGUMENT), a stale version changes
//     nothing (FAILED_PRECONDITION).
// Afterwards every node's catalog shows the merged route and every acknowledged write is
// read back, with its value, through every node.
//
// Nothing here measures time: every wait is a bounded poll with a generous deadline, and
// a failure prints what the test saw (the fixture adds every node's log).
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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

// Every route of `node`'s catalog, retried within the poll budget; empty on failure with
// what went wrong in `seen`.
std::vector<proto::RouteDescriptor> Routes(ProcessCluster& cluster, int node, uint64_t* version,
                                           std::string* seen) {
  const auto deadline = Clock::now() + kPollBudget;
  while (true) {
    grpc::ClientContext context;
    SetDeadline(&context, seconds(10));
    proto::ListRoutesResponse response;
    grpc::Status status = cluster.dist(node).ListRoutes(&context, {}, &response);
    if (status.ok()) {
      *seen = response.ShortDebugString();
      if (version != nullptr) *version = response.catalog_version();
      return {response.routes().begin(), response.routes().end()};
    }
    *seen = Describe(status);
    if (Clock::now() >= deadline) return {};
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// Polls `node`'s catalog until a route [start, end) is ACTIVE on `group`. Empty when it
// is; otherwise what the catalog last showed.
std::string WaitRoute(ProcessCluster& cluster, int node, const std::string& start,
                      const std::string& end, uint64_t group) {
  const auto deadline = Clock::now() + kPollBudget;
  std::string seen;
  while (true) {
    for (const proto::RouteDescriptor& route : Routes(cluster, node, nullptr, &seen)) {
      if (route.start() == start && route.end() == end && route.raft_group_id() == group &&
          route.state() == proto::ROUTE_STATE_ACTIVE) {
        return "";
      }
    }
    if (Clock::now() >= deadline) {
      return absl::StrCat("n", node, " never showed [", start, ", ", end, ") ACTIVE on group ",
                          group, "; ListRoutes: ", seen);
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
}

class RangeMergeTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.request_timeout_ms = 5000;
    // 1 = ["", "g"), 2 = ["g", "p"), 3 = ["p", +inf). WriteLoad's "a/..." keys live in
    // the first route, its "n/..." keys in the second.
    options.extra_flags = {"--groups=3", "--split_points=g,p"};
    StartCluster(options);
  }
};

TEST_F(RangeMergeTest, MergesUnderWriteLoadAndLosesNothing) {
  uint64_t version = 0;
  std::string seen;
  std::vector<proto::RouteDescriptor> routes = Routes(cluster(), 1, &version, &seen);
  ASSERT_EQ(routes.size(), 3u) << seen;
  ASSERT_EQ(routes[1].start(), "g") << seen;
  ASSERT_EQ(routes[1].raft_group_id(), 2u) << seen;

  // Route ["g", "p") of group 2 splits at "k": two routes of one group to merge.
  proto::SplitRangeRequest split;
  split.set_expected_catalog_version(version);
  split.set_route_id(routes[1].route_id());
  split.set_split_key("k");
  proto::SplitRangeResponse split_answer;
  grpc::ClientContext split_context;
  SetDeadline(&split_context, seconds(30));
  grpc::Status status = cluster().dist(1).SplitRange(&split_context, split, &split_answer);
  ASSERT_TRUE(status.ok()) << "SplitRange: " << Describe(status);

  WriteLoad load(&cluster(), "mg", {1, 2, 3}, 3, milliseconds(10000));
  load.Start();
  const auto warmup_deadline = Clock::now() + seconds(30);
  while (load.Acked().size() < 20 && Clock::now() < warmup_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }

  // 1. ekv-client merge: the route holding "h" (["g", "k")) with ["k", "p"), both group 2.
  const std::string out_path = cluster().temp_dir() + "/merge.out";
  int exit_code =
      RunProgram({EKV_CLIENT_BINARY, "--addr=" + cluster().grpc_address(3), "merge", "h"}, out_path,
                 seconds(120));
  std::string out = ReadWholeFile(out_path);
  ASSERT_EQ(exit_code, 0) << out;
  EXPECT_NE(out.find("[\"g\", \"p\") group 2 ROUTE_STATE_ACTIVE"), std::string::npos) << out;
  EXPECT_NE(out.find(absl::StrCat("merged routes ", split_answer.left().route_id(), " and ",
                                  split_answer.right().route_id())),
            std::string::npos)
      << out;
  const size_t acked_after_first = load.Acked().size();
  while (load.Acked().size() < acked_after_first + 20 &&
         Clock::now() < warmup_deadline + seconds(60)) {
    std::this_thread::sleep_for(milliseconds(50));
  }

  // 2. ["", "g") on group 1 with ["g", "p") on group 2: refused without a move...
  proto::MergeRangeRequest cross;
  cross.set_key("a");
  proto::MergeRangeResponse refused;
  grpc::ClientContext refused_context;
  SetDeadline(&refused_context, seconds(60));
  status = cluster().dist(2).MergeRange(&refused_context, cross, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_NE(status.error_message().find("move one into the other's group first"), std::string::npos)
      << Describe(status);
  // ... and done with one: group 2's route moves to group 1, then they merge.
  cross.set_move_if_needed(true);
  cross.set_move_timeout_ms(90000);
  proto::MergeRangeResponse merged;
  grpc::ClientContext merge_context;
  SetDeadline(&merge_context, seconds(240));
  status = cluster().dist(2).MergeRange(&merge_context, cross, &merged);
  const size_t acked_at_merge = load.Acked().size();
  const auto after_deadline = Clock::now() + seconds(30);
  while (load.Acked().size() < acked_at_merge + 40 && Clock::now() < after_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  load.Stop();
  ASSERT_TRUE(status.ok()) << "MergeRange: " << Describe(status);
  EXPECT_TRUE(merged.moved()) << merged.ShortDebugString();
  EXPECT_EQ(merged.merged().start(), "") << merged.ShortDebugString();
  EXPECT_EQ(merged.merged().end(), "p") << merged.ShortDebugString();
  EXPECT_EQ(merged.merged().raft_group_id(), 1u) << merged.ShortDebugString();
  EXPECT_EQ(merged.merged().state(), proto::ROUTE_STATE_ACTIVE) << merged.ShortDebugString();

  // 3. Refusals: the last route, a stale version.
  exit_code = RunProgram({EKV_CLIENT_BINARY, "--addr=" + cluster().grpc_address(1), "merge", "z"},
                         out_path, seconds(60));
  out = ReadWholeFile(out_path);
  EXPECT_EQ(exit_code, 1) << out;
  EXPECT_NE(out.find("error: 3 "), std::string::npos) << out;  // INVALID_ARGUMENT
  EXPECT_NE(out.find("no range after it"), std::string::npos) << out;
  exit_code = RunProgram({EKV_CLIENT_BINARY, "--addr=" + cluster().grpc_address(1),
                          absl::StrCat("--expected_version=", version), "merge", "a"},
                         out_path, seconds(60));
  out = ReadWholeFile(out_path);
  EXPECT_EQ(exit_code, 1) << out;
  EXPECT_NE(out.find("error: 9 "), std::string::npos) << out;  // FAILED_PRECONDITION

  const std::vector<AckedWrite> acked = load.Acked();
  size_t moved_keys = 0;
  for (const AckedWrite& write : acked) moved_keys += write.group == 2 ? 1 : 0;
  std::cout << "writes: " << load.attempts() << " attempted, " << acked.size() << " acked ("
            << moved_keys << " in the merged ranges of group 2, " << acked_at_merge
            << " before the cross-group merge answered), " << load.failures()
            << " failed; merge: " << merged.ShortDebugString() << "\n";
  ASSERT_GT(moved_keys, 0u) << "no write to group 2's ranges was acknowledged";
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(WaitRoute(cluster(), node, "", "p", 1), "");
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "through n" << node;
  }
  // Writes to the merged range go on, through every node.
  for (int node = 1; node <= 3; ++node) {
    const std::string key = absl::StrCat("h/after-merge/", node);
    grpc::Status put = RawPutEventually(cluster(), node, key, "v");
    ASSERT_TRUE(put.ok()) << key << ": " << Describe(put);
    ReadResult read = RawGetEventually(cluster(), 1 + node % 3, key);
    EXPECT_TRUE(read.status.ok() && read.exists && read.value == "v")
        << key << ": " << Describe(read.status) << " exists=" << read.exists;
  }
}

}  // namespace
}  // namespace ekv::integration
