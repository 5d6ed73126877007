// Coordinator: node membership (the member directory and the groups' configurations).
#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/coord/membership.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// A member-change proposal that reached a leader which then lost its office (e.g. the node
// just removed from the catalog group) is never answered; waiting the whole deadline for
// it would leave no time to repeat it through the next leader. So attempts are short.
constexpr uint64_t kMemberAttemptUs = 1'500'000;

}  // namespace

void Coordinator::ReadMembers(uint64_t deadline_us, MembersFn done) {
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kMembers;
  Execute(options_.catalog_group, node::OpKind::kQuery, node::EncodeGroupQuery(query),
          Retry::kUnknownToo, deadline_us,
          [done = std::move(done)](absl::StatusOr<GroupReply> reply) {
            if (!reply.ok()) return done(reply.status());
            if (absl::Status s = reply->result.status(); !s.ok()) return done(s);
            return done(node::DecodeMemberDirectory(reply->result.blob));
          });
}

void Coordinator::ChangeMembers(node::MemberChange change, uint64_t deadline_us, int attempt,
                                MembersFn done) {
  node::GroupCommand command;
  command.op = node::GroupCommandOp::kMembers;
  command.payload = node::EncodeMemberChange(change);
  command.physical_ms = wall_ms_;
  const uint64_t attempt_deadline = std::min(deadline_us, now_us_ + kMemberAttemptUs);
  // Member changes are idempotent: an attempt whose outcome is unknown is simply repeated.
  Execute(options_.catalog_group, node::OpKind::kApply, node::EncodeGroupCommand(command),
          Retry::kUnknownToo, attempt_deadline,
          [this, change = std::move(change), deadline_us, attempt,
           done = std::move(done)](absl::StatusOr<GroupReply> reply) mutable {
            if (reply.ok()) {
              if (absl::Status s = reply->result.status(); !s.ok()) return done(s);
              return done(node::DecodeMemberDirectory(reply->result.blob));
            }
            if (now_us_ >= deadline_us) return done(reply.status());
            After(Backoff(attempt), [this, change = std::move(change), deadline_us, attempt,
                                     done = std::move(done)]() mutable {
              ChangeMembers(std::move(change), deadline_us, attempt + 1, std::move(done));
            });
          });
}

struct Coordinator::EveryGroup {
  raft::NodeId node = raft::kNoNode;
  raft::ConfChangeType type = raft::ConfChangeType::kAddLearner;
  std::vector<raft::GroupId> groups;  // ascending; the ones left to change
  uint64_t deadline_us = 0;
  StatusFn done;
};

void Coordinator::ChangeEveryGroup(raft::NodeId node, raft::ConfChangeType type,
                                   uint64_t deadline_us, StatusFn done) {
  auto state = std::make_shared<EveryGroup>();
  state->node = node;
  state->type = type;
  // The initial groups (every member hosts them) join and leave with the node; a created
  // group lives on its own voters, so a joining node is not added to it, and a leaving one
  // is removed from those that name it. A created id that is no longer listed is a retired
  // group this node may still host for a moment: not an initial group either.
  for (const auto& [group, conf] : view_->Configurations()) {
    if (!created_group_ids_.Contains(group)) state->groups.push_back(group);
  }
  if (type == raft::ConfChangeType::kRemoveVoter) {
    for (const auto& [group, created] : created_groups_) {
      if (!created.IsReplica(node)) continue;
      state->groups.push_back(group);
    }
  }
  std::sort(state->groups.begin(), state->groups.end());
  state->groups.erase(std::unique(state->groups.begin(), state->groups.end()), state->groups.end());
  std::reverse(state->groups.begin(), state->groups.end());  // popped from the back
  state->deadline_us = deadline_us;
  state->done = std::move(done);
  ChangeNextGroup(std::move(state));
}

void Coordinator::ChangeNextGroup(std::shared_ptr<EveryGroup> state) {
  while (!state->groups.empty()) {
    const raft::GroupId group = state->groups.back();
    // The configuration this node's replica last saw; the change is proposed only when it
    // is not there yet, since some are not idempotent (a learner added again demotes).
    const std::map<raft::GroupId, raft::ConfState> confs = view_->Configurations();
    auto conf = confs.find(group);
    if (conf != confs.end() && ConfChangeDone(conf->second, state->node, state->type)) {
      state->groups.pop_back();
      continue;
    }
    raft::ConfChange change;
    change.changes.push_back({state->type, state->node});
    Execute(
        group, node::OpKind::kConfChange, raft::EncodeConfChange(change), Retry::kLeaderOnly,
        state->deadline_us, [this, state, group](absl::StatusOr<GroupReply> reply) {
          if (!reply.ok()) {
            return state->done(absl::Status(
                reply.status().code(), absl::StrCat("group ", group, ": changing node ",
                                                    state->node, ": ", reply.status().message())));
          }
          state->groups.pop_back();
          ChangeNextGroup(state);
        });
    return;
  }
  state->done(absl::OkStatus());
}

