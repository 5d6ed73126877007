#include "core/placement/replica_balance.h"

#include <algorithm>
#include <utility>

namespace ekv::placement {

std::map<uint64_t, size_t> ReplicaCounts(const std::vector<uint64_t>& members,
                                         const route::RouteCatalog& catalog) {
  std::map<uint64_t, size_t> counts;
  for (uint64_t member : members) counts[member] = 0;
  for (const auto& [id, group] : catalog.groups()) {
    for (uint64_t replica : group.Replicas()) {
      if (auto it = counts.find(replica); it != counts.end()) ++it->second;
    }
  }
  return counts;
}

std::optional<ReplicaMovePlan> PlanReplicaBalance(const std::vector<uint64_t>& members,
                                                  const route::RouteCatalog& catalog) {
  const std::map<uint64_t, size_t> counts = ReplicaCounts(members, catalog);
  auto count_of = [&counts](uint64_t node) {
    auto it = counts.find(node);
    return it == counts.end() ? size_t{0} : it->second;
  };
  // A move left between its two catalog steps: finish it before planning anything new.
  for (const auto& [id, group] : catalog.groups()) {
    const std::vector<uint64_t> replicas = group.Replicas();
    if (replicas.size() <= group.voters.size()) continue;
    uint64_t target = 0;
    for (uint64_t joined : group.joined) {
      if (group.IsReplica(joined)) target = joined;  // the latest join (highest id) stays
    }
    std::pair<size_t, uint64_t> busiest{0, 0};
    for (uint64_t replica : replicas) {
      if (replica == target) continue;
      // Busiest first; among equals the lower id (negated in the comparison).
      if (busiest.second == 0 || count_of(replica) > busiest.first) {
        busiest = {count_of(replica), replica};
      }
    }
    if (target != 0 && busiest.second != 0) return ReplicaMovePlan{id, busiest.second, target};
  }
  // Members by count, busiest first (ties: lower id first).
  std::vector<std::pair<size_t, uint64_t>> ranked;
  for (const auto& [node, count] : counts) ranked.emplace_back(count, node);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [heavy_count, heavy] : ranked) {
    for (auto light = ranked.rbegin(); light != ranked.rend(); ++light) {
      if (heavy_count < light->first + 2) break;  // the rest are closer still
      for (const auto& [id, group] : catalog.groups()) {
        if (!group.IsReplica(heavy)) continue;
        if (group.IsReplica(light->second) || group.WasRemoved(light->second)) continue;
        // Keep the group drainable: after the move (heavy removed for good, light a
        // replica) some other member must still be free to take a replica of it.
        size_t spare_after = 0;
        for (const auto& [member, count] : counts) {
          if (member != light->second && !group.IsReplica(member) && !group.WasRemoved(member)) {
            ++spare_after;
          }
        }
        if (spare_after == 0) continue;
        return ReplicaMovePlan{id, heavy, light->second};
      }
    }
  }
  return std::nullopt;
}

}  // namespace ekv::placement
