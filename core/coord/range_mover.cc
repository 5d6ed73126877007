// coord::Coordinator: the cross-group range move (StartMoveRange), the orchestration side
// of core/node/range_records.h. One Move is a resumable state machine: `step` names the
// next thing to make true, every step is idempotent, and any failed, refused or unknown
// call sends the move back to the start of its step after a backoff. The catalog steps
// read the catalog first and act only if the route is still one state short of the one
// they want, so a repeat (or a second mover) never double-applies a change, and a move
// found further along (a resumed one) jumps to where it is.
//
// Deadlines: until the cut-over commits the move may still be rolled back, and it is once
// move->deadline_us passes (abort, below). From the cut-over on it can only finish; its
// remaining steps get move_finish_timeout_us, after which the operation fails and a new
// StartMoveRange (with source_group) resumes it.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/kv/codec.h"
#include "core/kv/key_codec.h"
#include "core/kv/kv_command.h"
#include "core/node/range_records.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// Where a route stands in a move from `source` to `target`, as one catalog shows it.
// Ordered: a move only ever goes forward through these (or back to kSourceActive by an
// abort before kCutOver).
enum class Phase {
  kGone,          // no such route, or it is somewhere this move does not explain
  kSourceActive,  // ACTIVE on the source, no move target
  kMoving,        // MIGRATING_SOURCE on the source, target named
  kFenced,        // WRITE_FENCED on the source, target named
  kCutOver,       // WRITE_FENCED on the target (reassigned, not yet writable)
  kTargetActive,  // ACTIVE on the target
};

Phase PhaseOf(const route::RouteCatalog& catalog, route::RouteId route_id, raft::GroupId source,
              raft::GroupId target) {
  const route::RouteDescriptor* route = catalog.FindRoute(route_id);
  if (route == nullptr) return Phase::kGone;
  if (route->raft_group_id == source) {
    if (route->move_target_group_id == 0) {
      return route->state == route::RouteState::kActive ? Phase::kSourceActive : Phase::kGone;
    }
    if (route->move_target_group_id != target) return Phase::kGone;
    if (route->state == route::RouteState::kMigratingSource) return Phase::kMoving;
    if (route->state == route::RouteState::kWriteFenced) return Phase::kFenced;
    return Phase::kGone;
  }
  if (route->raft_group_id == target && route->move_target_group_id == 0) {
    if (route->state == route::RouteState::kWriteFenced) return Phase::kCutOver;
    if (route->state == route::RouteState::kActive) return Phase::kTargetActive;
  }
  return Phase::kGone;
}

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kGone:
      return "gone";
    case Phase::kSourceActive:
      return "active on the source";
    case Phase::kMoving:
      return "moving";
    case Phase::kFenced:
      return "write-fenced";
    case Phase::kCutOver:
      return "cut over";
    case Phase::kTargetActive:
      return "active on the target";
  }
  return "?";
}

bool IsLockRecord(const node::RawRecord& record) {
  return !record.first.empty() && record.first[0] == kv::kLockPrefix;
}

}  // namespace

struct Coordinator::Move {
  enum class Step {
    kResolve,            // which route, and how far a move of it already is
    kStartMove,          // catalog: StartMove -> kMoving
    kPushStart,          // T (accepts chunks from then on), S
    kCopy,               // move_copy_passes passes while S still takes writes
    kFence,              // catalog: WRITE_FENCED -> kFenced
    kPushFence,          // S (refuses writes), T (refuses chunks of earlier passes)
    kFinalCopy,          // one pass under the fence: T now equals S on the range
    kSafePoint,          // T's GC safe point >= S's
    kCutOver,            // catalog: ReassignRoute -> kCutOver
    kPushCutOverSource,  // S stops serving the range
    kSourceMaxTs,        // M: S's largest timestamp, final now that S serves nothing of it
    kPushCutOverTarget,  // T serves reads
    kFloors,             // T's timestamps above every read S served and version S wrote
    kActivate,           // catalog: ACTIVE -> kTargetActive
    kPushActivate,       // T serves writes (the fence ends), S
    kCleanup,            // S drops the range's records
    // Abort (before the cut-over only):
    kAbort,         // catalog: ACTIVE on S again -> kSourceActive
    kPushAbort,     // S takes writes again, T stops receiving
    kAbortCleanup,  // T drops what it received
  };
  OpId op = 0;
  MoveRangeSpec spec;
  Step step = Step::kResolve;
  MoveRangeResult result;
  route::RouteDescriptor route;                // the route being moved, as last read
  std::optional<route::RouteCatalog> catalog;  // the last catalog read; push steps push it
  uint64_t ingest_version = 0;                 // move_catalog_version of the chunks sent
  uint64_t cutover_version = 0;
  uint64_t abort_version = 0;
  std::string cursor;  // the copy pass's next export cursor
  int passes_left = 0;
  bool pass_started = false;
  uint64_t source_max_ts = 0;
  uint64_t fence_started_us = 0;
  uint64_t deadline_us = 0;         // to reach the cut-over
  uint64_t finish_deadline_us = 0;  // after the cut-over, or for an abort
  bool aborting = false;
  std::string abort_reason;
  size_t push_next = 0;  // push steps: how many of their groups are done
  int attempt = 0;
  std::string last_error;
};

