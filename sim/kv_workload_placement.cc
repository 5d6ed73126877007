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
// (its operations in flight are answered "no answer" as the process dies, and resumed at
// its next tick once the node is up again), so a move it started
// is always finished or rolled back before the run ends. On a server a move in flight
// when its node dies is left where it stopped, for MoveRange to resume.
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "sim/kv_workload.h"
#include "sim/leader_band.h"

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
    options.balance_replicas = create_groups_;
    // Leaders too, on every seed (as ekv-server's default); the cooldown at the
    // simulator's scale: a few rounds.
    options.balance_leaders = true;
    options.leader_balance.cooldown_us = placement_rng_.Range(500'000, 3'000'000);
    options.leader_balance_timeout_us = 2 * profile_.client_timeout_us;
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
            coordinators_.RunInProcess(
                node, std::move(start), std::move(done),
                coordinators_.move_budget_us() + 2 * profile_.client_timeout_us);
          });
    }
    const node::NodeHost* host = cluster_.host(node);
    // (A node emptied for a rejoin hosts nothing until its AddNode is answered.)
    const bool leads = host != nullptr && host->Hosts(kCatalogGroup) &&
                       host->Status(kCatalogGroup).state == raft::StateType::kLeader;
    driver->Tick(scheduler_.now(), leads, groups);
    for (std::string& line : driver->TakeLog()) {
      trace_.Record({scheduler_.now(), "placement", node, 0, 0, 0, std::move(line)});
    }
  }
}

void KvWorkload::StopPlacement() {
  for (auto& [node, driver] : drivers_) driver->SetPaused(true);
  if (PlacementBusy()) SchedulePlacement();
  if (create_groups_) {
    balance_check_running_ = true;
    balance_check_started_ = scheduler_.now();
    ScheduleBalanceCheck();
  } else {
    StartLeaderCheck();
  }
}

namespace {
// The heal gives the cluster 30 s to converge: balancing runs start within this much of
// it, each bounded by kBalanceRunUs.
constexpr SimTime kBalanceWindowUs = 12'000'000;

// The end of a balance check's window, one rule for the replica and the leader check:
// false while the window is open. Past it, a check whose last judgement disagreed with
// the core's "balanced" is a violation ("unbalanced", its reason kept), and one that never
// got to judge (the core kept moving, or never answered) is "unjudged", recorded in the
// trace with the steps the check itself made.
bool BalanceWindowEnded(SimTime now, SimTime started, SimTime window,
                        const std::string& disagreement, std::string* outcome,
                        std::string* violation, Trace& trace, const char* unjudged_event,
                        uint64_t steps) {
  if (now - started <= window) return false;
  if (!disagreement.empty()) {
    *outcome = "unbalanced";
    *violation = disagreement;
  } else {
    *outcome = "unjudged";
    trace.Record({now, unjudged_event, 0, steps, 0, 0, ""});
  }
  return true;
}

}  // namespace

