// Pure rules of node membership changes, shared by the coordinator (which drives them)
// and the servers' node listings (which report roles).
#pragma once

#include "core/raft/confchange.h"
#include "core/raft/types.h"

namespace ekv::coord {

enum class MemberRole { kNone, kLearner, kVoter };

// A node's role in a configuration; a joint configuration counts both halves.
MemberRole RoleIn(const raft::ConfState& conf, raft::NodeId node);

// Whether a group whose configuration is `conf` already has what `type` asks for `node`.
// Adding a learner is done once the node is in the group in any role: proposing it again
// for a voter would demote it. Nothing is done while the configuration is joint.
bool ConfChangeDone(const raft::ConfState& conf, raft::NodeId node, raft::ConfChangeType type);

}  // namespace ekv::coord
