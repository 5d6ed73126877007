#include "core/coord/placement_driver.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

std::string Outcome(const std::optional<OpResult>& result) {
  if (!result.has_value()) return "no answer";
  return result->status.ok() ? "ok" : result->status.ToString();
}

}  // namespace

PlacementDriver::PlacementDriver(PlacementDriverOptions options, RunFn run)
    : options_(std::move(options)), run_(std::move(run)), policy_(options_.policy) {
  EKV_ASSERT(run_ != nullptr, "a placement driver needs a way to run operations");
  EKV_ASSERT(options_.round_interval_us > 0, "round_interval_us > 0");
  status_.paused = options_.paused;
}

void PlacementDriver::Log(std::string line) {
  if (log_.size() >= kMaxLogLines) log_.erase(log_.begin());
  log_.push_back(std::move(line));
}

std::vector<std::string> PlacementDriver::TakeLog() {
  std::vector<std::string> out = std::move(log_);
  log_.clear();
  return out;
}

void PlacementDriver::Run(StartFn start, DoneFn done) {
  run_(std::move(start),
       [this, epoch = epoch_, done = std::move(done)](std::optional<OpResult> result) {
         if (epoch != epoch_) return;  // a Reset came in between: nobody waits for this
         done(std::move(result));
       });
}

void PlacementDriver::Reset() {
  ++epoch_;
  status_.busy = false;
  catalog_.reset();
  loads_.clear();
  intents_.clear();
  policy_ = placement::PlacementPolicy(options_.policy);
}

void PlacementDriver::SetPaused(bool paused) {
  if (paused == status_.paused) return;
  status_.paused = paused;
  Log(paused ? "placement paused" : "placement resumed");
  // Rates measured across a pause would average it in: start from fresh reports.
  if (!paused) policy_ = placement::PlacementPolicy(options_.policy);
}

void PlacementDriver::Tick(uint64_t now_us, bool leads_catalog, std::vector<raft::GroupId> groups) {
  EKV_ASSERT(now_us >= now_us_, "placement driver time went backwards: ", now_us, " < ", now_us_);
  now_us_ = now_us;
  if (status_.leading && !leads_catalog) {
    // A later lead starts from fresh reports, not from rates of another era.
    policy_ = placement::PlacementPolicy(options_.policy);
  }
  status_.leading = leads_catalog;
  status_.move_unfinished = unfinished_move_.has_value();
  if (status_.busy) return;
  if (unfinished_move_.has_value()) {
    MoveRangeSpec spec = *unfinished_move_;
    status_.busy = true;
    RunMove(std::move(spec), /*resumed=*/true,
            absl::StrCat("resume move of route ", unfinished_move_->route_id, " to group ",
                         unfinished_move_->target_group));
    return;
  }
  if (status_.paused || !leads_catalog || now_us < next_round_us_) return;
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  if (groups.empty()) return;
  groups_ = std::move(groups);
  next_round_us_ = now_us + options_.round_interval_us;
  StartRound();
}

void PlacementDriver::StartRound() {
  status_.busy = true;
  catalog_.reset();
  loads_.clear();
  intents_.clear();
  next_group_ = 0;
  Run([](Coordinator& c) { return c.StartReadCatalog(); },
      [this](std::optional<OpResult> result) {
        if (!result.has_value() || !result->status.ok() || !result->catalog.has_value()) {
          return EndRound(absl::StrCat("reading the catalog: ", Outcome(result)));
        }
        catalog_ = std::move(*result->catalog);
        QueryNextGroup();
      });
}

void PlacementDriver::QueryNextGroup() {
  if (next_group_ == groups_.size()) return Decide();
  const raft::GroupId group = groups_[next_group_++];
  Run(
      [group](Coordinator& c) {
        node::GroupQuery query;
        query.op = node::GroupQueryOp::kRouteLoads;
        return c.StartGroupQuery(group, std::move(query));
      },
      [this, group](std::optional<OpResult> result) {
        if (!result.has_value() || !result->status.ok() || !result->group_result.status().ok()) {
          const std::string why = !result.has_value() || !result->status.ok()
                                      ? Outcome(result)
                                      : result->group_result.status().ToString();
          return EndRound(absl::StrCat("route loads of group ", group, ": ", why));
        }
        absl::StatusOr<std::vector<node::RouteLoadReport>> reports =
            node::DecodeRouteLoadReports(result->group_result.blob);
        if (!reports.ok()) {
          return EndRound(
              absl::StrCat("route loads of group ", group, ": ", reports.status().ToString()));
        }
        for (node::RouteLoadReport& report : *reports) {
          // A route belongs to one group; a group that still counts a route it gave away
          // (a stale view) must not hide the owner's counters: the catalog decides below.
          const route::RouteDescriptor* route = catalog_->FindRoute(report.load.route_id);
          if (route == nullptr || route->raft_group_id != group) continue;
          loads_[report.load.route_id] = std::move(report);
        }
        QueryNextGroup();
      });
}

