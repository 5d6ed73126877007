// Coordinator: moving one replica of a created group from node F to node T, and draining
// a node (every created group's replica off it). docs/architecture.md "Replica moves".
//
// Two records say who replicates a created group: the catalog's GroupDescriptor (which
// nodes host it: node/hosted_groups.h follows it on every node) and the group's Raft
// configuration (who votes). A move changes both, one idempotent step at a time, and
// every round starts by reading the catalog, so a move that stopped anywhere (a lost
// answer, a dead coordinator, a deadline) is finished by running the same spec again:
//
//   1. catalog: T joins            T starts the group empty (never bootstraps) and waits
//   2. conf:    AddLearner(T)      the leader sends T a snapshot; T does not vote yet
//   3. T caught up                 T's own replica has applied past its addition and is
//                                  within kMaxCatchUpLagEntries of the commit it knows
//   4. conf:    AddVoter(T)        now F, T and the others vote: one more than before
//   5. conf:    RemoveVoter(F)     back to the replica count; a leading F hands over
//   6. catalog: F removed          F stops hosting the group, and never hosts it again,
//                                  also if it is down now and returns with its old state
//
// Steps 2-4 are run for T and for every other replica that joined by a move (an earlier
// move of this group may have stopped between 1 and 4): F leaves only once every replica
// that stays is a caught-up voter, so a move never drops a group below quorum. Step 5
// before 6: F keeps hosting (and voting) until the configuration no longer counts it; the
// other order would leave, for a while, a configuration of one more voter than there are
// replicas, which a single other replica down (a crash, a broken disk) stalls for good,
// the removal itself included (found by the simulator). Once the catalog says F is
// removed, every later round repeats step 5 (idempotent), so a configuration that named F
// again in between (the simulator's membership faults re-add hosting non-voters) loses it.
// Conf changes are idempotent at the leader (NodeHost answers one already made without
// proposing it). The catalog commands are version-checked; a lost race or an unknown
// outcome is judged by the next round's catalog read.
//
// Two moves to the same T: each sees T's replica as one to spare and would remove its own
// F for it. F leaves only while the group keeps its replica count (ReplicaMoveStep); a
// move refused for it first makes F a voter again, since both moves may have done step 5
// on the same catalog before one lost step 6 (ReplicaMoveKeepSource).
//
// Rollback: a replica that joined (T, or one an earlier move left joined) and, in this
// run, never answered that it applied past its own addition (down for good, a broken
// disk, or still without the leader's snapshot) by three quarters of the move's time is
// taken out again while it is only a learner: conf RemoveVoter(T) (a learner: no vote
// changes), then catalog: T removed (so it never hosts the group again, as step 6). The
// run then fails retryably; run again, a drain picks another target, a move to T is
// refused (T was removed). Without it, a move to a node that never returns stays
// unfinished forever, and every resumption spends its whole time waiting on that node
// (simulator seed 183: past the heal's bounded convergence time). A voter is never rolled
// back (asked of the leader's configuration): removing one that an earlier run promoted
// could, after step 5, leave fewer voters than replicas; the move goes on past it instead.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/coord/coordinator.h"
#include "core/node/command.h"
#include "core/placement/replica_balance.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// Catalog reads (rounds) one move may take before giving up: a move needs about four
// (each catalog change, then the removal); the rest absorb lost races with other catalog
// changes (a busy placement) and unknown outcomes.
constexpr int kMaxReplicaMoveRounds = 24;
// A new replica counts as caught up once it applied past its own addition and is at most
// this many entries behind the commit index it knows (as a joining node's MembershipTasks).
constexpr raft::Index kMaxCatchUpLagEntries = 1000;

std::string Describe(const route::GroupDescriptor& group) {
  return absl::StrCat("group ", group.group_id, " (replicas ", absl::StrJoin(group.Replicas(), ","),
                      ")");
}

}  // namespace

