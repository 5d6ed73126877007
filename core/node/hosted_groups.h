// Which run-time groups a node must host, from the route catalog (route::GroupDescriptor).
//
// Both drivers (runtime/server/node_loop, sim/cluster) call this after the catalog group
// applied a change, and carry out the plan outside NodeHost's apply:
//   - a live listed group whose replicas (GroupDescriptor::Replicas) name this node and
//     that it does not host: host it. A bootstrap voter bootstraps its Raft storage with
//     exactly the listed voters when it has no state (every voter bootstraps the same
//     first entries, so the replicas agree from index 1; a voter that was down when the
//     group was created does it when it catches up). A node that joined later (a replica
//     move's target) starts it empty and waits for the leader's snapshot: bootstrapping
//     would give it first entries the group never had.
//   - a hosted group that is retired (an id of the catalog's created range that it no
//     longer lists: route::RouteCatalog::IsRetired), or that the catalog records this
//     node as removed from: stop hosting it. A removed node never hosts the group again,
//     also when it was down during its removal and comes back with the group's old state
//     on its disk; a retired id is never listed again.
// Initial groups (below the created range, never listed) are never touched here.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "core/raft/types.h"
#include "core/route/catalog.h"

namespace ekv::node {

struct HostedGroup {
  raft::GroupId group_id = 0;
  // The voters to bootstrap it with when the node has no state for it; empty: start empty
  // and wait for the group's leader (a node that joined it).
  std::vector<uint64_t> bootstrap_voters;
};

struct HostedGroupsPlan {
  std::vector<HostedGroup> host;      // by id
  std::vector<raft::GroupId> retire;  // by id: stop hosting (retired, or this node removed)
  bool empty() const { return host.empty() && retire.empty(); }
};

// What a catalog says of the groups created at run time.
struct CreatedGroups {
  absl::btree_map<raft::GroupId, route::GroupDescriptor> live;  // RouteCatalog::groups()
  route::CreatedGroupIds ids;  // every id created so far: the unlisted ones are retired
};
CreatedGroups CreatedGroupsOf(const route::RouteCatalog& catalog);

// Tests of the tests (the simulator's planted bugs).
struct PlantedHostedGroupsBugs {
  // A group to host is bootstrapped with this node as its only voter: every listed voter
  // then runs a group of its own under the same id, and writes acknowledged by one are
  // missing from the others.
  bool bootstrap_alone = false;
  // A node that joined a group (a replica move's target) bootstraps it with the group's
  // current replicas instead of starting empty: its first entries differ from the group's.
  bool joined_bootstraps = false;
  // The catalog's removed list is ignored: a node removed from a group keeps hosting it,
  // and one that was down during its removal hosts it again on its return.
  bool ignore_removed = false;
};

// `created`: CreatedGroupsOf(catalog); `hosted`: NodeHost::groups().
HostedGroupsPlan PlanHostedGroups(const CreatedGroups& created, raft::NodeId node,
                                  const std::vector<raft::GroupId>& hosted,
                                  const PlantedHostedGroupsBugs& plants = {});

}  // namespace ekv::node
