// TxnCoordinator: drives Percolator two-phase commit across Raft groups, as a pure state
// machine that returns effects.
//
// The coordinator performs no I/O and reads no clock. Its inputs are calls (Begin, a
// commit timestamp, the result or timeout of each proposal it asked for, lock
// resolution requests); its outputs accumulate as effects that the driver drains with
// TakeEffects(): commands to propose to groups, requests for a commit timestamp, and
// final outcomes to report. The simulator and the runtime are the two drivers.
//
// Protocol for one transaction (start_ts from the caller; primary = first mutation's key):
//   one group      -> one OnePhaseCommit command, its commit_ts chosen by the group at
//                     apply (one_phase_commit_ts_at_apply), or drawn first (a commit_ts
//                     request) with reads of its keys at >= commit_ts fenced by the driver
//                     until the command applies (kv_state_machine.h, "Contract").
//   several groups -> Prewrite to every group (the primary's included).
//     any failure  -> report aborted, Rollback every group (rollback records also stop a
//                     prewrite still in flight).
//     all OK       -> request a commit_ts, Commit the primary's group first: that applied
//                     command is the commit point. Then report committed and Commit the
//                     other groups; if the coordinator dies first, readers resolve the
//                     secondaries through the primary (ResolveLock below).
// A proposal whose outcome is unknown (OnProposalTimeout) is re-proposed where that is
// idempotent (commit, rollback, lock resolution; at most max_attempts times) and aborts
// the transaction during prewrite. A commit whose outcome stays unknown is reported as
// UnavailableError "outcome unknown": the primary's record decides it.
//
// Lock resolution for a reader that hit KeyIsLocked: CheckTxnStatus on the primary's
// group (which rolls back an expired primary), then ResolveLock on the lock's group.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/kv_command.h"

namespace ekv::kv {

using GroupId = uint64_t;
using TxnId = uint64_t;
using ProposalId = uint64_t;
// Which Raft group owns a key; supplied by the caller (the route catalog).
using KeyRouter = std::function<GroupId(absl::string_view key)>;

struct TxnCoordinatorOptions {
  size_t max_mutations_per_txn = 1024;
  // Transactions and lock resolutions in progress at once.
  size_t max_concurrent_txns = 1024;
  uint64_t lock_ttl_ms = 3000;
  // Proposals of one idempotent command (commit, rollback, resolution), first included.
  uint32_t max_attempts = 3;
  // One-phase commits leave their commit_ts to the group, which picks one at apply above
  // every snapshot it has served (kv_state_machine.h, "One-phase commit"; a server group
  // with read floors). Off: the coordinator draws it first and the driver must fence
  // reads (the "Contract" there).
  bool one_phase_commit_ts_at_apply = false;
  // Test-the-tests only: lock resolution rolls back the secondary lock of a transaction
  // whose primary committed (a partial commit: the atomicity bug Percolator exists to
  // prevent). The simulator's bank and append workloads and the jepsen harness must
  // catch it. Off in production.
  bool planted_resolve_rolls_back_committed = false;
};

struct TxnProposal {
  ProposalId proposal_id = 0;
  TxnId txn_id = 0;
  GroupId group = 0;
  KvCommand command;
};

struct TxnOutcome {
  TxnId txn_id = 0;
  // Transactions: OK = committed at commit_ts; Aborted/Unavailable/... = did not commit
  // (key_errors say why), except UnavailableError "outcome unknown". Lock resolution:
  // OK = the lock is gone (resolved to txn_status); UnavailableError = the lock's owner
  // is alive, retry after its TTL.
  absl::Status status;
  Timestamp commit_ts = 0;
  std::vector<KeyError> key_errors;
  TxnStatusKind txn_status = TxnStatusKind::kUnknown;  // lock resolution only
  // The transaction may or may not have committed (status says "outcome unknown").
  bool outcome_unknown = false;
};

struct CoordinatorEffects {
  std::vector<TxnProposal> proposals;
  // Transactions that need a commit timestamp (> start_ts, from the same clock as
  // start_ts): answer each with ProvideCommitTs.
  std::vector<TxnId> commit_ts_requests;
  std::vector<TxnOutcome> outcomes;
  bool empty() const { return proposals.empty() && commit_ts_requests.empty() && outcomes.empty(); }
};

class TxnCoordinator {
 public:
  TxnCoordinator(TxnCoordinatorOptions options, KeyRouter router);

