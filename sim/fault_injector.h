// Injects the seed's faults during the chaos phase, and repairs everything for the heal.
#pragma once

#include <cstdint>

#include "core/util/rng.h"
#include "sim/cluster.h"
#include "sim/options.h"
#include "sim/scheduler.h"
#include "sim/swarm.h"
#include "sim/trace.h"

namespace ekv::sim {

class FaultInjector {
 public:
  // `targeted_rng` drives the targeted faults only, so that seeds without them draw
  // exactly what they drew before the class existed.
  FaultInjector(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng, Rng targeted_rng,
                const SwarmProfile& profile, const FaultSet& faults);

  void Start();
  // Stops injecting; heals the network, resumes paused and restarts crashed processes
  // (a node whose disk failed its checksum stays out).
  void HealAll();
  uint64_t faults_injected() const { return faults_injected_; }

 private:
  void ScheduleStep();
  // A calm: every fault is repaired and none is injected until EndCalm (SwarmProfile).
  void BeginCalm();
  void EndCalm();
  void Step();
  void Partition();
  void CrashOne();
  void OnRaftEvent(NodeIndex node, raft::GroupId group, Cluster::RaftEvent event);
  // Cuts `node` off from every other node, replacing the current partition.
  void Isolate(NodeIndex node, const char* why);
  // One membership step in a random group: removes a voter when every replica votes,
  // else moves a missing replica one step back (learner, then voter). With `restore`,
  // only the steps back, in every group; true when every replica is a voter everywhere.
  bool ChangeMembership(bool restore);
  // After the heal: a restore step every 100 ms until every replica votes again.
  void RestoreMembership();
  NodeIndex RandomNode() { return cluster_.nodes()[rng_.Uniform(cluster_.nodes().size())]; }
  NodeIndex LeaderOf(raft::GroupId group) const;
  // Whether a majority of `voters` stays healthy without `lost` and the corrupted disk's
  // node: a run may lose a node for good only where Raft can still make progress.
  bool HealthyMajorityWithout(const std::vector<raft::NodeId>& voters, NodeIndex lost) const;
  // ... for every configuration (incoming and outgoing) any running replica reports.
  bool EveryGroupSurvivesLosing(NodeIndex node) const;

  Scheduler& scheduler_;
  Trace& trace_;
  Cluster& cluster_;
  Rng rng_;
  Rng targeted_rng_;
  SwarmProfile profile_;
  FaultSet faults_;
  bool active_ = false;
  bool calm_ = false;
  NodeIndex corrupted_node_ = 0;  // whose disk bit rot hit (at most one per run)
  uint64_t partition_epoch_ = 0;  // a scheduled heal applies only to its own partition
  uint64_t faults_injected_ = 0;
  uint64_t membership_requests_ = 0;
};

}  // namespace ekv::sim
