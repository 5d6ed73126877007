#include "core/kv/kv_state_machine.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/key_codec.h"
#include "core/kv/staged_writes.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::kv {
namespace {

constexpr uint8_t kImageFormat = 1;
// Looking for a transaction's own commit walks the versions newer than its start_ts;
// more than this many means something is badly wrong (GC stopped, a hot key hammered by
// raw writes) and the command fails rather than doing unbounded work inside apply.
constexpr size_t kMaxVersionsWalkedForCommit = 10'000;

// ---- validation (commands built in-process skip the decoder's checks) ----

absl::Status CheckKey(absl::string_view key, absl::string_view what) {
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": key of ", key.size(), " bytes exceeds ", kMaxKeyBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckValue(absl::string_view value, absl::string_view what) {
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": value of ", value.size(), " bytes exceeds ", kMaxValueBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckTs(Timestamp ts, absl::string_view what, absl::string_view name) {
  if (ts == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": ", name, " must be > 0"));
  return absl::OkStatus();
}

absl::Status CheckCount(size_t count, absl::string_view what) {
  if (count == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": no keys"));
  if (count > kMaxKeysPerCommand) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", count, " keys exceeds the limit of ", kMaxKeysPerCommand));
  }
  return absl::OkStatus();
}

absl::Status CheckMutation(const Mutation& m, absl::string_view what) {
  EKV_KV_RETURN_IF_ERROR(CheckKey(m.key, what));
  EKV_KV_RETURN_IF_ERROR(CheckValue(m.value, what));
  if (m.kind != MutationKind::kPut && m.kind != MutationKind::kDelete) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": unknown mutation kind"));
  }
  if (m.kind == MutationKind::kDelete && !m.value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": a delete carries no value"));
  }
  return absl::OkStatus();
}

absl::Status CheckMutations(const std::vector<Mutation>& mutations, absl::string_view what) {
  EKV_KV_RETURN_IF_ERROR(CheckCount(mutations.size(), what));
  std::set<absl::string_view> seen;
  for (const Mutation& m : mutations) {
    EKV_KV_RETURN_IF_ERROR(CheckMutation(m, what));
    if (!seen.insert(m.key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": key '", absl::CEscape(m.key), "' appears more than once"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckKeys(const std::vector<std::string>& keys, absl::string_view what) {
  EKV_KV_RETURN_IF_ERROR(CheckCount(keys.size(), what));
  std::set<absl::string_view> seen;
  for (const std::string& key : keys) {
    EKV_KV_RETURN_IF_ERROR(CheckKey(key, what));
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": key '", absl::CEscape(key), "' appears more than once"));
    }
  }
  return absl::OkStatus();
}

KvApplyResult StatusResult(absl::Status status) {
  KvApplyResult result;
  result.status = std::move(status);
  return result;
}

KvApplyResult KeyErrorsResult(std::vector<KeyError> errors) {
  EKV_ASSERT(!errors.empty(), "a key-error result needs an error");
  KvApplyResult result;
  result.status = KeyErrorStatus(errors.front());
  result.key_errors = std::move(errors);
  return result;
}

KeyError SimpleKeyError(KeyErrorCode code, absl::string_view key, std::string message) {
  KeyError error;
  error.code = code;
  error.key = std::string(key);
  error.message = std::move(message);
  error.retryable = false;
  return error;
}

// A write at commit_ts must land above every existing version, or a snapshot read that
// already happened at a timestamp >= commit_ts would change under its reader.
KeyError StaleTimestampError(absl::string_view key, Timestamp commit_ts, Timestamp latest) {
  KeyError error = SimpleKeyError(
      KeyErrorCode::kWriteConflict, key,
      absl::StrCat("write conflict: a version committed at ", FormatTimestamp(latest),
                   " is not older than the write's commit_ts ", FormatTimestamp(commit_ts),
                   "; retry with a newer timestamp"));
  error.conflict_commit_ts = latest;
  return error;
}

bool LockExpired(const LockRecord& lock, uint64_t current_ms) {
  const uint64_t start_ms = PhysicalMs(lock.start_ts);
  // Saturating: a huge TTL never wraps into "already expired".
  const uint64_t expires_ms =
      lock.ttl_ms > UINT64_MAX - start_ms ? UINT64_MAX : start_ms + lock.ttl_ms;
  return expires_ms <= current_ms;
}

// Decimal int64, strictly: an optional '-', digits, nothing else.
std::optional<int64_t> ParseInt64(absl::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  size_t digits_from = text[0] == '-' ? 1 : 0;
  if (digits_from == text.size()) return std::nullopt;
  for (size_t i = digits_from; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) return std::nullopt;
  return value;
}

// Streams records into a 64-bit FNV-1a hash, each field length-framed so that
// ("ab","c") and ("a","bc") differ.
class RecordHasher {
 public:
  void Add(absl::string_view bytes) {
    uint64_t length = bytes.size();
    for (int i = 0; i < 8; ++i) AddByte(static_cast<uint8_t>(length >> (8 * i)));
    for (char c : bytes) AddByte(static_cast<uint8_t>(c));
  }
  uint64_t hash() const { return hash_; }

 private:
  void AddByte(uint8_t byte) {
    hash_ ^= byte;
    hash_ *= 0x100000001b3ULL;
  }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

bool KnownNamespace(char prefix) {
  return prefix == kDataPrefix || prefix == kLockPrefix || prefix == kMetaPrefix ||
         prefix == kTxnStatusPrefix || prefix == kExpiryPrefix || prefix == kRedisPrefix;
}

std::string EncodeU64(uint64_t value) {
  std::string out;
  AppendFixed64BigEndian(&out, value);
  return out;
}

absl::StatusOr<uint64_t> ReadMetaU64(const MvccStore& store, absl::string_view name) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.GetMeta(name));
  if (!bytes.has_value()) return 0;
  if (bytes->size() != 8) {
    return absl::DataLossError(absl::StrCat("meta ", name, ": expected 8 bytes"));
  }
  return DecodeFixed64BigEndian(*bytes);
}

// Computes one command's effect into `batch_`. Each handler returns the result; the
// batch is applied if and only if the result is OK.
class Applier {
 public:
  Applier(const MvccStore& store, MvccBatch* batch, uint64_t hlc_ceiling_ms,
          Timestamp gc_safe_point, Timestamp read_floor_ts, Timestamp read_uncertainty_ts,
          const PlantedKvBugs& planted)
      : store_(store),
        batch_(batch),
        hlc_ceiling_ms_(hlc_ceiling_ms),
        gc_safe_point_(gc_safe_point),
        read_floor_ts_(read_floor_ts),
        read_uncertainty_ts_(read_uncertainty_ts),
        planted_(planted) {}

