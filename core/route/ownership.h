// GroupOwnership: the group-side guard against stale routing.
//
// A coordinator routes with its cached RouteTable, which may be behind the catalog. The
// group that receives a request therefore checks, with its own view of the catalog, that
// it owns the key and that ownership has not changed since the catalog version the
// request was routed with. Otherwise it refuses with a retryable stale-route error that
// carries its current catalog version, so the coordinator refreshes its table to at least
// that version and routes again.
//
// "Ownership changed" is tracked per owned route as `owned_since`: the catalog version
// since which this group has continuously owned the whole range. Splits within the group
// and state changes keep it (a request routed before a split still reached the right
// group); a reassignment to this group sets it to the reassignment's version. A request
// routed at a version below `owned_since` is refused even when the key is owned now,
// because at that version the key belonged to another group and the coordinator's view
// of the range (and possibly its in-flight transaction bookkeeping) is wrong.
//
// A merge (catalog.h MergeRanges) joins two routes of one group: the merged route is
// covered by the two it replaces, so it keeps owned_since = the newer of theirs (Install),
// and the group serves exactly the keys it served before, at every version in between.
//
// Access: ACTIVE and MIGRATING_SOURCE routes serve reads and writes, WRITE_FENCED only
// reads, MIGRATING_TARGET nothing (its data is still arriving).
//
// A request with catalog version 0 is "unversioned" (a coordinator that does not track
// versions yet, e.g. today's runtime/server): it is judged by ownership and route state
// only, never refused for owned_since. Keys outside the owned ranges are still refused.
//
// Incoming routes (cross-group moves, catalog.h): a route of another group whose
// move_target_group_id is this group. The group serves nothing of it (it does not own
// it) but accepts ingested records for it (CheckIngest) from `incoming_since`, the
// catalog version since which it has continuously been this group's incoming route in
// its current state (MIGRATING_SOURCE, or WRITE_FENCED: the fence starts a new period).
// Ingest chunks carry the catalog version their move (or, under the fence, its final
// copy pass) was started at or after; one older than incoming_since belongs to an
// earlier, aborted move or to a copy pass made before the fence, and is refused, so a
// late retry of it cannot overwrite a newer copy. After the cut-over (ReassignRoute to this
// group) the route is owned with owned_since = the cut-over version, so requests routed
// before it are refused STALE_ROUTE, and ingest is refused (the range now takes writes).
// Cleanup (CheckDeleteRange) is allowed only for a range this group neither owns nor
// receives, at a view at least as new as the version the cleanup was decided at.
//
// A request routed at a version newer than the group's is judged by the group's own
// view. That is sound only under a rule the Raft wiring (not built here) must keep: a
// change to what a group owns (fence, reassign) reaches that group before coordinators
// can route by it. Refusing instead would livelock on catalog changes that never concern
// this group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/route/catalog.h"
#include "core/route/route.h"

namespace ekv::route {

// Deliberate bugs for checker self-tests (STYLE "test the tests"); all off in production.
struct PlantedRouteBugs {
  // Accept keys (and scan ranges) this group does not own.
  bool serve_outside_range = false;
  // The catalog group's MergeRanges accepts routes of different groups (catalog.h).
  bool merge_across_groups = false;
  // The catalog group's RetireGroup keeps the group's record (catalog.h).
  bool keep_retired_group = false;
};

enum class AccessKind { kRead, kWrite };

// The stale-route error. Status code kAborted (retry after refreshing); message format,
// which coordinators parse (and which survives being copied into a KeyError message):
//   STALE_ROUTE current_version=<N> group=<G>: <reason>
inline constexpr absl::string_view kStaleRoutePrefix = "STALE_ROUTE current_version=";

struct StaleRouteError {
  CatalogVersion current_version = 0;  // refresh the route table to at least this version
  GroupId group = 0;                   // the group that refused
  std::string reason;
};

absl::Status MakeStaleRouteError(CatalogVersion current_version, GroupId group,
                                 absl::string_view reason);
// nullopt unless `status` is a well-formed stale-route error.
std::optional<StaleRouteError> ParseStaleRouteError(const absl::Status& status);
// Parses the same format out of a plain message (e.g. a KeyError.message off the wire).
std::optional<StaleRouteError> ParseStaleRouteMessage(absl::string_view message);

// One range this group owns, as seen at version().
struct OwnedRoute {
  RouteDescriptor route;
  CatalogVersion owned_since = 0;

  friend bool operator==(const OwnedRoute&, const OwnedRoute&) = default;
};

// A route this group is receiving (see "Incoming routes" above).
struct IncomingRoute {
  RouteDescriptor route;  // owned by another group, move_target_group_id == this group
  CatalogVersion incoming_since = 0;

