#include "core/node/hosted_groups.h"

#include <algorithm>

namespace ekv::node {

HostedGroupsPlan PlanHostedGroups(const CreatedGroups& created, raft::NodeId node,
                                  const std::vector<raft::GroupId>& hosted,
                                  const PlantedHostedGroupsBugs& plants) {
  HostedGroupsPlan plan;
  auto is_hosted = [&hosted](raft::GroupId group) {
    return std::find(hosted.begin(), hosted.end(), group) != hosted.end();
  };
  for (const auto& [id, group] : created) {
    if (group.retired) {
      if (is_hosted(id)) plan.retire.push_back(id);
      continue;
    }
    const bool voter =
        std::find(group.voters.begin(), group.voters.end(), node) != group.voters.end();
    if (voter && !is_hosted(id)) {
      plan.host.push_back(group);
      if (plants.bootstrap_alone) plan.host.back().voters = {node};
    }
  }
  return plan;
}

}  // namespace ekv::node
