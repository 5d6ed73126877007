// ekv-sim: the seeded deterministic simulator's command line.
//
//   ekv-sim --seed 42 --faults all
//   ekv-sim --seeds 1..1000 --faults partition,crash --plant commit_prev_term
//
// Prints one summary line per seed. On a violation it prints the verdict, the checker's
// explanation, the exact command that reproduces it and the last events of the trace,
// and exits with status 1.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sim/options.h"
#include "sim/simulation.h"

ABSL_FLAG(uint64_t, seed, 1, "Root seed of a single run; every random choice derives from it.");
ABSL_FLAG(std::string, seeds, "",
          "Sweep an inclusive seed range A..B (overrides --seed), e.g. 1..1000.");
ABSL_FLAG(std::string, faults, "all",
          "Fault classes to draw from: 'all', 'none', or a comma-separated subset of "
          "partition,crash,pause,clock,disk,drop,dup,reorder,clog,isolate,membership. Each seed "
          "draws its own probability for every enabled class (swarm testing). With a kv "
          "--workload and --splits, membership also takes whole nodes out of the cluster and "
          "adds them back (members=done/tried on the seed line); half the time a node comes "
          "back with an emptied disk under its old id and joins with readmit "
          "(rejoined_empty=N); its AddNode waits until every member of its groups holds their "
          "newest configuration (readmit_waits=N refusals), then it starts its groups. With "
          "--create_groups (with or without --placement) a node is "
          "drained first (DrainNode; a refused drain takes nothing out) and a node whose disk "
          "broke is drained and removed, also after the chaos.");
ABSL_FLAG(int, nodes, 5, "Cluster size N (nodes 1..N).");
ABSL_FLAG(int, groups, 3,
          "Raft groups G; each is replicated on every node when N <= 5, else on 3 nodes.");
ABSL_FLAG(int, ops, 0,
          "Client operations issued during the chaos phase (default: 300 for register, 4000 "
          "for the kv workloads, whose seeds run longer with more clients).");
ABSL_FLAG(std::string, trace, "", "Write the full event trace to this file.");
ABSL_FLAG(std::string, plant, "none",
          "Plant a known bug to test the checkers: commit_prev_term, ack_before_persist, "
          "read_without_quorum or lose_vote_on_restart; with a kv --workload also "
          "skip_write_conflict, commit_without_lock_check, stale_read, follower_timestamp or "
          "unconfirmed_timestamp; "
          "with --splits also serve_outside_range; with --faults membership also "
          "stale_conf_snapshot; with --moves also move_cutover_before_final_copy, "
          "move_source_serves_after_cutover or move_forgets_locks; with --merges also "
          "merge_skips_move (routes of two groups merge in the catalog without a move); with "
          "--create_groups also created_group_bootstraps_alone (each voter of a created group "
          "bootstraps it with itself alone) or retired_group_kept (RetireGroup keeps the "
          "group's record: still listed and hosted after its retirement was acknowledged); "
          "with --replica_moves also "
          "replica_target_bootstraps (a replica move's target bootstraps the group with its "
          "replicas of the moment instead of starting empty); with --placement also "
          "leader_balance_created_only (leader balancing counts and moves the created "
          "groups' leaders only); "
          "with --workload redis "
          "also redis_read_client_clock (a Redis read decides expiry by the request's clock "
          "alone, not the group's newest time) or resubmit_late_write (the driver sends a "
          "replicated write again when its answer is late, so it may apply twice) or "
          "redis_cleanup_drops_live (a cleanup pass removes a live collection's elements) or "
          "redis_cross_skips_revalidation (a command over several groups, MSET/MGET, commits "
          "without checking its keys kept the values it read) or "
          "redis_pipeline_unknown_as_failed (a pipelined part whose outcome is unknown "
          "reports its commands as failed); with "
          "--workload dynamo also dynamo_index_keeps_old_entry (index maintenance keeps the "
          "entry under an item's old index key when the key changes).");
