// Issue #25 on real processes: a node drained and removed from the cluster comes back as a
// user would bring it back -- the same `--id`, an empty data dir, `--join` -- and hosts
// created groups again. 3 nodes, n4 joins; group 3 is created on n2, n3, n4 (n4 bootstraps
// it) and group 4 on n2, n3, whose replica on n2 then moves to n4 (n4 joins it; two
// replicas, so that in four nodes a member is left to drain n4 to: n2 is barred from it
// now); a route moves into group 3 under write load. n4 is drained (both replicas go to n1),
// removed (RemoveNode), killed, its data dir deleted, and started again with the same
// command line. Before readmission (core/route/catalog.h "Readmission"), the catalog still
// listed n4 as removed from both groups, so nothing could place a replica on it again:
// `drain 1` then answered "add a node first" (n4 barred from both, n2 from group 4). Now
// both go to n4, which must serve as a voter: with n2 down, group 3's quorum needs it.
// Every acknowledged write is read back through every node.
//
// Nothing here measures time: every wait is a bounded poll with a generous deadline, and
// a failure prints what the test saw (the fixture adds every node's log).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/ekv_client_run.h"
#include "tests/integration/write_load.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class MembershipRejoinTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.nodes = 3;
    options.joining_nodes = 1;
    options.request_timeout_ms = 5000;
    // The test places every replica by hand (create-group on named nodes, move-replica,
    // drain) and checks where each one is: the replica balancer, on by default, would move
    // them meanwhile (it once moved group 3's replicas while the test drained n4).
    options.extra_flags = {"--placement_balance_replicas=false"};
    StartCluster(options);
  }

  // `ekv-client ARGS...` through `node`, with deadlines long enough for a range move.
  int Client(int node, std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {"--move_deadline_ms=240000", "--move_timeout_ms=90000"});
    return RunEkvClient(cluster(), node, args, out);
  }

  // Repeats an idempotent `ekv-client` command until it succeeds (a leader changing under
  // it answers UNAVAILABLE), within the poll budget; the last exit code.
  int ClientEventually(int node, std::vector<std::string> args, std::string* out) {
    const auto deadline = Clock::now() + kPollBudget;
    while (true) {
      const int code = Client(node, args, out);
      if (code == 0 || Clock::now() >= deadline) return code;
      std::this_thread::sleep_for(milliseconds(500));
    }
  }

  // The id of the route holding `key` in `node`'s catalog (ListRoutes).
  absl::StatusOr<uint64_t> RouteIdOf(int node, const std::string& key) {
    grpc::ClientContext context;
    SetDeadline(&context, seconds(10));
    proto::ListRoutesResponse response;
    grpc::Status status = cluster().dist(node).ListRoutes(&context, {}, &response);
    if (!status.ok()) return absl::UnavailableError(Describe(status));
    for (const proto::RouteDescriptor& route : response.routes()) {
      if (route.start() <= key && (route.end().empty() || key < route.end())) {
        return route.route_id();
      }
    }
    return absl::NotFoundError(
        absl::StrCat("no route holds ", key, ": ", response.ShortDebugString()));
  }

  // The line `ekv-client groups` prints for `group` through `via` ("" if none).
  std::string GroupLine(int via, uint64_t group) {
    std::string out;
    if (Client(via, {"--load_window_ms=0", "groups"}, &out) != 0) return "groups failed: " + out;
    const std::string prefix = absl::StrCat("group ", group, " ");
    for (absl::string_view line : absl::StrSplit(out, '\n')) {
      if (absl::StartsWith(line, prefix)) return std::string(line);
    }
    return "";
  }

  // Polls until `via` lists `node`'s role in `group` as `role` ("voter", "learner"),
  // e.g. "g3:voter" in `ekv-client nodes`; empty when it does, else what it saw.
  std::string WaitRole(int via, uint64_t node, uint64_t group, const std::string& role) {
    const auto deadline = Clock::now() + kPollBudget;
    const std::string want = absl::StrCat(" g", group, ":", role);
    std::string seen;
    while (true) {
      std::string out;
      if (Client(via, {"nodes"}, &out) == 0) {
        for (absl::string_view line : absl::StrSplit(out, '\n')) {
          if (!absl::StartsWith(line, absl::StrCat("n", node, " "))) continue;
          seen = std::string(line);
          if (absl::StrContains(absl::StrCat(line, " "), want + " ") ||
              absl::StrContains(line, want + "*")) {
            return "";
          }
        }
      } else {
        seen = out;
      }
      if (Clock::now() >= deadline) {
        return absl::StrCat("n", via, " never listed n", node, " as", want, "; last: ", seen);
      }
      std::this_thread::sleep_for(milliseconds(300));
    }
  }
};

