// Which run-time groups a node must host, from the route catalog (route::GroupDescriptor).
//
// Both drivers (runtime/server/node_loop, sim/cluster) call this after the catalog group
// applied a change, and carry out the plan outside NodeHost's apply:
//   - a live listed group that names this node as a voter and is not hosted: host it,
//     bootstrapping its Raft storage with exactly the listed voters when it has no state
//     (every voter bootstraps the same first entries, so the replicas agree from index 1;
//     a voter that was down when the group was created does it when it catches up);
//   - a retired group still hosted: stop hosting it.
// Initial groups (not listed) are never touched here.
#pragma once

#include <vector>

#include "absl/container/btree_map.h"
#include "core/raft/types.h"
#include "core/route/catalog.h"

namespace ekv::node {

struct HostedGroupsPlan {
  std::vector<route::GroupDescriptor> host;  // by id
  std::vector<raft::GroupId> retire;         // by id
  bool empty() const { return host.empty() && retire.empty(); }
};

using CreatedGroups = absl::btree_map<raft::GroupId, route::GroupDescriptor>;

// Tests of the tests (the simulator's planted bug `created_group_bootstraps_alone`).
struct PlantedHostedGroupsBugs {
  // A group to host is bootstrapped with this node as its only voter: every listed voter
  // then runs a group of its own under the same id, and writes acknowledged by one are
  // missing from the others.
  bool bootstrap_alone = false;
};

// `created`: route::RouteCatalog::groups(); `hosted`: NodeHost::groups().
HostedGroupsPlan PlanHostedGroups(const CreatedGroups& created, raft::NodeId node,
                                  const std::vector<raft::GroupId>& hosted,
                                  const PlantedHostedGroupsBugs& plants = {});

}  // namespace ekv::node
