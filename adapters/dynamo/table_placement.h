// Placing a new table's (or index's) key space over the Raft groups, so that its items
// spread across groups instead of all landing in the route that happens to hold the
// DynamoDB prefix.
//
// Under KeyLayout::kHashed (key_codec.h) the key space of id is
//   [ItemPrefix(id), PrefixEnd(ItemPrefix(id)))
// with every partition at the position of its 32-bit hash. It is cut into P = G parts
// (G: the groups the catalog names, at most kMaxPlacementParts) at the hash boundaries
// i * 2^32 / P, and part i is placed on the i-th group (in id order). The cuts are ordinary
// SplitRange operations (plus one at each end, so that no other keys move with the table),
// the placement ordinary range moves, so the catalog stays the one source of truth and a
// route can be moved or split again later like any other. Every partition lies in exactly
// one part, so a Query still reads one route.
//
// NextPlacementStep is the pure planner: given the catalog, the one next split or move, or
// nothing when the key space is placed. PlaceKeySpace runs it against the store, reading
// the catalog again after every step, so concurrent CreateTables on other nodes (whose
// splits make ours stale) only cost retries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/dynamo/backend.h"

namespace ekv::dynamo {

inline constexpr size_t kMaxPlacementParts = 16;

struct PlacementStep {
  enum class Kind { kSplit, kMove };
  Kind kind = Kind::kSplit;
  uint64_t route_id = 0;  // kSplit: the route to split
  std::string key;        // kSplit: the split key; kMove: a key of the route to move
  uint64_t group = 0;     // kMove: the target group
  friend bool operator==(const PlacementStep&, const PlacementStep&) = default;
};

// The split keys of `id`'s key space: its start, the inner hash boundaries, its end
// (P + 1 keys in order; part i is [keys[i], keys[i+1])).
std::vector<std::string> PlacementBoundaries(uint64_t id, size_t parts);

// The next step towards `id`'s placement under `routes`; nullopt when placed (or when the
// catalog names a single group: nothing to spread over). FailedPrecondition when a route
// that must be split is fenced or being moved by someone else.
absl::StatusOr<std::optional<PlacementStep>> NextPlacementStep(const DynamoBackend::Routes& routes,
                                                               uint64_t id);

// Runs the steps until `id` is placed: at most `max_steps` steps (bounded; a catalog race
// lost costs one). The store's error of a failed split or move ends it.
Task<absl::Status> PlaceKeySpace(DynamoBackend* backend, uint64_t id, int max_steps = 64);

}  // namespace ekv::dynamo
