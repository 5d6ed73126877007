// The commands that change the route catalog, as they travel through the Raft log of the
// group that holds the catalog's system range.
//
// Every command names the catalog version its author saw (`expected_catalog_version`);
// the catalog refuses it unless that is still the current version. Because commands are
// applied in log order on every replica, two commands built against the same version
// cannot both succeed: the first in the log bumps the version, the second is refused.
//
// Encoding (versioned so replicas of different releases can read old log entries):
//   byte kCatalogCommandFormat, byte kind, then the kind's fields:
//     split:    varint expected_version, varint route_id, lp split_key
//     state:    varint expected_version, varint route_id, byte state
//     reassign: varint expected_version, varint route_id, varint new_raft_group_id
//     move:     varint expected_version, varint route_id, varint target_group_id
//     merge:    varint expected_version, varint left_route_id, varint right_route_id
//     create-group: varint expected_version, varint group_id, varint n, n x varint voter
//     retire-group: varint expected_version, varint group_id
//     group-replica: varint expected_version, varint group_id, varint node, byte change
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/route/route.h"

namespace ekv::route {

// Splits a route into [start, split_key) and [split_key, end); both children stay in the
// parent's group (REFERENCE §1 "first form").
struct SplitRange {
  CatalogVersion expected_catalog_version = 0;
  RouteId route_id = 0;
  std::string split_key;

  friend bool operator==(const SplitRange&, const SplitRange&) = default;
};

// Moves a route through the states of a fence/move (see catalog.h for allowed transitions).
struct SetRouteState {
  CatalogVersion expected_catalog_version = 0;
  RouteId route_id = 0;
  RouteState state = RouteState::kUnspecified;

  friend bool operator==(const SetRouteState&, const SetRouteState&) = default;
};

// Hands a fenced route to another Raft group (the last step of a move, after the data
// has been copied). For a route being moved (StartMove) the new group must be its move
// target and the route must be WRITE_FENCED; the move target is cleared.
struct ReassignRoute {
  CatalogVersion expected_catalog_version = 0;
  RouteId route_id = 0;
  GroupId new_raft_group_id = 0;

  friend bool operator==(const ReassignRoute&, const ReassignRoute&) = default;
};

// Starts a cross-group move: an ACTIVE route becomes MIGRATING_SOURCE (its group keeps
// serving reads and writes) with move_target_group_id = target, which tells the target
// group it may ingest the range's records (ownership.h). Abort: SetRouteState ACTIVE.
struct StartMove {
  CatalogVersion expected_catalog_version = 0;
  RouteId route_id = 0;
  GroupId target_group_id = 0;

  friend bool operator==(const StartMove&, const StartMove&) = default;
};

// Merges two adjacent ACTIVE routes of one group into one new route [left.start,
// right.end) in that group (parent_route_id = the left route). Routes in different groups
// are refused: move one into the other's group first (StartMove ... ReassignRoute), so a
// merge never changes which group serves a key. Refused like every command unless the
// catalog is still at expected_catalog_version, so a merge decided on a stale picture
// (either half since split, moved or merged) changes nothing.
struct MergeRanges {
  CatalogVersion expected_catalog_version = 0;
  RouteId left_route_id = 0;
  RouteId right_route_id = 0;

  friend bool operator==(const MergeRanges&, const MergeRanges&) = default;
};

// Records a new Raft group hosted by `voters` (node ids, sorted, distinct): each of them
// bootstraps a replica whose first configuration is exactly these voters, so every
// replica starts from the same log (node/hosted_groups.h). `group_id` must be above every
// group the catalog knows (listed, or named by a route); the proposer also keeps it above
// the groups it hosts, which covers initial groups no route names any more.
struct CreateGroup {
  CatalogVersion expected_catalog_version = 0;
  GroupId group_id = 0;
  std::vector<uint64_t> voters;

  friend bool operator==(const CreateGroup&, const CreateGroup&) = default;
};

// Retires a created group that no route names (as its group or as a move target): every
// replica is removed and the id is never used again.
struct RetireGroup {
  CatalogVersion expected_catalog_version = 0;
  GroupId group_id = 0;

  friend bool operator==(const RetireGroup&, const RetireGroup&) = default;
};

// Records that a node joins (kAdd) or leaves (kRemove) a created group's replicas
// (catalog.h "Replica moves"). The catalog only records it; the Raft configuration change
// is the mover's (coord/replica_mover.cc), and each node hosts the group, or stops, as its
// catalog replica applies the record (node/hosted_groups.h). kReadmit voids a node's
// removal from the group once the node rejoined the cluster with an empty data dir (so no
// stale copy of the group is left on its disk): it does not host the group then, but may
// be added again (kAdd), starting empty (catalog.h "Readmission").
enum class ReplicaChange : uint8_t { kAdd = 1, kRemove = 2, kReadmit = 3 };
struct ChangeGroupReplica {
  CatalogVersion expected_catalog_version = 0;
  GroupId group_id = 0;
  uint64_t node = 0;
  ReplicaChange change = ReplicaChange::kAdd;

  friend bool operator==(const ChangeGroupReplica&, const ChangeGroupReplica&) = default;
};

inline constexpr uint8_t kCatalogCommandFormat = 1;
// A created group has at most this many voters (a Raft group of 7 already pays 4 fsyncs
// per write on its quorum; more buys no availability worth it).
inline constexpr size_t kMaxGroupVoters = 7;

struct CatalogCommand {
  std::variant<SplitRange, SetRouteState, ReassignRoute, StartMove, MergeRanges, CreateGroup,
               RetireGroup, ChangeGroupReplica>
      op;

  std::string Encode() const;
  // DataLossError for truncated, trailing or unknown bytes; never asserts on input.
  static absl::StatusOr<CatalogCommand> Decode(absl::string_view bytes);

  friend bool operator==(const CatalogCommand&, const CatalogCommand&) = default;
};

// For logs and golden tests, e.g. SplitRange{expected_version=1 route=1 split_key="g"}.
std::string FormatCommand(const CatalogCommand& command);

}  // namespace ekv::route
