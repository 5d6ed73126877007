#include "core/coord/membership.h"

#include <algorithm>
#include <vector>

namespace ekv::coord {
namespace {

bool Contains(const std::vector<raft::NodeId>& ids, raft::NodeId node) {
  return std::find(ids.begin(), ids.end(), node) != ids.end();
}

}  // namespace

MemberRole RoleIn(const raft::ConfState& conf, raft::NodeId node) {
  if (Contains(conf.voters, node) || Contains(conf.voters_outgoing, node)) {
    return MemberRole::kVoter;
  }
  if (Contains(conf.learners, node) || Contains(conf.learners_next, node)) {
    return MemberRole::kLearner;
  }
  return MemberRole::kNone;
}

bool ConfChangeDone(const raft::ConfState& conf, raft::NodeId node, raft::ConfChangeType type) {
  const bool joint = !conf.voters_outgoing.empty();
  const MemberRole role = RoleIn(conf, node);
  switch (type) {
    case raft::ConfChangeType::kAddLearner:
      return role != MemberRole::kNone;
    case raft::ConfChangeType::kAddVoter:
      return !joint && Contains(conf.voters, node);
    case raft::ConfChangeType::kRemoveVoter:
      return !joint && role == MemberRole::kNone;
  }
  return false;
}

}  // namespace ekv::coord
