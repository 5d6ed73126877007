// RouteTable: a node's cached copy of the route catalog, for routing requests.
//
// The table only moves forward: an update older than (or equal to) what it holds is
// ignored, so updates arriving out of order from several sources are harmless. It
// advances either by a full catalog (a snapshot) or by the next CatalogDelta.
//
// Watches: a subscriber registers with the version it already knows and is called back
// synchronously whenever the table advances past it, with the deltas it missed (kept in
// a bounded CatalogChangeLog) or, when it is too far behind for those, a full snapshot.
// Nothing polls. Callbacks must not call back into the table (asserted).
//
// Lookup cost: O(log n) in an absl::btree_map keyed by start; see bench/route_bench.cc
// for figures at 1,000,000 routes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/route/catalog.h"
#include "core/route/change_log.h"
#include "core/route/route.h"

namespace ekv::route {

// What a watcher receives when the table advances past the version it knows.
struct RouteUpdate {
  enum class Kind { kDeltas, kSnapshot };
  Kind kind = Kind::kDeltas;
  CatalogVersion from_version = 0;        // what the watcher knew
  CatalogVersion to_version = 0;          // what it knows after this update
  std::vector<CatalogDelta> deltas;       // kDeltas: versions from_version+1 .. to_version
  std::vector<RouteDescriptor> snapshot;  // kSnapshot: every route at to_version, key order
};

class RouteWatcher {
 public:
  virtual ~RouteWatcher() = default;
  virtual void OnRouteUpdate(const RouteUpdate& update) = 0;
};

using WatchId = uint64_t;

struct RouteTableOptions {
  size_t change_log_capacity = 1024;  // deltas kept for watchers that are behind
  size_t max_watchers = 1024;
};

class RouteTable {
 public:
  explicit RouteTable(RouteTableOptions options = {});
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // 0 until the first Apply.
  CatalogVersion version() const { return version_; }
  size_t route_count() const { return routes_by_start_.size(); }
  bool empty() const { return routes_by_start_.empty(); }

  // The route holding `key`; nullptr only while the table is empty. Returned pointers
  // stay valid until an Apply removes or replaces that route (any snapshot Apply does).
  const RouteDescriptor* Lookup(absl::string_view key) const;
  // The route holding the greatest keys below `end` (end empty = +inf: the last route);
  // what a reverse scan resuming before `end` reads next. nullptr when end == "" can
  // only mean +inf here, so this never answers "nothing below"; callers stop at "".
  const RouteDescriptor* LookupBefore(absl::string_view end) const;
  const RouteDescriptor* FindRoute(RouteId route_id) const;
  // The routes intersecting [start, end) (end empty = +inf), in key order.
  std::vector<const RouteDescriptor*> RoutesOverlapping(absl::string_view start,
                                                        absl::string_view end) const;
  // Every route, in key order.
  std::vector<RouteDescriptor> Snapshot() const;

  // Replaces the contents with `catalog` if it is newer; returns whether it advanced.
  bool Apply(const RouteCatalog& catalog);
  // Applies `delta` if it is the next version (true); ignores one at or below version()
  // (false). A delta from further ahead is FailedPrecondition: the caller must fetch a
  // full catalog. A delta that does not fit the table (a removed id it does not hold) is
  // InvalidArgument; the table is unchanged in both cases.
  absl::StatusOr<bool> Apply(const CatalogDelta& delta);

  // Registers `watcher` (not owned; must outlive the watch) as knowing `known_version`.
  // If the table is already past it, the watcher is caught up before this returns.
  // ResourceExhausted beyond options.max_watchers.
  absl::StatusOr<WatchId> Watch(CatalogVersion known_version, RouteWatcher* watcher);
  void Unwatch(WatchId id);
  size_t watcher_count() const { return watches_.size(); }

 private:
  struct WatchEntry {
    RouteWatcher* watcher = nullptr;
    CatalogVersion known_version = 0;
  };

  void NotifyWatchers();
  void CatchUp(WatchEntry* entry);
  void CheckNeighbourhood(absl::string_view start) const;

  RouteTableOptions options_;
  CatalogVersion version_ = 0;
  // Values are boxed so a btree node holds many keys (a node is ~256 bytes; inline
  // descriptors would leave ~2 per node and a 20-level tree at 1M routes), and so a
  // descriptor's address survives other routes' inserts and erases.
  absl::btree_map<std::string, std::unique_ptr<RouteDescriptor>> routes_by_start_;
  absl::btree_map<RouteId, std::string> start_by_id_;
  CatalogChangeLog change_log_;
  absl::btree_map<WatchId, WatchEntry> watches_;  // ordered: deliveries in registration order
  WatchId next_watch_id_ = 1;
  bool delivering_ = false;
};

}  // namespace ekv::route
