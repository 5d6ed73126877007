// raft::Config::refuse_changes_without_active_quorum: the leader refuses a membership change
// after which the voters it heard from lately would not form a quorum.
//
// Bugs it prevents (simulator, dynamo workload): seed 2312, a removal shrank group 3 from
// {2,3,5} to {2,5} while node 2's disk had broken for good, leaving a group that can never
// elect a leader; seed 3342, a node whose disk had broken was added back to a group shrunk
// to {5} and promoted to voter: {1,5} had no quorum.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "core/raft/raft.h"
#include "gtest/gtest.h"
#include "tests/raft/cluster.h"

namespace ekv::testing {
namespace {

using raft::ConfChange;
using raft::ConfChangeType;
using raft::NodeId;

ConfChange Change(ConfChangeType type, NodeId node) {
  ConfChange change;
  change.changes.push_back({type, node});
  return change;
}

class ActiveQuorumReconfigTest : public ::testing::Test {
 protected:
  // Voters `voters`, node 1 leading and heard from by every voter.
  void StartWithNode1Leading(const std::vector<NodeId>& voters, bool refuse = true) {
    NodeOptions options;
    options.check_quorum = true;
    options.refuse_changes_without_active_quorum = refuse;
    c_.AddNodes(voters, voters, {}, options);
    ASSERT_TRUE(c_.node(1).raw->Campaign().ok());
    c_.Stabilize({}, nullptr);
    ASSERT_EQ(c_.node(1).raw->state(), raft::StateType::kLeader);
  }

  // Ticks the leader through a CheckQuorum round (an election timeout) with only `alive`
  // answering; the others stay crashed.
  void CheckQuorumRound(const std::vector<NodeId>& alive) {
    for (int tick = 0; tick < 2 * 10; ++tick) {
      c_.node(1).raw->Tick();
      c_.Stabilize(alive, nullptr);
    }
    ASSERT_EQ(c_.node(1).raw->state(), raft::StateType::kLeader);
  }

  // Proposes `change` and applies it if accepted; returns the proposal's status.
  absl::Status Propose(const ConfChange& change, const std::vector<NodeId>& alive) {
    absl::Status status = c_.node(1).raw->ProposeConfChange(change);
    if (status.ok()) c_.Stabilize(alive, nullptr);
    return status;
  }

  std::vector<NodeId> Voters() { return c_.node(1).raw->conf_state().voters; }

  RaftTestCluster c_;
};

TEST_F(ActiveQuorumReconfigTest, RefusesARemovalThatLeavesADeadNodeHoldingTheBalance) {
  StartWithNode1Leading({1, 2, 3});
  if (HasFatalFailure()) return;
  c_.Crash(3);
  CheckQuorumRound({1, 2});
  if (HasFatalFailure()) return;
  // Removing 2 leaves {1,3}, whose quorum needs the dead 3.
  absl::Status refused = Propose(Change(ConfChangeType::kRemoveVoter, 2), {1, 2});
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "not heard from: 3")) << refused;
  EXPECT_EQ(Voters(), (std::vector<NodeId>{1, 2, 3}));
  // Removing the dead node itself leaves {1,2}, both answering: allowed.
  absl::Status removed = Propose(Change(ConfChangeType::kRemoveVoter, 3), {1, 2});
  EXPECT_TRUE(removed.ok()) << removed;
  EXPECT_EQ(Voters(), (std::vector<NodeId>{1, 2}));
}

TEST_F(ActiveQuorumReconfigTest, RefusesToPromoteALearnerThatNeverAnswered) {
  StartWithNode1Leading({1});
  if (HasFatalFailure()) return;
  // Node 2 is added as a learner but never runs (its disk broke for good). A new member's
  // progress starts "recently active" so that CheckQuorum spares the leader; that must not
  // count as the member being alive: {1,2} would need 2 to commit anything.
  ASSERT_TRUE(Propose(Change(ConfChangeType::kAddLearner, 2), {1}).ok());
  ASSERT_EQ(c_.node(1).raw->conf_state().learners, (std::vector<NodeId>{2}));
  absl::Status refused = Propose(Change(ConfChangeType::kAddVoter, 2), {1});
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "not heard from: 2")) << refused;
  EXPECT_EQ(Voters(), (std::vector<NodeId>{1}));
}

TEST_F(ActiveQuorumReconfigTest, PromotesALearnerOnceItAnswered) {
  StartWithNode1Leading({1});
  if (HasFatalFailure()) return;
  ASSERT_TRUE(Propose(Change(ConfChangeType::kAddLearner, 2), {1}).ok());
  // The new member starts from a snapshot of the configuration that names it.
  ASSERT_TRUE(c_.Compact(1, c_.node(1).applied_index).ok());
  c_.AddNodes({2}, {}, {}, c_.node(1).options);
  CheckQuorumRound({1, 2});
  if (HasFatalFailure()) return;
  ASSERT_EQ(c_.node(2).raw->conf_state().learners, (std::vector<NodeId>{2}));
  absl::Status promoted = Propose(Change(ConfChangeType::kAddVoter, 2), {1, 2});
  EXPECT_TRUE(promoted.ok()) << promoted;
  EXPECT_EQ(Voters(), (std::vector<NodeId>{1, 2}));
}

TEST_F(ActiveQuorumReconfigTest, AMemberThatStoppedAnsweringNoLongerCounts) {
  StartWithNode1Leading({1, 2, 3, 4, 5});
  if (HasFatalFailure()) return;
  // 4 and 5 answered this leader, then went down: after a CheckQuorum round they no longer
  // count, and removing 2 would leave {1,3,4,5} with only 1 and 3 answering.
  c_.Crash(4);
  c_.Crash(5);
  CheckQuorumRound({1, 2, 3});
  if (HasFatalFailure()) return;
  absl::Status refused = Propose(Change(ConfChangeType::kRemoveVoter, 2), {1, 2, 3});
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "not heard from: 4,5")) << refused;
}

TEST_F(ActiveQuorumReconfigTest, OffByDefaultAsInEtcdsRaftLibrary) {
  StartWithNode1Leading({1, 2, 3}, /*refuse=*/false);
  if (HasFatalFailure()) return;
  c_.Crash(3);
  CheckQuorumRound({1, 2});
  if (HasFatalFailure()) return;
  absl::Status removed = Propose(Change(ConfChangeType::kRemoveVoter, 2), {1, 2});
  EXPECT_TRUE(removed.ok()) << removed;
}

}  // namespace
}  // namespace ekv::testing
