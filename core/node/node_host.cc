#include "core/node/node_host.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/node/codec.h"
#include "core/util/assert.h"

namespace ekv::node {
namespace {

// Readies one group may hand out back to back in one TakeEffects when they need no
// durable write; a bound, not an expected count (each one makes progress).
constexpr int kMaxReadiesPerGroupPerRound = 64;

// Client writes submitted between two TakeEffects calls are proposed together, as one
// Raft message (RawNode::ProposeBatch): the leader then sends each follower one append for
// the whole batch instead of one per write, and a follower forwards them in one MsgProp.
// These bound one batch; reaching either proposes what is buffered at once.
constexpr size_t kMaxBatchedProposals = 512;
constexpr size_t kMaxBatchedProposalBytes = 1 << 20;

uint64_t MixSeed(uint64_t seed, uint64_t group) {
  uint64_t z = seed ^ (group * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (z ^ (z >> 31)) | 1;
}

// A read index request names its asker: the leader keeps one pending request per context,
// so two nodes' reads with the same sequence number must not look alike (the second would be
// dropped as a duplicate and wait out its deadline), and an answer to an earlier incarnation
// of this node must not serve a read asked after the restart.
std::string EncodeReadContext(uint64_t seq, raft::NodeId node, uint64_t incarnation) {
  std::string context;
  PutVarint(context, seq);
  PutVarint(context, node);
  PutVarint(context, incarnation);
  return context;
}

// A conf change proposed for a client names its proposer in the entry's context, as a
// Command does in its header: the marker keeps contexts written by anyone else (tests,
// older releases) from being mistaken for one.
constexpr char kConfChangeOriginMarker = '\xC7';

struct ConfChangeOrigin {
  raft::NodeId node = raft::kNoNode;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
};

std::string EncodeConfChangeOrigin(const ConfChangeOrigin& origin) {
  std::string context(1, kConfChangeOriginMarker);
  PutVarint(context, origin.node);
  PutVarint(context, origin.incarnation);
  PutVarint(context, origin.seq);
  return context;
}

std::optional<ConfChangeOrigin> DecodeConfChangeOrigin(std::string_view context) {
  if (context.empty() || context[0] != kConfChangeOriginMarker) return std::nullopt;
  Decoder decoder(context.substr(1));
  ConfChangeOrigin origin;
  if (!decoder.Varint(&origin.node) || !decoder.Varint(&origin.incarnation) ||
      !decoder.Varint(&origin.seq) || !decoder.Done()) {
    return std::nullopt;
  }
  return origin;
}

}  // namespace

struct NodeHost::Group {
  raft::GroupId id = 0;
  std::unique_ptr<raft::MemoryStorage> storage;
  std::unique_ptr<StateMachine> state_machine;
  std::unique_ptr<raft::RawNode> raw_node;
  // The Ready handed to the driver as a PersistRequest, until OnPersisted.
  std::optional<raft::Ready> outstanding;
  // The outstanding Ready's committed entries were applied when it was handed out.
  bool committed_applied_early = false;
  std::map<uint64_t, PendingRequest> proposals;  // writes, by proposal sequence
  std::map<uint64_t, PendingRequest> reads;      // gets, by read sequence
  // Client writes accepted since the last TakeEffects, not yet handed to Raft (their
  // requests already wait in `proposals`), and the payload bytes they hold.
  std::vector<std::string> batched_payloads;
  std::vector<uint64_t> batched_seqs;
  size_t batched_bytes = 0;
  raft::StateType last_state = raft::StateType::kFollower;
  raft::Index snapshot_index = 0;  // of the storage's latest snapshot
  // The last conf change Raft applied. A snapshot older than it must not be the one sent
  // to a follower: a node added by it is not in that snapshot's configuration and would
  // refuse it, and with the log compacted past it the leader would offer it forever.
  raft::Index conf_change_index = 0;
  raft::Term conf_change_term = 0;  // its entry's; term 1 is the bootstrap's
  // The last index Raft handed to ApplyEntry (applied or, for a durable state machine
  // already holding it, skipped) or restored from a snapshot. A snapshot must not claim
  // more than this: Raft may still have to hand out the entries above it.
  raft::Index delivered_index = 0;
  // Writes appended as leader may be pending after a loss of leadership (node_host.h
  // PendingRequest::log_index): each apply must look for ones it passed.
  bool has_orphaned_writes = false;

  // Timestamps (node_host.h); oracle stays null for state machines without them.
  std::unique_ptr<TimestampOracle> oracle;
  raft::Term oracle_term_started = 0;             // the term whose start floor was proposed
  raft::Index term_floor_index = 0;               // that floor's log index
  std::map<uint64_t, PendingRequest> timestamps;  // waiting kTimestamp requests, by seq
  uint64_t confirm_seq = 0;  // ReadIndex context of the confirmation in flight (0: none)
  int confirm_tick = 0;
  uint64_t confirmed_before_seq = 0;  // requests with a smaller seq are confirmed ...
  raft::Index confirmed_index = 0;    // ... once the group applied this far
  uint64_t read_floor_proposed = 0;   // largest read floor proposed from this node
  int read_floor_tick = 0;

  size_t pending() const { return proposals.size() + reads.size() + timestamps.size(); }
};

NodeHost::NodeHost(const NodeHostOptions& options) : options_(options) {
  EKV_ASSERT(options_.node_id != raft::kNoNode, "a NodeHost needs a node id");
}

NodeHost::~NodeHost() = default;

absl::Status NodeHost::AddGroup(raft::GroupId group_id,
                                std::unique_ptr<raft::MemoryStorage> storage,
                                std::unique_ptr<StateMachine> state_machine) {
  if (groups_.count(group_id) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("group ", group_id, " is already hosted"));
  }
  auto group = std::make_unique<Group>();
  group->id = group_id;
  group->storage = std::move(storage);
  group->state_machine = std::move(state_machine);

  absl::StatusOr<raft::Snapshot> snapshot = group->storage->GetSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->IsEmpty()) {
    absl::Status restored = group->state_machine->Restore(snapshot->data, snapshot->metadata.index);
    if (!restored.ok()) return restored;
  }
  group->snapshot_index = snapshot->metadata.index;
  group->delivered_index = snapshot->metadata.index;

  raft::Config config = options_.raft;
  config.id = options_.node_id;
  config.group = group_id;
  config.storage = group->storage.get();
  // Raft re-delivers every committed entry after the snapshot: a state machine in a
  // durable engine may already hold some of them (ApplyEntry skips those), but their
  // configuration changes must reach Raft again.
  config.applied = snapshot->metadata.index;
  config.randomization_seed = MixSeed(options_.seed ^ options_.incarnation, group_id);
  // Every group's log starts with its bootstrap configuration entries (RawNode::Bootstrap).
  config.snapshot_for_empty_followers = true;
  config.refuse_changes_without_active_quorum = true;
  absl::StatusOr<std::unique_ptr<raft::RawNode>> raw_node = raft::RawNode::Create(config);
  if (!raw_node.ok()) return raw_node.status();
  group->raw_node = std::move(*raw_node);
  group->last_state = group->raw_node->state();
  groups_.emplace(group_id, std::move(group));
  return absl::OkStatus();
}

