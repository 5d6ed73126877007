// Collectors for one ekv-server's components: the Raft groups and the node loop
// (NodeLoop), request routing (Coordinator) and node-to-node traffic (RaftTransport).
//
// Each Collect* function turns one component's published numbers into metric families;
// AddServerCollectors registers them all, reading each component through its thread-safe
// accessors (NodeLoop::GroupStatuses copies the status the loop publishes after every
// round, so a scrape never touches NodeHost, which only the loop thread may).
#pragma once

#include <vector>

#include "core/node/node_host.h"
#include "runtime/metrics/metric_set.h"
#include "runtime/metrics/registry.h"
#include "runtime/server/coordinator.h"
#include "runtime/server/node_loop.h"
#include "runtime/transport/raft_transport.h"

namespace ekv::runtime::metrics {

// Per Raft group (label `group`): term, commit/applied/last-log/snapshot index,
// is_leader, leader id (0: none known), pending requests.
void CollectGroupStatuses(const std::vector<node::GroupStatus>& statuses, MetricSet& metrics);
void CollectNodeLoopStats(const NodeLoopStats& stats, MetricSet& metrics);
void CollectCoordinatorStats(const CoordinatorStats& stats, MetricSet& metrics);
void CollectTransportCounters(const TransportCounters& counters, MetricSet& metrics);

// Registers the collectors above; the components must outlive every scrape (stop the
// metrics server before them).
void AddServerCollectors(MetricRegistry& registry, const NodeLoop* loop,
                         const Coordinator* coordinator, const RaftTransport* transport);

}  // namespace ekv::runtime::metrics