OpId Coordinator::StartMoveRange(MoveRangeSpec spec) {
  const uint64_t timeout = spec.timeout_us != 0 ? spec.timeout_us : options_.move_timeout_us;
  const OpId op = NewOp(timeout + options_.move_finish_timeout_us);
  if (spec.key.empty() && spec.route_id == 0) {
    Fail(op, absl::InvalidArgumentError("a move needs a key or the id of the route to move"));
    return op;
  }
  if (spec.target_group == 0) {
    Fail(op, absl::InvalidArgumentError("target group must be >= 1"));
    return op;
  }
  ++stats_.moves_started;
  auto move = std::make_shared<Move>();
  move->op = op;
  move->spec = std::move(spec);
  move->deadline_us = now_us_ + timeout;
  move->finish_deadline_us = move->deadline_us + options_.move_finish_timeout_us;
  move->result.target_group = move->spec.target_group;
  MoveDrive(std::move(move));
  return op;
}

void Coordinator::MoveFinish(std::shared_ptr<Move> move, absl::Status status) {
  if (status.ok()) {
    ++stats_.moves_finished;
    stats_.move_fence_us_total += move->result.fence_us;
    stats_.move_fence_us_max = std::max(stats_.move_fence_us_max, move->result.fence_us);
  } else if (move->result.aborted) {
    ++stats_.moves_aborted;
  }
  OpResult result;
  result.status = std::move(status);
  result.ts = move->result.catalog_version;
  result.move = move->result;
  Finish(move->op, std::move(result));
}

void Coordinator::MoveRetry(std::shared_ptr<Move> move, std::string why) {
  move->last_error = std::move(why);
  const bool before_cutover = !move->aborting && !move->result.cut_over;
  if (before_cutover && now_us_ >= move->deadline_us) {
    std::string why = absl::StrCat(
        "the move did not reach its cut-over before its deadline; last error: ", move->last_error);
    MoveBeginAbort(std::move(move), std::move(why));
    return;
  }
  if (!before_cutover && now_us_ >= move->finish_deadline_us) {
    const std::string what = move->aborting ? "aborting" : "finishing the cut-over";
    MoveFinish(move,
               absl::UnavailableError(absl::StrCat(
                   "range move of route ", move->result.route_id, ": ", what,
                   " did not complete before the deadline (StartMoveRange again, with "
                   "source_group ",
                   move->result.source_group, ", resumes it); last error: ", move->last_error)));
    return;
  }
  const int attempt = move->attempt++;
  After(Backoff(attempt), [this, move = std::move(move)]() mutable { MoveDrive(std::move(move)); });
}

void Coordinator::MoveBeginAbort(std::shared_ptr<Move> move, std::string why) {
  move->aborting = true;
  move->abort_reason = std::move(why);
  move->finish_deadline_us = now_us_ + options_.move_finish_timeout_us;
  move->step = Move::Step::kAbort;
  move->attempt = 0;
  MoveDrive(std::move(move));
}