ABSL_FLAG(std::string, workload, "register",
          "What the clients do: register (put/get/cas/delete, linearizability + durability), "
          "or, on the server's GroupStateMachine (MVCC + Percolator across 2 groups): bank "
          "(transfers + snapshot reads, bank checker), append (list-append transactions, "
          "strict serializability), kv-register (raw writes/reads, linearizability), "
          "kv-register-snapshot (kv-register with half the reads at an oracle timestamp taken "
          "after they began; fails until the bug in docs/timestamp-ordering.md is fixed) or redis "
          "(Redis requests through the front door's core path, StartRedisRequest: "
          "MULTI/RPUSH/LRANGE/EXEC list appends checked for strict serializability, "
          "INCR/INCRBY/GET counters checked for exact counts, SET PX/PEXPIRE/EXPIRE with "
          "GET/EXISTS/PTTL/TTL/PEXPIRETIME checked for no read of an expired key, pipelines of "
          "those one-key commands (StartRedisPipeline) checked by the same checkers, MSET/MGET "
          "of one key in each group (one command over two groups) checked as strings and for "
          "equal pairs; the seed line shows redis exec=committed/sent crossslot= incr= "
          "counter_reads= expiry_reads=judged/of values/all pipelines=answered/sent "
          "pipelined_acked= mset= mget=), or dynamo (DynamoDB requests run by the "
          "DynamoDB front door's own handlers and TableStore, over the coordinator: a table "
          "placed over the groups with a GSI, created with its items before any fault is "
          "injected (as an application creates its schema before it serves); conditional "
          "version-checked UpdateItem "
          "increments checked for exact counts, UpdateItems that change the index key, "
          "conditional PutItem/DeleteItem, TransactWriteItems transfers across groups with a "
          "ConditionCheck and TransactGetItems reads checked by the bank checker; after the "
          "heal the index must equal its table's projection exactly; always runs with "
          "--splits, as CreateTable places the table through the catalog; the seed line "
          "shows dynamo setup_ms=simulated ms it finished at/attempts transfers=acked/sent "
          "reads= incr= reowner= temps= index=entries "
          "checked calls=backend calls).");
ABSL_FLAG(bool, redis_cross_group_exec, false,
          "--workload redis with --splits: some EXECs name list keys of both groups (one "
          "transaction over both groups; a CROSSSLOT answer would be a definite failure, "
          "counted as crossslot=). Without this flag one EXEC's keys are always of one "
          "group.");
ABSL_FLAG(bool, splits, false,
          "kv workloads only: every group enforces the ranges it owns, coordinators route "
          "with versioned route tables (refresh and retry on STALE_ROUTE, and sometimes "
          "route to the wrong group on purpose), a client splits random routes at random "
          "keys during the run, and bank's snapshot reads also scan route by route.");
ABSL_FLAG(bool, moves, false,
          "With --splits: a client also moves random routes between the groups during the run "
          "(StartMoveRange through a random node's coordinator: copy, fence, final copy, "
          "cut-over, activate, cleanup), resuming a move whose answer was lost until it "
          "finishes or rolls back. The seed line shows moves=finished/started, aborted= and "
          "the longest write pause; a sweep prints the pause's p50/p99/max.");
ABSL_FLAG(bool, placement, false,
          "With --moves: every node runs the core's placement driver (core/coord/"
          "placement_driver.h), as ekv-server does; the node leading the catalog group reads "
          "the groups' route load counters and key samples and splits (over a size or "
          "sustained-rate threshold, at the key that halves the load) and moves (from the "
          "busiest to the idlest group), with thresholds drawn per seed, instead of the random "
          "splitter and mover. The seed line shows placement=rounds/splits/moves finished/"
          "moves started over all nodes' drivers.");
ABSL_FLAG(bool, merges, false,
          "With --splits: a client also merges random adjacent routes during the run "
          "(StartMergeRange through a random node's coordinator, fenced by that node's catalog "
          "version); with --moves a merge of routes on two groups first moves the right one "
          "into the left's group, and a merge's move left unfinished is resumed. With "
          "--placement the drivers' policy also merges cold, small neighbours (thresholds "
          "drawn per seed). The seed line's routing part shows merges=done/tried.");
ABSL_FLAG(bool, create_groups, false,
          "With --splits: a client also creates Raft groups at run time, up to 2 live at "
          "once (CreateGroup through a random node's coordinator; placement picks 3 of the "
          "nodes as voters, who bootstrap the group as they apply the catalog), and retires "
          "up to 2 that no route names (RetireGroup: the catalog erases the record, the id "
          "is never reused, every replica stops). With --moves ranges move into them. After "
          "the heal no up node's catalog may list a retired group, nor any up node host one, "
          "every live created group has its replica count hosted on up members that vote in "
          "it, and no up node hosts a created group the catalog does not name it a replica "
          "of. With the membership fault class (also with --placement) nodes are drained "
          "(DrainNode), removed and "
          "added back, an emptied one readmitted to the created groups it was drained from "
          "(member_drains=N readmitted_groups=N rehosted=N: readmitted nodes hosting a "
          "created group again). The seed line shows "
          "groups_created=done/tried groups_retired=done/tried.");