TEST_F(MembershipRejoinTest, ADrainedAndRemovedNodeRejoinsUnderItsIdAndHostsCreatedGroupsAgain) {
  std::string out;
  ASSERT_TRUE(cluster().StartNode(4).ok());
  absl::Status serving = cluster().WaitServing(4);
  ASSERT_TRUE(serving.ok()) << serving;
  ASSERT_EQ(WaitRole(1, 4, 1, "voter"), "");
  ASSERT_EQ(WaitRole(1, 4, 2, "voter"), "");

  // Group 3 bootstrapped by n2, n3, n4; group 4 by n2, n3, then n2's replica moves to n4
  // (n4 joins it).
  ASSERT_EQ(ClientEventually(1, {"create-group", "2", "3", "4"}, &out), 0) << out;
  ASSERT_NE(out.find("group 3 created voters 2,3,4"), std::string::npos) << out;
  ASSERT_EQ(ClientEventually(1, {"create-group", "2", "3"}, &out), 0) << out;
  ASSERT_NE(out.find("group 4 created voters 2,3"), std::string::npos) << out;
  ASSERT_EQ(ClientEventually(1, {"move-replica", "4", "2", "4"}, &out), 0) << out;
  EXPECT_NE(out.find("replicas 3,4 "), std::string::npos) << out;

  // Writes go on through n1-n3 from here to the end; the route of "n" moves into group 3.
  WriteLoad load(&cluster(), "rejoin", {1, 2, 3}, 3, milliseconds(10000));
  load.Start();
  const auto warmup_deadline = Clock::now() + seconds(60);
  while (load.Acked().size() < 20 && Clock::now() < warmup_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  absl::StatusOr<uint64_t> route_id = RouteIdOf(1, "n");
  ASSERT_TRUE(route_id.ok()) << route_id.status();
  ASSERT_EQ(ClientEventually(1, {"move-range", absl::StrCat(*route_id), "3"}, &out), 0) << out;

  // n4 leaves: drained (both replicas to n1, the only member free to take them), removed.
  ASSERT_EQ(ClientEventually(1, {"drain", "4"}, &out), 0) << out;
  EXPECT_NE(out.find("node 4 drained: 2 replicas moved"), std::string::npos) << out;
  ASSERT_EQ(ClientEventually(1, {"remove-node", "4"}, &out), 0) << out;
  cluster().Kill(4);
  RemoveTree(cluster().data_dir(4));
  EXPECT_NE(GroupLine(1, 3).find("replicas 1,2,3 "), std::string::npos) << GroupLine(1, 3);
  EXPECT_NE(GroupLine(1, 4).find("replicas 1,3 "), std::string::npos) << GroupLine(1, 4);

  // It comes back under its id with an empty data dir (--join, as the first time).
  ASSERT_TRUE(cluster().StartNode(4).ok());
  serving = cluster().WaitServing(4);
  ASSERT_TRUE(serving.ok()) << serving;
  ASSERT_EQ(WaitRole(1, 4, 1, "voter"), "");
  ASSERT_EQ(WaitRole(1, 4, 2, "voter"), "");

  // A drain of n1 now has n4 to go to, and a replica moves onto it.
  ASSERT_EQ(ClientEventually(2, {"drain", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("node 1 drained: 2 replicas moved"), std::string::npos) << out;
  const std::string group3 = GroupLine(2, 3);
  const std::string group4 = GroupLine(2, 4);
  EXPECT_NE(group3.find("voters 2,3,4 replicas 2,3,4 "), std::string::npos) << group3;
  EXPECT_NE(group4.find("voters 2,3 replicas 3,4 "), std::string::npos) << group4;
  EXPECT_EQ(WaitRole(2, 4, 3, "voter"), "");
  EXPECT_EQ(WaitRole(3, 4, 4, "voter"), "");  // n2 hosts group 4 no more

  // n4 is a voter group 3's quorum needs: with n2 down, n3 and n4 must agree. The load
  // goes through n1 and n3 meanwhile.
  load.SetNodes({1, 3});
  cluster().Kill(2);
  const size_t acked_before = load.Acked().size();
  const auto kill_deadline = Clock::now() + seconds(90);
  size_t group3_acked = 0;
  while (Clock::now() < kill_deadline) {
    group3_acked = 0;
    const std::vector<AckedWrite> acked = load.Acked();
    for (size_t i = acked_before; i < acked.size(); ++i) {
      group3_acked += acked[i].group == 2 ? 1 : 0;  // the "n" range, on group 3 now
    }
    if (group3_acked >= 20) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(group3_acked, 20u) << "writes to group 3 with n2 down: n4 does not vote";
  absl::Status restarted = cluster().RestartNode(2);
  ASSERT_TRUE(restarted.ok()) << restarted;
  load.Stop();

  const std::vector<AckedWrite> acked = load.Acked();
  std::cout << "writes: " << load.attempts() << " attempted, " << acked.size() << " acked, "
            << load.failures() << " failed; " << group3_acked
            << " acked on group 3 while n2 was down\n";
  for (int node = 1; node <= 4; ++node) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "through n" << node;
  }
}

}  // namespace
}  // namespace ekv::integration
