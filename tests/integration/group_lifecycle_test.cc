// Issue #25, groups as a resource, on real processes: a 4-node cluster (groups 1 and 2 on
// every node) creates group 3 on nodes 1-3 only (Distribution.CreateGroup), moves the
// route of group 2 into it through node 4 (which does not host group 3: its coordinator
// sends to the group's voters), keeps writing through every node while node 1 is killed
// with -9 and restarted (it must host group 3 again from its own disk), then moves the
// route back and retires group 3 (refused while a route is on it). The catalog then forgets
// group 3's record: no node lists it, every node stops hosting it, `ekv-client groups`
// names it retired, and the next group created gets id 4 (3 is never reused). Every
// acknowledged write is read back through every node, and `ekv-client groups` shows what
// happened.
//
// Nothing here measures time: every wait is a bounded poll with a generous deadline, and
// a failure prints what the test saw (the fixture adds every node's log).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

// ListGroups through `node`, retried within the poll budget.
absl::StatusOr<proto::ListGroupsResponse> Groups(ProcessCluster& cluster, int node) {
  const auto deadline = Clock::now() + kPollBudget;
  while (true) {
    grpc::ClientContext context;
    SetDeadline(&context, seconds(10));
    proto::ListGroupsResponse response;
    grpc::Status status = cluster.dist(node).ListGroups(&context, {}, &response);
    if (status.ok()) return response;
    if (Clock::now() >= deadline) return absl::UnavailableError(Describe(status));
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// Polls `node` until it sees a leader of `group` (it hosts the group and its replica
// heard from a leader). Empty when it does; otherwise what it last listed.
std::string WaitGroupLeader(ProcessCluster& cluster, int node, uint64_t group) {
  const auto deadline = Clock::now() + kPollBudget;
  std::string seen;
  while (true) {
    absl::StatusOr<proto::ListGroupsResponse> groups = Groups(cluster, node);
    if (groups.ok()) {
      seen = groups->ShortDebugString();
      for (const proto::RaftGroupInfo& info : groups->groups()) {
        if (info.raft_group_id() == group && info.leader() != 0) return "";
      }
    } else {
      seen = std::string(groups.status().message());
    }
    if (Clock::now() >= deadline) {
      return absl::StrCat("n", node, " never saw a leader of group ", group,
                          "; ListGroups: ", seen);
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// The route holding `key` in `node`'s catalog (ListRoutes).
absl::StatusOr<proto::RouteDescriptor> RouteOf(ProcessCluster& cluster, int node,
                                               const std::string& key) {
  grpc::ClientContext context;
  SetDeadline(&context, seconds(10));
  proto::ListRoutesResponse response;
  grpc::Status status = cluster.dist(node).ListRoutes(&context, {}, &response);
  if (!status.ok()) return absl::UnavailableError(Describe(status));
  for (const proto::RouteDescriptor& route : response.routes()) {
    if (route.start() <= key && (route.end().empty() || key < route.end())) return route;
  }
  return absl::NotFoundError(
      absl::StrCat("no route holds ", key, ": ", response.ShortDebugString()));
}

class GroupLifecycleTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.nodes = 4;
    options.request_timeout_ms = 5000;
    // Group 3 is placed by hand and must stay on nodes 1-3 (node 4's coordinator reaching a
    // group it does not host is the point). Today's replica balancer, on by default, moves
    // no replica of a 3-replica group among 4 nodes; the test must not depend on that.
    options.extra_flags = {"--placement_balance_replicas=false"};
    StartCluster(options);
  }

  // `ekv-client ARGS...` through `node`, with deadlines long enough for a range move.
  int Client(int node, std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {"--move_deadline_ms=240000", "--move_timeout_ms=90000"});
    return RunEkvClient(cluster(), node, args, out);
  }
};

TEST_F(GroupLifecycleTest, CreatedGroupOnThreeOfFourNodesTakesARangeSurvivesAKillAndRetires) {
  std::string out;
  // Node 2 knows the cluster (a leader of the catalog group) before it is asked anything.
  ASSERT_EQ(WaitGroupLeader(cluster(), 2, 1), "");
  // Bad input first: a node that is not a member, a retire of an initial group.
  EXPECT_EQ(Client(2, {"create-group", "1", "2", "9"}, &out), 1) << out;
  EXPECT_NE(out.find("node 9 is not a member"), std::string::npos) << out;
  EXPECT_EQ(Client(2, {"retire-group", "1"}, &out), 1) << out;
  EXPECT_NE(out.find("initial groups are never retired"), std::string::npos) << out;

  // Group 3 on nodes 1, 2, 3 (asked through node 4, which will not host it).
  ASSERT_EQ(Client(4, {"create-group", "1", "2", "3"}, &out), 0) << out;
  ASSERT_NE(out.find("group 3 created voters 1,2,3"), std::string::npos) << out;
  for (int node = 1; node <= 3; ++node) {
    ASSERT_EQ(WaitGroupLeader(cluster(), node, 3), "");
  }

  WriteLoad load(&cluster(), "grp", {1, 2, 3, 4}, 3, milliseconds(10000));
  load.Start();
  const auto warmup_deadline = Clock::now() + seconds(30);
  while (load.Acked().size() < 20 && Clock::now() < warmup_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }

  // Group 2's route moves into group 3, asked through node 4.
  absl::StatusOr<proto::RouteDescriptor> route = RouteOf(cluster(), 4, "n");
  ASSERT_TRUE(route.ok()) << route.status();
  ASSERT_EQ(route->raft_group_id(), 2u) << route->ShortDebugString();
  ASSERT_EQ(Client(4, {"move-range", absl::StrCat(route->route_id()), "3"}, &out), 0) << out;
  EXPECT_NE(out.find("moved from group 2"), std::string::npos) << out;
  // A route on it: retiring is refused.
  EXPECT_EQ(Client(1, {"retire-group", "3"}, &out), 1) << out;
  EXPECT_NE(out.find("move its ranges away first"), std::string::npos) << out;

  // Node 1, a voter of group 3, dies with -9 and comes back: it hosts group 3 again.
  const size_t acked_before_kill = load.Acked().size();
  cluster().Kill(1);
  load.SetNodes({2, 3, 4});
  const auto kill_deadline = Clock::now() + seconds(60);
  while (load.Acked().size() < acked_before_kill + 30 && Clock::now() < kill_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  absl::Status restarted = cluster().RestartNode(1);
  ASSERT_TRUE(restarted.ok()) << restarted;
  load.SetNodes({1, 2, 3, 4});
  EXPECT_EQ(WaitGroupLeader(cluster(), 1, 3), "");
  const size_t acked_after_restart = load.Acked().size();
  const auto after_deadline = Clock::now() + seconds(60);
  while (load.Acked().size() < acked_after_restart + 30 && Clock::now() < after_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }

  // The route goes back to group 2; then group 3 retires.
  route = RouteOf(cluster(), 2, "n");
  ASSERT_TRUE(route.ok()) << route.status();
  ASSERT_EQ(route->raft_group_id(), 3u) << route->ShortDebugString();
  ASSERT_EQ(Client(2, {"move-range", absl::StrCat(route->route_id()), "2"}, &out), 0) << out;
  load.Stop();
  ASSERT_EQ(Client(3, {"retire-group", "3"}, &out), 0) << out;
  EXPECT_NE(out.find("group 3 retired voters 1,2,3"), std::string::npos) << out;
  // The record is gone: the listing names 3 only as a retired id of the created range.
  ASSERT_EQ(Client(4, {"groups"}, &out), 0) << out;
  EXPECT_NE(out.find("group 1 initial voters 1,2,3,4"), std::string::npos) << out;
  EXPECT_EQ(out.find("group 3 "), std::string::npos) << out;
  EXPECT_NE(out.find("\nretired groups 3\n"), std::string::npos) << out;
  // Every node: its catalog no longer lists group 3, and it hosts it no more (ListNodes
  // through a node shows the groups that node hosts, g3 among them while it does).
  for (int node = 1; node <= 4; ++node) {
    const auto deadline = Clock::now() + kPollBudget;
    std::string nodes;
    while (true) {
      absl::StatusOr<proto::ListGroupsResponse> groups = Groups(cluster(), node);
      ASSERT_TRUE(groups.ok()) << groups.status();
      bool listed = false;
      for (const proto::RaftGroupInfo& group : groups->groups()) {
        listed = listed || group.raft_group_id() == 3;
      }
      const bool range =
          groups->first_created_group_id() == 3 && groups->last_created_group_id() == 3;
      const int code = Client(node, {"nodes"}, &nodes);
      if (!listed && range && code == 0 && !absl::StrContains(nodes, " g3:")) break;
      ASSERT_LT(Clock::now(), deadline)
          << "n" << node
          << " still lists or hosts retired group 3; ListGroups: " << groups->ShortDebugString()
          << "\nnodes (exit " << code << "):\n"
          << nodes;
      std::this_thread::sleep_for(milliseconds(200));
    }
  }
  // Every group still serving reports its leader's counters, and the load wrote to them.
  ASSERT_EQ(Client(4, {"--load_window_ms=0", "groups"}, &out), 0) << out;
  uint64_t counted_writes = 0;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::StartsWith(line, "group ")) continue;
    const size_t at = line.find(" writes ");
    ASSERT_NE(at, absl::string_view::npos) << "no counters for a group in:\n" << out;
    absl::string_view number = line.substr(at + 8);
    number = number.substr(0, number.find(' '));
    uint64_t writes = 0;
    ASSERT_TRUE(absl::SimpleAtoi(number, &writes)) << out;
    counted_writes += writes;
  }
  EXPECT_GT(counted_writes, 0u) << out;
  // The next group gets a new id, never the retired 3; retired too, the range shows both.
  ASSERT_EQ(Client(1, {"create-group", "2", "3", "4"}, &out), 0) << out;
  ASSERT_NE(out.find("group 4 created voters 2,3,4"), std::string::npos) << out;
  ASSERT_EQ(Client(2, {"retire-group", "4"}, &out), 0) << out;
  ASSERT_EQ(Client(1, {"--load_window_ms=0", "groups"}, &out), 0) << out;
  EXPECT_NE(out.find("\nretired groups 3-4\n"), std::string::npos) << out;
  EXPECT_EQ(Client(3, {"retire-group", "3"}, &out), 1) << out;
  EXPECT_NE(out.find("is already retired"), std::string::npos) << out;

  const std::vector<AckedWrite> acked = load.Acked();
  size_t group2_keys = 0;
  for (const AckedWrite& write : acked) group2_keys += write.group == 2 ? 1 : 0;
  std::cout << "writes: " << load.attempts() << " attempted, " << acked.size() << " acked ("
            << group2_keys << " in the range that lived on group 3), " << load.failures()
            << " failed; " << acked_before_kill << " acked before the kill\n";
  ASSERT_GT(group2_keys, 0u) << "no write to the moved range was acknowledged";
  for (int node = 1; node <= 4; ++node) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "through n" << node;
  }
}

}  // namespace
}  // namespace ekv::integration