ABSL_FLAG(bool, replica_moves, false,
          "With --create_groups: a client also moves created groups' replicas between nodes "
          "during the chaos: one replica of a random created group to a random node that "
          "does not host it (MoveReplica), or every replica off a random node (DrainNode), "
          "through a random node's coordinator; one that stopped short is resumed, also "
          "after the chaos. The seed line shows replica_moves=done/tried.");
ABSL_FLAG(bool, profile, false, "Also print the swarm knobs each seed drew.");
ABSL_FLAG(bool, keep_going, true, "In a sweep, continue after a failing seed.");
ABSL_FLAG(uint64_t, min_acked, 20,
          "kv workloads: a seed whose chaos phase acknowledged fewer operations heals its "
          "faults and keeps its clients issuing (up to 60 simulated s, calm_ms= on its line) "
          "until it has; one that falls short even then is reported as too thin to judge "
          "(and makes the run exit 3 unless something failed); 0 turns both off. A kv seed's "
          "chaos phase is first extended (up to twice its drawn length) until 300 operations "
          "were acknowledged.");

namespace {

bool ParseSeedRange(const std::string& text, uint64_t* first, uint64_t* last) {
  std::vector<std::string> parts = absl::StrSplit(text, "..");
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], first) &&
         absl::SimpleAtoi(parts[1], last) && *first <= *last;
}

}  // namespace

