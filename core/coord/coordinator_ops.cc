// coord::Coordinator: raw kv operations, scans, generic routed and whole-group requests,
// timestamps, the catalog and splits.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/coord/read_restart.h"
#include "core/kv/codec.h"
#include "core/kv/kv_state_machine.h"
#include "core/node/codec.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

std::string QueryBytes(node::GroupQueryOp op, std::string payload, uint64_t catalog_version) {
  node::GroupQuery query;
  query.op = op;
  query.payload = std::move(payload);
  query.catalog_version = catalog_version;
  return node::EncodeGroupQuery(query);
}

absl::Status ValidateScan(const std::string& start, const std::string& end, int64_t limit,
                          size_t max_limit) {
  if (limit <= 0 || static_cast<uint64_t>(limit) > max_limit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be in 1..", max_limit, ", got ", limit));
  }
  if (!end.empty() && end <= start) {
    return absl::InvalidArgumentError("end_key must be greater than start_key (or empty)");
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// RawKV

void Coordinator::WriteOp(OpId op, std::string key, kv::Mutation mutation) {
  kv::RawWriteCommand command;
  command.mutations.push_back(std::move(mutation));
  // A raw write is not idempotent: one whose outcome is unknown is reported so, never
  // re-proposed (a late first copy could land after a later write of the same key).
  const Retry retry = options_.plants.retry_unknown_write ? Retry::kUnknownToo : Retry::kDefinite;
  KvCommandRouted(key, kv::EncodeKvCommand(command), retry, DeadlineOf(op),
                  [this, op](absl::StatusOr<GroupReply> reply) {
                    if (!reply.ok()) return Fail(op, reply.status());
                    if (absl::Status s = reply->result.status(); !s.ok()) return Fail(op, s);
                    OpResult result;
                    result.index = reply->index;
                    result.ts = reply->result.ts;
                    Finish(op, std::move(result));
                  });
}

OpId Coordinator::StartRawPut(std::string key, std::string value) {
  const OpId op = NewOp();
  if (key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  std::string routing_key = key;
  WriteOp(op, std::move(routing_key), kv::Mutation::Put(std::move(key), std::move(value)));
  return op;
}

OpId Coordinator::StartRawDelete(std::string key) {
  const OpId op = NewOp();
  if (key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  std::string routing_key = key;
  WriteOp(op, std::move(routing_key), kv::Mutation::Delete(std::move(key)));
  return op;
}

void Coordinator::RawGetAttempt(OpId op, std::string key, int attempt) {
  if (now_us_ >= DeadlineOf(op)) {
    return Fail(op,
                absl::UnavailableError("the key's lock could not be resolved before the deadline"));
  }
  ExecuteRouted(
      key, node::OpKind::kQuery,
      [key](uint64_t version) { return QueryBytes(node::GroupQueryOp::kRawGet, key, version); },
      Retry::kUnknownToo, DeadlineOf(op),
      [this, op, key, attempt](absl::StatusOr<GroupReply> reply) {
        if (!reply.ok()) return Fail(op, reply.status());
        if (absl::Status s = reply->result.status(); !s.ok()) return Fail(op, s);
        OpResult result;
        result.index = reply->index;
        result.value = std::move(reply->result.value);
        if (reply->result.key_errors.empty()) return Finish(op, std::move(result));
        // The key is locked (the group answered the version below the lock, and the
        // lock): the read stands if the lock's transaction had not committed -- its
        // primary, asked after the read, says so -- else read again once it is resolved
        // (group_state_machine.cc, "FirstLocksIn").
        AwaitLockChecks(std::move(reply->result.key_errors), 0, DeadlineOf(op),
                        [this, op, key, attempt,
                         result = std::move(result)](absl::StatusOr<LockCheck> check) mutable {
                          if (!check.ok()) return Fail(op, check.status());
                          if (*check == LockCheck::kAlive) return Finish(op, std::move(result));
                          if (*check == LockCheck::kGone) {
                            return RawGetAttempt(op, key, attempt + 1);
                          }
                          After(Backoff(attempt),
                                [this, op, key, attempt] { RawGetAttempt(op, key, attempt + 1); });
                        });
      });
}

OpId Coordinator::StartRawGet(std::string key, uint64_t ts) {
  const OpId op = NewOp();
  if (key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  if (ts != 0) {
    // A snapshot read: a transaction's lock below ts is resolved (its primary decides)
    // before the read is answered, as a transactional read does.
    TxnGetAttempt(op, std::move(key), ts, SnapshotOf::kAsOf, 0);
    return op;
  }
  RawGetAttempt(op, std::move(key), 0);
  return op;
}

OpId Coordinator::StartRawLatestCommitTs(std::string key) {
  const OpId op = NewOp();
  if (key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  KvQueryRouted(key, node::EncodeKvQuery(kv::KvQuery::LatestCommitTs(key)), DeadlineOf(op),
                [this, op](absl::StatusOr<GroupReply> reply) {
                  if (!reply.ok()) return Fail(op, reply.status());
                  if (absl::Status s = reply->result.status(); !s.ok()) return Fail(op, s);
                  OpResult result;
                  result.index = reply->index;
                  result.ts = reply->result.ts;  // 0: the key has no version
                  Finish(op, std::move(result));
                });
  return op;
}

namespace {
// A RawScan at a caller's timestamp reads AS OF it (kv::KvQuery::as_of).
std::string EncodeAsOfScan(const route::SubScan& sub, uint64_t want, uint64_t ts) {
  kv::KvQuery scan = kv::KvQuery::Scan(sub.start, sub.end, want, ts);
  scan.as_of = true;
  return node::EncodeKvQuery(scan);
}
}  // namespace

OpId Coordinator::StartRawScan(std::string start, std::string end, int64_t limit, uint64_t ts) {
  const OpId op = NewOp();
  if (absl::Status valid = ValidateScan(start, end, limit, options_.max_scan_limit); !valid.ok()) {
    Fail(op, valid);
    return op;
  }
  route::ScanSpec spec;
  spec.start = std::move(start);
  spec.end = std::move(end);
  spec.limit = static_cast<uint64_t>(limit);
  const uint64_t deadline = DeadlineOf(op);
  ScanRoutes(
      std::move(spec), /*page=*/0, deadline,
      [this, ts, deadline](const route::SubScan& sub, uint64_t want, SubScanDone done) {
        std::string query =
            ts == 0 ? QueryBytes(node::GroupQueryOp::kRawScan,
                                 node::EncodeRawScan(sub.start, sub.end, want), sub.catalog_version)
                    : QueryBytes(node::GroupQueryOp::kKv, EncodeAsOfScan(sub, want, ts),
                                 sub.catalog_version);
        Execute(
            sub.raft_group_id, node::OpKind::kQuery, std::move(query), Retry::kUnknownToo, deadline,
            [this, deadline, done = std::move(done)](absl::StatusOr<GroupReply> reply) {
              if (!reply.ok()) return done(reply.status());
              if (reply->result.restart_above != 0) {
                return done(ReadRestartError(reply->result.restart_above, reply->result.message));
              }
              if (!reply->result.key_errors.empty() && !reply->result.status().ok()) {
                // A snapshot read (ts > 0) met a transaction's lock: resolve it and
                // read the same part again.
                AwaitLockResolution(reply->result.key_errors.front(), deadline,
                                    [done = std::move(done)](absl::StatusOr<bool> resolved) {
                                      if (!resolved.ok()) return done(resolved.status());
                                      done(std::optional<KvPairs>());
                                    });
                return;
              }
              if (!reply->result.key_errors.empty()) {
                // A latest read (ts 0) met locks: its pairs stand if every lock's
                // transaction had not committed, else the part is read again
                // (RawGetAttempt).
                AwaitLockChecks(std::move(reply->result.key_errors), 0, deadline,
                                [pairs = std::move(reply->result.pairs),
                                 done = std::move(done)](absl::StatusOr<LockCheck> check) mutable {
                                  if (!check.ok()) return done(check.status());
                                  if (*check != LockCheck::kAlive) {
                                    return done(std::optional<KvPairs>());
                                  }
                                  done(std::optional<KvPairs>(std::move(pairs)));
                                });
                return;
              }
              if (absl::Status s = reply->result.status(); !s.ok()) return done(s);
              done(std::optional<KvPairs>(std::move(reply->result.pairs)));
            });
      },
      [this, op](absl::StatusOr<KvPairs> pairs) {
        if (!pairs.ok()) return Fail(op, pairs.status());
        OpResult result;
        result.pairs = *std::move(pairs);
        Finish(op, std::move(result));
      });
  return op;
}

// ---------------------------------------------------------------------------------------
// Generic routed and whole-group requests

Coordinator::ReplyFn Coordinator::FinishWithGroupResult(OpId op) {
  return [this, op](absl::StatusOr<GroupReply> reply) {
    if (!reply.ok()) return Fail(op, reply.status());
    OpResult result;
    result.index = reply->index;
    result.group_result = std::move(reply->result);
    Finish(op, std::move(result));
  };
}

OpId Coordinator::StartKvCommand(std::string routing_key, std::string kv_command) {
  const OpId op = NewOp();
  if (routing_key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  KvCommandRouted(routing_key, std::move(kv_command), Retry::kDefinite, DeadlineOf(op),
                  FinishWithGroupResult(op));
  return op;
}

OpId Coordinator::StartKvQuery(std::string routing_key, std::string kv_query) {
  const OpId op = NewOp();
  if (routing_key.empty()) {
    Fail(op, absl::InvalidArgumentError("key must not be empty"));
    return op;
  }
  KvQueryRouted(routing_key, std::move(kv_query), DeadlineOf(op), FinishWithGroupResult(op));
  return op;
}

OpId Coordinator::StartGroupCommand(raft::GroupId group, node::GroupCommand command,
                                    uint64_t timeout_us) {
  const OpId op = NewOp(timeout_us);
  command.physical_ms = wall_ms_;
  Execute(group, node::OpKind::kApply, node::EncodeGroupCommand(command), Retry::kDefinite,
          DeadlineOf(op), FinishWithGroupResult(op));
  return op;
}

OpId Coordinator::StartGroupQuery(raft::GroupId group, node::GroupQuery query) {
  const OpId op = NewOp();
  Execute(group, node::OpKind::kQuery, node::EncodeGroupQuery(query), Retry::kUnknownToo,
          DeadlineOf(op), FinishWithGroupResult(op));
  return op;
}

OpId Coordinator::StartLeaderRequest(raft::GroupId group, node::OpKind kind, std::string payload,
                                     uint64_t timeout_us) {
  const OpId op = NewOp(timeout_us);
  EKV_ASSERT(kind == node::OpKind::kTimestamp || kind == node::OpKind::kConfChange,
             "leader requests are timestamps and conf changes, not ", node::OpKindName(kind));
  Execute(group, kind, std::move(payload), Retry::kLeaderOnly, DeadlineOf(op),
          [this, op](absl::StatusOr<GroupReply> reply) {
            if (!reply.ok()) return Fail(op, reply.status());
            OpResult result;
            result.index = reply->index;
            result.ts = reply->reply.timestamp;
            result.leader_reply = std::move(reply->reply);
            Finish(op, std::move(result));
          });
  return op;
}

OpId Coordinator::StartGcPass(raft::GroupId group, uint64_t safe_point, std::string start_key,
                              uint64_t max_keys) {
  const OpId op = NewOp();
  kv::GcCommand command;
  command.safe_point = safe_point;
  command.start_key = std::move(start_key);
  command.max_keys = max_keys;
  node::GroupCommand group_command;
  group_command.op = node::GroupCommandOp::kKv;
  group_command.physical_ms = wall_ms_;
  group_command.payload = kv::EncodeKvCommand(command);
  // Unversioned (catalog_version 0): GC is whole-group, and no ownership check applies.
  Execute(group, node::OpKind::kApply, node::EncodeGroupCommand(group_command), Retry::kDefinite,
          DeadlineOf(op), [this, op](absl::StatusOr<GroupReply> reply) {
            if (!reply.ok()) return Fail(op, reply.status());
            if (absl::Status s = reply->result.status(); !s.ok()) return Fail(op, s);
            OpResult result;
            result.index = reply->index;
            result.ts = reply->result.ts;                   // the safe point it ran at
            result.value = std::move(reply->result.value);  // where the next pass starts
            Finish(op, std::move(result));
          });
  return op;
}

// ---------------------------------------------------------------------------------------
// Timestamps, the catalog, splits

void Coordinator::Timestamp(uint64_t deadline_us, TimestampFn done, uint64_t at_least,
                            int attempt) {
  // Served from memory by the leader of the catalog group (core/node/timestamp_oracle.h).
  const uint64_t invoked = now_us_;
  Execute(options_.catalog_group, node::OpKind::kTimestamp, node::EncodeTimestampRequest(at_least),
          Retry::kLeaderOnly, deadline_us,
          [this, deadline_us, invoked, attempt, at_least,
           done = std::move(done)](absl::StatusOr<GroupReply> reply) mutable {
            if (!reply.ok()) return done(reply.status());
            const uint64_t ts = reply->reply.timestamp;
            if (ts == 0) {
              // A lost allocation only wastes a timestamp: asking again is always safe.
              After(Backoff(attempt),
                    [this, deadline_us, done = std::move(done), at_least, attempt]() mutable {
                      Timestamp(deadline_us, std::move(done), at_least, attempt + 1);
                    });
              return;
            }
            EKV_ASSERT(ts > at_least, "the oracle issued ", ts, " for a request above ", at_least);
            if (ts_observer_) ts_observer_(invoked, now_us_, ts);
            done(ts);
          });
}

OpId Coordinator::StartGetTimestamp(uint64_t at_least) {
  const OpId op = NewOp();
  Timestamp(
      DeadlineOf(op),
      [this, op](absl::StatusOr<uint64_t> ts) {
        if (!ts.ok()) return Fail(op, ts.status());
        OpResult result;
        result.ts = *ts;
        Finish(op, std::move(result));
      },
      at_least);
  return op;
}

OpId Coordinator::StartReadCatalog() {
  const OpId op = NewOp();
  ReadCatalog(DeadlineOf(op), [this, op](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok()) return Fail(op, catalog.status());
    auto result = std::make_unique<OpResult>();  // heap: gcc 12 misjudges the inlined moves
    result->ts = catalog->version();
    result->catalog.emplace(*std::move(catalog));
    Finish(op, std::move(*result));
  });
  return op;
}

void Coordinator::PushOwnership(raft::GroupId owner, uint64_t deadline_us,
                                std::function<void()> done) {
  // The group that owns the split route learns the new catalog (the catalog group follows
  // it as it applies it): from then on it refuses requests routed by tables older than
  // what it has owned since, and coordinators that routed by them refresh and retry.
  //
  // Until it learns, the group judges requests routed at the new version by its older
  // view (ownership.h), and accepts them. That is safe because a split leaves the group's
  // keys unchanged: both halves stay in the same group, so "owned at the old version" and
  // "owned at the new one" are the same keys. For the same reason a failed update is only
  // a lost refinement, not an error: the split itself is committed.
  ReadCatalog(deadline_us, [this, owner, deadline_us,
                            done = std::move(done)](absl::StatusOr<route::RouteCatalog> catalog) {
    if (!catalog.ok() || owner == options_.catalog_group) return done();
    node::GroupCommand command;
    command.op = node::GroupCommandOp::kOwnership;
    command.physical_ms = wall_ms_;
    command.payload = catalog->Encode();
    Execute(owner, node::OpKind::kApply, node::EncodeGroupCommand(command), Retry::kUnknownToo,
            deadline_us, [this, done](absl::StatusOr<GroupReply> told) {
              if (told.ok() && told->result.status().ok()) ++stats_.ownership_updates;
              done();
            });
  });
}

OpId Coordinator::StartSplitRange(uint64_t expected_version, uint64_t route_id,
                                  std::string split_key) {
  const OpId op = NewOp();
  route::CatalogCommand command;
  command.op = route::SplitRange{expected_version, route_id, std::move(split_key)};
  const uint64_t deadline = DeadlineOf(op);
  // Sent again on an unknown outcome: a repeat finds the version moved and is refused
  // with FAILED_PRECONDITION, which the caller reads as "re-read the catalog".
  ProposeCatalogChange(
      command, Retry::kDefinite, deadline, [this, op, deadline](absl::StatusOr<GroupReply> reply) {
        if (!reply.ok()) return Fail(op, reply.status());
        if (absl::Status s = reply->result.status(); !s.ok()) return Fail(op, s);
        kv::ByteReader reader(reply->result.blob);
        absl::StatusOr<route::RouteDescriptor> left = route::DecodeRoute(&reader);
        if (!left.ok()) return Fail(op, left.status());
        absl::StatusOr<route::RouteDescriptor> right = route::DecodeRoute(&reader);
        if (!right.ok()) return Fail(op, right.status());
        route::SplitResult split;
        split.catalog_version = reply->result.ts;
        split.left = *left;
        split.right = *right;
        OpResult result;
        result.index = reply->index;
        result.ts = split.catalog_version;
        result.split = split;
        PushOwnership(
            split.left.raft_group_id, deadline,
            [this, op, result = std::move(result)]() mutable { Finish(op, std::move(result)); });
      });
  return op;
}

}  // namespace ekv::coord
