// Coordinator's membership operations (coordinator.h, "Membership").
#include <algorithm>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "runtime/server/coordinator.h"

namespace ekv::runtime {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMemberAttemptTimeout{1500};

bool Contains(const std::vector<raft::NodeId>& ids, raft::NodeId node) {
  return std::find(ids.begin(), ids.end(), node) != ids.end();
}

MemberRole RoleIn(const raft::ConfState& conf, raft::NodeId node) {
  if (Contains(conf.voters, node) || Contains(conf.voters_outgoing, node)) {
    return MemberRole::kVoter;
  }
  if (Contains(conf.learners, node) || Contains(conf.learners_next, node)) {
    return MemberRole::kLearner;
  }
  return MemberRole::kNone;
}

// Whether a group whose configuration is `conf` already has what `type` asks for `node`.
// Adding a learner is done once the node is in the group in any role: proposing it again
// for a voter would demote it.
bool AlreadyDone(const raft::ConfState& conf, raft::NodeId node, raft::ConfChangeType type) {
  const bool joint = !conf.voters_outgoing.empty();
  const MemberRole role = RoleIn(conf, node);
  switch (type) {
    case raft::ConfChangeType::kAddLearner:
      return role != MemberRole::kNone;
    case raft::ConfChangeType::kAddVoter:
      return !joint && Contains(conf.voters, node);
    case raft::ConfChangeType::kRemoveVoter:
      return !joint && role == MemberRole::kNone;
  }
  return false;
}

}  // namespace

absl::StatusOr<node::MemberDirectory> Coordinator::ReadMembers() {
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kMembers;
  coord::OpResult reply = Wait([group = options_.catalog_group, query](coord::Coordinator& c) {
    return c.StartGroupQuery(group, query);
  });
  if (!reply.status.ok()) return reply.status;
  if (absl::Status s = reply.group_result.status(); !s.ok()) return s;
  return node::DecodeMemberDirectory(reply.group_result.blob);
}

absl::StatusOr<node::MemberDirectory> Coordinator::ChangeDirectory(const node::MemberChange& change,
                                                                   Deadline deadline) {
  if (absl::Status valid = node::ValidateMemberChange(change); !valid.ok()) return valid;
  node::GroupCommand command;
  command.op = node::GroupCommandOp::kMembers;
  command.payload = node::EncodeMemberChange(change);
  absl::Status last = absl::UnavailableError("no attempt before the deadline");
  // Member changes are idempotent: an attempt whose outcome is unknown is simply repeated.
  // Attempts are short: a proposal that reached a leader which then lost its office (e.g.
  // the node just removed from the catalog group) is never answered, and waiting the
  // whole deadline for it would leave no time to repeat it through the next leader.
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    const Deadline attempt_deadline = std::min(deadline, Clock::now() + kMemberAttemptTimeout);
    const uint64_t timeout_us = static_cast<uint64_t>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::microseconds>(attempt_deadline - Clock::now())
               .count()));
    coord::OpResult reply =
        Wait([group = options_.catalog_group, command, timeout_us](coord::Coordinator& c) {
          return c.StartGroupCommand(group, command, timeout_us);
        });
    if (reply.status.ok()) {
      if (absl::Status s = reply.group_result.status(); !s.ok()) return s;
      return node::DecodeMemberDirectory(reply.group_result.blob);
    }
    last = reply.status;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20 * (attempt + 1), 200)));
  }
  return last;
}

absl::Status Coordinator::ChangeEveryGroup(raft::NodeId node, raft::ConfChangeType type,
                                           Deadline deadline) {
  for (raft::GroupId group : HostedGroups()) {
    const std::map<raft::GroupId, node::GroupStatus> statuses = loop_->GroupStatuses();
    auto status = statuses.find(group);
    if (status != statuses.end() && AlreadyDone(status->second.conf_state, node, type)) continue;
    raft::ConfChange change;
    change.changes.push_back({type, node});
    const uint64_t timeout_us = static_cast<uint64_t>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count()));
    coord::OpResult reply =
        Wait([group, payload = raft::EncodeConfChange(change), timeout_us](coord::Coordinator& c) {
          return c.StartLeaderRequest(group, node::OpKind::kConfChange, payload, timeout_us);
        });
    if (!reply.status.ok()) {
      return absl::Status(reply.status.code(), absl::StrCat("group ", group, ": changing node ",
                                                            node, ": ", reply.status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Coordinator::AdvertiseSelf(const node::MemberAddresses& self) {
  absl::StatusOr<node::MemberDirectory> directory = ReadMembers();
  if (!directory.ok()) return directory.status();
  auto it = directory->find(options_.node_id);
  if (it != directory->end() && it->second == self) return absl::OkStatus();
  return ChangeDirectory({node::MemberChangeKind::kUpsert, options_.node_id, self}, NewDeadline())
      .status();
}

absl::Status Coordinator::AddNode(raft::NodeId node, const node::MemberAddresses& addresses) {
  const Deadline deadline = NewDeadline();
  // Addresses first: every replica learns where the node is before any leader has to
  // send it a message.
  absl::StatusOr<node::MemberDirectory> directory =
      ChangeDirectory({node::MemberChangeKind::kUpsert, node, addresses}, deadline);
  if (!directory.ok()) return directory.status();
  return ChangeEveryGroup(node, raft::ConfChangeType::kAddLearner, deadline);
}

absl::Status Coordinator::PromoteNode(raft::NodeId node) {
  absl::StatusOr<node::MemberDirectory> directory = ReadMembers();
  if (!directory.ok()) return directory.status();
  if (directory->count(node) == 0) {
    return absl::NotFoundError(
        absl::StrCat("node ", node, " is not in the member directory: add it first (AddNode)"));
  }
  return ChangeEveryGroup(node, raft::ConfChangeType::kAddVoter, NewDeadline());
}

absl::Status Coordinator::RemoveNode(raft::NodeId node) {
  const Deadline deadline = NewDeadline();
  for (const auto& [group, status] : loop_->GroupStatuses()) {
    const raft::ConfState& conf = status.conf_state;
    if (conf.voters.size() == 1 && conf.voters[0] == node) {
      return absl::FailedPreconditionError(absl::StrCat("node ", node,
                                                        " is the last voter of group ", group,
                                                        ": removing it would lose the group"));
    }
  }
  if (absl::Status s = ChangeEveryGroup(node, raft::ConfChangeType::kRemoveVoter, deadline);
      !s.ok()) {
    return s;
  }
  return ChangeDirectory({node::MemberChangeKind::kRemove, node, {}}, deadline).status();
}

std::vector<raft::GroupId> Coordinator::HostedGroups() const {
  std::vector<raft::GroupId> groups;
  for (const auto& [group, status] : loop_->GroupStatuses()) groups.push_back(group);
  return groups;
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
      view.groups.push_back({group, RoleIn(status.conf_state, id), status.leader == id});
    }
    views.push_back(std::move(view));
  }
  return views;
}

}  // namespace ekv::runtime
