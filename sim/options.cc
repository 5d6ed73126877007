#include "sim/options.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace ekv::sim {

FaultSet FaultSet::All() {
  return FaultSet{true, true, true, true, true, true, true, true, true, true, true};
}

bool FaultSet::any() const {
  return partition || crash || pause || clock || disk || drop || dup || reorder || clog ||
         isolate || membership;
}

absl::StatusOr<FaultSet> ParseFaultSet(absl::string_view text) {
  if (text == "all") return FaultSet::All();
  FaultSet faults;
  if (text == "none" || text.empty()) return faults;
  for (absl::string_view name : absl::StrSplit(text, ',')) {
    if (name == "partition") {
      faults.partition = true;
    } else if (name == "crash") {
      faults.crash = true;
    } else if (name == "pause") {
      faults.pause = true;
    } else if (name == "clock") {
      faults.clock = true;
    } else if (name == "disk") {
      faults.disk = true;
    } else if (name == "drop") {
      faults.drop = true;
    } else if (name == "dup") {
      faults.dup = true;
    } else if (name == "reorder") {
      faults.reorder = true;
    } else if (name == "clog") {
      faults.clog = true;
    } else if (name == "isolate") {
      faults.isolate = true;
    } else if (name == "membership") {
      faults.membership = true;
    } else if (name == "all") {
      faults = FaultSet::All();
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown fault '", name,
          "'; expected all, none or a list of partition,crash,pause,clock,disk,drop,dup,"
          "reorder,clog,isolate,membership"));
    }
  }
  return faults;
}

std::string FaultSetName(const FaultSet& faults) {
  if (!faults.any()) return "none";
  const FaultSet all = FaultSet::All();
  if (faults.partition == all.partition && faults.crash && faults.pause && faults.clock &&
      faults.disk && faults.drop && faults.dup && faults.reorder && faults.clog && faults.isolate &&
      faults.membership) {
    return "all";
  }
  std::string text;
  auto add = [&](bool on, const char* name) {
    if (on) absl::StrAppend(&text, text.empty() ? "" : ",", name);
  };
  add(faults.partition, "partition");
  add(faults.crash, "crash");
  add(faults.pause, "pause");
  add(faults.clock, "clock");
  add(faults.disk, "disk");
  add(faults.drop, "drop");
  add(faults.dup, "dup");
  add(faults.reorder, "reorder");
  add(faults.clog, "clog");
  add(faults.isolate, "isolate");
  add(faults.membership, "membership");
  return text;
}

absl::StatusOr<PlantedBug> ParsePlantedBug(absl::string_view name) {
  if (name.empty() || name == "none") return PlantedBug::kNone;
  if (name == "commit_prev_term") return PlantedBug::kCommitPrevTerm;
  if (name == "ack_before_persist") return PlantedBug::kAckBeforePersist;
  if (name == "read_without_quorum") return PlantedBug::kReadWithoutQuorum;
  if (name == "lose_vote_on_restart") return PlantedBug::kLoseVoteOnRestart;
  if (name == "skip_write_conflict") return PlantedBug::kSkipWriteConflict;
  if (name == "commit_without_lock_check") return PlantedBug::kCommitWithoutLockCheck;
  if (name == "stale_read") return PlantedBug::kStaleRead;
  if (name == "follower_timestamp") return PlantedBug::kFollowerTimestamp;
  if (name == "unconfirmed_timestamp") return PlantedBug::kUnconfirmedTimestamp;
  if (name == "serve_outside_range") return PlantedBug::kServeOutsideRange;
  if (name == "stale_conf_snapshot") return PlantedBug::kStaleConfSnapshot;
  if (name == "resolve_rolls_back_committed") return PlantedBug::kResolveRollsBackCommitted;
  if (name == "no_stale_route_retry") return PlantedBug::kNoStaleRouteRetry;
  if (name == "retry_unknown_write") return PlantedBug::kRetryUnknownWrite;
  if (name == "reads_ignore_uncertainty") return PlantedBug::kReadsIgnoreUncertainty;
  if (name == "move_cutover_before_final_copy") return PlantedBug::kMoveCutoverBeforeFinalCopy;
  if (name == "move_source_serves_after_cutover") return PlantedBug::kMoveSourceServesAfterCutover;
  if (name == "move_forgets_locks") return PlantedBug::kMoveForgetsLocks;
  if (name == "merge_skips_move") return PlantedBug::kMergeSkipsMove;
  if (name == "created_group_bootstraps_alone") return PlantedBug::kCreatedGroupBootstrapsAlone;
  if (name == "retired_group_kept") return PlantedBug::kRetiredGroupKept;
  if (name == "replica_target_bootstraps") return PlantedBug::kReplicaTargetBootstraps;
  if (name == "leader_balance_created_only") return PlantedBug::kLeaderBalanceCreatedOnly;
  if (name == "redis_read_client_clock") return PlantedBug::kRedisReadClientClock;
  if (name == "resubmit_late_write") return PlantedBug::kResubmitLateWrite;
  if (name == "redis_cleanup_drops_live") return PlantedBug::kRedisCleanupDropsLive;
  if (name == "redis_cross_skips_revalidation") return PlantedBug::kRedisCrossSkipsRevalidation;
  if (name == "redis_pipeline_unknown_as_failed") return PlantedBug::kRedisPipelineUnknownAsFailed;
  if (name == "dynamo_index_keeps_old_entry") return PlantedBug::kDynamoIndexKeepsOldEntry;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown planted bug '", name,
                   "'; expected commit_prev_term, ack_before_persist, read_without_quorum, "
                   "lose_vote_on_restart, skip_write_conflict, commit_without_lock_check, "
                   "stale_read, follower_timestamp, unconfirmed_timestamp, "
                   "serve_outside_range, stale_conf_snapshot, resolve_rolls_back_committed, "
                   "no_stale_route_retry, retry_unknown_write, reads_ignore_uncertainty, "
                   "move_cutover_before_final_copy, "
                   "move_source_serves_after_cutover, move_forgets_locks, merge_skips_move, "
                   "created_group_bootstraps_alone, replica_target_bootstraps, "
                   "leader_balance_created_only, "
                   "redis_read_client_clock, resubmit_late_write, redis_cleanup_drops_live, "
                   "redis_cross_skips_revalidation, redis_pipeline_unknown_as_failed or "
                   "dynamo_index_keeps_old_entry"));
}