  // A failed command normally writes nothing; a failed 1PC keeps its rollback records.
  bool keep_batch_on_failure() const { return keep_batch_on_failure_; }

  absl::StatusOr<KvApplyResult> operator()(const RawWriteCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckMutations(c.mutations, "raw write"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.commit_ts, "raw write", "commit_ts"));
    std::vector<KeyError> errors;
    for (const Mutation& m : c.mutations) {
      EKV_KV_ASSIGN_OR_RETURN(std::optional<KeyError> error, CheckWritable(m.key, c.commit_ts));
      if (error.has_value()) errors.push_back(*std::move(error));
    }
    if (!errors.empty()) return KeyErrorsResult(std::move(errors));
    for (const Mutation& m : c.mutations) WriteVersion(m, c.commit_ts, /*start_ts=*/0);
    return KvApplyResult{};
  }

  absl::StatusOr<KvApplyResult> operator()(const SetHlcCeilingCommand& c) {
    KvApplyResult result;
    // Ceilings only move up: a stale proposal applied late must not lower it (hlc.h).
    result.hlc_ceiling_ms = std::max(hlc_ceiling_ms_, c.ceiling_ms);
    batch_->PutMeta(KvStateMachine::kHlcCeilingMeta, EncodeU64(result.hlc_ceiling_ms));
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const GcCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKey(c.start_key, "gc"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.safe_point, "gc", "safe_point"));
    if (c.max_keys == 0 || c.max_keys > kMaxGcKeysPerPass) {
      return absl::InvalidArgumentError(
          absl::StrCat("gc: max_keys must be in [1, ", kMaxGcKeysPerPass, "], got ", c.max_keys));
    }
    // The safe point only moves up: a lower (stale) one runs the pass at the stored one.
    const Timestamp safe_point = std::max(gc_safe_point_, c.safe_point);
    EKV_KV_ASSIGN_OR_RETURN(GcPlan plan,
                            store_.reader().PlanGc(safe_point, c.start_key, c.max_keys, batch_));
    if (planted_.gc_drops_visible_version) {
      EKV_KV_RETURN_IF_ERROR(PlantedDropVisibleVersions(safe_point, c.start_key, plan));
    }
    batch_->PutMeta(KvStateMachine::kGcSafePointMeta, EncodeU64(safe_point));
    KvApplyResult result;
    result.gc_safe_point = safe_point;
    result.gc_resume_key = std::move(plan.resume_key);
    result.gc_keys_examined = plan.keys_examined;
    result.gc_versions_deleted = plan.versions_deleted;
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const AdvanceReadFloorCommand& c) {
    KvApplyResult result;
    // The floor only moves up: floors proposed by several readers apply in any order.
    result.read_floor_ts = std::max(read_floor_ts_, c.floor_ts);
    batch_->PutMeta(KvStateMachine::kReadFloorMeta, EncodeU64(result.read_floor_ts));
    // Every version applied before a raised floor is at most the group's largest
    // timestamp now: the limit of what a read at or below the floor is unsure of.
    result.read_uncertainty_ts = read_uncertainty_ts_;
    if (c.floor_ts > read_floor_ts_) {
      result.read_uncertainty_ts = std::max(read_uncertainty_ts_, c.max_applied_ts);
      batch_->PutMeta(KvStateMachine::kReadUncertaintyMeta, EncodeU64(result.read_uncertainty_ts));
    }
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const PrewriteCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckMutations(c.mutations, "prewrite"));
    EKV_KV_RETURN_IF_ERROR(CheckKey(c.primary, "prewrite"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.start_ts, "prewrite", "start_ts"));
    EKV_KV_RETURN_IF_ERROR(CheckAboveGcSafePoint("prewrite", c.start_ts));
    std::vector<KeyError> errors;
    std::vector<const Mutation*> to_lock;
    for (const Mutation& m : c.mutations) {
      EKV_KV_ASSIGN_OR_RETURN(KeyCheck check,
                              CheckPrewriteKey(m.key, c.start_ts, /*own_lock_ok=*/true));
      if (check.error.has_value()) {
        errors.push_back(*std::move(check.error));
      } else if (check.needs_write) {
        to_lock.push_back(&m);
      }
    }
    if (!errors.empty()) return KeyErrorsResult(std::move(errors));
    for (const Mutation* m : to_lock) {
      batch_->PutLock(m->key, LockRecord{c.primary, c.start_ts, c.lock_ttl_ms, m->kind, m->value});
    }
    return KvApplyResult{};
  }

  absl::StatusOr<KvApplyResult> operator()(const CommitCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKeys(c.keys, "commit"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.start_ts, "commit", "start_ts"));
    EKV_KV_RETURN_IF_ERROR(CheckCommitTs(c.start_ts, c.commit_ts, "commit"));
    return CommitKeys(c.keys, c.start_ts, c.commit_ts, /*lenient=*/false);
  }

  absl::StatusOr<KvApplyResult> operator()(const RollbackCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKeys(c.keys, "rollback"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.start_ts, "rollback", "start_ts"));
    return RollbackKeys(c.keys, c.start_ts);
  }

  absl::StatusOr<KvApplyResult> operator()(const CheckTxnStatusCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKey(c.primary, "check txn status"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.start_ts, "check txn status", "start_ts"));
    KvApplyResult result;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<LockRecord> lock, store_.GetLock(c.primary));
    if (lock.has_value() && lock->start_ts == c.start_ts) {
      if (!LockExpired(*lock, c.current_ms)) {
        result.txn_status = TxnStatusKind::kLocked;
        result.lock = std::move(lock);
        return result;
      }
      // The coordinator has not committed within the TTL; deciding "rolled back" here,
      // on the primary, is what makes the decision unique: its commit now fails.
      batch_->DeleteLock(c.primary);
      batch_->PutTxnStatus(c.primary, c.start_ts, {TxnState::kRolledBack, 0});
      result.txn_status = TxnStatusKind::kRolledBack;
      return result;
    }
    EKV_KV_ASSIGN_OR_RETURN(std::optional<TxnStatusRecord> status,
                            store_.GetTxnStatus(c.primary, c.start_ts));
    if (status.has_value()) {
      result.txn_status = status->state == TxnState::kCommitted ? TxnStatusKind::kCommitted
                                                                : TxnStatusKind::kRolledBack;
      result.commit_ts = status->commit_ts;
      return result;
    }
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> own_commit,
                            FindOwnCommit(c.primary, c.start_ts));
    if (own_commit.has_value()) {
      result.txn_status = TxnStatusKind::kCommitted;
      result.commit_ts = *own_commit;
      return result;
    }
    // No lock and no record: the primary's prewrite never landed. Roll back so it
    // cannot land later.
    batch_->PutTxnStatus(c.primary, c.start_ts, {TxnState::kRolledBack, 0});
    result.txn_status = TxnStatusKind::kRolledBack;
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const ResolveLockCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKeys(c.keys, "resolve lock"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.start_ts, "resolve lock", "start_ts"));
    if (c.commit_ts == 0) return RollbackKeys(c.keys, c.start_ts);
    EKV_KV_RETURN_IF_ERROR(CheckCommitTs(c.start_ts, c.commit_ts, "resolve lock"));
    return CommitKeys(c.keys, c.start_ts, c.commit_ts, /*lenient=*/true);
  }

  absl::StatusOr<KvApplyResult> operator()(const OnePhaseCommitCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckMutations(c.mutations, "one-phase commit"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.start_ts, "one-phase commit", "start_ts"));
    EKV_KV_RETURN_IF_ERROR(CheckCommitTs(c.start_ts, c.commit_ts, "one-phase commit"));
    EKV_KV_RETURN_IF_ERROR(CheckAboveGcSafePoint("one-phase commit", c.start_ts));
    // A 1PC commits all its keys or none: its own version on the first key means this is a
    // retry (or a duplicate) of one that committed, whatever was written after it since.
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> own,
                            FindOwnCommit(c.mutations.front().key, c.start_ts));
    if (own.has_value()) {
      KvApplyResult result;
      result.commit_ts = *own;
      return result;
    }
    std::vector<KeyError> errors;
    bool already_committed = false;
    std::vector<std::optional<Timestamp>> latest_commit_ts;
    latest_commit_ts.reserve(c.mutations.size());
    for (const Mutation& m : c.mutations) {
      EKV_KV_ASSIGN_OR_RETURN(KeyCheck check,
                              CheckPrewriteKey(m.key, c.start_ts, /*own_lock_ok=*/false));
      if (check.error.has_value()) {
        errors.push_back(*std::move(check.error));
      } else if (!check.needs_write) {
        already_committed = true;
      }
      latest_commit_ts.push_back(check.latest_commit_ts);
    }
    if (!errors.empty()) {
      // Final, like a rollback: the same 1PC applied again (a blind retry, a duplicated
      // proposal) meets these records and fails, even once the lock in its way is gone.
      for (const Mutation& m : c.mutations) {
        batch_->PutTxnStatus(m.key, c.start_ts, {TxnState::kRolledBack, 0});
      }
      keep_batch_on_failure_ = true;
      return KeyErrorsResult(std::move(errors));
    }
    // A retried 1PC finds its own versions; it committed all keys at once, so it is done.
    // Its commit_ts is the one it committed at, not the one this retry was given.
    if (already_committed) {
      KvApplyResult result;
      EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> own,
                              FindOwnCommit(c.mutations.front().key, c.start_ts));
      result.commit_ts = own.value_or(0);
      return result;
    }
    // (The checks above read each key's newest version; no second read for the invariant.)
    for (size_t i = 0; i < c.mutations.size(); ++i) {
      const std::optional<Timestamp>& latest = latest_commit_ts[i];
      EKV_ASSERT(!latest.has_value() || *latest < c.commit_ts,
                 "1PC: prewrite checks leave no version at or above commit_ts");
      WriteVersion(c.mutations[i], c.commit_ts, c.start_ts);
    }
    KvApplyResult result;
    result.commit_ts = c.commit_ts;
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const CompareAndSetCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKey(c.key, "compare-and-set"));
    EKV_KV_RETURN_IF_ERROR(CheckValue(c.new_value.value_or(""), "compare-and-set"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.commit_ts, "compare-and-set", "commit_ts"));
    KvApplyResult result;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Current> current,
                            ReadForWrite(c.key, c.commit_ts, &result));
    if (!current.has_value()) return result;
    result.old_value = current->value;
    if (current->value != c.expected) {
      result.status = absl::FailedPreconditionError(
          c.expected.has_value()
              ? (current->value.has_value() ? "compare-and-set: the current value differs"
                                            : "compare-and-set: the key is absent")
              : "compare-and-set: the key exists");
      return result;
    }
    WriteValue(c.key, c.new_value, c.commit_ts, std::nullopt);
    result.new_value = c.new_value;
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const ConditionalWriteCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckMutation(c.mutation, "conditional write"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.commit_ts, "conditional write", "commit_ts"));
    KvApplyResult result;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Current> current,
                            ReadForWrite(c.mutation.key, c.commit_ts, &result));
    if (!current.has_value()) return result;
    result.old_value = current->value;
    const char* failure = nullptr;
    switch (c.condition.kind) {
      case ConditionKind::kNone:
        break;
      case ConditionKind::kExists:
        if (!current->value.has_value()) failure = "conditional write: the key does not exist";
        break;
      case ConditionKind::kNotExists:
        if (current->value.has_value()) failure = "conditional write: the key exists";
        break;
      case ConditionKind::kEquals:
        if (current->value != c.condition.value) {
          failure = "conditional write: the current value differs";
        }
        break;
    }
    if (failure != nullptr) {
      result.status = absl::FailedPreconditionError(failure);
      return result;
    }
    std::optional<std::string> new_value;
    if (c.mutation.kind == MutationKind::kPut) new_value = c.mutation.value;
    WriteValue(c.mutation.key, new_value, c.commit_ts, std::nullopt);
    result.new_value = std::move(new_value);
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const IncrementCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKey(c.key, "increment"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.commit_ts, "increment", "commit_ts"));
    KvApplyResult result;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Current> current,
                            ReadForWrite(c.key, c.commit_ts, &result));
    if (!current.has_value()) return result;
    result.old_value = current->value;
    int64_t base = 0;
    if (current->value.has_value()) {
      std::optional<int64_t> parsed = ParseInt64(*current->value);
      if (!parsed.has_value()) {
        result.status = absl::InvalidArgumentError(
            "increment: value is not an integer or out of range (expected a decimal int64)");
        return result;
      }
      base = *parsed;
    }
    int64_t sum = 0;
    if (__builtin_add_overflow(base, c.delta, &sum)) {
      result.status =
          absl::InvalidArgumentError("increment: increment or decrement would overflow");
      return result;
    }
    result.new_value = absl::StrCat(sum);
    WriteValue(c.key, result.new_value, c.commit_ts, current->expire_ts);
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const AppendCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKey(c.key, "append"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.commit_ts, "append", "commit_ts"));
    KvApplyResult result;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Current> current,
                            ReadForWrite(c.key, c.commit_ts, &result));
    if (!current.has_value()) return result;
    result.old_value = current->value;
    std::string appended = absl::StrCat(current->value.value_or(""), c.suffix);
    if (appended.size() > kMaxValueBytes) {
      result.status = absl::InvalidArgumentError(
          absl::StrCat("append: the value would exceed ", kMaxValueBytes, " bytes"));
      return result;
    }
    result.new_value = std::move(appended);
    WriteValue(c.key, result.new_value, c.commit_ts, current->expire_ts);
    return result;
  }

  absl::StatusOr<KvApplyResult> operator()(const PutWithTtlCommand& c) {
    EKV_KV_RETURN_IF_ERROR(CheckKey(c.key, "put with ttl"));
    EKV_KV_RETURN_IF_ERROR(CheckValue(c.value, "put with ttl"));
    EKV_KV_RETURN_IF_ERROR(CheckTs(c.commit_ts, "put with ttl", "commit_ts"));
    if (c.ttl_ms == 0) return absl::InvalidArgumentError("put with ttl: ttl_ms must be > 0");
    if (c.ttl_ms > kMaxPhysicalMs - PhysicalMs(c.commit_ts)) {
      return absl::InvalidArgumentError("put with ttl: expiry beyond the timestamp range");
    }
    EKV_KV_ASSIGN_OR_RETURN(std::optional<KeyError> error, CheckWritable(c.key, c.commit_ts));
    if (error.has_value()) return KeyErrorsResult({*std::move(error)});
    const Timestamp expire_ts = MakeTimestamp(PhysicalMs(c.commit_ts) + c.ttl_ms, 0);
    KvApplyResult result;
    result.new_value = c.value;
    result.expire_ts = expire_ts;
    WriteValue(c.key, c.value, c.commit_ts, expire_ts);
    return result;
  }

 private:
  // A prewrite's write-conflict check looks for versions newer than start_ts; below the
  // safe point GC may have removed some, so the check could pass when it must not.
  absl::Status CheckAboveGcSafePoint(absl::string_view what, Timestamp start_ts) const {
    if (start_ts < gc_safe_point_) return BelowGcSafePointError(what, start_ts, gc_safe_point_);
    return absl::OkStatus();
  }

  // Planted bug (PlantedKvBugs::gc_drops_visible_version): also deletes the newest
  // version <= safe_point of every key the pass covered, the one PlanGc must keep.
  absl::Status PlantedDropVisibleVersions(Timestamp safe_point, absl::string_view start_key,
                                          const GcPlan& plan) {
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<KvPair> visible,
        store_.Scan(start_key, plan.resume_key.value_or(""), kMaxScanLimit, safe_point));
    for (const KvPair& pair : visible) batch_->DeleteRawKey(DataKey(pair.key, pair.commit_ts));
    return absl::OkStatus();
  }

  struct KeyCheck {
    bool needs_write = false;  // false with no error: this txn already did it
    std::optional<KeyError> error;
    std::optional<Timestamp> latest_commit_ts;  // needs_write: the key's newest version
  };

  // The value a read-modify-write builds on, and the expiry it inherits.
  struct Current {
    std::optional<std::string> value;
    std::optional<Timestamp> expire_ts;
  };

  static absl::Status CheckCommitTs(Timestamp start_ts, Timestamp commit_ts,
                                    absl::string_view what) {
    if (commit_ts <= start_ts) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": commit_ts ", FormatTimestamp(commit_ts), " must be > start_ts ",
                       FormatTimestamp(start_ts)));
    }
    return absl::OkStatus();
  }

  void WriteVersion(const Mutation& m, Timestamp commit_ts, Timestamp start_ts) {
    if (m.kind == MutationKind::kPut) {
      batch_->Put(m.key, m.value, commit_ts, start_ts);
    } else {
      batch_->Delete(m.key, commit_ts, start_ts);
    }
  }

  void WriteValue(absl::string_view key, const std::optional<std::string>& value,
                  Timestamp commit_ts, std::optional<Timestamp> expire_ts) {
    if (value.has_value()) {
      batch_->Put(key, *value, commit_ts);
      if (expire_ts.has_value() && *expire_ts > commit_ts) {
        batch_->PutExpiry(key, commit_ts, *expire_ts);
      }
    } else {
      batch_->Delete(key, commit_ts);
    }
  }

  // Non-transactional writes at commit_ts: blocked by any lock (the txn holding it would
  // otherwise commit over a write it never saw) and by versions at or above commit_ts.
  absl::StatusOr<std::optional<KeyError>> CheckWritable(absl::string_view key,
                                                        Timestamp commit_ts) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<LockRecord> lock, store_.GetLock(key));
    if (lock.has_value()) return KeyIsLockedError(key, *lock);
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> latest, store_.LatestCommitTs(key));
    if (latest.has_value() && *latest >= commit_ts) {
      return StaleTimestampError(key, commit_ts, *latest);
    }
    return std::nullopt;
  }

  // nullopt with `result` filled in when the key cannot be written at commit_ts.
  // The same rules as CheckWritable, with one read of the newest version serving both the
  // check and the value (one engine iterator per key instead of two).
  absl::StatusOr<std::optional<Current>> ReadForWrite(absl::string_view key, Timestamp commit_ts,
                                                      KvApplyResult* result) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<LockRecord> lock, store_.GetLock(key));
    if (lock.has_value()) {
      *result = KeyErrorsResult({KeyIsLockedError(key, *lock)});
      return std::nullopt;
    }
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Version> version, store_.GetVersion(key, kMaxTimestamp));
    if (version.has_value() && version->commit_ts >= commit_ts) {
      *result = KeyErrorsResult({StaleTimestampError(key, commit_ts, version->commit_ts)});
      return std::nullopt;
    }
    Current current;
    if (!version.has_value() || version->record.kind == MutationKind::kDelete) return current;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> expire_ts,
                            store_.GetExpiry(key, version->commit_ts));
    if (expire_ts.has_value() && commit_ts >= *expire_ts) return current;  // expired
    current.value = std::move(version->record.value);
    current.expire_ts = expire_ts;
    return current;
  }

  // The commit_ts of this transaction's own version of `key`, if it committed there.
  // Versions of a txn are the only ones carrying its start_ts, and they are newer than it.
  absl::StatusOr<std::optional<Timestamp>> FindOwnCommit(absl::string_view key,
                                                         Timestamp start_ts) {
    Timestamp read_ts = kMaxTimestamp;
    for (size_t walked = 0; walked < kMaxVersionsWalkedForCommit; ++walked) {
      EKV_KV_ASSIGN_OR_RETURN(std::optional<Version> version, store_.GetVersion(key, read_ts));
      if (!version.has_value() || version->commit_ts <= start_ts) return std::nullopt;
      if (version->record.start_ts == start_ts) return version->commit_ts;
      read_ts = version->commit_ts - 1;
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", kMaxVersionsWalkedForCommit,
                     " versions newer than the transaction's start_ts on one key"));
  }

  // Prewrite's (and 1PC's) per-key rules.
  // A 1PC never holds a lock, so for it (own_lock_ok false) any lock blocks.
  absl::StatusOr<KeyCheck> CheckPrewriteKey(absl::string_view key, Timestamp start_ts,
                                            bool own_lock_ok) {
    KeyCheck check;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<LockRecord> lock, store_.GetLock(key));
    if (lock.has_value()) {
      if (lock->start_ts != start_ts || !own_lock_ok) check.error = KeyIsLockedError(key, *lock);
      return check;  // our own lock: a retried prewrite, nothing to do
    }
    EKV_KV_ASSIGN_OR_RETURN(std::optional<TxnStatusRecord> status,
                            store_.GetTxnStatus(key, start_ts));
    if (status.has_value()) {
      if (status->state == TxnState::kRolledBack) {
        check.error = SimpleKeyError(
            KeyErrorCode::kTxnRolledBack, key,
            absl::StrCat("txn rolled back: the transaction started at ", FormatTimestamp(start_ts),
                         " was rolled back; restart with a new start_ts"));
      }
      return check;  // committed: a retried prewrite of a finished txn
    }
    EKV_KV_ASSIGN_OR_RETURN(std::optional<Version> latest, store_.GetVersion(key, kMaxTimestamp));
    if (latest.has_value() && latest->commit_ts > start_ts && !planted_.skip_write_conflict_check) {
      if (latest->record.start_ts != start_ts) {
        check.error = WriteConflictError(key, start_ts, latest->commit_ts);
      }
      return check;
    }
    check.needs_write = true;
    if (latest.has_value()) check.latest_commit_ts = latest->commit_ts;
    return check;
  }

  // Commit's per-key rules; `lenient` (ResolveLock) accepts a missing lock as "someone
  // already resolved it" instead of TxnLockNotFound.
  absl::StatusOr<KvApplyResult> CommitKeys(const std::vector<std::string>& keys, Timestamp start_ts,
                                           Timestamp commit_ts, bool lenient) {
    std::vector<KeyError> errors;
    std::vector<std::pair<const std::string*, LockRecord>> to_commit;
    for (const std::string& key : keys) {
      EKV_KV_ASSIGN_OR_RETURN(std::optional<LockRecord> lock, store_.GetLock(key));
      if (lock.has_value() && lock->start_ts == start_ts) {
        EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> latest, store_.LatestCommitTs(key));
        if (latest.has_value() && *latest >= commit_ts) {
          errors.push_back(StaleTimestampError(key, commit_ts, *latest));
        } else {
          to_commit.emplace_back(&key, *std::move(lock));
        }
        continue;
      }
      EKV_KV_ASSIGN_OR_RETURN(std::optional<TxnStatusRecord> status,
                              store_.GetTxnStatus(key, start_ts));
      if (status.has_value()) {
        if (status->state == TxnState::kRolledBack && !planted_.commit_ignores_rollback) {
          errors.push_back(SimpleKeyError(
              KeyErrorCode::kTxnRolledBack, key,
              absl::StrCat("txn rolled back: cannot commit the transaction started at ",
                           FormatTimestamp(start_ts))));
        }
        continue;  // committed before: idempotent
      }
      if (lenient) continue;
      EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> own_commit, FindOwnCommit(key, start_ts));
      if (own_commit.has_value()) continue;
      errors.push_back(SimpleKeyError(
          KeyErrorCode::kTxnLockNotFound, key,
          absl::StrCat("txn lock not found: no lock or outcome of the transaction started at ",
                       FormatTimestamp(start_ts), "; was it prewritten?")));
    }
    if (!errors.empty()) return KeyErrorsResult(std::move(errors));
    std::map<std::string, StagedWrites> staged;
    for (const auto& [key, lock] : to_commit) {
      if (lock.kind != MutationKind::kRedisStaged) continue;
      EKV_KV_ASSIGN_OR_RETURN(StagedWrites writes, DecodeStagedWrites(lock.value));
      staged.emplace(*key, std::move(writes));
    }
    for (auto& [key, lock] : to_commit) {
      batch_->DeleteLock(*key);
      if (lock.kind == MutationKind::kRedisStaged) {
        // A cross-group EXEC's writes of this key (staged_writes.h). Decoded above, so a
        // corrupt lock fails the whole commit before anything is written.
        AddStagedWrites(*key, staged.at(*key), start_ts, commit_ts, batch_);
        // Its writes may leave no version to recognise (a collection, a read-only key):
        // the record answers a repeated commit or rollback of this key.
        batch_->PutTxnStatus(*key, start_ts, {TxnState::kCommitted, commit_ts});
        continue;
      }
      WriteVersion(Mutation{lock.kind, *key, lock.value}, commit_ts, start_ts);
      if (*key == lock.primary) {
        batch_->PutTxnStatus(*key, start_ts, {TxnState::kCommitted, commit_ts});
      }
    }
    KvApplyResult result;
    result.commit_ts = commit_ts;
    return result;
  }

  absl::StatusOr<KvApplyResult> RollbackKeys(const std::vector<std::string>& keys,
                                             Timestamp start_ts) {
    std::vector<KeyError> errors;
    std::vector<std::pair<const std::string*, bool>> to_roll_back;  // key, delete its lock
    for (const std::string& key : keys) {
      EKV_KV_ASSIGN_OR_RETURN(std::optional<LockRecord> lock, store_.GetLock(key));
      if (lock.has_value() && lock->start_ts == start_ts) {
        to_roll_back.emplace_back(&key, true);
        continue;
      }
      EKV_KV_ASSIGN_OR_RETURN(std::optional<TxnStatusRecord> status,
                              store_.GetTxnStatus(key, start_ts));
      std::optional<Timestamp> committed_at;
      if (status.has_value()) {
        if (status->state == TxnState::kRolledBack) continue;  // idempotent
        committed_at = status->commit_ts;
      } else {
        EKV_KV_ASSIGN_OR_RETURN(committed_at, FindOwnCommit(key, start_ts));
      }
      if (committed_at.has_value()) {
        errors.push_back(
            SimpleKeyError(KeyErrorCode::kTxnCommitted, key,
                           absl::StrCat("txn committed: the transaction started at ",
                                        FormatTimestamp(start_ts), " committed at ",
                                        FormatTimestamp(*committed_at), " and cannot roll back")));
        continue;
      }
      // No lock yet: the record stops the prewrite if it arrives late.
      to_roll_back.emplace_back(&key, false);
    }
    if (!errors.empty()) return KeyErrorsResult(std::move(errors));
    for (const auto& [key, delete_lock] : to_roll_back) {
      if (delete_lock) batch_->DeleteLock(*key);
      batch_->PutTxnStatus(*key, start_ts, {TxnState::kRolledBack, 0});
    }
    return KvApplyResult{};
  }

  const MvccStore& store_;
  MvccBatch* const batch_;
  const uint64_t hlc_ceiling_ms_;
  const Timestamp gc_safe_point_;
  const Timestamp read_floor_ts_;
  const Timestamp read_uncertainty_ts_;
  const PlantedKvBugs planted_;
  bool keep_batch_on_failure_ = false;
};

}  // namespace

