// The coordinator's replica move (StartMoveReplica, core/coord/replica_mover.cc) against
// another move to the same target, driven by a fake driver: the catalog group is the
// server's GroupStateMachine (every call applied at once), the created group is only its
// Raft configuration, changed as NodeHost changes it (a change already made is answered
// without applying it again), and every replica answers kReplicaStatus as caught up. The
// other move is the test's: it writes straight to the catalog and the configuration at the
// moment the simulator's did (append seed 19 with --replica_moves).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/coord/coordinator.h"
#include "core/kv/memory_engine.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/raft/confchange.h"
#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ekv::coord {
namespace {

constexpr raft::NodeId kNode = 1;
constexpr raft::GroupId kCatalogGroup = 1;
constexpr raft::GroupId kCreated = 3;

route::RouteCatalog Bootstrap() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EKV_ASSERT(catalog.ok(), "the demo catalog is valid");
  return *catalog;
}

class FakeDriver : public GroupView {
 public:
  // Members 1..5; group kCreated created on `voters`, which are its configuration's voters.
  explicit FakeDriver(const std::vector<uint64_t>& voters) : bootstrap_(Bootstrap()) {
    catalog_ = std::make_unique<node::GroupStateMachine>(kCatalogGroup, bootstrap_, bootstrap_,
                                                         std::make_unique<kv::MemoryEngine>());
    CatalogOk(route::CreateGroup{Catalog().version(), kCreated, voters});
    conf_.voters = voters;
    CoordinatorOptions options;
    options.node_id = kNode;
    options.request_timeout_us = 1'000'000;
    options.attempt_timeout_us = 200'000;
    options.move_timeout_us = 5'000'000;
    coordinator_ = std::make_unique<Coordinator>(options, this);
    coordinator_->SetTime(now_us_, wall_ms());
    coordinator_->OnCatalog(Catalog());
  }

  bool Hosts(raft::GroupId group) const override {
    return group == kCatalogGroup || group == kCreated;
  }
  raft::NodeId LeaderOf(raft::GroupId group) const override {
    return Hosts(group) ? kNode : raft::kNoNode;
  }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override {
    raft::ConfState catalog_conf;
    catalog_conf.voters = {1, 2, 3, 4, 5};  // every member votes in the catalog group
    return {{kCatalogGroup, catalog_conf}, {kCreated, conf_}};
  }

  const route::RouteCatalog& Catalog() const { return *catalog_->catalog(); }
  std::vector<uint64_t> Replicas() const { return Catalog().FindGroup(kCreated)->Replicas(); }
  const raft::ConfState& conf() const { return conf_; }
  int keep_voters_refusals() const { return keep_voters_refusals_; }

  // A catalog command applied as another coordinator's would be; must apply.
  void CatalogOk(decltype(route::CatalogCommand::op) op) {
    route::CatalogCommand command;
    command.op = std::move(op);
    node::GroupCommand group_command;
    group_command.op = node::GroupCommandOp::kCatalog;
    group_command.physical_ms = wall_ms();
    group_command.payload = command.Encode();
    absl::StatusOr<node::GroupResult> result =
        node::DecodeGroupResult(Apply(node::EncodeGroupCommand(group_command)).value.value_or(""));
    ASSERT_TRUE(result.ok() && result->status().ok())
        << (result.ok() ? result->status() : result.status());
  }
  // Another move removing `node` from the created group: step 5, then step 6 (unguarded,
  // as a coordinator of an older release removes it).
  void OtherMoveRemoves(raft::NodeId node) {
    OtherMoveConfRemoves(node);
    OtherMoveCatalogRemoves(node);
  }
  void OtherMoveConfRemoves(raft::NodeId node) {
    ChangeConf({raft::ConfChangeType::kRemoveVoter, node});
  }
  void OtherMoveCatalogRemoves(raft::NodeId node) {
    CatalogOk(route::ChangeGroupReplica{Catalog().version(), kCreated, node,
                                        route::ReplicaChange::kRemove});
  }

  // Runs `hook` on each request just before it is delivered (the other move's moment).
  void set_before_delivery(std::function<void(const node::ClientRequest&)> hook) {
    before_delivery_ = std::move(hook);
  }

