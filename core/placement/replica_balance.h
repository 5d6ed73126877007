// Replica balance: which replica of a created group should move so that every member
// hosts about as many replicas of created groups as the others. Pure and deterministic
// (ordered containers; ties broken by the lower node id, then group id): the coordinator
// runs it against the catalog it just read (Coordinator::StartBalanceReplicas), the
// placement driver asks for one move per round.
//
// Tolerance: balanced when the members' replica counts differ by at most one (a move
// changes two counts by one each, so a difference of one cannot be evened), which keeps
// every member within +-25% of the mean once the mean is 4 replicas or more, and gives a
// member that hosts none (a joined node) one as soon as another hosts two more than it.
// Only legal moves count: the lighter node must neither host the group nor have been
// removed from it (a node never hosts a group again), and a move must leave the group a
// member that is free to take a replica of it (neither hosting it nor removed from it):
// else no node of the group could be drained any more (DrainNode refuses) until a node is
// added, which in a 5-node cluster of 3-replica groups happens as soon as a group moves
// twice. So a catalog can be as balanced as it gets with counts further apart, and a
// cluster of 4 nodes moves no replica of a 3-replica group for balance.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/route/catalog.h"

namespace ekv::placement {

struct ReplicaMovePlan {
  uint64_t group = 0;
  uint64_t from = 0;
  uint64_t to = 0;
};

// Replicas of live created groups per member (members hosting none listed with 0;
// replicas on nodes that are not members are not counted).
std::map<uint64_t, size_t> ReplicaCounts(const std::vector<uint64_t>& members,
                                         const route::RouteCatalog& catalog);

// The move to run next, or nullopt when balanced (as above). First a group that holds one
// replica more than it was created with (a move that stopped between its target's join
// and its source's removal): its target stays, and the replica on the busiest other node
// leaves. Else, from the busiest member to the idlest one it can go to, when they differ
// by two or more.
std::optional<ReplicaMovePlan> PlanReplicaBalance(const std::vector<uint64_t>& members,
                                                  const route::RouteCatalog& catalog);

}  // namespace ekv::placement
