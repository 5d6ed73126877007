// RouteCatalog: the durable, versioned map from key ranges to Raft groups.
//
// The catalog lives in a reserved system range of the default group; this class is only
// its deterministic state and the commands that change it, so the Raft state machine,
// the simulator and the tests all drive the same code. Every successful command bumps
// `version` by exactly one and produces a CatalogDelta describing the change, which
// route tables and watchers consume (route_table.h).
//
// Invariants (asserted after every change, see CheckInvariants):
//   - routes, ordered by start, cover the whole key space ["", +inf) with no gap or overlap;
//   - every route is non-empty, has a non-zero id, a non-zero group and a known state;
//   - route ids are unique and all below next_route_id (ids are never reused);
//   - version >= 1 (1 is the bootstrap topology).
//
// Route states and the transitions SetRouteState allows (a move is: fence writes, copy
// the data, reassign to the new group, activate):
//   ACTIVE            -> WRITE_FENCED, MIGRATING_SOURCE
//   WRITE_FENCED      -> ACTIVE, MIGRATING_SOURCE, MIGRATING_TARGET
//   MIGRATING_SOURCE  -> ACTIVE, WRITE_FENCED
//   MIGRATING_TARGET  -> ACTIVE, WRITE_FENCED
// Only ACTIVE routes split or merge; ReassignRoute requires a route that is not ACTIVE, so no write
// can land on the old group after the handoff.
//
// Cross-group moves (StartMove, route.h move_target_group_id):
//   StartMove        ACTIVE -> MIGRATING_SOURCE with move_target_group_id = T (T != group)
//   SetRouteState    keeps the target through MIGRATING_SOURCE <-> WRITE_FENCED; back to
//                    ACTIVE clears it (abort); MIGRATING_TARGET is refused while it is set
//   ReassignRoute    of a moving route: only to T and only WRITE_FENCED (the final copy
//                    ran under the fence); clears the target (the cut-over)
// Invariant: a move target is non-zero only on a MIGRATING_SOURCE or WRITE_FENCED route,
// and differs from the route's group.
//
// Merges (MergeRanges): two adjacent routes, both ACTIVE with no move target and on the
// same group, become one new route (next id, parent = the left one) on that group, in one
// command: one version, one delta (both ids removed, the new route upserted), so no
// version of the catalog has the key range on none or on two routes. Since the group does
// not change, what the group owns does not change either (ownership.h keeps owned_since
// as the newer of the two halves'), and nothing in the group's engine is keyed by route:
// MVCC versions, locks, commit/rollback records and the GC safe point are keyed by user
// key or are group-wide, so a merge is metadata only.
//
// Groups (CreateGroup, RetireGroup): the groups of the initial topology are hosted by
// every member and are not listed. A group created at run time is listed with the voters
// that bootstrap it (GroupDescriptor) until it is retired: RetireGroup erases its record,
// so a cluster that creates and retires groups for ever keeps a catalog the size of its
// live groups. The catalog keeps the range of ids ever created instead (CreatedGroupIds:
// the first and the last): new ids go above the last, so an id inside the range that is
// not listed was retired and is never reused, and no route can name it again. Invariants:
// listed ids are unique and inside the created range, whose ends are 0 (none created) or
// first <= last; listed groups have 1..kMaxGroupVoters sorted distinct non-zero voters; no
// route names a retired group (as its group or its move target).
//
// Encoding: kCatalogFormat (1) while no route has a move target and no group is listed,
// byte for byte what it always was; kCatalogFormatWithMoves (2), whose routes carry the
// move target, while one does; kCatalogFormatWithGroups (3) once a group is listed: the
// routes as in format 2, then the groups; kCatalogFormatWithReplicas (4) once a group has
// joined or removed replicas: format 3 with both lists after each group's voters;
// kCatalogFormatWithReadmits (5) once a group has a readmitted voter: format 4 with that
// third list after the other two. Formats 1 to 5 carry the created range implicitly, as
// the lowest and the highest listed id (none when nothing is listed): that is every
// catalog whose first and last created groups are live, a retired id between listed ones
// being a gap. kCatalogFormatWithRetired (6) only when it is not: format 5 without the
// groups' retired bytes, then the range's first and last id. An image written before
// retirement reclaimed records may list a tombstone (retired byte 1): it decodes
// reclaimed, its id inside the created range and not listed. Catalog images decode all
// six; deltas (which carry routes only) the first two.
//
// Replica moves (ChangeGroupReplica) record who hosts a created group: add a node (it
// joins; refused for a node already hosting it, or once removed from it, or beyond
// kMaxGroupVoters replicas), remove one (refused unless it hosts it, and for its last
// replica). Invariants: joined is disjoint from the voters that still bootstrap (voters -
// readmitted), removed lies within voters + joined, readmitted within voters, and a live
// group keeps at least one replica.
//
// Readmission (ChangeGroupReplica kReadmit): a removed node is barred from the group
// because its old copy may still be on its disk. A node removed from the cluster that
// joins again under the same id (`ekv-server --join` on an empty data dir, which is when
// AddNode readmits it) has no such copy, so its removal is voided: it leaves `removed`
// (and `joined`); a bootstrap voter is listed in `readmitted` instead, since `voters` never
// changes (a late voter must bootstrap the same entries) and the readmitted node must
// never bootstrap the group again: added back, it joins (starts empty) like any other.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/route/catalog_command.h"
#include "core/route/route.h"