struct Coordinator::ReplicaMove {
  MoveReplicaSpec spec;
  uint64_t deadline_us = 0;
  GroupFn done;
  int rounds = 0;
  // Steps 2-4 done for every replica that stays (this round's catalog): F may leave.
  bool voters_ready = false;
  int catch_up_polls = 0;
  // Catch-up waits end here, leaving the last quarter of the move's time to roll back a
  // learner that never caught up.
  uint64_t catch_up_deadline_us = 0;
  // The replica being caught up answered, in this run, that it applied past its addition.
  bool heard_past_addition = false;
  // T hosted the group already when this run first read the catalog: some other change (a
  // drain, a balancer, a resumed run of this very move) put it there, so F may leave only
  // while the group keeps the replica count it was created with.
  bool target_hosted_at_start = false;
  // The group's replica count at that first read. A run that adds T itself leaves F only
  // while the group keeps min(this, the created count): another move to the same T may
  // have taken the replica T adds (see ReplicaMoveKeepSource).
  size_t replicas_at_start = 0;
};

Coordinator::GroupFn Coordinator::FinishWithGroup(OpId op) {
  return [this, op](absl::StatusOr<route::GroupDescriptor> group) {
    if (!group.ok()) return Fail(op, group.status());
    OpResult result;
    result.group = *std::move(group);
    Finish(op, std::move(result));
  };
}

OpId Coordinator::StartMoveReplica(MoveReplicaSpec spec) {
  const OpId op = NewOp(spec.timeout_us != 0 ? spec.timeout_us : options_.move_timeout_us);
  MoveReplica(spec, DeadlineOf(op), FinishWithGroup(op));
  return op;
}

void Coordinator::MoveReplica(MoveReplicaSpec spec, uint64_t deadline_us, GroupFn done) {
  if (spec.group == 0 || spec.from == raft::kNoNode || spec.from == spec.to) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "MoveReplica: group ", spec.group, " from node ", spec.from, " to node ", spec.to,
        "; expected a group, a node to move from and another node (or none) to move to")));
  }
  ++stats_.replica_moves_started;
  auto move = std::make_shared<ReplicaMove>();
  move->spec = spec;
  move->deadline_us = deadline_us;
  move->catch_up_deadline_us =
      deadline_us > now_us_ ? deadline_us - (deadline_us - now_us_) / 4 : deadline_us;
  move->done = std::move(done);
  if (spec.to == raft::kNoNode) return ReplicaMoveStep(std::move(move));
  // The target must be a member of the cluster: the directory's, or a voter of the catalog
  // group (every member of a bootstrapped cluster votes there, advertised or not).
  ReadMembers(deadline_us, [this, move](absl::StatusOr<node::MemberDirectory> members) {
    if (!members.ok()) return move->done(members.status());
    bool member = members->count(move->spec.to) != 0;
    const std::map<raft::GroupId, raft::ConfState> confs = view_->Configurations();
    if (auto conf = confs.find(options_.catalog_group); conf != confs.end()) {
      const std::vector<raft::NodeId>& voters = conf->second.voters;
      member = member || std::find(voters.begin(), voters.end(), move->spec.to) != voters.end();
    }
    if (!member) {
      return move->done(absl::InvalidArgumentError(
          absl::StrCat("MoveReplica: node ", move->spec.to,
                       " is not a member of the cluster; expected a member node id")));
    }
    ReplicaMoveStep(move);
  });
}

