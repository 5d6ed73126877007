#include "core/route/catalog_command.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"

namespace ekv::route {
namespace {

enum class CommandKind : uint8_t {
  kSplitRange = 1,
  kSetRouteState = 2,
  kReassignRoute = 3,
  kStartMove = 4,
  kMergeRanges = 5,
  kCreateGroup = 6,
  kRetireGroup = 7,
  kGroupReplica = 8,
};

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

std::string CatalogCommand::Encode() const {
  std::string out;
  kv::AppendByte(&out, kCatalogCommandFormat);
  std::visit(Overloaded{
                 [&](const SplitRange& split) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kSplitRange));
                   kv::AppendVarint64(&out, split.expected_catalog_version);
                   kv::AppendVarint64(&out, split.route_id);
                   kv::AppendLengthPrefixed(&out, split.split_key);
                 },
                 [&](const SetRouteState& set) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kSetRouteState));
                   kv::AppendVarint64(&out, set.expected_catalog_version);
                   kv::AppendVarint64(&out, set.route_id);
                   kv::AppendByte(&out, static_cast<uint8_t>(set.state));
                 },
                 [&](const ReassignRoute& reassign) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kReassignRoute));
                   kv::AppendVarint64(&out, reassign.expected_catalog_version);
                   kv::AppendVarint64(&out, reassign.route_id);
                   kv::AppendVarint64(&out, reassign.new_raft_group_id);
                 },
                 [&](const StartMove& move) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kStartMove));
                   kv::AppendVarint64(&out, move.expected_catalog_version);
                   kv::AppendVarint64(&out, move.route_id);
                   kv::AppendVarint64(&out, move.target_group_id);
                 },
                 [&](const MergeRanges& merge) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kMergeRanges));
                   kv::AppendVarint64(&out, merge.expected_catalog_version);
                   kv::AppendVarint64(&out, merge.left_route_id);
                   kv::AppendVarint64(&out, merge.right_route_id);
                 },
                 [&](const CreateGroup& create) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kCreateGroup));
                   kv::AppendVarint64(&out, create.expected_catalog_version);
                   kv::AppendVarint64(&out, create.group_id);
                   kv::AppendVarint64(&out, create.voters.size());
                   for (uint64_t voter : create.voters) kv::AppendVarint64(&out, voter);
                 },
                 [&](const RetireGroup& retire) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kRetireGroup));
                   kv::AppendVarint64(&out, retire.expected_catalog_version);
                   kv::AppendVarint64(&out, retire.group_id);
                 },
                 [&](const ChangeGroupReplica& replica) {
                   kv::AppendByte(&out, static_cast<uint8_t>(CommandKind::kGroupReplica));
                   kv::AppendVarint64(&out, replica.expected_catalog_version);
                   kv::AppendVarint64(&out, replica.group_id);
                   kv::AppendVarint64(&out, replica.node);
                   kv::AppendByte(&out, static_cast<uint8_t>(replica.change));
                 },
             },
             op);
  return out;
}