absl::Status NodeHost::RemoveGroup(raft::GroupId group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("group ", group_id, " is not hosted"));
  }
  FailAllPending(*it->second, ReplyStatus::kUnknown,
                 absl::StrCat("group ", group_id, " was removed from node ", options_.node_id));
  groups_.erase(it);
  removed_groups_.insert(group_id);
  std::erase_if(persists_, [group_id](const PersistRequest& p) { return p.group == group_id; });
  std::erase_if(snapshots_, [group_id](const SnapshotCreated& s) { return s.group == group_id; });
  for (auto& [to, messages] : outbound_) {
    std::erase_if(messages, [group_id](const raft::Message& m) { return m.group == group_id; });
  }
  return absl::OkStatus();
}

NodeHost::Group& NodeHost::GetGroup(raft::GroupId group) {
  auto it = groups_.find(group);
  EKV_ASSERT(it != groups_.end(), "group ", group, " is not hosted on node ", options_.node_id);
  return *it->second;
}

std::vector<raft::GroupId> NodeHost::groups() const {
  std::vector<raft::GroupId> ids;
  for (const auto& [id, group] : groups_) ids.push_back(id);
  return ids;
}

void NodeHost::Tick() {
  ++tick_;
  for (auto& [id, group] : groups_) {
    group->raw_node->Tick();
    MaybeStartOracleTerm(*group);  // a single-voter group may have just become leader
    for (auto it = group->timestamps.begin(); it != group->timestamps.end();) {
      if (it->second.deadline_tick <= tick_) {
        // Timestamps have no effect: a client may always ask again.
        Reply(it->second.request, ReplyStatus::kFailed, std::nullopt, 0,
              "timestamp request timed out (no committed ceiling or leadership confirmation)");
        it = group->timestamps.erase(it);
      } else {
        ++it;
      }
    }
    // Expire requests past their deadline: a proposed write may still commit (unknown);
    // a get that has not been served had no effect (failed).
    for (auto it = group->proposals.begin(); it != group->proposals.end();) {
      if (it->second.deadline_tick <= tick_) {
        Reply(it->second.request, ReplyStatus::kUnknown, std::nullopt, 0, "timed out");
        it = group->proposals.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = group->reads.begin(); it != group->reads.end();) {
      if (it->second.deadline_tick <= tick_) {
        // Say what the read still waited for: a read that never completes on one replica
        // is otherwise indistinguishable from a lost reply.
        const PendingRequest& read = it->second;
        const raft::RawNode& raft = *group->raw_node;
        const raft::Index applied = group->state_machine->applied_index();
        const std::string waited_for =
            !read.has_read_index ? std::string("a read index from the leader")
            : applied < read.read_index
                ? absl::StrCat("its read index ", read.read_index, " to apply")
                : absl::StrCat("the read floor ", group->state_machine->read_floor_ts(),
                               " to reach ", read.read_floor_ts);
        Reply(read.request, ReplyStatus::kFailed, std::nullopt, 0,
              absl::StrCat("read timed out waiting for ", waited_for, " (node ", options_.node_id,
                           " is ", raft::StateTypeName(raft.state()), " of term ", raft.term(),
                           ", leader ", raft.leader(), ", applied ", applied, ")"));
        it = group->reads.erase(it);
        continue;
      }
      // A read index request forwarded to a leader is lost with the message, or dropped by
      // a leader that has not committed in its term yet: ask again rather than wait out the
      // deadline. Any index obtained after the read arrived serves it linearizably.
      PendingRequest& pending = it->second;
      if (!pending.has_read_index && tick_ - pending.asked_tick >= options_.floor_retry_ticks) {
        pending.asked_tick = tick_;
        // Refused (no leader known): the next round asks again.
        (void)group->raw_node->ReadIndex(
            EncodeReadContext(it->first, options_.node_id, options_.incarnation));
      }
      ++it;
    }
  }
}

void NodeHost::Receive(const raft::Message& message) {
  EKV_ASSERT(message.to == options_.node_id, "message for node ", message.to, " delivered to node ",
             options_.node_id);
  const bool forwarded_proposal = message.type == raft::MessageType::kProp &&
                                  message.from != options_.node_id && message.from != raft::kNoNode;
  if (forwarded_proposal && message.reject) {
    // Another node refused a proposal this node forwarded.
    auto it = groups_.find(message.group);
    if (it != groups_.end()) {
      AnswerOwnProposals(
          *it->second, message.entries,
          absl::StrCat("node ", message.from, " refused the proposal: ", message.context));
    }
    return;
  }
  auto it = groups_.find(message.group);
  if (it == groups_.end()) {
    // A group this node does not (or no longer) host.
    if (forwarded_proposal) {
      RefuseForwardedProposal(message, absl::StrCat("group ", message.group, " is not hosted"));
    }
    return;
  }
  Group& group = *it->second;
  // A follower's forwarded proposal is appended by this Step: floors go first.
  if (message.type == raft::MessageType::kProp &&
      group.raw_node->state() == raft::StateType::kLeader) {
    BeforeProposal(group);
  }
  // Step errors are stale or irrelevant messages (e.g. from a removed peer), which Raft
  // ignores and resends what matters; except a forwarded proposal, which Raft drops
  // without a word (no leader, a leadership transfer, a full log) and never resends.
  absl::Status status = group.raw_node->Step(message);
  if (!status.ok() && forwarded_proposal) RefuseForwardedProposal(message, status.message());
  MaybeStartOracleTerm(group);  // a vote may have just made this node leader
}

void NodeHost::RefuseForwardedProposal(const raft::Message& proposal, absl::string_view why) {
  // Raft refuses a proposal before appending any of its entries, so the proposer may
  // answer its clients "certainly not applied" (the transports never duplicate a message,
  // so no other copy can be appended elsewhere). Without this notice they would wait out
  // their deadline and be told "outcome unknown".
  raft::Message refusal;
  refusal.group = proposal.group;
  refusal.type = raft::MessageType::kProp;
  refusal.from = options_.node_id;
  refusal.to = proposal.from;
  refusal.reject = true;
  refusal.context = std::string(why);
  refusal.entries = proposal.entries;
  std::vector<raft::Message> out;
  out.push_back(std::move(refusal));
  Send(std::move(out));
}

void NodeHost::AnswerOwnProposals(Group& group, const std::vector<raft::Entry>& entries,
                                  absl::string_view why, ReplyStatus status) {
  for (const raft::Entry& entry : entries) {
    if (entry.type != raft::EntryType::kNormal || entry.data.empty()) continue;
    absl::StatusOr<Command> command = DecodeCommand(entry.data);
    if (!command.ok() || command->origin_node != options_.node_id ||
        command->origin_incarnation != options_.incarnation) {
      continue;
    }
    auto pending = group.proposals.find(command->proposal_seq);
    if (pending == group.proposals.end()) continue;
    Reply(pending->second.request, status, std::nullopt, 0, std::string(why));
    group.proposals.erase(pending);
  }
}

void NodeHost::SubmitClientRequest(const ClientRequest& request) {
  auto it = groups_.find(request.group);
  if (it == groups_.end()) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("group ", request.group, " is not hosted on node ", options_.node_id));
    return;
  }
  Group& group = *it->second;
  if (request.kind == OpKind::kReplicaStatus) {
    const raft::ConfState conf = group.raw_node->conf_state();
    raft::ConfChange roles;
    // A voter of an outgoing joint configuration still votes: listed as a voter.
    for (const auto* voters : {&conf.voters, &conf.voters_outgoing}) {
      for (raft::NodeId voter : *voters) {
        roles.changes.push_back({raft::ConfChangeType::kAddVoter, voter});
      }
    }
    for (const auto* learners : {&conf.learners, &conf.learners_next}) {
      for (raft::NodeId learner : *learners) {
        roles.changes.push_back({raft::ConfChangeType::kAddLearner, learner});
      }
    }
    Reply(request, ReplyStatus::kOk, raft::EncodeConfChange(roles), group.raw_node->applied_index(),
          "", group.raw_node->leader());
    replies_.back().timestamp = group.raw_node->commit_index();
    return;
  }
  if (request.kind == OpKind::kConfigurationAcknowledged) {
    SubmitConfigurationAcknowledged(group, request);
    return;
  }
  if (request.kind == OpKind::kTimestamp) {
    SubmitTimestamp(group, request);
    return;
  }
  if (request.kind == OpKind::kConfChange) {
    SubmitConfChange(group, request);
    return;
  }
  if (request.kind == OpKind::kTransferLeader) {
    SubmitTransferLeader(group, request);
    return;
  }
  const bool leader = group.raw_node->state() == raft::StateType::kLeader;
  const bool follower_with_leader = group.raw_node->state() == raft::StateType::kFollower &&
                                    group.raw_node->leader() != raft::kNoNode;
  // A follower that knows its leader may serve too: Raft forwards its proposals (MsgProp)
  // and read index requests to the leader, and the entry's origin tag brings the result
  // back to this node when it applies the entry. Saves clients a forwarding hop.
  if (!leader && !(options_.serve_on_followers && follower_with_leader)) {
    Reply(request, ReplyStatus::kNotLeader, std::nullopt, 0, "not the leader",
          group.raw_node->leader());
    return;
  }
  if (group.pending() >= options_.max_pending_requests_per_group) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("busy: ", group.pending(), " requests pending, limit ",
                       options_.max_pending_requests_per_group));
    return;
  }
  const uint64_t seq = next_proposal_seq_++;
  PendingRequest pending{request, tick_ + options_.request_timeout_ticks, 0, false};
  pending.asked_tick = tick_;
  if (request.kind == OpKind::kGet || request.kind == OpKind::kQuery) {
    // A read that stalls on this replica (a learner still catching up, a leader it cannot
    // reach) is given up at half the deadline, which leaves the client's coordinator time
    // to ask another node: unlike a write, an abandoned read had no effect.
    pending.deadline_tick = tick_ + std::max(1, options_.request_timeout_ticks / 2);
  }
  if (request.kind == OpKind::kQuery) {
    const uint64_t read_ts = group.state_machine->QueryReadTimestamp(request.value);
    if (read_ts > group.state_machine->read_floor_ts()) {
      pending.read_floor_ts = read_ts;
      MaybeProposeReadFloor(group, read_ts);
    }
  }
  if (request.kind == OpKind::kGet || request.kind == OpKind::kQuery) {
    absl::Status status =
        group.raw_node->ReadIndex(EncodeReadContext(seq, options_.node_id, options_.incarnation));
    if (!status.ok()) {
      Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
            absl::StrCat("read index refused: ", status.message()));
      return;
    }
    group.reads.emplace(seq, std::move(pending));
    return;
  }
  Command command{options_.node_id, options_.incarnation, seq, request.kind, request.key,
                  request.value,    request.expected};
  // Buffered, not proposed yet: TakeEffects proposes every write of the round together.
  std::string payload = EncodeCommand(command);
  group.batched_bytes += payload.size();
  group.batched_payloads.push_back(std::move(payload));
  group.batched_seqs.push_back(seq);
  group.proposals.emplace(seq, std::move(pending));
  if (group.batched_payloads.size() >= kMaxBatchedProposals ||
      group.batched_bytes >= kMaxBatchedProposalBytes) {
    ProposeBatched(group);
  }
}

