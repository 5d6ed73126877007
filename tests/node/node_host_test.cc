// NodeHost driven by a tiny in-test driver: instant delivery, instant durable writes.
#include "core/node/node_host.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/kv_command.h"
#include "core/kv/kv_state_machine.h"
#include "core/node/codec.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/node/map_state_machine.h"
#include "core/raft/confchange.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

constexpr raft::GroupId kGroup = 7;

class Driver {
 public:
  // `server_groups`: the group runs the server's GroupStateMachine (timestamps, MVCC).
  explicit Driver(int nodes, uint64_t snapshot_interval = 0, bool server_groups = false,
                  bool serve_on_followers = false) {
    std::vector<raft::NodeId> voters;
    for (int i = 1; i <= nodes; ++i) voters.push_back(i);
    for (raft::NodeId id : voters) {
      NodeHostOptions options;
      options.node_id = id;
      options.incarnation = 1;
      options.seed = id;
      options.snapshot_interval_entries = snapshot_interval;
      options.compaction_lag_entries = 2;
      options.serve_on_followers = serve_on_followers;
      options.raft.election_tick = 10;
      options.raft.heartbeat_tick = 1;
      auto host = std::make_unique<NodeHost>(options);
      auto storage = std::make_unique<raft::MemoryStorage>();
      EXPECT_TRUE(raft::RawNode::Bootstrap(*storage, voters).ok());
      std::unique_ptr<StateMachine> state_machine;
      if (server_groups) {
        state_machine = std::make_unique<GroupStateMachine>(kGroup, std::nullopt);
      } else {
        state_machine = std::make_unique<MapStateMachine>();
      }
      EXPECT_TRUE(host->AddGroup(kGroup, std::move(storage), std::move(state_machine)).ok());
      hosts_[id] = std::move(host);
    }
  }

  NodeHost& host(raft::NodeId id) { return *hosts_.at(id); }

  // Runs effects until quiescent. Messages to `isolated` nodes are dropped.
  void Pump() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (auto& [id, host] : hosts_) {
        Effects effects = host->TakeEffects();
        if (effects.empty()) continue;
        any = true;
        for (const PersistRequest& persist : effects.persists) {
          ++persists_;
          host->OnPersisted(persist.group, persist.batch.ready_id);
        }
        for (OutboundMessages& batch : effects.outbound) {
          if (isolated_.count(id) != 0 || isolated_.count(batch.to) != 0 ||
              deaf_.count(batch.to) != 0) {
            for (raft::Message& message : batch.messages) dropped_.push_back(std::move(message));
            continue;
          }
          for (raft::Message& message : batch.messages) {
            sent_.push_back(message);
            inflight_.push_back(std::move(message));
          }
        }
        for (ClientReply& reply : effects.replies) replies_[reply.request_id] = reply;
      }
      while (!inflight_.empty()) {
        raft::Message message = std::move(inflight_.front());
        inflight_.pop_front();
        hosts_.at(message.to)->Receive(message);
        any = true;
      }
      if (!any) return;
    }
    FAIL() << "driver did not quiesce";
  }

  void TickAll(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      wall_ms_ += 10;  // one tick is 10 ms of wall time
      for (auto& [id, host] : hosts_) {
        host->SetWallClock(wall_ms_ + wall_offset_ms_[id]);
        host->Tick();
      }
      Pump();
    }
  }

  raft::NodeId Leader() {
    for (auto& [id, host] : hosts_) {
      if (host->Status(kGroup).state == raft::StateType::kLeader && isolated_.count(id) == 0) {
        return id;
      }
    }
    return raft::kNoNode;
  }

  ClientReply Submit(raft::NodeId node, ClientRequest request) {
    request.request_id = ++next_request_;
    request.group = kGroup;
    host(node).SubmitClientRequest(request);
    Pump();
    // Give reads a heartbeat round to confirm leadership if needed.
    for (int i = 0; i < 5 && replies_.count(request.request_id) == 0; ++i) TickAll(1);
    EXPECT_EQ(replies_.count(request.request_id), 1u);
    return replies_[request.request_id];
  }

  // Submits without waiting; the reply (if any) shows up in ReplyFor.
  uint64_t SubmitAsync(raft::NodeId node, ClientRequest request) {
    request.request_id = ++next_request_;
    request.group = kGroup;
    host(node).SubmitClientRequest(request);
    Pump();
    return request.request_id;
  }
  const ClientReply* ReplyFor(uint64_t request_id) const {
    auto it = replies_.find(request_id);
    return it == replies_.end() ? nullptr : &it->second;
  }

  std::set<raft::NodeId> isolated_;
  std::set<raft::NodeId> deaf_;         // messages to these nodes are dropped; theirs go out
  std::vector<raft::Message> sent_;     // every message delivered, in order
  std::vector<raft::Message> dropped_;  // messages to or from isolated nodes, never delivered
  uint64_t persists_ = 0;
  uint64_t wall_ms_ = 1'000'000;
  std::map<raft::NodeId, int64_t> wall_offset_ms_;  // per-node clock error

 private:
  std::map<raft::NodeId, std::unique_ptr<NodeHost>> hosts_;
  std::deque<raft::Message> inflight_;
  std::map<uint64_t, ClientReply> replies_;
  uint64_t next_request_ = 0;
};

ClientRequest Put(std::string key, std::string value) {
  return ClientRequest{0, kGroup, OpKind::kPut, std::move(key), std::move(value), std::nullopt};
}
ClientRequest Get(std::string key) {
  return ClientRequest{0, kGroup, OpKind::kGet, std::move(key), "", std::nullopt};
}
ClientRequest Cas(std::string key, std::optional<std::string> expected, std::string value) {
  return ClientRequest{
      0, kGroup, OpKind::kCas, std::move(key), std::move(value), std::move(expected)};
}