absl::string_view PlantedBugName(PlantedBug bug) {
  switch (bug) {
    case PlantedBug::kNone:
      return "none";
    case PlantedBug::kCommitPrevTerm:
      return "commit_prev_term";
    case PlantedBug::kAckBeforePersist:
      return "ack_before_persist";
    case PlantedBug::kReadWithoutQuorum:
      return "read_without_quorum";
    case PlantedBug::kLoseVoteOnRestart:
      return "lose_vote_on_restart";
    case PlantedBug::kSkipWriteConflict:
      return "skip_write_conflict";
    case PlantedBug::kCommitWithoutLockCheck:
      return "commit_without_lock_check";
    case PlantedBug::kStaleRead:
      return "stale_read";
    case PlantedBug::kFollowerTimestamp:
      return "follower_timestamp";
    case PlantedBug::kUnconfirmedTimestamp:
      return "unconfirmed_timestamp";
    case PlantedBug::kServeOutsideRange:
      return "serve_outside_range";
    case PlantedBug::kStaleConfSnapshot:
      return "stale_conf_snapshot";
    case PlantedBug::kResolveRollsBackCommitted:
      return "resolve_rolls_back_committed";
    case PlantedBug::kNoStaleRouteRetry:
      return "no_stale_route_retry";
    case PlantedBug::kRetryUnknownWrite:
      return "retry_unknown_write";
    case PlantedBug::kReadsIgnoreUncertainty:
      return "reads_ignore_uncertainty";
    case PlantedBug::kMoveCutoverBeforeFinalCopy:
      return "move_cutover_before_final_copy";
    case PlantedBug::kMoveSourceServesAfterCutover:
      return "move_source_serves_after_cutover";
    case PlantedBug::kMoveForgetsLocks:
      return "move_forgets_locks";
    case PlantedBug::kMergeSkipsMove:
      return "merge_skips_move";
    case PlantedBug::kCreatedGroupBootstrapsAlone:
      return "created_group_bootstraps_alone";
    case PlantedBug::kRetiredGroupKept:
      return "retired_group_kept";
    case PlantedBug::kReplicaTargetBootstraps:
      return "replica_target_bootstraps";
    case PlantedBug::kLeaderBalanceCreatedOnly:
      return "leader_balance_created_only";
    case PlantedBug::kRedisReadClientClock:
      return "redis_read_client_clock";
    case PlantedBug::kResubmitLateWrite:
      return "resubmit_late_write";
    case PlantedBug::kRedisCleanupDropsLive:
      return "redis_cleanup_drops_live";
    case PlantedBug::kRedisCrossSkipsRevalidation:
      return "redis_cross_skips_revalidation";
    case PlantedBug::kRedisPipelineUnknownAsFailed:
      return "redis_pipeline_unknown_as_failed";
    case PlantedBug::kDynamoIndexKeepsOldEntry:
      return "dynamo_index_keeps_old_entry";
  }
  return "?";
}