void PlacementDriver::Decide() {
  std::vector<placement::RangeReport> reports;
  catalog_->ForEachRoute([&](const route::RouteDescriptor& route) {
    placement::RangeReport report;
    report.route_id = route.route_id;
    report.start = route.start;
    report.end = route.end;
    report.group = route.raft_group_id;
    report.active = route.state == route::RouteState::kActive && route.move_target_group_id == 0;
    auto load = loads_.find(route.route_id);
    if (load != loads_.end()) {
      report.requests = load->second.load.reads + load->second.load.writes;
      report.size_bytes = load->second.load.write_bytes;
      report.key_samples = load->second.key_samples;
      // Bytes follow the keys written, which the samples follow: halve by them.
      report.size_split_key = placement::BalancedSplitKey(report.key_samples, route.start,
                                                          route.end, /*min_share=*/0.01);
    }
    reports.push_back(std::move(report));
  });
  ++status_.rounds;
  policy_.Observe(now_us_, catalog_->version(), groups_, std::move(reports));
  for (placement::PlacementIntent& intent : policy_.TakeIntents()) {
    intents_.push_back(std::move(intent));
  }
  RunNextIntent();
}

void PlacementDriver::RunNextIntent() {
  if (intents_.empty()) return BalanceReplicas();
  placement::PlacementIntent intent = std::move(intents_.front());
  intents_.pop_front();
  const std::string what = placement::FormatIntent(intent);
  if (const auto* split = std::get_if<placement::SplitIntent>(&intent)) {
    if (options_.max_routes != 0 && catalog_->route_count() >= options_.max_routes) {
      Log(absl::StrCat("placement: not run (", catalog_->route_count(), " routes, at most ",
                       options_.max_routes, "): ", what));
      return RunNextIntent();
    }
    ++status_.splits_started;
    Log(absl::StrCat("placement: ", what));
    Run([version = split->expected_catalog_version, route_id = split->route_id,
         key = split->split_key](
            Coordinator& c) { return c.StartSplitRange(version, route_id, key); },
        [this, what](std::optional<OpResult> result) {
          const std::string outcome = Outcome(result);
          if (result.has_value() && result->status.ok()) {
            ++status_.splits_done;
          } else {
            ++status_.intents_refused;
          }
          status_.last_decision = absl::StrCat(what, " -> ", outcome);
          Log(absl::StrCat("placement: ", status_.last_decision));
          RunNextIntent();
        });
    return;
  }
  if (const auto* merge = std::get_if<placement::MergeIntent>(&intent)) {
    MergeRangeSpec spec;
    spec.route_id = merge->left_route_id;
    spec.right_route_id = merge->right_route_id;
    spec.expected_catalog_version = merge->expected_catalog_version;
    spec.move_if_needed = merge->left_group != merge->right_group;
    spec.move_timeout_us = options_.move_timeout_us;
    ++status_.merges_started;
    Log(absl::StrCat("placement: ", what));
    Run([spec](Coordinator& c) { return c.StartMergeRange(spec); },
        [this, what, right = merge->right_route_id, source = merge->right_group,
         target = merge->left_group](std::optional<OpResult> result) {
          if (result.has_value() && result->status.ok()) {
            ++status_.merges_done;
          } else {
            ++status_.intents_refused;
          }
          if (!result.has_value() && source != target) {
            // No answer: a move of the right route may have stopped anywhere. Resuming it
            // is a move in its own right if none had started (or nothing if the route
            // is gone, merged): as safe as any move.
            MoveRangeSpec again;
            again.route_id = right;
            again.source_group = source;
            again.target_group = target;
            again.timeout_us = options_.move_timeout_us;
            unfinished_move_ = again;
            status_.move_unfinished = true;
          } else if (result.has_value() && result->merge.has_value() &&
                     result->merge->move.has_value() && !result->merge->moved) {
            // The merge's move did not finish: resume it like a move of our own, unless it
            // settled (rolled back, or refused before it changed anything).
            const MoveRangeResult& move = *result->merge->move;
            const absl::StatusCode code = result->status.code();
            const bool settled =
                move.aborted || (!move.cut_over && (code == absl::StatusCode::kFailedPrecondition ||
                                                    code == absl::StatusCode::kInvalidArgument));
            if (!settled) {
              MoveRangeSpec again;
              again.route_id = right;
              again.source_group = move.source_group;
              again.target_group = move.target_group;
              again.timeout_us = options_.move_timeout_us;
              unfinished_move_ = again;
              status_.move_unfinished = true;
            }
          }
          status_.last_decision = absl::StrCat(what, " -> ", Outcome(result));
          Log(absl::StrCat("placement: ", status_.last_decision));
          if (unfinished_move_.has_value()) return EndRound("");
          RunNextIntent();
        });
    return;
  }
  const auto& move = std::get<placement::MoveIntent>(intent);
  MoveRangeSpec spec;
  spec.route_id = move.route_id;
  spec.expected_catalog_version = move.expected_catalog_version;
  spec.source_group = move.source_group;
  spec.target_group = move.target_group;
  spec.timeout_us = options_.move_timeout_us;
  ++status_.moves_started;
  Log(absl::StrCat("placement: ", what));
  RunMove(std::move(spec), /*resumed=*/false, what);
}