TEST(NodeHostTest, ElectsLeaderAndServesPutGetCas) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  EXPECT_GT(driver.persists_, 0u);

  const raft::NodeId follower = leader == 1 ? 2 : 1;
  ClientReply not_leader = driver.Submit(follower, Put("a", "1"));
  EXPECT_EQ(not_leader.status, ReplyStatus::kNotLeader);
  EXPECT_EQ(not_leader.leader_hint, leader);

  EXPECT_EQ(driver.Submit(leader, Put("a", "1")).status, ReplyStatus::kOk);
  ClientReply read = driver.Submit(leader, Get("a"));
  EXPECT_EQ(read.status, ReplyStatus::kOk);
  EXPECT_EQ(read.value, "1");
  EXPECT_EQ(driver.Submit(leader, Cas("a", std::string("0"), "2")).status, ReplyStatus::kFailed);
  EXPECT_EQ(driver.Submit(leader, Cas("a", std::string("1"), "2")).status, ReplyStatus::kOk);
  EXPECT_EQ(driver.Submit(leader, Get("a")).value, "2");
  EXPECT_EQ(driver.Submit(leader, Get("missing")).value, std::nullopt);

  driver.TickAll(3);
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(driver.host(id).state_machine(kGroup).Read("a"), "2") << "node " << id;
  }
}

TEST(NodeHostTest, LaggingFollowerCatchesUpThroughSnapshot) {
  Driver driver(3, /*snapshot_interval=*/5);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId lagging = leader == 3 ? 2 : 3;
  driver.isolated_.insert(lagging);
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(driver.Submit(leader, Put("k" + std::to_string(i % 4), std::to_string(i))).status,
              ReplyStatus::kOk);
  }
  EXPECT_GT(driver.host(leader).Status(kGroup).snapshot_index, 20u);
  driver.isolated_.clear();
  driver.TickAll(30);
  const GroupStatus caught_up = driver.host(lagging).Status(kGroup);
  EXPECT_EQ(caught_up.applied, driver.host(leader).Status(kGroup).applied);
  EXPECT_EQ(driver.host(lagging).state_machine(kGroup).Digest(),
            driver.host(leader).state_machine(kGroup).Digest());
}