void Coordinator::ReplicaMoveStep(std::shared_ptr<ReplicaMove> move) {
  if (++move->rounds > kMaxReplicaMoveRounds) {
    return move->done(absl::AbortedError(absl::StrCat(
        "MoveReplica: group ", move->spec.group, " still changing after ", kMaxReplicaMoveRounds,
        " rounds (other catalog changes keep winning); "
        "run it again to resume")));
  }
  ReadCatalog(move->deadline_us, [this, move](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok()) return move->done(catalog.status());
    const MoveReplicaSpec& spec = move->spec;
    if (catalog->IsRetired(spec.group)) {
      return move->done(absl::FailedPreconditionError(
          absl::StrCat("MoveReplica: group ", spec.group, " is retired")));
    }
    const route::GroupDescriptor* found = catalog->FindGroup(spec.group);
    if (found == nullptr) {
      return move->done(absl::NotFoundError(absl::StrCat(
          "MoveReplica: group ", spec.group,
          " was not created at run time (initial groups live on every member: AddNode and "
          "RemoveNode change them); expected the id of a created group")));
    }
    const route::GroupDescriptor group = *found;
    if (group.WasRemoved(spec.from)) {
      // Step 6 is done: only the configuration may still name F (5 is idempotent).
      return ReplicaMoveConf(
          move, raft::ConfChangeType::kRemoveVoter, spec.from, [this, move](raft::Index) {
            ReadCatalog(move->deadline_us, [this, move](absl::StatusOr<route::RouteCatalog> now) {
              if (!now.ok()) return move->done(now.status());
              ++stats_.replica_moves_done;
              const route::GroupDescriptor* found = now->FindGroup(move->spec.group);
              if (found == nullptr) {  // retired since: nothing of it is left to move
                return move->done(absl::FailedPreconditionError(absl::StrCat(
                    "MoveReplica: group ", move->spec.group, " was retired meanwhile")));
              }
              move->done(*found);
            });
          });
    }
    if (!group.IsReplica(spec.from)) {
      return move->done(absl::FailedPreconditionError(
          absl::StrCat("MoveReplica: node ", spec.from, " does not host ", Describe(group),
                       "; expected one of its replicas")));
    }
    const std::vector<uint64_t> replicas = group.Replicas();
    if (move->rounds == 1) {
      move->target_hosted_at_start = spec.to != raft::kNoNode && group.IsReplica(spec.to);
      move->replicas_at_start = replicas.size();
    }
    if (spec.to == raft::kNoNode) {
      const size_t floor = std::max<size_t>(1, spec.min_replicas);
      if (replicas.size() - 1 < floor) {
        return move->done(absl::FailedPreconditionError(absl::StrCat(
            "MoveReplica: removing node ", spec.from, " from ", Describe(group), " would leave ",
            replicas.size() - 1, " replicas, below ", floor,
            ": a group would drop below its replica count (quorum); move the replica to "
            "another node instead")));
      }
      // Only what joined earlier must be ready (voters_ready below), then steps 5-6.
    } else if (!group.IsReplica(spec.to)) {
      if (group.WasRemoved(spec.to)) {
        return move->done(absl::FailedPreconditionError(
            absl::StrCat("MoveReplica: node ", spec.to, " was removed from ", Describe(group),
                         ", and its old copy may still be on its disk; choose another node (it "
                         "hosts the group again only after remove-node and a join with an empty "
                         "data dir)")));
      }
      // Step 1.
      return ReplicaMoveCatalog(
          move, route::ReplicaChange::kAdd, spec.to, catalog->version(),
          [this, move](absl::Status status) { ReplicaMoveAfterCatalog(move, std::move(status)); });
    }
    // T hosts the group (or there is no T). Two moves to the same T (a drain and a
    // balancer, say) each see one replica more than the group had, and each would remove
    // its own F for it: the group would lose a replica (simulator bank seed 1, and append
    // seed 19 with --replica_moves: group 6 went from 3 replicas to 2 when a drain's move
    // 1->5 and a move 3->5 both finished). So F leaves only while the group keeps its
    // created replica count, or, for a run that added T itself to a group already short of
    // it, the count that run began with (such a move replaces a replica, never adds one).
    const size_t created = group.voters.size();
    const size_t floor =
        move->target_hosted_at_start ? created : std::min(created, move->replicas_at_start);
    const bool below_floor = spec.to != raft::kNoNode && replicas.size() - 1 < floor;
    auto keep_source = [&] {
      ReplicaMoveKeepSource(
          move, absl::FailedPreconditionError(absl::StrCat(
                    "MoveReplica: node ", spec.to, " hosts ", Describe(group),
                    move->target_hosted_at_start
                        ? " (another change added it)"
                        : " (this move added it, and another change took a replica since)",
                    ", so removing node ", spec.from, " would leave ", replicas.size() - 1,
                    " replicas, fewer than ", floor, " (created with ", created,
                    "); choose another target")));
    };
    // Before steps 2-4 when T is another change's (that change catches it up), after them
    // when it is this run's: T stays a replica, so it must vote.
    if (below_floor && move->target_hosted_at_start) return keep_source();
    if (!move->voters_ready) {
      // Steps 2-4 for T and every other replica that joined by a move.
      std::vector<raft::NodeId> ensure;
      for (uint64_t replica : replicas) {
        if (replica == spec.from) continue;
        const bool joined = std::binary_search(group.joined.begin(), group.joined.end(), replica);
        if (replica == spec.to || joined) ensure.push_back(replica);
      }
      return ReplicaMoveEnsureVoters(move, std::move(ensure));
    }
    if (below_floor) return keep_source();
    // Step 5, then 6 against this round's catalog (a race lost there goes round again,
    // repeating 5, which is idempotent). Step 5 names the replicas that stay
    // (node::EncodeKeepVoters): the leader refuses it unless each of them votes then, so a
    // second move that read the same catalog cannot take its source out too; it goes
    // round again and finds the first move's removal.
    std::vector<raft::NodeId> keep;
    for (uint64_t replica : replicas) {
      if (replica != spec.from) keep.push_back(replica);
    }
    const uint64_t version = catalog->version();
    raft::ConfChange change;
    change.changes.push_back({raft::ConfChangeType::kRemoveVoter, spec.from});
    change.context = node::EncodeKeepVoters(keep);
    Execute(spec.group, node::OpKind::kConfChange, raft::EncodeConfChange(change),
            Retry::kLeaderOnly, move->deadline_us,
            [this, move, version](absl::StatusOr<GroupReply> reply) {
              if (!reply.ok()) {
                return move->done(absl::Status(
                    reply.status().code(),
                    absl::StrCat("MoveReplica: group ", move->spec.group, ": removing node ",
                                 move->spec.from, ": ", reply.status().message())));
              }
              if (reply->reply.value == node::kKeepVotersRefused) {
                After(Backoff(move->rounds), [this, move] { ReplicaMoveStep(move); });
                return;
              }
              ReplicaMoveCatalog(move, route::ReplicaChange::kRemove, move->spec.from, version,
                                 [this, move](absl::Status status) {
                                   ReplicaMoveAfterCatalog(move, std::move(status));
                                 });
            });
  });
}