absl::Status BelowGcSafePointError(absl::string_view what, Timestamp ts, Timestamp safe_point) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, ": timestamp ", FormatTimestamp(ts), " is below the GC safe point ",
                   FormatTimestamp(safe_point),
                   ": versions it needs may be gone; retry with a newer timestamp"));
}

KvQuery KvQuery::Get(std::string key, Timestamp read_ts) {
  KvQuery query;
  query.kind = Kind::kGet;
  query.key = std::move(key);
  query.read_ts = read_ts;
  return query;
}

KvQuery KvQuery::Scan(std::string start, std::string end, size_t limit, Timestamp read_ts,
                      ScanDirection direction) {
  KvQuery query;
  query.kind = Kind::kScan;
  query.key = std::move(start);
  query.end_key = std::move(end);
  query.limit = limit;
  query.read_ts = read_ts;
  query.direction = direction;
  return query;
}

KvQuery KvQuery::LatestCommitTs(std::string key) {
  KvQuery query;
  query.kind = Kind::kLatestCommitTs;
  query.key = std::move(key);
  return query;
}

KvStateMachine::KvStateMachine(Engine* engine) : engine_(engine), store_(engine) {
  absl::StatusOr<uint64_t> applied = ReadMetaU64(store_, kAppliedIndexMeta);
  EKV_ASSERT(applied.ok(),
             "kv state machine: unreadable applied index: ", applied.status().ToString());
  applied_index_ = *applied;
  absl::StatusOr<uint64_t> ceiling = ReadMetaU64(store_, kHlcCeilingMeta);
  EKV_ASSERT(ceiling.ok(),
             "kv state machine: unreadable hlc ceiling: ", ceiling.status().ToString());
  hlc_ceiling_ms_ = *ceiling;
  absl::StatusOr<uint64_t> safe_point = ReadMetaU64(store_, kGcSafePointMeta);
  EKV_ASSERT(safe_point.ok(),
             "kv state machine: unreadable gc safe point: ", safe_point.status().ToString());
  gc_safe_point_ = *safe_point;
  absl::StatusOr<uint64_t> floor = ReadMetaU64(store_, kReadFloorMeta);
  EKV_ASSERT(floor.ok(), "kv state machine: unreadable read floor: ", floor.status().ToString());
  read_floor_ts_ = *floor;
  absl::StatusOr<uint64_t> uncertainty = ReadMetaU64(store_, kReadUncertaintyMeta);
  EKV_ASSERT(uncertainty.ok(), "kv state machine: unreadable read uncertainty limit: ",
             uncertainty.status().ToString());
  read_uncertainty_ts_ = *uncertainty;
}