void NodeHost::ProposeBatched(Group& group) {
  if (group.batched_payloads.empty()) return;
  std::vector<std::string> payloads = std::move(group.batched_payloads);
  std::vector<uint64_t> seqs = std::move(group.batched_seqs);
  group.batched_payloads.clear();
  group.batched_seqs.clear();
  group.batched_bytes = 0;
  // Whether this node leads now, not when the writes arrived: floors go ahead of them.
  const bool leading = group.raw_node->state() == raft::StateType::kLeader;
  if (leading) BeforeProposal(group);
  const size_t count = payloads.size();
  absl::Status status = group.raw_node->ProposeBatch(std::move(payloads));
  if (status.ok()) {
    if (leading) {
      // A leader appends the batch at the end of its log, in order.
      const raft::Index last = group.raw_node->last_index();
      EKV_ASSERT(last >= count, "group ", group.id, ": ", count, " writes appended but last index ",
                 last);
      for (size_t i = 0; i < seqs.size(); ++i) {
        auto it = group.proposals.find(seqs[i]);
        if (it != group.proposals.end()) it->second.log_index = last - count + 1 + i;
      }
    }
    return;
  }
  // Refused as a whole: none of them is in the log, so each may safely be retried.
  for (uint64_t seq : seqs) {
    auto it = group.proposals.find(seq);
    if (it == group.proposals.end()) continue;  // already answered (timed out, deposed)
    Reply(it->second.request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("proposal dropped: ", status.message()));
    group.proposals.erase(it);
  }
}

namespace {

// A single change the leader's applied configuration already shows, with no other change
// pending: adding a node that is in the group in any role (as a learner: in any role, so
// a voter is never demoted), promoting a voter, removing a node that is not in it.
// Joint configurations are never judged done.
bool ConfChangeAlreadyMade(const raft::RawNode& raw_node, const raft::ConfChange& change) {
  if (change.changes.size() != 1 || raw_node.HasPendingConfChange()) return false;
  const raft::ConfState conf = raw_node.conf_state();
  if (!conf.voters_outgoing.empty()) return false;
  const raft::NodeId node = change.changes.front().node;
  auto in = [node](const std::vector<raft::NodeId>& ids) {
    return std::find(ids.begin(), ids.end(), node) != ids.end();
  };
  const bool voter = in(conf.voters);
  const bool member = voter || in(conf.learners) || in(conf.learners_next);
  switch (change.changes.front().type) {
    case raft::ConfChangeType::kAddLearner:
      return member;
    case raft::ConfChangeType::kAddVoter:
      return voter;
    case raft::ConfChangeType::kRemoveVoter:
      return !member;
  }
  return false;
}

}  // namespace