  // Starts a transaction writing `mutations` (distinct keys) read at start_ts.
  // InvalidArgumentError for an empty or oversized (max_mutations_per_txn) or duplicate
  // key set; ResourceExhaustedError when max_concurrent_txns are in progress.
  absl::StatusOr<TxnId> Begin(std::vector<Mutation> mutations, Timestamp start_ts);
  // Answers a commit_ts request. Ignored for a transaction no longer waiting for one.
  void ProvideCommitTs(TxnId txn_id, Timestamp commit_ts);
  // The driver could not get a commit_ts: nothing committed yet, so the transaction
  // aborts (UnavailableError) and rolls back. Ignored unless it waits for one.
  void CommitTsUnavailable(TxnId txn_id);
  // The applied result of a proposal. Results of proposals the coordinator no longer
  // waits for (a phase moved on) are ignored.
  void OnProposalResult(ProposalId proposal_id, const KvApplyResult& result);
  // The proposal may or may not have been applied (leadership lost, timed out).
  void OnProposalTimeout(ProposalId proposal_id);

  // Resolves the lock `lock` found on `key` by a reader whose clock reads current_ms.
  absl::StatusOr<TxnId> ResolveLock(absl::string_view key, const LockRecord& lock,
                                    uint64_t current_ms);

  // Drains the effects produced since the last call.
  CoordinatorEffects TakeEffects();

  size_t active() const { return txns_.size(); }

 private:
  enum class Phase : uint8_t {
    kAwaitOnePhaseTs,
    kOnePhase,
    kPrewriting,
    kAwaitCommitTs,
    kCommittingPrimary,
    kCommittingSecondaries,
    kRollingBack,
    kResolveChecking,
    kResolveApplying,
  };
  struct GroupPart {
    std::vector<Mutation> mutations;
    bool acked = false;  // the current phase's command succeeded on this group
  };
  struct InFlight {
    TxnId txn_id = 0;
    GroupId group = 0;
    KvCommand command;
    uint32_t attempts = 1;
  };
  struct Txn {
    TxnId id = 0;
    Phase phase = Phase::kPrewriting;
    Timestamp start_ts = 0;
    Timestamp commit_ts = 0;
    std::string primary;
    GroupId primary_group = 0;
    std::map<GroupId, GroupPart> groups;  // ordered: proposals come out deterministically
    // Lock resolution.
    std::string lock_key;
    GroupId lock_group = 0;
  };

  absl::Status CheckCapacity() const;
  void Propose(Txn& txn, GroupId group, KvCommand command, uint32_t attempts = 1);
  // Forgets the transaction's in-flight proposals: their results no longer matter.
  void DropInFlight(TxnId txn_id);
  void Report(TxnOutcome outcome);
  void Finish(TxnId txn_id);
  void StartRollback(Txn& txn);
  void StartCommitSecondaries(Txn& txn);
  bool AllAcked(const Txn& txn) const;
  std::vector<std::string> KeysOf(const GroupPart& part) const;
  void HandleResult(Txn& txn, GroupId group, const KvApplyResult& result);

  const TxnCoordinatorOptions options_;
  const KeyRouter router_;
  TxnId next_txn_id_ = 1;
  ProposalId next_proposal_id_ = 1;
  std::map<TxnId, Txn> txns_;
  std::map<ProposalId, InFlight> in_flight_;
  CoordinatorEffects effects_;
};

}  // namespace ekv::kv
