// What one node says about itself at GET /api/node (its metrics and console endpoints):
// its readiness, its groups' Raft status as the node loop last published it, and its load
// samples (load_history.h). Consoles of other nodes fetch and merge these (console_server.h).
//   {"node": 1, "ready": true, "ready_reason": "", "groups": [{"group", "term", "leader",
//    "state" ("leader" | "follower" | "candidate" | "pre-candidate"), "commit", "applied",
//    "last_index", "voters": [..], "learners": [..]}], "load": LoadHistory::ToJson()}
#pragma once

#include <map>

#include "absl/status/status.h"
#include "core/node/node_host.h"
#include "core/raft/types.h"
#include "nlohmann/json.hpp"
#include "runtime/console/load_history.h"

namespace ekv::runtime::console {

nlohmann::json NodeDocument(raft::NodeId node, const absl::Status& readiness,
                            const std::map<raft::GroupId, node::GroupStatus>& statuses,
                            const LoadHistory& history);

}  // namespace ekv::runtime::console
