#include "core/kv/txn_coordinator.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::kv {

TxnCoordinator::TxnCoordinator(TxnCoordinatorOptions options, KeyRouter router)
    : options_(options), router_(std::move(router)) {
  EKV_ASSERT(router_ != nullptr, "txn coordinator needs a key router");
  EKV_ASSERT(options_.max_attempts >= 1, "txn coordinator: max_attempts must be >= 1");
  EKV_ASSERT(options_.max_mutations_per_txn <= kMaxKeysPerCommand,
             "txn coordinator: max_mutations_per_txn above kMaxKeysPerCommand");
}

absl::Status TxnCoordinator::CheckCapacity() const {
  if (txns_.size() >= options_.max_concurrent_txns) {
    return absl::ResourceExhaustedError(
        absl::StrCat("txn coordinator: ", txns_.size(),
                     " transactions in progress, the limit max_concurrent_txns is ",
                     options_.max_concurrent_txns));
  }
  return absl::OkStatus();
}

absl::StatusOr<TxnId> TxnCoordinator::Begin(std::vector<Mutation> mutations, Timestamp start_ts) {
  if (mutations.empty()) return absl::InvalidArgumentError("transaction: no mutations");
  if (mutations.size() > options_.max_mutations_per_txn) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transaction: ", mutations.size(),
        " mutations exceeds the limit max_mutations_per_txn = ", options_.max_mutations_per_txn));
  }
  if (start_ts == 0) return absl::InvalidArgumentError("transaction: start_ts must be > 0");
  std::set<absl::string_view> seen;
  for (const Mutation& m : mutations) {
    if (!seen.insert(m.key).second) {
      return absl::InvalidArgumentError("transaction: a key appears more than once");
    }
  }
  if (absl::Status capacity = CheckCapacity(); !capacity.ok()) return capacity;

  Txn txn;
  txn.id = next_txn_id_++;
  txn.start_ts = start_ts;
  txn.primary = mutations.front().key;
  txn.primary_group = router_(txn.primary);
  for (Mutation& m : mutations) {
    const GroupId group = router_(m.key);
    txn.groups[group].mutations.push_back(std::move(m));
  }
  const TxnId id = txn.id;
  Txn& stored = txns_.emplace(id, std::move(txn)).first->second;
  if (stored.groups.size() == 1) {
    if (options_.one_phase_commit_ts_at_apply) {
      stored.phase = Phase::kOnePhase;
      auto& [group, part] = *stored.groups.begin();
      Propose(stored, group, OnePhaseCommitCommand{part.mutations, stored.start_ts, 0});
      return id;
    }
    stored.phase = Phase::kAwaitOnePhaseTs;
    effects_.commit_ts_requests.push_back(id);
    return id;
  }
  stored.phase = Phase::kPrewriting;
  for (auto& [group, part] : stored.groups) {
    Propose(stored, group,
            PrewriteCommand{part.mutations, stored.primary, stored.start_ts, options_.lock_ttl_ms});
  }
  return id;
}

void TxnCoordinator::ProvideCommitTs(TxnId txn_id, Timestamp commit_ts) {
  auto it = txns_.find(txn_id);
  if (it == txns_.end()) return;
  Txn& txn = it->second;
  if (txn.phase != Phase::kAwaitOnePhaseTs && txn.phase != Phase::kAwaitCommitTs) return;
  EKV_ASSERT(commit_ts > txn.start_ts, "txn coordinator: commit_ts ", commit_ts,
             " must be > start_ts ", txn.start_ts);
  txn.commit_ts = commit_ts;
  if (txn.phase == Phase::kAwaitOnePhaseTs) {
    txn.phase = Phase::kOnePhase;
    auto& [group, part] = *txn.groups.begin();
    Propose(txn, group, OnePhaseCommitCommand{part.mutations, txn.start_ts, commit_ts});
    return;
  }
  // The commit point: the primary's group commits (atomically, with all of its keys).
  txn.phase = Phase::kCommittingPrimary;
  Propose(txn, txn.primary_group,
          CommitCommand{KeysOf(txn.groups.at(txn.primary_group)), txn.start_ts, commit_ts});
}

