#include "sim/simulation.h"

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/node/group_state_machine.h"
#include "core/route/catalog.h"
#include "core/route/ownership.h"
#include "core/util/assert.h"
#include "core/util/rng.h"
#include "sim/checkers/durability.h"
#include "sim/checkers/linearizability.h"
#include "sim/cluster.h"
#include "sim/fault_injector.h"
#include "sim/kv_workload.h"
#include "sim/raft_safety.h"
#include "sim/scheduler.h"
#include "sim/swarm.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace ekv::sim {
namespace {

// How often the heal phase evaluates its (comparatively expensive) convergence check.
constexpr SimTime kConvergenceCheckIntervalUs = 100'000;
// kv seeds: the chaos phase is extended (up to twice its drawn length) until the history
// holds this many acknowledged operations, in steps of this length.
constexpr uint64_t kKvTargetAcked = 300;
constexpr SimTime kChaosExtensionStepUs = 2'000'000;
constexpr SimTime kFinalReadTimeoutUs = 30'000'000;
// A kv seed whose chaos left its history too thin to judge (fewer than --min_acked
// operations acknowledged: a swarm draw that crashes nodes every few hundred ms; or, for
// dynamo, a part without an acknowledged operation) heals its faults and keeps its clients
// issuing, up to this long, until it is not. Its chaos phase is judged as before; the
// operations after the heal only add to the history. Seeds that are not thin never get
// here, so their traces are what they were before this existed.
constexpr SimTime kMaxCalmIssueUs = 60'000'000;
constexpr SimTime kCalmIssueStepUs = 1'000'000;
// A kv workload's setup (the dynamo workload's table) runs before any fault, for at most
// this long; past it the chaos starts anyway and the setup keeps trying within it.
constexpr SimTime kMaxSetupUs = 60'000'000;

// An EKV_ASSERT that fired inside the simulated system. Thrown by the assert hook so the
// run ends with a verdict (and the seed) instead of killing a whole sweep.
class InvariantFailure : public std::exception {
 public:
  explicit InvariantFailure(std::string description) : description_(std::move(description)) {}
  const char* what() const noexcept override { return description_.c_str(); }

 private:
  std::string description_;
};

[[noreturn]] void ThrowInvariantFailure(const std::string& description) {
  throw InvariantFailure(description);
}

class AssertHookScope {
 public:
  AssertHookScope() : previous_(SetAssertFailureHook(&ThrowInvariantFailure)) {}
  ~AssertHookScope() { SetAssertFailureHook(previous_); }