void NodeHost::SubmitConfChange(Group& group, const ClientRequest& request) {
  if (group.raw_node->state() != raft::StateType::kLeader) {
    Reply(request, ReplyStatus::kNotLeader, std::nullopt, 0, "not the leader",
          group.raw_node->leader());
    return;
  }
  absl::StatusOr<raft::ConfChange> change = raft::DecodeConfChange(request.value);
  if (!change.ok()) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("malformed conf change: ", change.status().message()));
    return;
  }
  if (ConfChangeAlreadyMade(*group.raw_node, *change)) {
    // Idempotent for callers that cannot see the configuration (a coordinator on a node
    // that does not host the group, or one repeating a change whose answer was lost):
    // proposing it again is not harmless, since a learner added again demotes a voter.
    Reply(request, ReplyStatus::kOk, std::nullopt, group.raw_node->applied_index(),
          "already in the configuration");
    return;
  }
  if (std::optional<std::vector<raft::NodeId>> keep = DecodeKeepVoters(change->context);
      keep.has_value() && !group.raw_node->HasPendingConfChange()) {
    // With a change pending the proposal below is refused (retryably) anyway.
    const raft::ConfState conf = group.raw_node->conf_state();
    for (raft::NodeId node : *keep) {
      const bool voter =
          conf.voters_outgoing.empty() &&
          std::find(conf.voters.begin(), conf.voters.end(), node) != conf.voters.end();
      bool changed = false;
      for (const raft::ConfChangeSingle& single : change->changes) {
        changed =
            changed || (single.node == node && single.type != raft::ConfChangeType::kAddVoter);
      }
      if (!voter || changed) {
        Reply(request, ReplyStatus::kOk, std::string(kKeepVotersRefused),
              group.raw_node->applied_index(),
              absl::StrCat("node ", node, " must stay a voter of group ", group.id,
                           " and would not: nothing proposed"));
        return;
      }
    }
  }
  if (IsMembersOnly(change->context) && !group.raw_node->HasPendingConfChange()) {
    const raft::ConfState conf = group.raw_node->conf_state();
    auto in = [](const std::vector<raft::NodeId>& ids, raft::NodeId node) {
      return std::find(ids.begin(), ids.end(), node) != ids.end();
    };
    for (const raft::ConfChangeSingle& single : change->changes) {
      if (single.type == raft::ConfChangeType::kRemoveVoter) continue;
      const bool member = in(conf.voters, single.node) || in(conf.learners, single.node) ||
                          in(conf.learners_next, single.node);
      if (!member) {
        Reply(request, ReplyStatus::kOk, std::string(kMembersOnlyRefused),
              group.raw_node->applied_index(),
              absl::StrCat("node ", single.node, " is no member of group ", group.id,
                           " any more: nothing proposed"));
        return;
      }
    }
  }
  const uint64_t seq = next_proposal_seq_++;
  change->context = EncodeConfChangeOrigin({options_.node_id, options_.incarnation, seq});
  BeforeProposal(group);
  if (absl::Status status = group.raw_node->ProposeConfChange(*change); !status.ok()) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("conf change refused: ", status.message()));
    return;
  }
  PendingRequest pending{request, tick_ + options_.request_timeout_ticks, 0, false};
  pending.log_index = group.raw_node->last_index();
  group.proposals.emplace(seq, std::move(pending));
}

void NodeHost::SubmitConfigurationAcknowledged(Group& group, const ClientRequest& request) {
  if (group.raw_node->state() != raft::StateType::kLeader) {
    Reply(request, ReplyStatus::kNotLeader, std::nullopt, 0, "not the leader",
          group.raw_node->leader());
    return;
  }
  if (group.raw_node->HasPendingConfChange()) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("group ", group.id, ": a configuration change is not applied yet"),
          options_.node_id);
    return;
  }
  Reply(request, ReplyStatus::kOk, absl::StrJoin(group.raw_node->MembersBehindConfiguration(), ","),
        group.raw_node->configuration_index(), "", options_.node_id);
}

void NodeHost::SubmitTransferLeader(Group& group, const ClientRequest& request) {
  uint64_t transferee = raft::kNoNode;
  if (!absl::SimpleAtoi(request.value, &transferee) || transferee == raft::kNoNode) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("transfer leader: '", request.value, "' is not a node id"));
    return;
  }
  if (group.raw_node->state() != raft::StateType::kLeader) {
    // The transferee leads already (the transfer happened, its answer was lost): done.
    const ReplyStatus status =
        group.raw_node->leader() == transferee ? ReplyStatus::kOk : ReplyStatus::kNotLeader;
    Reply(request, status, std::nullopt, 0, "not the leader", group.raw_node->leader());
    return;
  }
  if (transferee == options_.node_id) {
    Reply(request, ReplyStatus::kOk, std::nullopt, 0, "leads already", options_.node_id);
    return;
  }
  const raft::ConfState conf = group.raw_node->conf_state();
  if (std::find(conf.voters.begin(), conf.voters.end(), transferee) == conf.voters.end() ||
      !conf.voters_outgoing.empty()) {
    // Raft ignores a transfer to a learner; a joint configuration is on its way out.
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("transfer leader: node ", transferee, " is not a voter of group ", group.id,
                       " (or its configuration is changing)"),
          options_.node_id);
    return;
  }
  if (absl::Status status = group.raw_node->TransferLeadership(transferee); !status.ok()) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("transfer leader refused: ", status.message()), options_.node_id);
    return;
  }
  Reply(request, ReplyStatus::kOk, std::nullopt, 0, "transfer started", options_.node_id);
}

void NodeHost::OnPersisted(raft::GroupId group_id, uint64_t ready_id) {
  // A persist of a group removed since it was handed out: nothing waits for it.
  if (removed_groups_.contains(group_id) && !groups_.contains(group_id)) return;
  Group& group = GetGroup(group_id);
  EKV_ASSERT(group.outstanding.has_value() && group.outstanding->id() == ready_id,
             "OnPersisted(group ", group_id, ", ready ", ready_id,
             ") does not match the outstanding persist request");
  // The driver's medium holds the batch durably; now the in-memory Storage may serve it
  // and certify it.
  absl::StatusOr<raft::PersistReceipt> receipt = group.storage->Persist(group.outstanding->persist);
  EKV_ASSERT(receipt.ok(), "in-memory storage rejected a durable batch of group ", group_id, ": ",
             receipt.status().ToString());
  FinishReady(group, *receipt);
}

void NodeHost::ReportSnapshot(raft::GroupId group, raft::NodeId peer, bool failed) {
  auto it = groups_.find(group);
  if (it != groups_.end()) it->second->raw_node->ReportSnapshot(peer, failed);
}