namespace ekv::route {

// A route key (a split key or a bootstrap boundary) may not exceed this many bytes.
inline constexpr size_t kMaxRouteKeyBytes = 8 * 1024;
inline constexpr CatalogVersion kInitialCatalogVersion = 1;
inline constexpr uint8_t kCatalogFormat = 1;
inline constexpr uint8_t kCatalogFormatWithMoves = 2;
inline constexpr uint8_t kCatalogFormatWithGroups = 3;
inline constexpr uint8_t kCatalogFormatWithReplicas = 4;
inline constexpr uint8_t kCatalogFormatWithReadmits = 5;
inline constexpr uint8_t kCatalogFormatWithRetired = 6;

// The ids of the groups created at run time so far: [first, last], none while both are 0.
// Ids are handed out in increasing order and never reused, so an id of the range that the
// catalog does not list belongs to a retired group ("Groups" above).
struct CreatedGroupIds {
  GroupId first = 0;
  GroupId last = 0;

  bool empty() const { return last == 0; }
  bool Contains(GroupId id) const { return !empty() && first <= id && id <= last; }
  friend bool operator==(const CreatedGroupIds&, const CreatedGroupIds&) = default;
};

// A Raft group created at run time (see "Groups" above).
struct GroupDescriptor {
  GroupId group_id = 0;
  // The nodes that bootstrap it: sorted, distinct, non-zero. Never changed after the
  // creation, so a voter that bootstraps late (it was down) starts from the same entries.
  std::vector<uint64_t> voters;
  // Replica moves (ChangeGroupReplica): nodes added after the creation (they start the
  // group empty and wait for its leader), and nodes removed from it (they stop hosting it
  // and never host it again, also one that was down during its removal). Sorted, distinct;
  // `joined` disjoint from `voters`; `removed` within voters + joined.
  std::vector<uint64_t> joined;
  std::vector<uint64_t> removed;
  // Voters whose removal a rejoin voided ("Readmission" above): they never bootstrap the
  // group again, and host it only once added back (then listed in `joined` too). Sorted,
  // distinct, within `voters`.
  std::vector<uint64_t> readmitted;

  // The nodes that host it now: (voters - readmitted + joined) - removed, sorted.
  std::vector<uint64_t> Replicas() const;
  bool IsReplica(uint64_t node) const;
  bool WasRemoved(uint64_t node) const;
  // A voter that bootstraps the group when it has no state for it (not readmitted).
  bool Bootstraps(uint64_t node) const;