// A follower forwards a client's write to the leader (MsgProp); if the transport drops that
// message unsent, Raft never resends it. Told so, the follower answers the client at once
// with a definite failure instead of letting it wait out its deadline.
TEST(NodeHostTest, AProposalTheTransportNeverSentFailsAtOnce) {
  Driver driver(3, /*snapshot_interval=*/0, /*server_groups=*/false, /*serve_on_followers=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 3 ? 2 : 3;
  ASSERT_EQ(driver.Submit(follower, Put("warm", "1")).status, ReplyStatus::kOk);

  driver.isolated_.insert(follower);
  driver.dropped_.clear();
  const uint64_t request = driver.SubmitAsync(follower, Put("lost", "1"));
  EXPECT_EQ(driver.ReplyFor(request), nullptr) << "nothing answers it yet";
  bool reported = false;
  for (const raft::Message& message : driver.dropped_) {
    if (message.type != raft::MessageType::kProp) continue;
    driver.host(follower).ReportUndelivered(message);
    reported = true;
  }
  ASSERT_TRUE(reported) << "the follower forwarded the proposal";
  driver.Pump();
  ASSERT_NE(driver.ReplyFor(request), nullptr);
  EXPECT_EQ(driver.ReplyFor(request)->status, ReplyStatus::kFailed);
  // Someone else's proposal or an unknown one changes nothing.
  raft::Message foreign;
  foreign.type = raft::MessageType::kProp;
  foreign.group = kGroup;
  foreign.entries.push_back(raft::Entry{});
  driver.host(leader).ReportUndelivered(foreign);
  driver.isolated_.clear();
  driver.TickAll(5);
  EXPECT_EQ(driver.host(leader).state_machine(kGroup).Read("lost"), std::nullopt);
}

TEST(NodeHostTest, ReadsOfTwoFollowersWithTheSameSequenceAreBothServed) {
  Driver driver(3, /*snapshot_interval=*/0, /*server_groups=*/false, /*serve_on_followers=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  std::vector<raft::NodeId> followers;
  for (raft::NodeId id : {1, 2, 3}) {
    if (id != leader) followers.push_back(id);
  }
  // Neither follower has asked anything yet: their first reads carry the same sequence
  // number, and reach the leader in one round.
  std::vector<uint64_t> requests;
  for (raft::NodeId follower : followers) {
    ClientRequest get = Get("k");
    get.request_id = 1000 + follower;
    get.group = kGroup;
    driver.host(follower).SubmitClientRequest(get);
    requests.push_back(get.request_id);
  }
  driver.Pump();
  driver.TickAll(3);
  for (uint64_t request : requests) {
    ASSERT_NE(driver.ReplyFor(request), nullptr) << "request " << request << " never answered";
    EXPECT_EQ(driver.ReplyFor(request)->status, ReplyStatus::kOk)
        << driver.ReplyFor(request)->detail;
  }
}

// A leader refuses a forwarded proposal without appending it (here: it is handing its
// leadership over). Raft drops such a proposal silently and never resends it; the leader's
// refusal notice lets the follower answer its client at once with a definite failure (safe
// to retry) instead of "outcome unknown" at the deadline.
TEST(NodeHostTest, AForwardedProposalTheLeaderRefusesFailsAtOnce) {
  Driver driver(3, /*snapshot_interval=*/0, /*server_groups=*/false, /*serve_on_followers=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 3 ? 2 : 3;
  const raft::NodeId transferee = 6 - leader - follower;
  ASSERT_EQ(driver.Submit(follower, Put("warm", "1")).status, ReplyStatus::kOk);
  // The transferee cannot be reached, so the transfer stays pending (no tick passes).
  driver.isolated_.insert(transferee);
  ASSERT_TRUE(driver.host(leader).TransferLeadership(kGroup, transferee).ok());
  driver.Pump();
  const uint64_t request = driver.SubmitAsync(follower, Put("refused", "1"));
  ASSERT_NE(driver.ReplyFor(request), nullptr) << "the follower was not told of the refusal";
  EXPECT_EQ(driver.ReplyFor(request)->status, ReplyStatus::kFailed);
  EXPECT_TRUE(absl::StrContains(driver.ReplyFor(request)->detail, "refused"))
      << driver.ReplyFor(request)->detail;
  driver.isolated_.clear();
  driver.TickAll(40);
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(driver.host(id).state_machine(kGroup).Read("refused"), std::nullopt) << "node " << id;
  }
}

TEST(NodeHostTest, AFollowersLostReadIndexRequestIsAskedAgain) {
  Driver driver(3, /*snapshot_interval=*/0, /*server_groups=*/false, /*serve_on_followers=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 3 ? 2 : 3;
  ASSERT_EQ(driver.Submit(follower, Put("k", "1")).status, ReplyStatus::kOk);
  driver.isolated_.insert(follower);
  const uint64_t request = driver.SubmitAsync(follower, Get("k"));
  driver.isolated_.clear();  // the request went nowhere; the follower still knows the leader
  // Well before the request's deadline (100 ticks) the follower asks again.
  for (int i = 0; i < 40 && driver.ReplyFor(request) == nullptr; ++i) driver.TickAll(1);
  ASSERT_NE(driver.ReplyFor(request), nullptr) << "the lost read was not asked again";
  EXPECT_EQ(driver.ReplyFor(request)->status, ReplyStatus::kOk) << driver.ReplyFor(request)->detail;
  EXPECT_EQ(driver.ReplyFor(request)->value, std::optional<std::string>("1"));
}

TEST(NodeHostTest, TheWritesOfOneRoundTravelAsOneProposalAndOneAppendPerFollower) {
  Driver driver(3, /*snapshot_interval=*/0, /*server_groups=*/false, /*serve_on_followers=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 3 ? 2 : 3;
  ASSERT_EQ(driver.Submit(leader, Put("warm", "1")).status, ReplyStatus::kOk);
  driver.sent_.clear();
  // Ten writes on the leader and ten on a follower, all before either takes its effects.
  constexpr int kWrites = 10;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 2 * kWrites; ++i) {
    ClientRequest request = Put("k" + std::to_string(i), "v" + std::to_string(i));
    request.request_id = 1000 + static_cast<uint64_t>(i);
    ids.push_back(request.request_id);
    driver.host(i < kWrites ? leader : follower).SubmitClientRequest(request);
  }
  driver.Pump();
  for (uint64_t id : ids) {
    ASSERT_NE(driver.ReplyFor(id), nullptr) << "request " << id;
    EXPECT_EQ(driver.ReplyFor(id)->status, ReplyStatus::kOk) << "request " << id;
  }
  int proposals = 0;
  std::map<raft::NodeId, int> appends_with_entries;
  for (const raft::Message& message : driver.sent_) {
    if (message.type == raft::MessageType::kProp) {
      ++proposals;
      EXPECT_EQ(message.entries.size(), static_cast<size_t>(kWrites))
          << "the follower forwards its round's writes together";
    }
    if (message.type == raft::MessageType::kApp && !message.entries.empty()) {
      ++appends_with_entries[message.to];
    }
  }
  EXPECT_EQ(proposals, 1);
  // One append for the leader's own batch and one for the forwarded one (not one per write).
  for (const auto& [to, count] : appends_with_entries) EXPECT_LE(count, 2) << "to node " << to;
  for (int i = 0; i < 2 * kWrites; ++i) {
    EXPECT_EQ(driver.host(follower).state_machine(kGroup).Read("k" + std::to_string(i)),
              "v" + std::to_string(i));
  }
}

// A leader cut off right after appending a write steps down (check-quorum). The write was
// never replicated, and the next leader commits its own entry at that index: the old
// leader, once it catches up, answers the write a definite failure (safe to retry), not
// "outcome unknown".
TEST(NodeHostTest, AWriteOfADeposedLeaderFailsOnceAnotherEntryTakesItsIndex) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  driver.isolated_.insert(leader);
  const uint64_t request = driver.SubmitAsync(leader, Put("x", "1"));
  driver.TickAll(60);  // check-quorum makes the isolated leader step down
  EXPECT_NE(driver.host(leader).Status(kGroup).state, raft::StateType::kLeader);
  EXPECT_EQ(driver.ReplyFor(request), nullptr)
      << "answered while its fate was open: " << driver.ReplyFor(request)->detail;
  driver.isolated_.clear();
  driver.TickAll(20);
  ASSERT_NE(driver.ReplyFor(request), nullptr);
  EXPECT_EQ(driver.ReplyFor(request)->status, ReplyStatus::kFailed)
      << driver.ReplyFor(request)->detail;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(driver.host(id).state_machine(kGroup).Read("x"), std::nullopt) << "node " << id;
  }
}

// A leader that replicated a write but never heard the acknowledgements steps down; the
// next leader holds the entry and commits it. The old leader applies it when it catches
// up and answers its client with the result, not "outcome unknown".
TEST(NodeHostTest, AWriteOfADeposedLeaderThatCommitsLaterIsAnsweredOk) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  driver.deaf_.insert(leader);  // its appends go out; the acknowledgements are lost
  const uint64_t request = driver.SubmitAsync(leader, Put("y", "2"));
  EXPECT_EQ(driver.ReplyFor(request), nullptr);
  driver.deaf_.clear();
  driver.isolated_.insert(leader);
  driver.TickAll(60);
  EXPECT_NE(driver.host(leader).Status(kGroup).state, raft::StateType::kLeader);
  EXPECT_EQ(driver.ReplyFor(request), nullptr)
      << "answered while its fate was open: " << driver.ReplyFor(request)->detail;
  driver.isolated_.clear();
  driver.TickAll(20);
  ASSERT_NE(driver.ReplyFor(request), nullptr);
  EXPECT_EQ(driver.ReplyFor(request)->status, ReplyStatus::kOk) << driver.ReplyFor(request)->detail;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(driver.host(id).state_machine(kGroup).Read("y"), std::optional<std::string>("2"))
        << "node " << id;
  }
}

// ---------------------------------------------------------------------------------------
// Timestamps and one-phase commit on the server's state machine (timestamp_oracle.h).

ClientRequest TimestampRequest() {
  ClientRequest request;
  request.kind = OpKind::kTimestamp;
  return request;
}

ClientRequest KvApply(const kv::KvCommand& command) {
  GroupCommand group_command;
  group_command.op = GroupCommandOp::kKv;
  group_command.payload = kv::EncodeKvCommand(command);
  ClientRequest request;
  request.kind = OpKind::kApply;
  request.value = EncodeGroupCommand(group_command);
  return request;
}

ClientRequest KvGetAt(std::string key, kv::Timestamp read_ts) {
  GroupQuery query;
  query.op = GroupQueryOp::kKv;
  query.payload = EncodeKvQuery(kv::KvQuery::Get(std::move(key), read_ts));
  ClientRequest request;
  request.kind = OpKind::kQuery;
  request.value = EncodeGroupQuery(query);
  return request;
}

GroupResult Decode(const ClientReply& reply) {
  EXPECT_TRUE(reply.value.has_value());
  absl::StatusOr<GroupResult> result = DecodeGroupResult(reply.value.value_or(""));
  EXPECT_TRUE(result.ok());
  return result.value_or(GroupResult{});
}

kv::Timestamp Timestamp(Driver& driver, raft::NodeId node) {
  ClientReply reply = driver.Submit(node, TimestampRequest());
  EXPECT_EQ(reply.status, ReplyStatus::kOk) << reply.detail;
  return reply.timestamp;
}

TEST(NodeHostTimestampTest, LeaderServesFromMemoryFollowersPointToIt) {
  Driver driver(3, 0, /*server_groups=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 1 ? 2 : 1;
  ClientReply refused = driver.Submit(follower, TimestampRequest());
  EXPECT_EQ(refused.status, ReplyStatus::kNotLeader);
  EXPECT_EQ(refused.leader_hint, leader);

  kv::Timestamp previous = Timestamp(driver, leader);  // waits for the first ceiling
  const raft::Index last_index = driver.host(leader).Status(kGroup).last_index;
  for (int i = 0; i < 20; ++i) {
    const kv::Timestamp ts = Timestamp(driver, leader);
    EXPECT_GT(ts, previous);
    previous = ts;
  }
  // No Raft proposal per timestamp: only leadership confirmations.
  EXPECT_EQ(driver.host(leader).Status(kGroup).last_index, last_index);
}

TEST(NodeHostTimestampTest, NewLeaderIssuesAboveTheOldOneEvenWithAClockBehind) {
  Driver driver(3, 0, /*server_groups=*/true);
  driver.TickAll(40);
  const raft::NodeId old_leader = driver.Leader();
  ASSERT_NE(old_leader, raft::kNoNode);
  kv::Timestamp highest = 0;
  for (int i = 0; i < 5; ++i) highest = std::max(highest, Timestamp(driver, old_leader));
  // Every other clock is far behind the old leader's.
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id != old_leader) driver.wall_offset_ms_[id] = -60'000;
  }
  driver.isolated_.insert(old_leader);
  driver.TickAll(60);
  const raft::NodeId new_leader = driver.Leader();
  ASSERT_NE(new_leader, raft::kNoNode);
  ASSERT_NE(new_leader, old_leader);
  EXPECT_GT(Timestamp(driver, new_leader), highest);
  // The deposed leader, still cut off, confirms nothing and so serves nothing: the
  // request waits, then fails (a timestamp has no effect, so the client may retry).
  const uint64_t stale = driver.SubmitAsync(old_leader, TimestampRequest());
  driver.TickAll(120);
  ASSERT_NE(driver.ReplyFor(stale), nullptr);
  EXPECT_NE(driver.ReplyFor(stale)->status, ReplyStatus::kOk);
}