void TxnCoordinator::CommitTsUnavailable(TxnId txn_id) {
  auto it = txns_.find(txn_id);
  if (it == txns_.end()) return;
  Txn& txn = it->second;
  if (txn.phase != Phase::kAwaitOnePhaseTs && txn.phase != Phase::kAwaitCommitTs) return;
  TxnOutcome outcome;
  outcome.txn_id = txn.id;
  outcome.status = absl::UnavailableError("transaction aborted: no commit timestamp");
  Report(std::move(outcome));
  if (txn.phase == Phase::kAwaitOnePhaseTs) {
    Finish(txn.id);  // nothing was proposed
    return;
  }
  StartRollback(txn);
}

absl::StatusOr<TxnId> TxnCoordinator::ResolveLock(absl::string_view key, const LockRecord& lock,
                                                  uint64_t current_ms) {
  if (lock.start_ts == 0) return absl::InvalidArgumentError("resolve lock: lock has no start_ts");
  if (absl::Status capacity = CheckCapacity(); !capacity.ok()) return capacity;
  Txn txn;
  txn.id = next_txn_id_++;
  txn.phase = Phase::kResolveChecking;
  txn.start_ts = lock.start_ts;
  txn.primary = lock.primary;
  txn.primary_group = router_(lock.primary);
  txn.lock_key = std::string(key);
  txn.lock_group = router_(key);
  const TxnId id = txn.id;
  Txn& stored = txns_.emplace(id, std::move(txn)).first->second;
  Propose(stored, stored.primary_group,
          CheckTxnStatusCommand{stored.primary, stored.start_ts, current_ms});
  return id;
}

void TxnCoordinator::OnProposalResult(ProposalId proposal_id, const KvApplyResult& result) {
  auto it = in_flight_.find(proposal_id);
  if (it == in_flight_.end()) return;  // stale: the phase moved on
  const InFlight flight = std::move(it->second);
  in_flight_.erase(it);
  auto txn_it = txns_.find(flight.txn_id);
  EKV_ASSERT(txn_it != txns_.end(), "txn coordinator: in-flight proposal of a finished txn");
  HandleResult(txn_it->second, flight.group, result);
}

void TxnCoordinator::OnProposalTimeout(ProposalId proposal_id) {
  auto it = in_flight_.find(proposal_id);
  if (it == in_flight_.end()) return;
  InFlight flight = std::move(it->second);
  in_flight_.erase(it);
  auto txn_it = txns_.find(flight.txn_id);
  EKV_ASSERT(txn_it != txns_.end(), "txn coordinator: in-flight proposal of a finished txn");
  Txn& txn = txn_it->second;
  switch (txn.phase) {
    case Phase::kPrewriting: {
      // Nothing is decided yet: abort. A prewrite that lands late meets the rollback.
      TxnOutcome outcome;
      outcome.txn_id = txn.id;
      outcome.status = absl::UnavailableError("transaction aborted: a prewrite timed out");
      Report(std::move(outcome));
      StartRollback(txn);
      return;
    }
    case Phase::kOnePhase: {
      // A one-phase commit whose commit_ts the group chooses is idempotent: a retry finds
      // its own versions (committed) or its rollback records (failed) and answers the same.
      if (options_.one_phase_commit_ts_at_apply && flight.attempts < options_.max_attempts) {
        Propose(txn, flight.group, std::move(flight.command), flight.attempts + 1);
        return;
      }
      // With a pre-drawn commit_ts re-proposing could misreport: if the first attempt
      // committed and a later write overwrote a key, the retry sees a conflict. Say what
      // we know.
      TxnOutcome outcome;
      outcome.txn_id = txn.id;
      outcome.status =
          absl::UnavailableError("transaction outcome unknown: the one-phase commit timed out");
      outcome.outcome_unknown = true;
      Report(std::move(outcome));
      Finish(txn.id);
      return;
    }
    case Phase::kCommittingPrimary:
    case Phase::kCommittingSecondaries:
    case Phase::kRollingBack:
    case Phase::kResolveChecking:
    case Phase::kResolveApplying:
      // Idempotent commands, answered from the records if they already applied.
      if (flight.attempts < options_.max_attempts) {
        Propose(txn, flight.group, std::move(flight.command), flight.attempts + 1);
        return;
      }
      if (txn.phase == Phase::kCommittingPrimary) {
        TxnOutcome outcome;
        outcome.txn_id = txn.id;
        outcome.status = absl::UnavailableError(
            "transaction outcome unknown: the primary commit timed out; its lock decides");
        outcome.outcome_unknown = true;
        Report(std::move(outcome));
      } else if (txn.phase == Phase::kResolveChecking || txn.phase == Phase::kResolveApplying) {
        TxnOutcome outcome;
        outcome.txn_id = txn.id;
        outcome.status = absl::UnavailableError("lock resolution timed out");
        Report(std::move(outcome));
      }
      // Secondaries and rollbacks left behind are locks that readers resolve lazily.
      Finish(txn.id);
      return;
    case Phase::kAwaitOnePhaseTs:
    case Phase::kAwaitCommitTs:
      break;
  }
  EKV_UNREACHABLE("txn coordinator: a proposal in flight while waiting for a commit_ts");
}

