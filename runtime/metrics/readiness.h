// The node's readiness answer for GET /readyz: whether it can serve requests now, as
// opposed to /healthz (is the process alive and its loop turning). A load balancer or an
// orchestrator sends traffic only to ready nodes; a live but unready node (still electing,
// cut off from a quorum, a joining node waiting for its snapshot) is left alone, not
// restarted.
//
// Ready means: healthy (health.h); the node hosts at least one group; every hosted group
// knows a leader (so requests to it can be served or forwarded); and the route catalog is
// loaded (the coordinator has a route table, and the local replica of the catalog group,
// when hosted, has applied its state).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

#include "absl/status/status.h"
#include "core/node/node_host.h"
#include "core/raft/types.h"
#include "runtime/metrics/http_server.h"
#include "runtime/server/coordinator.h"
#include "runtime/server/node_loop.h"

namespace ekv::runtime::metrics {

// Ok, or UnavailableError with the first reason found, in the order listed above.
absl::Status NodeReadiness(const std::map<raft::GroupId, node::GroupStatus>& statuses,
                           uint64_t route_table_version, raft::GroupId catalog_group);

// Health first (NodeLoopHealth with `max_round_age`), then NodeReadiness of `loop` and
// `coordinator` (both must outlive the server) at the time of each request.
MetricsHttpServer::HealthCheck NodeReadinessCheck(
    const NodeLoop* loop, const Coordinator* coordinator, raft::GroupId catalog_group,
    std::chrono::milliseconds max_round_age = std::chrono::seconds(10));

}  // namespace ekv::runtime::metrics