KvApplyResult KvStateMachine::Apply(uint64_t index, const KvCommand& command) {
  EKV_ASSERT(index > applied_index_, "kv state machine: log index ", index,
             " applied twice or out of order (applied index ", applied_index_, ")");
  MvccBatch batch;
  Applier applier(store_, &batch, hlc_ceiling_ms_, gc_safe_point_, read_floor_ts_,
                  read_uncertainty_ts_, planted_);
  absl::StatusOr<KvApplyResult> applied = std::visit(applier, command);
  KvApplyResult result = applied.ok() ? *std::move(applied) : StatusResult(applied.status());
  // Effects land only with success, so a failed command leaves no partial writes (a
  // failed 1PC's rollback records excepted: they are its outcome).
  if (!result.ok() && !(applied.ok() && applier.keep_batch_on_failure())) batch.Clear();
  for (const auto& [name, value] : staged_meta_) batch.PutMeta(name, value);
  staged_meta_.clear();
  batch.PutMeta(kAppliedIndexMeta, EncodeU64(index));
  absl::Status written = store_.Apply(batch);
  // A replica that cannot write its applied state must stop rather than diverge.
  EKV_ASSERT(written.ok(), "kv state machine: engine write failed at index ", index, ": ",
             written.ToString());
  applied_index_ = index;
  if (result.ok() && std::holds_alternative<SetHlcCeilingCommand>(command)) {
    hlc_ceiling_ms_ = result.hlc_ceiling_ms;
  }
  if (result.ok() && std::holds_alternative<GcCommand>(command)) {
    EKV_ASSERT(result.gc_safe_point >= gc_safe_point_, "the GC safe point only moves up");
    gc_safe_point_ = result.gc_safe_point;
  }
  if (result.ok() && std::holds_alternative<AdvanceReadFloorCommand>(command)) {
    read_floor_ts_ = result.read_floor_ts;
    read_uncertainty_ts_ = result.read_uncertainty_ts;
  }
  return result;
}