void KvWorkload::ScheduleBalanceCheck() {
  scheduler_.After(300'000, [this] { RunBalanceCheck(); });
}

void KvWorkload::RunBalanceCheck() {
  if (!balance_check_running_ || balance_check_busy_) return;
  if (BalanceWindowEnded(scheduler_.now(), balance_check_started_, kBalanceWindowUs,
                         balance_disagreement_, &balance_outcome_, &balance_violation_, trace_,
                         "balance-unjudged", balance_check_moves_)) {
    balance_check_running_ = false;
    return StartLeaderCheck();
  }
  // Not waiting for the drivers: one whose node crashed holds its round until the answer
  // times out, long after its coordinator died with the operation. A driver's balancing
  // move still running beside these is harmless (each step idempotent and version-checked,
  // a second joined replica is taken out by the next plan).
  const NodeIndex via = coordinators_.RandomUpNode();
  if (via == 0) return ScheduleBalanceCheck();
  balance_check_busy_ = true;
  const SimTime budget = 3 * profile_.client_timeout_us;
  coordinators_.Run(
      via, [budget](coord::Coordinator& c) { return c.StartBalanceReplicas(budget); },
      [this, via](std::optional<coord::OpResult> result) {
        const bool ok = result.has_value() && result->status.ok();
        trace_.Record({scheduler_.now(), "balance-replicas", via,
                       ok && result->group.has_value() ? result->group->group_id : 0, 0,
                       result.has_value() ? static_cast<uint64_t>(result->status.code()) : 14,
                       result.has_value() ? std::string(result->status.message()) : "no answer"});
        if (!ok || result->group.has_value()) {
          if (ok) ++balance_check_moves_;
          balance_check_busy_ = false;
          return ScheduleBalanceCheck();
        }
        // Balanced, says the core: read the catalog and judge it independently.
        coordinators_.Run(
            via, [](coord::Coordinator& c) { return c.StartReadCatalog(); },
            [this](std::optional<coord::OpResult> read) {
              balance_check_busy_ = false;
              if (!read.has_value() || !read->status.ok() || !read->catalog.has_value()) {
                return ScheduleBalanceCheck();
              }
              JudgeBalance(*read->catalog);
              // A disagreement may come from a moment's membership (the heal re-adds the
              // voters the membership faults took out, and a coordinator counts only the
              // members it sees): asked again until the window ends.
              if (balance_disagreement_.empty()) {
                balance_check_running_ = false;
                StartLeaderCheck();
              } else {
                ScheduleBalanceCheck();
              }
            },
            2 * profile_.client_timeout_us);
      },
      budget + 2 * profile_.client_timeout_us);
}

void KvWorkload::JudgeBalance(const route::RouteCatalog& catalog) {
  // Counted here, not with placement::ReplicaCounts: the checker must not share the code
  // it judges.
  // Only members can take a replica (MoveReplica refuses any other target): with the
  // membership faults the member changer may have taken a node out of the cluster for
  // good (its disk broke, so it is never added back: bank seed 165 with --placement, n5).
  std::set<NodeIndex> members(cluster_.nodes().begin(), cluster_.nodes().end());
  if (member_changes_) {
    const node::GroupStateMachine* machine = NewestCatalogReplica();
    if (machine != nullptr) members = MembersOf(*machine);
  }
  std::map<NodeIndex, size_t> counts;
  for (NodeIndex node : members) counts[node] = 0;
  for (const auto& [id, group] : catalog.groups()) {
    for (uint64_t replica : group.Replicas()) {
      if (auto it = counts.find(replica); it != counts.end()) ++it->second;
    }
  }
  std::string described;
  for (const auto& [node, count] : counts) absl::StrAppend(&described, " n", node, "=", count);
  for (const auto& [heavy, heavy_count] : counts) {
    for (const auto& [light, light_count] : counts) {
      if (heavy_count < light_count + 2) continue;
      for (const auto& [id, group] : catalog.groups()) {
        if (!group.IsReplica(heavy) || group.IsReplica(light) || group.WasRemoved(light)) {
          continue;
        }
        // A move must leave the group a free member to be drained to (replica_balance.h).
        const bool free_member_left = std::any_of(
            counts.begin(), counts.end(), [&g = group, light = light](const auto& entry) {
              return entry.first != light && !g.IsReplica(entry.first) &&
                     !g.WasRemoved(entry.first);
            });
        if (!free_member_left) continue;
        balance_disagreement_ = absl::StrCat("replica counts after the heal:", described,
                                             "; group ", id, " could move from n", heavy, " to n",
                                             light, ", yet StartBalanceReplicas answered balanced");
        return;
      }
    }
  }
  balance_outcome_ = "balanced";
  balance_disagreement_.clear();
  trace_.Record({scheduler_.now(), "balance-judged", 0, balance_check_moves_, 0, 0, described});
}

// ---- The leader balance check after the heal ------------------------------------------

namespace {
// Started once the replica check ended (replica moves hand leaderships over), within
// the heal's 30 s: at most this long, longer than a few cooldowns (a transfer Raft gave
// up on is planned again only after its cooldown).
constexpr SimTime kLeaderWindowUs = 10'000'000;
}  // namespace

void KvWorkload::StartLeaderCheck() {
  leader_check_running_ = true;
  leader_check_started_ = scheduler_.now();
  ScheduleLeaderCheck();
}

void KvWorkload::ScheduleLeaderCheck() {
  scheduler_.After(300'000, [this] { RunLeaderCheck(); });
}

void KvWorkload::RunLeaderCheck() {
  if (!leader_check_running_ || leader_check_busy_) return;
  if (BalanceWindowEnded(scheduler_.now(), leader_check_started_, kLeaderWindowUs,
                         leader_disagreement_, &leader_outcome_, &leader_violation_, trace_,
                         "leader-balance-unjudged", leader_check_transfers_)) {
    leader_check_running_ = false;
    return;
  }
  const NodeIndex via = coordinators_.RandomUpNode();
  if (via == 0) return ScheduleLeaderCheck();
  leader_check_busy_ = true;
  coord::LeaderBalanceSpec spec;
  spec.groups = cluster_.group_ids();
  spec.history = leader_check_history_;
  spec.options = placement_options_->leader_balance;
  spec.timeout_us = 3 * profile_.client_timeout_us;
  coordinators_.Run(
      via, [spec](coord::Coordinator& c) { return c.StartBalanceLeaders(spec); },
      [this, via](std::optional<coord::OpResult> result) {
        leader_check_busy_ = false;
        const bool ok = result.has_value() && result->status.ok();
        trace_.Record(
            {scheduler_.now(), "balance-leaders", via,
             ok && result->leader_transfer.has_value() ? result->leader_transfer->group : 0, 0,
             result.has_value() ? static_cast<uint64_t>(result->status.code()) : 14,
             result.has_value() ? std::string(result->status.message()) : "no answer"});
        if (!result.has_value()) return ScheduleLeaderCheck();
        if (result->unreachable_target != raft::kNoNode) {
          leader_check_history_.NoteUnreachable(result->unreachable_target, scheduler_.now());
        }
        if (!ok) return ScheduleLeaderCheck();
        if (result->leader_transfer.has_value()) {
          leader_check_history_.NoteTransfer(result->leader_transfer->group,
                                             result->leader_transfer->to, scheduler_.now());
          ++leader_check_transfers_;
          return ScheduleLeaderCheck();
        }
        // Balanced, says the core: judge the hosts' own leaders independently.
        JudgeLeaders();
        if (leader_disagreement_.empty()) {
          leader_check_running_ = false;
        } else {
          ScheduleLeaderCheck();  // a transfer may still be landing: asked again
        }
      },
      spec.timeout_us + 2 * profile_.client_timeout_us);
}

void KvWorkload::JudgeLeaders() {
  // Counted here from the replicas themselves, not with placement::LeaderCounts: the
  // checker must not share the code it judges. A group's leader: the up replica that
  // leads at the highest term; its voters: that leader's configuration.
  struct Led {
    NodeIndex leader = 0;
    raft::Term term = 0;
    std::vector<raft::NodeId> voters;
  };
  std::map<raft::GroupId, Led> groups;
  for (NodeIndex node : cluster_.nodes()) {
    const node::NodeHost* host = cluster_.host(node);
    if (host == nullptr || cluster_.state(node) != Cluster::ProcessState::kUp) continue;
    for (raft::GroupId group : host->groups()) {
      const node::GroupStatus status = host->Status(group);
      Led& led = groups[group];
      if (status.state != raft::StateType::kLeader || status.term < led.term) continue;
      led = Led{node, status.term, status.conf_state.voters};
    }
  }
  std::map<NodeIndex, size_t> counts;
  for (const auto& [group, led] : groups) {
    for (raft::NodeId voter : led.voters) counts.emplace(voter, 0);
  }
  size_t total = 0;
  for (const auto& [group, led] : groups) {
    if (led.leader == 0 || counts.count(led.leader) == 0) continue;
    ++counts[led.leader];
    ++total;
  }
  std::string described;
  for (const auto& [node, count] : counts) absl::StrAppend(&described, " n", node, "=", count);
  const double mean =
      counts.empty() ? 0 : static_cast<double>(total) / static_cast<double>(counts.size());
  // The band as the counts' own test says it (+-25% of the mean), per node.
  auto in_band = [mean](size_t count) {
    const double c = static_cast<double>(count);
    return c >= 0.75 * mean && c <= 1.25 * mean;
  };
  const bool balanced = std::all_of(counts.begin(), counts.end(), [&in_band](const auto& entry) {
    return in_band(entry.second);
  });
  if (!balanced) {
    // Could the cluster reach the band? Every group whose leader is known may be led by any
    // voter that is up; the catalog group keeps its leader (its leader runs the placement,
    // the balancer never moves it).
    constexpr raft::GroupId kCatalogGroup = 1;
    std::map<uint64_t, std::vector<uint64_t>> candidates;
    for (const auto& [group, led] : groups) {
      if (led.leader == 0 || counts.count(led.leader) == 0) continue;
      std::vector<uint64_t>& can = candidates[group];
      can.push_back(led.leader);
      if (group == kCatalogGroup) continue;
      for (raft::NodeId voter : led.voters) {
        if (voter != led.leader && counts.count(voter) != 0 &&
            cluster_.state(voter) == Cluster::ProcessState::kUp) {
          can.push_back(voter);
        }
      }
    }
    std::map<uint64_t, size_t> lo, hi;
    for (const auto& [node, count] : counts) {
      size_t low = 0;
      while (!in_band(low) && static_cast<double>(low) < 0.75 * mean) ++low;
      size_t high = total;
      while (high > 0 && !in_band(high)) --high;
      lo[node] = low;
      hi[node] = in_band(high) ? high : 0;
    }
    if (LeaderBandReachable(candidates, lo, hi)) {
      leader_disagreement_ = absl::StrCat(
          "leaders per node after the heal:", described, " (mean ", mean,
          ", band +-25%): the cluster can lead within the band (the groups' voters allow it), "
          "yet StartBalanceLeaders answered balanced");
      return;
    }
    // Out of reach, yet a direct transfer that evens two counts is left: the core makes
    // those whether or not the band can be reached.
    for (const auto& [heavy, heavy_count] : counts) {
      for (const auto& [light, light_count] : counts) {
        if (heavy_count < light_count + 2 || cluster_.state(light) != Cluster::ProcessState::kUp) {
          continue;
        }
        for (const auto& [group, led] : groups) {
          if (group == kCatalogGroup || led.leader != heavy ||
              std::find(led.voters.begin(), led.voters.end(), light) == led.voters.end()) {
            continue;
          }
          leader_disagreement_ =
              absl::StrCat("leaders per node after the heal:", described, " (mean ", mean,
                           ", band +-25%); group ", group, " could move from n", heavy, " to n",
                           light, ", yet StartBalanceLeaders answered balanced");
          return;
        }
      }
    }
  }
  // "legal": outside the band, but no assignment of leaders to voters reaches it (a node
  // down, or groups whose voters leave it no share).
  leader_outcome_ = balanced ? "balanced" : "legal";
  leader_disagreement_.clear();
  trace_.Record(
      {scheduler_.now(), "leader-balance-judged", 0, leader_check_transfers_, 0, 0, described});
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
    sum.replica_moves_done += s.replica_moves_done;
    sum.leader_transfers += s.leader_transfers;
  }
  return sum;
}

uint64_t KvWorkload::splits_done() const { return splits_done_ + PlacementTotals().splits_done; }
uint64_t KvWorkload::moves_started() const {
  return mover_.tried + PlacementTotals().moves_started;
}
uint64_t KvWorkload::moves_finished() const { return mover_.done + PlacementTotals().moves_done; }
uint64_t KvWorkload::merges_done() const { return merger_.done + PlacementTotals().merges_done; }
uint64_t KvWorkload::merges_tried() const {
  return merger_.tried + PlacementTotals().merges_started;
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
  if (create_groups_) {
    absl::StrAppend(&stats, " replica_balance=", balance_outcome_, "/", sum.replica_moves_done, "+",
                    balance_check_moves_);
  }
  absl::StrAppend(&stats, " leader_balance=", leader_outcome_, "/", sum.leader_transfers, "+",
                  leader_check_transfers_);
  return stats;
}

}  // namespace ekv::sim