void NodeHost::ReportUndelivered(const raft::Message& message) {
  if (message.type != raft::MessageType::kProp) return;
  auto it = groups_.find(message.group);
  if (it == groups_.end()) return;
  if (message.from != options_.node_id && message.from != raft::kNoNode) {
    // Relayed for another follower (it named this node as leader): tell the proposer.
    RefuseForwardedProposal(message, "it was lost on the way to the leader");
    return;
  }
  AnswerOwnProposals(*it->second, message.entries,
                     "the proposal was lost before it reached the leader");
}

void NodeHost::ReportUnreachable(raft::GroupId group, raft::NodeId peer) {
  auto it = groups_.find(group);
  if (it != groups_.end()) it->second->raw_node->ReportUnreachable(peer);
}

absl::Status NodeHost::TransferLeadership(raft::GroupId group, raft::NodeId transferee) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return absl::NotFoundError(absl::StrCat("no group ", group));
  return it->second->raw_node->TransferLeadership(transferee);
}

absl::Status NodeHost::Campaign(raft::GroupId group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return absl::NotFoundError(absl::StrCat("no group ", group));
  absl::Status status = it->second->raw_node->Campaign();
  MaybeStartOracleTerm(*it->second);  // a single-voter group wins at once
  return status;
}

absl::Status NodeHost::ProposeConfChange(raft::GroupId group, const raft::ConfChange& change) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return absl::NotFoundError(absl::StrCat("no group ", group));
  return it->second->raw_node->ProposeConfChange(change);
}

Effects NodeHost::TakeEffects() {
  for (auto& [id, group] : groups_) {
    ProposeBatched(*group);
    RunOracle(*group);
    ProcessReady(*group);
    ApplyWhilePersisting(*group);
    // What applied may let the oracle recover, renew or serve; its proposals and
    // confirmations go out with this round rather than with the next input.
    if (RunOracle(*group)) {
      ProcessReady(*group);
      ApplyWhilePersisting(*group);
    }
  }
  Effects effects;
  effects.persists = std::move(persists_);
  persists_.clear();
  for (auto& [to, messages] : outbound_) {
    effects.outbound.push_back(OutboundMessages{to, std::move(messages)});
  }
  outbound_.clear();
  effects.replies = std::move(replies_);
  replies_.clear();
  effects.snapshots = std::move(snapshots_);
  snapshots_.clear();
  return effects;
}

void NodeHost::ProcessReady(Group& group) {
  for (int round = 0; !group.outstanding.has_value() && group.raw_node->HasReady(); ++round) {
    EKV_ASSERT(round < kMaxReadiesPerGroupPerRound, "group ", group.id,
               " keeps producing Readies with nothing to persist");
    raft::Ready ready = group.raw_node->GetReady();
    if (ready.soft_state.has_value()) {
      const raft::StateType state = ready.soft_state->state;
      if (group.last_state == raft::StateType::kLeader && state != raft::StateType::kLeader) {
        OnLeadershipLost(group);
      }
      group.last_state = state;
    }
    // These messages promise nothing about local durability (raw_node.h).
    Send(std::move(ready.messages));
    ready.messages.clear();
    if (ready.persist.IsEmpty()) {
      absl::StatusOr<raft::PersistReceipt> receipt = group.storage->Persist(ready.persist);
      EKV_ASSERT(receipt.ok(), "empty persist failed: ", receipt.status().ToString());
      group.outstanding.emplace(std::move(ready));
      FinishReady(group, *receipt);
      continue;
    }
    // Committed entries are durable on a quorum already: apply them (and answer their
    // clients) now, in parallel with persisting the new entries of this Ready, instead
    // of one fsync later (as etcd's server does). A snapshot must be restored first, so
    // a Ready carrying one keeps the apply-after-persist order.
    if (ready.persist.snapshot.IsEmpty()) {
      ApplyCommitted(group, ready.committed_entries);
      RecordReadStates(group, ready.read_states);
      ready.read_states.clear();
      group.committed_applied_early = true;
      ServeReads(group);
    }
    persists_.push_back(PersistRequest{group.id, ready.persist, ready.must_sync});
    group.outstanding.emplace(std::move(ready));
  }
}

void NodeHost::ApplyWhilePersisting(Group& group) {
  // Only while a persist is in flight: otherwise the next Ready carries these. A Ready
  // that installs a snapshot must be restored before anything after it applies.
  if (!group.outstanding.has_value() || !group.outstanding->persist.snapshot.IsEmpty()) return;
  RecordReadStates(group, group.raw_node->TakeReadStates());
  if (group.raw_node->HasCommittedEntries()) {
    std::vector<raft::Entry> entries = group.raw_node->TakeCommittedEntries();
    ApplyCommitted(group, entries);
    group.raw_node->AdvanceApplied(entries);
  }
  ServeReads(group);
}

void NodeHost::RecordReadStates(Group& group, const std::vector<raft::ReadState>& read_states) {
  for (const raft::ReadState& read_state : read_states) {
    Decoder decoder(read_state.request_context);
    uint64_t seq = 0;
    uint64_t node = 0;
    uint64_t incarnation = 0;
    if (!decoder.Varint(&seq) || !decoder.Varint(&node) || !decoder.Varint(&incarnation) ||
        !decoder.Done() || node != options_.node_id || incarnation != options_.incarnation) {
      continue;
    }
    if (seq != 0 && seq == group.confirm_seq) {  // the oracle's leadership confirmation
      group.confirmed_before_seq = std::max(group.confirmed_before_seq, seq);
      group.confirmed_index = std::max(group.confirmed_index, read_state.index);
      group.confirm_seq = 0;
      continue;
    }
    auto it = group.reads.find(seq);
    if (it == group.reads.end()) continue;    // already answered (timed out, leadership lost)
    if (it->second.has_read_index) continue;  // an answer to a repeated request
    it->second.read_index = read_state.index;
    it->second.has_read_index = true;
  }
}

void NodeHost::FinishReady(Group& group, const raft::PersistReceipt& receipt) {
  EKV_ASSERT(group.outstanding.has_value(), "FinishReady without an outstanding Ready");
  raft::Ready ready = std::move(*group.outstanding);
  group.outstanding.reset();
  EKV_ASSERT(receipt.ready_id() == ready.id(), "receipt for ready ", receipt.ready_id(),
             " used for ready ", ready.id());

  const raft::Snapshot& snapshot = ready.persist.snapshot;
  if (!snapshot.IsEmpty()) {
    absl::Status restored = group.state_machine->Restore(snapshot.data, snapshot.metadata.index);
    EKV_ASSERT(restored.ok(), "group ", group.id, ": snapshot image at index ",
               snapshot.metadata.index, " does not decode: ", restored.ToString());
    group.snapshot_index = snapshot.metadata.index;
    group.delivered_index = snapshot.metadata.index;
    SettleOrphanedWrites(group, ReplyStatus::kUnknown,
                         "leadership lost, and a snapshot passed its entry's index");
  }
  if (!group.committed_applied_early) ApplyCommitted(group, ready.committed_entries);
  group.committed_applied_early = false;
  RecordReadStates(group, ready.read_states);
  Send(group.raw_node->Advance(std::move(ready), receipt));
  ServeReads(group);
  MaybeSnapshot(group);
}

