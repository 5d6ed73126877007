// RouteLoad: one route's traffic as counted by one replica of its group
// (route_load_counter.h), published with the group's status (node_host.h GroupStatus) for
// the console's key-space heat map. Counters are cumulative since the replica started.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::node {

struct RouteLoad {
  uint64_t route_id = 0;
  std::string start;         // inclusive
  std::string end;           // exclusive; empty = +inf
  uint64_t reads = 0;        // keys read (a scan counts each key it returned)
  uint64_t writes = 0;       // keys written
  uint64_t read_bytes = 0;   // key + value bytes returned
  uint64_t write_bytes = 0;  // key + value bytes written
  friend bool operator==(const RouteLoad&, const RouteLoad&) = default;
};

// A route's counters with the keys its traffic touched most (route_load_counter.h's
// sampler: bounded, deterministic, recent traffic weighing more), in key order. The
// answer to GroupQueryOp::kRouteLoads, which the placement driver
// (core/coord/placement_driver.h) turns into the policy's RangeReports.
struct RouteLoadReport {
  RouteLoad load;
  std::vector<std::pair<std::string, uint64_t>> key_samples;
  friend bool operator==(const RouteLoadReport&, const RouteLoadReport&) = default;
};

std::string EncodeRouteLoadReports(const std::vector<RouteLoadReport>& reports);
absl::StatusOr<std::vector<RouteLoadReport>> DecodeRouteLoadReports(absl::string_view bytes);

}  // namespace ekv::node
