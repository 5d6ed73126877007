#include "runtime/console/node_document.h"

#include <string>

namespace ekv::runtime::console {
namespace {

const char* RoleName(raft::StateType state) {
  switch (state) {
    case raft::StateType::kLeader:
      return "leader";
    case raft::StateType::kFollower:
      return "follower";
    case raft::StateType::kCandidate:
      return "candidate";
    case raft::StateType::kPreCandidate:
      return "pre-candidate";
  }
  return "unknown";
}

}  // namespace

nlohmann::json NodeDocument(raft::NodeId node, const absl::Status& readiness,
                            const std::map<raft::GroupId, node::GroupStatus>& statuses,
                            const LoadHistory& history) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& [group, status] : statuses) {
    groups.push_back({{"group", group},
                      {"term", status.term},
                      {"leader", status.leader},
                      {"state", RoleName(status.state)},
                      {"commit", status.commit},
                      {"applied", status.applied},
                      {"last_index", status.last_index},
                      {"voters", status.conf_state.voters},
                      {"learners", status.conf_state.learners}});
  }
  return {{"node", node},
          {"ready", readiness.ok()},
          {"ready_reason", std::string(readiness.message())},
          {"groups", groups},
          {"load", history.ToJson()}};
}

}  // namespace ekv::runtime::console
