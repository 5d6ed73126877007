// NodeHost: one node's composition of many Raft groups and their state machines.
//
// Pure and single-threaded: it performs no I/O and reads no clock. A driver (the
// simulator, later the runtime) feeds it inputs -- Tick, Receive, SubmitClientRequest,
// OnPersisted -- and after each batch of inputs takes the resulting Effects: durable
// writes to perform, messages to send (grouped per destination node, across groups) and
// client replies.
//
// Durability by construction: a group's Ready is persisted into its raft::Storage only in
// OnPersisted, i.e. after the driver reports that the batch it was handed is durable on
// its own medium. Only then does Storage::Persist issue the receipt that RawNode::Advance
// requires to release votes and append acknowledgements.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/node/command.h"
#include "core/node/state_machine.h"
#include "core/node/timestamp_oracle.h"
#include "core/raft/config.h"
#include "core/raft/raw_node.h"
#include "core/raft/storage.h"
#include "core/raft/types.h"

namespace ekv::node {

struct NodeHostOptions {
  raft::NodeId node_id = raft::kNoNode;
  // Distinguishes this life of the node from earlier ones (e.g. a restart counter). Must
  // differ between restarts of the same node.
  uint64_t incarnation = 0;
  // Per-group Raft settings; id, group, storage, applied and the seed are filled in.
  raft::Config raft;
  uint64_t seed = 1;  // randomizes election timeouts, per group
  // Take a snapshot and compact the log after this many applied entries (0: never), and
  // after every configuration change (a new member is sent only a current snapshot).
  uint64_t snapshot_interval_entries = 1000;
  // Entries kept behind a snapshot so briefly lagging followers avoid a full snapshot.
  uint64_t compaction_lag_entries = 100;
  // Bounds: requests waiting (proposed or reading) per group, and how long they wait.
  size_t max_pending_requests_per_group = 1024;
  // Accept requests on followers that know a leader (see SubmitClientRequest); otherwise
  // they answer kNotLeader with a hint.
  bool serve_on_followers = false;
  // After this many ticks a waiting write is answered kUnknown, a waiting get kFailed.
  int request_timeout_ticks = 100;
  // Timestamps (see "Timestamps" below).
  TimestampOracle::Options oracle;
  // A read floor, leadership confirmation or read index not answered within this many
  // ticks is proposed / asked again.
  int floor_retry_ticks = 10;
  PlantedOracleBugs planted_oracle;  // simulator self-tests only
  // Simulator self-tests only: no fresh snapshot after a conf change, so a node added back
  // after compaction is offered a snapshot that does not name it, forever.
  bool planted_stale_conf_snapshot = false;
};

// A durable write the driver must perform, then report with OnPersisted.
struct PersistRequest {
  raft::GroupId group = 0;
  raft::PersistBatch batch;  // batch.ready_id names it
  bool must_sync = false;    // false: writing without fsync is enough
};

struct OutboundMessages {
  raft::NodeId to = raft::kNoNode;
  std::vector<raft::Message> messages;  // across groups, in generation order
};

// A snapshot NodeHost took of a group's state machine (and the log prefix it compacted,
// 0: none). Drivers with a durable log store it and truncate their copy of the log; it
// is not a durability promise, so a driver may also ignore it and replay the log.
struct SnapshotCreated {
  raft::GroupId group = 0;
  raft::Snapshot snapshot;
  raft::Index compact_index = 0;
};

struct Effects {
  std::vector<PersistRequest> persists;    // ordered by group
  std::vector<OutboundMessages> outbound;  // ordered by destination
  std::vector<ClientReply> replies;        // in the order they were decided
  std::vector<SnapshotCreated> snapshots;  // in the order they were taken
  bool empty() const {
    return persists.empty() && outbound.empty() && replies.empty() && snapshots.empty();
  }
};

// Introspection for drivers and checkers. A group's progress, read without building its
// configuration: what a driver that looks at every group after every event needs (the simulator's
// safety checker and event detector: copying conf_state there cost ~8% of the simulator's time).
struct GroupProgressSummary {
  raft::Term term = 0;
  raft::NodeId leader = raft::kNoNode;
  raft::StateType state = raft::StateType::kFollower;
  raft::Index commit = 0;
  raft::Index applied = 0;
  raft::Index last_index = 0;
  bool durable_state_machine = false;
};

// A group's progress and the rest of what a status page shows.
struct GroupStatus : GroupProgressSummary {
  raft::GroupId group = 0;
  raft::Index snapshot_index = 0;
  raft::HardState hard_state;
  bool persist_outstanding = false;
  size_t pending_requests = 0;
  raft::ConfState conf_state;  // the configuration Raft applied last
  // Filled by drivers that want it (the runtime, for the console): Status leaves it empty,
  // as copying every route's load on each call cost the simulator ~6% of its time.
  std::vector<RouteLoad> route_loads;
};

// Timestamps. For groups whose state machine has_timestamps():
//   - kTimestamp requests are served by the leader's TimestampOracle from memory, in
//     batches behind one leadership confirmation (ReadIndex, or a valid lease) each; they
//     wait (bounded by request_timeout_ticks) while the new leader recovers and commits
//     its ceiling. Followers answer kNotLeader with a hint. timestamp_oracle.h has the
//     protocol and why it is safe; NodeHost proposes the oracle's entries (term-start
//     floor, ceilings, floors of issued timestamps ahead of the next proposal).
//   - A kQuery at a read timestamp R (StateMachine::QueryReadTimestamp) is served only once
//     the replica applied a read floor >= R (proposed here when needed), besides its read
//     index: one-phase commits that apply later choose a commit_ts above R
//     (kv_state_machine.h, "One-phase commit").
// Wall-clock time reaches the oracle only through SetWallClock.
class NodeHost {
 public:
  // Observes every entry as it is applied (index order per group). For checkers.
  using ApplyObserver = std::function<void(raft::GroupId, const raft::Entry&)>;

