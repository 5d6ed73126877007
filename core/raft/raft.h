// Raft: the consensus algorithm of one group member, as a pure state machine.
//
// Everything here is deterministic: inputs are Step/Tick calls, outputs accumulate in
// `msgs_` (may be sent at once), `msgs_after_persist_` (only once the unstable log and
// hard state are durable) and `read_states_`. RawNode (raw_node.h) packages them as Ready.
// Follows the Raft paper and thesis; the structure mirrors etcd-io/raft.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/raft/confchange.h"
#include "core/raft/config.h"
#include "core/raft/log.h"
#include "core/raft/read_only.h"
#include "core/raft/tracker.h"
#include "core/raft/types.h"
#include "core/util/rng.h"

namespace ekv::raft {

struct ChangedConfig;

// Marks a vote request sent because of a leadership transfer: it may bypass leases.
inline constexpr char kCampaignTransferContext[] = "CampaignTransfer";

class Raft {
 public:
  explicit Raft(const Config& config);

  absl::Status Step(const Message& message);
  void Tick();
  ConfState ApplyConfChange(const ConfChange& change);
  // The unstable log up to (index, term) became durable.
  void OnPersisted(Index index, Term term);
  // Committed entries up to `index` were applied; `entries` are the ones just applied.
  void OnApplied(Index index, const std::vector<Entry>& entries);

  // State, read by RawNode and tests.
  NodeId id() const { return id_; }
  GroupId group() const { return group_; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead() const { return lead_; }
  StateType state() const { return state_; }
  const RaftLog& log() const { return log_; }
  RaftLog& mutable_log() { return log_; }
  const ProgressTracker& tracker() const { return trk_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  uint64_t uncommitted_size() const { return uncommitted_size_; }
  // A conf change at or below this index may still be unapplied (a leader refuses another).
  Index pending_conf_index() const { return pending_conf_index_; }
  HardState GetHardState() const { return HardState{term_, vote_, log_.committed}; }
  bool LeaseValid() const;

  std::vector<Message> TakeMessages() { return std::exchange(msgs_, {}); }
  std::vector<Message> TakeMessagesAfterPersist() { return std::exchange(msgs_after_persist_, {}); }
  std::vector<ReadState> TakeReadStates() { return std::exchange(read_states_, {}); }
  bool HasMessages() const { return !msgs_.empty(); }
  bool HasMessagesAfterPersist() const { return !msgs_after_persist_.empty(); }
  bool HasReadStates() const { return !read_states_.empty(); }
  const Config& config() const { return config_; }

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  absl::Status StepImpl(const Message& m);

  void Send(Message m);
  void BecomeFollower(Term term, NodeId lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();
  void Reset(Term term);
  void ResetRandomizedElectionTimeout();
  bool PastElectionTimeout() const;
  bool Promotable() const;
  bool HasUnappliedConfChanges() const;
  void Hup(CampaignType type);
  void Campaign(CampaignType type);
  VoteResult Poll(NodeId id, bool granted);

  absl::Status StepLeader(const Message& m);
  absl::Status StepCandidate(const Message& m);
  absl::Status StepFollower(const Message& m);
  absl::Status StepProposalAsLeader(const Message& m);
  absl::Status StepReadIndexAsLeader(const Message& m);
  void HandleAppendEntries(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  bool Restore(const Snapshot& snapshot);

  bool AppendEntries(std::vector<Entry> entries);
  bool MaybeCommit();
  void BcastAppend();
  void BcastHeartbeat();
  void BcastHeartbeatWithContext(const std::string& context);
  void SendAppend(NodeId to) { MaybeSendAppend(to, /*send_if_empty=*/true); }
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  bool MaybeSendSnapshot(NodeId to, Progress& pr, bool current_configuration_only);
  void SendHeartbeat(NodeId to, const std::string& context);
  void SendTimeoutNow(NodeId to);
  void AbortLeaderTransfer() { lead_transferee_ = kNoNode; }
  void RespondToReadIndex(const Message& request, Index read_index);
  bool CommittedEntryInCurrentTerm() const;
  bool IncreaseUncommittedSize(const std::vector<Entry>& entries);
  void ReduceUncommittedSize(uint64_t bytes);
  void SwitchToConfig(TrackerConfig config, std::map<NodeId, Progress> progress);
  // A leader that applied its own removal (or demotion) passes the group on: see .cc.
  void HandOverAfterRemoval();
  void MaybeCampaignAsCaretaker();
  bool LeadsWithoutBeingAVoter() const;
  absl::Status ValidateConfChangeProposal(const ConfChange& change) const;
  // Config::refuse_changes_without_active_quorum for a validated change's result.
  absl::Status CheckActiveQuorumAfter(const ChangedConfig& next) const;
  void TickElection();
  void TickHeartbeat();

  Config config_;
  NodeId id_;
  GroupId group_;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  StateType state_ = StateType::kFollower;
  RaftLog log_;
  ProgressTracker trk_;
  ReadOnly read_only_;
  NodeId lead_transferee_ = kNoNode;
  Index pending_conf_index_ = 0;  // a conf change at or below this may still be unapplied
  uint64_t uncommitted_size_ = 0;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  uint64_t ticks_ = 0;  // monotonic local tick count (lease reads)
  // With lease reads, a restarted node does not vote until a full election timeout
  // passed, because before the crash it may have promised a lease to a leader.
  uint64_t votes_allowed_from_tick_ = 0;
  Term lease_revoked_term_ = 0;  // a TimeoutNow was sent in this term: no lease reads
  Rng rng_;
  std::vector<Message> msgs_;
  std::vector<Message> msgs_after_persist_;
  std::vector<ReadState> read_states_;
  // Planted ack-before-persist bug only: our own responses, delivered without waiting.
  std::vector<Message> self_msgs_;
  bool stepping_ = false;
};

}  // namespace ekv::raft
