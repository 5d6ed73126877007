// KvWorkload with --placement: the core's PlacementPolicy (core/placement) decides the
// splits and moves the splitter and the mover run, from what the cluster reports.
//
// Each round (every 100-300 ms of simulated time while clients issue) reads:
//   - the route table of a random up node's coordinator (the routes and catalog version),
//   - each group's route load counters on its leader (requests = keys read + written;
//     size = bytes written, a stand-in the simulator can afford: it only grows),
//   - how often the clients picked each key (the key samples of the load split),
// and hands the policy's intents to the splitter and mover (one of each outstanding).
// Thresholds are drawn per seed, scaled to the simulator's rates, so every run splits
// and moves at different times. A round where some group has no leader up is skipped:
// its counters would be missing and the policy would see its routes as idle.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "sim/kv_workload.h"

namespace ekv::sim {

void KvWorkload::SchedulePlacement() {
  if (!issuing_) return;
  if (!policy_.has_value()) {
    placement::PlacementOptions options;
    options.split_qps = static_cast<double>(placement_rng_.Range(5, 60));
    options.split_sustain_us = placement_rng_.Range(100'000, 1'000'000);
    options.split_size_bytes = placement_rng_.Range(300, 3000);
    options.min_split_balance = 0.2;
    options.balance = true;
    options.balance_tolerance = 0.25;
    options.min_balance_qps = static_cast<double>(placement_rng_.Range(2, 20));
    options.cooldown_us = placement_rng_.Range(300'000, 2'000'000);
    options.balance_sustain_us = placement_rng_.Range(100'000, 2'000'000);
    options.max_intents_per_round = 1;
    policy_.emplace(options);
  }
  scheduler_.After(placement_rng_.Range(100'000, 300'000), [this] {
    if (!issuing_) return;
    RunPlacement();
    SchedulePlacement();
  });
}

void KvWorkload::RunPlacement() {
  const NodeIndex via = coordinators_.RandomUpNode();
  coord::Coordinator* coordinator = via == 0 ? nullptr : coordinators_.coordinator(via);
  if (coordinator == nullptr) return;
  const route::RouteTable& table = coordinator->routes();
  const std::vector<route::RouteDescriptor> routes = table.Snapshot();
  EKV_ASSERT(!routes.empty(), "a coordinator's route table is never empty");

  // Each group's counters, from a replica that is up and leads it.
  std::map<route::RouteId, node::RouteLoad> loads;
  const std::vector<raft::GroupId> groups = cluster_.group_ids();
  for (raft::GroupId group : groups) {
    bool found = false;
    for (NodeIndex node : cluster_.replicas(group)) {
      const node::NodeHost* host = cluster_.host(node);
      if (host == nullptr || cluster_.state(node) != Cluster::ProcessState::kUp) continue;
      const node::GroupStatus status = host->Status(group);
      if (status.state != raft::StateType::kLeader) continue;
      for (const node::RouteLoad& load : status.route_loads) loads[load.route_id] = load;
      found = true;
      break;
    }
    if (!found) return;
  }

  std::vector<placement::RangeReport> reports;
  for (const route::RouteDescriptor& route : routes) {
    placement::RangeReport report;
    report.route_id = route.route_id;
    report.start = route.start;
    report.end = route.end;
    report.group = route.raft_group_id;
    report.active = route.state == route::RouteState::kActive && route.move_target_group_id == 0;
    auto load = loads.find(route.route_id);
    if (load != loads.end()) {
      report.requests = load->second.reads + load->second.writes;
      report.size_bytes = load->second.write_bytes;
    }
    for (const auto& [key, picks] : key_picks_) {
      if (key >= route.start && route::KeyBeforeEnd(key, route.end)) {
        report.key_samples.emplace_back(key, picks);
      }
    }
    // The size stand-in grows with writes, which the key picks follow: halve by them.
    report.size_split_key =
        placement::BalancedSplitKey(report.key_samples, route.start, route.end, /*min_share=*/0.01);
    reports.push_back(std::move(report));
  }
  ++placement_rounds_;
  policy_->Observe(scheduler_.now(), table.version(),
                   std::vector<route::GroupId>(groups.begin(), groups.end()), std::move(reports));
  for (placement::PlacementIntent& intent : policy_->TakeIntents()) {
    trace_.Record({scheduler_.now(), "placement", table.version(), 0, via, 0,
                   placement::FormatIntent(intent)});
    if (auto* split = std::get_if<placement::SplitIntent>(&intent)) {
      ++placement_splits_;
      if (!planned_split_.has_value()) planned_split_ = std::move(*split);
      continue;
    }
    const auto& move = std::get<placement::MoveIntent>(intent);
    ++placement_moves_;
    const route::RouteDescriptor* route = nullptr;
    for (const route::RouteDescriptor& r : routes) {
      if (r.route_id == move.route_id) route = &r;
    }
    EKV_ASSERT(route != nullptr, "the policy moves a route it was told of");
    if (!planned_move_.has_value()) {
      planned_move_ = PendingMove{route->start, move.source_group, move.target_group};
    }
  }
}

}  // namespace ekv::sim
