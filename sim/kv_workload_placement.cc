// KvWorkload with --placement: every node runs the core's PlacementDriver
// (core/coord/placement_driver.h) through its own coordinator, exactly as ekv-server does
// (runtime/server/placement_runner.h). Every tick (a fixed 100-300 ms per seed) each
// node that is up ticks its driver with whether it leads the catalog group; the leader's
// driver reads the catalog and the groups' route load counters with their key samples
// (GroupQueryOp::kRouteLoads), feeds the policy and runs its splits and moves. The
// thresholds are drawn per seed, scaled to the simulator's rates, so every run splits and
// moves at different times.
//
// One simplification against a server: a node's driver outlives a crash of its process
// (its operations in flight are answered "no answer" and resumed), so a move it started
// is always finished or rolled back before the run ends. On a server a move in flight
// when its node dies is left where it stopped, for MoveRange to resume.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "sim/kv_workload.h"

namespace ekv::sim {

void KvWorkload::SchedulePlacement() {
  if (!placement_options_.has_value()) {
    coord::PlacementDriverOptions options;
    placement::PlacementOptions& policy = options.policy;
    policy.split_qps = static_cast<double>(placement_rng_.Range(5, 60));
    policy.split_sustain_us = placement_rng_.Range(100'000, 1'000'000);
    policy.split_size_bytes = placement_rng_.Range(300, 3000);
    policy.min_split_balance = 0.2;
    policy.balance = true;
    policy.balance_tolerance = 0.25;
    policy.min_balance_qps = static_cast<double>(placement_rng_.Range(2, 20));
    policy.cooldown_us = placement_rng_.Range(300'000, 2'000'000);
    policy.balance_sustain_us = placement_rng_.Range(100'000, 2'000'000);
    policy.max_intents_per_round = 1;
    policy.merge_qps = 0;  // no merges unless --merges
    if (merges_) {
      // Cold and small at the simulator's scale: below half the split thresholds (so a
      // merged pair is not split again at once), known for a few rounds at least.
      policy.merge_qps = std::max(1.0, policy.split_qps / 2);
      policy.merge_size_bytes = policy.split_size_bytes / 2;
      policy.merge_cooldown_us = placement_rng_.Range(300'000, 3'000'000);
      policy.merge_moves = true;
    }
    placement_tick_us_ = placement_rng_.Range(100'000, 300'000);
    options.round_interval_us = placement_tick_us_;
    options.max_routes = 2 + kMaxSplitsPerRun;
    placement_options_ = options;
  }
  if (placement_tick_scheduled_) return;
  placement_tick_scheduled_ = true;
  scheduler_.After(placement_tick_us_, [this] {
    placement_tick_scheduled_ = false;
    TickPlacement();
    // After the chaos phase the drivers are paused; they tick on only to finish what
    // they have in hand.
    if (issuing_ || PlacementBusy()) SchedulePlacement();
  });
}

void KvWorkload::TickPlacement() {
  const std::vector<raft::GroupId> groups = cluster_.group_ids();
  constexpr raft::GroupId kCatalogGroup = 1;
  for (NodeIndex node : cluster_.nodes()) {
    if (cluster_.state(node) != Cluster::ProcessState::kUp) continue;
    std::unique_ptr<coord::PlacementDriver>& driver = drivers_[node];
    if (driver == nullptr) {
      coord::PlacementDriverOptions options = *placement_options_;
      options.paused = !issuing_;
      driver = std::make_unique<coord::PlacementDriver>(
          options,
          [this, node](coord::PlacementDriver::StartFn start, coord::PlacementDriver::DoneFn done) {
            coordinators_.Run(node, std::move(start), std::move(done),
                              coordinators_.move_budget_us() + 2 * profile_.client_timeout_us);
          });
    }
    const node::NodeHost* host = cluster_.host(node);
    const bool leads =
        host != nullptr && host->Status(kCatalogGroup).state == raft::StateType::kLeader;
    driver->Tick(scheduler_.now(), leads, groups);
    for (std::string& line : driver->TakeLog()) {
      trace_.Record({scheduler_.now(), "placement", node, 0, 0, 0, std::move(line)});
    }
  }
}

void KvWorkload::StopPlacement() {
  for (auto& [node, driver] : drivers_) driver->SetPaused(true);
  if (PlacementBusy()) SchedulePlacement();
}

bool KvWorkload::PlacementBusy() const {
  // A node whose disk rotted never comes back: what its driver had in hand is lost, as
  // on a server.
  return std::any_of(drivers_.begin(), drivers_.end(), [this](const auto& entry) {
    return entry.second->Busy() && cluster_.state(entry.first) != Cluster::ProcessState::kBroken;
  });
}

coord::PlacementDriverStatus KvWorkload::PlacementTotals() const {
  coord::PlacementDriverStatus sum;
  for (const auto& [node, driver] : drivers_) {
    const coord::PlacementDriverStatus& s = driver->status();
    sum.rounds += s.rounds;
    sum.splits_done += s.splits_done;
    sum.moves_done += s.moves_done;
    sum.moves_started += s.moves_started;
    sum.moves_aborted += s.moves_aborted;
    sum.merges_started += s.merges_started;
    sum.merges_done += s.merges_done;
  }
  return sum;
}

uint64_t KvWorkload::splits_done() const { return splits_done_ + PlacementTotals().splits_done; }
uint64_t KvWorkload::moves_started() const {
  return moves_started_ + PlacementTotals().moves_started;
}
uint64_t KvWorkload::moves_finished() const {
  return moves_finished_ + PlacementTotals().moves_done;
}
uint64_t KvWorkload::merges_done() const { return merges_done_ + PlacementTotals().merges_done; }
uint64_t KvWorkload::merges_tried() const {
  return merge_attempts_ + PlacementTotals().merges_started;
}
uint64_t KvWorkload::moves_aborted() const {
  return moves_aborted_ + PlacementTotals().moves_aborted;
}

std::string KvWorkload::PlacementStats() const {
  const coord::PlacementDriverStatus sum = PlacementTotals();
  std::string stats = absl::StrCat("placement=", sum.rounds, "/", sum.splits_done, "/",
                                   sum.moves_done, "/", sum.moves_started);
  if (merges_)
    absl::StrAppend(&stats, " placement_merges=", sum.merges_done, "/", sum.merges_started);
  return stats;
}

}  // namespace ekv::sim
