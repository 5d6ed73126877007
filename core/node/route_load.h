// RouteLoad: one route's traffic as counted by one replica of its group
// (route_load_counter.h), published with the group's status (node_host.h GroupStatus) for
// the console's key-space heat map. Counters are cumulative since the replica started.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace ekv::node