void Coordinator::ReplicaMoveKeepSource(std::shared_ptr<ReplicaMove> move, absl::Status refusal) {
  // F stays a replica. An earlier round of this move (or of an earlier run) may have taken
  // it out of the configuration (step 5) and then lost step 6 to the other change's catalog
  // write: both read the same catalog, both saw one replica to spare. F votes again (as a
  // learner, then a voter: both are no-ops while it still votes), and a catalog read after
  // that says whether some third change removed F meanwhile, whose removal then stands.
  const raft::NodeId from = move->spec.from;
  ReplicaMoveConf(
      move, raft::ConfChangeType::kAddLearner, from, [this, move, from, refusal](raft::Index) {
        ReplicaMoveConf(
            move, raft::ConfChangeType::kAddVoter, from, [this, move, from, refusal](raft::Index) {
              ReadCatalog(move->deadline_us,
                          [this, move, from, refusal](absl::StatusOr<route::RouteCatalog> catalog) {
                            if (!catalog.ok()) return move->done(catalog.status());
                            const route::GroupDescriptor* group =
                                catalog->FindGroup(move->spec.group);
                            if (group == nullptr || !group->WasRemoved(from))
                              return move->done(refusal);
                            ReplicaMoveConf(move, raft::ConfChangeType::kRemoveVoter, from,
                                            [move, refusal](raft::Index) { move->done(refusal); });
                          });
            });
      });
}

