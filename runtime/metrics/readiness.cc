#include "runtime/metrics/readiness.h"

#include "absl/strings/str_cat.h"
#include "runtime/metrics/health.h"

namespace ekv::runtime::metrics {

absl::Status NodeReadiness(const std::map<raft::GroupId, node::GroupStatus>& statuses,
                           uint64_t route_table_version, raft::GroupId catalog_group) {
  if (statuses.empty()) return absl::UnavailableError("this node hosts no Raft group yet");
  for (const auto& [group, status] : statuses) {
    if (status.leader == raft::kNoNode) {
      return absl::UnavailableError(absl::StrCat("group ", group, " has no known leader"));
    }
  }
  if (route_table_version == 0) return absl::UnavailableError("no route table loaded yet");
  if (auto it = statuses.find(catalog_group); it != statuses.end() && it->second.applied == 0) {
    return absl::UnavailableError(
        absl::StrCat("the route catalog (group ", catalog_group, ") has not been applied yet"));
  }
  return absl::OkStatus();
}

MetricsHttpServer::HealthCheck NodeReadinessCheck(const NodeLoop* loop,
                                                  const Coordinator* coordinator,
                                                  raft::GroupId catalog_group,
                                                  std::chrono::milliseconds max_round_age) {
  return [loop, coordinator, catalog_group, max_round_age]() -> absl::Status {
    absl::Status healthy =
        NodeLoopHealth(loop->stats(), std::chrono::steady_clock::now(), max_round_age);
    if (!healthy.ok()) return healthy;
    return NodeReadiness(loop->GroupStatuses(), coordinator->catalog_version(), catalog_group);
  };
}

}  // namespace ekv::runtime::metrics