TEST(NodeHostTimestampTest, ApplyTimeTimestampsAndOracleTimestampsInterleaveInOrder) {
  Driver driver(3, 0, /*server_groups=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  kv::Timestamp previous = 0;
  for (int i = 0; i < 10; ++i) {
    const kv::Timestamp oracle_ts = Timestamp(driver, leader);
    EXPECT_GT(oracle_ts, previous);
    kv::RawWriteCommand write;
    write.mutations.push_back(kv::Mutation::Put("k", std::to_string(i)));
    ClientReply reply = driver.Submit(leader, KvApply(write));
    ASSERT_EQ(reply.status, ReplyStatus::kOk) << reply.detail;
    const kv::Timestamp write_ts = Decode(reply).ts;
    EXPECT_GT(write_ts, oracle_ts) << "a write after a timestamp must commit above it";
    previous = write_ts;
  }
}

TEST(NodeHostTimestampTest, OnePhaseCommitLandsAboveEveryReadServedBeforeIt) {
  Driver driver(3, 0, /*server_groups=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const kv::Timestamp start_ts = Timestamp(driver, leader);
  const kv::Timestamp read_ts = Timestamp(driver, leader);
  // A reader at read_ts sees nothing; the 1PC (start_ts < read_ts) must not appear below it.
  ClientReply read = driver.Submit(leader, KvGetAt("k", read_ts));
  ASSERT_EQ(read.status, ReplyStatus::kOk) << read.detail;
  EXPECT_EQ(Decode(read).value, std::nullopt);
  kv::OnePhaseCommitCommand one_phase;
  one_phase.mutations.push_back(kv::Mutation::Put("k", "v"));
  one_phase.start_ts = start_ts;
  ClientReply committed = driver.Submit(leader, KvApply(one_phase));
  ASSERT_EQ(committed.status, ReplyStatus::kOk);
  const GroupResult result = Decode(committed);
  ASSERT_TRUE(result.status().ok()) << result.message;
  EXPECT_GT(result.ts, read_ts);
  EXPECT_EQ(Decode(driver.Submit(leader, KvGetAt("k", read_ts))).value, std::nullopt);
  EXPECT_EQ(Decode(driver.Submit(leader, KvGetAt("k", result.ts))).value, "v");
  // A blind retry of the same transaction reports the same commit and writes nothing new.
  ClientReply again = driver.Submit(leader, KvApply(one_phase));
  EXPECT_EQ(Decode(again).ts, result.ts);
}

TEST(NodeHostTimestampTest, ConflictedOnePhaseCommitStaysAbortedWhenRetried) {
  Driver driver(3, 0, /*server_groups=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const kv::Timestamp lock_start = Timestamp(driver, leader);
  const kv::Timestamp start_ts = Timestamp(driver, leader);
  kv::PrewriteCommand prewrite;
  prewrite.mutations.push_back(kv::Mutation::Put("k", "other"));
  prewrite.primary = "k";
  prewrite.start_ts = lock_start;
  prewrite.lock_ttl_ms = 3000;
  ASSERT_TRUE(Decode(driver.Submit(leader, KvApply(prewrite))).status().ok());
  kv::OnePhaseCommitCommand one_phase;
  one_phase.mutations.push_back(kv::Mutation::Put("k", "mine"));
  one_phase.start_ts = start_ts;
  EXPECT_FALSE(Decode(driver.Submit(leader, KvApply(one_phase))).key_errors.empty());
  kv::RollbackCommand rollback;
  rollback.keys.push_back("k");
  rollback.start_ts = lock_start;
  ASSERT_TRUE(Decode(driver.Submit(leader, KvApply(rollback))).status().ok());
  // The lock is gone, but the failed 1PC left its verdict: a retry must not commit it.
  const GroupResult retried = Decode(driver.Submit(leader, KvApply(one_phase)));
  ASSERT_FALSE(retried.key_errors.empty());
  EXPECT_EQ(retried.key_errors.front().code,
            static_cast<uint8_t>(kv::KeyErrorCode::kTxnRolledBack));
}

// Ordering of apply-time timestamps against oracle timestamps across groups
// (kv_state_machine.h, "Uncertainty"; docs/timestamp-ordering.md). The oracle group and
// a data group are separate Raft groups, here two drivers.
struct SnapshotRead {
  std::optional<std::string> value;
  int restarts = 0;
  std::string first_refusal;  // the first ReadRestart's message
};

// Reads `key` at a fresh oracle timestamp as a snapshot reader must: a ReadRestart means
// a new timestamp above what it names, and the read again.
SnapshotRead ReadAtFreshSnapshot(Driver& oracle, raft::NodeId oracle_leader, Driver& data,
                                 raft::NodeId data_leader, const std::string& key) {
  SnapshotRead out;
  uint64_t at_least = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    ClientRequest request = TimestampRequest();
    request.value = EncodeTimestampRequest(at_least);
    ClientReply issued = oracle.Submit(oracle_leader, request);
    EXPECT_EQ(issued.status, ReplyStatus::kOk) << issued.detail;
    EXPECT_GT(issued.timestamp, at_least);
    ClientReply read = data.Submit(data_leader, KvGetAt(key, issued.timestamp));
    EXPECT_EQ(read.status, ReplyStatus::kOk) << read.detail;
    const GroupResult result = Decode(read);
    if (result.restart_above == 0) {
      EXPECT_TRUE(result.status().ok()) << result.message;
      out.value = result.value;
      return out;
    }
    EXPECT_EQ(result.code, absl::StatusCode::kAborted) << result.message;
    if (out.restarts++ == 0) out.first_refusal = result.message;
    at_least = result.restart_above;
  }
  ADD_FAILURE() << "the read kept restarting; first refusal: " << out.first_refusal;
  return out;
}

ClientReply RawPutFromCoordinator(Driver& data, raft::NodeId leader, const std::string& key,
                                  const std::string& value, uint64_t coordinator_wall_ms) {
  kv::RawWriteCommand write;
  write.mutations.push_back(kv::Mutation::Put(key, value));
  GroupCommand group_command;
  group_command.op = GroupCommandOp::kKv;
  group_command.payload = kv::EncodeKvCommand(write);
  group_command.physical_ms = coordinator_wall_ms;  // as Coordinator sets it
  ClientRequest request = KvApply(write);
  request.value = EncodeGroupCommand(group_command);
  return data.Submit(leader, request);
}

// The oracle group and a data group, each on its own 3-node driver, both with a leader.
class OracleAndDataGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    oracle.TickAll(40);
    data.TickAll(40);
    oracle_leader = oracle.Leader();
    data_leader = data.Leader();
    ASSERT_NE(oracle_leader, raft::kNoNode);
    ASSERT_NE(data_leader, raft::kNoNode);
  }
  Driver oracle{3, 0, /*server_groups=*/true};
  Driver data{3, 0, /*server_groups=*/true};
  raft::NodeId oracle_leader = raft::kNoNode;
  raft::NodeId data_leader = raft::kNoNode;
};