  OpResult Run(const std::function<OpId(Coordinator&)>& start) {
    coordinator_->SetTime(now_us_, wall_ms());
    const OpId op = start(*coordinator_);
    std::vector<GroupCall> pending;
    for (int guard = 0; guard < 100'000; ++guard) {
      Effects effects = coordinator_->TakeEffects();
      for (OpDone& done : effects.done) {
        if (done.op == op) return std::move(done.result);
      }
      for (const TimerRequest& timer : effects.timers) timers_.emplace(timer.at_us, timer.timer);
      pending.insert(pending.end(), effects.calls.begin(), effects.calls.end());
      if (!pending.empty()) {
        const GroupCall call = pending.front();
        pending.erase(pending.begin());
        now_us_ += 100;
        coordinator_->SetTime(now_us_, wall_ms());
        if (before_delivery_) before_delivery_(call.request);
        coordinator_->OnCallReply(call.call, Execute(call.request));
        continue;
      }
      EKV_ASSERT(!timers_.empty(), "an operation without an answer waits for a timer");
      auto next = timers_.begin();
      now_us_ = std::max(now_us_, next->first);
      const TimerId timer = next->second;
      timers_.erase(next);
      coordinator_->SetTime(now_us_, wall_ms());
      coordinator_->OnTimer(timer);
    }
    ADD_FAILURE() << "operation did not finish";
    return OpResult{};
  }

 private:
  uint64_t wall_ms() const { return 1'000'000 + now_us_ / 1000; }

  node::ApplyResult Apply(const std::string& bytes) {
    node::Command command;
    command.kind = node::OpKind::kApply;
    command.value = bytes;
    return catalog_->Apply(catalog_->applied_index() + 1, command);
  }

  // As NodeHost: a single change the configuration already shows is answered, not made.
  std::string ChangeConf(const raft::ConfChangeSingle& change) {
    auto in = [&](const std::vector<raft::NodeId>& ids) {
      return std::find(ids.begin(), ids.end(), change.node) != ids.end();
    };
    const bool voter = in(conf_.voters);
    const bool member = voter || in(conf_.learners);
    auto erase = [&](std::vector<raft::NodeId>& ids) {
      ids.erase(std::remove(ids.begin(), ids.end(), change.node), ids.end());
    };
    auto insert = [&](std::vector<raft::NodeId>& ids) {
      ids.push_back(change.node);
      std::sort(ids.begin(), ids.end());
    };
    switch (change.type) {
      case raft::ConfChangeType::kAddLearner:
        if (member) return "already in the configuration";
        insert(conf_.learners);
        break;
      case raft::ConfChangeType::kAddVoter:
        if (voter) return "already in the configuration";
        erase(conf_.learners);
        insert(conf_.voters);
        break;
      case raft::ConfChangeType::kRemoveVoter:
        if (!member) return "already in the configuration";
        erase(conf_.learners);
        erase(conf_.voters);
        break;
    }
    ++log_index_;
    return "";
  }

  node::ClientReply Execute(const node::ClientRequest& request) {
    node::ClientReply reply;
    reply.request_id = request.request_id;
    reply.group = request.group;
    reply.status = node::ReplyStatus::kOk;
    reply.leader_hint = kNode;
    if (request.group == kCatalogGroup) {
      if (request.kind == node::OpKind::kQuery) {
        reply.value = catalog_->Query(request.value);
      } else {
        EKV_ASSERT(request.kind == node::OpKind::kApply, "unexpected catalog request");
        reply.value = Apply(request.value).value;
      }
      reply.index = catalog_->applied_index();
      return reply;
    }
    EKV_ASSERT(request.group == kCreated, "unexpected group");
    if (request.kind == node::OpKind::kConfChange) {
      absl::StatusOr<raft::ConfChange> change = raft::DecodeConfChange(request.value);
      EKV_ASSERT(change.ok() && change->changes.size() == 1, "one change at a time");
      if (std::optional<std::vector<raft::NodeId>> keep = node::DecodeKeepVoters(change->context)) {
        // As NodeHost: every node named votes and stays a voter, or nothing is proposed.
        const raft::ConfChangeSingle& single = change->changes.front();
        for (raft::NodeId node : *keep) {
          const bool voter =
              std::find(conf_.voters.begin(), conf_.voters.end(), node) != conf_.voters.end();
          if (!voter || (single.node == node && single.type != raft::ConfChangeType::kAddVoter)) {
            ++keep_voters_refusals_;
            reply.value = std::string(node::kKeepVotersRefused);
            reply.index = log_index_;
            return reply;
          }
        }
      }
      reply.detail = ChangeConf(change->changes.front());
      reply.index = log_index_;
      return reply;
    }
    EKV_ASSERT(request.kind == node::OpKind::kReplicaStatus, "unexpected request kind");
    raft::ConfChange roles;
    for (raft::NodeId voter : conf_.voters)
      roles.changes.push_back({raft::ConfChangeType::kAddVoter, voter});
    for (raft::NodeId learner : conf_.learners) {
      roles.changes.push_back({raft::ConfChangeType::kAddLearner, learner});
    }
    reply.value = raft::EncodeConfChange(roles);
    reply.index = log_index_;  // applied everything: caught up
    reply.timestamp = log_index_;
    return reply;
  }

