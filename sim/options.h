// What one simulation run is asked to do (SimOptions) and what it found (SimResult).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "sim/trace.h"

namespace ekv::sim {

// The fault classes a run may inject (--faults).
struct FaultSet {
  bool partition = false;
  bool crash = false;
  bool pause = false;
  bool clock = false;
  bool disk = false;  // torn writes, write errors, corruption detected on restart
  bool drop = false;
  bool dup = false;
  bool reorder = false;
  bool clog = false;
  // Targeted: cut a node off at Raft moments (right after it wins an election, appends a
  // proposal or advances its commit index), where FoundationDB-style random faults
  // rarely land; it reaches interleavings such as the Raft paper's Figure 8.
  bool isolate = false;
  // Membership changes: a group's voter is removed, re-added as a learner, promoted back
  // (one change at a time, through the leader's OpKind::kConfChange); the heal restores
  // every replica as a voter.
  bool membership = false;

  static FaultSet All();
  bool any() const;
};

// Parses "all", "none" or a comma-separated subset of
// partition,crash,pause,clock,disk,drop,dup,reorder,clog,isolate,membership.
absl::StatusOr<FaultSet> ParseFaultSet(absl::string_view text);
std::string FaultSetName(const FaultSet& faults);

enum class PlantedBug : uint8_t {
  kNone,
  kCommitPrevTerm,     // raft: commits a previous term's entry by counting replicas
  kAckBeforePersist,   // raft: acknowledges appends and votes before fsync
  kReadWithoutQuorum,  // raft: serves ReadIndex without confirming leadership
  kLoseVoteOnRestart,  // sim restart path: the recovered hard state forgets its vote
  // kv layer (kv workloads only):
  kSkipWriteConflict,       // prewrite skips the write-write conflict check
  kCommitWithoutLockCheck,  // commit of a key whose lock was rolled back reports success
  kStaleRead,               // kv reads served from any replica's state, without ReadIndex
  kFollowerTimestamp,       // a follower hands out timestamps from its own applied state
  kUnconfirmedTimestamp,    // the oracle's leader serves without confirming leadership
  // routing (--splits only):
  kServeOutsideRange,  // a group's ownership guard accepts keys outside its ranges
  // membership (--faults membership):
  kStaleConfSnapshot,  // no fresh snapshot after a conf change (a re-added node never catches up)
  // the coordinator (core/coord, kv workloads):
  kResolveRollsBackCommitted,  // lock resolution rolls back a committed txn's secondary
  kNoStaleRouteRetry,          // STALE_ROUTE refusals reach the client (--splits)
  kRetryUnknownWrite,          // a raw write whose outcome is unknown is re-proposed
  kReadsIgnoreUncertainty,  // snapshot reads ignore their uncertainty window (kv-register-snapshot)
  // range moves (--moves):
  kMoveCutoverBeforeFinalCopy,    // cut over without the final copy pass under the fence
  kMoveSourceServesAfterCutover,  // the source group is never told of the cut-over
  kMoveForgetsLocks,              // moved chunks lose their lock records
  // range merges (--merges):
  kMergeSkipsMove,  // routes of different groups merge in the catalog without a move
  // created groups (--create_groups):
  kCreatedGroupBootstrapsAlone,  // each listed voter bootstraps the group with itself alone
  kRetiredGroupKept,             // RetireGroup keeps the group's record: it stays listed, hosted
  // replica moves (--replica_moves):
  kReplicaTargetBootstraps,  // a replica move's target bootstraps the group, not empty
  // leader balancing (--placement):
  kLeaderBalanceCreatedOnly,  // the leader planner sees created groups only
  // the Redis layer (--workload redis):
  kRedisReadClientClock,          // a Redis read decides expiry by the request's clock alone
  kResubmitLateWrite,             // the sim driver re-submits a write whose answer is late
  kRedisCleanupDropsLive,         // a Redis cleanup pass removes the live version's elements too
  kRedisCrossSkipsRevalidation,   // a command over groups commits without re-checking its reads
  kRedisPipelineUnknownAsFailed,  // a pipelined part of unknown outcome reports a failure
  // the DynamoDB layer (--workload dynamo):
  kDynamoIndexKeepsOldEntry,  // index maintenance keeps the entry under an item's old index key
};
absl::StatusOr<PlantedBug> ParsePlantedBug(absl::string_view name);
absl::string_view PlantedBugName(PlantedBug bug);

// What the clients do (--workload).
enum class WorkloadKind : uint8_t {
  kRegister,    // put/get/cas/delete on the register state machine (MapStateMachine)
  kBank,        // GroupStateMachine: cross-group transfer transactions, bank checker
  kAppend,      // GroupStateMachine: list-append transactions, Elle-style checker
  kKvRegister,  // GroupStateMachine: raw writes and reads, linearizability checker
  // kv-register whose reads half the time read at an oracle timestamp taken after they
  // began: judges the order of apply-time and oracle timestamps across groups
  // (docs/timestamp-ordering.md).
  kKvRegisterSnapshot,
  kRedis,   // Redis requests (core/redis): EXEC'd lists, counters, expiry (redis_workload.h)
  kDynamo,  // DynamoDB requests run by the adapter's handlers (dynamo_workload.h)
};
absl::StatusOr<WorkloadKind> ParseWorkloadKind(absl::string_view name);
absl::string_view WorkloadKindName(WorkloadKind kind);
bool IsKvWorkload(WorkloadKind kind);

inline constexpr int kDefaultOps = 300;
inline constexpr int kDefaultKvOps = 20000;
inline constexpr uint64_t kDefaultMaxEvents = 500'000;
inline constexpr uint64_t kDefaultKvMaxEvents = 50'000'000;

struct SimOptions {
  uint64_t seed = 1;
  FaultSet faults = FaultSet::All();
  int nodes = 5;
  int groups = 3;
  // Client operations in the chaos phase; 0: the workload's default (kDefaultOps,
  // kDefaultKvOps: kv seeds run longer, with more clients).
  int ops = 0;
  PlantedBug plant = PlantedBug::kNone;
  WorkloadKind workload = WorkloadKind::kRegister;
  // kv workloads: ownership enforcement, versioned routing and random splits (--splits).
  bool splits = false;
  // kv workloads with --splits: a mover moves random routes between groups (--moves).
  bool moves = false;
  // kv workloads with --moves: every node runs the core's placement driver
  // (core/coord/placement_driver.h) instead of the random splitter and mover (--placement).
  bool placement = false;
  // kv workloads with --splits: a merger merges random adjacent routes (--merges); with
  // --moves a merge of routes on different groups moves one first; with --placement the
  // drivers' policy also proposes merges of cold, small neighbours.
  bool merges = false;
  // kv workloads with --splits: a client creates Raft groups at run time on 3 of the nodes
  // (--create_groups); with --moves ranges then move into them.
  bool create_groups = false;
  // kv workloads with --create_groups: a client moves created groups' replicas between
  // nodes and drains random nodes (StartMoveReplica / StartDrainNode) during the chaos
  // (--replica_moves).
  bool replica_moves = false;
  // --workload redis: one EXEC may name keys of both groups (--redis_cross_group_exec).
  bool redis_cross_group_exec = false;
  // Events one run may execute; exhausting it is reported as a livelock. 0: the
  // workload's default (kDefaultMaxEvents, kDefaultKvMaxEvents).
  uint64_t max_events = 0;
  // kv workloads: a run that acknowledged fewer operations is reported as thin.
  uint64_t min_acked = 0;
  // Receives every trace line (--trace FILE); empty: only the hash and the tail are kept.
  std::function<void(const std::string&)> trace_sink;
};

struct SimResult {
  uint64_t seed = 0;
  bool ok = true;
  std::string verdict = "ok";  // "ok" or what was violated
  std::string profile;         // the swarm knobs drawn for this seed
  SimTime simulated_us = 0;
  uint64_t events = 0;
  uint64_t ops_total = 0;
  uint64_t ops_acknowledged = 0;
  uint64_t ops_failed = 0;   // kv workloads: certainly had no effect
  uint64_t ops_unknown = 0;  // kv workloads: outcome unknown to the client
  // What happened during the run (kv workloads), so a sweep can tell deep histories from
  // thin ones.
  uint64_t elections = 0;
  uint64_t snapshots_sent = 0;
  uint64_t crashes = 0;
  uint64_t splits = 0;
  // --moves: moves started, finished, rolled back, and each finished move's write pause.
  uint64_t moves_started = 0;
  uint64_t moves_finished = 0;
  uint64_t moves_aborted = 0;
  std::vector<uint64_t> move_fences_us;
  // --merges: merges committed (random merger and placement drivers) and tried.
  uint64_t merges = 0;
  uint64_t merges_tried = 0;
  // --create_groups: groups created and creations tried.
  uint64_t groups_created = 0;
  uint64_t group_creates_tried = 0;
  // --replica_moves: replica moves and drains that finished, and those tried.
  uint64_t replica_moves = 0;
  uint64_t replica_moves_tried = 0;
  uint64_t lock_resolutions = 0;
  uint64_t forwarded_calls = 0;
  // Too few acknowledged operations to judge (below SimOptions::min_acked): reported,
  // never counted as a pass.
  bool thin = false;
  uint64_t trace_hash = 0;
  std::string routing;                  // --splits: splits, scans and refusals seen
  std::string kv_stats;                 // kv workloads: timestamps and one-phase commits
  std::string details;                  // checker explanations, history excerpt
  std::vector<std::string> trace_tail;  // last events, on failure
};

std::string SummaryLine(const SimOptions& options, const SimResult& result);
// The command line that reruns exactly this seed.
std::string ReproCommand(const SimOptions& options);

}  // namespace ekv::sim
