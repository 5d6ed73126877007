// Membership on real processes: a node joins a running 3-node cluster under write load
// (ekv-server --join), catches up by a streamed snapshot, becomes a voter that quorums
// need, survives kill -9 and restart with the same command line; a member is removed and
// the cluster keeps serving without it. No acknowledged write is lost along the way.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/write_load.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

absl::StatusOr<proto::ListNodesResponse> ListNodes(ProcessCluster& cluster, int node) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::ListNodesResponse response;
  grpc::Status status = cluster.membership(node).ListNodes(&context, {}, &response);
  if (!status.ok()) return absl::UnavailableError(Describe(status));
  return response;
}

// The roles of `node_id` in groups 1 and 2 as `via` sees them, e.g. "1:2 2:2" (2 = voter),
// plus whether the member directory has its addresses.
std::string RolesOf(const proto::ListNodesResponse& nodes, uint64_t node_id) {
  for (const proto::ClusterNode& node : nodes.nodes()) {
    if (node.node_id() != node_id) continue;
    std::string out = node.raft_address().empty() ? "no-address" : "address";
    for (const proto::GroupMembership& group : node.groups()) {
      out += " " + std::to_string(group.raft_group_id()) + ":" + std::to_string(group.role());
    }
    return out;
  }
  return "absent";
}

// Polls ListNodes through `via` until `node_id` shows `want` (bounded).
std::string WaitForRoles(ProcessCluster& cluster, int via, uint64_t node_id,
                         const std::string& want, milliseconds budget = milliseconds(30000)) {
  std::string seen = "nothing";
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<proto::ListNodesResponse> nodes = ListNodes(cluster, via);
    if (nodes.ok()) {
      seen = RolesOf(*nodes, node_id);
      if (seen == want) return seen;
    } else {
      seen = std::string(nodes.status().message());
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return seen;
}

size_t CountGroup(const std::vector<AckedWrite>& acked, int group) {
  size_t count = 0;
  for (const AckedWrite& w : acked) count += w.group == group ? 1 : 0;
  return count;
}

constexpr char kVoterInBoth[] = "address 1:2 2:2";

TEST_F(ClusterTest, NodeJoinsUnderLoadCatchesUpBySnapshotAndBecomesAVoter) {
  ClusterOptions options;
  options.joining_nodes = 1;
  options.metrics = true;
  options.redis = true;
  options.snapshot_interval_entries = 50;
  options.extra_flags = {"--snapshot_chunk_bytes=4096"};
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));

  // Enough writes that the log is compacted past its start in both groups (the server
  // keeps 1000 entries behind each snapshot): n4 can only catch up by snapshot.
  constexpr size_t kWritesPerGroup = 1300;
  WriteLoad load(&cluster(), "join", {1, 2, 3}, 4);
  load.Start();
  for (int i = 0; i < 1200; ++i) {  // bounded: 60 s
    const std::vector<AckedWrite> acked = load.Acked();
    if (CountGroup(acked, 1) >= kWritesPerGroup && CountGroup(acked, 2) >= kWritesPerGroup) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_GE(CountGroup(load.Acked(), 1), kWritesPerGroup);

  // n4 joins while the load goes on.
  const uint64_t join_us = MonotonicMicros();
  ASSERT_TRUE(cluster().StartNode(4).ok());
  absl::Status serving = cluster().WaitServing(4);
  ASSERT_TRUE(serving.ok()) << serving;
  EXPECT_EQ(WaitForRoles(cluster(), 4, 4, kVoterInBoth), kVoterInBoth);
  std::cout << "n4 joined and became a voter of both groups in "
            << (MonotonicMicros() - join_us) / 1000 << " ms\n";
  for (int via : {1, 2, 3}) {
    EXPECT_EQ(WaitForRoles(cluster(), via, 4, kVoterInBoth), kVoterInBoth) << "seen by n" << via;
  }
  load.Stop();
  const std::vector<AckedWrite> acked = load.Acked();
  std::cout << acked.size() << " acknowledged writes, " << load.failures() << " failed\n";

  // Every node's endpoints are in the member directory, as clients dial them.
  absl::StatusOr<proto::ListNodesResponse> nodes = ListNodes(cluster(), 2);
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  for (const proto::ClusterNode& node : nodes->nodes()) {
    const int i = static_cast<int>(node.node_id());
    EXPECT_EQ(node.grpc_address(), cluster().grpc_address(i)) << "n" << i;
    EXPECT_EQ(node.metrics_address(), cluster().metrics_address(i)) << "n" << i;
    EXPECT_EQ(node.redis_address(), "127.0.0.1:" + std::to_string(cluster().redis_port(i)))
        << "n" << i;
  }
  EXPECT_EQ(nodes->nodes_size(), 4);

  // It caught up by a streamed snapshot, and it serves every acknowledged write.
  EXPECT_THAT(cluster().Log(4), HasSubstr("staged:"));
  EXPECT_THAT(cluster().Log(4), HasSubstr("a voter of every group"));
  EXPECT_EQ(FindLostWrites(cluster(), 4, acked), "") << "read through n4";

  // n4 is a voter that quorums need: with n1 down, 3 of 4 voters must agree, n4 included.
  cluster().Kill(1);
  for (const char* key : {"a/with-n1-down", "n/with-n1-down"}) {
    grpc::Status put = RawPutEventually(cluster(), 4, key, "1");
    EXPECT_TRUE(put.ok()) << key << ": " << Describe(put);
  }
  cluster().Kill(2);
  grpc::Status stalled = RawPut(cluster(), 3, "a/without-quorum", "1", milliseconds(1500));
  EXPECT_FALSE(stalled.ok()) << "2 of 4 voters must not make a quorum";
  absl::Status restarted_n2 = cluster().RestartNode(2);
  ASSERT_TRUE(restarted_n2.ok()) << restarted_n2;

  // The joined node restarts from its own state with the same command line (--join is
  // ignored once the data dir has state) after kill -9.
  cluster().Kill(4);
  absl::Status restarted = cluster().RestartNode(4);
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_THAT(cluster().Log(4), HasSubstr("joining the cluster"));  // only the first start
  EXPECT_EQ(FindLostWrites(cluster(), 4, acked), "") << "after n4 restarted";
  ReadResult read = RawGetEventually(cluster(), 4, "n/with-n1-down");
  EXPECT_TRUE(read.status.ok() && read.exists) << Describe(read.status);
  absl::Status restarted_n1 = cluster().RestartNode(1);
  ASSERT_TRUE(restarted_n1.ok()) << restarted_n1;
  EXPECT_EQ(FindLostWrites(cluster(), 1, acked), "") << "n1 after it was down";
}

