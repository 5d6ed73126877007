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

// Bug (simulator seed 243, a node readmitted with an emptied disk): even with bootstrap
// entries, a follower replaying the log from index 1 passes through every configuration the
// group ever had. The first is entry 1's, {1}: a node 1 that was removed, lost its disk and
// is added back as a learner applies entry 1 alone, believes it is the only voter, elects
// itself and commits an entry of its own at index 2 (the simulator saw index 2 applied as
// term 1 and, in node 1's second life, as term 42). With snapshot_for_empty_followers an
// empty follower is sent only a snapshot whose configuration is the leader's current one.
class EmptyFollowerTest : public ::testing::Test {
 protected:
  // Nodes 1-3 bootstrapped with entries; 2 leads; 1 is removed, wiped and added back as a
  // learner. The leader has no snapshot (it never reached its interval).
  // Nodes 1-3 bootstrapped with entries, snapshot_for_empty_followers on; 2 leads.
  void StartWithNode2Leading() {
    NodeOptions options;
    options.bootstrap_entries = true;
    options.snapshot_for_empty_followers = true;
    c_.AddNodes({1, 2, 3}, {1, 2, 3}, {}, options);
    c_.Stabilize({}, nullptr);
    ASSERT_TRUE(c_.node(2).raw->Campaign().ok());
    c_.Stabilize({}, nullptr);
    ASSERT_EQ(c_.node(2).raw->state(), raft::StateType::kLeader);
  }

  void RemoveWipeAndReadd() {
    StartWithNode2Leading();
    if (HasFatalFailure()) return;
    raft::ConfChange remove1;
    remove1.changes.push_back({raft::ConfChangeType::kRemoveVoter, 1});
    ASSERT_TRUE(c_.node(2).raw->ProposeConfChange(remove1).ok());
    c_.Stabilize({2, 3}, nullptr);
    ASSERT_TRUE(c_.node(2).raw->Propose("x").ok());
    c_.Stabilize({2, 3}, nullptr);
    c_.Wipe(1);
    raft::ConfChange readd1;
    readd1.changes.push_back({raft::ConfChangeType::kAddLearner, 1});
    ASSERT_TRUE(c_.node(2).raw->ProposeConfChange(readd1).ok());
    c_.Stabilize({2, 3}, nullptr);
    ASSERT_EQ(c_.node(2).raw->conf_state().learners, (std::vector<raft::NodeId>{1}));
  }

  // A heartbeat round between the leader and node 1; returns what the leader sent 1 then.
  std::vector<Message> ProbeNode1() {
    std::vector<Message> sent;
    for (int round = 0; round < 4; ++round) {
      c_.node(2).raw->Tick();
      c_.ProcessReady(2, nullptr);
      for (const Message& m : c_.queue(1)) sent.push_back(m);
      c_.Deliver({1}, nullptr);
      c_.ProcessReady(1, nullptr);
      c_.Deliver({2}, nullptr);
      c_.ProcessReady(2, nullptr);
      for (const Message& m : c_.queue(1)) sent.push_back(m);
      c_.Deliver({1}, nullptr);
      c_.ProcessReady(1, nullptr);
      c_.Deliver({2}, nullptr);
    }
    return sent;
  }

  static const Message* FirstNonHeartbeat(const std::vector<Message>& messages) {
    for (const Message& m : messages) {
      if (m.type != MessageType::kHeartbeat) return &m;
    }
    return nullptr;
  }

  static std::string Describe(const std::vector<Message>& messages) {
    std::string out;
    for (const Message& m : messages) out += "\n  " + DescribeMessageForTest(Printable(m));
    return out;
  }

  RaftTestCluster c_;
};

TEST_F(EmptyFollowerTest, IsNeverSentTheLogFromIndexOne) {
  RemoveWipeAndReadd();
  std::vector<Message> sent = ProbeNode1();
  for (const Message& m : sent) {
    // Before the fix: 2->1 MsgApp Log:0/0 with entry 1 ({1} alone) and on.
    EXPECT_FALSE(m.type == MessageType::kApp && m.index == 0) << Describe(sent);
  }
  EXPECT_EQ(c_.node(1).raw->last_index(), 0u) << Describe(sent);
  // Once the leader has a snapshot of its current configuration, 1 starts from it.
  ASSERT_TRUE(c_.Snapshot(2).ok());
  sent = ProbeNode1();
  const Message* first = FirstNonHeartbeat(sent);
  ASSERT_NE(first, nullptr) << Describe(sent);
  EXPECT_EQ(first->type, MessageType::kSnap) << Describe(sent);
  c_.Stabilize({}, nullptr);
  EXPECT_EQ(c_.node(1).raw->commit_index(), c_.node(2).raw->commit_index());
  EXPECT_EQ(c_.node(1).raw->conf_state(), c_.node(2).raw->conf_state())
      << raft::DescribeConfState(c_.node(1).raw->conf_state());
  EXPECT_EQ(c_.node(1).applied, c_.node(2).applied);
}

