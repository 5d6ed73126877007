// GroupStateMachine's Redis requests (core/redis): a write command is one Raft entry run
// here at apply time by redis_core's executor, with the group's replicated time deciding
// expiry; a read runs at the linearizable read point the query is served at. The reply
// travels encoded (redis_core::EncodeReply) in GroupResult::value.
#include <algorithm>
#include <utility>

#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/node/group_state_machine.h"
#include "core/redis/executor.h"
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
  const kv::Timestamp commit_ts = NextTimestamp(command.physical_ms);
  // Replicated time: every replica computes the same value, and it never goes back.
  const uint64_t now_ms = std::max(request->now_ms, kv::PhysicalMs(commit_ts));
  redis_core::Store store(engine_.get(), &kv_->store());
  redis_core::RequestOutcome outcome =
      redis_core::ExecuteRequest(*request, &store, now_ms, commit_ts);
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

GroupResult GroupStateMachine::QueryRedis(absl::string_view payload,
                                          uint64_t catalog_version) const {
  absl::StatusOr<redis_core::RedisRequest> request = redis_core::DecodeRedisRequest(payload);
  if (!request.ok()) return StatusResult(request.status());
  if (std::optional<GroupResult> refused =
          CheckRedisOwnership(*request, catalog_version, route::AccessKind::kRead);
      refused.has_value()) {
    return *std::move(refused);
  }
  // At least the group's newest applied time, so a key a write saw expire stays expired.
  uint64_t now_ms = std::max(request->now_ms, kv::PhysicalMs(max_ts_));
  if (planted_.redis_read_request_clock) now_ms = request->now_ms;  // planted bug (sim only)
  redis_core::Store store(engine_.get(), &kv_->store());
  redis_core::RequestOutcome outcome =
      redis_core::ExecuteRequest(*request, &store, now_ms, /*commit_ts=*/0);
  if (!outcome.status.ok()) return FailedResult(outcome);
  return ReplyResult(outcome.reply, 0);
}

}  // namespace ekv::node