// kill -9 the moment the join request is out, most likely before any snapshot arrived: the
// restart (same command line) must neither bootstrap its empty groups (a second, divergent
// group under the cluster's ids) nor stay a learner, and must know its peers before it has
// the member directory.
TEST_F(ClusterTest, JoiningNodeKilledAtOnceRestartsAndStillBecomesAVoter) {
  ClusterOptions options;
  options.joining_nodes = 1;
  options.snapshot_interval_entries = 20;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(RawPutEventually(cluster(), 1 + i % 3, "a/k" + std::to_string(i), "v").ok());
  }
  ASSERT_TRUE(cluster().StartNode(4).ok());
  const auto deadline = std::chrono::steady_clock::now() + kPollBudget;
  while (cluster().Log(4).find("joining the cluster") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "n4 never joined:\n"
                                                          << cluster().Log(4);
    std::this_thread::sleep_for(milliseconds(2));
  }
  std::this_thread::sleep_for(milliseconds(50));
  cluster().Kill(4);
  absl::Status restarted = cluster().RestartNode(4);
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_EQ(WaitForRoles(cluster(), 1, 4, kVoterInBoth), kVoterInBoth);
  ReadResult read = RawGetEventually(cluster(), 4, "a/k199");
  EXPECT_TRUE(read.status.ok() && read.value == "v") << Describe(read.status);
  // One group 1, not two: a write through n4 is seen through n1.
  ASSERT_TRUE(RawPutEventually(cluster(), 4, "a/from-n4", "1").ok());
  ReadResult seen = RawGetEventually(cluster(), 1, "a/from-n4");
  EXPECT_TRUE(seen.status.ok() && seen.value == "1") << Describe(seen.status);
}

TEST_F(ClusterTest, RemovedNodeLeavesEveryGroupAndTheClusterServesWithoutIt) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "a/before", "1").ok());
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "n/before", "1").ok());
  // Every node advertised itself in the member directory.
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(WaitForRoles(cluster(), 2, id, kVoterInBoth), kVoterInBoth) << "n" << id;
  }

  grpc::Status removed;
  for (int attempt = 0; attempt < 3; ++attempt) {  // idempotent: retry on a timeout
    grpc::ClientContext context;
    SetDeadline(&context, milliseconds(10000));
    proto::RemoveNodeRequest request;
    request.set_node_id(1);
    proto::RemoveNodeResponse response;
    removed = cluster().membership(2).RemoveNode(&context, request, &response);
    if (removed.ok()) break;
  }
  ASSERT_TRUE(removed.ok()) << Describe(removed);
  EXPECT_EQ(WaitForRoles(cluster(), 2, 1, "absent"), "absent");
  EXPECT_EQ(WaitForRoles(cluster(), 3, 1, "absent"), "absent");

  // Two voters are left; they are a quorum without n1, and after it is gone for good.
  cluster().Kill(1);
  for (const char* key : {"a/after", "n/after"}) {
    grpc::Status put = RawPutEventually(cluster(), 3, key, "2");
    EXPECT_TRUE(put.ok()) << key << ": " << Describe(put);
    ReadResult read = RawGetEventually(cluster(), 2, key);
    EXPECT_TRUE(read.status.ok() && read.value == "2") << key << ": " << Describe(read.status);
  }
  ReadResult before = RawGetEventually(cluster(), 3, "a/before");
  EXPECT_TRUE(before.status.ok() && before.value == "1");
}

