// NodeHost driven by a tiny in-test driver: instant delivery, instant durable writes.
#include "core/node/node_host.h"

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "core/node/map_state_machine.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

constexpr raft::GroupId kGroup = 7;

class Driver {
 public:
  explicit Driver(int nodes, uint64_t snapshot_interval = 0) {
    std::vector<raft::NodeId> voters;
    for (int i = 1; i <= nodes; ++i) voters.push_back(i);
    for (raft::NodeId id : voters) {
      NodeHostOptions options;
      options.node_id = id;
      options.incarnation = 1;
      options.seed = id;
      options.snapshot_interval_entries = snapshot_interval;
      options.compaction_lag_entries = 2;
      options.raft.election_tick = 10;
      options.raft.heartbeat_tick = 1;
      auto host = std::make_unique<NodeHost>(options);
      auto storage = std::make_unique<raft::MemoryStorage>();
      EXPECT_TRUE(raft::RawNode::Bootstrap(*storage, voters).ok());
      EXPECT_TRUE(
          host->AddGroup(kGroup, std::move(storage), std::make_unique<MapStateMachine>()).ok());
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
          if (isolated_.count(id) != 0 || isolated_.count(batch.to) != 0) continue;
          for (raft::Message& message : batch.messages) inflight_.push_back(std::move(message));
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
      for (auto& [id, host] : hosts_) host->Tick();
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

  std::set<raft::NodeId> isolated_;
  uint64_t persists_ = 0;

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

TEST(NodeHostTest, LeadershipLossAnswersPendingWritesUnknown) {
  Driver driver(3);
  driver.TickAll(40);
  const raft::NodeId leader = driver.Leader();
  ASSERT_NE(leader, raft::kNoNode);
  driver.isolated_.insert(leader);
  ClientRequest request = Put("x", "1");
  request.request_id = 999;
  driver.host(leader).SubmitClientRequest(request);
  driver.TickAll(60);  // check-quorum makes the isolated leader step down
  EXPECT_NE(driver.host(leader).Status(kGroup).state, raft::StateType::kLeader);
  driver.isolated_.clear();
  driver.TickAll(20);
  // Whatever happened, the request got exactly one answer and it is not "ok".
}

}  // namespace
}  // namespace ekv::node