TEST_F(EmptyFollowerTest, IsNeverSentASnapshotOfAnOlderConfiguration) {
  RemoveWipeAndReadd();
  // A snapshot whose configuration still names 1 a voter of {1,2,3} (a host that did not
  // refresh its snapshot after the membership changes).
  TestNode& leader = c_.node(2);
  raft::ConfState former;
  former.voters = {1, 2, 3};
  ASSERT_TRUE(leader.storage->CreateSnapshot(leader.applied_index, former, "").ok());
  std::vector<Message> sent = ProbeNode1();
  for (const Message& m : sent) {
    EXPECT_NE(m.type, MessageType::kSnap) << Describe(sent);
    EXPECT_FALSE(m.type == MessageType::kApp && m.index == 0) << Describe(sent);
  }
  ASSERT_TRUE(leader.raw->Propose("y").ok());
  c_.Stabilize({2, 3}, nullptr);
  ASSERT_TRUE(c_.Snapshot(2).ok());
  sent = ProbeNode1();
  const Message* first = FirstNonHeartbeat(sent);
  ASSERT_NE(first, nullptr) << Describe(sent);
  ASSERT_EQ(first->type, MessageType::kSnap) << Describe(sent);
  EXPECT_EQ(first->snapshot.metadata.conf_state.learners, (std::vector<raft::NodeId>{1}));
}

// Bug (review of 4475e07): Progress::log_empty is overwritten by every rejection, before
// MaybeDecrTo decides whether the rejection is stale. A rejection that node 1 sent in its
// former life (same term, same leader; its id is reused) and that arrives after the emptied
// node 1 said it is empty clears the flag while next stays 1: the leader then sends the
// empty node the log from index 1 (entry 1's configuration {1}), which the flag exists to
// prevent.
TEST_F(EmptyFollowerTest, AStaleRejectionFromAFormerLifeDoesNotClearLogEmpty) {
  StartWithNode2Leading();
  if (HasFatalFailure()) return;
  // Node 1 misses an append and rejects the next one (hint > 0: it holds the log); that
  // rejection is delayed in the network.
  ASSERT_TRUE(c_.node(2).raw->Propose("a").ok());
  c_.ProcessReady(2, nullptr);
  c_.DropMessages(1, 2, nullptr);
  ASSERT_TRUE(c_.node(2).raw->Propose("b").ok());
  c_.ProcessReady(2, nullptr);
  c_.Deliver({1}, nullptr);
  c_.ProcessReady(1, nullptr);
  std::vector<Message> delayed;
  std::vector<Message>& to_leader = c_.queue(2);
  for (auto it = to_leader.begin(); it != to_leader.end();) {
    if (it->from == 1 && it->type == MessageType::kAppResp && it->reject) {
      delayed.push_back(*it);
      it = to_leader.erase(it);
    } else {
      ++it;
    }
  }
  ASSERT_EQ(delayed.size(), 1u);
  ASSERT_GT(delayed[0].reject_hint, 0u);
  c_.Stabilize({2, 3}, nullptr);
  // 1 is removed, loses its disk and is added back as a learner, all in the same term.
  raft::ConfChange remove1;
  remove1.changes.push_back({raft::ConfChangeType::kRemoveVoter, 1});
  ASSERT_TRUE(c_.node(2).raw->ProposeConfChange(remove1).ok());
  c_.Stabilize({2, 3}, nullptr);
  c_.Wipe(1);
  raft::ConfChange readd1;
  readd1.changes.push_back({raft::ConfChangeType::kAddLearner, 1});
  ASSERT_TRUE(c_.node(2).raw->ProposeConfChange(readd1).ok());
  c_.Stabilize({2, 3}, nullptr);
  ASSERT_EQ(c_.node(2).raw->conf_state().learners, (std::vector<raft::NodeId>{1}));
  ASSERT_EQ(delayed[0].term, c_.node(2).raw->term());
  // The empty node 1 says so (hint 0); the leader has no current snapshot and waits.
  std::vector<Message> sent = ProbeNode1();
  for (const Message& m : sent) {
    ASSERT_FALSE(m.type == MessageType::kApp && m.index == 0) << Describe(sent);
  }
  // The former life's rejection arrives now.
  c_.queue(2).push_back(delayed[0]);
  c_.Deliver({2}, nullptr);
  c_.ProcessReady(2, nullptr);
  for (const Message& m : c_.queue(1)) sent.push_back(m);
  std::vector<Message> later = ProbeNode1();
  sent.insert(sent.end(), later.begin(), later.end());
  for (const Message& m : sent) {
    // Before the fix: 2->1 MsgApp Log:0/0 with entry 1 ({1} alone) and on.
    EXPECT_FALSE(m.type == MessageType::kApp && m.index == 0) << Describe(sent);
  }
  EXPECT_EQ(c_.node(1).raw->last_index(), 0u) << Describe(sent);
}

