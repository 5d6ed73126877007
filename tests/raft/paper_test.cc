// The rules of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable
// Consensus Algorithm") as tests, in the spirit of etcd's raft_paper_test.go. Section
// numbers refer to the paper.
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "core/raft/raft.h"
#include "core/raft/raw_node.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::raft {
namespace {

std::vector<Entry> Ents(Index first, std::vector<Term> terms) {
  std::vector<Entry> out;
  for (Term t : terms) out.push_back(Entry{t, first++, EntryType::kNormal, ""});
  return out;
}

struct PeerOptions {
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  uint64_t seed = 1;
  std::vector<Term> log_terms;  // pre-existing stable log 1..n with these terms
  HardState hard_state;
};

// One member driven through RawNode, persisting into its MemoryStorage.
class Peer {
 public:
  Peer(NodeId id, std::vector<NodeId> voters, const PeerOptions& opts = {})
      : storage_(std::make_unique<MemoryStorage>()) {
    storage_->SetConfState(ConfState{voters, {}, {}, {}, false});
    EXPECT_TRUE(storage_->Append(Ents(1, opts.log_terms)).ok());
    storage_->SetHardState(opts.hard_state);
    Config config;
    config.id = id;
    config.group = 1;
    config.election_tick = opts.election_tick;
    config.heartbeat_tick = opts.heartbeat_tick;
    config.storage = storage_.get();
    config.pre_vote = opts.pre_vote;
    config.check_quorum = opts.check_quorum;
    config.max_uncommitted_entries_size = 0;
    config.max_inflight_bytes = 0;
    config.randomization_seed = opts.seed;
    auto node = RawNode::Create(config);
    EXPECT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
  }

  RawNode& node() { return *node_; }
  Raft& raft() { return node_->raft_for_testing(); }
  MemoryStorage& storage() { return *storage_; }

  // Runs Ready cycles until there is nothing left: persist, "apply", advance. Returns
  // every message to send (immediate and after-persist).
  std::vector<Message> Cycle() {
    std::vector<Message> out;
    while (node_->HasReady()) {
      Ready ready = node_->GetReady();
      auto receipt = storage_->Persist(ready.persist);
      EXPECT_TRUE(receipt.ok());
      for (const Entry& e : ready.committed_entries) applied_.push_back(e);
      out.insert(out.end(), ready.messages.begin(), ready.messages.end());
      std::vector<Message> after = node_->Advance(std::move(ready), *receipt);
      out.insert(out.end(), after.begin(), after.end());
    }
    return out;
  }

  void Step(Message m) {
    m.group = 1;
    absl::Status s = node_->Step(m);
    EXPECT_TRUE(s.ok()) << s;
  }

  const std::vector<Entry>& applied() const { return applied_; }

