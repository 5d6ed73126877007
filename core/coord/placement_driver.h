// PlacementDriver: runs the placement policy (core/placement/placement_policy.h) against a
// live cluster through one node's coordinator. The server (runtime/server/placement_runner.h)
// and the simulator (sim/kv_workload_placement.cc) both drive this same code; neither
// decides anything of its own.
//
// Deterministic and single-threaded like the coordinator: the host calls Tick with its
// clock and whether this node leads the catalog group, and carries out the operations the
// driver starts through `run` (a coordinator operation and a callback for its answer,
// on the same thread as Tick).
//
// Rule: only the node that leads the catalog group decides (one decider per cluster in
// the common case; two nodes that both believe they lead are harmless: every intent
// names the catalog version it was decided against, and the catalog refuses a stale one).
// A round, at most every round_interval_us and never while the last one is running:
//   1. read the catalog (StartReadCatalog): routes, their groups and states, the version;
//   2. ask each group for its route load counters with key samples
//      (StartGroupQuery GroupQueryOp::kRouteLoads, answered by the replica that serves
//      it: writes are counted on every replica, reads on the replica that served them);
//      a group that does not answer skips the round (its routes would look idle);
//   3. one RangeReport per route: requests = reads + writes; size = bytes written to the
//      route since that replica started (an upper bound of its MVCC size until GC: the
//      engine has no per-range size estimate yet); the load split's key from the samples;
//      the size split's key halving the samples;
//   4. PlacementPolicy::Observe, then run its intents one at a time: StartSplitRange /
//      StartMoveRange / StartMergeRange with the intent's catalog version (a merge of
//      routes on two groups moves the right one first, inside the one operation; a move
//      it left unfinished is resumed like any other);
//   5. with balance_replicas, when the catalog has created groups: one replica move
//      toward balance (StartBalanceReplicas), or none when balanced;
//   6. with balance_leaders: one leadership transfer toward balance (StartBalanceLeaders,
//      placement/leader_balance.h), or none when balanced. The driver keeps the transfers
//      of the cooldown (and the nodes that did not answer before one), so a transfer still
//      under way is counted as done and no group is moved twice within the cooldown.
// A move whose answer was lost, or that stopped short of finishing (not aborted, not
// refused), is resumed (StartMoveRange with the same route, target and source) before
// anything else, also while paused and when this node no longer leads: a route left
// fenced would stall its writes. Paused: no rounds, no new intents. Losing the lead or a
// pause forgets the policy's history: rates start again from two fresh reports.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/coord/coordinator.h"
#include "core/node/route_load.h"
#include "core/placement/placement_policy.h"
#include "core/route/catalog.h"

namespace ekv::coord {

struct PlacementDriverOptions {
  placement::PlacementOptions policy;
  uint64_t round_interval_us = 1'000'000;  // between the starts of two rounds
  // A split is not run while the catalog has this many routes or more (0: no bound).
  size_t max_routes = 0;
  uint64_t move_timeout_us = 0;  // MoveRangeSpec::timeout_us (0: the coordinator's default)
  bool paused = false;           // start paused
  // After a round's range intents: one replica move toward balance across the members
  // (Coordinator::StartBalanceReplicas, placement/replica_balance.h), a move it left
  // unfinished finished by the next round's plan.
  bool balance_replicas = false;
  // After that: one leadership transfer toward balance (Coordinator::StartBalanceLeaders).
  bool balance_leaders = false;
  placement::LeaderBalanceOptions leader_balance;
  uint64_t leader_balance_timeout_us = 5'000'000;  // one step (questions, probe, transfer)
};

struct PlacementDriverStatus {
  bool paused = false;
  bool leading = false;         // this node led the catalog group at the last tick
  bool busy = false;            // a round or an intent is running
  uint64_t rounds = 0;          // rounds that reached the policy
  uint64_t rounds_skipped = 0;  // a read failed or a group did not answer
  uint64_t splits_started = 0;
  uint64_t splits_done = 0;
  uint64_t moves_started = 0;  // resumptions not counted
  uint64_t moves_done = 0;
  uint64_t moves_aborted = 0;
  uint64_t merges_started = 0;
  uint64_t merges_done = 0;
  uint64_t intents_refused = 0;        // stale or failed intents that changed nothing
  uint64_t replica_moves_started = 0;  // balancing rounds that planned a replica move
  uint64_t replica_moves_done = 0;
  bool replicas_balanced = false;  // the last balancing round found nothing to move
  uint64_t leader_transfers = 0;   // transfers started by leader balancing
  bool leaders_balanced = false;   // the last leader balancing found nothing to move
  std::string leader_counts;       // leaders per node as last planned against ("n1=2 n2=1")
  bool move_unfinished = false;    // a move to resume
  std::string last_decision;       // the last intent and how it ended
  std::string last_error;          // why the last round was skipped
};

class PlacementDriver {
 public:
  using StartFn = std::function<OpId(Coordinator&)>;
  // nullopt: no answer came (the outcome is unknown).
  using DoneFn = std::function<void(std::optional<OpResult>)>;
  using RunFn = std::function<void(StartFn start, DoneFn done)>;

  PlacementDriver(PlacementDriverOptions options, RunFn run);
  PlacementDriver(const PlacementDriver&) = delete;
  PlacementDriver& operator=(const PlacementDriver&) = delete;

  // `groups`: every group that may take ranges. `now_us` never decreases.
  void Tick(uint64_t now_us, bool leads_catalog, std::vector<raft::GroupId> groups);
  void SetPaused(bool paused);
  // Forgets everything in flight (the host's coordinator died with its operations): their
  // answers, if any still come, are ignored. The unfinished move is kept.
  void Reset();

  const PlacementDriverStatus& status() const { return status_; }
  // Human-readable decision lines since the last call (one per intent started, one per
  // outcome), for the host's structured log or trace.
  std::vector<std::string> TakeLog();
  // The driver has work in hand: a round or intent running, or a move to resume.
  bool Busy() const { return status_.busy || unfinished_move_.has_value(); }

 private:
  void StartRound();
  void QueryNextGroup();
  void Decide();
  void RunNextIntent();
  void RunMove(MoveRangeSpec spec, bool resumed, std::string what);
  void BalanceReplicas();
  void BalanceLeaders();
  void EndRound(std::string error);
  // Runs `start`; `done` only if no Reset came in between.
  void Run(StartFn start, DoneFn done);
  void Log(std::string line);

  PlacementDriverOptions options_;
  RunFn run_;
  placement::PlacementPolicy policy_;
  PlacementDriverStatus status_;
  uint64_t now_us_ = 0;
  uint64_t next_round_us_ = 0;
  uint64_t epoch_ = 0;  // bumped by Reset: answers of an older epoch are dropped

  // The round in progress.
  std::vector<raft::GroupId> groups_;
  std::optional<route::RouteCatalog> catalog_;
  size_t next_group_ = 0;
  std::map<route::RouteId, node::RouteLoadReport> loads_;
  std::deque<placement::PlacementIntent> intents_;

  placement::LeaderBalanceHistory leader_history_;
  std::optional<MoveRangeSpec> unfinished_move_;
  std::vector<std::string> log_;
  static constexpr size_t kMaxLogLines = 1024;
};

}  // namespace ekv::coord
