// Where the coordinator sends one group request: its own node's replica first (which
// forwards to the leader through Raft), and the leader's node once that replica gave a
// read nothing: a replica stuck catching up must not hold a read until its deadline.
// Driven by a fake driver that records each call's target and answers as a test says.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/coord/coordinator.h"
#include "core/node/group_protocol.h"
#include "gtest/gtest.h"

namespace ekv::coord {
namespace {

constexpr raft::NodeId kSelf = 1;
constexpr raft::NodeId kLeader = 2;
constexpr raft::GroupId kGroup = 2;

// What the fake node does with a call that reaches it.
enum class Answer { kOk, kNothing, kReadTimedOut, kProposalDropped };

class RoutingDriver : public GroupView {
 public:
  RoutingDriver() {
    CoordinatorOptions options;
    options.node_id = kSelf;
    options.request_timeout_us = 10'000'000;
    options.attempt_timeout_us = 1'000'000;
    options.seed = 7;
    coordinator_ = std::make_unique<Coordinator>(options, this);
    coordinator_->SetTime(now_us_, 1'000'000);
  }

  bool Hosts(raft::GroupId group) const override { return group == kGroup; }
  raft::NodeId LeaderOf(raft::GroupId group) const override {
    return group == kGroup ? kLeader : raft::kNoNode;
  }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override { return {}; }

  // How node `n` answers its k-th call (0-based); unset: kOk.
  std::function<Answer(raft::NodeId n, int k)> answer;
  // The node each call went to, in order.
  std::vector<raft::NodeId> targets;

  OpResult Run(const std::function<OpId(Coordinator&)>& start) {
    const OpId op = start(*coordinator_);
    std::multimap<uint64_t, TimerId> timers;
    std::map<raft::NodeId, int> calls_to;
    for (int guard = 0; guard < 10'000; ++guard) {
      Effects effects = coordinator_->TakeEffects();
      for (OpDone& done : effects.done) {
        if (done.op == op) return std::move(done.result);
      }
      for (const TimerRequest& timer : effects.timers) timers.emplace(timer.at_us, timer.timer);
      if (!effects.calls.empty()) {
        for (const GroupCall& call : effects.calls) {
          targets.push_back(call.node);
          now_us_ += 100;
          coordinator_->SetTime(now_us_, 1'000'000 + now_us_ / 1000);
          Reply(call, answer ? answer(call.node, calls_to[call.node]++) : Answer::kOk);
        }
        continue;
      }
      EXPECT_FALSE(timers.empty()) << "an operation without an answer waits for a timer";
      if (timers.empty()) break;
      auto next = timers.begin();
      now_us_ = std::max(now_us_, next->first);
      const TimerId timer = next->second;
      timers.erase(next);
      coordinator_->SetTime(now_us_, 1'000'000 + now_us_ / 1000);
      coordinator_->OnTimer(timer);
    }
    ADD_FAILURE() << "operation did not finish";
    return OpResult{};
  }

 private:
  void Reply(const GroupCall& call, Answer how) {
    node::ClientReply reply;
    reply.group = call.request.group;
    switch (how) {
      case Answer::kNothing:
        return;
      case Answer::kReadTimedOut:
        reply.status = node::ReplyStatus::kFailed;
        reply.detail = "read timed out waiting for a read index from the leader";
        break;
      case Answer::kProposalDropped:
        reply.status = node::ReplyStatus::kFailed;
        reply.detail = "proposal dropped: no leader";
        break;
      case Answer::kOk: {
        reply.status = node::ReplyStatus::kOk;
        node::GroupResult result;
        result.message = "answered";
        reply.value = node::EncodeGroupResult(result);
        break;
      }
    }
    coordinator_->OnCallReply(call.call, reply);
  }

  std::unique_ptr<Coordinator> coordinator_;
  uint64_t now_us_ = 1'000'000;
};

node::GroupQuery AnyQuery() {
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kCatalog;
  return query;
}

node::GroupCommand AnyCommand() {
  node::GroupCommand command;
  command.op = node::GroupCommandOp::kKv;
  command.payload = "x";
  return command;
}

TEST(CoordinatorRoutingTest, AReadGoesToTheOwnReplicaFirst) {
  RoutingDriver driver;
  OpResult result =
      driver.Run([](Coordinator& c) { return c.StartGroupQuery(kGroup, AnyQuery()); });
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(driver.targets, std::vector<raft::NodeId>({kSelf}));
}

TEST(CoordinatorRoutingTest, AReadTheOwnReplicaNeverAnswersIsAskedOfTheLeaderNext) {
  RoutingDriver driver;
  driver.answer = [](raft::NodeId n, int) { return n == kSelf ? Answer::kNothing : Answer::kOk; };
  OpResult result =
      driver.Run([](Coordinator& c) { return c.StartGroupQuery(kGroup, AnyQuery()); });
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(driver.targets, std::vector<raft::NodeId>({kSelf, kLeader}));
}

TEST(CoordinatorRoutingTest, AReadTheOwnReplicaGaveUpIsAskedOfTheLeaderNext) {
  RoutingDriver driver;
  driver.answer = [](raft::NodeId n, int) {
    return n == kSelf ? Answer::kReadTimedOut : Answer::kOk;
  };
  OpResult result =
      driver.Run([](Coordinator& c) { return c.StartGroupQuery(kGroup, AnyQuery()); });
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(driver.targets, std::vector<raft::NodeId>({kSelf, kLeader}));
}

TEST(CoordinatorRoutingTest, AfterTheLeaderAlsoFailsTheOwnReplicaIsTriedAgain) {
  RoutingDriver driver;
  driver.answer = [](raft::NodeId n, int k) {
    if (n == kSelf) return k == 0 ? Answer::kReadTimedOut : Answer::kOk;
    return Answer::kReadTimedOut;
  };
  OpResult result =
      driver.Run([](Coordinator& c) { return c.StartGroupQuery(kGroup, AnyQuery()); });
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(driver.targets, std::vector<raft::NodeId>({kSelf, kLeader, kSelf}));
}

TEST(CoordinatorRoutingTest, ARefusedWriteStaysWithTheOwnReplica) {
  // A dropped proposal is no sign the replica is stuck (no leader yet, a hand-over): the
  // own replica's Raft forwards the retry to whichever node leads by then.
  RoutingDriver driver;
  driver.answer = [](raft::NodeId n, int k) {
    return n == kSelf && k == 0 ? Answer::kProposalDropped : Answer::kOk;
  };
  OpResult result =
      driver.Run([](Coordinator& c) { return c.StartGroupCommand(kGroup, AnyCommand()); });
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(driver.targets, std::vector<raft::NodeId>({kSelf, kSelf}));
}

}  // namespace
}  // namespace ekv::coord
