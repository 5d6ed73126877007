// Coordinator: one step of leader balancing (placement/leader_balance.h decides).
//
//   1. read the catalog: the groups are the caller's (the initial groups) and every live
//      created group; the catalog group counts but never moves (its leader runs the
//      placement driver, which holds the history that keeps transfers from flapping);
//   2. ask every group, at once, who leads it and who votes (kReplicaStatus, sent to the
//      leader this node knows; any replica answers with the leader it knows and the
//      configuration it applied). A group that does not answer in time counts for nobody;
//   3. plan one transfer (PlanLeaderBalance) with the caller's history;
//   4. ask the chosen node itself (kReplicaStatus pinned to it): it must answer, follow
//      the same leader and be within kMaxTransferLagEntries of the commit it knows.
//      Raft stops the group's proposals while a transfer is under way (until it lands or
//      an election timeout passes), so handing over to a node that is down or far behind
//      would cost a pause for nothing. Not so: no transfer, the answer names the node
//      (the caller notes it unreachable for the cooldown);
//   5. ask the leader to hand over (kTransferLeader). Safe to repeat: a leader asked
//      again starts nothing new, and the transferee, once leader, answers OK.
// Nothing here changes durable state: a step that stops anywhere left at most a transfer
// under way, which Raft finishes or gives up on its own.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// A transferee at most this many entries behind the commit index it knows catches up
// within the transfer's election timeout (the leader sends it the rest first).
constexpr raft::Index kMaxTransferLagEntries = 1000;

}  // namespace

struct Coordinator::LeaderBalance {
  OpId op = 0;
  LeaderBalanceSpec spec;
  std::vector<placement::GroupLeadership> groups;  // in the order asked
  size_t waiting = 0;                              // answers still due in step 2
  uint64_t query_deadline_us = 0;
};

OpId Coordinator::StartBalanceLeaders(LeaderBalanceSpec spec) {
  const OpId op = NewOp(spec.timeout_us);
  auto balance = std::make_shared<LeaderBalance>();
  balance->op = op;
  balance->spec = std::move(spec);
  ReadCatalog(DeadlineOf(op), [this, balance](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok()) return Fail(balance->op, catalog.status());
    std::set<raft::GroupId> ids;
    if (!options_.plants.leader_balance_created_groups_only) {
      ids.insert(balance->spec.groups.begin(), balance->spec.groups.end());
      ids.insert(options_.catalog_group);
    }
    for (const auto& [id, group] : catalog->groups()) ids.insert(id);
    if (ids.empty()) return Finish(balance->op, OpResult{});
    for (raft::GroupId id : ids) {
      placement::GroupLeadership group;
      group.group = id;
      group.movable = id != options_.catalog_group;
      balance->groups.push_back(std::move(group));
    }
    // Each question gets a third of the time: one group that does not answer (no leader
    // now) must leave time for the rest of the step.
    const uint64_t deadline = DeadlineOf(balance->op);
    balance->query_deadline_us = now_us_ + (deadline > now_us_ ? (deadline - now_us_) / 3 : 0);
    balance->waiting = balance->groups.size();
    for (size_t i = 0; i < balance->groups.size(); ++i) {
      Execute(balance->groups[i].group, node::OpKind::kReplicaStatus, "", Retry::kLeaderOnly,
              balance->query_deadline_us, [this, balance, i](absl::StatusOr<GroupReply> reply) {
                placement::GroupLeadership& group = balance->groups[i];
                if (reply.ok() && reply->reply.value.has_value()) {
                  absl::StatusOr<raft::ConfChange> roles =
                      raft::DecodeConfChange(*reply->reply.value);
                  if (roles.ok()) {
                    group.leader = reply->reply.leader_hint;
                    for (const raft::ConfChangeSingle& role : roles->changes) {
                      if (role.type == raft::ConfChangeType::kAddVoter) {
                        group.voters.push_back(role.node);
                      }
                    }
                  }
                }
                EKV_ASSERT(balance->waiting > 0, "leader balance: more answers than questions");
                if (--balance->waiting == 0) LeaderBalanceDecide(balance);
              });
    }
  });
  return op;
}

void Coordinator::LeaderBalanceDecide(std::shared_ptr<LeaderBalance> balance) {
  const LeaderBalanceSpec& spec = balance->spec;
  OpResult result;
  result.leader_counts =
      placement::LeaderCounts(balance->groups, spec.history, now_us_, spec.options);
  const std::optional<placement::LeaderTransferPlan> plan =
      placement::PlanLeaderBalance(balance->groups, spec.history, now_us_, spec.options);
  if (!plan.has_value()) return Finish(balance->op, std::move(result));
  EKV_ASSERT(plan->from != plan->to, "leader balance planned a transfer to the leader itself");
  const uint64_t deadline = DeadlineOf(balance->op);
  const uint64_t probe_deadline = now_us_ + (deadline > now_us_ ? (deadline - now_us_) / 2 : 0);
  ExecuteOn(
      plan->to, plan->group, node::OpKind::kReplicaStatus, "", Retry::kUnknownToo, probe_deadline,
      [this, balance, plan = *plan,
       result = std::move(result)](absl::StatusOr<GroupReply> reply) mutable {
        const bool follows = reply.ok() && reply->reply.leader_hint == plan.from &&
                             reply->reply.index + kMaxTransferLagEntries >= reply->reply.timestamp;
        if (!follows) {
          result.unreachable_target = plan.to;
          result.status = absl::UnavailableError(absl::StrCat(
              "BalanceLeaders: node ", plan.to, " was to lead group ", plan.group,
              " instead of node ", plan.from, ", but ",
              reply.ok() ? absl::StrCat("it follows node ", reply->reply.leader_hint,
                                        " with applied index ", reply->reply.index, " of commit ",
                                        reply->reply.timestamp)
                         : absl::StrCat("it did not answer: ", reply.status().message()),
              "; no transfer started"));
          return Finish(balance->op, std::move(result));
        }
        Execute(plan.group, node::OpKind::kTransferLeader, absl::StrCat(plan.to),
                Retry::kLeaderOnly, DeadlineOf(balance->op),
                [this, balance, plan,
                 result = std::move(result)](absl::StatusOr<GroupReply> transfer) mutable {
                  if (!transfer.ok()) {
                    return Fail(
                        balance->op,
                        absl::Status(transfer.status().code(),
                                     absl::StrCat("BalanceLeaders: group ", plan.group, " to node ",
                                                  plan.to, ": ", transfer.status().message())));
                  }
                  result.leader_transfer = plan;
                  Finish(balance->op, std::move(result));
                });
      });
}

}  // namespace ekv::coord
