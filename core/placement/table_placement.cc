#include "core/placement/table_placement.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::placement {
namespace {

bool StartsBeforeEnd(const std::string& key, const std::string& end) {
  return end.empty() || key < end;
}

// The route holding `key` (routes cover the key space in order).
const CatalogRoute* RouteHolding(const std::vector<CatalogRoute>& routes, const std::string& key) {
  const CatalogRoute* holder = nullptr;
  for (const CatalogRoute& route : routes) {
    if (route.start > key) break;
    holder = &route;
  }
  EKV_ASSERT(holder != nullptr && StartsBeforeEnd(key, holder->end),
             "the catalog's routes cover every key");
  return holder;
}

// The catalog's groups in id order.
std::vector<route::GroupId> GroupsOf(const std::vector<CatalogRoute>& routes) {
  std::set<route::GroupId> groups;
  for (const CatalogRoute& route : routes) groups.insert(route.group);
  return std::vector<route::GroupId>(groups.begin(), groups.end());
}

}  // namespace

bool operator==(const TablePlacementStep& a, const TablePlacementStep& b) {
  return a.kind == b.kind && a.route_id == b.route_id && a.key == b.key && a.group == b.group;
}

size_t TablePlacementParts(const std::vector<CatalogRoute>& routes) {
  return std::min(GroupsOf(routes).size(), kMaxTableParts);
}

absl::StatusOr<std::optional<TablePlacementStep>> NextTablePlacementStep(
    const std::vector<CatalogRoute>& routes, const std::vector<std::string>& boundaries) {
  const std::vector<route::GroupId> groups = GroupsOf(routes);
  const size_t parts = std::min(groups.size(), kMaxTableParts);
  if (parts < 2) return std::optional<TablePlacementStep>();
  EKV_ASSERT(boundaries.size() == parts + 1, "a key space cut into ", parts, " parts needs ",
             parts + 1, " boundaries, got ", boundaries.size());
  EKV_ASSERT(std::is_sorted(boundaries.begin(), boundaries.end()) &&
                 std::adjacent_find(boundaries.begin(), boundaries.end()) == boundaries.end(),
             "placement boundaries strictly ascending");
  EKV_ASSERT(!boundaries.back().empty(), "a table's key space ends before +inf");
  // Cuts first, so that each move takes exactly one part and nothing else.
  for (const std::string& boundary : boundaries) {
    const CatalogRoute* holder = RouteHolding(routes, boundary);
    if (holder->start == boundary) continue;
    if (!holder->active) {
      return absl::FailedPreconditionError(
          absl::StrCat("route ", holder->route_id,
                       " holding a new table's key space is being moved; try again"));
    }
    return std::optional<TablePlacementStep>(
        TablePlacementStep{TablePlacementStep::Kind::kSplit, holder->route_id, boundary, 0});
  }
  for (size_t part = 0; part < parts; ++part) {
    const route::GroupId target = groups[part];
    for (const CatalogRoute& route : routes) {
      if (route.start < boundaries[part] || route.start >= boundaries[part + 1]) continue;
      if (route.group != target) {
        return std::optional<TablePlacementStep>(TablePlacementStep{
            TablePlacementStep::Kind::kMove, route.route_id, route.start, target});
      }
    }
  }
  return std::optional<TablePlacementStep>();
}

}  // namespace ekv::placement