absl::StatusOr<WorkloadKind> ParseWorkloadKind(absl::string_view name) {
  if (name.empty() || name == "register") return WorkloadKind::kRegister;
  if (name == "bank") return WorkloadKind::kBank;
  if (name == "append") return WorkloadKind::kAppend;
  if (name == "kv-register") return WorkloadKind::kKvRegister;
  if (name == "kv-register-snapshot") return WorkloadKind::kKvRegisterSnapshot;
  if (name == "redis") return WorkloadKind::kRedis;
  if (name == "dynamo") return WorkloadKind::kDynamo;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown workload '", name,
      "'; expected register, bank, append, kv-register, kv-register-snapshot, redis or "
      "dynamo"));
}

absl::string_view WorkloadKindName(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kRegister:
      return "register";
    case WorkloadKind::kBank:
      return "bank";
    case WorkloadKind::kAppend:
      return "append";
    case WorkloadKind::kKvRegister:
      return "kv-register";
    case WorkloadKind::kKvRegisterSnapshot:
      return "kv-register-snapshot";
    case WorkloadKind::kRedis:
      return "redis";
    case WorkloadKind::kDynamo:
      return "dynamo";
  }
  return "?";
}

bool IsKvWorkload(WorkloadKind kind) { return kind != WorkloadKind::kRegister; }

std::string SummaryLine(const SimOptions& options, const SimResult& result) {
  const std::string workload =
      IsKvWorkload(options.workload)
          ? absl::StrCat(" workload=", WorkloadKindName(options.workload),
                         options.splits ? absl::StrCat(" splits ", result.routing) : "",
                         options.moves ? " moves" : "", options.merges ? " merges" : "",
                         options.create_groups ? " create_groups" : "",
                         options.replica_moves ? " replica_moves" : "",
                         options.placement ? " placement" : "",
                         result.kv_stats.empty() ? "" : absl::StrCat(" ", result.kv_stats))
          : "";
  const std::string depth =
      IsKvWorkload(options.workload)
          ? absl::StrFormat(
                " failed=%d unknown=%d elections=%d crashes=%d snapshots=%d lock_resolutions=%d "
                "forwards=%d",
                result.ops_failed, result.ops_unknown, result.elections, result.crashes,
                result.snapshots_sent, result.lock_resolutions, result.forwarded_calls)
          : "";
  return absl::StrFormat(
      "seed=%d%s faults=%s plant=%s sim_s=%.3f events=%d ops_acked=%d/%d%s trace=%016x "
      "verdict=%s%s",
      result.seed, workload, FaultSetName(options.faults), PlantedBugName(options.plant),
      static_cast<double>(result.simulated_us) / 1e6, result.events, result.ops_acknowledged,
      result.ops_total, depth, result.trace_hash, result.verdict,
      result.thin ? " (THIN: too few acknowledged operations to judge)" : "");
}

std::string ReproCommand(const SimOptions& options) {
  std::string command =
      absl::StrCat("ekv-sim --seed ", options.seed, " --faults ", FaultSetName(options.faults),
                   " --nodes ", options.nodes, " --groups ", options.groups);
  if (options.ops != 0) absl::StrAppend(&command, " --ops ", options.ops);
  if (options.plant != PlantedBug::kNone) {
    absl::StrAppend(&command, " --plant ", PlantedBugName(options.plant));
  }
  if (IsKvWorkload(options.workload)) {
    absl::StrAppend(&command, " --workload ", WorkloadKindName(options.workload));
    if (options.splits) absl::StrAppend(&command, " --splits");
    if (options.moves) absl::StrAppend(&command, " --moves");
    if (options.merges) absl::StrAppend(&command, " --merges");
    if (options.create_groups) absl::StrAppend(&command, " --create_groups");
    if (options.replica_moves) absl::StrAppend(&command, " --replica_moves");
    if (options.placement) absl::StrAppend(&command, " --placement");
    if (options.redis_cross_group_exec) absl::StrAppend(&command, " --redis_cross_group_exec");
  }
  return command;
}

}  // namespace ekv::sim