  explicit NodeHost(const NodeHostOptions& options);
  ~NodeHost();
  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

  // Hosts a replica of `group`. `storage` holds whatever is durable for it: bootstrapped
  // (RawNode::Bootstrap) for a new group, rebuilt from the driver's records after a
  // restart, or empty for a replica that will be sent a snapshot. The state machine is
  // restored from the storage's snapshot, if any; committed entries are re-applied.
  absl::Status AddGroup(raft::GroupId group, std::unique_ptr<raft::MemoryStorage> storage,
                        std::unique_ptr<StateMachine> state_machine);
  // Stops hosting `group` (a retired group, route::RetireGroup): its waiting clients are
  // answered (writes "outcome unknown", the rest failed), its pending effects dropped.
  // Inputs that still name it (a persist report in flight, a late message) are ignored.
  absl::Status RemoveGroup(raft::GroupId group);

  // Inputs.
  // The driver's wall clock (ms since the epoch), for the timestamp oracle. Set it before
  // the other inputs; it may jump in either direction (the HLC copes).
  void SetWallClock(uint64_t wall_ms) { wall_ms_ = wall_ms; }
  void Tick();
  void Receive(const raft::Message& message);
  // Writes are buffered and proposed together at the next TakeEffects (one Raft message
  // for all the writes of a round); reads and the rest act at once.
  void SubmitClientRequest(const ClientRequest& request);
  // The driver made the PersistRequest with `ready_id` of `group` durable.
  void OnPersisted(raft::GroupId group, uint64_t ready_id);
  // Transport feedback: a snapshot to `peer` was delivered or lost; `peer` is unreachable.
  void ReportSnapshot(raft::GroupId group, raft::NodeId peer, bool failed);
  void ReportUnreachable(raft::GroupId group, raft::NodeId peer);
  // Transport feedback: `message` was never sent (dropped from a queue before any attempt
  // to write it). A proposal this follower forwarded in it (MsgProp) cannot have reached
  // the leader, and Raft never resends one, so its waiting client is answered kFailed (a
  // definite "not applied", safe to retry) instead of waiting out its deadline. One that
  // this node relayed for another follower is refused back to that follower. (Receive
  // likewise refuses a forwarded proposal that Raft drops, and answers a refusal.)
  void ReportUndelivered(const raft::Message& message);
  absl::Status TransferLeadership(raft::GroupId group, raft::NodeId transferee);
  absl::Status Campaign(raft::GroupId group);
  absl::Status ProposeConfChange(raft::GroupId group, const raft::ConfChange& change);

  // Collects everything decided since the last call; processes pending Readies first.
  Effects TakeEffects();

  // Introspection.
  raft::NodeId node_id() const { return options_.node_id; }
  std::vector<raft::GroupId> groups() const;
  bool Hosts(raft::GroupId group) const { return groups_.count(group) != 0; }
  bool HasGroup(raft::GroupId group) const { return groups_.count(group) != 0; }
  // Cheap enough to call after every event; the state digest is on state_machine().
  GroupStatus Status(raft::GroupId group) const;  // route_loads left empty
  GroupProgressSummary Summary(raft::GroupId group) const;
  // Calls `visit(group, summary)` for every hosted group in ascending order; `visit` must
  // not change this host (it reads a map it iterates).
  template <typename Visit>
  void VisitSummaries(Visit&& visit) const {
    for (const auto& [id, group] : groups_) visit(id, Summarize(*group));
  }
  std::vector<RouteLoad> RouteLoads(raft::GroupId group) const;
  const StateMachine& state_machine(raft::GroupId group) const;
  // The leader's view of its followers' replication progress, for failure reports.
  std::string DescribeProgress(raft::GroupId group) const;
  void SetApplyObserver(ApplyObserver observer) { apply_observer_ = std::move(observer); }