Coordinator::MembersFn Coordinator::FinishWithMembers(OpId op) {
  return [this, op](absl::StatusOr<node::MemberDirectory> members) {
    if (!members.ok()) return Fail(op, members.status());
    OpResult result;
    result.members = std::move(*members);
    Finish(op, std::move(result));
  };
}

Coordinator::StatusFn Coordinator::FinishWithStatus(OpId op) {
  return [this, op](absl::Status status) {
    if (!status.ok()) return Fail(op, status);
    Finish(op, OpResult());
  };
}

OpId Coordinator::StartReadMembers() {
  const OpId op = NewOp();
  ReadMembers(DeadlineOf(op), FinishWithMembers(op));
  return op;
}

OpId Coordinator::StartChangeMembers(node::MemberChange change) {
  const OpId op = NewOp();
  if (absl::Status valid = node::ValidateMemberChange(change); !valid.ok()) {
    Fail(op, valid);
    return op;
  }
  ChangeMembers(std::move(change), DeadlineOf(op), 0, FinishWithMembers(op));
  return op;
}

OpId Coordinator::StartAdvertiseSelf(node::MemberAddresses self) {
  const OpId op = NewOp();
  node::MemberChange change{node::MemberChangeKind::kUpsert, options_.node_id, std::move(self)};
  if (absl::Status valid = node::ValidateMemberChange(change); !valid.ok()) {
    Fail(op, valid);
    return op;
  }
  ReadMembers(DeadlineOf(op), [this, op, change = std::move(change)](
                                  absl::StatusOr<node::MemberDirectory> members) mutable {
    const bool current = members.ok() && members->count(change.node) != 0 &&
                         members->at(change.node) == change.addresses;
    if (!members.ok() || current) return FinishWithMembers(op)(std::move(members));
    ChangeMembers(std::move(change), DeadlineOf(op), 0, FinishWithMembers(op));
  });
  return op;
}

OpId Coordinator::StartAddNode(raft::NodeId node, node::MemberAddresses addresses, bool readmit) {
  const OpId op = NewOp();
  node::MemberChange change{node::MemberChangeKind::kUpsert, node, std::move(addresses)};
  if (absl::Status valid = node::ValidateMemberChange(change); !valid.ok()) {
    Fail(op, valid);
    return op;
  }
  // Addresses first: every replica learns where the node is before any leader has to send
  // it a message.
  auto add = [this, op, node, change = std::move(change)]() mutable {
    ChangeMembers(std::move(change), DeadlineOf(op), 0,
                  [this, op, node](absl::StatusOr<node::MemberDirectory> members) {
                    if (!members.ok()) return Fail(op, members.status());
                    ChangeEveryGroup(node, raft::ConfChangeType::kAddLearner, DeadlineOf(op),
                                     FinishWithStatus(op));
                  });
  };
  if (!readmit) {
    add();
    return op;
  }
  // A node the directory lists is a member already (its join is repeated after it was
  // registered): its disk may hold copies of groups it was moved off, so it stays barred
  // from them. One the directory does not list is new or was removed from the cluster
  // (RemoveNode drops it from the directory last), and its data dir is empty: the removals
  // that barred its old copies are voided before it is registered, so a repeated join
  // finds nothing left to void.
  ReadMembers(DeadlineOf(op), [this, op, node, add = std::move(add)](
                                  absl::StatusOr<node::MemberDirectory> members) mutable {
    if (!members.ok()) return Fail(op, members.status());
    if (members->count(node) != 0) return add();
    AwaitConfigurationsAcknowledged(op, node, [this, op, node, add = std::move(add)]() mutable {
      ReadmitNode(op, node, 0, std::move(add));
    });
  });
  return op;
}

