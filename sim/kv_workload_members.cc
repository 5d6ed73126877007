// KvWorkload with --splits and the membership fault class: whole nodes leave the cluster
// and come back, through the coordinators the servers run (core/coord/coordinator_members.cc).
//
// One change at a time, every 0.3-3 s: a random node (not the one asked) is taken out of
// every group through a random node's coordinator (StartRemoveNode), while every initial
// group keeps three voters without it, a majority of them on disks that still work; later
// it is added back (StartAddNode) and promoted (StartPromoteNode), half the time as a new
// disk under its old id (Cluster::WipeAndRestart, then AddNode with readmit, as
// `ekv-server --join` asks).
//
// With --create_groups it goes as an operator's removal of a node does (README "drain"):
// the node is drained first (StartDrainNode: each created group's replica moves to another
// member), and only a drain answered OK is followed by the removal; a refused drain (some
// group has no other member to go to) takes nothing out. A node whose disk broke and that
// still replicates a created group is the one drained and removed, also after the chaos
// (an operator replacing a dead disk), so that after the heal every created group has its
// replica count on up members (CreatedReplicaViolation). A node readmitted with an emptied
// disk may then receive created replicas again from the replica mover and placement.
#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/node/group_state_machine.h"
#include "core/util/assert.h"
#include "sim/kv_workload.h"