void KvStateMachine::ApplyPrepared(uint64_t index, MvccBatch batch) {
  EKV_ASSERT(index > applied_index_, "kv state machine: log index ", index,
             " applied twice or out of order (applied index ", applied_index_, ")");
  for (const auto& [name, value] : staged_meta_) batch.PutMeta(name, value);
  staged_meta_.clear();
  batch.PutMeta(kAppliedIndexMeta, EncodeU64(index));
  absl::Status written = store_.Apply(batch);
  EKV_ASSERT(written.ok(), "kv state machine: engine write failed at index ", index, ": ",
             written.ToString());
  applied_index_ = index;
}

KvApplyResult KvStateMachine::ApplyEncoded(uint64_t index, absl::string_view command_bytes) {
  absl::StatusOr<KvCommand> command = DecodeKvCommand(command_bytes);
  if (command.ok()) return Apply(index, *command);
  Skip(index);
  return StatusResult(command.status());
}

void KvStateMachine::Skip(uint64_t index) {
  EKV_ASSERT(index > applied_index_, "kv state machine: log index ", index,
             " skipped twice or out of order (applied index ", applied_index_, ")");
  MvccBatch batch;
  for (const auto& [name, value] : staged_meta_) batch.PutMeta(name, value);
  staged_meta_.clear();
  batch.PutMeta(kAppliedIndexMeta, EncodeU64(index));
  absl::Status written = store_.Apply(batch);
  EKV_ASSERT(written.ok(), "kv state machine: engine write failed at index ", index, ": ",
             written.ToString());
  applied_index_ = index;
}