// The coordinating node's clock runs 5 ms ahead of the oracle leader's, so the write's
// apply-time timestamp is above the next one the oracle issues. The write is
// acknowledged before that timestamp is asked for, so a read there must see it: the read
// restarts above the write instead of answering without it.
TEST_F(OracleAndDataGroupTest, AWriteAcknowledgedBeforeATimestampIsIssuedIsReadAtIt) {
  const kv::Timestamp before = Timestamp(oracle, oracle_leader);
  ClientReply written = RawPutFromCoordinator(data, data_leader, "k", "v", oracle.wall_ms_ + 5);
  ASSERT_EQ(written.status, ReplyStatus::kOk) << written.detail;
  const GroupResult write_result = Decode(written);
  ASSERT_TRUE(write_result.status().ok()) << write_result.message;
  ASSERT_GT(write_result.ts, before);

  const SnapshotRead read = ReadAtFreshSnapshot(oracle, oracle_leader, data, data_leader, "k");
  EXPECT_EQ(read.value, std::optional<std::string>("v"))
      << "write acknowledged at ts " << write_result.ts << " (physical "
      << kv::PhysicalMs(write_result.ts) << " ms) missed by a later snapshot read";
  // The first snapshot was below the write (the skew), so it had to restart.
  EXPECT_EQ(read.restarts, 1) << read.first_refusal;
  EXPECT_NE(read.first_refusal.find("ReadRestart"), std::string::npos) << read.first_refusal;
}

// No clock skew at all: a read at an oracle timestamp R0 lays a read floor R0 in the
// data group, so raw writes applied there within the same millisecond take R0+1, R0+2
// (max_ts + 1 chains logically). Both are acknowledged; the oracle, asked next within
// that millisecond, issues R0+1 (it never saw the data group): a read there must still
// see R0+2.
TEST_F(OracleAndDataGroupTest, WritesChainedAboveAReadFloorAreReadAtTheNextTimestamp) {
  data.wall_ms_ = oracle.wall_ms_;   // one clock for every node
  Timestamp(oracle, oracle_leader);  // the first ceiling
  const kv::Timestamp first = Timestamp(oracle, oracle_leader);
  ASSERT_EQ(data.Submit(data_leader, KvGetAt("k", first)).status, ReplyStatus::kOk);
  kv::Timestamp last_write = 0;
  for (int i = 0; i < 2; ++i) {
    ClientReply written =
        RawPutFromCoordinator(data, data_leader, "k", std::to_string(i), oracle.wall_ms_);
    ASSERT_EQ(written.status, ReplyStatus::kOk) << written.detail;
    last_write = Decode(written).ts;
  }
  const SnapshotRead read = ReadAtFreshSnapshot(oracle, oracle_leader, data, data_leader, "k");
  EXPECT_EQ(read.value, std::optional<std::string>("1"))
      << "first oracle ts " << first << ", last write acknowledged at " << last_write
      << "; first refusal: " << read.first_refusal;
}

