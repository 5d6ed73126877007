#include "core/raft/raft.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/raft/conf_changer.h"
#include "core/util/assert.h"

namespace ekv::raft {
namespace {

MessageType VoteResponseType(MessageType type) {
  return type == MessageType::kVote ? MessageType::kVoteResp : MessageType::kPreVoteResp;
}

// Responses that promise the sender's durable state: an append acknowledgement says the
// entries are on disk; a vote says the vote is on disk (§5.1: "respond after persisting").
bool PromisesDurability(MessageType type) {
  return type == MessageType::kAppResp || type == MessageType::kVoteResp ||
         type == MessageType::kPreVoteResp;
}

uint64_t PayloadBytes(const std::vector<Entry>& entries) {
  uint64_t bytes = 0;
  for (const Entry& e : entries) bytes += e.PayloadSize();
  return bytes;
}

}  // namespace

Raft::Raft(const Config& config)
    : config_(config),
      id_(config.id),
      group_(config.group),
      log_(config.storage, config.max_committed_size_per_ready),
      trk_(config.max_inflight_msgs, config.max_inflight_bytes),
      rng_(config.randomization_seed ^ (config.id * 0x9e3779b97f4a7c15ULL) ^ config.group) {
  absl::Status valid = config.Validate();
  EKV_ASSERT(valid.ok(), "invalid raft config: ", valid.ToString());
  absl::StatusOr<Storage::InitialState> initial = config.storage->GetInitialState();
  EKV_ASSERT(initial.ok(), "cannot read initial state: ", initial.status().ToString());

  absl::StatusOr<ChangedConfig> restored =
      ConfChanger::Restore(initial->conf_state, trk_, log_.LastIndex());
  EKV_ASSERT(restored.ok(), "cannot restore configuration ", DescribeConfState(initial->conf_state),
             ": ", restored.status().ToString());
  trk_.config = restored->config;
  trk_.progress = restored->progress;
  EKV_ASSERT(trk_.GetConfState() == initial->conf_state, "restored configuration differs");

  const HardState& hs = initial->hard_state;
  if (!hs.IsEmpty()) {
    EKV_ASSERT(hs.commit >= log_.committed && hs.commit <= log_.LastIndex(), "hard state commit ",
               hs.commit, " out of range [", log_.committed, ",", log_.LastIndex(), "]");
    log_.committed = hs.commit;
    term_ = hs.term;
    vote_ = hs.vote;
  }
  if (config.applied > 0) log_.AppliedTo(config.applied);
  BecomeFollower(term_, kNoNode);
  if (config.read_only_option == ReadOnlyOption::kLeaseBased) {
    votes_allowed_from_tick_ = static_cast<uint64_t>(config.election_tick);
  }
}

// ---------------------------------------------------------------------------------------
// Sending

void Raft::Send(Message m) {
  m.group = group_;
  if (m.from == kNoNode) m.from = id_;
  if (m.type == MessageType::kVote || m.type == MessageType::kVoteResp ||
      m.type == MessageType::kPreVote || m.type == MessageType::kPreVoteResp) {
    EKV_ASSERT(m.term != 0, "campaign messages must carry a term: ", DescribeMessage(m));
  } else if (m.type == MessageType::kProp || m.type == MessageType::kReadIndex) {
    // Forwarded requests carry no term: they are local to the group member they reach.
    m.term = 0;
  } else {
    m.term = term_;
  }
  if (config_.planted.ack_before_persist && m.to == id_) {
    self_msgs_.push_back(std::move(m));
  } else if (PromisesDurability(m.type) && !config_.planted.ack_before_persist) {
    msgs_after_persist_.push_back(std::move(m));
  } else {
    msgs_.push_back(std::move(m));
  }
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  auto it = trk_.progress.find(to);
  if (it == trk_.progress.end()) return false;
  Progress& pr = it->second;
  if (pr.IsPaused()) return false;

  const Index prev_index = pr.next - 1;
  if (prev_index == 0 && pr.log_empty && config_.snapshot_for_empty_followers) {
    // (config.h; simulator seed 243: a readmitted node 1 replayed the bootstrap entry,
    // elected itself alone and applied an entry of its own at index 2.)
    return MaybeSendSnapshot(to, pr, /*current_configuration_only=*/true);
  }
  absl::StatusOr<Term> prev_term = log_.TermAt(prev_index);
  absl::StatusOr<std::vector<Entry>> entries = std::vector<Entry>{};
  if (prev_term.ok() && !(pr.state == ProgressState::kReplicate && pr.inflights.Full())) {
    entries = log_.EntriesFrom(pr.next, config_.max_size_per_msg);
  }
  if (!prev_term.ok() || !entries.ok()) {
    // The follower needs entries we compacted away: it needs a snapshot.
    return MaybeSendSnapshot(to, pr, /*current_configuration_only=*/false);
  }
  if (entries->empty() && !send_if_empty) return false;

  Message m;
  m.type = MessageType::kApp;
  m.to = to;
  m.index = prev_index;
  m.log_term = *prev_term;
  m.commit = log_.committed;
  const bool had_entries = !entries->empty();
  const Index last = had_entries ? entries->back().index : prev_index;
  const uint64_t bytes = PayloadBytes(*entries);
  m.entries = std::move(*entries);
  pr.SentEntries(last, bytes, had_entries);
  Send(std::move(m));
  return true;
}

bool Raft::MaybeSendSnapshot(NodeId to, Progress& pr, bool current_configuration_only) {
  if (!pr.recent_active) return false;  // do not ship a snapshot to a node that is down
  absl::StatusOr<Snapshot> snapshot = log_.GetSnapshot();
  if (!snapshot.ok() || snapshot->IsEmpty()) return false;  // not ready yet: retry later
  // An empty follower starts from the snapshot's configuration: one older than ours may
  // still name it a voter from a former life. The host snapshots after every
  // configuration change, so a current one follows; retry then.
  if (current_configuration_only && snapshot->metadata.conf_state != trk_.GetConfState()) {
    return false;
  }
  Message m;
  m.type = MessageType::kSnap;
  m.to = to;
  m.snapshot = std::move(*snapshot);
  pr.BecomeSnapshot(m.snapshot.metadata.index);
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(NodeId to, const std::string& context) {
  // Never tell a follower to commit past what it is known to hold (it may not have it).
  const Index commit = std::min(trk_.progress.at(to).match, log_.committed);
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  m.commit = commit;
  m.context = context;
  m.lease_tick = ticks_;
  Send(std::move(m));
}

void Raft::SendTimeoutNow(NodeId to) {
  // The transferee will campaign bypassing the followers' leases, possibly late (after
  // this transfer was abandoned): never trust our lease again in this term.
  lease_revoked_term_ = term_;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

void Raft::BcastAppend() {
  for (const auto& [id, pr] : trk_.progress) {
    if (id != id_) SendAppend(id);
  }
}

void Raft::BcastHeartbeat() { BcastHeartbeatWithContext(read_only_.LastPendingRequestContext()); }

void Raft::BcastHeartbeatWithContext(const std::string& context) {
  for (const auto& [id, pr] : trk_.progress) {
    if (id != id_) SendHeartbeat(id, context);
  }
}

// ---------------------------------------------------------------------------------------
// Role transitions

void Raft::Reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  trk_.ResetVotes();
  for (auto& [id, pr] : trk_.progress) {
    Progress fresh(log_.LastIndex() + 1, trk_.max_inflight(), trk_.max_inflight_bytes(),
                   pr.is_learner);
    if (id == id_) {
      fresh.match = log_.StableLastIndex();
      fresh.recent_active = true;
    }
    pr = std::move(fresh);
  }
  pending_conf_index_ = 0;
  uncommitted_size_ = 0;
  read_only_.Reset();
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      config_.election_tick + static_cast<int>(rng_.Uniform(config_.election_tick));
}

void Raft::BecomeFollower(Term term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  state_ = StateType::kFollower;
}

void Raft::BecomeCandidate() {
  EKV_ASSERT(state_ != StateType::kLeader, "invalid transition leader -> candidate");
  Reset(term_ + 1);
  vote_ = id_;
  state_ = StateType::kCandidate;
}

void Raft::BecomePreCandidate() {
  EKV_ASSERT(state_ != StateType::kLeader, "invalid transition leader -> pre-candidate");
  // A pre-candidate changes neither term nor vote: that is the point of PreVote (§9.6).
  trk_.ResetVotes();
  lead_ = kNoNode;
  state_ = StateType::kPreCandidate;
}

void Raft::BecomeLeader() {
  EKV_ASSERT(state_ != StateType::kFollower, "invalid transition follower -> leader");
  Reset(term_);
  lead_ = id_;
  state_ = StateType::kLeader;
  // A caretaker (MaybeCampaignAsCaretaker) is not in its configuration.
  if (auto self = trk_.progress.find(id_); self != trk_.progress.end()) {
    self->second.BecomeReplicate();
    self->second.recent_active = true;
  }
  // Any unapplied conf change in the log counts as pending until applied.
  pending_conf_index_ = log_.LastIndex();
  // An empty entry of the new term lets the leader commit earlier entries (§5.4.2) and
  // establishes the commit index that ReadIndex needs (§6.4). Never refused.
  Entry empty;
  const bool appended = AppendEntries({empty});
  EKV_ASSERT(appended, "the leader's empty entry must never be refused");
  uncommitted_size_ = 0;
  if (LeadsWithoutBeingAVoter()) HandOverAfterRemoval();
}

bool Raft::Promotable() const {
  auto it = trk_.progress.find(id_);
  return it != trk_.progress.end() && !it->second.is_learner && !log_.HasNextUnstableSnapshot();
}

bool Raft::HasUnappliedConfChanges() const {
  if (log_.applied >= log_.committed) return false;
  absl::StatusOr<std::vector<Entry>> entries =
      log_.Slice(std::max(log_.applied + 1, log_.FirstIndex()), log_.committed + 1, kNoLimit);
  if (!entries.ok()) return false;
  for (const Entry& e : *entries) {
    if (e.type == EntryType::kConfChange) return true;
  }
  return false;
}

void Raft::MaybeCampaignAsCaretaker() {
  // A node that applied its own removal never campaigns (Promotable), but the others may
  // not know the removal committed: they still count it as a voter, and it just refused
  // one of them because its log is longer. If nobody leads, that refusal can last
  // forever (a leader that removed itself and restarted lost its hand-over). So it runs
  // for the configuration it knows, without itself, only to hand over at once
  // (BecomeLeader -> HandOverAfterRemoval). Safe as any election: the votes are counted
  // in a configuration whose quorums meet those of the one before it.
  if (state_ != StateType::kFollower || lead_ != kNoNode || Promotable()) return;
  if (trk_.config.voters.incoming.empty() || log_.HasNextUnstableSnapshot()) return;
  if (HasUnappliedConfChanges()) return;
  Campaign(config_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
}

void Raft::Hup(CampaignType type) {
  if (state_ == StateType::kLeader) return;
  if (!Promotable()) return;
  // Campaigning before applying a pending membership change could let a node use an
  // outdated configuration to decide the election.
  if (HasUnappliedConfChanges()) return;
  Campaign(type);
}

void Raft::Campaign(CampaignType type) {
  Term vote_term;
  MessageType vote_type;
  if (type == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_type = MessageType::kPreVote;
    vote_term = term_ + 1;  // PreVote asks about the term it would use
  } else {
    BecomeCandidate();
    vote_type = MessageType::kVote;
    vote_term = term_;
  }
  for (NodeId id : trk_.VoterIDs()) {
    Message m;
    m.to = id;
    m.term = vote_term;
    if (id == id_) {
      // Our own vote counts only once it is durable: it arrives through the after-persist
      // queue like any other vote response.
      m.type = VoteResponseType(vote_type);
      Send(std::move(m));
      continue;
    }
    m.type = vote_type;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (type == CampaignType::kTransfer) m.context = kCampaignTransferContext;
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(NodeId id, bool granted) {
  trk_.RecordVote(id, granted);
  int granted_count = 0, rejected_count = 0;
  return trk_.TallyVotes(&granted_count, &rejected_count);
}

// ---------------------------------------------------------------------------------------
// Ticks

void Raft::Tick() {
  ++ticks_;
  if (state_ == StateType::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

bool Raft::PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    Message m;
    m.type = MessageType::kHup;
    m.from = id_;
    (void)Step(m);
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      Message m;
      m.type = MessageType::kCheckQuorum;
      m.from = id_;
      (void)Step(m);
    }
    // A transfer that did not finish within an election timeout is abandoned; a leader
    // that is no longer a voter was only handing over, and now stops leading.
    if (LeadsWithoutBeingAVoter()) {
      BecomeFollower(term_, kNoNode);
    } else if (state_ == StateType::kLeader) {
      AbortLeaderTransfer();
    }
  }
  if (state_ != StateType::kLeader) return;
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    Message m;
    m.type = MessageType::kBeat;
    m.from = id_;
    (void)Step(m);
  }
}

// ---------------------------------------------------------------------------------------
// Step

absl::Status Raft::Step(const Message& m) {
  if (stepping_) return StepImpl(m);
  stepping_ = true;
  absl::Status status = StepImpl(m);
  for (int round = 0; !self_msgs_.empty(); ++round) {
    EKV_ASSERT(round < 16, "self-addressed messages keep producing more");
    std::vector<Message> self = std::exchange(self_msgs_, {});
    for (const Message& own : self) (void)StepImpl(own);
  }
  stepping_ = false;
  return status;
}

absl::Status Raft::StepImpl(const Message& m) {
  EKV_ASSERT(m.group == 0 || m.group == group_, "message for group ", m.group,
             " delivered to group ", group_);
  if (m.term == 0) {
    // Local message or forwarded request.
  } else if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      const bool force = m.context == kCampaignTransferContext;
      const bool in_lease =
          config_.check_quorum && lead_ != kNoNode && election_elapsed_ < config_.election_tick;
      const bool restarted_recently = ticks_ < votes_allowed_from_tick_;
      if (!force && (in_lease || restarted_recently)) {
        // We heard from a leader within the minimum election timeout: ignore the
        // disruptive candidate without bumping our term (§4.2.3 of the thesis).
        return absl::OkStatus();
      }
    }
    if (m.type == MessageType::kPreVote) {
      // A pre-vote never changes our term.
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // We will bump our term when the pre-vote succeeds.
    } else if (m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnap) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kApp)) {
      // A stale leader (e.g. after a partition with CheckQuorum) must learn the new term,
      // or a node it cut off could never rejoin. Answering makes it step down.
      Message resp;
      resp.type = MessageType::kAppResp;
      resp.to = m.from;
      Send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResp;
      resp.to = m.from;
      resp.term = term_;
      resp.reject = true;
      Send(std::move(resp));
    }
    return absl::OkStatus();
  }

  switch (m.type) {
    case MessageType::kHup:
      Hup(config_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
      return absl::OkStatus();
    case MessageType::kVote:
    case MessageType::kPreVote: {
      const bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                            (m.type == MessageType::kPreVote && m.term > term_);
      Message resp;
      resp.to = m.from;
      resp.type = VoteResponseType(m.type);
      if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
        // For a pre-vote, answer in the term the candidate would use, so it can tell
        // the answer is not stale.
        resp.term = m.term;
        Send(std::move(resp));
        if (m.type == MessageType::kVote) {
          election_elapsed_ = 0;
          vote_ = m.from;
        }
      } else {
        resp.term = term_;
        resp.reject = true;
        Send(std::move(resp));
        if (can_vote && !log_.IsUpToDate(m.index, m.log_term)) MaybeCampaignAsCaretaker();
      }
      return absl::OkStatus();
    }
    default:
      break;
  }
  switch (state_) {
    case StateType::kLeader:
      return StepLeader(m);
    case StateType::kCandidate:
    case StateType::kPreCandidate:
      return StepCandidate(m);
    case StateType::kFollower:
      return StepFollower(m);
  }
  return absl::OkStatus();
}