void NodeHost::ApplyCommitted(Group& group, const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& entry : entries) ApplyEntry(group, entry);
  if (!entries.empty()) {
    SettleOrphanedWrites(group, ReplyStatus::kFailed,
                         "leadership lost before it committed; another entry took its place");
  }
}

void NodeHost::OnLeadershipLost(Group& group) {
  std::map<uint64_t, PendingRequest> appended;
  for (auto& [seq, pending] : group.proposals) {
    if (pending.log_index != 0) appended.emplace(seq, std::move(pending));
  }
  for (const auto& [seq, pending] : appended) group.proposals.erase(seq);
  // Writes forwarded or not yet proposed may still commit, with nothing to watch here.
  FailAllPending(group, ReplyStatus::kUnknown, "leadership lost");
  group.has_orphaned_writes = group.has_orphaned_writes || !appended.empty();
  group.proposals = std::move(appended);
}

void NodeHost::SettleOrphanedWrites(Group& group, ReplyStatus status, absl::string_view why) {
  if (!group.has_orphaned_writes) return;
  // Committed entries are the same on every replica, and this write was appended once, at
  // log_index: once the group is past that index without having applied it, it never will.
  bool remaining = false;
  for (auto it = group.proposals.begin(); it != group.proposals.end();) {
    const raft::Index index = it->second.log_index;
    if (index == 0 || index > group.delivered_index) {
      remaining = remaining || index != 0;
      ++it;
      continue;
    }
    Reply(it->second.request, status, std::nullopt, 0,
          absl::StrCat(why, " (log index ", index, ")"));
    it = group.proposals.erase(it);
  }
  group.has_orphaned_writes = remaining;
}

void NodeHost::ApplyEntry(Group& group, const raft::Entry& entry) {
  StateMachine& state_machine = *group.state_machine;
  EKV_ASSERT(entry.index == group.delivered_index + 1, "group ", group.id,
             ": Raft delivered index ", entry.index, " after ", group.delivered_index);
  group.delivered_index = entry.index;
  if (state_machine.durable() && entry.index <= state_machine.applied_index()) {
    // Already in a durable state machine (applied before a restart, or installed with a
    // snapshot newer than Raft's): committed entries are the same on every replica, so
    // only Raft's own view of the configuration needs them again.
    if (entry.type == raft::EntryType::kConfChange) {
      absl::StatusOr<raft::ConfChange> change = raft::DecodeConfChange(entry.data);
      EKV_ASSERT(change.ok(), "group ", group.id, ": undecodable conf change at index ",
                 entry.index, ": ", change.status().ToString());
      group.raw_node->ApplyConfChange(*change);
      group.conf_change_index = entry.index;
      group.conf_change_term = entry.term;
    } else if (!entry.data.empty()) {
      // A write of ours that the installed image already holds: it applied, but its
      // result is not known here.
      AnswerOwnProposals(group, {entry}, "applied with an installed snapshot; result unknown",
                         ReplyStatus::kUnknown);
    }
    return;
  }
  EKV_ASSERT(entry.index == state_machine.applied_index() + 1, "group ", group.id,
             ": applying index ", entry.index, " after applied index ",
             state_machine.applied_index(), " (entries must apply contiguously)");
  if (apply_observer_) apply_observer_(group.id, entry);
  if (entry.type == raft::EntryType::kConfChange) {
    absl::StatusOr<raft::ConfChange> change = raft::DecodeConfChange(entry.data);
    EKV_ASSERT(change.ok(), "group ", group.id, ": undecodable conf change at index ", entry.index,
               ": ", change.status().ToString());
    const raft::ConfState conf_state = group.raw_node->ApplyConfChange(*change);
    state_machine.Skip(entry.index);
    group.conf_change_index = entry.index;
    group.conf_change_term = entry.term;
    const std::optional<ConfChangeOrigin> origin = DecodeConfChangeOrigin(change->context);
    if (!origin.has_value() || origin->node != options_.node_id ||
        origin->incarnation != options_.incarnation) {
      return;
    }
    auto it = group.proposals.find(origin->seq);
    if (it == group.proposals.end()) return;  // already answered as unknown
    Reply(it->second.request, ReplyStatus::kOk, std::nullopt, entry.index,
          raft::DescribeConfState(conf_state));
    group.proposals.erase(it);
    return;
  }
  if (entry.data.empty()) {  // a new leader's empty entry
    state_machine.Skip(entry.index);
    return;
  }
  absl::StatusOr<Command> command = DecodeCommand(entry.data);
  EKV_ASSERT(command.ok(), "group ", group.id, ": undecodable command at index ", entry.index, ": ",
             command.status().ToString());
  ApplyResult result = state_machine.Apply(entry.index, *command);
  if (command->origin_node != options_.node_id ||
      command->origin_incarnation != options_.incarnation) {
    return;
  }
  auto it = group.proposals.find(command->proposal_seq);
  if (it == group.proposals.end()) return;  // already answered as unknown
  if (result.ok) {
    Reply(it->second.request, ReplyStatus::kOk, std::move(result.value), entry.index, "");
  } else {
    Reply(it->second.request, ReplyStatus::kFailed, std::move(result.value), entry.index,
          result.failure_detail.empty() ? "compare-and-set: current value differs from expected"
                                        : std::move(result.failure_detail));
  }
  group.proposals.erase(it);
}

void NodeHost::ServeReads(Group& group) {
  const raft::Index applied = group.state_machine->applied_index();
  for (auto it = group.reads.begin(); it != group.reads.end();) {
    if (it->second.has_read_index && it->second.read_index <= applied &&
        group.state_machine->read_floor_ts() >= it->second.read_floor_ts) {
      const ClientRequest& request = it->second.request;
      if (request.kind == OpKind::kQuery) {
        std::optional<std::string> result = group.state_machine->Query(request.value);
        if (result.has_value()) {
          Reply(request, ReplyStatus::kOk, std::move(result), it->second.read_index, "");
        } else {
          Reply(request, ReplyStatus::kFailed, std::nullopt, it->second.read_index,
                "malformed query");
        }
      } else {
        Reply(request, ReplyStatus::kOk, group.state_machine->Read(request.key),
              it->second.read_index, "");
      }
      it = group.reads.erase(it);
    } else {
      ++it;
    }
  }
}

