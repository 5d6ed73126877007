// KvWorkload with --replica_moves: replicas of created groups move between nodes during
// the chaos, through the coordinators the servers run (core/coord/replica_mover.cc).
//
// One operation at a time, every 0.3-2.5 s: the client reads the catalog through a random
// node's coordinator and either moves one replica of a random live created group from a
// random replica to a random node that neither hosts it nor was ever removed from it
// (StartMoveReplica), or drains a random node that hosts a created group
// (StartDrainNode: every created replica off it). Faults hit every step: a move whose
// answer is lost or that ran out of time is run again with the same arguments (a drain
// again as a drain) until it finishes or is refused, also after the chaos phase, so every
// run ends with the catalog and the groups' configurations agreeing. The kv checkers
// (bank, append, kv-register) then judge every acknowledged operation, whose keys live on
// groups whose replicas moved under them; Raft's safety checker judges every replica's
// log, a moved-in one's included.
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "sim/kv_workload.h"

namespace ekv::sim {
namespace {

// New moves and drains one run starts, and runs of any of them (resumptions included).
constexpr uint64_t kMaxReplicaMovesPerRun = 12;
constexpr uint64_t kMaxReplicaMoveRuns = 80;
// After the chaos: runs of an unfinished move before it is left where it stopped. The heal
// gives the cluster a bounded time to converge, and a move may never finish (its target's
// disk broke); a move left between two steps holds a learner or one replica too many,
// which no checker minds.
constexpr uint64_t kMaxReplicaMoveRunsAfterChaos = 2;

bool Refused(absl::StatusCode code) {
  return code == absl::StatusCode::kFailedPrecondition ||
         code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound;
}

}  // namespace

void KvWorkload::ScheduleReplicaMove() {
  const bool resume = replica_mover_.unfinished.has_value();
  if (!issuing_ && !resume) return;
  if (!resume && replica_mover_.tried >= kMaxReplicaMovesPerRun) return;
  if (replica_move_runs_ >= kMaxReplicaMoveRuns ||
      (!issuing_ && replica_move_runs_after_chaos_ >= kMaxReplicaMoveRunsAfterChaos)) {
    // Bounded: a move stuck this long is left where it stopped (a learner that never
    // caught up, a replica recorded but not yet removed), which no checker minds.
    trace_.Record({scheduler_.now(), "replica-move-given-up", 0, replica_move_runs_, 0, 0, ""});
    replica_mover_.unfinished.reset();
    return;
  }
  const SimTime delay = resume ? replica_mover_.rng.Range(50'000, 300'000)
                               : replica_mover_.rng.Range(300'000, 2'500'000);
  scheduler_.After(delay, [this] {
    if (replica_mover_.busy) return;
    if (!issuing_ && !replica_mover_.unfinished.has_value()) return;
    RunReplicaMove();
  });
}

void KvWorkload::RunReplicaMove() {
  const NodeIndex via = coordinators_.RandomUpNode();
  if (via == 0) return ScheduleReplicaMove();
  if (replica_mover_.unfinished.has_value()) return RunPendingReplicaMove(via);
  replica_mover_.busy = true;
  coordinators_.Run(
      via, [](coord::Coordinator& c) { return c.StartReadCatalog(); },
      [this](std::optional<coord::OpResult> read) {
        replica_mover_.busy = false;
        if (!read.has_value() || !read->status.ok() || !read->catalog.has_value()) {
          return ScheduleReplicaMove();
        }
        std::vector<route::GroupDescriptor> live;
        for (const auto& [id, group] : read->catalog->groups()) live.push_back(group);
        if (live.empty()) return ScheduleReplicaMove();
        PendingReplicaMove next;
        if (replica_mover_.rng.Uniform(10) < 3) {
          // Drain a node that hosts a created group.
          const route::GroupDescriptor& group = live[replica_mover_.rng.Uniform(live.size())];
          const std::vector<uint64_t> replicas = group.Replicas();
          next.drain = true;
          next.node = replicas[replica_mover_.rng.Uniform(replicas.size())];
        } else {
          const route::GroupDescriptor& group = live[replica_mover_.rng.Uniform(live.size())];
          const std::vector<uint64_t> replicas = group.Replicas();
          std::vector<NodeIndex> targets;
          // A node that is up now (one that is down, or whose disk broke, might never
          // catch up); faults may still take it down later.
          for (NodeIndex node : cluster_.nodes()) {
            // Nor one being taken out of the cluster (kv_workload_members.cc): an operator
            // moves nothing onto a node they drain.
            if (!group.IsReplica(node) && !group.WasRemoved(node) &&
                cluster_.state(node) == Cluster::ProcessState::kUp && node != draining_node_ &&
                node != removed_node_) {
              targets.push_back(node);
            }
          }
          if (targets.empty()) return ScheduleReplicaMove();
          next.move.group = group.group_id;
          next.move.from = replicas[replica_mover_.rng.Uniform(replicas.size())];
          next.move.to = targets[replica_mover_.rng.Uniform(targets.size())];
        }
        ++replica_mover_.tried;
        replica_mover_.unfinished = next;
        ScheduleReplicaMove();
      });
}

void KvWorkload::RunPendingReplicaMove(NodeIndex via) {
  EKV_ASSERT(replica_mover_.unfinished.has_value(), "no replica move to run");
  const PendingReplicaMove pending = *replica_mover_.unfinished;
  replica_mover_.busy = true;
  ++replica_move_runs_;
  if (!issuing_) ++replica_move_runs_after_chaos_;
  // Short runs (a run that stops is resumed by the next): a move to a node that went down
  // must not hold the workload past the heal's bounded convergence time.
  const SimTime budget = 4 * profile_.client_timeout_us;
  coordinators_.Run(
      via,
      [pending, budget](coord::Coordinator& c) {
        if (pending.drain) return c.StartDrainNode(pending.node, budget);
        coord::MoveReplicaSpec spec = pending.move;
        spec.timeout_us = budget;
        return c.StartMoveReplica(spec);
      },
      [this, via, pending](std::optional<coord::OpResult> result) {
        replica_mover_.busy = false;
        const absl::StatusCode code =
            result.has_value() ? result->status.code() : absl::StatusCode::kUnavailable;
        trace_.Record({scheduler_.now(), pending.drain ? "drain-node" : "move-replica", via,
                       pending.drain ? pending.node : pending.move.group,
                       pending.drain ? 0 : pending.move.from * 1000 + pending.move.to,
                       static_cast<uint64_t>(code),
                       result.has_value() ? std::string(result->status.message()) : "no answer"});
        if (code == absl::StatusCode::kOk) {
          ++replica_mover_.done;
          replica_mover_.unfinished.reset();
        } else if (Refused(code)) {
          replica_mover_.unfinished.reset();
        }
        ScheduleReplicaMove();
      },
      budget + 2 * profile_.client_timeout_us);
}

}  // namespace ekv::sim
