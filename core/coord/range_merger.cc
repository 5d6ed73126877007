// coord::Coordinator: merging two adjacent routes (StartMergeRange).
//
// A merge is one catalog command, route::MergeRanges, fenced by the catalog version it
// was decided at, and accepted only for two ACTIVE routes of one group with no move in
// progress. That is why it needs no protocol with the group: the group already holds
// every record of both halves in its one engine (versions, locks, commit and rollback
// records, TTL expiries and the Redis types' records are keyed by user key, the GC safe
// point and timestamp sequence are the group's), so nothing is copied, fenced or
// cleaned up, and an open transaction's locks, reads and commit on either half go on as
// before. What the group serves does not change either: the merged route covers exactly
// the keys of the two it replaces, and the group's ownership (ownership.h) keeps, as
// owned_since, the newer of the two halves', so a request routed before the merge is
// judged as it would have been. After the merge the group is told (kOwnership), as after a
// split: a refinement only, since before it the group's view names the same keys.
//
// Routes on different groups are merged in two steps: the right route moves into the
// left's group through the range move (range_mover.cc, with its own fencing, resume and
// rollback), then the merge runs as above against the catalog as it is after the move.
// A move that does not finish fails the merge with the move's answer; the catalog then
// shows where it stopped (MoveRange resumes it) and nothing was merged.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"

namespace ekv::coord {

struct Coordinator::Merge {
  OpId op = 0;
  MergeRangeSpec spec;
  MergeRangeResult result;
  uint64_t deadline_us = 0;
};

OpId Coordinator::StartMergeRange(MergeRangeSpec spec) {
  const uint64_t move_budget =
      (spec.move_timeout_us != 0 ? spec.move_timeout_us : options_.move_timeout_us) +
      options_.move_finish_timeout_us;
  const OpId op = NewOp(spec.move_if_needed ? move_budget + options_.request_timeout_us : 0);
  if (spec.key.empty() && spec.route_id == 0) {
    Fail(op, absl::InvalidArgumentError("a merge needs a key or the id of the left route"));
    return op;
  }
  ++stats_.merges_started;
  auto merge = std::make_shared<Merge>();
  merge->op = op;
  merge->spec = std::move(spec);
  merge->deadline_us = DeadlineOf(op);
  MergeResolve(std::move(merge));
  return op;
}

void Coordinator::MergeFinish(std::shared_ptr<Merge> merge, absl::Status status) {
  if (status.ok()) ++stats_.merges_done;
  OpResult result;
  result.status = std::move(status);
  result.ts = merge->result.catalog_version;
  result.merge = merge->result;
  Finish(merge->op, std::move(result));
}

void Coordinator::MergeResolve(std::shared_ptr<Merge> merge) {
  ReadCatalog(merge->deadline_us, [this, merge](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok()) return MergeFinish(merge, catalog.status());
    merge->result.catalog_version = catalog->version();
    const MergeRangeSpec& spec = merge->spec;
    if (spec.expected_catalog_version != 0 && spec.expected_catalog_version != catalog->version()) {
      return MergeFinish(
          merge, absl::FailedPreconditionError(
                     absl::StrCat("merge: catalog version is ", catalog->version(), ", expected ",
                                  spec.expected_catalog_version, "; reload the routes and retry")));
    }
    const route::RouteDescriptor* left =
        spec.key.empty() ? catalog->FindRoute(spec.route_id) : catalog->RouteForKey(spec.key);
    if (left == nullptr || (spec.route_id != 0 && left->route_id != spec.route_id)) {
      return MergeFinish(merge,
                         absl::FailedPreconditionError(absl::StrCat(
                             "merge: route ", spec.route_id, " is not in the catalog (version ",
                             catalog->version(), "): it was split or merged, or never existed")));
    }
    if (left->end.empty()) {
      return MergeFinish(
          merge, absl::InvalidArgumentError(
                     absl::StrCat("merge: ", route::FormatRoute(*left),
                                  " is the last route; there is no range after it to merge with")));
    }
    const route::RouteDescriptor* right = catalog->RouteForKey(left->end);
    EKV_ASSERT(right != nullptr && right->start == left->end,
               "the catalog covers the key space: a route starts where route ", left->route_id,
               " ends");
    if (spec.right_route_id != 0 && right->route_id != spec.right_route_id) {
      const route::RouteDescriptor* named = catalog->FindRoute(spec.right_route_id);
      return MergeFinish(
          merge,
          named == nullptr
              ? absl::FailedPreconditionError(absl::StrCat(
                    "merge: route ", spec.right_route_id, " is not in the catalog (version ",
                    catalog->version(), "): it was split or merged, or never existed"))
              : absl::InvalidArgumentError(absl::StrCat(
                    "merge: ", route::FormatRoute(*left), " and ", route::FormatRoute(*named),
                    " are not adjacent; the route after it is ", right->route_id)));
    }
    merge->result.left_route_id = left->route_id;
    merge->result.right_route_id = right->route_id;
    for (const route::RouteDescriptor* half : {left, right}) {
      if (half->state != route::RouteState::kActive || half->move_target_group_id != 0) {
        return MergeFinish(merge,
                           absl::FailedPreconditionError(absl::StrCat(
                               "merge: ", route::FormatRoute(*half),
                               " is in motion (a move or fence); merge once it is ACTIVE again")));
      }
    }
    if (left->raft_group_id == right->raft_group_id ||
        options_.plants.merge_skips_move) {  // planted: merge across groups as they are
      return MergeCommit(merge, *catalog);
    }
    if (!spec.move_if_needed || merge->result.moved) {
      return MergeFinish(
          merge, absl::FailedPreconditionError(absl::StrCat(
                     "merge: route ", left->route_id, " is on group ", left->raft_group_id,
                     " and route ", right->route_id, " on group ", right->raft_group_id,
                     "; move one into the other's group first (or ask the merge to move it)")));
    }
    // Two steps: move the right route into the left's group, fenced by this catalog
    // version, then merge against the catalog as the move left it.
    MoveRangeSpec move;
    move.route_id = right->route_id;
    move.expected_catalog_version = catalog->version();
    move.target_group = left->raft_group_id;
    move.source_group = right->raft_group_id;
    move.timeout_us = spec.move_timeout_us;
    const OpId move_op = StartMoveRange(std::move(move));
    RunInternal(move_op, [this, merge](OpResult moved) {
      merge->result.move = moved.move;
      if (!moved.status.ok()) {
        return MergeFinish(
            merge, absl::Status(moved.status.code(),
                                absl::StrCat("merge: moving route ", merge->result.right_route_id,
                                             " first: ", moved.status.message())));
      }
      merge->result.moved = true;
      // The move changed the catalog; the route ids pin what is merged from here on.
      merge->spec.key.clear();
      merge->spec.route_id = merge->result.left_route_id;
      merge->spec.right_route_id = merge->result.right_route_id;
      merge->spec.expected_catalog_version = 0;
      MergeResolve(merge);
    });
  });
}