void Coordinator::ReplicaMoveEnsureVoters(std::shared_ptr<ReplicaMove> move,
                                          std::vector<raft::NodeId> nodes) {
  if (nodes.empty()) {
    move->voters_ready = true;
    return ReplicaMoveStep(std::move(move));
  }
  const raft::NodeId node = nodes.front();
  nodes.erase(nodes.begin());
  // Only the move's own target may join here; a replica that joined by an earlier move is
  // made to vote only while it is still a member, and the promotion of either only while
  // it is (members_only): the catalog this round read may be older than the configuration.
  const bool joins = node == move->spec.to;
  ReplicaMoveConf(
      move, raft::ConfChangeType::kAddLearner, node,
      [this, move, node, nodes = std::move(nodes)](raft::Index learner_index) mutable {
        move->catch_up_polls = 0;
        move->heard_past_addition = false;
        ReplicaMoveCatchUp(move, node, learner_index,
                           [this, move, node, nodes = std::move(nodes)]() mutable {
                             ReplicaMoveConf(
                                 move, raft::ConfChangeType::kAddVoter, node,
                                 [this, move, nodes = std::move(nodes)](raft::Index) mutable {
                                   ReplicaMoveEnsureVoters(move, std::move(nodes));
                                 },
                                 /*members_only=*/true);
                           });
      },
      /*members_only=*/!joins);
}

void Coordinator::ReplicaMoveCatchUp(std::shared_ptr<ReplicaMove> move, raft::NodeId node,
                                     raft::Index learner_index, std::function<void()> next) {
  // Asked of the node's own replica: only it knows how far it applied. A node that does not
  // host the group yet (its catalog replica has not applied step 1) refuses; asked again.
  ExecuteOn(
      node, move->spec.group, node::OpKind::kReplicaStatus, "", Retry::kUnknownToo,
      move->catch_up_deadline_us,
      [this, move, node, learner_index,
       next = std::move(next)](absl::StatusOr<GroupReply> reply) mutable {
        if (!reply.ok()) {
          if (!move->heard_past_addition) return ReplicaMoveRollBack(move, node, std::move(next));
          return move->done(
              absl::Status(reply.status().code(),
                           absl::StrCat("MoveReplica: node ", node, " did not catch up on group ",
                                        move->spec.group, ": ", reply.status().message())));
        }
        const raft::Index applied = reply->reply.index;
        const raft::Index commit = reply->reply.timestamp;
        if (applied >= learner_index) move->heard_past_addition = true;
        if (applied >= learner_index && applied + kMaxCatchUpLagEntries >= commit) {
          return next();
        }
        const int poll = move->catch_up_polls++;
        After(Backoff(poll), [this, move, node, learner_index, next = std::move(next)]() mutable {
          if (now_us_ >= move->catch_up_deadline_us) {
            if (!move->heard_past_addition) return ReplicaMoveRollBack(move, node, std::move(next));
            return move->done(absl::DeadlineExceededError(
                absl::StrCat("MoveReplica: node ", node, " did not catch up on group ",
                             move->spec.group, " before the deadline")));
          }
          ReplicaMoveCatchUp(move, node, learner_index, std::move(next));
        });
      });
}