// A read at a snapshot that no write falls near is answered at once: the uncertainty
// window only holds versions applied before the read's floor and above its timestamp.
TEST_F(OracleAndDataGroupTest, ASnapshotAboveEveryEarlierWriteReadsWithoutRestarting) {
  ClientReply written = RawPutFromCoordinator(data, data_leader, "k", "v", oracle.wall_ms_ - 50);
  ASSERT_EQ(written.status, ReplyStatus::kOk) << written.detail;
  const SnapshotRead read = ReadAtFreshSnapshot(oracle, oracle_leader, data, data_leader, "k");
  EXPECT_EQ(read.value, std::optional<std::string>("v"));
  EXPECT_EQ(read.restarts, 0) << read.first_refusal;
}

}  // namespace
}  // namespace ekv::node

namespace ekv::node {
namespace {

ClientRequest ConfChangeRequest(raft::ConfChangeType type, raft::NodeId node) {
  raft::ConfChange change;
  change.changes.push_back({type, node});
  return ClientRequest{0,           kGroup, OpKind::kConfChange, "", raft::EncodeConfChange(change),
                       std::nullopt};
}

bool Has(const std::vector<raft::NodeId>& ids, raft::NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST(NodeHostConfChangeTest, LeaderAnswersOnceTheChangeIsApplied) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 3 ? 2 : 3;

  ClientReply refused =
      driver.Submit(follower, ConfChangeRequest(raft::ConfChangeType::kRemoveVoter, follower));
  EXPECT_EQ(refused.status, ReplyStatus::kNotLeader);
  EXPECT_EQ(refused.leader_hint, leader);

  ClientReply removed =
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kRemoveVoter, follower));
  ASSERT_EQ(removed.status, ReplyStatus::kOk) << removed.detail;
  EXPECT_GT(removed.index, 0u);
  EXPECT_FALSE(Has(driver.host(leader).Status(kGroup).conf_state.voters, follower));

  // Back as a learner, then a voter: each answered with the configuration it made.
  ClientReply learner =
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kAddLearner, follower));
  ASSERT_EQ(learner.status, ReplyStatus::kOk) << learner.detail;
  EXPECT_TRUE(Has(driver.host(leader).Status(kGroup).conf_state.learners, follower));
  ClientReply voter =
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kAddVoter, follower));
  ASSERT_EQ(voter.status, ReplyStatus::kOk) << voter.detail;
  driver.TickAll(5);
  for (raft::NodeId id = 1; id <= 3; ++id) {
    const raft::ConfState conf = driver.host(id).Status(kGroup).conf_state;
    EXPECT_TRUE(Has(conf.voters, follower)) << "seen by node " << id;
    EXPECT_TRUE(conf.learners.empty()) << "seen by node " << id;
  }
  // Ordinary writes go on after the changes.
  EXPECT_EQ(driver.Submit(driver.Leader(), Put("a", "1")).status, ReplyStatus::kOk);
}

// Found by the simulator's membership faults: a node removed and added back after the log
// was compacted must be sent a snapshot that names it. The latest one predates its return,
// so the follower refuses it, and without a fresh snapshot the leader offers the same one
// forever.
TEST(NodeHostConfChangeTest, ANodeAddedBackAfterCompactionCatchesUpBySnapshot) {
  Driver driver(3, /*snapshot_interval=*/5);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId returning = leader == 3 ? 2 : 3;
  ASSERT_EQ(driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kRemoveVoter, returning))
                .status,
            ReplyStatus::kOk);
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(driver.Submit(leader, Put("k" + std::to_string(i % 4), std::to_string(i))).status,
              ReplyStatus::kOk);
  }
  const GroupStatus before = driver.host(leader).Status(kGroup);
  ASSERT_GT(before.snapshot_index, driver.host(returning).Status(kGroup).applied + 2)
      << "the leader's log must be compacted past what the returning node has";

  ASSERT_EQ(
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kAddLearner, returning)).status,
      ReplyStatus::kOk);
  driver.TickAll(50);
  const GroupStatus caught_up = driver.host(returning).Status(kGroup);
  EXPECT_EQ(caught_up.applied, driver.host(leader).Status(kGroup).applied);
  EXPECT_EQ(driver.host(returning).state_machine(kGroup).Digest(),
            driver.host(leader).state_machine(kGroup).Digest());
}

// A removal guarded by the voters that must stay (EncodeKeepVoters, a replica move's step
// 5) is made only while each of them votes and goes on voting: two moves that each saw one
// replica to spare must not both take theirs out (simulator append seed 19, bank seed 263).
TEST(NodeHostConfChangeTest, AGuardedRemovalKeepsTheVotersItNames) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId a = leader == 3 ? 2 : 3;
  const raft::NodeId b = leader == 1 ? 2 : 1;
  auto guarded_removal = [&](raft::NodeId node, std::vector<raft::NodeId> keep) {
    raft::ConfChange change;
    change.changes.push_back({raft::ConfChangeType::kRemoveVoter, node});
    change.context = EncodeKeepVoters(keep);
    return ClientRequest{
        0, kGroup, OpKind::kConfChange, "", raft::EncodeConfChange(change), std::nullopt};
  };
  // The first removal keeps the leader and b: made.
  ClientReply first = driver.Submit(leader, guarded_removal(a, {leader, b}));
  ASSERT_EQ(first.status, ReplyStatus::kOk) << first.detail;
  EXPECT_NE(first.value, std::optional<std::string>(std::string(kKeepVotersRefused)));
  EXPECT_FALSE(Has(driver.host(leader).Status(kGroup).conf_state.voters, a));
  // The second names a, which no longer votes: refused, nothing proposed.
  const raft::Index applied = driver.host(leader).Status(kGroup).applied;
  ClientReply second = driver.Submit(leader, guarded_removal(b, {leader, a}));
  ASSERT_EQ(second.status, ReplyStatus::kOk) << second.detail;
  EXPECT_EQ(second.value, std::optional<std::string>(std::string(kKeepVotersRefused)))
      << second.detail;
  EXPECT_TRUE(Has(driver.host(leader).Status(kGroup).conf_state.voters, b));
  EXPECT_EQ(driver.host(leader).Status(kGroup).applied, applied);
  // Nor may a removal take out a node it names.
  ClientReply itself = driver.Submit(leader, guarded_removal(b, {b}));
  EXPECT_EQ(itself.value, std::optional<std::string>(std::string(kKeepVotersRefused)));
  EXPECT_TRUE(Has(driver.host(leader).Status(kGroup).conf_state.voters, b));
}

