// The table placement planner: where a new DynamoDB table's (or index's) key space goes,
// decided from the route catalog alone. Pure and deterministic (no I/O, ordered
// containers), so the server and the simulator take the same decisions; the front door's
// driver (adapters/dynamo/place_key_space.h) reads the catalog, asks for the next step,
// runs it through the coordinator, and asks again.
//
// A key space [boundaries.front(), boundaries.back()) is cut into P parts at the caller's
// boundaries (part i is [boundaries[i], boundaries[i+1])), P = TablePlacementParts: one per
// group the catalog names (at most kMaxTableParts), and part i is placed on the i-th of
// those groups in id order. The steps are ordinary SplitRange operations (one at each end
// too, so that no other keys move with the table), then ordinary range moves, so the
// catalog stays the one source of truth and a placed route can be split or moved again
// later like any other. Cuts come first, so that each move takes exactly one part and
// nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/route/route.h"

namespace ekv::placement {

inline constexpr size_t kMaxTableParts = 16;

// One route of the catalog as the planner needs it.
struct CatalogRoute {
  route::RouteId route_id = 0;
  std::string start;
  std::string end;  // empty: +infinity
  route::GroupId group = 0;
  bool active = true;  // false while the route is fenced or being moved
};

struct TablePlacementStep {
  enum class Kind { kSplit, kMove };
  Kind kind = Kind::kSplit;
  route::RouteId route_id = 0;  // kSplit: the route to split
  std::string key;              // kSplit: the split key; kMove: a key of the route to move
  route::GroupId group = 0;     // kMove: the target group
};
bool operator==(const TablePlacementStep& a, const TablePlacementStep& b);

// How many parts a new key space is cut into under `routes` (in key order, covering every
// key): one per distinct group, at most kMaxTableParts. Below 2 there is nothing to spread.
size_t TablePlacementParts(const std::vector<CatalogRoute>& routes);

// The next step towards placing the key space cut at `boundaries` (ascending, exactly
// TablePlacementParts(routes) + 1 keys, the last one finite) under `routes`; nullopt when
// it is placed (or when the catalog names a single group). FailedPrecondition when a
// route that must be split is fenced or being moved by someone else.
absl::StatusOr<std::optional<TablePlacementStep>> NextTablePlacementStep(
    const std::vector<CatalogRoute>& routes, const std::vector<std::string>& boundaries);

}  // namespace ekv::placement
