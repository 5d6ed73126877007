// An in-process two-group environment for driving TxnCoordinator effects in tests: each
// group is a KvStateMachine on a MemoryEngine (Raft replication is abstracted away:
// applying a proposal = it committed at the group's next log index), keys below "m"
// live in group 1 and the rest in group 2, and one counter stands in for the timestamp
// oracle.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/kv/kv_state_machine.h"
#include "core/kv/memory_engine.h"
#include "core/kv/txn_coordinator.h"
#include "gtest/gtest.h"

namespace ekv::kv::testing {

struct TestGroup {
  MemoryEngine engine;
  KvStateMachine sm{&engine};
  uint64_t index = 0;
  KvApplyResult Apply(const KvCommand& command) { return sm.Apply(++index, command); }
};

class TxnTestCluster {
 public:
  static GroupId Route(absl::string_view key) { return key < absl::string_view("m") ? 1 : 2; }

  TxnTestCluster() {
    groups_[1] = std::make_unique<TestGroup>();
    groups_[2] = std::make_unique<TestGroup>();
  }

  TestGroup& group(GroupId id) { return *groups_.at(id); }
  TestGroup& group_of(absl::string_view key) { return group(Route(key)); }

  uint64_t now_ms() const { return now_ms_; }
  void AdvanceMs(uint64_t ms) {
    now_ms_ += ms;
    logical_ = 0;
  }
  Timestamp NextTs() { return MakeTimestamp(now_ms_, ++logical_); }

  // Moves the coordinator's effects into the pending queue and the outcome list.
  // Commit timestamp requests are answered at once if `answer_ts`, else queued in
  // ts_requests for the test to answer.
  void Absorb(TxnCoordinator& coordinator, bool answer_ts = false) {
    while (true) {
      CoordinatorEffects effects = coordinator.TakeEffects();
      if (effects.empty()) return;
      for (TxnProposal& p : effects.proposals) pending.push_back(std::move(p));
      for (TxnOutcome& o : effects.outcomes) outcomes.push_back(std::move(o));
      for (TxnId id : effects.commit_ts_requests) {
        if (answer_ts) {
          coordinator.ProvideCommitTs(id, NextTs());
        } else {
          ts_requests.push_back(id);
        }
      }
    }
  }

  // Applies the pending proposal at `position` to its group and feeds the result back.
  KvApplyResult Deliver(TxnCoordinator& coordinator, size_t position = 0) {
    EXPECT_LT(position, pending.size());
    TxnProposal proposal = std::move(pending[position]);
    pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(position));
    applied.push_back(proposal);
    KvApplyResult result = group(proposal.group).Apply(proposal.command);
    coordinator.OnProposalResult(proposal.proposal_id, result);
    Absorb(coordinator);
    return result;
  }

  // Delivers everything in order, answering commit_ts requests, until the coordinator
  // is quiet. Requests already queued in ts_requests are answered first.
  // A resolver (answer_ts false) leaves another coordinator's queued requests alone.
  void Pump(TxnCoordinator& coordinator, bool answer_ts = true) {
    if (answer_ts) AnswerTs(coordinator);
    Absorb(coordinator, answer_ts);
    while (!pending.empty()) {
      Deliver(coordinator);
      Absorb(coordinator, answer_ts);
    }
  }

  // Answers every queued commit_ts request.
  void AnswerTs(TxnCoordinator& coordinator) {
    for (TxnId id : ts_requests) coordinator.ProvideCommitTs(id, NextTs());
    ts_requests.clear();
    Absorb(coordinator);
  }

  // A snapshot read of `key` at read_ts on its group.
  KvQueryResult Read(absl::string_view key, Timestamp read_ts) {
    return group_of(key).sm.Query(KvQuery::Get(std::string(key), read_ts));
  }

  std::deque<TxnProposal> pending;
  std::vector<TxnProposal> applied;
  std::vector<TxnOutcome> outcomes;
  std::vector<TxnId> ts_requests;

 private:
  std::map<GroupId, std::unique_ptr<TestGroup>> groups_;
  uint64_t now_ms_ = 1'000'000;
  uint64_t logical_ = 0;
};

}  // namespace ekv::kv::testing