void Coordinator::AwaitConfigurationsAcknowledged(OpId op, raft::NodeId node,
                                                  std::function<void()> next) {
  // The groups the node will be a replica of: the initial ones now, the created ones it
  // was removed from once a replica move gives it one again. Each must have every member
  // holding the configuration that took the node out (or never had it) before the node
  // hosts anything empty: a member still holding an older configuration counts the emptied
  // node's vote (it forgot the log and the votes it gave) as that of the replica it
  // replaced, so with one other stale member it elects a leader missing a committed entry
  // (simulator dynamo seed 9408); as a stale leader it commits over one with their acks.
  // Members that acknowledged it keep it on disk, so the check holds once it passed.
  ReadCatalog(DeadlineOf(op), [this, op, node, next = std::move(next)](
                                  absl::StatusOr<route::RouteCatalog> catalog) mutable {
    if (!catalog.ok()) return Fail(op, catalog.status());
    auto groups = std::make_shared<std::vector<raft::GroupId>>();
    for (const auto& [group, conf] : view_->Configurations()) {
      if (!created_group_ids_.Contains(group)) groups->push_back(group);
    }
    for (const auto& [id, group] : catalog->groups()) {
      if (group.WasRemoved(node)) groups->push_back(id);
    }
    std::sort(groups->begin(), groups->end());
    groups->erase(std::unique(groups->begin(), groups->end()), groups->end());
    std::reverse(groups->begin(), groups->end());  // popped from the back
    AwaitNextConfigurationAcknowledged(op, node, std::move(groups), 0, std::move(next));
  });
}

void Coordinator::AwaitNextConfigurationAcknowledged(
    OpId op, raft::NodeId node, std::shared_ptr<std::vector<raft::GroupId>> groups, int round,
    std::function<void()> next) {
  if (groups->empty()) return next();
  const raft::GroupId group = groups->back();
  Execute(group, node::OpKind::kConfigurationAcknowledged, "", Retry::kLeaderOnly, DeadlineOf(op),
          [this, op, node, group, groups, round,
           next = std::move(next)](absl::StatusOr<GroupReply> reply) mutable {
            absl::Status why;
            if (!reply.ok()) {
              why = reply.status();
            } else if (const std::string& behind = reply->reply.value.value_or("");
                       behind.empty()) {
              groups->pop_back();
              return AwaitNextConfigurationAcknowledged(op, node, std::move(groups), 0,
                                                        std::move(next));
            } else {
              why = absl::UnavailableError(
                  absl::StrCat("group ", group, ": node(s) ", behind,
                               " have not acknowledged its configuration at index ", reply->index,
                               " (down or behind)"));
            }
            const uint64_t backoff = Backoff(round);
            if (now_us_ + backoff >= DeadlineOf(op)) {
              ++stats_.joins_waiting_for_members;
              return Fail(op, absl::UnavailableError(absl::StrCat(
                                  "AddNode: node ", node,
                                  " joins with an empty data dir and waits until every member "
                                  "of its groups holds their newest configuration, since one "
                                  "holding an older one could count the emptied node's vote as "
                                  "that of a replica which remembered its log; ",
                                  why.message(),
                                  ". Bring those members back (or remove them), the join "
                                  "retries")));
            }
            After(backoff, [this, op, node, groups, round, next = std::move(next)]() mutable {
              AwaitNextConfigurationAcknowledged(op, node, std::move(groups), round + 1,
                                                 std::move(next));
            });
          });
}

void Coordinator::ReadmitNode(OpId op, raft::NodeId node, int round, std::function<void()> next) {
  // Bounded as a replica move's rounds: each round is a catalog read and at most one change;
  // the rest absorb lost version races with other catalog changes.
  constexpr int kMaxReadmitRounds = 24;
  if (round > kMaxReadmitRounds) {
    return Fail(op, absl::AbortedError(
                        absl::StrCat("AddNode: readmitting node ", node,
                                     " to the created groups it was removed "
                                     "from: other catalog changes kept winning; run it again")));
  }
  ReadCatalog(DeadlineOf(op), [this, op, node, round, next = std::move(next)](
                                  absl::StatusOr<route::RouteCatalog> catalog) mutable {
    if (!catalog.ok()) return Fail(op, catalog.status());
    raft::GroupId group_id = 0;
    for (const auto& [id, group] : catalog->groups()) {
      if (group.WasRemoved(node)) {
        group_id = id;
        break;
      }
    }
    if (group_id == 0) return next();
    route::CatalogCommand command;
    command.op = route::ChangeGroupReplica{catalog->version(), group_id, node,
                                           route::ReplicaChange::kReadmit};
    // Whatever the outcome, the next round's catalog read is the judge (a repeat would be
    // refused for the version it moved).
    ProposeCatalogChange(
        command, Retry::kDefinite, DeadlineOf(op),
        [this, op, node, round, next = std::move(next)](absl::StatusOr<GroupReply> reply) mutable {
          const absl::Status status = reply.ok() ? reply->result.status() : reply.status();
          if (status.ok()) return ReadmitNode(op, node, round + 1, std::move(next));
          if (now_us_ >= DeadlineOf(op)) return Fail(op, status);
          After(Backoff(round), [this, op, node, round, next = std::move(next)]() mutable {
            ReadmitNode(op, node, round + 1, std::move(next));
          });
        });
  });
}

