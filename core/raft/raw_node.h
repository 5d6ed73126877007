// RawNode: the driver-facing API of one Raft group member.
//
// A driver (the simulator or the runtime) feeds inputs (Step, Tick, Propose, ...) and
// repeatedly collects a Ready: state to persist, messages to send, entries to apply. The
// durability rule of Raft ("respond only after persisting") is enforced by types: the
// messages that promise durability (append acknowledgements, votes) live inside the
// Ready but can only be taken out with the PersistReceipt that Storage::Persist returns.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/confchange.h"
#include "core/raft/config.h"
#include "core/raft/storage.h"
#include "core/raft/types.h"

namespace ekv::raft {

class Raft;

struct SoftState {
  NodeId lead = kNoNode;
  StateType state = StateType::kFollower;
  bool operator==(const SoftState&) const = default;
};

class Ready {
 public:
  Ready(Ready&&) = default;
  Ready& operator=(Ready&&) = default;

  uint64_t id() const { return persist.ready_id; }

  std::optional<SoftState> soft_state;  // set when leader or role changed
  // Write first, through Storage::Persist, to obtain the receipt.
  PersistBatch persist;
  // May be sent right away, in parallel with the persist (leader replication, §10.2.1
  // of the Raft thesis): none of them promises anything about local durability.
  std::vector<Message> messages;
  // Apply after persisting, in order. Includes conf changes (call ApplyConfChange).
  std::vector<Entry> committed_entries;
  std::vector<ReadState> read_states;
  bool must_sync = false;  // whether the persist needs an fsync

  // Messages that may leave only once `persist` is durable. Consumed by Advance.
  size_t durable_message_count() const { return messages_after_persist_.size(); }

 private:
  friend class RawNode;
  Ready() = default;
  std::vector<Message> messages_after_persist_;
};

class RawNode {
 public:
  // Creates a node from its storage (which may hold state from before a restart).
  static absl::StatusOr<std::unique_ptr<RawNode>> Create(const Config& config);
  // Bootstraps a brand new group: writes a ConfState with `voters` to an empty storage.
  static absl::Status Bootstrap(MemoryStorage& storage, const std::vector<NodeId>& voters);
  ~RawNode();

  void Tick();
  absl::Status Campaign();
  absl::Status Propose(std::string data);
  // Proposes several entries in one message (one MsgProp, so a leader appends them at once
  // and sends each follower one append for all of them; a follower forwards them in one
  // message). All are accepted or all refused. `data` must not be empty.
  absl::Status ProposeBatch(std::vector<std::string> data);
  absl::Status ProposeConfChange(const ConfChange& change);
  // Applies a committed conf change entry; returns the new configuration.
  ConfState ApplyConfChange(const ConfChange& change);
  absl::Status Step(const Message& message);
  // Requests a linearizable read point; `request_context` comes back in a ReadState.
  absl::Status ReadIndex(std::string request_context);
  absl::Status TransferLeadership(NodeId transferee);
  void ReportUnreachable(NodeId peer);
  void ReportSnapshot(NodeId peer, bool failed);

  bool HasReady() const;

  // Committed entries may be applied before the outstanding Ready is persisted: they are
  // durable on a quorum already. These hand them out (and read states, which promise
  // nothing about local durability) independently of the Ready cycle, so a driver whose
  // fsync is in flight keeps applying and answering. After applying the entries, call
  // AdvanceApplied with them.
  bool HasCommittedEntries() const;
  std::vector<Entry> TakeCommittedEntries();
  void AdvanceApplied(const std::vector<Entry>& applied);
  std::vector<ReadState> TakeReadStates();
  // Requires HasReady(). One Ready is outstanding at a time until Advance.
  Ready GetReady();
  // Acknowledges `ready` after its persist is durable (proven by `receipt`) and its
  // committed entries are applied. Returns the messages that were waiting for the
  // persist; the driver sends them now.
  std::vector<Message> Advance(Ready ready, const PersistReceipt& receipt);

  // Introspection for drivers, tests and checkers.
  NodeId id() const;
  GroupId group() const;
  Term term() const;
  NodeId leader() const;
  StateType state() const;
  Index commit_index() const;
  Index applied_index() const;
  Index last_index() const;
  // The last index that is durable here and still part of the log (entries above it are
  // unstable, possibly replacing older durable ones).
  Index stable_last_index() const;
  HardState hard_state() const;
  ConfState conf_state() const;
  // A conf change was proposed or appended and is not applied yet: conf_state() may be
  // about to change.
  bool HasPendingConfChange() const;
  // Leaders only: the members (voters and learners, incoming and outgoing, not this one)
  // that have not acknowledged the log through pending_conf_index, the newest index that
  // may hold a configuration change (on a new leader: its last index when it won). Until
  // each has, it may still hold an older configuration.
  std::vector<NodeId> MembersBehindConfiguration() const;
  Index configuration_index() const;     // the index MembersBehindConfiguration measures
  std::string DescribeProgress() const;  // leader's view of followers, for tests
  Raft& raft_for_testing() { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  std::unique_ptr<Raft> raft_;
  SoftState prev_soft_state_;
  HardState prev_hard_state_;
  uint64_t next_ready_id_ = 1;
  uint64_t outstanding_ready_id_ = 0;  // 0: none
  Index outstanding_last_index_ = 0;
  Term outstanding_last_term_ = 0;
  Index outstanding_snapshot_index_ = 0;
};

}  // namespace ekv::raft