void NodeHost::MaybeSnapshot(Group& group) {
  // A durable state machine may be ahead of what Raft delivered; its image (a reference)
  // then describes a newer state than the snapshot index, which restoring tolerates.
  const raft::Index applied = std::min(group.state_machine->applied_index(), group.delivered_index);
  // A follower with an empty log is sent only a snapshot of the current configuration
  // (raft.cc MaybeSendAppend), so every change of it needs a new one; only the bootstrap's
  // own entries (term 1), which every initial member holds, do not.
  const bool configuration_changed = !options_.planted_stale_conf_snapshot &&
                                     group.conf_change_index > group.snapshot_index &&
                                     (group.snapshot_index > 0 || group.conf_change_term > 1);
  const bool interval_passed = options_.snapshot_interval_entries != 0 &&
                               applied >= group.snapshot_index + options_.snapshot_interval_entries;
  if (!interval_passed && !configuration_changed) return;
  // Entries may be applied before they are durable here, and the durable log may still
  // hold an older, conflicting entry at that index (its replacement is in flight): take
  // the snapshot only at an index whose entry in storage is the one that was applied.
  if (applied > group.raw_node->stable_last_index()) return;
  absl::Status status = group.storage->CreateSnapshot(applied, group.raw_node->conf_state(),
                                                      group.state_machine->SnapshotImage());
  EKV_ASSERT(status.ok(), "group ", group.id, ": CreateSnapshot(", applied,
             ") failed: ", status.ToString());
  group.snapshot_index = applied;
  // The driver keeps its durable copy of the log bounded too.
  snapshots_.push_back(SnapshotCreated{group.id, *group.storage->GetSnapshot(), 0});
  if (applied > options_.compaction_lag_entries) {
    const raft::Index compact_index = applied - options_.compaction_lag_entries;
    if (compact_index > group.storage->FirstIndex()) {
      status = group.storage->Compact(compact_index);
      EKV_ASSERT(status.ok(), "group ", group.id, ": Compact(", compact_index,
                 ") failed: ", status.ToString());
      snapshots_.back().compact_index = compact_index;
    }
  }
}

void NodeHost::FailAllPending(Group& group, ReplyStatus write_status, const std::string& why) {
  for (auto& [seq, pending] : group.proposals) {
    Reply(pending.request, write_status, std::nullopt, 0, why);
  }
  group.proposals.clear();
  for (auto& [seq, pending] : group.reads) {
    Reply(pending.request, ReplyStatus::kFailed, std::nullopt, 0, why);
  }
  group.reads.clear();
  for (auto& [seq, pending] : group.timestamps) {
    Reply(pending.request, ReplyStatus::kFailed, std::nullopt, 0, why);
  }
  group.timestamps.clear();
  group.confirm_seq = 0;
}

void NodeHost::Reply(const ClientRequest& request, ReplyStatus status,
                     std::optional<std::string> value, raft::Index index, std::string detail,
                     raft::NodeId leader_hint) {
  ClientReply reply;
  reply.request_id = request.request_id;
  reply.group = request.group;
  reply.status = status;
  reply.value = std::move(value);
  reply.leader_hint = leader_hint;
  reply.index = index;
  reply.detail = std::move(detail);
  replies_.push_back(std::move(reply));
}

void NodeHost::Send(std::vector<raft::Message> messages) {
  for (raft::Message& message : messages) {
    EKV_ASSERT(message.to != options_.node_id && message.to != raft::kNoNode, "node ",
               options_.node_id, " addressing a message to ", message.to);
    outbound_[message.to].push_back(std::move(message));
  }
}

GroupStatus NodeHost::Status(raft::GroupId group_id) const {
  auto it = groups_.find(group_id);
  EKV_ASSERT(it != groups_.end(), "Status of unhosted group ", group_id);
  const Group& group = *it->second;
  GroupStatus status;
  static_cast<GroupProgressSummary&>(status) = Summarize(group);
  status.group = group_id;
  status.snapshot_index = group.snapshot_index;
  status.hard_state = group.raw_node->hard_state();
  status.persist_outstanding = group.outstanding.has_value();
  status.pending_requests = group.pending();
  status.conf_state = group.raw_node->conf_state();
  return status;
}

GroupProgressSummary NodeHost::Summary(raft::GroupId group_id) const {
  auto it = groups_.find(group_id);
  EKV_ASSERT(it != groups_.end(), "Summary of unhosted group ", group_id);
  return Summarize(*it->second);
}

GroupProgressSummary NodeHost::Summarize(const Group& group) {
  GroupProgressSummary summary;
  summary.term = group.raw_node->term();
  summary.leader = group.raw_node->leader();
  summary.state = group.raw_node->state();
  summary.commit = group.raw_node->commit_index();
  summary.applied = group.state_machine->applied_index();
  summary.last_index = group.raw_node->last_index();
  summary.durable_state_machine = group.state_machine->durable();
  return summary;
}

std::vector<RouteLoad> NodeHost::RouteLoads(raft::GroupId group_id) const {
  auto it = groups_.find(group_id);
  EKV_ASSERT(it != groups_.end(), "RouteLoads of unhosted group ", group_id);
  return it->second->state_machine->RouteLoads();
}

std::string NodeHost::DescribeProgress(raft::GroupId group) const {
  auto it = groups_.find(group);
  EKV_ASSERT(it != groups_.end(), "DescribeProgress of unhosted group ", group);
  return it->second->raw_node->DescribeProgress();
}

const StateMachine& NodeHost::state_machine(raft::GroupId group) const {
  auto it = groups_.find(group);
  EKV_ASSERT(it != groups_.end(), "state_machine of unhosted group ", group);
  return *it->second->state_machine;
}

// ---------------------------------------------------------------------------------------
// Timestamps (node_host.h, timestamp_oracle.h)

TimestampOracle* NodeHost::EnsureOracle(Group& group) {
  if (group.oracle == nullptr && group.state_machine->has_timestamps()) {
    group.oracle = std::make_unique<TimestampOracle>(options_.oracle);
  }
  return group.oracle.get();
}

bool NodeHost::ProposeInternal(Group& group, const std::string& payload) {
  EKV_ASSERT(!payload.empty(), "group ", group.id, ": an empty internal proposal");
  // A sequence no pending request holds: the apply finds nobody to answer.
  Command command{options_.node_id, options_.incarnation, next_proposal_seq_++, OpKind::kApply, "",
                  payload,          std::nullopt};
  return group.raw_node->Propose(EncodeCommand(command)).ok();
}

void NodeHost::StopOracleIfDeposed(Group& group) {
  if (group.oracle == nullptr || !group.oracle->leading()) return;
  if (group.raw_node->state() == raft::StateType::kLeader &&
      group.raw_node->term() == group.oracle->term()) {
    return;
  }
  group.oracle->StopServing();
  for (auto& [seq, pending] : group.timestamps) {
    Reply(pending.request, ReplyStatus::kFailed, std::nullopt, 0, "leadership lost",
          group.raw_node->leader());
  }
  group.timestamps.clear();
  group.confirm_seq = 0;
  group.confirmed_before_seq = 0;
  group.confirmed_index = 0;
}