  friend bool operator==(const GroupDescriptor& a, const GroupDescriptor& b) {
    return a.group_id == b.group_id && a.voters == b.voters && a.joined == b.joined &&
           a.removed == b.removed && a.readmitted == b.readmitted;
  }
};

// One range of the configured initial topology; `end` empty = +infinity.
struct InitialRange {
  std::string start;
  std::string end;
  GroupId raft_group_id = 0;
};

// What one committed command changed: applying it to the catalog at `version - 1` gives
// the catalog at `version`. Removed ids are sorted; upserted routes (new routes, or new
// contents for an existing id) are sorted by start.
struct CatalogDelta {
  CatalogVersion version = 0;
  std::vector<RouteId> removed_route_ids;
  std::vector<RouteDescriptor> upserted_routes;

  void Encode(std::string* dst) const;
  static absl::StatusOr<CatalogDelta> Decode(absl::string_view bytes);

  friend bool operator==(const CatalogDelta&, const CatalogDelta&) = default;
};

// The MergeRanges answer: the new route and the change.
struct MergeResult {
  CatalogVersion catalog_version = 0;
  RouteDescriptor merged;
  CatalogDelta delta;
};

// Deliberate bugs for checker self-tests; all off in production.
struct PlantedCatalogBugs {
  // MergeRanges accepts routes of different groups (the merged route takes the left's
  // group) without any data having moved.
  bool merge_across_groups = false;
  // RetireGroup keeps the group's record (the catalog still lists it, as live) while it
  // bumps the version and reports the group retired.
  bool keep_retired_group = false;
};

// The SplitRange answer, shaped like the public SplitRangeResponse (REFERENCE §2).
struct SplitResult {
  CatalogVersion catalog_version = 0;
  RouteDescriptor left;
  RouteDescriptor right;
  CatalogDelta delta;
};

class RouteCatalog {
 public:
  // The version-1 catalog from configuration. Ranges may come in any order but must
  // cover ["", +inf) exactly; they get ids 1..n in key order, state ACTIVE, no parent.
  static absl::StatusOr<RouteCatalog> Bootstrap(const std::vector<InitialRange>& ranges);
  // The catalog image written by Encode (for Raft snapshots); DataLossError on bytes that
  // are not one, including well-formed bytes describing a catalog that breaks an invariant.
  static absl::StatusOr<RouteCatalog> Decode(absl::string_view bytes);

  CatalogVersion version() const { return version_; }
  RouteId next_route_id() const { return next_route_id_; }
  size_t route_count() const { return routes_by_start_.size(); }

  // nullptr when absent. Pointers stay valid until the next successful command.
  const RouteDescriptor* FindRoute(RouteId route_id) const;
  const RouteDescriptor* RouteForKey(absl::string_view key) const;
  // Every route in key order (ListRoutes).
  std::vector<RouteDescriptor> ListRoutes() const;
  // The live groups created at run time, by id (retired ones are not listed).
  const absl::btree_map<GroupId, GroupDescriptor>& groups() const { return groups_; }
  // Every id created so far, live or retired.
  const CreatedGroupIds& created_group_ids() const { return created_; }
  // nullptr when the group is not listed (an initial group, a retired one, or no group).
  const GroupDescriptor* FindGroup(GroupId group_id) const;
  // A created group that was retired: inside the created range and not listed.
  bool IsRetired(GroupId group_id) const;
  // The largest group id the catalog knows of: created (also retired), or named by a route.
  GroupId MaxKnownGroupId() const;
  // Calls `visit(const RouteDescriptor&)` for each route in key order, without copying.
  template <class Visit>
  void ForEachRoute(Visit visit) const {
    for (const auto& [start, route] : routes_by_start_) visit(route);
  }