void PlacementDriver::RunMove(MoveRangeSpec spec, bool resumed, std::string what) {
  Run([spec](Coordinator& c) { return c.StartMoveRange(spec); },
      [this, spec, resumed, what](std::optional<OpResult> result) {
        const absl::StatusCode code =
            result.has_value() ? result->status.code() : absl::StatusCode::kUnavailable;
        if (code == absl::StatusCode::kOk) {
          ++status_.moves_done;
          unfinished_move_.reset();
        } else if (code == absl::StatusCode::kAborted && result->move.has_value() &&
                   result->move->aborted) {
          ++status_.moves_aborted;  // rolled back whole: the route is on its source again
          unfinished_move_.reset();
        } else if (code == absl::StatusCode::kFailedPrecondition ||
                   code == absl::StatusCode::kInvalidArgument) {
          // Decided on a stale picture, or the route is not where the move expected:
          // nothing of it was done, or nothing of it is left to finish.
          ++status_.intents_refused;
          unfinished_move_.reset();
        } else {
          // No answer, or it stopped: resume it. The catalog version it was decided
          // against has moved on (the move itself changes it): resume by route id.
          MoveRangeSpec again = spec;
          again.expected_catalog_version = 0;
          unfinished_move_ = again;
        }
        status_.move_unfinished = unfinished_move_.has_value();
        status_.last_decision = absl::StrCat(what, " -> ", Outcome(result));
        Log(absl::StrCat("placement: ", status_.last_decision));
        if (resumed) {
          status_.busy = false;
          return;
        }
        // Intents decided with this one are stale once it ran, and one left unfinished
        // comes first at the next tick.
        if (unfinished_move_.has_value()) return EndRound("");
        RunNextIntent();
      });
}

void PlacementDriver::BalanceReplicas() {
  if (!options_.balance_replicas || catalog_->groups().empty()) return BalanceLeaders();
  Run([timeout =
           options_.move_timeout_us](Coordinator& c) { return c.StartBalanceReplicas(timeout); },
      [this](std::optional<OpResult> result) {
        const bool ok = result.has_value() && result->status.ok();
        status_.replicas_balanced = ok && !result->group.has_value();
        if (ok && result->group.has_value()) {
          ++status_.replica_moves_started;
          ++status_.replica_moves_done;
        } else if (!ok) {
          // Planned and stopped, or not planned (a read failed): the next round plans
          // again from the catalog, which finishes a move that stopped half-way.
          ++status_.replica_moves_started;
        }
        if (!status_.replicas_balanced) {
          Log(absl::StrCat("placement: balance replicas -> ",
                           ok ? absl::StrCat("moved a replica of group ", result->group->group_id)
                              : Outcome(result)));
        }
        BalanceLeaders();
      });
}

void PlacementDriver::BalanceLeaders() {
  if (!options_.balance_leaders) return EndRound("");
  leader_history_.Prune(now_us_, options_.leader_balance.cooldown_us);
  LeaderBalanceSpec spec;
  spec.groups = groups_;
  spec.history = leader_history_;
  spec.options = options_.leader_balance;
  spec.timeout_us = options_.leader_balance_timeout_us;
  Run([spec](Coordinator& c) { return c.StartBalanceLeaders(spec); },
      [this](std::optional<OpResult> result) {
        if (!result.has_value()) {
          status_.leaders_balanced = false;
          Log("placement: balance leaders -> no answer");
          return EndRound("");
        }
        std::string counts;
        for (const auto& [node, count] : result->leader_counts) {
          absl::StrAppend(&counts, counts.empty() ? "" : " ", "n", node, "=", count);
        }
        status_.leader_counts = counts;
        if (result->unreachable_target != raft::kNoNode) {
          leader_history_.NoteUnreachable(result->unreachable_target, now_us_);
        }
        status_.leaders_balanced = result->status.ok() && !result->leader_transfer.has_value();
        if (result->status.ok() && result->leader_transfer.has_value()) {
          const placement::LeaderTransferPlan& plan = *result->leader_transfer;
          leader_history_.NoteTransfer(plan.group, plan.to, now_us_);
          ++status_.leader_transfers;
          Log(absl::StrCat("placement: balance leaders (", counts, ") -> group ", plan.group,
                           " from node ", plan.from, " to node ", plan.to));
        } else if (!result->status.ok()) {
          Log(absl::StrCat("placement: balance leaders (", counts, ") -> ", Outcome(result)));
        }
        EndRound("");
      });
}

void PlacementDriver::EndRound(std::string error) {
  if (!error.empty()) {
    ++status_.rounds_skipped;
    status_.last_error = std::move(error);
  }
  intents_.clear();
  catalog_.reset();
  loads_.clear();
  status_.busy = false;
}

}  // namespace ekv::coord