OpId Coordinator::StartPromoteNode(raft::NodeId node) {
  const OpId op = NewOp();
  ReadMembers(DeadlineOf(op), [this, op, node](absl::StatusOr<node::MemberDirectory> members) {
    if (!members.ok()) return Fail(op, members.status());
    if (members->count(node) == 0) {
      return Fail(op,
                  absl::NotFoundError(absl::StrCat(
                      "node ", node, " is not in the member directory: add it first (AddNode)")));
    }
    ChangeEveryGroup(node, raft::ConfChangeType::kAddVoter, DeadlineOf(op), FinishWithStatus(op));
  });
  return op;
}

OpId Coordinator::StartRemoveNode(raft::NodeId node) {
  const OpId op = NewOp();
  for (const auto& [group, conf] : view_->Configurations()) {
    if (conf.voters.size() == 1 && conf.voters[0] == node) {
      Fail(op, absl::FailedPreconditionError(absl::StrCat("node ", node,
                                                          " is the last voter of group ", group,
                                                          ": removing it would lose the group")));
      return op;
    }
  }
  // Created groups first, through the replica mover (replica_mover.cc): the catalog
  // records the node as removed before its configurations lose it, so it stops hosting
  // them and, if it is down now, never hosts them again on its return. Each replica moves
  // to another member as a drain moves it, so a group placed on the node after a drain
  // (CreateGroup and the balancer favour the emptiest member, the drained one: simulator
  // kv-register seed 196 created group 8 there as its removal began) keeps its replica
  // count; only a group no other member can take loses the replica (refused for its last
  // one). Then the initial groups and the directory.
  ReadCatalog(DeadlineOf(op), [this, op, node](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok()) return Fail(op, catalog.status());
    const bool hosts_created =
        std::any_of(catalog->groups().begin(), catalog->groups().end(),
                    [node](const auto& entry) { return entry.second.IsReplica(node); });
    if (!hosts_created) return RemoveNodeFromCreated(op, node, {});
    ReadMembers(DeadlineOf(op), [this, op, node, catalog = *std::move(catalog)](
                                    absl::StatusOr<node::MemberDirectory> members) {
      if (!members.ok()) return Fail(op, members.status());
      absl::StatusOr<std::vector<MoveReplicaSpec>> moves =
          PlanReplicasOff(node, MemberSet(*members), catalog, /*remove_without_target=*/true);
      if (!moves.ok()) return Fail(op, moves.status());
      std::reverse(moves->begin(), moves->end());  // popped from the back
      RemoveNodeFromCreated(op, node, *std::move(moves));
    });
  });
  return op;
}

void Coordinator::RemoveNodeFromCreated(OpId op, raft::NodeId node,
                                        std::vector<MoveReplicaSpec> moves) {
  if (moves.empty()) {
    return ChangeEveryGroup(node, raft::ConfChangeType::kRemoveVoter, DeadlineOf(op),
                            [this, op, node](absl::Status s) {
                              if (!s.ok()) return Fail(op, s);
                              ChangeMembers({node::MemberChangeKind::kRemove, node, {}},
                                            DeadlineOf(op), 0, FinishWithMembers(op));
                            });
  }
  const MoveReplicaSpec spec = moves.back();
  moves.pop_back();
  MoveReplica(spec, DeadlineOf(op),
              [this, op, node,
               moves = std::move(moves)](absl::StatusOr<route::GroupDescriptor> group) mutable {
                if (!group.ok()) return Fail(op, group.status());
                RemoveNodeFromCreated(op, node, std::move(moves));
              });
}

}  // namespace ekv::coord