  // The state-machine entry point: applies any command, or returns why it was refused
  // (the catalog is then unchanged). Errors:
  //   FailedPrecondition  expected_catalog_version != version(), or the route's state does
  //                       not allow the command;
  //   NotFound            no route with that id;
  //   InvalidArgument     split key not strictly inside the route, unknown/UNSPECIFIED
  //                       target state, bad group id.
  absl::StatusOr<CatalogDelta> Apply(const CatalogCommand& command, PlantedCatalogBugs bugs = {});
  absl::StatusOr<SplitResult> Split(const SplitRange& split);
  absl::StatusOr<RouteDescriptor> SetState(const SetRouteState& set);
  absl::StatusOr<RouteDescriptor> Reassign(const ReassignRoute& reassign);
  absl::StatusOr<RouteDescriptor> BeginMove(const StartMove& move);
  // Errors: FailedPrecondition (version, a half not ACTIVE or moving, the halves on
  // different groups), NotFound (an id), InvalidArgument (not adjacent, left first).
  absl::StatusOr<MergeResult> Merge(const MergeRanges& merge, PlantedCatalogBugs bugs = {});
  // Errors: FailedPrecondition (version; an id not above every known group), InvalidArgument
  // (no voters, too many, unsorted, repeated or zero).
  absl::StatusOr<GroupDescriptor> AddGroup(const CreateGroup& create);
  // Erases the group's record; answers the record as it was. Errors: FailedPrecondition
  // (version; a route still names the group; already retired), NotFound (not a created
  // group).
  absl::StatusOr<GroupDescriptor> Retire(const RetireGroup& retire, PlantedCatalogBugs bugs = {});
  // Errors: FailedPrecondition (version; retired; the change is already made, or cannot be:
  // a node removed before, too many replicas, the last replica; a readmission of a node not
  // removed), NotFound (not a created group), InvalidArgument (node 0, unknown change).
  absl::StatusOr<GroupDescriptor> ChangeReplica(const ChangeGroupReplica& change);

  std::string Encode() const;
  // FNV-1a over Encode(): equal on replicas that applied the same commands.
  uint64_t Digest() const;

  // O(routes) full check of every invariant above; asserts. Commands check only the
  // routes they touched (enough, given the invariants held before), so a catalog with a
  // million routes still applies a command in O(log n).
  void CheckInvariants() const;

  friend bool operator==(const RouteCatalog& a, const RouteCatalog& b) {
    return a.version_ == b.version_ && a.next_route_id_ == b.next_route_id_ &&
           a.routes_by_start_ == b.routes_by_start_ && a.groups_ == b.groups_ &&
           a.created_ == b.created_;
  }

 private:
  RouteCatalog() = default;

  absl::Status CheckExpectedVersion(absl::string_view command,
                                    CatalogVersion expected_catalog_version) const;
  absl::StatusOr<const RouteDescriptor*> FindRouteOrError(absl::string_view command,
                                                          RouteId route_id) const;
  // Replaces the route stored under `route.start` (same id) and returns the stored copy.
  const RouteDescriptor& ReplaceRoute(const RouteDescriptor& route);
  // FailedPrecondition when `group_id` is a retired group (a route may not name it).
  absl::Status CheckGroupLive(absl::string_view command, GroupId group_id) const;
  // Asserts the invariants around the route starting at `start` and its neighbours.
  void CheckNeighbourhood(absl::string_view start) const;
  // The invariants as a Status, for Decode (input) and CheckInvariants (assert).
  absl::Status Validate() const;

  CatalogVersion version_ = kInitialCatalogVersion;
  RouteId next_route_id_ = 1;
  absl::btree_map<std::string, RouteDescriptor> routes_by_start_;
  absl::btree_map<RouteId, std::string> start_by_id_;
  absl::btree_map<GroupId, GroupDescriptor> groups_;
  CreatedGroupIds created_;
};

// True iff SetRouteState may move a route from `from` to `to`.
bool RouteStateTransitionAllowed(RouteState from, RouteState to);

}  // namespace ekv::route
