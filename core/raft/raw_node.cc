#include "core/raft/raw_node.h"
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/raft/raft.h"
#include "core/util/assert.h"

namespace ekv::raft {

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  if (absl::Status valid = config.Validate(); !valid.ok()) return valid;
  return std::unique_ptr<RawNode>(new RawNode(std::make_unique<Raft>(config)));
}

absl::Status RawNode::Bootstrap(MemoryStorage& storage, const std::vector<NodeId>& voters) {
  if (voters.empty()) return absl::InvalidArgumentError("bootstrap needs at least one voter");
  if (storage.LastIndex() != 0 || !storage.hard_state().IsEmpty()) {
    return absl::FailedPreconditionError("bootstrap requires empty storage");
  }
  // The initial membership is written as committed conf change entries at indexes 1..n
  // (as etcd does), not only as a ConfState: a member added later that replays the log
  // from index 1 must rebuild the same membership as everyone else.
  std::vector<NodeId> sorted = voters;
  std::sort(sorted.begin(), sorted.end());
  std::vector<Entry> entries;
  for (NodeId id : sorted) {
    ConfChange change;
    change.changes.push_back(ConfChangeSingle{ConfChangeType::kAddVoter, id});
    Entry entry;
    entry.term = 1;
    entry.index = entries.size() + 1;
    entry.type = EntryType::kConfChange;
    entry.data = EncodeConfChange(change);
    entries.push_back(std::move(entry));
  }
  if (absl::Status status = storage.Append(entries); !status.ok()) return status;
  storage.SetHardState(HardState{1, kNoNode, entries.size()});
  return absl::OkStatus();
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {
  prev_soft_state_ = SoftState{raft_->lead(), raft_->state()};
  prev_hard_state_ = raft_->GetHardState();
}

RawNode::~RawNode() = default;

void RawNode::Tick() { raft_->Tick(); }

absl::Status RawNode::Campaign() {
  Message m;
  m.type = MessageType::kHup;
  m.from = raft_->id();
  return raft_->Step(m);
}

absl::Status RawNode::Propose(std::string data) {
  Message m;
  m.type = MessageType::kProp;
  m.from = raft_->id();
  Entry entry;
  entry.data = std::move(data);
  m.entries.push_back(std::move(entry));
  return raft_->Step(m);
}

absl::Status RawNode::ProposeBatch(std::vector<std::string> data) {
  EKV_ASSERT(!data.empty(), "ProposeBatch without entries");
  Message m;
  m.type = MessageType::kProp;
  m.from = raft_->id();
  m.entries.resize(data.size());
  for (size_t i = 0; i < data.size(); ++i) m.entries[i].data = std::move(data[i]);
  return raft_->Step(m);
}

absl::Status RawNode::ProposeConfChange(const ConfChange& change) {
  Message m;
  m.type = MessageType::kProp;
  m.from = raft_->id();
  Entry entry;
  entry.type = EntryType::kConfChange;
  entry.data = EncodeConfChange(change);
  m.entries.push_back(std::move(entry));
  return raft_->Step(m);
}

ConfState RawNode::ApplyConfChange(const ConfChange& change) {
  return raft_->ApplyConfChange(change);
}

absl::Status RawNode::Step(const Message& message) {
  if (IsLocalMessage(message.type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot step local message ", MessageTypeName(message.type)));
  }
  if (message.group != 0 && message.group != raft_->group()) {
    return absl::InvalidArgumentError(
        absl::StrCat("message for group ", message.group, " stepped into group ", raft_->group()));
  }
  // A response from a peer that is no longer a member carries nothing we need.
  if (IsResponseMessage(message.type) &&
      raft_->tracker().progress.find(message.from) == raft_->tracker().progress.end()) {
    return absl::OkStatus();
  }
  return raft_->Step(message);
}

absl::Status RawNode::ReadIndex(std::string request_context) {
  Message m;
  m.type = MessageType::kReadIndex;
  m.from = raft_->id();
  m.context = std::move(request_context);
  return raft_->Step(m);
}

absl::Status RawNode::TransferLeadership(NodeId transferee) {
  Message m;
  m.type = MessageType::kTransferLeader;
  m.from = transferee;
  return raft_->Step(m);
}

void RawNode::ReportUnreachable(NodeId peer) {
  Message m;
  m.type = MessageType::kUnreachable;
  m.from = peer;
  (void)raft_->Step(m);
}

void RawNode::ReportSnapshot(NodeId peer, bool failed) {
  Message m;
  m.type = MessageType::kSnapStatus;
  m.from = peer;
  m.reject = failed;
  (void)raft_->Step(m);
}

bool RawNode::HasReady() const {
  if (outstanding_ready_id_ != 0) return false;
  const RaftLog& log = raft_->log();
  if (SoftState{raft_->lead(), raft_->state()} != prev_soft_state_) return true;
  if (raft_->GetHardState() != prev_hard_state_) return true;
  return log.HasNextUnstableSnapshot() || log.HasNextUnstableEntries() || raft_->HasMessages() ||
         raft_->HasMessagesAfterPersist() || raft_->HasReadStates() ||
         log.HasNextCommittedEntries();
}

bool RawNode::HasCommittedEntries() const { return raft_->log().HasNextCommittedEntries(); }

std::vector<Entry> RawNode::TakeCommittedEntries() {
  RaftLog& log = raft_->mutable_log();
  std::vector<Entry> entries = log.NextCommittedEntries();
  if (!entries.empty()) log.AcceptApplying(entries.back().index);
  return entries;
}

void RawNode::AdvanceApplied(const std::vector<Entry>& applied) {
  if (applied.empty()) return;
  raft_->OnApplied(applied.back().index, applied);
}

std::vector<ReadState> RawNode::TakeReadStates() { return raft_->TakeReadStates(); }

Ready RawNode::GetReady() {
  EKV_ASSERT(outstanding_ready_id_ == 0, "GetReady called before Advance of ready ",
             outstanding_ready_id_);
  Ready ready;
  ready.persist.ready_id = next_ready_id_++;
  outstanding_ready_id_ = ready.persist.ready_id;

  const SoftState soft{raft_->lead(), raft_->state()};
  if (soft != prev_soft_state_) {
    ready.soft_state = soft;
    prev_soft_state_ = soft;
  }
  RaftLog& log = raft_->mutable_log();
  if (log.HasNextUnstableSnapshot()) ready.persist.snapshot = *log.UnstableSnapshot();
  ready.persist.entries = log.UnstableEntries();
  const HardState hs = raft_->GetHardState();
  if (hs != prev_hard_state_) {
    ready.persist.hard_state = hs;
    ready.persist.has_hard_state = true;
    ready.must_sync = hs.term != prev_hard_state_.term || hs.vote != prev_hard_state_.vote;
  }
  ready.must_sync =
      ready.must_sync || !ready.persist.entries.empty() || !ready.persist.snapshot.IsEmpty();

  ready.messages = raft_->TakeMessages();
  ready.messages_after_persist_ = raft_->TakeMessagesAfterPersist();
  ready.read_states = raft_->TakeReadStates();
  ready.committed_entries = log.NextCommittedEntries();
  if (!ready.committed_entries.empty()) {
    log.AcceptApplying(ready.committed_entries.back().index);
  }

  outstanding_last_index_ = ready.persist.entries.empty() ? 0 : ready.persist.entries.back().index;
  outstanding_last_term_ = ready.persist.entries.empty() ? 0 : ready.persist.entries.back().term;
  outstanding_snapshot_index_ = ready.persist.snapshot.metadata.index;
  return ready;
}

std::vector<Message> RawNode::Advance(Ready ready, const PersistReceipt& receipt) {
  EKV_ASSERT(ready.id() == outstanding_ready_id_, "Advance of ready ", ready.id(), " but ready ",
             outstanding_ready_id_, " is outstanding");
  EKV_ASSERT(receipt.ready_id() == ready.id(), "persist receipt for ready ", receipt.ready_id(),
             " presented for ready ", ready.id());
  outstanding_ready_id_ = 0;
  RaftLog& log = raft_->mutable_log();

  if (ready.persist.has_hard_state) prev_hard_state_ = ready.persist.hard_state;
  if (!ready.persist.snapshot.IsEmpty()) {
    const SnapshotMetadata& meta = ready.persist.snapshot.metadata;
    log.StableSnapTo(meta.index);
    // The driver restored its state machine from the snapshot before advancing.
    if (meta.index > log.applied) log.AppliedTo(meta.index);
    raft_->OnPersisted(meta.index, meta.term);
  }
  if (outstanding_last_index_ != 0) {
    log.StableTo(outstanding_last_index_, outstanding_last_term_);
    raft_->OnPersisted(outstanding_last_index_, outstanding_last_term_);
  }
  if (!ready.committed_entries.empty()) {
    raft_->OnApplied(ready.committed_entries.back().index, ready.committed_entries);
  }

  // Durability promises may now leave. Those addressed to ourselves (our own vote) are
  // delivered here; the rest go to the driver.
  std::vector<Message> outgoing;
  for (Message& m : ready.messages_after_persist_) {
    if (m.to == raft_->id()) {
      (void)raft_->Step(m);
    } else {
      outgoing.push_back(std::move(m));
    }
  }
  return outgoing;
}

NodeId RawNode::id() const { return raft_->id(); }
GroupId RawNode::group() const { return raft_->group(); }
Term RawNode::term() const { return raft_->term(); }
NodeId RawNode::leader() const { return raft_->lead(); }
StateType RawNode::state() const { return raft_->state(); }
Index RawNode::commit_index() const { return raft_->log().committed; }
Index RawNode::applied_index() const { return raft_->log().applied; }
Index RawNode::last_index() const { return raft_->log().LastIndex(); }
bool RawNode::HasPendingConfChange() const {
  return raft_->pending_conf_index() > raft_->log().applied;
}
std::vector<NodeId> RawNode::MembersBehindConfiguration() const {
  EKV_ASSERT(raft_->state() == StateType::kLeader, "only a leader tracks its members' progress");
  std::vector<NodeId> behind;
  for (const auto& [id, pr] : raft_->tracker().progress) {
    if (id != raft_->id() && pr.match < raft_->pending_conf_index()) behind.push_back(id);
  }
  return behind;
}
Index RawNode::configuration_index() const { return raft_->pending_conf_index(); }
Index RawNode::stable_last_index() const { return raft_->log().StableLastIndex(); }
HardState RawNode::hard_state() const { return raft_->GetHardState(); }
ConfState RawNode::conf_state() const { return raft_->tracker().GetConfState(); }

std::string RawNode::DescribeProgress() const {
  std::string out;
  for (const auto& [id, pr] : raft_->tracker().progress) {
    absl::StrAppend(&out, id, ": ", pr.Describe(), "\n");
  }
  return out;
}

}  // namespace ekv::raft
