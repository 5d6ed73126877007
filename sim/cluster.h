// The simulated cluster: N processes, each a NodeHost over a SimDisk, wired through the
// simulated Network, driven by the Scheduler.
//
// This is the simulator's driver for core/node: it carries out the effects a NodeHost
// returns. Persist requests become checksummed records on the node's SimDisk; requests
// that need an fsync complete after a simulated fsync latency (one fsync covers every
// batch written before it: group commit), and only then is NodeHost::OnPersisted called.
// A crash drops the process and the disk's unsynced bytes; a restart rebuilds every
// group's MemoryStorage from the synced records.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/kv/engine.h"
#include "core/kv/memory_engine.h"
#include "core/node/command.h"
#include "core/node/hosted_groups.h"
#include "core/node/node_host.h"
#include "core/util/rng.h"
#include "sim/disk.h"
#include "sim/network.h"
#include "sim/raft_safety.h"
#include "sim/scheduler.h"
#include "sim/swarm.h"
#include "sim/trace.h"

namespace ekv::sim {

struct ClusterConfig {
  int nodes = 5;
  int groups = 3;
  SwarmProfile profile;
  raft::PlantedBugs planted_raft;
  bool forget_vote_on_restart = false;  // planted bug lose_vote_on_restart
  // State machines keep their state in a SimDurableEngine (sim_engine.h) that survives
  // restarts the way RocksDB does, instead of being rebuilt from the Raft log.
  bool durable_state_machines = false;
  node::PlantedOracleBugs planted_oracle;
  bool planted_stale_conf_snapshot = false;
  node::PlantedHostedGroupsBugs planted_hosted_groups;
};

class Cluster {
 public:
  enum class ProcessState { kUp, kDown, kPaused, kBroken };
  // Called for each client reply a node produces, at the time it is produced.
  using ReplyHandler = std::function<void(NodeIndex, const node::ClientReply&)>;
  // Raft moments the targeted faults (FaultInjector, fault class `isolate`) act on. They
  // are seen right after the node produced the effects of the step that caused them, so
  // a fault injected from the handler still catches those messages in flight.
  enum class RaftEvent {
    kBecameLeader,     // the node just won an election (its empty entry is not yet out)
    kLeaderAppended,   // a leader appended a proposal to its log
    kLeaderCommitted,  // a leader advanced its commit index
  };
  using RaftEventHandler = std::function<void(NodeIndex, raft::GroupId, RaftEvent)>;

  Cluster(Scheduler& scheduler, Trace& trace, Rng rng, const ClusterConfig& config,
          RaftSafetyChecker& safety);
  ~Cluster();

  // Bootstraps every group on its replicas' disks and starts all processes.
  void Start();
  void SetReplyHandler(ReplyHandler handler) { reply_handler_ = std::move(handler); }
  void SetRaftEventHandler(RaftEventHandler handler) { raft_event_handler_ = std::move(handler); }
  // The state machine every group replica starts with (and restarts with); default: the
  // register MapStateMachine.
  // `engine`: the group's durable engine with durable_state_machines, else null.
  // `node`: whose replica it is (its catalog replica reports created groups for it).
  using StateMachineFactory = std::function<std::unique_ptr<node::StateMachine>(
      NodeIndex node, raft::GroupId, std::unique_ptr<kv::Engine> engine)>;
  void SetStateMachineFactory(StateMachineFactory factory) { factory_ = std::move(factory); }

  // Groups created at run time (route::CreateGroup): `node`'s catalog replica applied a
  // catalog listing `created`. After the round the node hosts or drops groups to match
  // (node/hosted_groups.h), as the server's loop does: a voter of a new group writes its
  // bootstrap record durably and starts the replica.
  // `version`: that catalog's version (the newest one seen decides RemovedFrom).
  void OnCreatedGroups(NodeIndex node, node::CreatedGroups created, route::CatalogVersion version);

  // Delivers a client request to `node` now (the workload models client latency).
  void SubmitClientRequest(NodeIndex node, const node::ClientRequest& request);

  // Faults.
  void Crash(NodeIndex node, const char* why);
  void Restart(NodeIndex node);
  void Pause(NodeIndex node);
  void Resume(NodeIndex node);
  void SetClockRate(NodeIndex node, double rate);
  // Flips a bit of synced data on `node`'s disk (it must be down); restart must refuse.
  void CorruptDisk(NodeIndex node);
  // `node`'s process dies, its data dir is emptied and it starts again under the same id,
  // as `ekv-server --join` on an empty data dir: hosting nothing until its AddNode is
  // answered (JoinInitialGroups), then every initial group it hosted starts empty (a
  // bootstrap record without voters) and waits for a leader; a created group only once
  // its catalog replica names it a replica again. Only for a node no up replica's
  // configuration names any more (taken out of the cluster): an emptied voter would have
  // forgotten its votes and its log.
  void WipeAndRestart(NodeIndex node);
  // A node emptied by WipeAndRestart whose AddNode was answered starts its initial groups
  // empty now. False when it is not up (it stays waiting: the workload adds it again).
  bool JoinInitialGroups(NodeIndex node);
  // Some node emptied by WipeAndRestart has not started its groups yet.
  bool JoinPending() const;
  void TransferLeadership(raft::GroupId group, NodeIndex transferee);
  void SetWriteErrorProbability(double p);
  // Targeted crashes (SwarmProfile::p_crash_after_vote, p_crash_mid_fsync) on or off.
  void SetTargetedCrashes(bool on) { targeted_crashes_ = on; }
  Network& network() { return network_; }

