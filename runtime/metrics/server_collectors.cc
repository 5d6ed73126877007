#include "runtime/metrics/server_collectors.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace ekv::runtime::metrics {

void CollectGroupStatuses(const std::vector<node::GroupStatus>& statuses, MetricSet& metrics) {
  const std::vector<std::string> group_label = {"group"};
  MetricFamily& term = metrics.Gauge("ekv_raft_term", "Current Raft term.", group_label);
  MetricFamily& commit =
      metrics.Gauge("ekv_raft_commit_index", "Highest log index known committed.", group_label);
  MetricFamily& applied = metrics.Gauge(
      "ekv_raft_applied_index", "Highest log index applied to the state machine.", group_label);
  MetricFamily& last_index =
      metrics.Gauge("ekv_raft_last_log_index", "Index of the last entry in the log.", group_label);
  MetricFamily& snapshot_index = metrics.Gauge(
      "ekv_raft_snapshot_index", "Index of the group's latest snapshot (0: none).", group_label);
  MetricFamily& is_leader =
      metrics.Gauge("ekv_raft_is_leader", "1 if this node leads the group, else 0.", group_label);
  MetricFamily& leader_id = metrics.Gauge(
      "ekv_raft_leader_id", "Node id of the leader this node knows (0: none known).", group_label);
  MetricFamily& pending = metrics.Gauge(
      "ekv_raft_pending_requests",
      "Client requests waiting in the group for a commit, an apply or a read index.", group_label);
  for (const node::GroupStatus& status : statuses) {
    const std::vector<std::string> group = {absl::StrCat(status.group)};
    term.Set(group, static_cast<double>(status.term));
    commit.Set(group, static_cast<double>(status.commit));
    applied.Set(group, static_cast<double>(status.applied));
    last_index.Set(group, static_cast<double>(status.last_index));
    snapshot_index.Set(group, static_cast<double>(status.snapshot_index));
    is_leader.Set(group, status.state == raft::StateType::kLeader ? 1 : 0);
    leader_id.Set(group, static_cast<double>(status.leader));
    pending.Set(group, static_cast<double>(status.pending_requests));
  }
}

void CollectNodeLoopStats(const NodeLoopStats& stats, MetricSet& metrics) {
  metrics.Counter("ekv_node_loop_rounds_total", "Rounds the node loop ran (ticks and wakeups).")
      .Set(static_cast<double>(stats.rounds));
  metrics
      .Counter("ekv_node_loop_synced_writes_total",
               "Synced RocksDB writes of the Raft log (one per group commit).")
      .Set(static_cast<double>(stats.synced_writes));
  metrics
      .Counter("ekv_node_loop_persisted_batches_total",
               "Per-group Raft persist batches written (several per synced write).")
      .Set(static_cast<double>(stats.persisted_batches));
  metrics.Counter("ekv_node_loop_requests_total", "Client requests handed to the node loop.")
      .Set(static_cast<double>(stats.requests));
  metrics
      .Counter("ekv_node_loop_refused_requests_total",
               "Client requests refused because the loop's inbox was full or it was stopping.")
      .Set(static_cast<double>(stats.refused_inbox_full));
}

void CollectCoordinatorStats(const CoordinatorStats& stats, MetricSet& metrics) {
  metrics
      .Counter("ekv_coordinator_stale_route_refusals_total",
               "STALE_ROUTE refusals received from groups (requests routed by an old table).")
      .Set(static_cast<double>(stats.stale_route_refusals));
  metrics
      .Counter("ekv_coordinator_route_refreshes_total",
               "Route catalog reads made after STALE_ROUTE refusals.")
      .Set(static_cast<double>(stats.route_refreshes));
  metrics
      .Counter("ekv_coordinator_ownership_updates_total",
               "Ownership commands proposed to groups after range splits.")
      .Set(static_cast<double>(stats.ownership_updates));
}

void CollectTransportCounters(const TransportCounters& counters, MetricSet& metrics) {
  metrics.Counter("ekv_transport_messages_sent_total", "Raft messages sent to peers.")
      .Set(static_cast<double>(counters.messages_sent));
  metrics
      .Counter("ekv_transport_message_bytes_sent_total",
               "Encoded bytes of the Raft messages sent to peers (snapshot streams excluded).")
      .Set(static_cast<double>(counters.message_bytes_sent));
  metrics
      .Counter("ekv_transport_batches_sent_total",
               "Batches (stream writes) of Raft messages sent to peers.")
      .Set(static_cast<double>(counters.batches_sent));
  MetricFamily& dropped = metrics.Counter(
      "ekv_transport_messages_dropped_total",
      "Raft messages dropped before reaching a peer (Raft retransmits).", {"reason"});
  dropped.Set({"queue_full"}, static_cast<double>(counters.messages_dropped_queue_full));
  dropped.Set({"disconnected"}, static_cast<double>(counters.messages_dropped_disconnected));
  metrics.Counter("ekv_transport_reconnects_total", "Reconnections of peer streams.")
      .Set(static_cast<double>(counters.reconnects));
  metrics.Counter("ekv_transport_snapshots_sent_total", "Snapshots streamed to peers completely.")
      .Set(static_cast<double>(counters.snapshots_streamed));
  metrics.Counter("ekv_transport_snapshots_failed_total", "Snapshot streams to peers that failed.")
      .Set(static_cast<double>(counters.snapshots_failed));
  metrics.Counter("ekv_transport_snapshot_chunks_sent_total", "Chunks of snapshot streams sent.")
      .Set(static_cast<double>(counters.snapshot_chunks_sent));
  metrics
      .Counter("ekv_transport_snapshots_received_total",
               "Snapshots received from peers and staged completely.")
      .Set(static_cast<double>(counters.snapshots_received));
}

void AddServerCollectors(MetricRegistry& registry, const NodeLoop* loop,
                         const Coordinator* coordinator, const RaftTransport* transport) {
  registry.AddCollector([loop](MetricSet& metrics) {
    std::vector<node::GroupStatus> statuses;
    for (auto& [group, status] : loop->GroupStatuses()) statuses.push_back(std::move(status));
    CollectGroupStatuses(statuses, metrics);
    CollectNodeLoopStats(loop->stats(), metrics);
  });
  registry.AddCollector([coordinator](MetricSet& metrics) {
    CollectCoordinatorStats(coordinator->stats(), metrics);
  });
  registry.AddCollector([transport](MetricSet& metrics) {
    CollectTransportCounters(transport->counters(), metrics);
  });
}

}  // namespace ekv::runtime::metrics