absl::StatusOr<CatalogCommand> CatalogCommand::Decode(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  EKV_KV_ASSIGN_OR_RETURN(uint8_t format, reader.ReadByte());
  if (format != kCatalogCommandFormat) {
    return absl::DataLossError(absl::StrCat("catalog command format ", format,
                                            " is not supported (expected ", kCatalogCommandFormat,
                                            ")"));
  }
  EKV_KV_ASSIGN_OR_RETURN(uint8_t kind, reader.ReadByte());
  CatalogCommand command;
  switch (static_cast<CommandKind>(kind)) {
    case CommandKind::kSplitRange: {
      SplitRange split;
      EKV_KV_ASSIGN_OR_RETURN(split.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(split.route_id, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(absl::string_view split_key, reader.ReadLengthPrefixed());
      split.split_key = std::string(split_key);
      command.op = std::move(split);
      break;
    }
    case CommandKind::kSetRouteState: {
      SetRouteState set;
      EKV_KV_ASSIGN_OR_RETURN(set.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(set.route_id, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(uint8_t state, reader.ReadByte());
      if (state > kMaxRouteStateNumber) {
        return absl::DataLossError(absl::StrCat("SetRouteState: state number ", state,
                                                " is not a RouteState (expected 0..",
                                                kMaxRouteStateNumber, ")"));
      }
      set.state = static_cast<RouteState>(state);
      command.op = set;
      break;
    }
    case CommandKind::kReassignRoute: {
      ReassignRoute reassign;
      EKV_KV_ASSIGN_OR_RETURN(reassign.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(reassign.route_id, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(reassign.new_raft_group_id, reader.ReadVarint64());
      command.op = reassign;
      break;
    }
    case CommandKind::kStartMove: {
      StartMove move;
      EKV_KV_ASSIGN_OR_RETURN(move.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(move.route_id, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(move.target_group_id, reader.ReadVarint64());
      command.op = move;
      break;
    }
    case CommandKind::kMergeRanges: {
      MergeRanges merge;
      EKV_KV_ASSIGN_OR_RETURN(merge.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(merge.left_route_id, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(merge.right_route_id, reader.ReadVarint64());
      command.op = merge;
      break;
    }
    case CommandKind::kCreateGroup: {
      CreateGroup create;
      EKV_KV_ASSIGN_OR_RETURN(create.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(create.group_id, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
      if (count > kMaxGroupVoters) {
        return absl::DataLossError(
            absl::StrCat("CreateGroup: ", count, " voters; expected at most ", kMaxGroupVoters));
      }
      for (uint64_t i = 0; i < count; ++i) {
        EKV_KV_ASSIGN_OR_RETURN(uint64_t voter, reader.ReadVarint64());
        create.voters.push_back(voter);
      }
      command.op = std::move(create);
      break;
    }
    case CommandKind::kRetireGroup: {
      RetireGroup retire;
      EKV_KV_ASSIGN_OR_RETURN(retire.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(retire.group_id, reader.ReadVarint64());
      command.op = retire;
      break;
    }
    case CommandKind::kGroupReplica: {
      ChangeGroupReplica replica;
      EKV_KV_ASSIGN_OR_RETURN(replica.expected_catalog_version, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(replica.group_id, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(replica.node, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(uint8_t change, reader.ReadByte());
      if (change != static_cast<uint8_t>(ReplicaChange::kAdd) &&
          change != static_cast<uint8_t>(ReplicaChange::kRemove) &&
          change != static_cast<uint8_t>(ReplicaChange::kReadmit)) {
        return absl::DataLossError(
            absl::StrCat("ChangeGroupReplica: change ", change,
                         " is unknown (expected 1 add, 2 remove, 3 readmit)"));
      }
      replica.change = static_cast<ReplicaChange>(change);
      command.op = replica;
      break;
    }
    default:
      return absl::DataLossError(absl::StrCat(
          "catalog command kind ", kind,
          " is unknown (expected 1 split, 2 set-state, 3 reassign, 4 start-move, 5 merge, ",
          "6 create-group, 7 retire-group, 8 group-replica)"));
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("catalog command"));
  return command;
}

std::string FormatCommand(const CatalogCommand& command) {
  return std::visit(
      Overloaded{
          [](const SplitRange& split) {
            return absl::StrCat("SplitRange{expected_version=", split.expected_catalog_version,
                                " route=", split.route_id,
                                " split_key=", FormatKey(split.split_key), "}");
          },
          [](const SetRouteState& set) {
            return absl::StrCat("SetRouteState{expected_version=", set.expected_catalog_version,
                                " route=", set.route_id, " state=", RouteStateName(set.state), "}");
          },
          [](const ReassignRoute& reassign) {
            return absl::StrCat(
                "ReassignRoute{expected_version=", reassign.expected_catalog_version,
                " route=", reassign.route_id, " new_group=", reassign.new_raft_group_id, "}");
          },
          [](const StartMove& move) {
            return absl::StrCat("StartMove{expected_version=", move.expected_catalog_version,
                                " route=", move.route_id, " target_group=", move.target_group_id,
                                "}");
          },
          [](const MergeRanges& merge) {
            return absl::StrCat("MergeRanges{expected_version=", merge.expected_catalog_version,
                                " left=", merge.left_route_id, " right=", merge.right_route_id,
                                "}");
          },
          [](const CreateGroup& create) {
            return absl::StrCat("CreateGroup{expected_version=", create.expected_catalog_version,
                                " group=", create.group_id,
                                " voters=", absl::StrJoin(create.voters, ","), "}");
          },
          [](const RetireGroup& retire) {
            return absl::StrCat("RetireGroup{expected_version=", retire.expected_catalog_version,
                                " group=", retire.group_id, "}");
          },
          [](const ChangeGroupReplica& replica) {
            return absl::StrCat("ChangeGroupReplica{expected_version=",
                                replica.expected_catalog_version, " group=", replica.group_id,
                                replica.change == ReplicaChange::kAdd      ? " add="
                                : replica.change == ReplicaChange::kRemove ? " remove="
                                                                           : " readmit=",
                                replica.node, "}");
          },
      },
      command.op);
}

}  // namespace ekv::route