void NodeHost::MaybeStartOracleTerm(Group& group) {
  TimestampOracle* oracle = EnsureOracle(group);
  if (oracle == nullptr) return;
  StopOracleIfDeposed(group);
  if (group.raw_node->state() != raft::StateType::kLeader) return;
  const raft::Term term = group.raw_node->term();
  if (group.oracle_term_started == term) return;
  // Before any other proposal of this term: apply-time timestamps after it lie above the
  // ceiling, so above whatever earlier leaders issued from memory.
  if (!ProposeInternal(group, group.state_machine->EncodeTimestampFloorCommand(0, true))) {
    return;  // e.g. a leadership transfer in progress: every proposal is refused for now
  }
  group.oracle_term_started = term;
  group.term_floor_index = group.raw_node->last_index();
  oracle->StartTerm(term);
}

void NodeHost::BeforeProposal(Group& group) {
  MaybeStartOracleTerm(group);
  TimestampOracle* oracle = group.oracle.get();
  if (oracle == nullptr || !oracle->leading()) return;
  if (std::optional<kv::Timestamp> floor = oracle->FloorToLog(); floor.has_value()) {
    if (ProposeInternal(group, group.state_machine->EncodeTimestampFloorCommand(*floor, false))) {
      oracle->OnFloorProposed(*floor);
    }
  }
}

void NodeHost::SubmitTimestamp(Group& group, const ClientRequest& request) {
  const StateMachine& state_machine = *group.state_machine;
  if (!state_machine.has_timestamps()) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("group ", group.id, " serves no timestamps"));
    return;
  }
  if (group.raw_node->state() != raft::StateType::kLeader) {
    if (options_.planted_oracle.follower_issues) {
      // Planted bug: a replica answers from its own applied state and clock.
      const uint64_t wall_ms = std::min<uint64_t>(wall_ms_, kv::kMaxPhysicalMs);
      Reply(request, ReplyStatus::kOk, std::nullopt, state_machine.applied_index(), "");
      replies_.back().timestamp =
          std::max(kv::MakeTimestamp(wall_ms, 0), state_machine.max_timestamp() + 1);
      return;
    }
    Reply(request, ReplyStatus::kNotLeader, std::nullopt, 0, "not the leader",
          group.raw_node->leader());
    return;
  }
  if (group.pending() >= options_.max_pending_requests_per_group) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0,
          absl::StrCat("busy: ", group.pending(), " requests pending, limit ",
                       options_.max_pending_requests_per_group));
    return;
  }
  PendingRequest pending{request, tick_ + options_.request_timeout_ticks};
  if (!DecodeTimestampRequest(request.value, &pending.at_least)) {
    Reply(request, ReplyStatus::kFailed, std::nullopt, 0, "malformed timestamp request");
    return;
  }
  group.timestamps.emplace(next_proposal_seq_++, std::move(pending));
}

void NodeHost::MaybeProposeReadFloor(Group& group, uint64_t read_ts) {
  if (read_ts <= group.read_floor_proposed &&
      tick_ - group.read_floor_tick < options_.floor_retry_ticks) {
    return;  // a floor at least this high is on its way
  }
  if (group.raw_node->state() == raft::StateType::kLeader) BeforeProposal(group);
  if (ProposeInternal(group, group.state_machine->EncodeReadFloorCommand(read_ts))) {
    group.read_floor_proposed = std::max(group.read_floor_proposed, read_ts);
    group.read_floor_tick = tick_;
  }
}

bool NodeHost::RunOracle(Group& group) {
  TimestampOracle* oracle = EnsureOracle(group);
  if (oracle == nullptr) return false;
  bool stepped = false;
  const StateMachine& state_machine = *group.state_machine;
  // Reads still waiting for a floor whose proposal may have been lost: ask again.
  if (tick_ - group.read_floor_tick >= options_.floor_retry_ticks) {
    uint64_t wanted = 0;
    for (const auto& [seq, pending] : group.reads) wanted = std::max(wanted, pending.read_floor_ts);
    if (wanted > state_machine.read_floor_ts()) {
      group.read_floor_proposed = 0;  // force a new proposal
      MaybeProposeReadFloor(group, wanted);
      stepped = true;
    }
  }
  const raft::Term before = group.oracle_term_started;
  MaybeStartOracleTerm(group);
  stepped |= group.oracle_term_started != before;
  if (!oracle->leading()) return stepped;
  if (!oracle->recovered() && state_machine.applied_index() >= group.term_floor_index) {
    oracle->Recover(state_machine.hlc_ceiling_ms(), state_machine.max_timestamp(), wall_ms_);
  }
  if (!oracle->recovered()) return stepped;
  oracle->OnCeilingApplied(state_machine.hlc_ceiling_ms());
  if (!group.timestamps.empty()) oracle->MarkActive();
  if (std::optional<uint64_t> ceiling = oracle->CeilingToPropose(wall_ms_, tick_);
      ceiling.has_value()) {
    if (ProposeInternal(group, state_machine.EncodeCeilingCommand(*ceiling))) {
      oracle->OnCeilingProposed(*ceiling, tick_);
      stepped = true;
    }
  }
  return ServeTimestamps(group) || stepped;
}

bool NodeHost::ServeTimestamps(Group& group) {
  if (group.timestamps.empty()) return false;
  TimestampOracle& oracle = *group.oracle;
  const StateMachine& state_machine = *group.state_machine;
  const bool skip_confirmation = options_.planted_oracle.skip_confirmation;
  // Serve the confirmed requests once applied up to the read index (timestamp_oracle.h, 3).
  const raft::Index applied = state_machine.applied_index();
  if (skip_confirmation || applied >= group.confirmed_index) {
    for (auto it = group.timestamps.begin(); it != group.timestamps.end();) {
      if (!skip_confirmation && it->first >= group.confirmed_before_seq) break;
      // Above what a reader asked for too: a snapshot read that met a version it could not
      // place restarts above it (kv_state_machine.h, "Uncertainty").
      absl::StatusOr<kv::Timestamp> ts = oracle.Issue(
          wall_ms_, std::max<kv::Timestamp>(state_machine.max_timestamp(), it->second.at_least));
      if (!ts.ok()) break;  // the ceiling is short: wait for the next one to apply
      Reply(it->second.request, ReplyStatus::kOk, std::nullopt, applied, "");
      replies_.back().timestamp = *ts;
      it = group.timestamps.erase(it);
    }
  }
  if (group.timestamps.empty() || skip_confirmation) return false;
  // One confirmation covers every request that arrived before it was asked for.
  if (group.timestamps.rbegin()->first < group.confirmed_before_seq) return false;
  if (group.confirm_seq != 0 && tick_ - group.confirm_tick < options_.floor_retry_ticks) {
    return false;
  }
  const uint64_t seq = next_proposal_seq_++;
  if (!group.raw_node->ReadIndex(EncodeReadContext(seq, options_.node_id, options_.incarnation))
           .ok())
    return false;
  group.confirm_seq = seq;
  group.confirm_tick = tick_;
  return true;
}

}  // namespace ekv::node