void Coordinator::ReplicaMoveConf(std::shared_ptr<ReplicaMove> move, raft::ConfChangeType type,
                                  raft::NodeId node, std::function<void(raft::Index)> next,
                                  bool members_only) {
  raft::ConfChange change;
  change.changes.push_back({type, node});
  if (members_only) change.context = node::EncodeMembersOnly();
  Execute(move->spec.group, node::OpKind::kConfChange, raft::EncodeConfChange(change),
          Retry::kLeaderOnly, move->deadline_us,
          [this, move, node, next = std::move(next)](absl::StatusOr<GroupReply> reply) {
            if (!reply.ok()) {
              return move->done(absl::Status(
                  reply.status().code(),
                  absl::StrCat("MoveReplica: group ", move->spec.group, ": changing node ", node,
                               ": ", reply.status().message())));
            }
            if (reply->reply.value == node::kMembersOnlyRefused) {
              // Another change took `node` out after this round read the catalog.
              After(Backoff(move->rounds), [this, move] { ReplicaMoveStep(move); });
              return;
            }
            next(reply->index);
          });
}

void Coordinator::ReplicaMoveCatalog(std::shared_ptr<ReplicaMove> move, route::ReplicaChange change,
                                     raft::NodeId node, uint64_t catalog_version,
                                     std::function<void(absl::Status)> next) {
  route::CatalogCommand command;
  command.op = route::ChangeGroupReplica{catalog_version, move->spec.group, node, change};
  // Sent again only when it certainly did not apply; whatever happened, the next round's
  // catalog read is the judge (a repeat would be refused for the version it moved).
  ProposeCatalogChange(command, Retry::kDefinite, move->deadline_us,
                       [next = std::move(next)](absl::StatusOr<GroupReply> reply) {
                         next(reply.ok() ? reply->result.status() : reply.status());
                       });
}

void Coordinator::ReplicaMoveAfterCatalog(std::shared_ptr<ReplicaMove> move, absl::Status status) {
  if (!status.ok() && now_us_ >= move->deadline_us) return move->done(status);
  if (status.ok()) return ReplicaMoveStep(move);
  After(Backoff(move->rounds), [this, move] { ReplicaMoveStep(move); });
}

void Coordinator::ReplicaMoveRollBack(std::shared_ptr<ReplicaMove> move, raft::NodeId node,
                                      std::function<void()> next) {
  // Which node leads (any replica answers with the leader it knows); the leader's own
  // configuration then says whether `node` is still only a learner.
  Execute(move->spec.group, node::OpKind::kReplicaStatus, "", Retry::kUnknownToo, move->deadline_us,
          [this, move, node, next = std::move(next)](absl::StatusOr<GroupReply> reply) mutable {
            if (!reply.ok() || reply->reply.leader_hint == raft::kNoNode) {
              return move->done(absl::UnavailableError(absl::StrCat(
                  "MoveReplica: node ", node, " did not catch up on group ", move->spec.group,
                  ", and no leader was found to roll it back; run it again")));
            }
            ReplicaMoveRollBackLearner(move, node, reply->reply.leader_hint, std::move(next));
          });
}