void KvStateMachine::StageMeta(absl::string_view name, std::string value) {
  EKV_ASSERT(name != kAppliedIndexMeta && name != kHlcCeilingMeta && name != kGcSafePointMeta,
             "meta records of the kv state machine itself cannot be staged");
  for (auto& [staged_name, staged_value] : staged_meta_) {
    if (staged_name == name) {
      staged_value = std::move(value);
      return;
    }
  }
  staged_meta_.emplace_back(std::string(name), std::move(value));
}

absl::Status KvStateMachine::FlushStagedMeta() {
  if (staged_meta_.empty()) return absl::OkStatus();
  MvccBatch batch;
  for (const auto& [name, value] : staged_meta_) batch.PutMeta(name, value);
  staged_meta_.clear();
  return store_.Apply(batch);
}

absl::StatusOr<std::optional<std::string>> KvStateMachine::ReadMeta(absl::string_view name) const {
  return store_.GetMeta(name);
}

namespace {

absl::StatusOr<bool> VersionExpired(const MvccStore& store, absl::string_view key,
                                    Timestamp commit_ts, Timestamp read_ts) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<Timestamp> expire_ts, store.GetExpiry(key, commit_ts));
  return expire_ts.has_value() && read_ts >= *expire_ts;
}

// KeyIsLocked for the first lock in [start, end) that a read at read_ts must wait for.
absl::StatusOr<std::optional<KeyError>> FindBlockingLock(const MvccStore& store,
                                                         absl::string_view start,
                                                         absl::string_view end, Timestamp read_ts) {
  std::string cursor(start);
  while (true) {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<LockEntry> locks,
                            store.ScanLocks(cursor, end, kMaxScanLimit));
    for (const LockEntry& entry : locks) {
      if (entry.lock.start_ts <= read_ts) return KeyIsLockedError(entry.key, entry.lock);
    }
    if (locks.size() < kMaxScanLimit) return std::nullopt;
    cursor = locks.back().key;
    cursor.push_back('\0');  // the smallest key after it
  }
}