absl::Status Raft::ValidateConfChangeProposal(const ConfChange& change) const {
  if (pending_conf_index_ > log_.applied) {
    return absl::FailedPreconditionError(absl::StrCat("a membership change is pending at index ",
                                                      pending_conf_index_, " (applied ",
                                                      log_.applied, "); one change at a time"));
  }
  const bool joint = trk_.config.voters.IsJoint();
  if (joint && !change.LeaveJoint()) {
    return absl::FailedPreconditionError(
        "the configuration is joint: leave it (an empty change) before changing it again");
  }
  if (!joint && change.LeaveJoint()) {
    return absl::FailedPreconditionError("not in a joint configuration: nothing to leave");
  }
  // Dry run against the current configuration so invalid changes never reach the log.
  ConfChanger changer(trk_, log_.LastIndex());
  bool auto_leave = false;
  absl::StatusOr<ChangedConfig> result = change.LeaveJoint() ? changer.LeaveJoint()
                                         : change.EnterJoint(&auto_leave)
                                             ? changer.EnterJoint(auto_leave, change.changes)
                                             : changer.Simple(change.changes);
  if (!result.ok()) return result.status();
  if (config_.refuse_changes_without_active_quorum) return CheckActiveQuorumAfter(*result);
  return absl::OkStatus();
}

