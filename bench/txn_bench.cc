// Transactions per second through TxnCoordinator and KvStateMachines in-process (no
// Raft, no I/O): a 1-group transaction takes the one-phase path (one command), a 2-group
// transaction full Percolator 2PC (two prewrites, primary commit, secondary commit).
// Each transaction writes `keys` keys chosen from a 10,000-key space, so conflicts are
// rare and the cost measured is the protocol's, on the memory engine.
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/memory_engine.h"
#include "core/kv/txn_coordinator.h"
#include "core/util/rng.h"

namespace ekv::kv {
namespace {

constexpr int kKeySpace = 10'000;

class InProcessGroups {
 public:
  explicit InProcessGroups(int groups) {
    for (int g = 1; g <= groups; ++g) groups_[g] = std::make_unique<Group>();
  }

  // Runs one transaction to completion; returns whether it committed.
  bool Run(TxnCoordinator& coordinator, std::vector<Mutation> mutations) {
    absl::StatusOr<TxnId> id = coordinator.Begin(std::move(mutations), ++ts_);
    if (!id.ok()) return false;
    bool committed = false;
    std::deque<TxnProposal> pending;
    while (true) {
      CoordinatorEffects effects = coordinator.TakeEffects();
      for (TxnProposal& p : effects.proposals) pending.push_back(std::move(p));
      for (const TxnOutcome& o : effects.outcomes) committed = o.status.ok();
      for (TxnId txn : effects.commit_ts_requests) coordinator.ProvideCommitTs(txn, ++ts_);
      if (!effects.commit_ts_requests.empty()) continue;
      if (pending.empty()) break;
      TxnProposal proposal = std::move(pending.front());
      pending.pop_front();
      Group& group = *groups_.at(proposal.group);
      coordinator.OnProposalResult(proposal.proposal_id,
                                   group.sm.Apply(++group.index, proposal.command));
    }
    return committed;
  }

 private:
  struct Group {
    MemoryEngine engine;
    KvStateMachine sm{&engine};
    uint64_t index = 0;
  };
  std::map<GroupId, std::unique_ptr<Group>> groups_;
  Timestamp ts_ = MakeTimestamp(1'000'000, 0);
};

// Keys "a<n>" live in group 1, "n<n>" in group 2.
GroupId Route(absl::string_view key) { return key < absl::string_view("m") ? 1 : 2; }

void RunTransactions(benchmark::State& state, int groups) {
  const int keys_per_txn = static_cast<int>(state.range(0));
  InProcessGroups cluster(groups);
  TxnCoordinator coordinator(TxnCoordinatorOptions{}, &Route);
  Rng rng(1);
  const std::string value(64, 'v');
  int64_t committed = 0;
  for (auto _ : state) {
    std::vector<Mutation> mutations;
    for (int i = 0; i < keys_per_txn; ++i) {
      // Alternate groups when there are two, so every transaction spans both.
      const char* prefix = (groups == 2 && i % 2 == 1) ? "n" : "a";
      mutations.push_back(
          Mutation::Put(absl::StrCat(prefix, i, "-", rng.Uniform(kKeySpace)), value));
    }
    committed += cluster.Run(coordinator, std::move(mutations));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["committed_ratio"] =
      static_cast<double>(committed) / static_cast<double>(state.iterations());
}

void BM_OneGroupOnePhaseCommit(benchmark::State& state) { RunTransactions(state, 1); }
void BM_TwoGroupTwoPhaseCommit(benchmark::State& state) { RunTransactions(state, 2); }

BENCHMARK(BM_OneGroupOnePhaseCommit)->Arg(2)->Arg(8);
BENCHMARK(BM_TwoGroupTwoPhaseCommit)->Arg(2)->Arg(8);

}  // namespace
}  // namespace ekv::kv