  // Introspection.
  const std::vector<NodeIndex>& nodes() const { return node_ids_; }
  const std::vector<NodeIndex>& replicas(raft::GroupId group) const;
  // The groups to judge and to aim faults and moves at: not a created group some node's
  // catalog shows retired (route::RouteCatalog::IsRetired), which replicas() may still
  // list on a node that hosted it and has not run since (a disk that refuses to start):
  // no leader is owed for it, and its replicas stop as they apply the catalog.
  std::vector<raft::GroupId> group_ids() const;
  // Some node's catalog recorded `node` as removed from created group `group` (a replica
  // move or a drain): it stops hosting the group as its own catalog replica catches up,
  // and no configuration change may bring it back as a voter meanwhile.
  // As the newest catalog seen says: a readmitted node is no longer removed.
  bool RemovedFrom(raft::GroupId group, NodeIndex node) const;
  // One of the groups the cluster started with (1..groups), which every member hosts; the
  // others were created at run time (route::CreateGroup).
  bool IsInitialGroup(raft::GroupId group) const {
    return group >= 1 && group <= static_cast<raft::GroupId>(config_.groups);
  }
  ProcessState state(NodeIndex node) const;
  const node::NodeHost* host(NodeIndex node) const;  // null unless up or paused
  uint64_t restarts() const { return restarts_; }
  uint64_t elections_won() const { return elections_won_; }
  uint64_t snapshots_sent() const { return snapshots_sent_; }
  // Changes at every crash and restart of `node`'s process.
  uint64_t incarnation(NodeIndex node) const;
  // Runs `action` for `node` now, or when it resumes if it is paused; drops it if the
  // process incarnation changed or it is down. What runs "inside" a node's process
  // (its coordinator, sim_coordinators.h) goes through here.
  void RunOnProcess(NodeIndex node, uint64_t incarnation, std::function<void()> action);
  // Called at every crash of a node's process, after it died.
  void SetCrashHandler(std::function<void(NodeIndex)> handler) {
    crash_handler_ = std::move(handler);
  }
  uint64_t crashes() const { return crashes_; }
  uint64_t messages_sent() const { return messages_sent_; }
  // `node`'s wall clock (ms): true time plus a per-node offset within the seed's clock
  // skew bound, running at the node's clock rate (the same drift its ticks have).
  uint64_t WallClockMs(NodeIndex node) const;
  // Simulated wall clock at simulated time zero (HLC physical milliseconds).
  static constexpr uint64_t kEpochMs = 1'000'000;

 private:
  struct Process;

  Process& process(NodeIndex node);
  void ScheduleTick(NodeIndex node);
  // Takes and carries out `node`'s effects until there are none left.
  void Pump(NodeIndex node);
  void Deliver(NodeIndex from, NodeIndex to, const std::vector<raft::Message>& messages);
  void CompleteSync(NodeIndex node, uint64_t incarnation,
                    std::vector<std::pair<raft::GroupId, uint64_t>> persisted, bool has_vote);
  void CrashAndRestartSoon(NodeIndex node, const char* why);
  // Snapshots by reference leaving `node`: stage a copy of its group's records and name
  // it in the message (the simulated out-of-band stream).
  void StageSnapshots(NodeIndex node, std::vector<raft::Message>& messages);
  // Compares `node`'s groups with what was last seen and reports RaftEvents.
  void DetectRaftEvents(NodeIndex node);
  // Carries out `node`'s pending OnCreatedGroups; true if it changed what the node hosts.
  bool ReconcileCreatedGroups(NodeIndex node);
  // The state machine of `group` on `node` (its durable engine when configured).
  std::unique_ptr<node::StateMachine> MakeStateMachine(NodeIndex node, raft::GroupId group);

  Scheduler& scheduler_;
  Trace& trace_;
  Rng rng_;
  ClusterConfig config_;
  RaftSafetyChecker& safety_;
  Network network_;
  std::vector<NodeIndex> node_ids_;
  std::map<raft::GroupId, std::vector<NodeIndex>> replicas_;  // live groups, for restarts
  std::set<raft::GroupId> retired_groups_;
  // Removals of the newest catalog any node applied (removed_from_version_).
  std::map<raft::GroupId, std::set<NodeIndex>> removed_from_;
  route::CatalogVersion removed_from_version_ = 0;
  std::map<NodeIndex, std::unique_ptr<Process>> processes_;
  ReplyHandler reply_handler_;
  RaftEventHandler raft_event_handler_;
  StateMachineFactory factory_;
  // Snapshot streams in flight or delivered, by staged ref (never removed: like files a
  // follower may still have to ingest after a crash).
  std::map<std::string, std::unique_ptr<kv::MemoryEngine>> staged_snapshots_;
  struct SeenStatus {
    raft::Term term = 0;
    bool leader = false;
    raft::Index last_index = 0;
    raft::Index commit = 0;
  };
  std::map<std::pair<NodeIndex, raft::GroupId>, SeenStatus> seen_;
  std::vector<raft::GroupId> group_ids_buffer_;  // DetectRaftEvents' between calls
  bool targeted_crashes_ = false;
  uint64_t restarts_ = 0;
  uint64_t elections_won_ = 0;
  uint64_t snapshots_sent_ = 0;
  std::function<void(NodeIndex)> crash_handler_;
  uint64_t crashes_ = 0;
  uint64_t messages_sent_ = 0;
};

const char* ProcessStateName(Cluster::ProcessState state);

}  // namespace ekv::sim