 private:
  std::unique_ptr<MemoryStorage> storage_;
  std::unique_ptr<RawNode> node_;
  std::vector<Entry> applied_;
};

Message Msg(MessageType type, NodeId from, NodeId to, Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

std::vector<Term> LogTerms(Peer& p) {
  std::vector<Term> out;
  const RaftLog& log = p.raft().log();
  for (Index i = log.FirstIndex(); i <= log.LastIndex(); ++i) out.push_back(*log.TermAt(i));
  return out;
}

std::vector<Message> OfType(const std::vector<Message>& msgs, MessageType type) {
  std::vector<Message> out;
  for (const Message& m : msgs) {
    if (m.type == type) out.push_back(m);
  }
  return out;
}

// Makes `p` (member of {1,2,3}) leader: campaign, then a granted vote from 2.
void ElectLeader(Peer& p) {
  ASSERT_TRUE(p.node().Campaign().ok());
  p.Cycle();
  const NodeId other = p.raft().id() == 2 ? 1 : 2;
  p.Step(Msg(MessageType::kVoteResp, other, p.raft().id(), p.raft().term()));
  p.Cycle();
  ASSERT_EQ(p.raft().state(), StateType::kLeader);
}

// §5.1: a server starts as a follower.
TEST(PaperTest, StartsAsFollower) {
  Peer p(1, {1, 2, 3});
  EXPECT_EQ(p.raft().state(), StateType::kFollower);
  EXPECT_EQ(p.raft().term(), 0u);
}

// §5.1: "If a server receives a request with a higher term, it updates its current term;
// if it was a candidate or leader, it reverts to follower state."
TEST(PaperTest, UpdateTermFromHigherTermMessageInEveryState) {
  for (StateType start : {StateType::kFollower, StateType::kCandidate, StateType::kLeader}) {
    Peer p(1, {1, 2, 3});
    if (start == StateType::kCandidate) {
      ASSERT_TRUE(p.node().Campaign().ok());
      p.Cycle();
    } else if (start == StateType::kLeader) {
      ElectLeader(p);
    }
    ASSERT_EQ(p.raft().state(), start);
    const Term higher = p.raft().term() + 1;
    p.Step(Msg(MessageType::kApp, 2, 1, higher));
    EXPECT_EQ(p.raft().term(), higher) << StateTypeName(start);
    EXPECT_EQ(p.raft().state(), StateType::kFollower) << StateTypeName(start);
    EXPECT_EQ(p.raft().lead(), 2u) << StateTypeName(start);
    EXPECT_EQ(p.raft().vote(), kNoNode) << StateTypeName(start);
  }
}

// A vote request or response with a higher term also steps a leader/candidate down.
TEST(PaperTest, CandidateAndLeaderStepDownOnHigherTermVote) {
  for (bool leader : {false, true}) {
    Peer p(1, {1, 2, 3});
    if (leader) {
      ElectLeader(p);
    } else {
      ASSERT_TRUE(p.node().Campaign().ok());
      p.Cycle();
    }
    const Term higher = p.raft().term() + 5;
    p.Step(Msg(MessageType::kVoteResp, 3, 1, higher));
    EXPECT_EQ(p.raft().state(), StateType::kFollower);
    EXPECT_EQ(p.raft().term(), higher);
  }
}

// §5.1: "If a server receives a request with a stale term number, it rejects the
// request." The leader ignores an append of an older term and keeps leading.
TEST(PaperTest, RejectsStaleTermMessage) {
  // Term 0 means "local" in a message, so make the leader's term 2 and use term 1.
  Peer p(1, {1, 2, 3}, PeerOptions{.log_terms = {}, .hard_state = HardState{1, kNoNode, 0}});
  ElectLeader(p);
  ASSERT_TRUE(p.node().Campaign().ok());  // no-op for a leader
  const Term term = p.raft().term();
  p.Step(Msg(MessageType::kApp, 2, 1, term - 1));
  p.Step(Msg(MessageType::kVote, 3, 1, term - 1));
  EXPECT_EQ(p.raft().state(), StateType::kLeader);
  EXPECT_EQ(p.raft().term(), term);
  EXPECT_TRUE(OfType(p.Cycle(), MessageType::kVoteResp).empty());
}

// §5.2: the leader sends heartbeats to all followers every heartbeat interval.
TEST(PaperTest, LeaderBroadcastsHeartbeats) {
  Peer p(1, {1, 2, 3}, PeerOptions{.heartbeat_tick = 2, .log_terms = {}, .hard_state = {}});
  ElectLeader(p);
  p.Cycle();
  p.node().Tick();
  EXPECT_TRUE(OfType(p.Cycle(), MessageType::kHeartbeat).empty());
  p.node().Tick();
  std::vector<Message> beats = OfType(p.Cycle(), MessageType::kHeartbeat);
  ASSERT_EQ(beats.size(), 2u);
  EXPECT_EQ(beats[0].to, 2u);
  EXPECT_EQ(beats[1].to, 3u);
}

// §5.2: election timeouts are chosen randomly from a fixed interval, here
// [election_tick, 2*election_tick), so split votes are rare.
TEST(PaperTest, ElectionTimeoutIsRandomizedInRange) {
  const int et = 10;
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    Peer p(1, {1, 2, 3},
           PeerOptions{.election_tick = et, .seed = seed, .log_terms = {}, .hard_state = {}});
    int ticks = 0;
    while (p.raft().state() == StateType::kFollower && ticks < 10 * et) {
      p.node().Tick();
      ++ticks;
    }
    ASSERT_EQ(p.raft().state(), StateType::kCandidate) << seed;
    EXPECT_GE(ticks, et) << seed;
    EXPECT_LT(ticks, 2 * et) << seed;
    seen.insert(ticks);
  }
  EXPECT_GE(seen.size(), 5u) << "timeouts do not look randomized";
}

// §5.2: a candidate wins with votes from a majority; loses (steps down) when a majority
// refuses; otherwise it stays a candidate.
TEST(PaperTest, LeaderElectionVoteResults) {
  struct Case {
    size_t size;
    std::map<NodeId, bool> votes;  // responses from the other members
    StateType want;
  };
  const std::vector<Case> cases = {
      {1, {}, StateType::kLeader},
      {3, {{2, true}, {3, true}}, StateType::kLeader},
      {3, {{2, true}}, StateType::kLeader},
      {3, {}, StateType::kCandidate},
      {3, {{2, false}}, StateType::kCandidate},
      {3, {{2, false}, {3, false}}, StateType::kFollower},
      {5, {{2, true}, {3, true}, {4, true}, {5, true}}, StateType::kLeader},
      {5, {{2, true}, {3, true}}, StateType::kLeader},
      {5, {{2, true}}, StateType::kCandidate},
      {5, {{2, true}, {3, false}, {4, false}}, StateType::kCandidate},
      {5, {{2, false}, {3, false}, {4, false}}, StateType::kFollower},
      {5, {{2, true}, {3, false}, {4, false}, {5, false}}, StateType::kFollower},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<NodeId> voters;
    for (NodeId id = 1; id <= cases[i].size; ++id) voters.push_back(id);
    Peer p(1, voters);
    ASSERT_TRUE(p.node().Campaign().ok());
    p.Cycle();  // our own vote counts once durable
    for (const auto& [from, granted] : cases[i].votes) {
      Message m = Msg(MessageType::kVoteResp, from, 1, 1);
      m.reject = !granted;
      p.Step(m);
    }
    p.Cycle();
    EXPECT_EQ(p.raft().state(), cases[i].want) << "case " << i;
    EXPECT_EQ(p.raft().term(), 1u) << "case " << i;
  }
}

// §5.2: each server votes for at most one candidate per term, first come first served.
TEST(PaperTest, VotesForAtMostOneCandidatePerTerm) {
  Peer p(1, {1, 2, 3});
  Message vote2 = Msg(MessageType::kVote, 2, 1, 1);
  p.Step(vote2);
  std::vector<Message> out = p.Cycle();
  ASSERT_EQ(OfType(out, MessageType::kVoteResp).size(), 1u);
  EXPECT_FALSE(OfType(out, MessageType::kVoteResp)[0].reject);
  p.Step(Msg(MessageType::kVote, 3, 1, 1));
  out = p.Cycle();
  ASSERT_EQ(OfType(out, MessageType::kVoteResp).size(), 1u);
  EXPECT_TRUE(OfType(out, MessageType::kVoteResp)[0].reject);
  p.Step(vote2);  // a retransmission from the same candidate is granted again
  out = p.Cycle();
  ASSERT_EQ(OfType(out, MessageType::kVoteResp).size(), 1u);
  EXPECT_FALSE(OfType(out, MessageType::kVoteResp)[0].reject);
}

// §5.4.1, the election restriction: a voter denies its vote if its own log is more up to
// date than the candidate's (compare last terms, then lengths).
TEST(PaperTest, VoterRejectsCandidateWithStaleLog) {
  // The voter's log: 1/1 2/1 3/2 (last entry index 3, term 2).
  struct Case {
    Index last_index;
    Term last_term;
    bool granted;
  };
  const std::vector<Case> cases = {
      {0, 0, false}, {2, 1, false}, {5, 1, false},  // lower last term
      {2, 2, false},                                // same term, shorter
      {3, 2, true},  {4, 2, true},                  // same term, at least as long
      {1, 3, true},  {3, 3, true},                  // higher last term
  };
  for (const Case& c : cases) {
    Peer p(1, {1, 2, 3},
           PeerOptions{.log_terms = {1, 1, 2}, .hard_state = HardState{2, kNoNode, 0}});
    Message m = Msg(MessageType::kVote, 2, 1, 3);
    m.index = c.last_index;
    m.log_term = c.last_term;
    p.Step(m);
    std::vector<Message> resp = OfType(p.Cycle(), MessageType::kVoteResp);
    ASSERT_EQ(resp.size(), 1u);
    EXPECT_EQ(!resp[0].reject, c.granted) << c.last_index << "/" << c.last_term;
    EXPECT_EQ(p.raft().vote(), c.granted ? 2u : kNoNode);
    EXPECT_EQ(p.raft().term(), 3u);
  }
}

// §5.3 (Log Matching): a follower accepts an append only if it holds the entry before
// the new ones with the same term; conflicting entries and all that follow are deleted.
TEST(PaperTest, FollowerAppendsPerLogMatching) {
  // Follower log: 1/1 2/2, in term 2.
  struct Case {
    Index index;
    Term log_term;
    std::vector<Entry> entries;
    bool reject;
    std::vector<Term> want;
  };
  const std::vector<Case> cases = {
      {2, 3, Ents(3, {3}), true, {1, 2}},         // term mismatch at 2
      {3, 3, Ents(4, {3}), true, {1, 2}},         // missing entry 3
      {2, 2, Ents(3, {3}), false, {1, 2, 3}},     // extends
      {1, 1, Ents(2, {3, 4}), false, {1, 3, 4}},  // conflict at 2: replaced
      {0, 0, Ents(1, {1}), false, {1, 2}},        // already present: kept
      {0, 0, Ents(1, {1, 2, 2}), false, {1, 2, 2}},
      {1, 1, {}, false, {1, 2}},  // heartbeat-like empty append
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Peer p(2, {1, 2, 3}, PeerOptions{.log_terms = {1, 2}, .hard_state = HardState{2, kNoNode, 0}});
    Message m = Msg(MessageType::kApp, 1, 2, 4);
    m.index = cases[i].index;
    m.log_term = cases[i].log_term;
    m.entries = cases[i].entries;
    p.Step(m);
    std::vector<Message> resp = OfType(p.Cycle(), MessageType::kAppResp);
    ASSERT_EQ(resp.size(), 1u) << i;
    EXPECT_EQ(resp[0].reject, cases[i].reject) << i;
    EXPECT_EQ(LogTerms(p), cases[i].want) << i;
    // The durable log must match what the follower acknowledged.
    EXPECT_EQ(p.storage().LastIndex(), cases[i].want.size()) << i;
  }
}

// §5.3: the leader appends a proposal, replicates it, commits it once a majority stored
// it, applies it, and tells followers the new commit index.
TEST(PaperTest, LeaderReplicatesAndCommits) {
  Peer p(1, {1, 2, 3});
  ElectLeader(p);
  p.Step(Msg(MessageType::kAppResp, 2, 1, 1));  // (stale ack of index 0: harmless)
  for (NodeId from : {2, 3}) {                  // both followers leave the probe state
    Message ack_noop = Msg(MessageType::kAppResp, from, 1, 1);
    ack_noop.index = 1;
    p.Step(ack_noop);
  }
  p.Cycle();
  ASSERT_EQ(p.raft().log().committed, 1u);

  ASSERT_TRUE(p.node().Propose("x").ok());
  std::vector<Message> apps = OfType(p.Cycle(), MessageType::kApp);
  ASSERT_EQ(apps.size(), 2u);
  for (const Message& m : apps) {
    ASSERT_EQ(m.entries.size(), 1u);
    EXPECT_EQ(m.entries[0].data, "x");
    EXPECT_EQ(m.index, 1u);
    EXPECT_EQ(m.log_term, 1u);
  }
  EXPECT_EQ(p.raft().log().committed, 1u);  // only the leader has it
  Message ack = Msg(MessageType::kAppResp, 3, 1, 1);
  ack.index = 2;
  p.Step(ack);
  std::vector<Message> out = p.Cycle();
  EXPECT_EQ(p.raft().log().committed, 2u);
  ASSERT_FALSE(p.applied().empty());
  EXPECT_EQ(p.applied().back().data, "x");
  bool told = false;
  for (const Message& m : OfType(out, MessageType::kApp)) told |= m.commit == 2;
  EXPECT_TRUE(told) << "followers must learn the new commit index";
}

// §5.4.2: a leader never commits an entry of a previous term by counting replicas; it
// commits it indirectly, together with an entry of its own term.
TEST(PaperTest, LeaderOnlyCommitsCurrentTermEntriesByCounting) {
  // Log 1/1 2/2 from earlier terms; the node becomes leader of term 3 and appends 3/3.
  Peer p(1, {1, 2, 3}, PeerOptions{.log_terms = {1, 2}, .hard_state = HardState{2, kNoNode, 0}});
  ElectLeader(p);
  ASSERT_EQ(p.raft().term(), 3u);
  ASSERT_EQ(p.raft().log().LastIndex(), 3u);
  for (Index acked : {1, 2}) {
    Message ack = Msg(MessageType::kAppResp, 2, 1, 3);
    ack.index = acked;
    p.Step(ack);
    p.Cycle();
    EXPECT_EQ(p.raft().log().committed, 0u) << "committed an old-term entry by counting";
  }
  Message ack = Msg(MessageType::kAppResp, 2, 1, 3);
  ack.index = 3;
  p.Step(ack);
  p.Cycle();
  EXPECT_EQ(p.raft().log().committed, 3u);
}

// The leader counts its own log only once it is durable.
TEST(PaperTest, LeaderCountsItsOwnEntryOnlyAfterPersisting) {
  Peer p(1, {1, 2, 3});
  ElectLeader(p);
  ASSERT_TRUE(p.node().Propose("x").ok());
  // Before the leader's Ready is persisted, a single follower ack is not a majority.
  Message ack = Msg(MessageType::kAppResp, 2, 1, 1);
  ack.index = 2;
  p.Step(ack);
  EXPECT_LT(p.raft().log().committed, 2u);
  p.Cycle();
  EXPECT_EQ(p.raft().log().committed, 2u);
}

// §5.1/Figure 2: "respond to RPCs only after updating stable storage". A vote and an
// append acknowledgement leave only through Advance with the persist receipt.
TEST(PaperTest, VoteAndAppendAckAreGrantedOnlyDurably) {
  Peer p(2, {1, 2, 3});
  Message vote = Msg(MessageType::kVote, 1, 2, 1);
  p.Step(vote);
  ASSERT_TRUE(p.node().HasReady());
  Ready ready = p.node().GetReady();
  EXPECT_TRUE(OfType(ready.messages, MessageType::kVoteResp).empty());
  EXPECT_GT(ready.durable_message_count(), 0u);
  ASSERT_TRUE(ready.persist.has_hard_state);
  EXPECT_EQ(ready.persist.hard_state.vote, 1u);
  EXPECT_TRUE(ready.must_sync);
  auto receipt = p.storage().Persist(ready.persist);
  ASSERT_TRUE(receipt.ok());
  std::vector<Message> after = p.node().Advance(std::move(ready), *receipt);
  ASSERT_EQ(OfType(after, MessageType::kVoteResp).size(), 1u);
  EXPECT_FALSE(after[0].reject);
  EXPECT_EQ(p.storage().hard_state().vote, 1u);  // on disk before the answer left

  Message app = Msg(MessageType::kApp, 1, 2, 1);
  app.entries = Ents(1, {1});
  p.Step(app);
  ready = p.node().GetReady();
  EXPECT_TRUE(OfType(ready.messages, MessageType::kAppResp).empty());
  EXPECT_GT(ready.durable_message_count(), 0u);
  EXPECT_EQ(ready.persist.entries.size(), 1u);
  receipt = p.storage().Persist(ready.persist);
  after = p.node().Advance(std::move(ready), *receipt);
  ASSERT_EQ(OfType(after, MessageType::kAppResp).size(), 1u);
  EXPECT_EQ(after[0].index, 1u);
  EXPECT_EQ(p.storage().LastIndex(), 1u);
}

// A candidate's vote for itself also counts only once durable: a single-node cluster
// becomes leader only after Advance.
TEST(PaperTest, SelfVoteCountsOnlyAfterPersist) {
  Peer p(1, {1});
  ASSERT_TRUE(p.node().Campaign().ok());
  EXPECT_EQ(p.raft().state(), StateType::kCandidate);
  Ready ready = p.node().GetReady();
  EXPECT_GT(ready.durable_message_count(), 0u);
  EXPECT_EQ(p.raft().state(), StateType::kCandidate);
  auto receipt = p.storage().Persist(ready.persist);
  p.node().Advance(std::move(ready), *receipt);
  EXPECT_EQ(p.raft().state(), StateType::kLeader);
}

// §5.2 Election Safety: at most one leader per term, under random message loss,
// duplication, reordering and timing, over a fixed list of seeds.
TEST(PaperTest, AtMostOneLeaderPerTermUnderRandomFaults) {
  for (uint64_t seed : {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597}) {
    Rng rng(seed);
    const bool pre_vote = rng.Chance(0.5);
    const bool check_quorum = rng.Chance(0.5);
    const double drop = 0.05 + 0.3 * rng.NextDouble();
    const double dup = 0.2 * rng.NextDouble();
    std::map<NodeId, std::unique_ptr<Peer>> peers;
    for (NodeId id = 1; id <= 5; ++id) {
      peers[id] = std::make_unique<Peer>(id, std::vector<NodeId>{1, 2, 3, 4, 5},
                                         PeerOptions{.pre_vote = pre_vote,
                                                     .check_quorum = check_quorum,
                                                     .seed = seed,
                                                     .log_terms = {},
                                                     .hard_state = {}});
    }
    std::vector<Message> network;
    std::map<Term, NodeId> leader_of_term;
    for (int step = 0; step < 3000; ++step) {
      const NodeId id = 1 + rng.Uniform(5);
      Peer& p = *peers[id];
      const uint64_t action = rng.Uniform(10);
      if (action < 3) {
        p.node().Tick();
      } else if (action < 4 && p.raft().state() == StateType::kLeader) {
        (void)p.node().Propose("v");
      } else if (!network.empty()) {
        const size_t pick = rng.Uniform(network.size());  // reordering
        Message m = network[pick];
        if (!rng.Chance(dup)) network.erase(network.begin() + static_cast<long>(pick));
        if (!rng.Chance(drop)) {
          m.group = 1;
          (void)peers[m.to]->node().Step(m);
        }
      }
      for (auto& [pid, peer] : peers) {
        for (Message& m : peer->Cycle()) network.push_back(std::move(m));
        if (peer->raft().state() == StateType::kLeader) {
          auto [it, inserted] = leader_of_term.emplace(peer->raft().term(), pid);
          ASSERT_EQ(it->second, pid) << "two leaders in term " << peer->raft().term() << " (seed "
                                     << seed << ", step " << step << ")";
        }
      }
      if (network.size() > 2000) network.erase(network.begin(), network.begin() + 1000);
    }
    EXPECT_FALSE(leader_of_term.empty()) << "no leader ever elected, seed " << seed;
  }
}

}  // namespace
}  // namespace ekv::raft
