// Coordinator's membership operations (coordinator.h, "Membership"): the core coordinator
// (core/coord/coordinator_members.cc) drives them; this file waits for their answers and
// describes the node's view of the groups.
#include <set>

#include "runtime/server/coordinator.h"

namespace ekv::runtime {
namespace {

absl::StatusOr<node::MemberDirectory> MembersOf(coord::OpResult reply) {
  if (!reply.status.ok()) return reply.status;
  if (!reply.members.has_value()) return absl::InternalError("membership answer without members");
  return std::move(*reply.members);
}

}  // namespace

absl::StatusOr<node::MemberDirectory> Coordinator::ReadMembers() {
  return MembersOf(Wait([](coord::Coordinator& c) { return c.StartReadMembers(); }));
}

absl::Status Coordinator::AdvertiseSelf(const node::MemberAddresses& self) {
  return Wait([self](coord::Coordinator& c) { return c.StartAdvertiseSelf(self); }).status;
}

absl::Status Coordinator::AddNode(raft::NodeId node, const node::MemberAddresses& addresses,
                                  bool readmit) {
  return Wait([node, addresses, readmit](coord::Coordinator& c) {
           return c.StartAddNode(node, addresses, readmit);
         })
      .status;
}

absl::Status Coordinator::PromoteNode(raft::NodeId node) {
  return Wait([node](coord::Coordinator& c) { return c.StartPromoteNode(node); }).status;
}

absl::Status Coordinator::RemoveNode(raft::NodeId node) {
  return Wait([node](coord::Coordinator& c) { return c.StartRemoveNode(node); }).status;
}

std::vector<raft::GroupId> Coordinator::HostedGroups() const {
  std::vector<raft::GroupId> groups;
  for (const auto& [group, status] : loop_->GroupStatuses()) groups.push_back(group);
  return groups;
}

std::vector<raft::GroupId> Coordinator::JoinGroups() const {
  route::CreatedGroupIds created;
  {
    std::lock_guard<std::mutex> lock(created_mu_);
    created = created_group_ids_;
  }
  // A retired group this node still hosts for a moment is inside the range too: never
  // mistaken for an initial group.
  std::vector<raft::GroupId> groups;
  for (raft::GroupId group : HostedGroups()) {
    if (!created.Contains(group)) groups.push_back(group);
  }
  return groups;
}

std::map<raft::GroupId, node::GroupStatus> Coordinator::HostedGroupStatuses() const {
  return loop_->GroupStatuses();
}

raft::NodeId Coordinator::LeaderOf(raft::GroupId group) const { return loop_->LeaderOf(group); }

std::map<raft::NodeId, std::string> Coordinator::PeerRaftAddresses() const {
  if (transport_ == nullptr) return {};
  return transport_->PeerAddresses();
}

std::vector<NodeView> Coordinator::DescribeNodes(const node::MemberDirectory& directory) const {
  const std::map<raft::GroupId, node::GroupStatus> statuses = loop_->GroupStatuses();
  std::set<raft::NodeId> nodes;
  for (const auto& [id, addresses] : directory) nodes.insert(id);
  for (const auto& [group, status] : statuses) {
    const raft::ConfState& conf = status.conf_state;
    for (const auto* ids :
         {&conf.voters, &conf.voters_outgoing, &conf.learners, &conf.learners_next}) {
      nodes.insert(ids->begin(), ids->end());
    }
  }
  std::vector<NodeView> views;
  for (raft::NodeId id : nodes) {
    NodeView view;
    view.node = id;
    if (auto it = directory.find(id); it != directory.end()) view.addresses = it->second;
    for (const auto& [group, status] : statuses) {
      view.groups.push_back({group, coord::RoleIn(status.conf_state, id), status.leader == id});
    }
    views.push_back(std::move(view));
  }
  return views;
}

}  // namespace ekv::runtime