 private:
  struct Group;
  struct PendingRequest {
    ClientRequest request;
    int deadline_tick = 0;
    raft::Index read_index = 0;  // gets: set once the read state arrived
    bool has_read_index = false;
    int asked_tick = 0;          // gets: when the read index was last asked for
    uint64_t read_floor_ts = 0;  // queries at a timestamp: the read floor they wait for
    uint64_t at_least = 0;       // timestamps: issue above this (EncodeTimestampRequest)
    // Writes this node appended as leader: their log index (0: forwarded, or not yet in
    // the log). Such a write outlives a loss of leadership: the apply of its entry answers
    // it, or a different entry applied at its index proves it never will.
    raft::Index log_index = 0;
  };

  Group& GetGroup(raft::GroupId group);
  void ProcessReady(Group& group);
  void FinishReady(Group& group, const raft::PersistReceipt& receipt);
  void ApplyCommitted(Group& group, const std::vector<raft::Entry>& entries);
  void RecordReadStates(Group& group, const std::vector<raft::ReadState>& read_states);
  // Applies committed entries and records read states while the group's persist is in
  // flight (RawNode::TakeCommittedEntries), so answers do not wait for that fsync.
  void ApplyWhilePersisting(Group& group);
  void ApplyEntry(Group& group, const raft::Entry& entry);
  void ServeReads(Group& group);
  void MaybeSnapshot(Group& group);
  void FailAllPending(Group& group, ReplyStatus write_status, const std::string& why);
  // Leadership lost: reads and timestamps fail; a write this node appended stays pending
  // (it may still commit under the next leader); any other write's fate is unknown.
  void OnLeadershipLost(Group& group);
  // Answers the writes appended as leader whose index the group has passed without
  // applying them: a different entry committed there, so they never will (kFailed). A
  // snapshot that jumps past one hides which entry it was (kUnknown).
  void SettleOrphanedWrites(Group& group, ReplyStatus status, absl::string_view why);
  // Answers the clients of this incarnation's own writes among `entries` that still wait:
  // kFailed (safe to retry) for forwarded proposals that certainly entered no log, kUnknown
  // for ones whose fate is known only to be out of reach. A relaying node tells the
  // proposer with a refusal instead (a kProp message with `reject` set, carrying the
  // entries back, `context` saying why).
  void AnswerOwnProposals(Group& group, const std::vector<raft::Entry>& entries,
                          absl::string_view why, ReplyStatus status = ReplyStatus::kFailed);
  void RefuseForwardedProposal(const raft::Message& proposal, absl::string_view why);
  void Reply(const ClientRequest& request, ReplyStatus status, std::optional<std::string> value,
             raft::Index index, std::string detail, raft::NodeId leader_hint = raft::kNoNode);
  void Send(std::vector<raft::Message> messages);

  // Timestamps (see above).
  TimestampOracle* EnsureOracle(Group& group);
  // Proposes a payload of NodeHost's own (nobody waits for its reply).
  bool ProposeInternal(Group& group, const std::string& payload);
  // Leadership of the oracle's term is gone: stop it and fail its waiting requests.
  void StopOracleIfDeposed(Group& group);
  // On a leader whose term has no start floor yet: proposes it and starts the oracle.
  void MaybeStartOracleTerm(Group& group);
  // On a leader, before appending any other proposal: the start floor, then the floor of
  // timestamps issued since the last one.
  void BeforeProposal(Group& group);
  void SubmitTimestamp(Group& group, const ClientRequest& request);
  void SubmitConfChange(Group& group, const ClientRequest& request);
  void SubmitConfigurationAcknowledged(Group& group, const ClientRequest& request);
  void SubmitTransferLeader(Group& group, const ClientRequest& request);
  // Hands the client writes buffered since the last call to Raft as one proposal.
  void ProposeBatched(Group& group);
  void MaybeProposeReadFloor(Group& group, uint64_t read_ts);
  // Recovers, renews the ceiling, confirms and serves; true if it stepped Raft.
  bool RunOracle(Group& group);
  bool ServeTimestamps(Group& group);

  NodeHostOptions options_;
  static GroupProgressSummary Summarize(const Group& group);

  std::map<raft::GroupId, std::unique_ptr<Group>> groups_;
  std::set<raft::GroupId> removed_groups_;  // RemoveGroup: late inputs naming them are ignored
  uint64_t next_proposal_seq_ = 1;
  int tick_ = 0;
  uint64_t wall_ms_ = 0;
  ApplyObserver apply_observer_;
  // Effects accumulated for the next TakeEffects.
  std::vector<PersistRequest> persists_;
  std::map<raft::NodeId, std::vector<raft::Message>> outbound_;
  std::vector<ClientReply> replies_;
  std::vector<SnapshotCreated> snapshots_;
};

}  // namespace ekv::node
