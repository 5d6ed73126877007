// The cluster's key-space heat map, merged from every node's load samples
// (LoadHistory::ToJson, as each node serves it at /api/node): routes on one axis, time on
// the other, a value per cell for reads, writes and bytes per second.
//
// Merging, per route and time bucket (floor(end_ms / resolution_ms): nodes sample on their
// own clocks and phases, the bucket lines them up):
//   - writes and write bytes: the MAXIMUM over nodes. Every replica applies every write,
//     so each counts the same writes; adding them up would multiply by the replica count.
//   - reads and read bytes: the SUM over nodes. Each read is served by one replica.
// bytes = read bytes + write bytes. Rows are routes ordered by start key (then id), so
// neighbouring rows are neighbouring key ranges, as in TiDB's Key Visualizer; a route that
// was split keeps its row for the time before the split, its halves get rows after.
#pragma once

#include <cstdint>
#include <vector>

#include "nlohmann/json.hpp"

namespace ekv::runtime::console {

// object[key] as an unsigned number; 0 when absent, negative or not an integer (the JSON
// comes from other nodes: never trusted to be well formed).
uint64_t JsonU64(const nlohmann::json& object, const char* key);

// `node_loads`: the "load" objects of the nodes' /api/node answers (absent nodes left
// out). Answer:
//   {"resolution_ms": R, "times_ms": [bucket start, ...] (oldest first, at most
//    `max_buckets`), "routes": [{"route_id", "group", "start", "end",
//    "reads": [per second, one per time], "writes": [...], "bytes": [...]}]}
nlohmann::json MergeHeatMap(const std::vector<nlohmann::json>& node_loads, size_t max_buckets);

}  // namespace ekv::runtime::console