void TxnCoordinator::HandleResult(Txn& txn, GroupId group, const KvApplyResult& result) {
  switch (txn.phase) {
    case Phase::kOnePhase: {
      TxnOutcome outcome;
      outcome.txn_id = txn.id;
      outcome.status = result.status;
      outcome.key_errors = result.key_errors;
      if (result.ok()) {
        outcome.commit_ts =
            options_.one_phase_commit_ts_at_apply ? result.commit_ts : txn.commit_ts;
      }
      Report(std::move(outcome));
      Finish(txn.id);
      return;
    }
    case Phase::kPrewriting: {
      if (!result.ok()) {
        TxnOutcome outcome;
        outcome.txn_id = txn.id;
        outcome.status = result.status;
        outcome.key_errors = result.key_errors;
        Report(std::move(outcome));
        StartRollback(txn);
        return;
      }
      txn.groups.at(group).acked = true;
      if (AllAcked(txn)) {
        txn.phase = Phase::kAwaitCommitTs;
        effects_.commit_ts_requests.push_back(txn.id);
      }
      return;
    }
    case Phase::kCommittingPrimary: {
      if (!result.ok()) {
        // The primary did not commit (its lock was resolved away, or the commit_ts was
        // unusable), so nothing did: roll everything back.
        TxnOutcome outcome;
        outcome.txn_id = txn.id;
        outcome.status = result.status;
        outcome.key_errors = result.key_errors;
        Report(std::move(outcome));
        StartRollback(txn);
        return;
      }
      TxnOutcome outcome;
      outcome.txn_id = txn.id;
      outcome.commit_ts = txn.commit_ts;
      Report(std::move(outcome));
      StartCommitSecondaries(txn);
      return;
    }
    case Phase::kCommittingSecondaries:
    case Phase::kRollingBack:
      // A failed secondary commit or rollback leaves work for lazy resolution; the
      // outcome is already reported either way.
      txn.groups.at(group).acked = true;
      if (AllAcked(txn)) Finish(txn.id);
      return;
    case Phase::kResolveChecking: {
      if (!result.ok()) {
        TxnOutcome outcome;
        outcome.txn_id = txn.id;
        outcome.status = result.status;
        Report(std::move(outcome));
        Finish(txn.id);
        return;
      }
      if (result.txn_status == TxnStatusKind::kLocked) {
        TxnOutcome outcome;
        outcome.txn_id = txn.id;
        outcome.txn_status = TxnStatusKind::kLocked;
        outcome.status = absl::UnavailableError(
            "lock resolution: the lock's transaction is alive; retry after its ttl");
        Report(std::move(outcome));
        Finish(txn.id);
        return;
      }
      EKV_ASSERT(result.txn_status == TxnStatusKind::kCommitted ||
                     result.txn_status == TxnStatusKind::kRolledBack,
                 "check txn status decides committed, rolled back or locked");
      txn.commit_ts = result.txn_status == TxnStatusKind::kCommitted ? result.commit_ts : 0;
      if (options_.planted_resolve_rolls_back_committed && txn.lock_key != txn.primary) {
        txn.commit_ts = 0;  // planted: roll a committed transaction's secondary back
      }
      if (txn.lock_key == txn.primary) {
        // CheckTxnStatus already settled the primary itself.
        TxnOutcome outcome;
        outcome.txn_id = txn.id;
        outcome.txn_status = result.txn_status;
        outcome.commit_ts = txn.commit_ts;
        Report(std::move(outcome));
        Finish(txn.id);
        return;
      }
      txn.phase = Phase::kResolveApplying;
      Propose(txn, txn.lock_group, ResolveLockCommand{{txn.lock_key}, txn.start_ts, txn.commit_ts});
      return;
    }
    case Phase::kResolveApplying: {
      TxnOutcome outcome;
      outcome.txn_id = txn.id;
      outcome.status = result.status;
      outcome.key_errors = result.key_errors;
      outcome.commit_ts = txn.commit_ts;
      outcome.txn_status =
          txn.commit_ts > 0 ? TxnStatusKind::kCommitted : TxnStatusKind::kRolledBack;
      Report(std::move(outcome));
      Finish(txn.id);
      return;
    }
    case Phase::kAwaitOnePhaseTs:
    case Phase::kAwaitCommitTs:
      break;
  }
  EKV_UNREACHABLE("txn coordinator: a result while waiting for a commit_ts");
}