// A read at read_ts met a version at `met` in its uncertainty window (read_ts, limit]:
// the reader must take a snapshot above `limit` (every version in the window is below it).
absl::Status ReadRestart(const KvQuery& query, Timestamp met, Timestamp limit,
                         KvQueryResult* result) {
  result->restart_above = limit;
  return absl::AbortedError(absl::StrCat(
      "ReadRestart: key ", absl::CHexEscape(query.key), " has a version at ", FormatTimestamp(met),
      ", above the read's snapshot ", FormatTimestamp(query.read_ts),
      ", that may have been acknowledged before that snapshot was taken; read again at a "
      "timestamp above ",
      FormatTimestamp(limit)));
}

absl::Status QueryGet(const MvccStore& store, const KvQuery& query, Timestamp uncertainty_limit,
                      KvQueryResult* result) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<LockRecord> lock, store.GetLock(query.key));
  if (lock.has_value() && lock->start_ts <= query.read_ts) {
    result->locked = KeyIsLockedError(query.key, *lock);
    return KeyErrorStatus(*result->locked);
  }
  // Within the uncertainty window the newest version <= its limit decides: above
  // read_ts it may be a write acknowledged before read_ts was issued.
  const Timestamp seek_ts = std::max(query.read_ts, uncertainty_limit);
  EKV_KV_ASSIGN_OR_RETURN(std::optional<Version> version, store.GetVersion(query.key, seek_ts));
  if (version.has_value() && version->commit_ts > query.read_ts) {
    return ReadRestart(query, version->commit_ts, uncertainty_limit, result);
  }
  if (!version.has_value() || version->record.kind == MutationKind::kDelete) {
    return absl::OkStatus();
  }
  EKV_KV_ASSIGN_OR_RETURN(bool expired,
                          VersionExpired(store, query.key, version->commit_ts, query.read_ts));
  if (!expired) result->value = std::move(version->record.value);
  return absl::OkStatus();
}

