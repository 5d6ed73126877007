// Placing a new table's (or index's) key space over the Raft groups, so that its items
// spread across groups instead of all landing in the route that happens to hold the
// DynamoDB prefix.
//
// Under KeyLayout::kHashed (key_codec.h) the key space of id is
//   [ItemPrefix(id), PrefixEnd(ItemPrefix(id)))
// with every partition at the position of its 32-bit hash. It is cut into P parts at the
// hash boundaries i * 2^32 / P (PlacementBoundaries), P and the placement of the parts
// decided by core's planner (core/placement/table_placement.h: catalog in, the next split
// or move out). Every partition lies in exactly one part, so a Query still reads one route.
//
// PlaceKeySpace is the driver: it reads the catalog, asks the planner for the next step,
// runs it through the backend, and reads the catalog again after every step, so
// concurrent CreateTables on other nodes (whose splits make ours stale) only cost retries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "adapters/dynamo/backend.h"
#include "adapters/dynamo/task.h"

namespace ekv::dynamo {

// The split keys of `id`'s key space cut into `parts` (1..placement::kMaxTableParts): its
// start, the inner hash boundaries, its end (parts + 1 keys in order; part i is
// [keys[i], keys[i+1])).
std::vector<std::string> PlacementBoundaries(uint64_t id, size_t parts);

// Runs the planner's steps until `id` is placed: at most `max_steps` steps (bounded; a
// catalog race lost costs one). The store's error of a failed move ends it.
Task<absl::Status> PlaceKeySpace(DynamoBackend* backend, uint64_t id, int max_steps = 64);

}  // namespace ekv::dynamo