 private:
  AssertFailureHook previous_;
};

// Why the cluster has not converged yet; empty once it has.
std::string ConvergenceGap(const Cluster& cluster, const std::string& clients_busy,
                           const std::map<raft::GroupId, raft::Index>& max_acked_index) {
  // Groups first: a group without a leader is usually why clients are still busy.
  for (raft::GroupId group : cluster.group_ids()) {
    const node::NodeHost* leader_host = nullptr;
    node::GroupStatus leader;
    for (NodeIndex node : cluster.replicas(group)) {
      const node::NodeHost* host = cluster.host(node);
      if (host == nullptr || cluster.state(node) != Cluster::ProcessState::kUp) continue;
      const node::GroupStatus status = host->Status(group);
      if (status.state == raft::StateType::kLeader) {
        if (leader_host != nullptr && leader.term == status.term) {
          return absl::StrCat("group ", group, ": two leaders in term ", status.term);
        }
        if (leader_host == nullptr || status.term > leader.term) {
          leader_host = host;
          leader = status;
        }
      }
    }
    if (leader_host == nullptr) {
      // Each replica's view says why: who it votes for, what it is configured with.
      std::string replicas;
      for (NodeIndex node : cluster.replicas(group)) {
        const node::NodeHost* host = cluster.host(node);
        if (host == nullptr || cluster.state(node) != Cluster::ProcessState::kUp) {
          absl::StrAppend(&replicas, "\n  n", node, " down");
          continue;
        }
        const node::GroupStatus status = host->Status(group);
        absl::StrAppend(&replicas, "\n  n", node, " ", raft::StateTypeName(status.state), " term ",
                        status.term, " vote ", status.hard_state.vote, " leader ", status.leader,
                        " commit ", status.commit, " last ", status.last_index, " voters ",
                        absl::StrJoin(status.conf_state.voters, ","), " outgoing ",
                        absl::StrJoin(status.conf_state.voters_outgoing, ","), " learners ",
                        absl::StrJoin(status.conf_state.learners, ","));
      }
      return absl::StrCat("group ", group, ": no leader", replicas);
    }
    auto acked = max_acked_index.find(group);
    if (acked != max_acked_index.end() && leader.commit < acked->second) {
      return absl::StrCat("group ", group, ": leader commit ", leader.commit,
                          " is below acknowledged index ", acked->second);
    }
    const uint64_t digest = leader_host->state_machine(group).Digest();
    for (NodeIndex node : cluster.replicas(group)) {
      const node::NodeHost* host = cluster.host(node);
      if (host == nullptr || cluster.state(node) != Cluster::ProcessState::kUp) continue;
      const node::GroupStatus status = host->Status(group);
      if (status.term != leader.term || status.leader != leader_host->node_id() ||
          status.commit != leader.commit || status.applied != leader.commit ||
          status.persist_outstanding) {
        return absl::StrCat("group ", group, ": n", node, " at term ", status.term, " leader ",
                            status.leader, " commit ", status.commit, " applied ", status.applied,
                            " vs leader n", leader_host->node_id(), " term ", leader.term,
                            " commit ", leader.commit, "; leader progress:\n",
                            leader_host->DescribeProgress(group));
      }
      if (host->state_machine(group).Digest() != digest) {
        return absl::StrCat("group ", group, ": n", node,
                            " state machine differs from the leader's at the same index");
      }
    }
  }
  if (!clients_busy.empty()) return absl::StrCat("clients still busy: ", clients_busy);
  return "";
}

raft::PlantedBugs RaftPlants(PlantedBug plant) {
  raft::PlantedBugs bugs;
  bugs.commit_previous_term_by_count = plant == PlantedBug::kCommitPrevTerm;
  bugs.ack_before_persist = plant == PlantedBug::kAckBeforePersist;
  bugs.read_without_quorum = plant == PlantedBug::kReadWithoutQuorum;
  return bugs;
}

kv::PlantedKvBugs KvPlants(PlantedBug plant) {
  kv::PlantedKvBugs bugs;
  bugs.skip_write_conflict_check = plant == PlantedBug::kSkipWriteConflict;
  bugs.commit_ignores_rollback = plant == PlantedBug::kCommitWithoutLockCheck;
  bugs.redis_read_request_clock = plant == PlantedBug::kRedisReadClientClock;
  bugs.redis_cleanup_drops_live_elements = plant == PlantedBug::kRedisCleanupDropsLive;
  bugs.reads_ignore_uncertainty = plant == PlantedBug::kReadsIgnoreUncertainty;
  return bugs;
}

SimCoordinatorPlants ClientPlants(PlantedBug plant) {
  SimCoordinatorPlants plants;
  plants.read_from_any_replica = plant == PlantedBug::kStaleRead;
  plants.coordinator.resolve_rolls_back_committed = plant == PlantedBug::kResolveRollsBackCommitted;
  plants.coordinator.no_stale_route_retry = plant == PlantedBug::kNoStaleRouteRetry;
  plants.coordinator.retry_unknown_write = plant == PlantedBug::kRetryUnknownWrite;
  plants.coordinator.move_cutover_before_final_copy =
      plant == PlantedBug::kMoveCutoverBeforeFinalCopy;
  plants.coordinator.move_source_serves_after_cutover =
      plant == PlantedBug::kMoveSourceServesAfterCutover;
  plants.coordinator.move_forgets_locks = plant == PlantedBug::kMoveForgetsLocks;
  plants.coordinator.merge_skips_move = plant == PlantedBug::kMergeSkipsMove;
  plants.coordinator.leader_balance_created_groups_only =
      plant == PlantedBug::kLeaderBalanceCreatedOnly;
  plants.coordinator.redis_cross_skips_revalidation =
      plant == PlantedBug::kRedisCrossSkipsRevalidation;
  plants.coordinator.redis_pipeline_unknown_as_failed =
      plant == PlantedBug::kRedisPipelineUnknownAsFailed;
  plants.resubmit_late_write = plant == PlantedBug::kResubmitLateWrite;
  return plants;
}

}  // namespace

