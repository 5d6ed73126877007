#include "adapters/dynamo/table_placement.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/key_codec.h"
#include "core/util/assert.h"

namespace ekv::dynamo {
namespace {

using Route = DynamoBackend::Route;

bool StartsBeforeEnd(const std::string& key, const std::string& end) {
  return end.empty() || key < end;
}

// The route holding `key` (routes cover the key space in order).
const Route* RouteHolding(const DynamoBackend::Routes& routes, const std::string& key) {
  const Route* holder = nullptr;
  for (const Route& route : routes.routes) {
    if (route.start > key) break;
    holder = &route;
  }
  EKV_ASSERT(holder != nullptr && StartsBeforeEnd(key, holder->end),
             "the catalog's routes cover every key");
  return holder;
}

}  // namespace

std::vector<std::string> PlacementBoundaries(uint64_t id, size_t parts) {
  EKV_ASSERT(parts >= 1 && parts <= kMaxPlacementParts, "placement parts in 1..16");
  std::vector<std::string> keys;
  keys.push_back(ItemPrefix(id));
  for (size_t i = 1; i < parts; ++i) {
    keys.push_back(HashBoundary(id, static_cast<uint32_t>((uint64_t{i} << 32) / parts)));
  }
  keys.push_back(PrefixEnd(ItemPrefix(id)));
  EKV_ASSERT(!keys.back().empty(), "a table's key space ends before +inf");
  return keys;
}

absl::StatusOr<std::optional<PlacementStep>> NextPlacementStep(const DynamoBackend::Routes& routes,
                                                               uint64_t id) {
  std::set<uint64_t> group_set;
  for (const Route& route : routes.routes) group_set.insert(route.group);
  if (group_set.size() < 2) return std::optional<PlacementStep>();
  const std::vector<uint64_t> groups(group_set.begin(), group_set.end());
  const size_t parts = std::min(groups.size(), kMaxPlacementParts);
  const std::vector<std::string> boundaries = PlacementBoundaries(id, parts);
  // Cuts first, so that each move takes exactly one part and nothing else.
  for (const std::string& boundary : boundaries) {
    const Route* holder = RouteHolding(routes, boundary);
    if (holder->start == boundary) continue;
    if (!holder->active) {
      return absl::FailedPreconditionError(
          absl::StrCat("route ", holder->route_id,
                       " holding a new table's key space is being moved; try again"));
    }
    return std::optional<PlacementStep>(
        PlacementStep{PlacementStep::Kind::kSplit, holder->route_id, boundary, 0});
  }
  for (size_t part = 0; part < parts; ++part) {
    const uint64_t target = groups[part % groups.size()];
    for (const Route& route : routes.routes) {
      if (route.start < boundaries[part] || route.start >= boundaries[part + 1]) continue;
      if (route.group != target) {
        return std::optional<PlacementStep>(
            PlacementStep{PlacementStep::Kind::kMove, route.route_id, route.start, target});
      }
    }
  }
  return std::optional<PlacementStep>();
}

Task<absl::Status> PlaceKeySpace(DynamoBackend* backend, uint64_t id, int max_steps) {
  absl::Status last = absl::OkStatus();
  for (int step = 0; step < max_steps; ++step) {
    absl::StatusOr<DynamoBackend::Routes> routes = co_await backend->ReadRoutes();
    if (!routes.ok()) co_return routes.status();
    absl::StatusOr<std::optional<PlacementStep>> next = NextPlacementStep(*routes, id);
    if (!next.ok()) co_return next.status();
    if (!next->has_value()) co_return absl::OkStatus();
    const PlacementStep& todo = **next;
    if (todo.kind == PlacementStep::Kind::kSplit) {
      // A refusal (another node changed the catalog since it was read) or an unknown
      // outcome: plan again from the catalog as it now is, which shows whether it happened.
      last = co_await backend->SplitRoute(routes->version, todo.route_id, todo.key);
    } else {
      last = co_await backend->MoveRoute(todo.key, todo.group);
      if (!last.ok()) co_return last;
    }
  }
  co_return absl::AbortedError(absl::StrCat("placing a new table's key space took more than ",
                                            max_steps, " catalog steps (last: ", last.ToString(),
                                            "); try again"));
}

}  // namespace ekv::dynamo
