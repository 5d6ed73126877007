// The simulator's judgement of leader balance (kv_workload_placement.cc JudgeLeaders): can
// the cluster lead within the band at all? Written apart from the core's planner
// (core/placement/leader_balance.cc), which it judges, and shares nothing with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace ekv::sim {

// Whether some assignment of leaders puts every node's count within [lo, hi]: each group
// of `candidates` (group -> the nodes that may lead it) led by one of them. Nodes missing
// from `hi` may lead nothing; nodes missing from `lo` need lead nothing.
bool LeaderBandReachable(const std::map<uint64_t, std::vector<uint64_t>>& candidates,
                         const std::map<uint64_t, size_t>& lo,
                         const std::map<uint64_t, size_t>& hi);

}  // namespace ekv::sim