absl::Status Raft::CheckActiveQuorumAfter(const ChangedConfig& next) const {
  std::vector<NodeId> inactive;
  const VoteResult active = next.config.voters.Vote([&](NodeId id, bool* vote) {
    auto it = trk_.progress.find(id);
    *vote =
        id == id_ || (it != trk_.progress.end() && it->second.recent_active && it->second.answered);
    if (!*vote) inactive.push_back(id);
    return true;
  });
  if (active == VoteResult::kWon) return absl::OkStatus();
  std::sort(inactive.begin(), inactive.end());
  inactive.erase(std::unique(inactive.begin(), inactive.end()), inactive.end());
  return absl::FailedPreconditionError(absl::StrCat(
      "the new configuration (voters ", absl::StrJoin(next.config.voters.incoming.voters(), ","),
      next.config.voters.IsJoint()
          ? absl::StrCat(", outgoing ", absl::StrJoin(next.config.voters.outgoing.voters(), ","))
          : std::string(),
      ") would have no quorum of members this leader heard from within the last election "
      "timeout (not heard from: ",
      absl::StrJoin(inactive, ","), ")"));
}

absl::Status Raft::StepProposalAsLeader(const Message& m) {
  EKV_ASSERT(!m.entries.empty(), "empty proposal");
  if (LeadsWithoutBeingAVoter()) {
    return absl::UnavailableError("proposal dropped: this leader was removed from the group");
  }
  if (lead_transferee_ != kNoNode) {
    return absl::UnavailableError(
        absl::StrCat("proposal dropped: leadership is being transferred to ", lead_transferee_));
  }
  std::vector<Entry> entries = m.entries;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].type != EntryType::kConfChange) continue;
    absl::StatusOr<ConfChange> change = DecodeConfChange(entries[i].data);
    if (!change.ok()) return absl::InvalidArgumentError(change.status().message());
    if (absl::Status valid = ValidateConfChangeProposal(*change); !valid.ok()) return valid;
    pending_conf_index_ = log_.LastIndex() + i + 1;
  }
  if (!AppendEntries(std::move(entries))) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "proposal dropped: uncommitted log bytes would exceed max_uncommitted_entries_size ",
        config_.max_uncommitted_entries_size, " (", uncommitted_size_, " pending)"));
  }
  BcastAppend();
  return absl::OkStatus();
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.ZeroTermOnError(log_.TermAt(log_.committed)) == term_;
}