void TxnCoordinator::StartRollback(Txn& txn) {
  DropInFlight(txn.id);
  txn.phase = Phase::kRollingBack;
  // Every group, prewritten or not: a rollback record stops a prewrite still in flight.
  for (auto& [group, part] : txn.groups) {
    part.acked = false;
    Propose(txn, group, RollbackCommand{KeysOf(part), txn.start_ts});
  }
}

void TxnCoordinator::StartCommitSecondaries(Txn& txn) {
  DropInFlight(txn.id);
  txn.phase = Phase::kCommittingSecondaries;
  for (auto& [group, part] : txn.groups) {
    part.acked = group == txn.primary_group;
    if (part.acked) continue;
    Propose(txn, group, CommitCommand{KeysOf(part), txn.start_ts, txn.commit_ts});
  }
  if (AllAcked(txn)) Finish(txn.id);
}

bool TxnCoordinator::AllAcked(const Txn& txn) const {
  for (const auto& [group, part] : txn.groups) {
    if (!part.acked) return false;
  }
  return true;
}

std::vector<std::string> TxnCoordinator::KeysOf(const GroupPart& part) const {
  std::vector<std::string> keys;
  keys.reserve(part.mutations.size());
  for (const Mutation& m : part.mutations) keys.push_back(m.key);
  return keys;
}

void TxnCoordinator::Propose(Txn& txn, GroupId group, KvCommand command, uint32_t attempts) {
  const ProposalId id = next_proposal_id_++;
  effects_.proposals.push_back(TxnProposal{id, txn.id, group, command});
  in_flight_.emplace(id, InFlight{txn.id, group, std::move(command), attempts});
}

void TxnCoordinator::DropInFlight(TxnId txn_id) {
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    it = it->second.txn_id == txn_id ? in_flight_.erase(it) : std::next(it);
  }
}

void TxnCoordinator::Report(TxnOutcome outcome) { effects_.outcomes.push_back(std::move(outcome)); }

void TxnCoordinator::Finish(TxnId txn_id) {
  DropInFlight(txn_id);
  txns_.erase(txn_id);
}

CoordinatorEffects TxnCoordinator::TakeEffects() { return std::exchange(effects_, {}); }

}  // namespace ekv::kv