void Coordinator::MoveDrive(std::shared_ptr<Move> move) {
  using Step = Move::Step;
  const uint64_t call_deadline = std::min(
      now_us_ + options_.request_timeout_us,
      move->aborting || move->result.cut_over ? move->finish_deadline_us : move->deadline_us);
  const bool before_cutover = !move->aborting && !move->result.cut_over;
  if (before_cutover && now_us_ >= move->deadline_us) {
    MoveBeginAbort(std::move(move), "the move did not reach its cut-over before its deadline");
    return;
  }
  const raft::GroupId source = move->result.source_group;
  const raft::GroupId target = move->result.target_group;
  switch (move->step) {
    case Step::kResolve:
      ReadCatalog(call_deadline, [this, move](absl::StatusOr<route::RouteCatalog> catalog) {
        if (!catalog.ok()) return MoveRetry(move, std::string(catalog.status().message()));
        if (move->spec.expected_catalog_version != 0 &&
            move->spec.expected_catalog_version != catalog->version()) {
          move->result.catalog_version = catalog->version();
          return MoveFinish(move, absl::FailedPreconditionError(absl::StrCat(
                                      "catalog version is ", catalog->version(), ", expected ",
                                      move->spec.expected_catalog_version)));
        }
        const route::RouteDescriptor* route = move->spec.key.empty()
                                                  ? catalog->FindRoute(move->spec.route_id)
                                                  : catalog->RouteForKey(move->spec.key);
        if (route == nullptr ||
            (move->spec.route_id != 0 && route->route_id != move->spec.route_id)) {
          move->result.catalog_version = catalog->version();
          return MoveFinish(
              move, absl::FailedPreconditionError(absl::StrCat(
                        "route ", move->spec.route_id, " is not in the catalog (version ",
                        catalog->version(), "): it was split or merged, or never existed")));
        }
        // Any key of the route names it from here on (the catalog steps look it up by key).
        if (move->spec.key.empty()) move->spec.key = route->start;
        const raft::GroupId t = move->spec.target_group;
        raft::GroupId s = route->raft_group_id;
        if (s == t) {
          if (move->spec.source_group == 0 || move->spec.source_group == t) {
            if (route->state == route::RouteState::kActive) {
              move->result.route_id = route->route_id;
              move->result.source_group = t;
              move->result.catalog_version = catalog->version();
              return MoveFinish(move, absl::OkStatus());  // already there
            }
            return MoveFinish(
                move, absl::FailedPreconditionError(absl::StrCat(
                          "route ", route->route_id, " is cut over to group ", t,
                          " but not active; StartMoveRange with its source_group finishes it")));
          }
          s = move->spec.source_group;
        } else if (move->spec.source_group != 0 && move->spec.source_group != s) {
          return MoveFinish(move, absl::FailedPreconditionError(
                                      absl::StrCat("route ", route->route_id, " is on group ", s,
                                                   ", not ", move->spec.source_group)));
        }
        move->route = *route;
        move->result.route_id = route->route_id;
        move->result.source_group = s;
        move->result.catalog_version = catalog->version();
        const Phase phase = PhaseOf(*catalog, route->route_id, s, t);
        switch (phase) {
          case Phase::kGone:
            return MoveFinish(move, absl::FailedPreconditionError(absl::StrCat(
                                        "route ", route::FormatRoute(*route),
                                        " is in no state a move to group ", t, " explains")));
          case Phase::kSourceActive:
            move->step = Move::Step::kStartMove;
            break;
          case Phase::kMoving:
          case Phase::kFenced:
          case Phase::kCutOver:
          case Phase::kTargetActive:
            // Resume: the catalog step of that phase records it and goes on from there.
            move->step = phase == Phase::kMoving    ? Move::Step::kStartMove
                         : phase == Phase::kFenced  ? Move::Step::kFence
                         : phase == Phase::kCutOver ? Move::Step::kCutOver
                                                    : Move::Step::kActivate;
            break;
        }
        MoveDrive(move);
      });
      return;

    case Step::kStartMove:
    case Step::kFence:
    case Step::kCutOver:
    case Step::kActivate:
    case Step::kAbort:
      MoveCatalogStep(std::move(move));
      return;

    case Step::kPushStart:
    case Step::kPushFence:
    case Step::kPushCutOverSource:
    case Step::kPushCutOverTarget:
    case Step::kPushActivate:
    case Step::kPushAbort: {
      std::vector<raft::GroupId> groups;
      const bool tell_source = !options_.plants.move_source_serves_after_cutover;
      switch (move->step) {
        case Step::kPushStart:
          groups = {target, source};
          break;
        case Step::kPushFence:
          groups = {source, target};
          break;
        case Step::kPushAbort:
          groups = {source, target};
          // A target retired after the rollback has no replica left to tell (or to clean).
          if (move->catalog->IsRetired(target)) groups = {source};
          break;
        case Step::kPushCutOverSource:
          if (tell_source) groups = {source};
          break;
        case Step::kPushCutOverTarget:
          groups = {target};
          break;
        case Step::kPushActivate:
          groups = {target};
          // A source retired after the activation has no replica left to tell (or to clean);
          // the catalog refuses to retire it before (RouteCatalog::Retire).
          if (tell_source && !move->catalog->IsRetired(source)) groups.push_back(source);
          break;
        default:
          EKV_UNREACHABLE("not a push step");
      }
      if (move->push_next >= groups.size()) {
        move->push_next = 0;
        move->attempt = 0;
        switch (move->step) {
          case Step::kPushStart:
            move->step = Step::kCopy;
            move->passes_left = std::max(options_.move_copy_passes, 1);
            move->pass_started = false;
            break;
          case Step::kPushFence:
            move->step = Step::kFinalCopy;
            move->passes_left = options_.plants.move_cutover_before_final_copy ? 0 : 1;
            move->pass_started = false;
            break;
          case Step::kPushCutOverSource:
            move->step = Step::kSourceMaxTs;
            break;
          case Step::kPushCutOverTarget:
            move->step = Step::kFloors;
            break;
          case Step::kPushActivate:
            move->step = Step::kCleanup;
            break;
          case Step::kPushAbort:
            move->step = Step::kAbortCleanup;
            break;
          default:
            EKV_UNREACHABLE("not a push step");
        }
        MoveDrive(std::move(move));
        return;
      }
      // Read before the pointer is moved into the call (argument order is unspecified).
      const raft::GroupId group = groups[move->push_next];
      MovePush(std::move(move), group);
      return;
    }

    case Step::kCopy:
    case Step::kFinalCopy:
      if (move->passes_left == 0) {
        move->attempt = 0;
        move->step = move->step == Step::kCopy ? Step::kFence : Step::kSafePoint;
        MoveDrive(std::move(move));
        return;
      }
      MoveCopyChunk(std::move(move));
      return;

    case Step::kSafePoint: {
      // A GC pass at the stored safe point over at most one key answers the source's
      // safe point; the target, which will serve the range's reads, must not be below it
      // (it would answer reads from a history the source has already collected).
      kv::GcCommand probe{1, move->route.start, 1};
      MoveGroupCommand(move, source, node::GroupCommandOp::kKv,
                       kv::EncodeKvCommand(kv::KvCommand(probe)),
                       [this, move, target](const node::GroupResult& probed) {
                         const uint64_t safe_point = probed.ts;
                         if (safe_point <= 1) {
                           move->step = Move::Step::kCutOver;
                           return MoveDrive(move);
                         }
                         kv::GcCommand raise{safe_point, move->route.start, 1};
                         MoveGroupCommand(move, target, node::GroupCommandOp::kKv,
                                          kv::EncodeKvCommand(kv::KvCommand(raise)),
                                          [this, move](const node::GroupResult&) {
                                            move->step = Move::Step::kCutOver;
                                            MoveDrive(move);
                                          });
                       });
      return;
    }

    case Step::kSourceMaxTs: {
      // A floor of 0 changes nothing and answers the group's largest timestamp. Asked
      // after the source applied the cut-over, so nothing of the range can raise it later.
      std::string payload;
      kv::AppendVarint64(&payload, 0);
      kv::AppendByte(&payload, 0);
      MoveGroupCommand(move, source, node::GroupCommandOp::kTimestampFloor, std::move(payload),
                       [this, move](const node::GroupResult& answer) {
                         move->source_max_ts = answer.ts;
                         move->step = Move::Step::kPushCutOverTarget;
                         MoveDrive(move);
                       });
      return;
    }

    case Step::kFloors:
      // F, drawn after the source stopped serving the range, is above every read
      // timestamp it served for it; later timestamps on the target land above F and M.
      Timestamp(call_deadline, [this, move, target](absl::StatusOr<uint64_t> ts) {
        if (!ts.ok()) return MoveRetry(move, std::string(ts.status().message()));
        const uint64_t floor = *ts;
        std::string payload;
        kv::AppendVarint64(&payload, std::max(floor, move->source_max_ts));
        kv::AppendByte(&payload, 0);
        MoveGroupCommand(move, target, node::GroupCommandOp::kTimestampFloor, std::move(payload),
                         [this, move, target, floor](const node::GroupResult&) {
                           MoveGroupCommand(move, target, node::GroupCommandOp::kKv,
                                            kv::EncodeKvCommand(kv::AdvanceReadFloorCommand{floor}),
                                            [this, move](const node::GroupResult&) {
                                              move->step = Move::Step::kActivate;
                                              MoveDrive(move);
                                            });
                         });
      });
      return;

    case Step::kCleanup:
    case Step::kAbortCleanup: {
      const bool abort = move->step == Step::kAbortCleanup;
      if (!abort && options_.plants.move_source_serves_after_cutover) {
        // Planted: the source is never told, so it cannot be asked to drop the range.
        return MoveFinish(move, absl::OkStatus());
      }
      if (!abort && move->catalog->IsRetired(source)) {
        return MoveFinish(move, absl::OkStatus());  // its records went with the group
      }
      if (abort && move->catalog->IsRetired(target)) {
        return MoveFinish(
            move, absl::AbortedError(absl::StrCat(
                      "range move of route ", move->result.route_id, " rolled back (group ", target,
                      " retired since, with what it received): ", move->abort_reason)));
      }
      const raft::GroupId group = abort ? target : source;
      node::DeleteRangeRequest request{move->route.start, move->route.end,
                                       abort ? move->abort_version : move->cutover_version};
      node::GroupCommand command;
      command.op = node::GroupCommandOp::kDeleteRange;
      command.physical_ms = wall_ms_;
      command.payload = node::EncodeDeleteRange(request);
      Execute(group, node::OpKind::kApply, node::EncodeGroupCommand(command), Retry::kUnknownToo,
              call_deadline, [this, move, group, abort](absl::StatusOr<GroupReply> reply) {
                if (!reply.ok()) return MoveRetry(move, std::string(reply.status().message()));
                const node::GroupResult& result = reply->result;
                if (result.code == absl::StatusCode::kAborted) {
                  // The group's view is behind the decision: tell it, then ask again.
                  move->step = abort ? Move::Step::kPushAbort : Move::Step::kPushActivate;
                  move->push_next = 0;
                  return MoveRetry(move, absl::StrCat("group ", group, ": ", result.message));
                }
                // FailedPrecondition: the range is the group's again (a later move): its
                // records are its own now and stay.
                if (!result.status().ok() && result.code != absl::StatusCode::kFailedPrecondition) {
                  return MoveRetry(move, absl::StrCat("group ", group, ": ", result.message));
                }
                if (abort) {
                  return MoveFinish(move, absl::AbortedError(absl::StrCat(
                                              "range move of route ", move->result.route_id,
                                              " rolled back: ", move->abort_reason)));
                }
                MoveFinish(move, absl::OkStatus());
              });
      return;
    }
  }
  EKV_UNREACHABLE("unknown move step");
}