// Bug (review of 5a3baac/4475e07; older than both): messages carry no incarnation, so an
// acknowledgement that node 1 sent in its former life (same term, same leader) and that
// arrives after node 1 was removed, emptied and added back sets the leader's match for the
// empty node to the acknowledged index. The leader then probes above that index forever
// (every hint-0 rejection is judged stale by MaybeDecrTo) and never offers a snapshot: the
// empty node starves, and once promoted it counts towards commitment with entries it does
// not hold. Now a hint-0 rejection from a follower with a match starts it over from a
// current snapshot.
TEST_F(EmptyFollowerTest, AStaleAcknowledgementFromAFormerLifeDoesNotStarveIt) {
  StartWithNode2Leading();
  if (HasFatalFailure()) return;
  // Node 1 acknowledges an entry; the acknowledgement is delayed in the network.
  ASSERT_TRUE(c_.node(2).raw->Propose("a").ok());
  c_.ProcessReady(2, nullptr);
  c_.Deliver({1}, nullptr);
  c_.ProcessReady(1, nullptr);
  std::vector<Message> delayed;
  std::vector<Message>& to_leader = c_.queue(2);
  for (auto it = to_leader.begin(); it != to_leader.end();) {
    if (it->from == 1 && it->type == MessageType::kAppResp && !it->reject && it->index > 0) {
      delayed.push_back(*it);
      it = to_leader.erase(it);
    } else {
      ++it;
    }
  }
  ASSERT_EQ(delayed.size(), 1u);
  c_.Stabilize({2, 3}, nullptr);
  raft::ConfChange remove1;
  remove1.changes.push_back({raft::ConfChangeType::kRemoveVoter, 1});
  ASSERT_TRUE(c_.node(2).raw->ProposeConfChange(remove1).ok());
  c_.Stabilize({2, 3}, nullptr);
  c_.Wipe(1);
  raft::ConfChange readd1;
  readd1.changes.push_back({raft::ConfChangeType::kAddLearner, 1});
  ASSERT_TRUE(c_.node(2).raw->ProposeConfChange(readd1).ok());
  c_.Stabilize({2, 3}, nullptr);
  ASSERT_EQ(delayed[0].term, c_.node(2).raw->term());
  // A current snapshot is ready, as NodeHost keeps one after every membership change.
  ASSERT_TRUE(c_.Snapshot(2).ok());
  c_.queue(2).push_back(delayed[0]);
  c_.Deliver({2}, nullptr);
  c_.ProcessReady(2, nullptr);
  std::vector<Message> sent = ProbeNode1();
  for (int round = 0; round < 5; ++round) {
    std::vector<Message> later = ProbeNode1();
    sent.insert(sent.end(), later.begin(), later.end());
  }
  EXPECT_EQ(c_.node(1).raw->commit_index(), c_.node(2).raw->commit_index())
      << c_.node(2).raw->DescribeProgress() << Describe(sent);
  EXPECT_EQ(c_.node(1).raw->conf_state(), c_.node(2).raw->conf_state())
      << raft::DescribeConfState(c_.node(1).raw->conf_state());
  for (const Message& m : sent) {
    EXPECT_FALSE(m.type == MessageType::kApp && m.index == 0) << Describe(sent);
  }
}

}  // namespace
}  // namespace ekv::testing