namespace ekv::sim {
namespace {

// As the coordinators' options say.
constexpr raft::GroupId kCatalogGroup = 1;
// After the chaos: runs of the drain and removal of a node whose disk broke before it is
// left as it is (the heal's convergence time is bounded).
constexpr uint64_t kMaxMemberRunsAfterChaos = 8;

bool Refused(absl::StatusCode code) {
  return code == absl::StatusCode::kFailedPrecondition ||
         code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound;
}

}  // namespace

void KvWorkload::ScheduleMemberChange() {
  // After the chaos phase the only changes left are adding back a node taken out (the
  // removal may have finished after the fault injector restored membership) and taking
  // out a node whose disk broke that still replicates created groups.
  if (!issuing_ && !MemberChangesLeft()) return;
  const SimTime delay =
      issuing_ ? member_rng_.Range(300'000, 3'000'000) : member_rng_.Range(50'000, 200'000);
  scheduler_.After(delay, [this] {
    if (member_changer_busy_) return;
    if (!issuing_ && !MemberChangesLeft()) return;
    RunMemberChange();
  });
}

bool KvWorkload::MemberChangesLeft() const {
  if (removed_node_ != 0) return true;
  if (!create_groups_ || member_runs_after_chaos_ >= kMaxMemberRunsAfterChaos) return false;
  return draining_node_ != 0 || BrokenNodeReplicatingCreated() != 0;
}

void KvWorkload::RunMemberChange() {
  const NodeIndex via = coordinators_.RandomUpNode();
  if (via == 0) return ScheduleMemberChange();
  member_changer_busy_ = true;
  ++member_change_attempts_;
  if (!issuing_ && create_groups_ && removed_node_ == 0) ++member_runs_after_chaos_;
  auto finish = [this](bool ok) {
    if (ok) ++member_changes_done_;
    member_changer_busy_ = false;
    ScheduleMemberChange();
  };
  if (removed_node_ != 0 && cluster_.state(removed_node_) == Cluster::ProcessState::kBroken) {
    // A node whose disk rotted never comes back: an operator would not add it again.
    removed_node_ = 0;
  }
  if (draining_node_ != 0) return DrainBeforeRemoval(via, finish);
  if (removed_node_ != 0) {
    // Back in: addresses and learner everywhere, then voter everywhere. Both steps are
    // idempotent, so a failed attempt is simply tried again next time.
    const NodeIndex node = removed_node_;
    if (removal_done_ && !rejoin_empty_ && node != via &&
        cluster_.state(node) != Cluster::ProcessState::kBroken && member_rng_.Chance(0.5) &&
        !NamedInAnyConfiguration(node) && !AnyDiskBroken()) {
      // A new disk under the old id: it must get everything back from the groups' leaders.
      cluster_.WipeAndRestart(node);
      rejoin_empty_ = true;
      ++readmissions_;
      readmit_pending_groups_ = GroupsRemovedFrom(node);
    }
    const bool readmit = rejoin_empty_;
    trace_.Record({scheduler_.now(), "add_node", via, node, readmit ? 1u : 0u, 0, ""});
    coordinators_.Run(
        via,
        [node, readmit](coord::Coordinator& c) {
          node::MemberAddresses addresses;
          addresses.raft_address = absl::StrCat("sim-n", node);
          return c.StartAddNode(node, std::move(addresses), readmit);
        },
        [this, via, node, finish](std::optional<coord::OpResult> added) {
          if (!added.has_value() || !added->status.ok()) {
            if (added.has_value() &&
                absl::StrContains(added->status.message(), "holds their newest configuration")) {
              ++readmit_waits_;
            }
            trace_.Record({scheduler_.now(), "add_node-failed", via, node, 0, 0,
                           added.has_value() ? added->status.ToString() : "client timeout"});
            return finish(false);
          }
          if (rejoin_empty_ && !cluster_.JoinInitialGroups(node)) {
            // Down since: its next start has nothing to start from; it joins again.
            trace_.Record({scheduler_.now(), "join-groups-failed", via, node, 0, 0, "down"});
            return finish(false);
          }
          if (rejoin_empty_ && readmit_pending_groups_ != 0) {
            // AddNode answers OK only after a catalog read showed no group listing the
            // node as removed (Coordinator::ReadmitNode).
            readmitted_groups_ += readmit_pending_groups_;
            readmit_pending_groups_ = 0;
            readmitted_nodes_.insert(node);
          }
          coordinators_.Run(
              via, [node](coord::Coordinator& c) { return c.StartPromoteNode(node); },
              [this, via, node, finish](std::optional<coord::OpResult> promoted) {
                const bool ok = promoted.has_value() && promoted->status.ok();
                if (!ok) {
                  trace_.Record(
                      {scheduler_.now(), "promote_node-failed", via, node, 0, 0,
                       promoted.has_value() ? promoted->status.ToString() : "client timeout"});
                }
                if (ok) {
                  removed_node_ = 0;
                  removal_done_ = false;
                  rejoin_empty_ = false;
                }
                finish(ok);
              });
        });
    return;
  }
  const node::NodeHost* host = cluster_.host(via);
  const std::vector<NodeIndex>& nodes = cluster_.nodes();
  EKV_ASSERT(nodes.size() >= 2, "a membership change needs another node to change");
  NodeIndex node = via;
  if (const NodeIndex broken = BrokenNodeReplicatingCreated(); broken != 0) {
    node = broken;  // never `via`: it is up
  } else if (!issuing_ && create_groups_) {
    member_changer_busy_ = false;
    --member_change_attempts_;
    return;  // after the chaos only a broken node is taken out
  }
  while (node == via) node = nodes[member_rng_.Uniform(nodes.size())];
  // As an operator would: take a node out only while every group, as `via` sees it, keeps
  // at least three voters without it, a majority of them on nodes that can still run (not
  // one whose disk rotted). Created groups are drained first: they lose no voter.
  bool safe = host != nullptr;
  for (raft::GroupId group : safe ? host->groups() : std::vector<raft::GroupId>{}) {
    if (create_groups_ && !cluster_.IsInitialGroup(group)) continue;
    const raft::ConfState conf = host->Status(group).conf_state;
    size_t remaining = 0;
    size_t healthy = 0;
    for (raft::NodeId voter : conf.voters) {
      if (voter == node) continue;
      ++remaining;
      if (cluster_.state(voter) != Cluster::ProcessState::kBroken) ++healthy;
    }
    if (remaining < 3 || 2 * healthy <= remaining || !conf.voters_outgoing.empty()) safe = false;
  }
  if (!safe) {
    member_changer_busy_ = false;
    --member_change_attempts_;
    return ScheduleMemberChange();
  }
  if (create_groups_) {
    draining_node_ = node;
    return DrainBeforeRemoval(via, finish);
  }
  RemoveNode(via, node, finish);
}

void KvWorkload::RemoveNode(NodeIndex via, NodeIndex node, std::function<void(bool)> finish) {
  // Whatever the answer, the node may be out of some groups now: it is the one to add back.
  removed_node_ = node;
  removal_done_ = false;
  trace_.Record({scheduler_.now(), "remove_node", via, node, 0, 0, ""});
  coordinators_.Run(
      via, [node](coord::Coordinator& c) { return c.StartRemoveNode(node); },
      [this, node, finish](std::optional<coord::OpResult> removed) {
        const bool ok = removed.has_value() && removed->status.ok();
        if (ok && removed_node_ == node) removal_done_ = true;
        finish(ok);
      });
}

void KvWorkload::DrainBeforeRemoval(NodeIndex via, std::function<void(bool)> finish) {
  const NodeIndex node = draining_node_;
  EKV_ASSERT(node != 0, "no node to drain");
  // Short runs, as the replica mover's: a drain whose move waits on a node that went down
  // is run again (it finishes the move an earlier run left, coordinator.h StartDrainNode).
  const SimTime budget = 4 * profile_.client_timeout_us;
  trace_.Record({scheduler_.now(), "member-drain", via, node, 0, 0, ""});
  if (cluster_.state(node) == Cluster::ProcessState::kBroken) broken_drains_started_.insert(node);
  coordinators_.Run(
      via, [node, budget](coord::Coordinator& c) { return c.StartDrainNode(node, budget); },
      [this, via, node, finish](std::optional<coord::OpResult> drained) {
        const absl::StatusCode code =
            drained.has_value() ? drained->status.code() : absl::StatusCode::kUnavailable;
        trace_.Record({scheduler_.now(), "member-drain-done", via, node,
                       static_cast<uint64_t>(code),
                       drained.has_value() ? drained->groups.size() : 0,
                       drained.has_value() ? std::string(drained->status.message()) : "no answer"});
        if (code == absl::StatusCode::kOk) {
          if (!drained->groups.empty()) ++member_drains_;
          // As a careful operator checks the groups before removing: a group created on
          // the node while it drained (placement favours the emptiest node) is drained
          // too. RemoveNode itself would take the node out of it and leave one replica
          // fewer (StartRemoveNode: min_replicas 1).
          if (CreatedGroupsReplicatedBy(node) != 0) return finish(false);
          draining_node_ = 0;
          return RemoveNode(via, node, finish);
        }
        if (Refused(code) ||
            (!issuing_ && cluster_.state(node) != Cluster::ProcessState::kBroken)) {
          // Nothing was taken out of the cluster: the node stays a member with whatever
          // replicas the drain did not move.
          if (Refused(code)) {
            ++member_drains_refused_;
            if (cluster_.state(node) == Cluster::ProcessState::kBroken)
              broken_drain_refused_ = true;
          }
          draining_node_ = 0;
        }
        finish(false);
      },
      budget + 2 * profile_.client_timeout_us);
}

bool KvWorkload::AnyDiskBroken() const {
  for (NodeIndex node : cluster_.nodes()) {
    if (cluster_.state(node) == Cluster::ProcessState::kBroken) return true;
  }
  return false;
}

bool KvWorkload::NamedInAnyConfiguration(NodeIndex node) const {
  // Every other replica's applied configuration, and nothing in flight at a leader (a change
  // still in its log, the fault injector's re-add among them, may name it).
  for (raft::GroupId group : cluster_.group_ids()) {
    for (NodeIndex replica : cluster_.replicas(group)) {
      if (replica == node) continue;
      const node::NodeHost* host = cluster_.host(replica);
      // A crashed replica comes back with the configuration on its disk, which may still
      // list the node as a voter (it went down before applying the removal) and count the
      // emptied node's vote, which forgot the entries it acknowledged: AddNode(readmit)
      // waits until every member holds the newest configuration before the node hosts
      // anything (Coordinator::AwaitConfigurationsAcknowledged; seed 9408 without it: n2
      // and n5 down with the old configuration when n3 was wiped, n5 won group 3 with n3's
      // vote and overwrote the committed removal at index 10). An operator cannot see a
      // down node's disk either, so the wipe does not wait for it.
      if (host == nullptr) continue;
      const node::GroupStatus status = host->Status(group);
      const raft::ConfState& conf = status.conf_state;
      for (const auto* ids :
           {&conf.voters, &conf.voters_outgoing, &conf.learners, &conf.learners_next}) {
        if (std::find(ids->begin(), ids->end(), node) != ids->end()) return true;
      }
      if (status.state == raft::StateType::kLeader && status.applied < status.last_index) {
        return true;
      }
    }
  }
  return false;
}

const node::GroupStateMachine* KvWorkload::UpCatalogReplica(NodeIndex node) const {
  const node::NodeHost* host = cluster_.host(node);
  if (host == nullptr || cluster_.state(node) != Cluster::ProcessState::kUp) return nullptr;
  const std::vector<raft::GroupId> hosted = host->groups();
  if (std::find(hosted.begin(), hosted.end(), kCatalogGroup) == hosted.end()) return nullptr;
  const auto* machine =
      dynamic_cast<const node::GroupStateMachine*>(&host->state_machine(kCatalogGroup));
  if (machine == nullptr || !machine->catalog().has_value()) return nullptr;
  return machine;
}

const node::GroupStateMachine* KvWorkload::NewestCatalogReplica() const {
  const node::GroupStateMachine* newest = nullptr;
  for (NodeIndex node : cluster_.nodes()) {
    const node::GroupStateMachine* machine = UpCatalogReplica(node);
    if (machine == nullptr) continue;
    if (newest == nullptr || machine->catalog()->version() > newest->catalog()->version()) {
      newest = machine;
    }
  }
  return newest;
}

size_t KvWorkload::GroupsRemovedFrom(NodeIndex node) const {
  const node::GroupStateMachine* machine = NewestCatalogReplica();
  if (machine == nullptr) return 0;
  size_t groups = 0;
  for (const auto& [id, group] : machine->catalog()->groups()) {
    if (group.WasRemoved(node)) ++groups;
  }
  return groups;
}

size_t KvWorkload::CreatedGroupsReplicatedBy(NodeIndex node) const {
  const node::GroupStateMachine* machine = NewestCatalogReplica();
  if (machine == nullptr) return 0;
  size_t groups = 0;
  for (const auto& [id, group] : machine->catalog()->groups()) {
    if (group.IsReplica(node)) ++groups;
  }
  return groups;
}

NodeIndex KvWorkload::BrokenNodeReplicatingCreated() const {
  if (!create_groups_ || !member_changes_) return 0;
  const node::GroupStateMachine* machine = NewestCatalogReplica();
  if (machine == nullptr) return 0;
  for (NodeIndex node : cluster_.nodes()) {
    if (cluster_.state(node) != Cluster::ProcessState::kBroken) continue;
    for (const auto& [id, group] : machine->catalog()->groups()) {
      if (group.IsReplica(node)) return node;
    }
  }
  return 0;
}

std::set<NodeIndex> KvWorkload::MembersOf(const node::GroupStateMachine& catalog_replica) const {
  // The cluster's members as the coordinators count them (Coordinator::MemberSet): the
  // directory's, and the catalog group's voters.
  std::set<NodeIndex> members;
  for (const auto& [id, addresses] : catalog_replica.members()) members.insert(id);
  for (NodeIndex node : cluster_.nodes()) {
    const node::NodeHost* host = cluster_.host(node);
    if (host == nullptr || cluster_.state(node) != Cluster::ProcessState::kUp) continue;
    if (!host->Hosts(kCatalogGroup)) continue;  // emptied, waiting for its AddNode
    const node::GroupStatus status = host->Status(kCatalogGroup);
    if (status.state != raft::StateType::kLeader) continue;
    members.insert(status.conf_state.voters.begin(), status.conf_state.voters.end());
  }
  return members;
}

std::string KvWorkload::CreatedReplicaViolation() const {
  if (!create_groups_) return "";
  const node::GroupStateMachine* machine = NewestCatalogReplica();
  if (machine == nullptr) return "no up node has a catalog replica to judge created groups by";
  const route::RouteCatalog& catalog = *machine->catalog();
  const std::set<NodeIndex> members = MembersOf(*machine);
  std::vector<std::string> violations;
  for (const auto& [id, group] : catalog.groups()) {
    // The group's configuration as its leader applied it (the heal converged: one leader).
    std::vector<raft::NodeId> voters;
    for (NodeIndex node : group.Replicas()) {
      const node::NodeHost* host = cluster_.host(node);
      if (host == nullptr || cluster_.state(node) != Cluster::ProcessState::kUp) continue;
      const std::vector<raft::GroupId> hosted = host->groups();
      if (std::find(hosted.begin(), hosted.end(), id) == hosted.end()) continue;
      const node::GroupStatus status = host->Status(id);
      if (status.state == raft::StateType::kLeader) voters = status.conf_state.voters;
    }
    // A replica on a node whose disk broke counts when no operator drained it: the
    // workload removes no nodes, or that node's drain was refused, or would be: every
    // other member hosts the group or was moved off it (Coordinator::PlanReplicasOff finds
    // no target), or the member changer never began to drain it. The last two are judged
    // here, not left to a refusal the changer saw: it drains one node at a time, within a
    // bounded number of runs after the chaos, and may spend them on another node's drain
    // (append seed 53: group 6 on n2, n3 (broken), n5, removed from n1 and n4, while the
    // changer was still draining n2; seed 165: n4 broke before group 7 was created on it,
    // and the changer's runs went to n3's drain). Nothing in the cluster knows a disk is
    // dead until an operator acts on it.
    bool drain_has_target = false;
    for (NodeIndex member : members) {
      if (!group.IsReplica(member) && !group.WasRemoved(member)) drain_has_target = true;
    }
    size_t serving = 0;
    size_t excused = 0;
    for (NodeIndex node : group.Replicas()) {
      if (cluster_.state(node) == Cluster::ProcessState::kBroken &&
          (!member_changes_ || broken_drain_refused_ || !drain_has_target ||
           broken_drains_started_.count(node) == 0)) {
        ++excused;
        continue;
      }
      const node::NodeHost* host = cluster_.host(node);
      if (host == nullptr || cluster_.state(node) != Cluster::ProcessState::kUp) continue;
      const std::vector<raft::GroupId> hosted = host->groups();
      if (members.count(node) != 0 && std::find(hosted.begin(), hosted.end(), id) != hosted.end() &&
          std::find(voters.begin(), voters.end(), node) != voters.end()) {
        ++serving;
      }
    }
    if (serving + excused < group.voters.size()) {
      violations.push_back(absl::StrCat(
          "group ", id, " (created on ", group.voters.size(), " nodes) has ", serving,
          " replicas hosted and voting on up members (", excused,
          " on a broken disk no drain could empty): catalog v", catalog.version(), " replicas ",
          absl::StrJoin(group.Replicas(), ","), " removed ", absl::StrJoin(group.removed, ","),
          " readmitted ", absl::StrJoin(group.readmitted, ","), "; leader's voters ",
          absl::StrJoin(voters, ","), "; members ", absl::StrJoin(members, ",")));
    }
  }
  // No up node hosts a created group the catalog does not name it a replica of (the
  // retired ones are RetiredGroupViolation's).
  for (NodeIndex node : cluster_.nodes()) {
    const node::NodeHost* host = cluster_.host(node);
    if (host == nullptr || cluster_.state(node) != Cluster::ProcessState::kUp) continue;
    for (raft::GroupId id : host->groups()) {
      const route::GroupDescriptor* group = catalog.FindGroup(id);
      if (group != nullptr && !group->IsReplica(node)) {
        violations.push_back(absl::StrCat(
            "n", node, " hosts created group ", id, ", whose replicas are ",
            absl::StrJoin(group->Replicas(), ","), " (catalog v", catalog.version(), ")"));
      }
    }
  }
  return absl::StrJoin(violations, "\n");
}

size_t KvWorkload::ReadmittedNodesHostingCreated() const {
  size_t hosting = 0;
  for (NodeIndex node : readmitted_nodes_) {
    const node::NodeHost* host = cluster_.host(node);
    if (host == nullptr) continue;
    for (raft::GroupId id : host->groups()) {
      if (!cluster_.IsInitialGroup(id)) {
        ++hosting;
        break;
      }
    }
  }
  return hosting;
}

}  // namespace ekv::sim