// A replica move's promotions carry EncodeMembersOnly: once another change took a node out,
// a promotion planned on the older catalog is refused instead of adding it back as a voter.
TEST(NodeHostConfChangeTest, AMembersOnlyChangeNeverAddsBackARemovedNode) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId gone = leader == 3 ? 2 : 3;
  auto members_only = [&](raft::ConfChangeType type, raft::NodeId node) {
    raft::ConfChange change;
    change.changes.push_back({type, node});
    change.context = EncodeMembersOnly();
    return ClientRequest{
        0, kGroup, OpKind::kConfChange, "", raft::EncodeConfChange(change), std::nullopt};
  };
  // A voter: promoting it again is already made, and so is adding it as a learner.
  ClientReply voter = driver.Submit(leader, members_only(raft::ConfChangeType::kAddVoter, gone));
  ASSERT_EQ(voter.status, ReplyStatus::kOk) << voter.detail;
  EXPECT_NE(voter.value, std::optional<std::string>(std::string(kMembersOnlyRefused)));
  ClientReply removed =
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kRemoveVoter, gone));
  ASSERT_EQ(removed.status, ReplyStatus::kOk) << removed.detail;
  ASSERT_FALSE(Has(driver.host(leader).Status(kGroup).conf_state.voters, gone));
  // Removed: neither a promotion nor a learner addition planned before that takes effect.
  const raft::Index applied = driver.host(leader).Status(kGroup).applied;
  for (const raft::ConfChangeType type :
       {raft::ConfChangeType::kAddVoter, raft::ConfChangeType::kAddLearner}) {
    ClientReply refused = driver.Submit(leader, members_only(type, gone));
    ASSERT_EQ(refused.status, ReplyStatus::kOk) << refused.detail;
    EXPECT_EQ(refused.value, std::optional<std::string>(std::string(kMembersOnlyRefused)))
        << refused.detail;
  }
  const raft::ConfState after = driver.host(leader).Status(kGroup).conf_state;
  EXPECT_FALSE(Has(after.voters, gone));
  EXPECT_FALSE(Has(after.learners, gone));
  EXPECT_EQ(driver.host(leader).Status(kGroup).applied, applied);
  // A learner may be promoted.
  ClientReply learner =
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kAddLearner, gone));
  ASSERT_EQ(learner.status, ReplyStatus::kOk) << learner.detail;
  ClientReply promoted = driver.Submit(leader, members_only(raft::ConfChangeType::kAddVoter, gone));
  ASSERT_EQ(promoted.status, ReplyStatus::kOk) << promoted.detail;
  EXPECT_NE(promoted.value, std::optional<std::string>(std::string(kMembersOnlyRefused)));
  EXPECT_TRUE(Has(driver.host(leader).Status(kGroup).conf_state.voters, gone));
}

// AddNode with readmit asks every group's leader this before an emptied node hosts anything
// (simulator dynamo seed 9408): a member that missed the change taking a node out still
// holds a configuration that counts that node's vote.
TEST(NodeHostConfChangeTest, ConfigurationAcknowledgedNamesTheMembersThatMissedTheNewestChange) {
  Driver driver(5);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  std::vector<raft::NodeId> followers;
  for (raft::NodeId id = 1; id <= 5; ++id) {
    if (id != leader) followers.push_back(id);
  }
  const raft::NodeId down = followers[0];
  const raft::NodeId gone = followers[1];
  const ClientRequest ask{0, kGroup, OpKind::kConfigurationAcknowledged, "", "", std::nullopt};

  ClientReply settled = driver.Submit(leader, ask);
  ASSERT_EQ(settled.status, ReplyStatus::kOk) << settled.detail;
  EXPECT_EQ(settled.value, std::optional<std::string>("")) << settled.value.value_or("(none)");

  ClientReply follower = driver.Submit(down, ask);
  EXPECT_EQ(follower.status, ReplyStatus::kNotLeader);
  EXPECT_EQ(follower.leader_hint, leader);

  driver.isolated_ = {down};
  ClientReply removed =
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kRemoveVoter, gone));
  ASSERT_EQ(removed.status, ReplyStatus::kOk) << removed.detail;
  ASSERT_FALSE(Has(driver.host(leader).Status(kGroup).conf_state.voters, gone));
  ASSERT_TRUE(Has(driver.host(down).Status(kGroup).conf_state.voters, gone))
      << "the cut-off member still holds the configuration naming the removed node";

  ClientReply behind = driver.Submit(leader, ask);
  ASSERT_EQ(behind.status, ReplyStatus::kOk) << behind.detail;
  EXPECT_EQ(behind.value, std::optional<std::string>(absl::StrCat(down)))
      << behind.value.value_or("(none)");
  EXPECT_GE(behind.index, removed.index);

  driver.isolated_.clear();
  driver.TickAll(20);
  ASSERT_EQ(driver.Leader(), leader);
  ClientReply caught_up = driver.Submit(leader, ask);
  ASSERT_EQ(caught_up.status, ReplyStatus::kOk) << caught_up.detail;
  EXPECT_EQ(caught_up.value, std::optional<std::string>("")) << caught_up.value.value_or("(none)");
  EXPECT_FALSE(Has(driver.host(down).Status(kGroup).conf_state.voters, gone));
}