  route::RouteCatalog bootstrap_;
  std::unique_ptr<node::GroupStateMachine> catalog_;
  raft::ConfState conf_;
  raft::Index log_index_ = 1;
  int keep_voters_refusals_ = 0;
  std::unique_ptr<Coordinator> coordinator_;
  std::multimap<uint64_t, TimerId> timers_;
  std::function<void(const node::ClientRequest&)> before_delivery_;
  uint64_t now_us_ = 0;
};

bool IsCatalogRemovalOf(const node::ClientRequest& request, raft::NodeId node) {
  if (request.group != kCatalogGroup || request.kind != node::OpKind::kApply) return false;
  absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(request.value);
  if (!command.ok() || command->op != node::GroupCommandOp::kCatalog) return false;
  absl::StatusOr<route::CatalogCommand> catalog = route::CatalogCommand::Decode(command->payload);
  if (!catalog.ok()) return false;
  const auto* change = std::get_if<route::ChangeGroupReplica>(&catalog->op);
  return change != nullptr && change->node == node &&
         change->change == route::ReplicaChange::kRemove;
}

OpId Move(Coordinator& c, raft::NodeId from, raft::NodeId to) {
  MoveReplicaSpec spec;
  spec.group = kCreated;
  spec.from = from;
  spec.to = to;
  return c.StartMoveReplica(spec);
}

// Simulator append seed 19: a drain's move 1->5 added n5; a move 3->5 found n5 hosting the
// group with four replicas, one to spare, and removed n3; both had taken their source out of
// the configuration on the same catalog before the drain's catalog removal lost the race.
// Before the fix the drain's move went on and removed n1 too: the group was left on n4, n5.
TEST(ReplicaMoverTest, TwoMovesToOneTargetLeaveTheGroupItsReplicaCount) {
  FakeDriver driver({1, 3, 4});
  bool raced = false;
  driver.set_before_delivery([&](const node::ClientRequest& request) {
    // The drain's step 5 (n1 out of the configuration) is done; its step 6 is on its way.
    if (raced || !IsCatalogRemovalOf(request, 1)) return;
    raced = true;
    driver.OtherMoveRemoves(3);
  });
  const OpResult result = driver.Run([](Coordinator& c) { return Move(c, 1, 5); });
  ASSERT_TRUE(raced);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kFailedPrecondition) << result.status;
  EXPECT_THAT(std::string(result.status.message()), ::testing::HasSubstr("would leave 2 replicas"));
  EXPECT_EQ(driver.Replicas(), (std::vector<uint64_t>{1, 4, 5}));
  // n1 votes again: the configuration agrees with the catalog.
  EXPECT_EQ(driver.conf().voters, (std::vector<raft::NodeId>{1, 4, 5}))
      << absl::StrJoin(driver.conf().voters, ",");
  EXPECT_TRUE(driver.conf().learners.empty());
}

