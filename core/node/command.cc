#include "core/node/command.h"

#include "absl/status/status.h"
#include "core/node/codec.h"

namespace ekv::node {
namespace {
constexpr uint64_t kCommandFormatVersion = 1;
}  // namespace

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kPut:
      return "put";
    case OpKind::kGet:
      return "get";
    case OpKind::kCas:
      return "cas";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kApply:
      return "apply";
    case OpKind::kQuery:
      return "query";
    case OpKind::kTimestamp:
      return "timestamp";
    case OpKind::kConfChange:
      return "conf_change";
    case OpKind::kReplicaStatus:
      return "replica_status";
    case OpKind::kTransferLeader:
      return "transfer_leader";
    case OpKind::kConfigurationAcknowledged:
      return "configuration_acknowledged";
  }
  return "?";
}

const char* ReplyStatusName(ReplyStatus status) {
  switch (status) {
    case ReplyStatus::kOk:
      return "ok";
    case ReplyStatus::kFailed:
      return "failed";
    case ReplyStatus::kNotLeader:
      return "not-leader";
    case ReplyStatus::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string EncodeCommand(const Command& command) {
  std::string out;
  PutVarint(out, kCommandFormatVersion);
  PutVarint(out, command.origin_node);
  PutVarint(out, command.origin_incarnation);
  PutVarint(out, command.proposal_seq);
  PutVarint(out, static_cast<uint64_t>(command.kind));
  PutBytes(out, command.key);
  PutBytes(out, command.value);
  PutOptionalBytes(out, command.expected);
  return out;
}

absl::StatusOr<Command> DecodeCommand(std::string_view data) {
  Decoder decoder(data);
  uint64_t version = 0;
  uint64_t kind = 0;
  Command command;
  if (!decoder.Varint(&version) || version != kCommandFormatVersion) {
    return absl::DataLossError("command: unknown format version, expected 1");
  }
  if (!decoder.Varint(&command.origin_node) || !decoder.Varint(&command.origin_incarnation) ||
      !decoder.Varint(&command.proposal_seq) || !decoder.Varint(&kind) ||
      !decoder.Bytes(&command.key) || !decoder.Bytes(&command.value) ||
      !decoder.OptionalBytes(&command.expected) || !decoder.Done()) {
    return absl::DataLossError("command: truncated or malformed entry data");
  }
  if (kind != static_cast<uint64_t>(OpKind::kPut) && kind != static_cast<uint64_t>(OpKind::kCas) &&
      kind != static_cast<uint64_t>(OpKind::kDelete) &&
      kind != static_cast<uint64_t>(OpKind::kApply)) {
    return absl::DataLossError("command: op kind must be put, cas, delete or apply");
  }
  command.kind = static_cast<OpKind>(kind);
  return command;
}

namespace {
// Distinct from NodeHost's origin marker ('\xC7'), which it writes over the guard.
constexpr char kKeepVotersMarker = '\xC8';
}  // namespace

namespace {
constexpr char kMembersOnlyMarker = '\xC9';
}  // namespace

std::string EncodeMembersOnly() { return std::string(1, kMembersOnlyMarker); }

bool IsMembersOnly(std::string_view context) {
  return context.size() == 1 && context[0] == kMembersOnlyMarker;
}

std::string EncodeKeepVoters(const std::vector<raft::NodeId>& voters) {
  std::string context(1, kKeepVotersMarker);
  PutVarint(context, voters.size());
  for (raft::NodeId voter : voters) PutVarint(context, voter);
  return context;
}

std::optional<std::vector<raft::NodeId>> DecodeKeepVoters(std::string_view context) {
  if (context.empty() || context[0] != kKeepVotersMarker) return std::nullopt;
  Decoder decoder(context.substr(1));
  uint64_t count = 0;
  if (!decoder.Varint(&count) || count > context.size()) return std::nullopt;
  std::vector<raft::NodeId> voters(count);
  for (raft::NodeId& voter : voters) {
    if (!decoder.Varint(&voter)) return std::nullopt;
  }
  if (!decoder.Done()) return std::nullopt;
  return voters;
}

}  // namespace ekv::node
