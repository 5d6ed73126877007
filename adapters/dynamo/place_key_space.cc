#include "adapters/dynamo/place_key_space.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/key_codec.h"
#include "core/placement/table_placement.h"
#include "core/util/assert.h"

namespace ekv::dynamo {

std::vector<std::string> PlacementBoundaries(uint64_t id, size_t parts) {
  EKV_ASSERT(parts >= 1 && parts <= placement::kMaxTableParts, "placement parts in 1..",
             placement::kMaxTableParts);
  std::vector<std::string> keys;
  keys.push_back(ItemPrefix(id));
  for (size_t i = 1; i < parts; ++i) {
    keys.push_back(HashBoundary(id, static_cast<uint32_t>((uint64_t{i} << 32) / parts)));
  }
  keys.push_back(PrefixEnd(ItemPrefix(id)));
  EKV_ASSERT(!keys.back().empty(), "a table's key space ends before +inf");
  return keys;
}

Task<absl::Status> PlaceKeySpace(DynamoBackend* backend, uint64_t id, int max_steps) {
  absl::Status last = absl::OkStatus();
  for (int step = 0; step < max_steps; ++step) {
    absl::StatusOr<DynamoBackend::Routes> routes = co_await backend->ReadRoutes();
    if (!routes.ok()) co_return routes.status();
    const size_t parts = placement::TablePlacementParts(routes->routes);
    if (parts < 2) co_return absl::OkStatus();  // one group: nothing to spread over
    absl::StatusOr<std::optional<placement::TablePlacementStep>> next =
        placement::NextTablePlacementStep(routes->routes, PlacementBoundaries(id, parts));
    if (!next.ok()) co_return next.status();
    if (!next->has_value()) co_return absl::OkStatus();
    const placement::TablePlacementStep& todo = **next;
    if (todo.kind == placement::TablePlacementStep::Kind::kSplit) {
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