bool Raft::LeaseValid() const {
  if (state_ != StateType::kLeader || !config_.check_quorum ||
      config_.read_only_option != ReadOnlyOption::kLeaseBased || lead_transferee_ != kNoNode ||
      lease_revoked_term_ == term_) {
    return false;
  }
  // The newest heartbeat round a quorum acknowledged was sent at `acked`; those followers
  // will not vote for another leader for an election timeout of their clocks after they
  // got it. Subtract the drift bound to stay inside that window on our clock.
  uint64_t acked = trk_.config.voters.CommittedIndex([this](NodeId id, Index* tick) {
    auto it = trk_.progress.find(id);
    if (it == trk_.progress.end()) return false;
    *tick = id == id_ ? ticks_ : it->second.lease_acked_tick;
    return true;
  });
  if (acked == 0) return false;
  const int64_t lease_ticks =
      static_cast<int64_t>(config_.election_tick) - config_.max_clock_drift_ticks;
  if (lease_ticks <= 0) return false;
  return ticks_ < acked + static_cast<uint64_t>(lease_ticks);
}

void Raft::RespondToReadIndex(const Message& request, Index read_index) {
  if (request.from == kNoNode || request.from == id_) {
    read_states_.push_back(ReadState{read_index, request.context});
    return;
  }
  Message resp;
  resp.type = MessageType::kReadIndexResp;
  resp.to = request.from;
  resp.index = read_index;
  resp.context = request.context;
  Send(std::move(resp));
}