// The same race against a leader that checks step 5's guard (node::EncodeKeepVoters): the
// other move took n3 out of the configuration and has yet to record it in the catalog when
// this move's removal of n1 arrives, naming n3 among the replicas that stay. The leader
// refuses it, the move goes round, and once the catalog shows n3 removed it is refused
// with n1 never out. Before the guard n1 left the configuration too: voters 4,5.
TEST(ReplicaMoverTest, TheLeaderRefusesASecondRemovalOnTheStrengthOfOneSpareReplica) {
  FakeDriver driver({1, 3, 4});
  bool conf_raced = false;
  bool catalog_raced = false;
  driver.set_before_delivery([&](const node::ClientRequest& request) {
    if (!conf_raced && request.kind == node::OpKind::kConfChange) {
      absl::StatusOr<raft::ConfChange> change = raft::DecodeConfChange(request.value);
      if (change.ok() && change->changes.front().type == raft::ConfChangeType::kRemoveVoter) {
        conf_raced = true;  // the other move's step 5, just before this one's
        driver.OtherMoveConfRemoves(3);
      }
      return;
    }
    if (conf_raced && !catalog_raced && request.group == kCatalogGroup &&
        request.kind == node::OpKind::kQuery) {
      catalog_raced = true;  // the other move's step 6, before this move reads again
      driver.OtherMoveCatalogRemoves(3);
    }
  });
  const OpResult result = driver.Run([](Coordinator& c) { return Move(c, 1, 5); });
  ASSERT_TRUE(conf_raced && catalog_raced);
  EXPECT_GE(driver.keep_voters_refusals(), 1);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kFailedPrecondition) << result.status;
  EXPECT_EQ(driver.Replicas(), (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_EQ(driver.conf().voters, (std::vector<raft::NodeId>{1, 4, 5}))
      << absl::StrJoin(driver.conf().voters, ",");
}

// The other move finished while this one promoted its target (step 4): the next catalog
// read shows the spare replica gone, so the move is refused before its source leaves.
TEST(ReplicaMoverTest, AMoveWhoseAddedReplicaWasTakenKeepsItsSource) {
  FakeDriver driver({1, 3, 4});
  bool raced = false;
  driver.set_before_delivery([&](const node::ClientRequest& request) {
    if (raced || request.kind != node::OpKind::kConfChange) return;
    absl::StatusOr<raft::ConfChange> change = raft::DecodeConfChange(request.value);
    if (!change.ok() || change->changes.front().type != raft::ConfChangeType::kAddVoter) return;
    raced = true;
    driver.OtherMoveRemoves(3);
  });
  const OpResult result = driver.Run([](Coordinator& c) { return Move(c, 1, 5); });
  ASSERT_TRUE(raced);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kFailedPrecondition) << result.status;
  EXPECT_THAT(std::string(result.status.message()),
              ::testing::HasSubstr("another change took a replica"));
  EXPECT_EQ(driver.Replicas(), (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_EQ(driver.conf().voters, (std::vector<raft::NodeId>{1, 4, 5}))
      << absl::StrJoin(driver.conf().voters, ",");
}

// The group lost a replica some other way (a broken node removed without a target) right
// as this move began: refused too, but only once its target votes, since the catalog keeps
// it as a replica.
TEST(ReplicaMoverTest, AMoveRefusedForAReplicaLostElsewhereLeavesItsTargetVoting) {
  FakeDriver driver({1, 3, 4});
  bool raced = false;
  driver.set_before_delivery([&](const node::ClientRequest& request) {
    if (raced || request.group != kCatalogGroup || request.kind != node::OpKind::kApply) return;
    raced = true;  // this move's step 1 (n5 joins), refused for the version it now misses
    driver.OtherMoveRemoves(3);
  });
  const OpResult result = driver.Run([](Coordinator& c) { return Move(c, 1, 5); });
  ASSERT_TRUE(raced);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kFailedPrecondition) << result.status;
  EXPECT_EQ(driver.Replicas(), (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_EQ(driver.conf().voters, (std::vector<raft::NodeId>{1, 4, 5}))
      << absl::StrJoin(driver.conf().voters, ",");
  EXPECT_TRUE(driver.conf().learners.empty());
}

// A group already short of its created count (a broken node removed without a target)
// still moves a replica: the move replaces one, the count stays what it was.
TEST(ReplicaMoverTest, AMoveInAGroupAlreadyShortStillFinishes) {
  FakeDriver driver({1, 3, 4});
  driver.OtherMoveRemoves(3);
  const OpResult result = driver.Run([](Coordinator& c) { return Move(c, 1, 5); });
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(driver.Replicas(), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(driver.conf().voters, (std::vector<raft::NodeId>{4, 5}));
}

// Without a race a move finishes: the target votes, the source is gone from both records.
TEST(ReplicaMoverTest, AMoveWithoutARaceFinishes) {
  FakeDriver driver({1, 3, 4});
  const OpResult result = driver.Run([](Coordinator& c) { return Move(c, 1, 5); });
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(driver.Replicas(), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(driver.conf().voters, (std::vector<raft::NodeId>{3, 4, 5}));
}

}  // namespace
}  // namespace ekv::coord