int main(int argc, char** argv) {
  {
    // absl's --help lists only flags defined in a file named like the program; ours live
    // in *_main.cc / main.cc, so list every flag that is not Abseil's own.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view path) {
      return !absl::StrContains(path, "absl/");
    };
    usage.contains_helpshort_flags = usage.contains_help_flags;
    absl::SetFlagsUsageConfig(usage);
  }
  absl::SetProgramUsageMessage(
      "Seeded deterministic simulation of an ekv cluster (NodeHost + Raft) under faults.\n"
      "Runs a chaos phase (faults + client workload, Raft safety checked after every "
      "event), then a heal phase (faults off; one leader per group, replicas identical, "
      "acknowledged writes applied), then checks the client history for linearizability "
      "and durability.\n"
      "Output: one line per seed: seed, faults, simulated seconds, events, operations "
      "acknowledged, trace hash, verdict. On a violation: exit status 1, the repro command "
      "and the last trace events.\n"
      "Usage: ekv-sim --seed N [--faults LIST] | --seeds A..B [...]");
  absl::ParseCommandLine(argc, argv);

  ekv::sim::SimOptions base;
  auto faults = ekv::sim::ParseFaultSet(absl::GetFlag(FLAGS_faults));
  if (!faults.ok()) {
    std::cerr << "--faults: " << faults.status().message() << "\n";
    return 2;
  }
  auto plant = ekv::sim::ParsePlantedBug(absl::GetFlag(FLAGS_plant));
  if (!plant.ok()) {
    std::cerr << "--plant: " << plant.status().message() << "\n";
    return 2;
  }
  auto workload = ekv::sim::ParseWorkloadKind(absl::GetFlag(FLAGS_workload));
  if (!workload.ok()) {
    std::cerr << "--workload: " << workload.status().message() << "\n";
    return 2;
  }
  base.workload = *workload;
  base.faults = *faults;
  base.plant = *plant;
  base.splits = absl::GetFlag(FLAGS_splits);
  // CreateTable places the table through the route catalog, held only in split runs.
  if (base.workload == ekv::sim::WorkloadKind::kDynamo) base.splits = true;
  if (base.splits && !ekv::sim::IsKvWorkload(base.workload)) {
    std::cerr << "--splits needs a kv --workload (bank, append, kv-register, kv-register-snapshot, "
                 "redis or dynamo)\n";
    return 2;
  }
  base.moves = absl::GetFlag(FLAGS_moves);
  if (base.moves && !base.splits) {
    std::cerr << "--moves needs --splits (the groups must enforce what they own)\n";
    return 2;
  }
  base.redis_cross_group_exec = absl::GetFlag(FLAGS_redis_cross_group_exec);
  if (base.redis_cross_group_exec &&
      (base.workload != ekv::sim::WorkloadKind::kRedis || !base.splits)) {
    // Without --splits the groups do not enforce ownership: such an EXEC would run in
    // the routing key's group with the other group's keys.
    std::cerr << "--redis_cross_group_exec needs --workload redis and --splits\n";
    return 2;
  }
  if (base.workload == ekv::sim::WorkloadKind::kRedis && absl::GetFlag(FLAGS_moves)) {
    std::cerr << "--workload redis does not run with --moves yet (its expiry checker assumes "
                 "a key stays in its group)\n";
    return 2;
  }
  if ((base.plant == ekv::sim::PlantedBug::kRedisReadClientClock ||
       base.plant == ekv::sim::PlantedBug::kResubmitLateWrite ||
       base.plant == ekv::sim::PlantedBug::kRedisCleanupDropsLive ||
       base.plant == ekv::sim::PlantedBug::kRedisCrossSkipsRevalidation ||
       base.plant == ekv::sim::PlantedBug::kRedisPipelineUnknownAsFailed) &&
      base.workload != ekv::sim::WorkloadKind::kRedis) {
    std::cerr << "--plant " << ekv::sim::PlantedBugName(base.plant) << " needs --workload redis\n";
    return 2;
  }
  if (base.plant == ekv::sim::PlantedBug::kDynamoIndexKeepsOldEntry &&
      base.workload != ekv::sim::WorkloadKind::kDynamo) {
    std::cerr << "--plant dynamo_index_keeps_old_entry needs --workload dynamo\n";
    return 2;
  }
  base.merges = absl::GetFlag(FLAGS_merges);
  if (base.merges && !base.splits) {
    std::cerr << "--merges needs --splits (the groups must enforce what they own)\n";
    return 2;
  }
  if (base.plant == ekv::sim::PlantedBug::kMergeSkipsMove && !base.merges) {
    std::cerr << "--plant merge_skips_move needs --merges\n";
    return 2;
  }
  base.create_groups = absl::GetFlag(FLAGS_create_groups);
  if (base.create_groups && !base.splits) {
    std::cerr << "--create_groups needs --splits (groups are recorded in the catalog)\n";
    return 2;
  }
  base.replica_moves = absl::GetFlag(FLAGS_replica_moves);
  if (base.replica_moves && !base.create_groups) {
    std::cerr << "--replica_moves needs --create_groups (only created groups move replicas)\n";
    return 2;
  }
  if (base.plant == ekv::sim::PlantedBug::kReplicaTargetBootstraps && !base.replica_moves) {
    std::cerr << "--plant replica_target_bootstraps needs --replica_moves\n";
    return 2;
  }
  base.placement = absl::GetFlag(FLAGS_placement);
  if (base.placement && !base.moves) {
    std::cerr << "--placement needs --moves (it runs splits and moves)\n";
    return 2;
  }
  if (base.plant == ekv::sim::PlantedBug::kLeaderBalanceCreatedOnly && !base.placement) {
    std::cerr << "--plant leader_balance_created_only needs --placement\n";
    return 2;
  }
  if ((base.plant == ekv::sim::PlantedBug::kMoveCutoverBeforeFinalCopy ||
       base.plant == ekv::sim::PlantedBug::kMoveSourceServesAfterCutover ||
       base.plant == ekv::sim::PlantedBug::kMoveForgetsLocks) &&
      !base.moves) {
    std::cerr << "--plant " << ekv::sim::PlantedBugName(base.plant) << " needs --moves\n";
    return 2;
  }
  if (base.plant == ekv::sim::PlantedBug::kServeOutsideRange && !base.splits) {
    std::cerr << "--plant serve_outside_range needs --splits\n";
    return 2;
  }
  if (base.plant == ekv::sim::PlantedBug::kStaleConfSnapshot && !base.faults.membership) {
    std::cerr << "--plant stale_conf_snapshot needs membership in --faults\n";
    return 2;
  }
  base.nodes = absl::GetFlag(FLAGS_nodes);
  base.groups = absl::GetFlag(FLAGS_groups);
  base.ops = absl::GetFlag(FLAGS_ops);
  if (base.nodes < 1 || base.nodes > 64 || base.groups < 1 || base.groups > 64 || base.ops < 0) {
    std::cerr << "--nodes and --groups must be in 1..64 and --ops >= 0\n";
    return 2;
  }

  uint64_t first = absl::GetFlag(FLAGS_seed);
  uint64_t last = first;
  if (!absl::GetFlag(FLAGS_seeds).empty() &&
      !ParseSeedRange(absl::GetFlag(FLAGS_seeds), &first, &last)) {
    std::cerr << "--seeds must look like A..B with A <= B\n";
    return 2;
  }

  std::ofstream trace_file;
  if (!absl::GetFlag(FLAGS_trace).empty()) {
    trace_file.open(absl::GetFlag(FLAGS_trace));
    if (!trace_file) {
      std::cerr << "cannot open --trace file " << absl::GetFlag(FLAGS_trace) << "\n";
      return 2;
    }
    base.trace_sink = [&trace_file](const std::string& line) { trace_file << line << '\n'; };
  }

  base.min_acked = absl::GetFlag(FLAGS_min_acked);
  uint64_t failures = 0;
  uint64_t thin = 0;
  ekv::sim::SimResult sum;  // totals over the sweep
  for (uint64_t seed = first;; ++seed) {
    ekv::sim::SimOptions options = base;
    options.seed = seed;
    const ekv::sim::SimResult result = ekv::sim::RunSimulation(options);
    std::cout << ekv::sim::SummaryLine(options, result) << "\n";
    if (result.thin) ++thin;
    sum.ops_total += result.ops_total;
    sum.ops_acknowledged += result.ops_acknowledged;
    sum.ops_failed += result.ops_failed;
    sum.ops_unknown += result.ops_unknown;
    sum.elections += result.elections;
    sum.snapshots_sent += result.snapshots_sent;
    sum.crashes += result.crashes;
    sum.splits += result.splits;
    sum.moves_started += result.moves_started;
    sum.moves_finished += result.moves_finished;
    sum.moves_aborted += result.moves_aborted;
    sum.merges += result.merges;
    sum.merges_tried += result.merges_tried;
    sum.groups_created += result.groups_created;
    sum.group_creates_tried += result.group_creates_tried;
    sum.replica_moves += result.replica_moves;
    sum.replica_moves_tried += result.replica_moves_tried;
    sum.move_fences_us.insert(sum.move_fences_us.end(), result.move_fences_us.begin(),
                              result.move_fences_us.end());
    sum.lock_resolutions += result.lock_resolutions;
    sum.forwarded_calls += result.forwarded_calls;
    sum.simulated_us += result.simulated_us;
    if (absl::GetFlag(FLAGS_profile)) std::cout << "  profile: " << result.profile << "\n";
    if (!result.ok) {
      ++failures;
      std::cout << "VIOLATION seed=" << seed << ": " << result.verdict << "\n";
      std::cout << "  profile: " << result.profile << "\n";
      if (!result.details.empty()) std::cout << result.details << "\n";
      std::cout << "  repro: " << ekv::sim::ReproCommand(options) << "\n";
      std::cout << "  last " << result.trace_tail.size() << " trace events:\n";
      for (const std::string& line : result.trace_tail) std::cout << "    " << line << "\n";
      std::cout.flush();
      if (!absl::GetFlag(FLAGS_keep_going)) break;
    }
    if (seed == last) break;
  }
  if (first != last) {
    std::cout << "swept seeds " << first << ".." << last << ": " << failures << " failing, " << thin
              << " too thin to judge (min_acked=" << base.min_acked << ")\n";
    if (ekv::sim::IsKvWorkload(base.workload)) {
      std::cout << "sweep totals: ops acked=" << sum.ops_acknowledged
                << " failed=" << sum.ops_failed << " unknown=" << sum.ops_unknown
                << " issued=" << sum.ops_total << " elections=" << sum.elections
                << " crashes=" << sum.crashes << " snapshots_sent=" << sum.snapshots_sent
                << " splits=" << sum.splits << " lock_resolutions=" << sum.lock_resolutions
                << " forwarded_calls=" << sum.forwarded_calls
                << " simulated_s=" << sum.simulated_us / 1'000'000 << "\n";
    }
    if (base.merges) {
      std::cout << "merges: done=" << sum.merges << " tried=" << sum.merges_tried << "\n";
    }
    if (base.create_groups) {
      std::cout << "groups created: done=" << sum.groups_created
                << " tried=" << sum.group_creates_tried << "\n";
    }
    if (base.replica_moves) {
      std::cout << "replica moves and drains: done=" << sum.replica_moves
                << " tried=" << sum.replica_moves_tried << "\n";
    }
    if (base.moves) {
      std::vector<uint64_t> fences = sum.move_fences_us;
      std::sort(fences.begin(), fences.end());
      auto percentile = [&](double p) -> uint64_t {
        if (fences.empty()) return 0;
        const size_t rank = static_cast<size_t>(p * static_cast<double>(fences.size() - 1));
        return fences[rank];
      };
      std::cout << "moves: started=" << sum.moves_started << " finished=" << sum.moves_finished
                << " aborted=" << sum.moves_aborted
                << " write_pause_sim_ms p50=" << percentile(0.5) / 1000
                << " p99=" << percentile(0.99) / 1000
                << " max=" << (fences.empty() ? 0 : fences.back() / 1000) << "\n";
    }
  }
  if (failures != 0) return 1;
  return thin == 0 ? 0 : 3;
}