  friend bool operator==(const IncomingRoute&, const IncomingRoute&) = default;
};

class GroupOwnership {
 public:
  explicit GroupOwnership(GroupId group_id, PlantedRouteBugs bugs = {});

  GroupId group_id() const { return group_id_; }
  CatalogVersion version() const { return version_; }  // 0 before the first Apply

  // Moves to `catalog` if newer (returns whether it advanced). When versions were skipped
  // (a snapshot), ownership history in between is unknown, so every owned route gets
  // owned_since = catalog.version(): safe, at the cost of refusing older requests once.
  bool Apply(const RouteCatalog& catalog);
  // Applies the next delta (true), ignores an old one (false); FailedPrecondition for a
  // gap (apply a full catalog instead).
  absl::StatusOr<bool> Apply(const CatalogDelta& delta);

  // OK iff this group may serve `key` for a request routed at `request_catalog_version`
  // (0: unversioned, see above); otherwise a stale-route error.
  absl::Status CheckOwnership(absl::string_view key, CatalogVersion request_catalog_version,
                              AccessKind access = AccessKind::kRead) const;
  // The same for every key of [start, end) (end empty = +inf), for scans.
  absl::Status CheckRangeOwnership(absl::string_view start, absl::string_view end,
                                   CatalogVersion request_catalog_version,
                                   AccessKind access = AccessKind::kRead) const;

  std::vector<OwnedRoute> OwnedRoutes() const;        // key order
  std::vector<IncomingRoute> IncomingRoutes() const;  // key order

  // OK iff this group may ingest records of [start, end) (end empty = +inf) for route
  // `route_id` in a chunk of the move started at or after `move_catalog_version`: the
  // route is incoming to this group at version(), covers the range, and incoming_since <=
  // move_catalog_version <= version(). Otherwise a stale-route error (the view is behind:
  // push the catalog and retry) or FailedPrecondition (the move is over, aborted, or not
  // to this group: do not retry).
  absl::Status CheckIngest(RouteId route_id, absl::string_view start, absl::string_view end,
                           CatalogVersion move_catalog_version) const;
  // OK iff this group may drop every record of [start, end): version() >= the version the
  // cleanup was decided at (else a stale-route error) and no owned or incoming route
  // overlaps the range (else FailedPrecondition).
  absl::Status CheckDeleteRange(absl::string_view start, absl::string_view end,
                                CatalogVersion decided_catalog_version) const;
  // OK iff routes this group owns (in any state) cover [start, end): the group holds the
  // range's authoritative records, so an export of them is a complete copy.
  absl::Status CheckHoldsRange(absl::string_view start, absl::string_view end) const;

  void set_planted(PlantedRouteBugs bugs) { bugs_ = bugs; }

  // Snapshot form (part of a group's replicated state, so replicas that restored from a
  // snapshot keep the same owned_since as those that applied every change):
  //   varint version, varint count, count x (route, varint owned_since)
  //   [moves extension, only while some owned route has a move target or some route is
  //    incoming, so other groups keep their bytes: varint n, n x (varint route_id,
  //    varint move_target) for owned routes; varint m, m x (route, varint incoming_since)
  //    for incoming routes (their move target is this group)].
  void Encode(std::string* dst) const;
  // DataLossError for malformed bytes or overlapping routes.
  static absl::StatusOr<GroupOwnership> Decode(GroupId group_id, PlantedRouteBugs bugs,
                                               absl::string_view bytes);

  friend bool operator==(const GroupOwnership& a, const GroupOwnership& b) {
    return a.group_id_ == b.group_id_ && a.version_ == b.version_ && a.owned_ == b.owned_ &&
           a.incoming_ == b.incoming_;
  }

 private:
  using OwnedMap = absl::btree_map<std::string, OwnedRoute>;        // by start
  using IncomingMap = absl::btree_map<std::string, IncomingRoute>;  // by start

  // Installs `routes` (this group's routes at `version`, key order), computing
  // owned_since against the current set; `continuous` says whether `version` directly
  // follows version_.
  // `routes` may also hold routes incoming to this group; they go to incoming_.
  void Install(CatalogVersion version, std::vector<RouteDescriptor> routes, bool continuous);
  bool Concerns(const RouteDescriptor& route) const {
    return route.raft_group_id == group_id_ || route.move_target_group_id == group_id_;
  }
  absl::Status CheckRoute(const OwnedRoute& owned, absl::string_view what,
                          CatalogVersion request_catalog_version, AccessKind access) const;

  GroupId group_id_;
  PlantedRouteBugs bugs_;
  CatalogVersion version_ = 0;
  OwnedMap owned_;
  IncomingMap incoming_;
};

}  // namespace ekv::route