void Coordinator::MoveCatalogStep(std::shared_ptr<Move> move) {
  using Step = Move::Step;
  const uint64_t call_deadline = std::min(
      now_us_ + options_.request_timeout_us,
      move->aborting || move->result.cut_over ? move->finish_deadline_us : move->deadline_us);
  ReadCatalog(
      call_deadline, [this, move, call_deadline](absl::StatusOr<route::RouteCatalog> catalog) {
        if (!catalog.ok()) return MoveRetry(move, std::string(catalog.status().message()));
        const raft::GroupId source = move->result.source_group;
        const raft::GroupId target = move->result.target_group;
        const route::RouteId route_id = move->result.route_id;
        const Phase phase = PhaseOf(*catalog, route_id, source, target);
        move->result.catalog_version = catalog->version();
        if (const route::RouteDescriptor* route = catalog->FindRoute(route_id))
          move->route = *route;
        Phase want = Phase::kGone;
        switch (move->step) {
          case Step::kStartMove:
            want = Phase::kMoving;
            break;
          case Step::kFence:
            want = Phase::kFenced;
            break;
          case Step::kCutOver:
            want = Phase::kCutOver;
            break;
          case Step::kActivate:
            want = Phase::kTargetActive;
            break;
          case Step::kAbort:
            want = Phase::kSourceActive;
            break;
          default:
            EKV_UNREACHABLE("not a catalog step");
        }
        if (phase == Phase::kGone) {
          return MoveFinish(move, absl::FailedPreconditionError(absl::StrCat(
                                      "range move of route ", route_id, " from group ", source,
                                      " to ", target, ": the catalog (version ", catalog->version(),
                                      ") shows the route in no state this move explains")));
        }
        if (move->step == Step::kStartMove && phase == Phase::kSourceActive &&
            catalog->IsRetired(target)) {
          // Retired before the move named it (the catalog retires no group a route names):
          // nothing of the move reached it, and StartMove would be refused for ever.
          return MoveFinish(
              move, absl::FailedPreconditionError(absl::StrCat(
                        "range move of route ", route_id, " to group ", target,
                        ": the group is retired (catalog version ", catalog->version(), ")")));
        }
        // Past the cut-over a move can only finish, whatever asked for the abort.
        if (move->step == Step::kAbort && phase >= Phase::kCutOver) {
          move->aborting = false;
          // Finishing now, on the finishing budget (the cut-over deadline is past).
          move->result.cut_over = true;
          move->finish_deadline_us = now_us_ + options_.move_finish_timeout_us;
          move->step = phase == Phase::kCutOver ? Step::kCutOver : Step::kActivate;
          return MoveDrive(move);
        }
        if (move->step != Step::kAbort && phase == Phase::kSourceActive && want != Phase::kMoving) {
          // Rolled back by someone else (another mover's abort).
          move->result.aborted = true;
          return MoveFinish(move, absl::AbortedError(absl::StrCat(
                                      "range move of route ", route_id,
                                      " was rolled back by another coordinator (catalog version ",
                                      catalog->version(), ")")));
        }
        if (move->step != Step::kAbort && phase > want) {
          // Further along than this step (a resumed move): go on from that phase's step.
          move->step = phase == Phase::kMoving    ? Step::kStartMove
                       : phase == Phase::kFenced  ? Step::kFence
                       : phase == Phase::kCutOver ? Step::kCutOver
                                                  : Step::kActivate;
          return MoveDrive(move);
        }
        if (phase == want) {
          move->catalog = *catalog;
          move->attempt = 0;
          move->push_next = 0;
          switch (move->step) {
            case Step::kStartMove:
              move->ingest_version = catalog->version();
              move->step = Step::kPushStart;
              break;
            case Step::kFence:
              move->ingest_version = catalog->version();
              move->step = Step::kPushFence;
              break;
            case Step::kCutOver:
              move->cutover_version = catalog->version();
              if (!move->result.cut_over) {
                move->result.cut_over = true;
                move->finish_deadline_us = now_us_ + options_.move_finish_timeout_us;
              }
              move->step = Step::kPushCutOverSource;
              break;
            case Step::kActivate:
              if (move->cutover_version == 0) move->cutover_version = catalog->version();
              move->result.cut_over = true;
              move->step = Step::kPushActivate;
              break;
            case Step::kAbort:
              move->abort_version = catalog->version();
              move->result.aborted = true;
              move->step = Step::kPushAbort;
              break;
            default:
              EKV_UNREACHABLE("not a catalog step");
          }
          return MoveDrive(move);
        }
        // One state short (or, for an abort, moving or fenced): propose the change against
        // the version just read, then read again whatever the answer says.
        route::CatalogCommand command;
        const uint64_t version = catalog->version();
        switch (move->step) {
          case Step::kStartMove:
            command.op = route::StartMove{version, route_id, target};
            break;
          case Step::kFence:
            if (move->fence_started_us == 0) move->fence_started_us = now_us_;
            command.op = route::SetRouteState{version, route_id, route::RouteState::kWriteFenced};
            break;
          case Step::kCutOver:
            if (phase != Phase::kFenced) {
              // Unfenced by someone: fence again, and copy again under the fence.
              move->step = Step::kFence;
              return MoveDrive(move);
            }
            command.op = route::ReassignRoute{version, route_id, target};
            break;
          case Step::kActivate:
            // Only from kCutOver: ACTIVE on a route still on the source would be an abort.
            if (phase != Phase::kCutOver) {
              return MoveFinish(
                  move, absl::FailedPreconditionError(absl::StrCat("range move of route ", route_id,
                                                                   ": expected it cut over, "
                                                                   "found it ",
                                                                   PhaseName(phase))));
            }
            command.op = route::SetRouteState{version, route_id, route::RouteState::kActive};
            break;
          case Step::kAbort:
            command.op = route::SetRouteState{version, route_id, route::RouteState::kActive};
            break;
          default:
            EKV_UNREACHABLE("not a catalog step");
        }
        ProposeCatalogChange(
            command, Retry::kUnknownToo, call_deadline,
            [this, move, phase](absl::StatusOr<GroupReply> reply) {
              if (reply.ok() && reply->result.status().ok()) {
                move->attempt = 0;
                return MoveDrive(move);  // read it back: that read decides
              }
              const std::string why =
                  reply.ok() ? reply->result.message : std::string(reply.status().message());
              if (reply.ok() && reply->result.code == absl::StatusCode::kFailedPrecondition &&
                  move->attempt < 3) {
                // Lost a race with another catalog change: read again at once.
                ++move->attempt;
                return MoveDrive(move);
              }
              MoveRetry(move, absl::StrCat("catalog change from '", PhaseName(phase),
                                           "' refused or unanswered: ", why));
            });
      });
}

