#include "sim/leader_band.h"

#include <algorithm>
#include <functional>
#include <set>

namespace ekv::sim {
namespace {

// A maximum b-matching of groups to nodes (node n takes at most caps[n] groups), by
// augmenting paths (Kuhn's algorithm on nodes split into cap copies); its size.
size_t MaxAssignment(const std::map<uint64_t, std::vector<uint64_t>>& candidates,
                     const std::map<uint64_t, size_t>& caps) {
  std::map<uint64_t, std::vector<uint64_t>> held;  // node -> the groups it leads
  // Bounded: each call marks a node seen before it recurses, so a search visits each node
  // at most once.
  std::function<bool(uint64_t, std::set<uint64_t>&)> place = [&](uint64_t group,
                                                                 std::set<uint64_t>& seen) {
    for (uint64_t node : candidates.at(group)) {
      auto cap = caps.find(node);
      if (cap == caps.end() || !seen.insert(node).second) continue;
      if (held[node].size() < cap->second) {
        held[node].push_back(group);
        return true;
      }
      const std::vector<uint64_t> mine = held[node];
      for (uint64_t other : mine) {
        if (!place(other, seen)) continue;
        std::vector<uint64_t>& now = held[node];  // `other` moved on: `group` takes its place
        now.erase(std::find(now.begin(), now.end(), other));
        now.push_back(group);
        return true;
      }
    }
    return false;
  };
  size_t count = 0;
  for (const auto& [group, nodes] : candidates) {
    std::set<uint64_t> seen;
    count += place(group, seen) ? 1 : 0;
  }
  return count;
}

}  // namespace

bool LeaderBandReachable(const std::map<uint64_t, std::vector<uint64_t>>& candidates,
                         const std::map<uint64_t, size_t>& lo,
                         const std::map<uint64_t, size_t>& hi) {
  // A matching that gives every group a leader under the upper bounds and one that gives
  // every node its lower bound yield one that does both (Mendelsohn-Dulmage, on nodes
  // split into copies), so two maximum matchings decide it.
  size_t lower = 0;
  for (const auto& [node, bound] : lo) lower += bound;
  return MaxAssignment(candidates, hi) == candidates.size() &&
         MaxAssignment(candidates, lo) == lower;
}

}  // namespace ekv::sim
