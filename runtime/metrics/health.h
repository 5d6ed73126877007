// The node's liveness answer for GET /healthz: healthy once the node loop has run a round
// and while it keeps running them. The loop finishes a round at least every Raft tick, so
// a loop stuck (a blocked disk write, a deadlock) for longer than `max_round_age` shows up
// as unhealthy while gRPC may still accept connections.
#pragma once

#include <chrono>

#include "absl/status/status.h"
#include "runtime/metrics/http_server.h"
#include "runtime/server/node_loop.h"

namespace ekv::runtime::metrics {

absl::Status NodeLoopHealth(const NodeLoopStats& stats, std::chrono::steady_clock::time_point now,
                            std::chrono::milliseconds max_round_age);

// NodeLoopHealth of `loop` (which must outlive the server) at the time of each request.
MetricsHttpServer::HealthCheck NodeLoopHealthCheck(
    const NodeLoop* loop, std::chrono::milliseconds max_round_age = std::chrono::seconds(10));

}  // namespace ekv::runtime::metrics