void Coordinator::MovePush(std::shared_ptr<Move> move, raft::GroupId group) {
  EKV_ASSERT(move->catalog.has_value(), "a push step needs the catalog it pushes");
  node::GroupCommand command;
  command.op = node::GroupCommandOp::kOwnership;
  command.physical_ms = wall_ms_;
  command.payload = move->catalog->Encode();
  const uint64_t version = move->catalog->version();
  const uint64_t call_deadline = std::min(
      now_us_ + options_.request_timeout_us,
      move->aborting || move->result.cut_over ? move->finish_deadline_us : move->deadline_us);
  // Idempotent (a group ignores a catalog no newer than its own), so retried on unknown
  // outcomes too. The answer is the group's applied view: once it is >= version, every
  // request the group takes later is judged by it.
  Execute(group, node::OpKind::kApply, node::EncodeGroupCommand(command), Retry::kUnknownToo,
          call_deadline, [this, move, group, version](absl::StatusOr<GroupReply> reply) {
            if (!reply.ok()) return MoveRetry(move, std::string(reply.status().message()));
            if (!reply->result.status().ok() || reply->result.ts < version) {
              return MoveRetry(move, absl::StrCat("group ", group, " did not take catalog ",
                                                  version, ": ", reply->result.message));
            }
            ++stats_.ownership_updates;
            if (move->step == Move::Step::kPushActivate && group == move->result.target_group &&
                move->fence_started_us != 0 && move->result.fence_us == 0) {
              // The target applied the activation: writes of the range go through again.
              move->result.fence_us = now_us_ - move->fence_started_us;
            }
            ++move->push_next;
            MoveDrive(move);
          });
}

