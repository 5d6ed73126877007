// GroupStateMachine's Redis requests (core/redis): a write command is one Raft entry run
// here at apply time by redis_core's executor, with the group's replicated time deciding
// expiry; a read runs at the linearizable read point the query is served at. The reply
// travels encoded (redis_core::EncodeReply) in GroupResult::value. A cross-group EXEC's
// prepare (ApplyPrepare) runs its commands the same way but stages their writes in
// Percolator locks (kv::StagedWrites) that the transaction's commit applies.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/kv/key_codec.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/staged_writes.h"
#include "core/kv/timestamp.h"
#include "core/node/group_state_machine.h"
#include "core/redis/cleanup.h"
#include "core/redis/executor.h"
#include "core/redis/layout.h"
#include "core/redis/prepare_request.h"
#include "core/redis/store.h"

namespace ekv::node {
namespace {

GroupResult StatusResult(const absl::Status& status) {
  GroupResult result;
  result.code = status.code();
  result.message = std::string(status.message());
  return result;
}

GroupResult ReplyResult(const redis_core::Reply& reply, kv::Timestamp ts) {
  GroupResult result;
  result.ts = ts;
  result.value = redis_core::EncodeReply(reply);
  return result;
}

// A request the executor could not finish (a transaction's lock, an engine error):
// nothing was written. A lock travels as a key error so the caller can resolve it.
GroupResult FailedResult(const redis_core::RequestOutcome& outcome) {
  GroupResult result = StatusResult(outcome.status);
  if (outcome.locked.has_value()) result.key_errors.push_back(ToGroupKeyError(*outcome.locked));
  return result;
}

// xexec: the refusal of a request naming a key a transaction holds a lock on (a
// cross-group EXEC between its prepare and its commit, a TransactionalKV write): the key
// is frozen until that transaction's commit point, and the coordinator resolves the lock
// and sends the request again. The executor checks the lock of every key it reads
// (Executor::Lookup); this checks every key the request names before anything runs, so
// no command can touch a locked key's records whatever its handler reads. The keys found
// unlocked go to `unlocked`, for the request's Store (Store::NoteUnlocked): its own lock
// checks need not read them again. A key named twice (the routing key is also its first
// command's) is read once.
std::optional<GroupResult> LockedRefusal(const kv::MvccStore& mvcc,
                                         const redis_core::RedisRequest& request,
                                         std::vector<std::string>* unlocked) {
  std::set<std::string, std::less<>> checked;
  for (std::string& key : redis_core::RequestKeys(request)) {
    if (key.empty() || !checked.insert(key).second) continue;
    absl::StatusOr<std::optional<kv::LockRecord>> lock = mvcc.GetLock(key);
    if (!lock.ok()) return StatusResult(lock.status());
    if (!lock->has_value()) {
      unlocked->push_back(std::move(key));
      continue;
    }
    const kv::KeyError locked = kv::KeyIsLockedError(key, **lock);
    GroupResult result = StatusResult(kv::KeyErrorStatus(locked));
    result.key_errors.push_back(ToGroupKeyError(locked));
    return result;
  }
  return std::nullopt;
}

// A prepare's writes, sorted into one StagedWrites per user key of `keys`, from the
// batch Store::Flush made of them at start_ts: raw records by the user key they start
// with (layout.h), strings by the data keys written (their value and expiry read back
// from the store's pending writes). An error if a write belongs to none of `keys` (a
// command touched a key it does not name).
absl::StatusOr<std::map<std::string, kv::StagedWrites>> StageByKey(
    const kv::MvccBatch& flushed, redis_core::Store& store, const std::set<std::string>& keys) {
  std::map<std::string, kv::StagedWrites> staged;
  std::map<std::string, std::string> meta_owner;
  std::map<std::string, std::string> touch_owner;
  for (const std::string& key : keys) {
    staged[key];
    meta_owner.emplace(redis_core::MetaKey(key), key);
    touch_owner.emplace(redis_core::TouchKey(key), key);
  }
  for (const kv::WriteBatch::Op& op : flushed.engine_batch().ops()) {
    if (op.kind == kv::WriteBatch::OpKind::kDeleteRange || op.key.empty()) {
      return absl::InternalError("redis prepare: an unexpected write");
    }
    if (op.key[0] == kv::kExpiryPrefix) continue;  // read back with the string below
    if (op.key[0] == kv::kDataPrefix) {
      absl::StatusOr<kv::DecodedDataKey> data = kv::DecodeDataKey(op.key);
      if (!data.ok()) return data.status();
      auto it = staged.find(data->user_key);
      if (it == staged.end()) {
        return absl::InternalError("redis prepare: a string write outside the transaction's keys");
      }
      absl::StatusOr<std::optional<redis_core::StringValue>> value =
          store.GetString(data->user_key);  // the pending write
      if (!value.ok()) return value.status();
      kv::StagedWrites& writes = it->second;
      if (!value->has_value()) {
        writes.string_change = kv::StagedWrites::StringChange::kDelete;
        continue;
      }
      writes.string_change = kv::StagedWrites::StringChange::kPut;
      writes.string_value = (*value)->value;
      if ((*value)->expire_ms != 0) {
        // Stored as expire_ms + 1, as Store::Flush does (layout.h).
        writes.string_expire_ts =
            kv::MakeTimestamp(std::min((*value)->expire_ms + 1, kv::kMaxPhysicalMs), 0);
      }
      continue;
    }
    if (op.key[0] != kv::kRedisPrefix) {
      return absl::InternalError("redis prepare: a write outside the Redis records");
    }
    if (auto touch = touch_owner.find(op.key); touch != touch_owner.end()) {
      // The touch record must carry the commit point, unknown until commit.
      staged[touch->second].stamp_keys.push_back(op.key);
      continue;
    }
    std::string owner;
    if (auto meta = meta_owner.find(op.key); meta != meta_owner.end()) {
      owner = meta->second;
    } else if (std::optional<redis_core::ParsedElementKey> element =
                   redis_core::ParseElementKey(op.key);
               element.has_value() && keys.count(element->user_key) != 0) {
      owner = element->user_key;
    } else {
      return absl::InternalError("redis prepare: a write outside the transaction's keys");
    }
    std::optional<std::string> value;
    if (op.kind == kv::WriteBatch::OpKind::kPut) value = op.value;
    staged[owner].raw.push_back({op.key, std::move(value)});
  }
  return staged;
}

// A cross-group EXEC's prepare (prepare_request.h) at log `index`, marking it applied:
// prewrite's rules on every key the part names, then the part's commands run as EXEC
// runs them, their writes staged in locks of kv::MutationKind::kRedisStaged.
GroupResult ApplyPrepare(kv::KvStateMachine* kv, const kv::EngineReader* engine, uint64_t index,
                         const redis_core::PrepareRequest& prepare, uint64_t now_ms,
                         const redis_core::ScriptRunner* script_runner) {
  const redis_core::RedisRequest& request = prepare.part;
  std::set<std::string> keys;
  for (std::string& key : redis_core::RequestKeys(request)) {
    if (!key.empty()) keys.insert(std::move(key));
  }
  const kv::MvccStore& mvcc = kv->store();
  redis_core::Store store(engine, &mvcc);
  redis_core::Executor stamps(&store, now_ms, request.seed, prepare.start_ts);
  auto refuse = [&](GroupResult result) {
    kv->Skip(index);
    return result;
  };
  // Per key: another transaction's lock blocks (the coordinator resolves it); a record
  // of this start_ts means it was decided (a late or repeated prepare must not lock
  // again); a change at or after start_ts is a write conflict (commit_ts must land above
  // every existing version, and a collection created here is versioned start_ts).
  for (const std::string& key : keys) {
    absl::StatusOr<std::optional<kv::LockRecord>> lock = mvcc.GetLock(key);
    if (!lock.ok()) return refuse(StatusResult(lock.status()));
    if (lock->has_value()) {
      if ((*lock)->start_ts == prepare.start_ts) {
        return refuse(StatusResult(absl::FailedPreconditionError(
            "redis prepare: this transaction already prepared here; roll it back")));
      }
      const kv::KeyError locked = kv::KeyIsLockedError(key, **lock);
      GroupResult result = StatusResult(kv::KeyErrorStatus(locked));
      result.key_errors.push_back(ToGroupKeyError(locked));
      return refuse(std::move(result));
    }
    absl::StatusOr<std::optional<kv::TxnStatusRecord>> status =
        mvcc.GetTxnStatus(key, prepare.start_ts);
    if (!status.ok()) return refuse(StatusResult(status.status()));
    if (status->has_value()) {
      return refuse(StatusResult(absl::AbortedError(
          "redis prepare: the transaction was already decided (rolled back); restart it")));
    }
    absl::StatusOr<uint64_t> stamp = stamps.KeyStamp(key);
    if (!stamp.ok()) return refuse(StatusResult(stamp.status()));
    if (*stamp >= prepare.start_ts) {
      const kv::KeyError conflict = kv::WriteConflictError(key, prepare.start_ts, *stamp);
      GroupResult result = StatusResult(kv::KeyErrorStatus(conflict));
      result.key_errors.push_back(ToGroupKeyError(conflict));
      return refuse(std::move(result));
    }
  }
  // The commands run now, on the state the locks freeze until the transaction's commit
  // point (strict two-phase locking).
  // A queued script (EVAL in MULTI) may touch only the keys the part names: their locks
  // carry its writes.
  const redis_core::ScriptEnvironment scripts{
      script_runner, [&](absl::string_view key) { return keys.count(std::string(key)) != 0; }};
  redis_core::RequestOutcome outcome =
      redis_core::ExecuteRequest(request, &store, now_ms, prepare.start_ts, &scripts);
  if (!outcome.status.ok()) return refuse(FailedResult(outcome));
  if (outcome.reply.kind == redis_core::Reply::Kind::kNilArray) {
    return refuse(ReplyResult(outcome.reply, 0));  // a watched key changed: nothing locked
  }
  kv::MvccBatch flushed;
  if (absl::Status status = store.Flush(&flushed, prepare.start_ts); !status.ok()) {
    return refuse(StatusResult(status));
  }
  absl::StatusOr<std::map<std::string, kv::StagedWrites>> staged = StageByKey(flushed, store, keys);
  if (!staged.ok()) return refuse(StatusResult(staged.status()));
  kv::MvccBatch batch;
  for (const auto& [key, writes] : *staged) {
    kv::LockRecord lock;
    lock.primary = prepare.primary;
    lock.start_ts = prepare.start_ts;
    lock.ttl_ms = prepare.lock_ttl_ms;
    lock.kind = kv::MutationKind::kRedisStaged;
    lock.value = kv::EncodeStagedWrites(writes);
    batch.PutLock(key, lock);
  }
  kv->ApplyPrepared(index, std::move(batch));
  return ReplyResult(outcome.reply, 0);
}

}  // namespace

std::optional<GroupResult> GroupStateMachine::CheckRedisOwnership(
    const redis_core::RedisRequest& request, uint64_t catalog_version,
    route::AccessKind access) const {
  if (request.routing_key.empty()) {
    return StatusResult(absl::InvalidArgumentError("redis request: empty routing key"));
  }
  if (absl::Status owned = CheckKeyOwnership(request.routing_key, catalog_version, access);
      !owned.ok()) {
    return StatusResult(owned);
  }
  // The routing key is ours, so routing again would land here again: a key elsewhere is
  // a definite refusal, not a stale route.
  for (const std::string& key : redis_core::RequestKeys(request)) {
    if (!CheckKeyOwnership(key, catalog_version, access).ok()) {
      return ReplyResult(redis_core::CrossSlotError(), 0);
    }
  }
  return std::nullopt;
}

GroupResult GroupStateMachine::ApplyRedis(raft::Index index, const GroupCommand& command) {
  if (redis_core::IsPrepareRequest(command.payload)) {
    absl::StatusOr<redis_core::PrepareRequest> prepare =
        redis_core::DecodePrepareRequest(command.payload);
    if (!prepare.ok()) {
      kv_->Skip(index);
      return StatusResult(prepare.status());
    }
    if (std::optional<GroupResult> refused =
            CheckRedisOwnership(prepare->part, command.catalog_version, route::AccessKind::kWrite);
        refused.has_value()) {
      kv_->Skip(index);
      return *std::move(refused);
    }
    Observe(prepare->start_ts);  // as a prewrite: later group timestamps land above it
    const uint64_t now_ms = std::max(prepare->part.now_ms, kv::PhysicalMs(max_ts_));
    return ApplyPrepare(kv_.get(), engine_.get(), index, *prepare, now_ms, script_runner_);
  }
  absl::StatusOr<redis_core::RedisRequest> request =
      redis_core::DecodeRedisRequest(command.payload);
  if (!request.ok()) {
    kv_->Skip(index);
    return StatusResult(request.status());
  }
  if (std::optional<GroupResult> refused =
          CheckRedisOwnership(*request, command.catalog_version, route::AccessKind::kWrite);
      refused.has_value()) {
    kv_->Skip(index);
    return *std::move(refused);
  }
  std::vector<std::string> unlocked;
  if (std::optional<GroupResult> locked = LockedRefusal(kv_->store(), *request, &unlocked);
      locked.has_value()) {
    kv_->Skip(index);
    return *std::move(locked);
  }
  const kv::Timestamp commit_ts = NextTimestamp(command.physical_ms);
  // Replicated time: every replica computes the same value, and it never goes back.
  const uint64_t now_ms = std::max(request->now_ms, kv::PhysicalMs(commit_ts));
  redis_core::Store store(engine_.get(), &kv_->store());
  store.NoteUnlocked(std::move(unlocked));
  // Scripting hook (lua): a script's redis.call may touch only keys this group owns.
  const redis_core::ScriptEnvironment scripts{
      script_runner_, [&](absl::string_view key) {
        return CheckKeyOwnership(key, command.catalog_version, route::AccessKind::kWrite).ok();
      }};
  redis_core::RequestOutcome outcome =
      redis_core::ExecuteRequest(*request, &store, now_ms, commit_ts, &scripts);
  if (!outcome.status.ok()) {
    kv_->Skip(index);
    return FailedResult(outcome);
  }
  kv::MvccBatch batch;
  if (absl::Status flushed = store.Flush(&batch, commit_ts); !flushed.ok()) {
    kv_->Skip(index);
    return StatusResult(flushed);
  }
  kv_->ApplyPrepared(index, std::move(batch));
  return ReplyResult(outcome.reply, commit_ts);
}

GroupResult GroupStateMachine::ApplyRedisCleanup(raft::Index index, const GroupCommand& command) {
  absl::StatusOr<redis_core::CleanupPass> pass = redis_core::DecodeCleanupPass(command.payload);
  if (!pass.ok()) {
    kv_->Skip(index);
    return StatusResult(pass.status());
  }
  // The group's replicated time, never the proposer's clock: every later request decides
  // expiry at a time at least this (ApplyRedis, QueryRedis, ApplyPrepare), so what this
  // pass finds expired stays expired for all of them (cleanup.h).
  const uint64_t now_ms = kv::PhysicalMs(max_ts_);
  const redis_core::MayClean may_clean = [&](absl::string_view user_key) {
    return CheckKeyOwnership(user_key, /*catalog_version=*/0, route::AccessKind::kWrite).ok();
  };
  kv::MvccBatch batch;
  absl::StatusOr<redis_core::CleanupOutcome> outcome =
      redis_core::PlanCleanup(*engine_, kv_->store(), *pass, now_ms, may_clean, &batch,
                              planted_.redis_cleanup_drops_live_elements);
  if (!outcome.ok()) {
    kv_->Skip(index);
    return StatusResult(outcome.status());
  }
  kv_->ApplyPrepared(index, std::move(batch));
  GroupResult result;
  result.value = std::move(outcome->resume_key);  // where the next pass starts
  return result;
}

GroupResult GroupStateMachine::QueryRedis(absl::string_view payload,
                                          uint64_t catalog_version) const {
  absl::StatusOr<redis_core::RedisRequest> request = redis_core::DecodeRedisRequest(payload);
  if (!request.ok()) return StatusResult(request.status());
  if (std::optional<GroupResult> refused =
          CheckRedisOwnership(*request, catalog_version, route::AccessKind::kRead);
      refused.has_value()) {
    return *std::move(refused);
  }
  std::vector<std::string> unlocked;
  if (std::optional<GroupResult> locked = LockedRefusal(kv_->store(), *request, &unlocked);
      locked.has_value()) {
    return *std::move(locked);
  }
  // At least the group's newest applied time, so a key a write saw expire stays expired.
  uint64_t now_ms = std::max(request->now_ms, kv::PhysicalMs(max_ts_));
  if (planted_.redis_read_request_clock) now_ms = request->now_ms;  // planted bug (sim only)
  redis_core::Store store(engine_.get(), &kv_->store());
  store.NoteUnlocked(std::move(unlocked));
  const redis_core::ScriptEnvironment scripts{
      script_runner_, [&](absl::string_view key) {
        return CheckKeyOwnership(key, catalog_version, route::AccessKind::kRead).ok();
      }};
  redis_core::RequestOutcome outcome =
      redis_core::ExecuteRequest(*request, &store, now_ms, /*commit_ts=*/0, &scripts);
  if (!outcome.status.ok()) return FailedResult(outcome);
  return ReplyResult(outcome.reply, 0);
}

}  // namespace ekv::node