TEST(NodeHostConfChangeTest, RefusedChangesFailAndChangeNothing) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::ConfState before = driver.host(leader).Status(kGroup).conf_state;

  ClientRequest malformed{0, kGroup, OpKind::kConfChange, "", "\x07garbage", std::nullopt};
  ClientReply reply = driver.Submit(leader, malformed);
  EXPECT_EQ(reply.status, ReplyStatus::kFailed);
  EXPECT_NE(reply.detail.find("malformed conf change"), std::string::npos) << reply.detail;

  // One change at a time: the second, proposed before the first applies, is refused.
  // (Both are real changes: one the configuration already shows is answered at once.)
  driver.isolated_ = {1, 2, 3};  // nothing commits while both are proposed
  const uint64_t first = driver.SubmitAsync(
      leader, ConfChangeRequest(raft::ConfChangeType::kRemoveVoter, leader == 3 ? 2 : 3));
  const uint64_t second =
      driver.SubmitAsync(leader, ConfChangeRequest(raft::ConfChangeType::kAddLearner, 4));
  ASSERT_NE(driver.ReplyFor(second), nullptr);
  EXPECT_EQ(driver.ReplyFor(second)->status, ReplyStatus::kFailed);
  EXPECT_NE(driver.ReplyFor(second)->detail.find("pending"), std::string::npos)
      << driver.ReplyFor(second)->detail;
  EXPECT_EQ(driver.ReplyFor(first), nullptr) << "the first waits for its commit";
  driver.isolated_.clear();
  EXPECT_EQ(driver.host(leader).Status(kGroup).conf_state.voters, before.voters);
}

}  // namespace
}  // namespace ekv::node

namespace ekv::node {
namespace {

// A change the applied configuration already shows is answered kOk without a proposal, so
// a caller that cannot see the configuration may repeat it: adding a voter as a learner
// again must not demote it (replica moves, core/coord/replica_mover.cc).
TEST(NodeHostConfChangeTest, AChangeAlreadyMadeIsAnsweredWithoutDemotingAVoter) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 3 ? 2 : 3;
  const uint64_t last = driver.host(leader).Status(kGroup).last_index;
  for (raft::ConfChangeType type :
       {raft::ConfChangeType::kAddLearner, raft::ConfChangeType::kAddVoter}) {
    ClientReply reply = driver.Submit(leader, ConfChangeRequest(type, follower));
    EXPECT_EQ(reply.status, ReplyStatus::kOk) << reply.detail;
    EXPECT_NE(reply.detail.find("already"), std::string::npos) << reply.detail;
  }
  ClientReply absent =
      driver.Submit(leader, ConfChangeRequest(raft::ConfChangeType::kRemoveVoter, 9));
  EXPECT_EQ(absent.status, ReplyStatus::kOk) << absent.detail;
  EXPECT_EQ(driver.host(leader).Status(kGroup).last_index, last) << "nothing was proposed";
  EXPECT_TRUE(Has(driver.host(leader).Status(kGroup).conf_state.voters, follower));
}

// kReplicaStatus: any replica answers at once with its own applied and commit index.
TEST(NodeHostConfChangeTest, EveryReplicaAnswersItsOwnProgress) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  for (raft::NodeId node : {raft::NodeId{1}, raft::NodeId{2}, raft::NodeId{3}}) {
    ClientReply reply =
        driver.Submit(node, ClientRequest{0, kGroup, OpKind::kReplicaStatus, "", "", std::nullopt});
    EXPECT_EQ(reply.status, ReplyStatus::kOk) << "n" << node << ": " << reply.detail;
    EXPECT_EQ(reply.index, driver.host(node).Status(kGroup).applied) << "n" << node;
    EXPECT_GE(reply.timestamp, reply.index) << "n" << node;
    EXPECT_EQ(reply.leader_hint, leader) << "n" << node;
    // The configuration it applied: the three voters, no learner.
    ASSERT_TRUE(reply.value.has_value()) << "n" << node;
    absl::StatusOr<raft::ConfChange> roles = raft::DecodeConfChange(*reply.value);
    ASSERT_TRUE(roles.ok()) << roles.status();
    ASSERT_EQ(roles->changes.size(), 3u) << raft::DescribeConfChange(*roles);
    for (const raft::ConfChangeSingle& role : roles->changes) {
      EXPECT_EQ(role.type, raft::ConfChangeType::kAddVoter) << raft::DescribeConfChange(*roles);
    }
  }
}

TEST(NodeHostTest, ARemovedGroupAnswersItsClientsAndIgnoresLateInputs) {
  Driver driver(3, /*snapshot_interval=*/0, /*server_groups=*/false, /*serve_on_followers=*/true);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 3 ? 2 : 3;
  ASSERT_EQ(driver.Submit(follower, Put("warm", "1")).status, ReplyStatus::kOk);
  driver.isolated_.insert(follower);
  const uint64_t request = driver.SubmitAsync(follower, Put("pending", "1"));
  ASSERT_EQ(driver.ReplyFor(request), nullptr);

  ASSERT_TRUE(driver.host(follower).RemoveGroup(kGroup).ok());
  EXPECT_FALSE(driver.host(follower).HasGroup(kGroup));
  EXPECT_EQ(driver.host(follower).RemoveGroup(kGroup).code(), absl::StatusCode::kNotFound);
  driver.Pump();
  ASSERT_NE(driver.ReplyFor(request), nullptr);
  EXPECT_EQ(driver.ReplyFor(request)->status, ReplyStatus::kUnknown);
  // A persist report of the old replica and the other replicas' messages change nothing.
  driver.host(follower).OnPersisted(kGroup, 12345);
  driver.isolated_.clear();
  driver.TickAll(20);
  EXPECT_FALSE(driver.host(follower).HasGroup(kGroup));
  // The other two still make a quorum of the three.
  const raft::NodeId now_leader = driver.Leader();
  ASSERT_NE(now_leader, raft::kNoNode);
  ASSERT_NE(now_leader, follower);
  EXPECT_EQ(driver.Submit(now_leader, Put("after", "1")).status, ReplyStatus::kOk);
}

}  // namespace
}  // namespace ekv::node