// A node comes back under its id with an emptied data dir while a member that missed its
// removal is down: that member still counts the node's old vote, which the empty disk no
// longer backs, so the join waits (UNAVAILABLE, naming the member) until the member is back
// and holds the newest configuration (simulator dynamo seed 9408).
TEST_F(ClusterTest, AnEmptiedNodeRejoinsOnlyOnceEveryMemberHoldsItsRemoval) {
  ClusterOptions options;
  options.joining_nodes = 1;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ASSERT_TRUE(cluster().StartNode(4).ok());
  absl::Status serving = cluster().WaitServing(4);
  ASSERT_TRUE(serving.ok()) << serving;
  ASSERT_EQ(WaitForRoles(cluster(), 1, 4, kVoterInBoth), kVoterInBoth);
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "a/before", "1").ok());
  absl::StatusOr<proto::ListNodesResponse> nodes = ListNodes(cluster(), 1);
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  proto::AddNodeRequest add;
  for (const proto::ClusterNode& node : nodes->nodes()) {
    if (node.node_id() != 4) continue;
    add.set_node_id(4);
    add.set_raft_address(node.raft_address());
    add.set_grpc_address(node.grpc_address());
  }
  ASSERT_EQ(add.node_id(), 4u) << "n4 is not in the member directory";

  // n2 goes down; n4 is removed without it (3 of 4 voters), then emptied.
  cluster().Kill(2);
  grpc::Status removed;
  for (int attempt = 0; attempt < 3; ++attempt) {  // idempotent: retry on a timeout
    grpc::ClientContext context;
    SetDeadline(&context, milliseconds(10000));
    proto::RemoveNodeRequest request;
    request.set_node_id(4);
    proto::RemoveNodeResponse response;
    removed = cluster().membership(1).RemoveNode(&context, request, &response);
    if (removed.ok()) break;
  }
  ASSERT_TRUE(removed.ok()) << Describe(removed);
  cluster().Kill(4);
  RemoveTree(cluster().data_dir(4));

  // Its join (as `--join` asks: the data dir is empty) waits for n2.
  {
    grpc::ClientContext context;
    SetDeadline(&context, milliseconds(20000));
    context.AddMetadata("ekv-join-empty-data-dir", "1");
    proto::AddNodeResponse response;
    grpc::Status status = cluster().membership(3).AddNode(&context, add, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("node(s) 2 have not acknowledged"));
  }
  EXPECT_EQ(WaitForRoles(cluster(), 1, 4, "absent"), "absent");

  // The node itself keeps asking; once n2 is back it joins and catches up.
  ASSERT_TRUE(cluster().StartNode(4).ok());
  absl::Status restarted = cluster().RestartNode(2);
  ASSERT_TRUE(restarted.ok()) << restarted;
  serving = cluster().WaitServing(4);
  ASSERT_TRUE(serving.ok()) << serving;
  EXPECT_EQ(WaitForRoles(cluster(), 1, 4, kVoterInBoth), kVoterInBoth);
  ReadResult read = RawGetEventually(cluster(), 4, "a/before");
  EXPECT_TRUE(read.status.ok() && read.value == "1") << Describe(read.status);
}

TEST_F(ClusterTest, MembershipCallsRejectBadRequests) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::AddNodeRequest request;  // node 0, no address
    proto::AddNodeResponse response;
    grpc::Status status = cluster().membership(1).AddNode(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::AddNodeRequest request;
    request.set_node_id(7);
    proto::AddNodeResponse response;
    grpc::Status status = cluster().membership(1).AddNode(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("raft_address"));
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, milliseconds(10000));
    proto::PromoteNodeRequest request;
    request.set_node_id(7);  // never added
    proto::PromoteNodeResponse response;
    grpc::Status status = cluster().membership(2).PromoteNode(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  }
  // Nothing changed: still the three bootstrap voters, and no node 7.
  absl::StatusOr<proto::ListNodesResponse> nodes = ListNodes(cluster(), 3);
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(RolesOf(*nodes, 7), "absent");
}

}  // namespace
}  // namespace ekv::integration