absl::Status Raft::StepReadIndexAsLeader(const Message& m) {
  if (trk_.IsSingleton() || config_.planted.read_without_quorum) {
    RespondToReadIndex(m, log_.committed);
    return absl::OkStatus();
  }
  // Until the leader commits an entry of its own term it does not know the commit index
  // (§6.4 step 1): refuse rather than answer with a possibly stale one.
  if (!CommittedEntryInCurrentTerm()) {
    return absl::UnavailableError(
        "read index refused: the leader has not committed an entry in its term yet");
  }
  if (LeaseValid()) {
    RespondToReadIndex(m, log_.committed);
    return absl::OkStatus();
  }
  read_only_.AddRequest(log_.committed, m);
  read_only_.RecvAck(id_, m.context);
  BcastHeartbeatWithContext(m.context);
  return absl::OkStatus();
}

absl::Status Raft::StepLeader(const Message& m) {
  switch (m.type) {
    case MessageType::kBeat:
      BcastHeartbeat();
      return absl::OkStatus();
    case MessageType::kCheckQuorum:
      if (!trk_.QuorumActive()) {
        // Cannot hear from a quorum: another leader may exist; stop acting as leader.
        BecomeFollower(term_, kNoNode);
      }
      for (auto& [id, pr] : trk_.progress) {
        if (id != id_) pr.recent_active = false;
      }
      return absl::OkStatus();
    case MessageType::kProp:
      return StepProposalAsLeader(m);
    case MessageType::kReadIndex:
      return StepReadIndexAsLeader(m);
    default:
      break;
  }

  auto it = trk_.progress.find(m.from);
  if (it == trk_.progress.end()) return absl::OkStatus();  // not (or no longer) a member
  Progress& pr = it->second;

  switch (m.type) {
    case MessageType::kAppResp: {
      pr.recent_active = true;
      pr.answered = true;
      if (m.reject) {
        // Only an acknowledgement clears this: a rejection with a hint past 0 may be stale
        // (sent by a former life of a reused id, in this term), and MaybeDecrTo below
        // ignores it only after the fact.
        if (m.reject_hint == 0) pr.log_empty = true;
        if (m.reject_hint == 0 && pr.match > 0 && config_.snapshot_for_empty_followers &&
            pr.state != ProgressState::kSnapshot) {
          // The follower's log was empty when it sent this, yet we hold an acknowledgement
          // of an index: either that acknowledgement came from a former life of a reused
          // id (same term; messages carry no incarnation), or this rejection is a late
          // duplicate from before the follower's snapshot. MaybeDecrTo would judge it stale
          // and keep probing above an index the follower does not hold, forever. Start it
          // over from a current snapshot; a follower that does hold the log refuses it and
          // acknowledges its commit index, restoring match. (Lowering match never lowers
          // the commit index, which only grows.)
          pr.match = 0;
          pr.BecomeProbe();
          SendAppend(m.from);
          return absl::OkStatus();
        }
        Index next_probe = m.reject_hint;
        if (m.log_term > 0) {
          // Skip all our entries of terms above the follower's hint term (§5.3 fast
          // backtracking); the follower has nothing past hint anyway.
          next_probe = log_.FindConflictByTerm(m.reject_hint, m.log_term);
        }
        if (pr.MaybeDecrTo(m.index, next_probe)) {
          if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
          SendAppend(m.from);
        }
        return absl::OkStatus();
      }
      if (m.index > 0) pr.log_empty = false;
      const bool was_paused = pr.IsPaused();
      // An acknowledgement of exactly our match while probing also proves where the
      // follower's log ends: resume replicating instead of waiting for a new entry.
      const bool probe_confirmed = pr.match == m.index && pr.state == ProgressState::kProbe;
      if (!pr.MaybeUpdate(m.index) && !probe_confirmed) {
        return absl::OkStatus();
      }
      switch (pr.state) {
        case ProgressState::kProbe:
          pr.BecomeReplicate();
          break;
        case ProgressState::kSnapshot:
          if (pr.match + 1 >= log_.FirstIndex()) {
            pr.BecomeProbe();
            pr.BecomeReplicate();
          }
          break;
        case ProgressState::kReplicate:
          pr.inflights.FreeLE(m.index);
          break;
      }
      if (MaybeCommit()) {
        BcastAppend();
      } else if (was_paused) {
        SendAppend(m.from);
      }
      while (MaybeSendAppend(m.from, /*send_if_empty=*/false)) {
      }
      if (m.from == lead_transferee_ && pr.match == log_.LastIndex()) {
        SendTimeoutNow(m.from);
      }
      return absl::OkStatus();
    }
    case MessageType::kHeartbeatResp: {
      pr.recent_active = true;
      pr.answered = true;
      pr.msg_app_flow_paused = false;
      pr.lease_acked_tick = std::max(pr.lease_acked_tick, m.lease_tick);
      if (pr.match < log_.LastIndex()) SendAppend(m.from);
      if (m.context.empty()) return absl::OkStatus();
      const std::set<NodeId>* acks = read_only_.RecvAck(m.from, m.context);
      if (acks == nullptr) return absl::OkStatus();
      const VoteResult result = trk_.config.voters.Vote([acks](NodeId id, bool* vote) {
        if (acks->count(id) == 0) return false;
        *vote = true;
        return true;
      });
      if (result != VoteResult::kWon) return absl::OkStatus();
      for (const ReadIndexStatus& served : read_only_.Advance(m.context)) {
        RespondToReadIndex(served.request, served.index);
      }
      return absl::OkStatus();
    }
    case MessageType::kSnapStatus:
      if (pr.state != ProgressState::kSnapshot) return absl::OkStatus();
      if (!m.reject) {
        // Wait for the follower's append response before sending more.
        pr.BecomeProbe();
        pr.msg_app_flow_paused = true;
      } else {
        pr.pending_snapshot = 0;
        pr.BecomeProbe();
      }
      return absl::OkStatus();
    case MessageType::kUnreachable:
      // An optimistic pipeline to an unreachable peer would lose messages: probe again.
      if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
      return absl::OkStatus();
    case MessageType::kTransferLeader: {
      if (pr.is_learner) return absl::OkStatus();
      const NodeId transferee = m.from;
      if (lead_transferee_ != kNoNode) {
        if (lead_transferee_ == transferee) return absl::OkStatus();
        AbortLeaderTransfer();
      }
      if (transferee == id_) return absl::OkStatus();
      // The transfer must finish within an election timeout (§3.10 of the thesis).
      election_elapsed_ = 0;
      lead_transferee_ = transferee;
      if (pr.match == log_.LastIndex()) {
        SendTimeoutNow(transferee);
      } else {
        SendAppend(transferee);
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status Raft::StepCandidate(const Message& m) {
  const MessageType my_response =
      state_ == StateType::kPreCandidate ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  switch (m.type) {
    case MessageType::kProp:
      return absl::UnavailableError("proposal dropped: no leader (election in progress)");
    case MessageType::kReadIndex:
      return absl::UnavailableError("read index dropped: no leader (election in progress)");
    case MessageType::kApp:
      BecomeFollower(m.term, m.from);
      HandleAppendEntries(m);
      return absl::OkStatus();
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      return absl::OkStatus();
    case MessageType::kSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      return absl::OkStatus();
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp: {
      if (m.type != my_response) return absl::OkStatus();
      switch (Poll(m.from, !m.reject)) {
        case VoteResult::kWon:
          if (state_ == StateType::kPreCandidate) {
            Campaign(CampaignType::kElection);
          } else {
            BecomeLeader();
            BcastAppend();
          }
          break;
        case VoteResult::kLost:
          // A pre-candidate returns to its own term; a candidate keeps the term it raised.
          BecomeFollower(term_, kNoNode);
          break;
        case VoteResult::kPending:
          break;
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kProp: {
      if (lead_ == kNoNode) return absl::UnavailableError("proposal dropped: no leader");
      if (config_.disable_proposal_forwarding) {
        return absl::UnavailableError(
            absl::StrCat("proposal dropped: not the leader (leader is ", lead_, ")"));
      }
      Message forward = m;
      forward.to = lead_;
      Send(std::move(forward));
      return absl::OkStatus();
    }
    case MessageType::kApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppendEntries(m);
      return absl::OkStatus();
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      return absl::OkStatus();
    case MessageType::kSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshot(m);
      return absl::OkStatus();
    case MessageType::kTransferLeader: {
      if (lead_ == kNoNode) return absl::UnavailableError("transfer dropped: no leader");
      Message forward = m;
      forward.to = lead_;
      Send(std::move(forward));
      return absl::OkStatus();
    }
    case MessageType::kTimeoutNow:
      // The leader hands over: campaign at once, without PreVote, bypassing leases.
      Hup(CampaignType::kTransfer);
      return absl::OkStatus();
    case MessageType::kReadIndex: {
      if (lead_ == kNoNode) return absl::UnavailableError("read index dropped: no leader");
      Message forward = m;
      forward.to = lead_;
      Send(std::move(forward));
      return absl::OkStatus();
    }
    case MessageType::kReadIndexResp:
      read_states_.push_back(ReadState{m.index, m.context});
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

void Raft::HandleAppendEntries(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppResp;
  resp.to = m.from;
  if (m.index < log_.committed) {
    resp.index = log_.committed;
    Send(std::move(resp));
    return;
  }
  if (std::optional<Index> last = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last;
    Send(std::move(resp));
    return;
  }
  // Reject with a hint: the last index at or below m.index whose term is <= m.log_term,
  // letting the leader skip a whole term of mismatching entries per round trip.
  const Index hint_index = std::min(m.index, log_.LastIndex());
  const Index hint = log_.FindConflictByTerm(hint_index, m.log_term);
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = hint;
  resp.log_term = log_.ZeroTermOnError(log_.TermAt(hint));
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  log_.CommitTo(std::min(m.commit, log_.LastIndex()));
  Message resp;
  resp.type = MessageType::kHeartbeatResp;
  resp.to = m.from;
  resp.context = m.context;
  resp.lease_tick = m.lease_tick;
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppResp;
  resp.to = m.from;
  if (Restore(m.snapshot)) {
    resp.index = log_.LastIndex();
  } else {
    resp.index = log_.committed;
  }
  Send(std::move(resp));
}

bool Raft::Restore(const Snapshot& s) {
  if (s.metadata.index <= log_.committed) return false;
  if (state_ != StateType::kFollower) {
    // Only a follower installs snapshots; anything else is a sign of a stale message.
    BecomeFollower(term_ + 1, kNoNode);
    return false;
  }
  const ConfState& cs = s.metadata.conf_state;
  bool found = false;
  for (const auto* ids : {&cs.voters, &cs.learners, &cs.voters_outgoing}) {
    found = found || std::find(ids->begin(), ids->end(), id_) != ids->end();
  }
  if (!found) return false;  // a snapshot of a configuration we are not part of
  if (log_.MatchTerm(s.metadata.index, s.metadata.term)) {
    // We already have the snapshot's last entry: only fast-forward the commit index.
    log_.CommitTo(s.metadata.index);
    return false;
  }
  log_.Restore(s);
  ProgressTracker empty(trk_.max_inflight(), trk_.max_inflight_bytes());
  absl::StatusOr<ChangedConfig> restored = ConfChanger::Restore(cs, empty, log_.LastIndex());
  EKV_ASSERT(restored.ok(),
             "cannot restore snapshot configuration: ", restored.status().ToString());
  SwitchToConfig(restored->config, restored->progress);
  return true;
}

// ---------------------------------------------------------------------------------------
// Log and commit

bool Raft::AppendEntries(std::vector<Entry> entries) {
  Index index = log_.LastIndex();
  for (Entry& e : entries) {
    e.term = term_;
    e.index = ++index;
  }
  if (!IncreaseUncommittedSize(entries)) return false;
  log_.Append(entries);
  // The leader's own acknowledgement arrives through OnPersisted, once durable.
  return true;
}

bool Raft::IncreaseUncommittedSize(const std::vector<Entry>& entries) {
  const uint64_t bytes = PayloadBytes(entries);
  const uint64_t limit = config_.max_uncommitted_entries_size;
  // Always accept when nothing is pending, so one large entry cannot wedge the group.
  if (limit != 0 && uncommitted_size_ > 0 && bytes > 0 && uncommitted_size_ + bytes > limit) {
    return false;
  }
  uncommitted_size_ += bytes;
  return true;
}

void Raft::ReduceUncommittedSize(uint64_t bytes) {
  uncommitted_size_ = bytes > uncommitted_size_ ? 0 : uncommitted_size_ - bytes;
}

bool Raft::MaybeCommit() {
  const Index quorum_index = trk_.Committed();
  if (quorum_index == UINT64_MAX || quorum_index <= log_.committed) return false;
  // Planted bug: counting replicas commits an entry of a previous term (the Figure 8
  // scenario of the Raft paper), which a later leader may overwrite.
  const Term commit_term = config_.planted.commit_previous_term_by_count
                               ? log_.ZeroTermOnError(log_.TermAt(quorum_index))
                               : term_;
  return log_.MaybeCommit(quorum_index, commit_term);
}

void Raft::OnPersisted(Index index, Term term) {
  if (state_ != StateType::kLeader) return;
  if (!log_.MatchTerm(index, term)) return;
  const Index durable = std::min(index, log_.StableLastIndex());
  auto self = trk_.progress.find(id_);
  if (self == trk_.progress.end()) return;  // removed, handing over: its log does not count
  if (self->second.MaybeUpdate(durable) && MaybeCommit()) BcastAppend();
}

void Raft::OnApplied(Index index, const std::vector<Entry>& entries) {
  log_.AppliedTo(index);
  if (state_ == StateType::kLeader) {
    ReduceUncommittedSize(PayloadBytes(entries));
    // Leave a joint configuration automatically once the change entering it is applied.
    if (trk_.config.auto_leave && index >= pending_conf_index_) {
      ConfChange leave;
      Entry entry;
      entry.type = EntryType::kConfChange;
      entry.data = EncodeConfChange(leave);
      Message m;
      m.type = MessageType::kProp;
      m.from = id_;
      m.entries.push_back(std::move(entry));
      (void)Step(m);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Membership

ConfState Raft::ApplyConfChange(const ConfChange& change) {
  ConfChanger changer(trk_, log_.LastIndex());
  bool auto_leave = false;
  absl::StatusOr<ChangedConfig> result = change.LeaveJoint() ? changer.LeaveJoint()
                                         : change.EnterJoint(&auto_leave)
                                             ? changer.EnterJoint(auto_leave, change.changes)
                                             : changer.Simple(change.changes);
  // Proposals are validated against the applied configuration and only one is pending
  // at a time, so a committed change always applies.
  EKV_ASSERT(result.ok(), "committed conf change ", DescribeConfChange(change),
             " does not apply: ", result.status().ToString());
  SwitchToConfig(std::move(result->config), std::move(result->progress));
  return trk_.GetConfState();
}

void Raft::HandOverAfterRemoval() {
  // Falling silent at once would strand the group when this leader is the only one that
  // knows the removal committed and holds the longest log: the others still count it as a
  // voter (they apply the removal only once they learn it committed) and it refuses them
  // its vote, so no one wins. Instead it keeps leading the new configuration (refusing
  // proposals) just long enough to tell everyone the commit index and hand the leadership
  // to the most caught-up voter; TickHeartbeat makes it step down after an election timeout
  // whatever happens.
  if (trk_.config.voters.incoming.empty()) {
    BecomeFollower(term_, kNoNode);
    return;
  }
  MaybeCommit();
  BcastAppend();
  NodeId transferee = kNoNode;
  Index best_match = 0;
  for (const auto& [id, pr] : trk_.progress) {  // ascending ids: ties go to the lowest
    if (id == id_ || pr.is_learner || !trk_.IsVoter(id)) continue;
    if (transferee == kNoNode || pr.match > best_match) {
      transferee = id;
      best_match = pr.match;
    }
  }
  if (transferee == kNoNode) {
    BecomeFollower(term_, kNoNode);
    return;
  }
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (best_match == log_.LastIndex()) SendTimeoutNow(transferee);
}

bool Raft::LeadsWithoutBeingAVoter() const {
  auto self = trk_.progress.find(id_);
  return state_ == StateType::kLeader && (self == trk_.progress.end() || self->second.is_learner);
}

void Raft::SwitchToConfig(TrackerConfig config, std::map<NodeId, Progress> progress) {
  trk_.config = std::move(config);
  trk_.progress = std::move(progress);
  auto self = trk_.progress.find(id_);
  const bool is_learner = self != trk_.progress.end() && self->second.is_learner;
  if ((self == trk_.progress.end() || is_learner) && state_ == StateType::kLeader) {
    HandOverAfterRemoval();
    return;
  }
  if (state_ != StateType::kLeader || trk_.config.voters.incoming.empty()) return;
  // The quorum changed: the commit index may advance, and new members need entries.
  if (MaybeCommit()) {
    BcastAppend();
  } else {
    for (const auto& [id, pr] : trk_.progress) {
      if (id != id_) MaybeSendAppend(id, /*send_if_empty=*/false);
    }
  }
  if (lead_transferee_ != kNoNode && !trk_.IsVoter(lead_transferee_)) AbortLeaderTransfer();
}

}  // namespace ekv::raft
