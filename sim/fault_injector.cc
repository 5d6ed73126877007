#include "sim/fault_injector.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/raft/confchange.h"

namespace ekv::sim {

FaultInjector::FaultInjector(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
                             Rng targeted_rng, const SwarmProfile& profile, const FaultSet& faults)
    : scheduler_(scheduler),
      trace_(trace),
      cluster_(cluster),
      rng_(rng),
      targeted_rng_(targeted_rng),
      profile_(profile),
      faults_(faults) {}

void FaultInjector::Start() {
  active_ = true;
  cluster_.SetTargetedCrashes(true);
  cluster_.SetWriteErrorProbability(profile_.write_error_probability);
  if (faults_.isolate) {
    cluster_.SetRaftEventHandler(
        [this](NodeIndex node, raft::GroupId group, Cluster::RaftEvent event) {
          OnRaftEvent(node, group, event);
        });
  }
  if (faults_.clock) {
    for (NodeIndex node : cluster_.nodes()) {
      cluster_.SetClockRate(node, 1.0 + (rng_.NextDouble() * 2 - 1) * profile_.clock_skew_bound);
    }
  }
  ScheduleStep();
  if (profile_.calm_us > 0) scheduler_.After(profile_.storm_us, [this] { BeginCalm(); });
}

void FaultInjector::BeginCalm() {
  if (!active_) return;
  calm_ = true;
  cluster_.SetTargetedCrashes(false);
  ++partition_epoch_;
  cluster_.network().Heal();
  cluster_.network().Unclog();
  trace_.Record({scheduler_.now(), "calm", 0, 0, 0, 0, ""});
  for (NodeIndex node : cluster_.nodes()) {
    cluster_.Resume(node);
    cluster_.Restart(node);
  }
  scheduler_.After(profile_.calm_us, [this] { EndCalm(); });
}

void FaultInjector::EndCalm() {
  if (!active_) return;
  calm_ = false;
  cluster_.SetTargetedCrashes(true);
  trace_.Record({scheduler_.now(), "storm", 0, 0, 0, 0, ""});
  scheduler_.After(profile_.storm_us, [this] { BeginCalm(); });
}

void FaultInjector::ScheduleStep() {
  const SimTime interval = profile_.fault_interval_us;
  scheduler_.After(rng_.Range(interval / 2, interval + interval / 2), [this] { Step(); });
}

NodeIndex FaultInjector::LeaderOf(raft::GroupId group) const {
  for (NodeIndex node : cluster_.replicas(group)) {
    const node::NodeHost* host = cluster_.host(node);
    if (host != nullptr && host->Summary(group).state == raft::StateType::kLeader) return node;
  }
  return 0;
}

void FaultInjector::Step() {
  if (!active_) return;
  if (calm_) {
    ScheduleStep();
    return;
  }
  const double weights[] = {
      profile_.p_partition, profile_.p_crash,           profile_.p_pause,      profile_.p_clock,
      profile_.p_clog,      profile_.p_transfer_leader, profile_.p_membership, 0.3 /* nothing */};
  double total = 0;
  for (double w : weights) total += w;
  double dice = rng_.NextDouble() * total;
  int choice = 0;
  for (; choice < 7 && dice >= weights[choice]; ++choice) dice -= weights[choice];
  ++faults_injected_;
  switch (choice) {
    case 0:
      Partition();
      break;
    case 1:
      CrashOne();
      break;
    case 2: {
      const NodeIndex node = RandomNode();
      cluster_.Pause(node);
      scheduler_.After(rng_.Range(50'000, 2'000'000), [this, node] { cluster_.Resume(node); });
      break;
    }
    case 3: {
      const NodeIndex node = RandomNode();
      cluster_.SetClockRate(node, 1.0 + (rng_.NextDouble() * 2 - 1) * profile_.clock_skew_bound);
      break;
    }
    case 4: {
      const NodeIndex node = RandomNode();
      const SimTime until = scheduler_.now() + rng_.Range(50'000, 1'000'000);
      cluster_.network().Clog(node, until);
      trace_.Record({scheduler_.now(), "clog", node, until, 0, 0, ""});
      break;
    }
    case 5: {
      const std::vector<raft::GroupId> groups = cluster_.group_ids();
      const raft::GroupId group = groups[rng_.Uniform(groups.size())];
      const std::vector<NodeIndex>& replicas = cluster_.replicas(group);
      cluster_.TransferLeadership(group, replicas[rng_.Uniform(replicas.size())]);
      break;
    }
    case 6:
      ChangeMembership(/*restore=*/false);
      break;
    default:
      --faults_injected_;
      break;
  }
  ScheduleStep();
}

void FaultInjector::Partition() {
  Network& network = cluster_.network();
  const std::vector<NodeIndex>& nodes = cluster_.nodes();
  const uint64_t kind = rng_.Uniform(5);
  std::set<NodeIndex> side;
  switch (kind) {
    case 0: {  // a random minority against the majority
      const size_t size = 1 + rng_.Uniform(std::max<size_t>(nodes.size() / 2, 1));
      while (side.size() < size) side.insert(RandomNode());
      network.Split(side);
      break;
    }
    case 1: {  // isolate the leader of a group
      const std::vector<raft::GroupId> groups = cluster_.group_ids();
      const NodeIndex leader = LeaderOf(groups[rng_.Uniform(groups.size())]);
      side.insert(leader != 0 ? leader : RandomNode());
      network.Split(side);
      break;
    }
    case 2: {  // asymmetric: one direction of one link
      const NodeIndex from = RandomNode();
      NodeIndex to = RandomNode();
      if (to == from) to = nodes[(from) % nodes.size()];
      network.CutOneWay(from, to);
      break;
    }
    case 3: {  // a bridge node sees both halves, which cannot see each other
      const NodeIndex bridge = RandomNode();
      for (NodeIndex node : nodes) {
        if (node != bridge && rng_.Chance(0.5)) side.insert(node);
      }
      network.Bridge(side, bridge);
      break;
    }
    default:
      network.Heal();
      break;
  }
  const uint64_t epoch = ++partition_epoch_;
  trace_.Record({scheduler_.now(), "partition", 0, kind, epoch, 0, network.DescribeCuts()});
  scheduler_.After(rng_.Range(100'000, 3'000'000), [this, epoch] {
    if (epoch != partition_epoch_ || !active_) return;
    cluster_.network().Heal();
    trace_.Record({scheduler_.now(), "partition-heal", 0, epoch, 0, 0, ""});
  });
}

void FaultInjector::OnRaftEvent(NodeIndex node, raft::GroupId group, Cluster::RaftEvent event) {
  if (!active_ || calm_) return;
  double p = 0;
  const char* why = "";
  switch (event) {
    case Cluster::RaftEvent::kBecameLeader:
      p = profile_.p_isolate_new_leader;
      why = "isolate-new-leader";
      break;
    case Cluster::RaftEvent::kLeaderAppended:
      p = profile_.p_isolate_after_append;
      why = "isolate-after-append";
      break;
    case Cluster::RaftEvent::kLeaderCommitted:
      p = profile_.p_isolate_after_commit;
      why = "isolate-after-commit";
      break;
  }
  if (p <= 0 || !targeted_rng_.Chance(p)) return;
  trace_.Record({scheduler_.now(), "targeted", node, group, static_cast<uint64_t>(event), 0, why});
  Isolate(node, why);
}

void FaultInjector::Isolate(NodeIndex node, const char* why) {
  Network& network = cluster_.network();
  network.Split({node});
  ++faults_injected_;
  const uint64_t epoch = ++partition_epoch_;
  trace_.Record({scheduler_.now(), "partition", node, 9, epoch, 0, why});
  // Long enough for the rest to elect a leader (several election timeouts).
  const SimTime election_us = profile_.tick_us * profile_.election_tick;
  scheduler_.After(targeted_rng_.Range(2 * election_us, 10 * election_us), [this, epoch] {
    if (epoch != partition_epoch_ || !active_) return;
    cluster_.network().Heal();
    trace_.Record({scheduler_.now(), "partition-heal", 0, epoch, 0, 0, ""});
  });
}

void FaultInjector::CrashOne() {
  const NodeIndex node = RandomNode();
  if (cluster_.state(node) == Cluster::ProcessState::kDown ||
      cluster_.state(node) == Cluster::ProcessState::kBroken) {
    return;
  }
  cluster_.Crash(node, "fault");
  // Bit rot on at most one disk per run, and only where the others keep a majority of
  // every group (membership faults may have shrunk a group to two voters). Not while an
  // emptied node waits to join: its AddNode waits for every member, and a dead one holds
  // it until an operator removes it, which the workload does not model.
  if (profile_.corrupt_one_disk && corrupted_node_ == 0 && cluster_.nodes().size() >= 3 &&
      rng_.Chance(0.3) && !cluster_.JoinPending() && EveryGroupSurvivesLosing(node)) {
    corrupted_node_ = node;
    cluster_.CorruptDisk(node);
  }
  scheduler_.After(rng_.Range(50'000, 3'000'000), [this, node] {
    if (active_) cluster_.Restart(node);
  });
}

void FaultInjector::HealAll() {
  active_ = false;
  cluster_.SetTargetedCrashes(false);
  cluster_.SetRaftEventHandler(nullptr);
  ++partition_epoch_;
  Network& network = cluster_.network();
  network.Heal();
  network.Unclog();
  LinkProfile calm = profile_.link;
  calm.drop_probability = 0;
  calm.duplicate_probability = 0;
  calm.reorder_probability = 0;
  network.SetDefaultProfile(calm);
  cluster_.SetWriteErrorProbability(0);
  trace_.Record({scheduler_.now(), "heal", 0, 0, 0, 0, ""});
  for (NodeIndex node : cluster_.nodes()) {
    cluster_.Resume(node);
    cluster_.Restart(node);
  }
  if (faults_.membership) RestoreMembership();
}

bool FaultInjector::ChangeMembership(bool restore) {
  bool complete = true;
  std::vector<raft::GroupId> groups = cluster_.group_ids();
  if (!restore) groups = {groups[rng_.Uniform(groups.size())]};
  for (raft::GroupId group : groups) {
    const NodeIndex leader = LeaderOf(group);
    if (leader == 0) {
      complete = false;
      continue;
    }
    const node::GroupStatus status = cluster_.host(leader)->Status(group);
    const raft::ConfState& conf = status.conf_state;
    // A change still in the leader's log (a removal proposed just before the heal) is not
    // in `conf` yet: restoring is complete only once nothing is in flight.
    if (status.applied < status.last_index) complete = false;
    const std::vector<NodeIndex>& replicas = cluster_.replicas(group);
    auto has = [](const std::vector<raft::NodeId>& ids, NodeIndex node) {
      return std::find(ids.begin(), ids.end(), node) != ids.end();
    };
    raft::ConfChangeSingle change;
    if (!conf.voters_outgoing.empty()) {
      complete = false;
      continue;  // joint: the leader leaves it by itself
    }
    // Not one a catalog removed from the group that still hosts it for a moment (its
    // catalog replica behind): made a voter again, it stops hosting as it catches up and
    // leaves a voter that never answers (bank seed 134 of --create_groups --replica_moves:
    // the heal's restore re-added n2 to group 7 0.02 s before n2 dropped it; with n3's disk
    // broken, group 7 had no quorum).
    // Nor one whose disk broke: it never starts again, so an operator would not add it
    // back, and the leader refuses to make it a voter (it never answers) while the group's
    // other missing replicas wait behind it (dynamo seed 3342: n1's disk broke and group 3,
    // shrunk to {5}, was restored with n1 first: {1,5} had no quorum).
    const auto missing = std::find_if(replicas.begin(), replicas.end(), [&](NodeIndex node) {
      return !has(conf.voters, node) && !cluster_.RemovedFrom(group, node) &&
             cluster_.state(node) != Cluster::ProcessState::kBroken;
    });
    if (missing != replicas.end()) {
      complete = false;
      change = {has(conf.learners, *missing) ? raft::ConfChangeType::kAddVoter
                                             : raft::ConfChangeType::kAddLearner,
                *missing};
    } else if (!restore && conf.voters.size() >= 3) {
      // Any voter, the leader included: a removed leader must step down. Not one whose
      // removal leaves a node that cannot come back (a corrupted disk) holding the balance.
      const NodeIndex removed = replicas[rng_.Uniform(replicas.size())];
      std::vector<raft::NodeId> remaining;
      for (raft::NodeId voter : conf.voters) {
        if (voter != removed) remaining.push_back(voter);
      }
      if (!HealthyMajorityWithout(remaining, 0)) continue;
      // Nor one that leaves a majority of voters that do not host the group (a replica
      // move's target rolled back after a restore made it a voter: it stops hosting once
      // the catalog removes it, and only a move of that group takes it out again).
      const size_t hosting = static_cast<size_t>(
          std::count_if(remaining.begin(), remaining.end(),
                        [&](raft::NodeId voter) { return has(replicas, voter); }));
      if (2 * hosting <= remaining.size()) continue;
      change = {raft::ConfChangeType::kRemoveVoter, removed};
    } else {
      continue;
    }
    raft::ConfChange conf_change;
    conf_change.changes.push_back(change);
    node::ClientRequest request;
    // Far above any workload's ids: nobody waits for these replies; the next step reads
    // the configuration instead.
    request.request_id = (uint64_t{1} << 62) + ++membership_requests_;
    request.group = group;
    request.kind = node::OpKind::kConfChange;
    request.value = raft::EncodeConfChange(conf_change);
    trace_.Record({scheduler_.now(), "membership", leader, change.node,
                   static_cast<uint64_t>(change.type), group, ""});
    cluster_.SubmitClientRequest(leader, request);
  }
  return complete;
}

bool FaultInjector::HealthyMajorityWithout(const std::vector<raft::NodeId>& voters,
                                           NodeIndex lost) const {
  if (voters.empty()) return true;
  size_t healthy = 0;
  for (raft::NodeId voter : voters) {
    if (voter != lost && voter != corrupted_node_) ++healthy;
  }
  return 2 * healthy > voters.size();
}

bool FaultInjector::EveryGroupSurvivesLosing(NodeIndex node) const {
  for (raft::GroupId group : cluster_.group_ids()) {
    for (NodeIndex replica : cluster_.replicas(group)) {
      const node::NodeHost* host = cluster_.host(replica);
      if (host == nullptr || cluster_.state(replica) != Cluster::ProcessState::kUp) continue;
      const raft::ConfState conf = host->Status(group).conf_state;
      if (!HealthyMajorityWithout(conf.voters, node) ||
          !HealthyMajorityWithout(conf.voters_outgoing, node)) {
        return false;
      }
    }
  }
  return true;
}

void FaultInjector::RestoreMembership() {
  if (ChangeMembership(/*restore=*/true)) return;
  scheduler_.After(100'000, [this] { RestoreMembership(); });
}

}  // namespace ekv::sim
