// Regression tests for Raft bugs found by review; each failed before its fix.
//
// Bug: a follower in StateReplicate whose inflight window is full is sent an append whose
// previous index the leader has compacted away, with log_term 0, instead of a snapshot.
//  * RaftLog::TermAt returns Term 0 with an OK status for any index outside
//    [FirstIndex()-1, LastIndex()] (etcd-raft 3.6 returns ErrCompacted / ErrUnavailable).
//  * Raft::MaybeSendAppend only discovers compaction through EntriesFrom(), which it skips
//    when the follower is in StateReplicate with a full inflight window. So when a heartbeat
//    response unpauses such a follower, the leader sends MsgApp{index: compacted, log_term:
//    0, commit: leader's commit} (etcd-raft fetches the entries regardless, or errors on
//    the term lookup, and sends MsgSnap).
//  * On the follower, MatchTerm(index > LastIndex(), 0) is true (TermAt returns 0 again), so
//    MaybeAppend accepts the append, calls CommitTo(min(commit, index)) beyond its last
//    index and trips the "commit beyond last index" assertion. Without that assertion the
//    follower would acknowledge index `index` it does not hold, and the leader would count
//    that false acknowledgement towards commitment.
#include <memory>

#include "core/raft/raft.h"
#include "gtest/gtest.h"
#include "tests/raft/cluster.h"

namespace ekv::testing {
namespace {

using raft::Message;
using raft::MessageType;

// Three nodes, max_inflight=1. Node 3 loses the append of index 2 while its window is
// full; 1 and 2 commit 2..4; the leader compacts to 4; then a heartbeat round.
// Returns the messages the leader queued for node 3 after 3's heartbeat response.
std::vector<Message> DriveToCompactedProbe(RaftTestCluster& c) {
  NodeOptions options;
  options.max_inflight = 1;
  c.AddNodes({1, 2, 3}, {1, 2, 3}, {}, options);
  EXPECT_TRUE(c.node(1).raw->Campaign().ok());
  c.Stabilize({}, nullptr);
  EXPECT_EQ(c.node(1).raw->state(), raft::StateType::kLeader);
  EXPECT_TRUE(c.node(1).raw->Propose("a").ok());  // index 2: fills 3's window of 1
  c.ProcessReady(1, nullptr);
  c.DropMessages(3, 1, nullptr);
  EXPECT_TRUE(c.node(1).raw->Propose("b").ok());
  EXPECT_TRUE(c.node(1).raw->Propose("c").ok());
  c.Stabilize({1, 2}, nullptr);
  c.DropMessages(3, 1, nullptr);
  EXPECT_EQ(c.node(1).raw->commit_index(), 4u);
  EXPECT_TRUE(c.Compact(1, 4).ok());
  EXPECT_EQ(c.node(3).raw->last_index(), 1u);

  c.node(1).raw->Tick();  // heartbeat
  c.ProcessReady(1, nullptr);
  c.Deliver({3}, nullptr);
  c.ProcessReady(3, nullptr);
  c.DropMessages(2, 0, nullptr);
  c.Deliver({1}, nullptr);  // 3's heartbeat response unpauses it
  c.ProcessReady(1, nullptr);
  return c.queue(3);
}

TEST(RaftBugReproTest, LeaderSendsSnapshotNotAppendBelowCompaction) {
  RaftTestCluster c;
  std::vector<Message> to3 = DriveToCompactedProbe(c);
  ASSERT_FALSE(to3.empty());
  for (const Message& m : to3) {
    // Expected (etcd-raft): MsgSnap, because index 2 is compacted on the leader.
    // Before the fix: 1->3 MsgApp Term:1 Log:0/2 Commit:4 (log_term 0 for a compacted index).
    EXPECT_FALSE(m.type == MessageType::kApp && m.index < c.node(1).storage->FirstIndex() - 1)
        << "leader sent " << DescribeMessageForTest(m) << " although its log starts at "
        << c.node(1).storage->FirstIndex();
  }
}

TEST(RaftBugReproTest, FollowerRejectsAppendBeyondItsLog) {
  RaftTestCluster c;
  DriveToCompactedProbe(c);
  // Expected: node 3 rejects (it has no entry 2) and ends up with a snapshot.
  // Before the fix: EKV_ASSERT "commit 2 beyond last index 1" in RaftLog::CommitTo aborts.
  c.Stabilize({}, nullptr);
  EXPECT_EQ(c.node(3).raw->commit_index(), 4u);
  EXPECT_GE(c.node(3).raw->last_index(), 4u);
}

// Hazard: RawNode::Bootstrap (and RaftTestCluster::AddNodes) records the initial voters
// only as the ConfState of an empty snapshot at index 0; the log does not describe the
// membership. A member added later with empty storage, and caught up from index 1 (the
// leader never compacted), replays the conf change entries onto an EMPTY configuration:
// after "v4" node 4 believes the voters are {4} alone and could elect itself and commit
// by itself; a joint change ("v4 v5") aborts the new node in Raft::ApplyConfChange
// ("cannot enter a joint configuration with no voters"). etcd-raft's RawNode.Bootstrap
// writes one ConfChangeAddNode entry per initial peer into the log (indexes 1..n,
// committed), so replaying the log from index 1 always rebuilds the right configuration.
TEST(RaftBugReproTest, NewMemberReplayingLogFromIndexOneGetsTheRightConfig) {
  RaftTestCluster c;
  NodeOptions bootstrap;
  bootstrap.bootstrap_entries = true;
  c.AddNodes({1, 2, 3}, {1, 2, 3}, {}, bootstrap);
  c.AddNodes({4}, {}, {}, NodeOptions{});
  c.Stabilize({}, nullptr);  // apply the bootstrap membership entries
  ASSERT_TRUE(c.node(1).raw->Campaign().ok());
  c.Stabilize({}, nullptr);
  raft::ConfChange add4;
  add4.changes.push_back({raft::ConfChangeType::kAddVoter, 4});
  ASSERT_TRUE(c.node(1).raw->ProposeConfChange(add4).ok());
  c.Stabilize({}, nullptr);
  c.node(1).raw->Tick();  // heartbeat: 4 is probed and gets the log from index 1
  c.Stabilize({}, nullptr);
  ASSERT_EQ(c.node(4).raw->commit_index(), c.node(1).raw->commit_index());
  // Before the fix (index-0 ConfState bootstrap): Voters:[4].
  EXPECT_EQ(c.node(4).raw->conf_state().voters, (std::vector<raft::NodeId>{1, 2, 3, 4}))
      << raft::DescribeConfState(c.node(4).raw->conf_state());
}

}  // namespace
}  // namespace ekv::testing