void Coordinator::ReplicaMoveRollBackLearner(std::shared_ptr<ReplicaMove> move, raft::NodeId node,
                                             raft::NodeId leader, std::function<void()> next) {
  const raft::GroupId group = move->spec.group;
  ExecuteOn(
      leader, group, node::OpKind::kReplicaStatus, "", Retry::kUnknownToo, move->deadline_us,
      [this, move, node, leader, group, next = std::move(next)](absl::StatusOr<GroupReply> reply) {
        const std::string not_caught_up =
            absl::StrCat("MoveReplica: node ", node, " did not catch up on group ", group);
        absl::StatusOr<raft::ConfChange> roles =
            reply.ok() && reply->reply.value.has_value()
                ? raft::DecodeConfChange(*reply->reply.value)
                : absl::StatusOr<raft::ConfChange>(absl::UnavailableError("no answer"));
        if (!reply.ok() || reply->reply.leader_hint != leader || !roles.ok()) {
          return move->done(absl::UnavailableError(
              absl::StrCat(not_caught_up, ", and node ", leader,
                           " did not answer as its leader to roll it back; run it again")));
        }
        for (const raft::ConfChangeSingle& role : roles->changes) {
          if (role.node == node && role.type == raft::ConfChangeType::kAddVoter) {
            // Promoted by an earlier run (which saw it caught up): it stays, and the move
            // goes on without it answering. Step 5 then shrinks a configuration of one
            // voter more than the replica count (even), whose leader commits the removal
            // only with a majority alive: one fewer of them is still a majority of the rest.
            return next();
          }
        }
        ReplicaMoveConf(
            move, raft::ConfChangeType::kRemoveVoter, node,
            [this, move, node, group, not_caught_up](raft::Index) {
              ReadCatalog(move->deadline_us, [this, move, node, group, not_caught_up](
                                                 absl::StatusOr<route::RouteCatalog> catalog) {
                const route::GroupDescriptor* found =
                    catalog.ok() ? catalog->FindGroup(group) : nullptr;
                const absl::Status rolled_back = absl::UnavailableError(
                    absl::StrCat(not_caught_up,
                                 " in time: rolled back (removed from it, never to host it "
                                 "again); run it again, to another node"));
                if (found == nullptr || !found->IsReplica(node)) return move->done(rolled_back);
                ReplicaMoveCatalog(move, route::ReplicaChange::kRemove, node, catalog->version(),
                                   [this, move, rolled_back](absl::Status status) {
                                     // Not applied (a lost race, no answer): T is a joined
                                     // replica outside the configuration, which the next
                                     // run adds as a learner again and rolls back again.
                                     if (status.ok()) ++stats_.replica_moves_rolled_back;
                                     move->done(rolled_back);
                                   });
              });
            });
      });
}

// ---- Draining a node -------------------------------------------------------------------

std::set<raft::NodeId> Coordinator::MemberSet(const node::MemberDirectory& members) const {
  // The directory's members, and every voter of the catalog group (every member of a
  // bootstrapped cluster votes there, advertised or not).
  std::set<raft::NodeId> member_set;
  for (const auto& [id, addresses] : members) member_set.insert(id);
  const std::map<raft::GroupId, raft::ConfState> confs = view_->Configurations();
  if (auto conf = confs.find(options_.catalog_group); conf != confs.end()) {
    member_set.insert(conf->second.voters.begin(), conf->second.voters.end());
  }
  return member_set;
}

struct Coordinator::Drain {
  OpId op = 0;
  raft::NodeId node = raft::kNoNode;
  std::vector<MoveReplicaSpec> moves;  // in group order
  size_t next = 0;
  std::vector<route::GroupDescriptor> moved;
};

absl::StatusOr<std::vector<MoveReplicaSpec>> Coordinator::PlanReplicasOff(
    raft::NodeId node, std::set<raft::NodeId> members, const route::RouteCatalog& catalog,
    bool remove_without_target) {
  members.erase(node);
  // Where each replica goes: the member hosting the fewest live created groups (as
  // CreateGroup places a new group), counting the moves planned so far.
  std::map<raft::NodeId, size_t> load;
  for (raft::NodeId member : members) load[member] = 0;
  for (const auto& [id, group] : catalog.groups()) {
    for (uint64_t replica : group.Replicas()) {
      if (auto it = load.find(replica); it != load.end()) ++it->second;
    }
  }
  std::vector<MoveReplicaSpec> moves;
  for (const auto& [id, group] : catalog.groups()) {
    if (!group.IsReplica(node)) continue;
    MoveReplicaSpec move;
    move.group = id;
    move.from = node;
    // A group that already has more replicas than it was created with holds the
    // target of an earlier move that stopped short: finish that one.
    if (group.Replicas().size() > group.voters.size()) {
      for (uint64_t joined : group.joined) {
        if (group.IsReplica(joined) && joined != node) move.to = joined;
      }
    }
    if (move.to == raft::kNoNode) {
      std::pair<size_t, raft::NodeId> best{SIZE_MAX, raft::kNoNode};
      for (const auto& [member, groups] : load) {
        if (group.IsReplica(member) || group.WasRemoved(member)) continue;
        best = std::min(best, std::make_pair(groups, member));
      }
      if (best.second == raft::kNoNode && !remove_without_target) {
        return absl::FailedPreconditionError(
            absl::StrCat("DrainNode: node ", node, ": ", Describe(group),
                         " has no other member to move its replica to (each already "
                         "hosts it or was removed from it); add a node first"));
      }
      move.to = best.second;
      if (move.to == raft::kNoNode) {
        move.min_replicas = 1;  // refused only for the group's last replica
      } else {
        ++load[move.to];
      }
    }
    moves.push_back(move);
  }
  return moves;
}

