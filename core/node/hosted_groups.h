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

// `created`: route::RouteCatalog::groups(); `hosted`: NodeHost::groups().
HostedGroupsPlan PlanHostedGroups(const CreatedGroups& created, raft::NodeId node,
                                  const std::vector<raft::GroupId>& hosted);

}  // namespace ekv::node
