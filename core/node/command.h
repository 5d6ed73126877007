// Client requests, their replies, and the replicated command format.
//
// A write becomes a `Command` in a Raft entry. The entry names the proposing host
// (node id + incarnation) and a per-host proposal sequence, so that exactly the host that
// proposed it can answer the waiting client when the entry is applied; the incarnation
// keeps a restarted host from mistaking an entry proposed by its previous life for one of
// its own current proposals.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/raft/types.h"

namespace ekv::node {

enum class OpKind : uint8_t {
  kPut = 1,
  kGet = 2,  // linearizable read through ReadIndex; never replicated
  kCas = 3,  // set `value` if the current value equals `expected` (nullopt: absent)
  kDelete = 4,
  // Opaque commands for richer state machines (MVCC, transactions, the route catalog):
  // the payload travels in `value` and only the state machine interprets it.
  kApply = 5,  // a replicated write
  kQuery = 6,  // a linearizable read through ReadIndex; never replicated
  // One timestamp from the group leader's oracle (timestamp_oracle.h); never replicated.
  // Followers answer kNotLeader with a hint; the reply carries it in `timestamp`.
  kTimestamp = 7,
  // A membership change of the group: `value` is an encoded raft::ConfChange (its context
  // is NodeHost's own: it names the proposer so the reply finds its way back; a caller's
  // context may only be a guard, EncodeKeepVoters below). Leaders only; answered kOk with
  // the entry's index once the change is applied, kFailed if Raft refuses it (e.g. another
  // change is still pending). Never a Command.
  kConfChange = 8,
  // This replica's own progress, answered at once by whichever replica receives it
  // (leader, follower or learner; nothing is proposed or forwarded): `index` = its applied
  // index, `timestamp` = the commit index it knows, `leader_hint` = the leader it knows,
  // `value` = the configuration it applied, as an encoded raft::ConfChange adding each
  // voter (kAddVoter) and each learner (kAddLearner). A replica move asks the new replica
  // this to see that it caught up, and the leader before rolling a learner back.
  kReplicaStatus = 9,
  // Hand the group's leadership to the voter named in `value` (decimal node id). Leaders
  // only (followers answer kNotLeader with a hint); answered kOk once Raft started the
  // transfer (it finishes within an election timeout, or is given up), or at once when the
  // named node leads already; kFailed when it is not a voter. Nothing is proposed, so
  // asking again is harmless. The placement driver's leader balancing sends it.
  kTransferLeader = 10,
  // Whether every member of the group has acknowledged the leader's newest configuration.
  // Leaders only (followers answer kNotLeader with a hint); nothing is proposed. Answered
  // kOk with `index` = the index each member must have acknowledged (the leader's
  // pending_conf_index) and `value` = the members that have not, as decimal ids joined by
  // commas (empty: none); kFailed while a configuration change is not applied yet. A node
  // that joins with an emptied data dir under an id the group once counted asks it first
  // (Coordinator::StartAddNode with readmit): a member still holding an older
  // configuration could count the emptied node's vote, which forgot the log it had
  // acknowledged, and elect a leader without a committed entry (simulator dynamo seed 9408).
  kConfigurationAcknowledged = 11,
};
const char* OpKindName(OpKind kind);

struct ClientRequest {
  uint64_t request_id = 0;  // chosen by the driver; echoed in the reply
  raft::GroupId group = 0;
  OpKind kind = OpKind::kGet;
  std::string key;
  std::string value;                    // kPut, kCas
  std::optional<std::string> expected;  // kCas
};

enum class ReplyStatus : uint8_t {
  kOk,         // applied (writes) or read at a linearizable point (gets)
  kFailed,     // definitely had no effect (including a CAS whose comparison failed)
  kNotLeader,  // not accepted here; `leader_hint` names the leader this node knows of
  kUnknown,    // may or may not take effect (leadership lost or timed out after proposing)
};
const char* ReplyStatusName(ReplyStatus status);

struct ClientReply {
  uint64_t request_id = 0;
  raft::GroupId group = 0;
  ReplyStatus status = ReplyStatus::kFailed;
  std::optional<std::string> value;  // kGet: the value read (nullopt: absent)
  raft::NodeId leader_hint = raft::kNoNode;
  raft::Index index = 0;   // log index of an applied write, read index of a get
  uint64_t timestamp = 0;  // kTimestamp: the timestamp issued
  std::string detail;      // why, for failures
};

// The replicated form of a write.
struct Command {
  raft::NodeId origin_node = raft::kNoNode;
  uint64_t origin_incarnation = 0;
  uint64_t proposal_seq = 0;
  OpKind kind = OpKind::kPut;
  std::string key;
  std::string value;
  std::optional<std::string> expected;
  bool operator==(const Command&) const = default;
};

// A kConfChange guard, carried in the ConfChange's context (which NodeHost replaces with
// its own before proposing): the change is made only while no other change is pending and
// every node named is a voter of the leader's configuration and stays one after it.
// Otherwise nothing is proposed and the leader answers kOk with `value` kKeepVotersRefused
// (a definite answer: asking again changes nothing until the configuration does). A
// replica move's removal of its source sends it, naming the replicas that stay, so that
// two moves that each saw one replica to spare cannot both remove theirs (the leader
// serializes conf changes: the check and the proposal are one step). A node that does not
// know the guard ignores it and makes the change.
std::string EncodeKeepVoters(const std::vector<raft::NodeId>& voters);
std::optional<std::vector<raft::NodeId>> DecodeKeepVoters(std::string_view context);
inline constexpr std::string_view kKeepVotersRefused = "keep-voters refused";

// A kConfChange guard (a context, like EncodeKeepVoters): the change may only keep or
// promote members. Every node it adds as a voter or a learner must already be a voter or
// a learner of the leader's configuration; otherwise nothing is proposed and the leader
// answers kOk with `value` kMembersOnlyRefused (definite, like kKeepVotersRefused). A
// replica move sends it when it makes replicas vote that the catalog it read named, so a
// change planned on an older catalog cannot add back a node another change took out: a
// promotion refused while that removal was pending and retried after it would otherwise
// make the node a voter of a group it no longer hosts (simulator bank seed 96,
// --placement --create_groups).
std::string EncodeMembersOnly();
bool IsMembersOnly(std::string_view context);
inline constexpr std::string_view kMembersOnlyRefused = "members-only refused";

std::string EncodeCommand(const Command& command);
absl::StatusOr<Command> DecodeCommand(std::string_view data);

}  // namespace ekv::node