OpId Coordinator::StartDrainNode(raft::NodeId node, uint64_t timeout_us) {
  const OpId op = NewOp(
      timeout_us != 0 ? timeout_us : options_.move_timeout_us + options_.move_finish_timeout_us);
  if (node == raft::kNoNode) {
    Fail(op, absl::InvalidArgumentError("DrainNode: node 0; expected a node id"));
    return op;
  }
  ReadMembers(DeadlineOf(op), [this, op, node](absl::StatusOr<node::MemberDirectory> members) {
    if (!members.ok()) return Fail(op, members.status());
    ReadCatalog(DeadlineOf(op), [this, op, node, members = *std::move(members)](
                                    absl::StatusOr<route::RouteCatalog> catalog) {
      if (!catalog.ok()) return Fail(op, catalog.status());
      absl::StatusOr<std::vector<MoveReplicaSpec>> moves =
          PlanReplicasOff(node, MemberSet(members), *catalog, /*remove_without_target=*/false);
      if (!moves.ok()) return Fail(op, moves.status());
      auto state = std::make_shared<Drain>();
      state->op = op;
      state->node = node;
      state->moves = *std::move(moves);
      DrainNext(std::move(state));
    });
  });
  return op;
}

void Coordinator::DrainNext(std::shared_ptr<Drain> drain) {
  if (drain->next == drain->moves.size()) {
    OpResult result;
    result.groups = std::move(drain->moved);
    return Finish(drain->op, std::move(result));
  }
  const MoveReplicaSpec spec = drain->moves[drain->next++];
  MoveReplica(spec, DeadlineOf(drain->op),
              [this, drain, spec](absl::StatusOr<route::GroupDescriptor> group) {
                if (!group.ok()) {
                  return Fail(drain->op,
                              absl::Status(group.status().code(),
                                           absl::StrCat("DrainNode: node ", drain->node,
                                                        ": moving its replica of group ",
                                                        spec.group, " to node ", spec.to, ": ",
                                                        group.status().message())));
                }
                drain->moved.push_back(*std::move(group));
                DrainNext(drain);
              });
}

}  // namespace ekv::coord

namespace ekv::coord {

// ---- Balancing replicas ------------------------------------------------------------------

OpId Coordinator::StartBalanceReplicas(uint64_t timeout_us) {
  const OpId op = NewOp(timeout_us != 0 ? timeout_us : options_.move_timeout_us);
  ReadMembers(DeadlineOf(op), [this, op](absl::StatusOr<node::MemberDirectory> members) {
    if (!members.ok()) return Fail(op, members.status());
    ReadCatalog(DeadlineOf(op), [this, op, members = *std::move(members)](
                                    absl::StatusOr<route::RouteCatalog> catalog) {
      if (!catalog.ok()) return Fail(op, catalog.status());
      const std::set<raft::NodeId> member_set = MemberSet(members);
      const std::optional<placement::ReplicaMovePlan> plan = placement::PlanReplicaBalance(
          std::vector<uint64_t>(member_set.begin(), member_set.end()), *catalog);
      if (!plan.has_value()) return Finish(op, OpResult{});  // balanced: no group moved
      MoveReplicaSpec spec;
      spec.group = plan->group;
      spec.from = plan->from;
      spec.to = plan->to;
      MoveReplica(spec, DeadlineOf(op), FinishWithGroup(op));
    });
  });
  return op;
}

}  // namespace ekv::coord
