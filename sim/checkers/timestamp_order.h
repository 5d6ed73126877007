// Timestamp-oracle checker: timestamps handed to clients grow with real time.
//
// If one request for a timestamp completed before another was invoked, the second must
// get a strictly larger timestamp (linearizability of a counter that only moves up), and
// no timestamp is handed out twice (transactions are named by their start_ts). A
// deposed leader serving from memory without confirming its leadership, a follower
// answering from its own state, or a new leader that did not recover above its
// predecessor's ceiling all break it. O(n log n).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ekv::checkers {

struct TimestampOp {
  uint64_t invoke_time = 0;
  uint64_t complete_time = 0;
  uint64_t ts = 0;
};

// "" when every pair is ordered; else a description of the first violation found.
std::string CheckTimestampOrder(const std::vector<TimestampOp>& ops);

}  // namespace ekv::checkers