absl::Status QueryScan(const MvccStore& store, const KvQuery& query, Timestamp uncertainty_limit,
                       KvQueryResult* result) {
  if (query.limit == 0 || query.limit > kMaxScanLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("scan limit must be in [1, ", kMaxScanLimit, "], got ", query.limit));
  }
  const bool forward = query.direction == ScanDirection::kForward;
  std::string start = query.key;
  std::string end = query.end_key;
  bool exhausted = false;
  // Expired versions are filtered out, so a page may come back short; page until the
  // limit is met or the range is exhausted.
  while (result->pairs.size() < query.limit) {
    const size_t want = query.limit - result->pairs.size();
    ReadUncertainty uncertainty{uncertainty_limit, std::nullopt};
    EKV_KV_ASSIGN_OR_RETURN(std::vector<KvPair> page, store.Scan(start, end, want, query.read_ts,
                                                                 query.direction, &uncertainty));
    if (uncertainty.met.has_value()) {
      return ReadRestart(query, *uncertainty.met, uncertainty_limit, result);
    }
    // The page's last key, before the pairs are moved out.
    const std::string last_key = page.empty() ? std::string() : page.back().key;
    for (KvPair& pair : page) {
      EKV_KV_ASSIGN_OR_RETURN(bool expired,
                              VersionExpired(store, pair.key, pair.commit_ts, query.read_ts));
      if (!expired) result->pairs.push_back(std::move(pair));
    }
    if (page.size() < want) {
      exhausted = true;
      break;
    }
    if (forward) {
      start = last_key;
      start.push_back('\0');
      if (!end.empty() && start >= end) {
        exhausted = true;
        break;
      }
    } else {
      end = last_key;
      if (end <= start) {
        exhausted = true;
        break;
      }
    }
  }
  // Locks matter in the part of the range the scan covered: all of it if exhausted, up
  // to (forward) or down to (reverse) the last key returned otherwise.
  std::string lock_start = query.key;
  std::string lock_end = query.end_key;
  if (!exhausted && !result->pairs.empty()) {
    if (forward) {
      lock_end = result->pairs.back().key;
      lock_end.push_back('\0');
    } else {
      lock_start = result->pairs.back().key;
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(std::optional<KeyError> blocking,
                          FindBlockingLock(store, lock_start, lock_end, query.read_ts));
  if (blocking.has_value()) {
    result->pairs.clear();
    result->locked = std::move(blocking);
    return KeyErrorStatus(*result->locked);
  }
  return absl::OkStatus();
}

}  // namespace

KvQueryResult KvStateMachine::Query(const KvQuery& query) const {
  KvQueryResult result;
  result.applied_index = applied_index_;
  // Below the safe point GC may have removed the version the read would see: refuse
  // rather than answer from what is left (an older value, or absence).
  if (query.kind != KvQuery::Kind::kLatestCommitTs && query.read_ts < gc_safe_point_) {
    result.status = BelowGcSafePointError("read", query.read_ts, gc_safe_point_);
    return result;
  }
  const Timestamp uncertainty_limit =
      planted_.reads_ignore_uncertainty || query.as_of ? 0 : read_uncertainty_ts_;
  switch (query.kind) {
    case KvQuery::Kind::kGet:
      result.status = QueryGet(store_, query, uncertainty_limit, &result);
      break;
    case KvQuery::Kind::kScan:
      result.status = QueryScan(store_, query, uncertainty_limit, &result);
      break;
    case KvQuery::Kind::kLatestCommitTs: {
      absl::StatusOr<std::optional<Timestamp>> latest = store_.LatestCommitTs(query.key);
      if (latest.ok()) {
        result.latest_commit_ts = *latest;
      } else {
        result.status = latest.status();
      }
      break;
    }
  }
  if (!result.ok() && !result.locked.has_value()) {
    result.value.reset();
    result.pairs.clear();
  }
  return result;
}

std::string KvStateMachine::SnapshotImage() const {
  std::string image;
  AppendByte(&image, kImageFormat);
  const size_t count_offset = image.size();
  AppendFixed64BigEndian(&image, 0);  // record count, patched below
  RecordHasher hasher;
  uint64_t count = 0;
  std::unique_ptr<EngineIterator> it = engine_->NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    AppendLengthPrefixed(&image, it->key());
    AppendLengthPrefixed(&image, it->value());
    hasher.Add(it->key());
    hasher.Add(it->value());
    ++count;
  }
  EKV_ASSERT(it->status().ok(), "kv snapshot: engine iteration failed: ", it->status().ToString());
  std::string count_bytes;
  AppendFixed64BigEndian(&count_bytes, count);
  image.replace(count_offset, 8, count_bytes);
  AppendFixed64BigEndian(&image, hasher.hash());
  return image;
}

absl::Status KvStateMachine::Restore(absl::string_view image) {
  ByteReader reader(image);
  absl::StatusOr<uint8_t> format = reader.ReadByte();
  if (!format.ok() || *format != kImageFormat) {
    return absl::DataLossError("kv snapshot: unknown or missing image format");
  }
  EKV_KV_ASSIGN_OR_RETURN(uint64_t count, reader.ReadFixed64BigEndian());
  WriteBatch batch;
  // Everything this state machine writes lives below 0xff (one namespace byte each).
  batch.DeleteRange(absl::string_view(), absl::string_view("\xff", 1));
  RecordHasher hasher;
  std::string previous_key;
  for (uint64_t i = 0; i < count; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(absl::string_view key, reader.ReadLengthPrefixed());
    EKV_KV_ASSIGN_OR_RETURN(absl::string_view value, reader.ReadLengthPrefixed());
    if (key.empty() || !KnownNamespace(key[0])) {
      return absl::DataLossError("kv snapshot: a record outside the kv namespaces");
    }
    if (i > 0 && key <= previous_key) {
      return absl::DataLossError("kv snapshot: records out of order");
    }
    previous_key.assign(key.data(), key.size());
    hasher.Add(key);
    hasher.Add(value);
    batch.Put(key, value);
  }
  EKV_KV_ASSIGN_OR_RETURN(uint64_t digest, reader.ReadFixed64BigEndian());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("kv snapshot"));
  if (digest != hasher.hash()) return absl::DataLossError("kv snapshot: digest mismatch");
  EKV_KV_RETURN_IF_ERROR(engine_->Write(batch));
  EKV_KV_ASSIGN_OR_RETURN(applied_index_, ReadMetaU64(store_, kAppliedIndexMeta));
  EKV_KV_ASSIGN_OR_RETURN(hlc_ceiling_ms_, ReadMetaU64(store_, kHlcCeilingMeta));
  EKV_KV_ASSIGN_OR_RETURN(gc_safe_point_, ReadMetaU64(store_, kGcSafePointMeta));
  EKV_KV_ASSIGN_OR_RETURN(read_floor_ts_, ReadMetaU64(store_, kReadFloorMeta));
  EKV_KV_ASSIGN_OR_RETURN(read_uncertainty_ts_, ReadMetaU64(store_, kReadUncertaintyMeta));
  return absl::OkStatus();
}

uint64_t KvStateMachine::Digest() const {
  RecordHasher hasher;
  std::unique_ptr<EngineIterator> it = engine_->NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    hasher.Add(it->key());
    hasher.Add(it->value());
  }
  EKV_ASSERT(it->status().ok(), "kv digest: engine iteration failed: ", it->status().ToString());
  return hasher.hash();
}

}  // namespace ekv::kv