SimResult RunSimulation(const SimOptions& requested) {
  SimOptions options = requested;
  // CreateTable places a table's key space over the groups through the route catalog
  // (adapters/dynamo/place_key_space.h), which the groups hold only in split runs: the
  // dynamo workload always runs with --splits.
  if (options.workload == WorkloadKind::kDynamo) options.splits = true;
  const bool kv = IsKvWorkload(options.workload);
  if (options.ops == 0) options.ops = kv ? kDefaultKvOps : kDefaultOps;
  if (options.max_events == 0) options.max_events = kv ? kDefaultKvMaxEvents : kDefaultMaxEvents;
  SimResult result;
  result.seed = options.seed;
  Rng root(options.seed);
  Rng profile_rng = root.Fork();
  const SwarmProfile profile = DrawSwarmProfile(profile_rng, options);
  result.profile = profile.Describe();

  Scheduler scheduler;
  Trace trace;
  if (options.trace_sink) trace.SetSink(options.trace_sink);
  RaftSafetyChecker safety;
  ClusterConfig config;
  config.nodes = options.nodes;
  const bool kv_workload = IsKvWorkload(options.workload);
  // kv workloads route keys to groups 1 and 2 (below "m" and the rest).
  config.groups = kv_workload ? std::max(options.groups, 2) : options.groups;
  config.profile = profile;
  config.planted_raft = RaftPlants(options.plant);
  config.forget_vote_on_restart = options.plant == PlantedBug::kLoseVoteOnRestart;
  // The server keeps kv state in RocksDB; half the seeds model that (sim_engine.h).
  config.durable_state_machines = kv_workload && profile.durable_state_machines;
  config.planted_oracle.follower_issues = options.plant == PlantedBug::kFollowerTimestamp;
  config.planted_oracle.skip_confirmation = options.plant == PlantedBug::kUnconfirmedTimestamp;
  config.planted_stale_conf_snapshot = options.plant == PlantedBug::kStaleConfSnapshot;
  config.planted_hosted_groups.bootstrap_alone =
      options.plant == PlantedBug::kCreatedGroupBootstrapsAlone;
  config.planted_hosted_groups.joined_bootstraps =
      options.plant == PlantedBug::kReplicaTargetBootstraps;
  Cluster cluster(scheduler, trace, root.Fork(), config, safety);
  // With splits, every group knows what it owns from the bootstrap catalog (the server's
  // initial topology), and group 1 hosts the catalog itself.
  std::optional<route::RouteCatalog> bootstrap;
  if (kv_workload && options.splits) {
    absl::StatusOr<route::RouteCatalog> catalog =
        route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
    EKV_ASSERT(catalog.ok(), "bootstrap catalog: ", catalog.status().ToString());
    bootstrap = *std::move(catalog);
  }
  // Set once the kv workload exists: catalogs applied reach its coordinators.
  std::function<void(NodeIndex, const route::RouteCatalog&)> catalog_applied;
  if (kv_workload) {
    const kv::PlantedKvBugs kv_plants = KvPlants(options.plant);
    route::PlantedRouteBugs route_plants;
    route_plants.serve_outside_range = options.plant == PlantedBug::kServeOutsideRange;
    route_plants.merge_across_groups = options.plant == PlantedBug::kMergeSkipsMove;
    route_plants.keep_retired_group = options.plant == PlantedBug::kRetiredGroupKept;
    cluster.SetStateMachineFactory(
        [kv_plants, route_plants, bootstrap, &cluster, &catalog_applied](
            NodeIndex node, raft::GroupId group, std::unique_ptr<kv::Engine> engine) {
          auto state_machine = std::make_unique<node::GroupStateMachine>(
              group, group == 1 ? bootstrap : std::nullopt, bootstrap, std::move(engine));
          state_machine->SetPlantedKvBugs(kv_plants);
          state_machine->SetPlantedRouteBugs(route_plants);
          if (group == 1 && bootstrap.has_value()) {
            // As the server's catalog replica: created groups reach the node's host.
            state_machine->SetCatalogListener(
                [&cluster, &catalog_applied, node](const route::RouteCatalog& catalog) {
                  cluster.OnCreatedGroups(node, node::CreatedGroupsOf(catalog), catalog.version());
                  if (catalog_applied) catalog_applied(node, catalog);
                });
          }
          return state_machine;
        });
  }
  // Exactly one of the two runs; both take the same fork of the root seed.
  std::optional<Workload> register_workload;
  std::optional<KvWorkload> txn_workload;
  if (kv_workload) {
    txn_workload.emplace(scheduler, trace, cluster, root.Fork(), profile, options.ops,
                         options.workload, ClientPlants(options.plant), bootstrap, options.moves,
                         options.placement, options.redis_cross_group_exec,
                         options.plant == PlantedBug::kDynamoIndexKeepsOldEntry, options.merges,
                         options.create_groups, options.replica_moves);
    catalog_applied = [&txn_workload](NodeIndex node, const route::RouteCatalog& catalog) {
      txn_workload->OnCatalogApplied(node, catalog);
    };
  } else {
    register_workload.emplace(scheduler, trace, cluster, root.Fork(), profile, options.ops);
  }
  const std::map<raft::GroupId, raft::Index> no_acked_indexes;
  auto clients_busy = [&]() -> std::string {
    if (kv_workload) return txn_workload->BusyDescription();
    return register_workload->Idle() ? "" : "register operations outstanding";
  };
  auto acked_indexes = [&]() -> const std::map<raft::GroupId, raft::Index>& {
    return kv_workload ? no_acked_indexes : register_workload->max_acked_index();
  };
  Rng injector_rng = root.Fork();
  FaultInjector injector(scheduler, trace, cluster, injector_rng, root.Fork(), profile,
                         options.faults);
  if (kv_workload) cluster.SetCrashHandler([&](NodeIndex node) { txn_workload->OnCrash(node); });
  cluster.SetReplyHandler([&](NodeIndex node, const node::ClientReply& reply) {
    if (kv_workload) {
      txn_workload->OnReply(node, reply);
    } else {
      register_workload->OnReply(node, reply);
    }
  });

  std::string failure;
  bool converged = false;
  {
    AssertHookScope hook_scope;
    try {
      cluster.Start();
      auto over_budget = [&] { return scheduler.events_run() >= options.max_events; };
      // Setup: what the workload needs before it serves (the dynamo table), with no fault
      // injected yet, as an application creates its schema before its traffic. A setup
      // racing the faults left a third of the dynamo seeds too thin to judge. Workloads
      // without one start the chaos at once, at time 0, as before.
      if (kv_workload) {
        txn_workload->StartSetup();
        if (!txn_workload->SetupDone()) {
          scheduler.RunUntil(kMaxSetupUs, [&] {
            return txn_workload->SetupDone() || safety.violated() || over_budget();
          });
        }
      }
      const SimTime chaos_start_us = scheduler.now();
      if (kv_workload) {
        txn_workload->Start();
      } else {
        register_workload->Start();
      }
      injector.Start();
      // Chaos: faults on, workload running. Safety is checked after every event.
      scheduler.RunUntil(chaos_start_us + profile.chaos_duration_us,
                         [&] { return safety.violated() || over_budget(); });
      // A kv seed whose faults left too few acknowledged operations to judge keeps its
      // chaos going (same faults, same load) up to twice its drawn length.
      if (kv_workload) {
        const SimTime cap = chaos_start_us + 2 * profile.chaos_duration_us;
        while (txn_workload->acknowledged() < kKvTargetAcked && scheduler.now() < cap &&
               !safety.violated() && !over_budget() &&
               txn_workload->issued() < static_cast<uint64_t>(options.ops)) {
          scheduler.RunUntil(std::min(cap, scheduler.now() + kChaosExtensionStepUs),
                             [&] { return safety.violated() || over_budget(); });
        }
      }
      bool healed = false;
      const auto too_thin = [&] {
        return txn_workload->NeedsMoreOps() || txn_workload->acknowledged() < options.min_acked;
      };
      if (kv_workload && options.min_acked > 0 && too_thin() && txn_workload->issuing() &&
          !safety.violated() && !over_budget()) {
        injector.HealAll();
        healed = true;
        const SimTime calm_start = scheduler.now();
        const SimTime cap = calm_start + kMaxCalmIssueUs;
        while (too_thin() && txn_workload->issuing() && scheduler.now() < cap &&
               !safety.violated() && !over_budget()) {
          scheduler.RunUntil(std::min(cap, scheduler.now() + kCalmIssueStepUs),
                             [&] { return safety.violated() || over_budget(); });
        }
        txn_workload->NoteCalmIssuing(std::max<SimTime>(1, scheduler.now() - calm_start));
      }
      if (kv_workload) {
        txn_workload->StopIssuing();
      } else {
        register_workload->StopIssuing();
      }
      if (!safety.violated() && !over_budget()) {
        // Heal: faults off; the cluster must converge within the bound.
        if (!healed) injector.HealAll();
        const SimTime heal_deadline = scheduler.now() + profile.heal_timeout_us;
        std::string gap = "not checked yet";
        std::function<void()> check = [&] {
          gap = ConvergenceGap(cluster, clients_busy(), acked_indexes());
          converged = gap.empty();
          if (!converged && scheduler.now() < heal_deadline) {
            scheduler.After(kConvergenceCheckIntervalUs, check);
          }
        };
        scheduler.After(kConvergenceCheckIntervalUs, check);
        scheduler.RunUntil(heal_deadline,
                           [&] { return safety.violated() || converged || over_budget(); });
        if (!safety.violated() && !converged && !over_budget()) {
          failure = absl::StrCat("heal: no convergence within ", profile.heal_timeout_us / 1000000,
                                 "s: ", gap);
        }
      }
      if (!safety.violated() && converged && !kv_workload) {
        Workload& workload = *register_workload;
        workload.StartFinalReads();
        scheduler.RunUntil(scheduler.now() + kFinalReadTimeoutUs, [&] {
          return safety.violated() || workload.FinalReadsDone() || over_budget();
        });
        if (!workload.unread_keys().empty() && !over_budget()) {
          failure = absl::StrCat("heal: final reads failed for keys ",
                                 absl::StrJoin(workload.unread_keys(), ","));
        }
      }
      if (over_budget()) {
        failure = absl::StrCat("livelock: event budget of ", options.max_events,
                               " events exhausted at simulated time ", scheduler.now(), "us");
      }
    } catch (const InvariantFailure& invariant) {
      failure = absl::StrCat("invariant: ", invariant.what());
    }
  }
  if (safety.violated()) failure = absl::StrCat("raft safety: ", safety.violation());

  if (failure.empty() && kv_workload) {
    KvWorkload::Verdict verdict = txn_workload->Check();
    if (!verdict.ok) {
      failure = verdict.verdict;
      result.details = verdict.details;
    }
  } else if (failure.empty()) {
    const Workload& workload = *register_workload;
    checkers::LinearizabilityResult linearizable = checkers::CheckLinearizable(workload.history());
    if (linearizable.verdict == checkers::LinearizabilityResult::Verdict::kViolation) {
      failure = absl::StrCat("linearizability: key ", linearizable.key);
      result.details = linearizable.explanation;
    } else {
      checkers::DurabilityReport durability =
          checkers::CheckDurability(workload.history(), workload.final_values());
      if (!durability.ok()) {
        failure = "durability: acknowledged write lost";
        result.details = durability.ToString();
      } else if (linearizable.verdict == checkers::LinearizabilityResult::Verdict::kUnknown) {
        result.verdict =
            absl::StrCat("ok (linearizability search inconclusive on key ", linearizable.key, ")");
      }
    }
  }

  result.simulated_us = scheduler.now();
  result.events = scheduler.events_run();
  result.ops_total = kv_workload ? txn_workload->issued() : register_workload->issued();
  result.ops_acknowledged =
      kv_workload ? txn_workload->acknowledged() : register_workload->acknowledged();
  result.trace_hash = trace.hash();
  if (kv_workload && options.splits) result.routing = txn_workload->RoutingStats();
  if (kv_workload) {
    result.kv_stats = txn_workload->KvStats();
    result.ops_failed = txn_workload->failed();
    result.ops_unknown = txn_workload->unknown();
    const SimCoordinatorTotals totals = txn_workload->coordinator_totals();
    result.lock_resolutions = totals.lock_resolutions;
    result.forwarded_calls = totals.forwarded_calls;
    result.splits = txn_workload->splits_done();
    result.moves_started = txn_workload->moves_started();
    result.moves_finished = txn_workload->moves_finished();
    result.moves_aborted = txn_workload->moves_aborted();
    result.move_fences_us = txn_workload->move_fences_us();
    result.merges = txn_workload->merges_done();
    result.merges_tried = txn_workload->merges_tried();
    result.groups_created = txn_workload->groups_created();
    result.group_creates_tried = txn_workload->group_creates_tried();
    result.replica_moves = txn_workload->replica_moves_done();
    result.replica_moves_tried = txn_workload->replica_moves_tried();
    result.elections = cluster.elections_won();
    result.snapshots_sent = cluster.snapshots_sent();
    result.crashes = cluster.crashes();
    result.thin = result.ops_acknowledged < options.min_acked ||
                  (options.min_acked > 0 && !txn_workload->ThinParts().empty());
  }
  if (!failure.empty()) {
    result.ok = false;
    result.verdict = failure;
    result.trace_tail = trace.Tail();
  }
  return result;
}

}  // namespace ekv::sim