void Coordinator::MoveGroupCommand(std::shared_ptr<Move> move, raft::GroupId group,
                                   node::GroupCommandOp op, std::string payload,
                                   std::function<void(const node::GroupResult&)> next) {
  node::GroupCommand command;
  command.op = op;
  command.physical_ms = wall_ms_;
  command.payload = std::move(payload);
  const uint64_t call_deadline = std::min(
      now_us_ + options_.request_timeout_us,
      move->aborting || move->result.cut_over ? move->finish_deadline_us : move->deadline_us);
  // Every command a move sends by itself is idempotent (floors and safe points only
  // rise), so an unknown outcome is simply asked again.
  Execute(group, node::OpKind::kApply, node::EncodeGroupCommand(command), Retry::kUnknownToo,
          call_deadline,
          [this, move, group, next = std::move(next)](absl::StatusOr<GroupReply> reply) {
            if (!reply.ok()) return MoveRetry(move, std::string(reply.status().message()));
            if (!reply->result.status().ok()) {
              return MoveRetry(move, absl::StrCat("group ", group, ": ", reply->result.message));
            }
            move->attempt = 0;
            next(reply->result);
          });
}

void Coordinator::MoveCopyChunk(std::shared_ptr<Move> move) {
  const raft::GroupId source = move->result.source_group;
  const raft::GroupId target = move->result.target_group;
  if (!move->pass_started) {
    move->pass_started = true;
    move->cursor.clear();
  }
  const uint64_t call_deadline = std::min(now_us_ + options_.request_timeout_us, move->deadline_us);
  node::ExportRangeRequest request{
      move->route.start, move->route.end, move->cursor,
      std::clamp<uint64_t>(options_.move_chunk_bytes, 1, node::kMaxRangeChunkBytes)};
  node::GroupQuery query;
  query.op = node::GroupQueryOp::kExportRange;
  query.payload = node::EncodeExportRange(request);
  Execute(source, node::OpKind::kQuery, node::EncodeGroupQuery(query), Retry::kUnknownToo,
          call_deadline,
          [this, move, source, target, call_deadline](absl::StatusOr<GroupReply> exported) {
            if (!exported.ok()) return MoveRetry(move, std::string(exported.status().message()));
            if (!exported->result.status().ok()) {
              // The source does not hold the range as this move thinks: re-read the catalog.
              move->step =
                  move->step == Move::Step::kCopy ? Move::Step::kStartMove : Move::Step::kFence;
              return MoveRetry(
                  move, absl::StrCat("export from group ", source, ": ", exported->result.message));
            }
            node::IngestRangeRequest chunk;
            chunk.route_id = move->result.route_id;
            chunk.move_catalog_version = move->ingest_version;
            chunk.start = move->route.start;
            chunk.end = move->route.end;
            chunk.from_cursor = move->cursor;
            chunk.to_cursor = exported->result.value.value_or("");
            chunk.records = std::move(exported->result.pairs);
            if (options_.plants.move_forgets_locks) {  // planted bug: open transactions' locks
              std::erase_if(chunk.records, IsLockRecord);
            }
            const size_t records = chunk.records.size();
            std::string next_cursor = chunk.to_cursor;
            node::GroupCommand command;
            command.op = node::GroupCommandOp::kIngestRange;
            command.physical_ms = wall_ms_;
            command.payload = node::EncodeIngestRange(chunk);
            Execute(target, node::OpKind::kApply, node::EncodeGroupCommand(command),
                    Retry::kUnknownToo, call_deadline,
                    [this, move, target, records,
                     next_cursor = std::move(next_cursor)](absl::StatusOr<GroupReply> ingested) {
                      if (!ingested.ok()) {
                        return MoveRetry(move, std::string(ingested.status().message()));
                      }
                      const node::GroupResult& result = ingested->result;
                      if (result.code == absl::StatusCode::kAborted) {
                        // The target's view is behind the chunk's version: tell it again.
                        move->step = move->step == Move::Step::kCopy ? Move::Step::kPushStart
                                                                     : Move::Step::kPushFence;
                        move->push_next = 0;
                        return MoveRetry(
                            move, absl::StrCat("ingest into group ", target, ": ", result.message));
                      }
                      if (!result.status().ok()) {
                        // Refused for good at this version (the target saw a newer catalog,
                        // or the move is over): re-read the catalog and go from there.
                        move->step = move->step == Move::Step::kCopy ? Move::Step::kStartMove
                                                                     : Move::Step::kFence;
                        return MoveRetry(
                            move, absl::StrCat("ingest into group ", target, ": ", result.message));
                      }
                      move->attempt = 0;
                      move->result.records_copied += records;
                      move->cursor = next_cursor;
                      if (move->cursor.empty()) {
                        --move->passes_left;
                        move->pass_started = false;
                        ++move->result.copy_passes;
                      }
                      MoveDrive(move);
                    });
          });
}

}  // namespace ekv::coord