void Coordinator::MergeCommit(std::shared_ptr<Merge> merge, const route::RouteCatalog& catalog) {
  route::CatalogCommand command;
  command.op = route::MergeRanges{catalog.version(), merge->result.left_route_id,
                                  merge->result.right_route_id};
  // Sent again only when it certainly did not apply: a repeat of one that did would find
  // the version moved and be refused, which would misreport a done merge.
  ProposeCatalogChange(
      command, Retry::kDefinite, merge->deadline_us,
      [this, merge](absl::StatusOr<GroupReply> reply) {
        if (!reply.ok()) return MergeFinish(merge, reply.status());
        if (absl::Status s = reply->result.status(); !s.ok()) {
          return MergeFinish(merge, absl::Status(s.code(), absl::StrCat("merge: ", s.message())));
        }
        absl::StatusOr<route::CatalogDelta> delta = route::CatalogDelta::Decode(reply->result.blob);
        if (!delta.ok()) return MergeFinish(merge, delta.status());
        EKV_ASSERT(delta->upserted_routes.size() == 1 && delta->removed_route_ids.size() == 2,
                   "a merge's delta removes two routes and adds one");
        merge->result.merged = delta->upserted_routes.front();
        merge->result.catalog_version = delta->version;
        PushOwnership(merge->result.merged.raft_group_id, merge->deadline_us,
                      [this, merge]() { MergeFinish(merge, absl::OkStatus()); });
      });
}

}  // namespace ekv::coord
