#include "core/node/hosted_groups.h"

#include <algorithm>

namespace ekv::node {

CreatedGroups CreatedGroupsOf(const route::RouteCatalog& catalog) {
  return CreatedGroups{catalog.groups(), catalog.created_group_ids()};
}

HostedGroupsPlan PlanHostedGroups(const CreatedGroups& created, raft::NodeId node,
                                  const std::vector<raft::GroupId>& hosted,
                                  const PlantedHostedGroupsBugs& plants) {
  HostedGroupsPlan plan;
  auto is_hosted = [&hosted](raft::GroupId group) {
    return std::find(hosted.begin(), hosted.end(), group) != hosted.end();
  };
  auto contains = [](const std::vector<uint64_t>& ids, uint64_t id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  // Retired: created ids no longer listed. Hosted ids outside the range are initial groups.
  for (raft::GroupId id : hosted) {
    if (created.ids.Contains(id) && !created.live.contains(id)) plan.retire.push_back(id);
  }
  for (const auto& [id, group] : created.live) {
    const bool removed = !plants.ignore_removed && group.WasRemoved(node);
    if (removed) {
      if (is_hosted(id)) plan.retire.push_back(id);
      continue;
    }
    // A readmitted voter (catalog.h "Readmission") joins again like any other node.
    const bool voter = group.Bootstraps(node);
    const bool joined = contains(group.joined, node);
    if (!(voter || joined) || is_hosted(id)) continue;
    HostedGroup host{id, {}};
    if (voter) host.bootstrap_voters = group.voters;
    if (joined && plants.joined_bootstraps) host.bootstrap_voters = group.Replicas();
    if (plants.bootstrap_alone) host.bootstrap_voters = {node};
    plan.host.push_back(std::move(host));
  }
  std::sort(plan.retire.begin(), plan.retire.end());
  return plan;
}

}  // namespace ekv::node
