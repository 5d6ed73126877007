// The replicated commands of a kv Raft group, their binary encoding, and their results.
//
// A leader turns a client request into a KvCommand, proposes EncodeKvCommand(command),
// and every replica's KvStateMachine (kv_state_machine.h) applies the decoded command at
// the same log index. Everything a command's effect depends on is inside it: timestamps
// are chosen by the leader (hlc.h) and physical time for TTL checks is a field, so apply
// is deterministic.
//
// Encoding v1: [0x01 format][u8 type][fields in declaration order]; integers are varints,
// byte strings length-prefixed, optionals a presence byte then the value (codec.h).
// Decoding rejects unknown formats/types, out-of-range enums, counts above the named
// limits and trailing bytes with DataLossError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/records.h"
#include "core/kv/timestamp.h"

namespace ekv::kv {

// Bounds on one command, checked when decoding and again when applying.
inline constexpr size_t kMaxKeysPerCommand = 4096;
inline constexpr size_t kMaxKeyBytes = 8 * 1024;
inline constexpr size_t kMaxValueBytes = 4 * 1024 * 1024;

// One write of a key: a put of `value` or a delete.
struct Mutation {
  MutationKind kind = MutationKind::kPut;
  std::string key;
  std::string value;  // empty for kDelete
  bool operator==(const Mutation&) const = default;

  static Mutation Put(std::string key, std::string value) {
    return {MutationKind::kPut, std::move(key), std::move(value)};
  }
  static Mutation Delete(std::string key) { return {MutationKind::kDelete, std::move(key), {}}; }
};

// Non-transactional writes at a leader-chosen timestamp (RawPut, RawDelete, batches).
struct RawWriteCommand {
  std::vector<Mutation> mutations;
  Timestamp commit_ts = 0;
  bool operator==(const RawWriteCommand&) const = default;
};

// Commits a new HLC physical-time ceiling for the group (hlc.h, protocol step 1).
struct SetHlcCeilingCommand {
  uint64_t ceiling_ms = 0;
  bool operator==(const SetHlcCeilingCommand&) const = default;
};

// Raises the group's read floor (KvStateMachine::read_floor_ts) to at least `floor_ts`:
// a transactional read at read_ts is served only once a floor >= read_ts applied, so a
// one-phase commit that applies later picks a commit_ts above it (kv_state_machine.h).
struct AdvanceReadFloorCommand {
  Timestamp floor_ts = 0;
  // Not encoded: the group's largest assigned timestamp when the command applies, set by
  // the group at apply time (KvStateMachine, "Uncertainty").
  Timestamp max_applied_ts = 0;
  bool operator==(const AdvanceReadFloorCommand&) const = default;
};

// Percolator phase 1 for the keys of this group: lock every key or none.
struct PrewriteCommand {
  std::vector<Mutation> mutations;
  std::string primary;
  Timestamp start_ts = 0;
  uint64_t lock_ttl_ms = 0;
  bool operator==(const PrewriteCommand&) const = default;
};

// Percolator phase 2: turns this txn's locks on `keys` into versions at commit_ts.
struct CommitCommand {
  std::vector<std::string> keys;
  Timestamp start_ts = 0;
  Timestamp commit_ts = 0;
  bool operator==(const CommitCommand&) const = default;
};

// Removes this txn's locks on `keys` and leaves rollback records so a late prewrite or
// commit of start_ts fails.
struct RollbackCommand {
  std::vector<std::string> keys;
  Timestamp start_ts = 0;
  bool operator==(const RollbackCommand&) const = default;
};

// Decides a transaction's fate on its primary key, for a reader that found one of its
// locks: committed or rolled back stays so; a primary lock whose TTL has passed at
// current_ms (PhysicalMs(start_ts) + ttl_ms <= current_ms) is rolled back; a missing
// primary lock with no record is rolled back too (its prewrite never landed, and the
// rollback record stops it from landing later). A live lock is reported, not touched.
struct CheckTxnStatusCommand {
  std::string primary;
  Timestamp start_ts = 0;
  uint64_t current_ms = 0;
  bool operator==(const CheckTxnStatusCommand&) const = default;
};

// Applies a decided outcome to locks of start_ts on `keys` (secondaries, lazily):
// commit_ts > 0 rolls them forward, commit_ts == 0 rolls them back. Idempotent.
struct ResolveLockCommand {
  std::vector<std::string> keys;
  Timestamp start_ts = 0;
  Timestamp commit_ts = 0;
  bool operator==(const ResolveLockCommand&) const = default;
};

// Prewrite and commit in one command for a transaction whose keys all live in this group:
// the same conflict checks as prewrite, then versions at commit_ts; no locks are left.
// commit_ts == 0 asks the group to choose it at apply time: max(start_ts, read floor) + 1
// (kv_state_machine.h explains why that is safe). A 1PC that fails on a key error leaves
// rollback records at start_ts, so a blind retry (or a duplicated proposal) applied later
// fails too instead of committing a transaction whose client was told it aborted.
struct OnePhaseCommitCommand {
  std::vector<Mutation> mutations;
  Timestamp start_ts = 0;
  Timestamp commit_ts = 0;
  bool operator==(const OnePhaseCommitCommand&) const = default;
};

// Read-modify-write commands, executed on the latest committed value at apply time and
// written at commit_ts. They fail (no effect) on a locked key or when a version newer
// than commit_ts exists.

// Writes `new_value` (nullopt: delete) if the current value equals `expected`
// (nullopt: the key is absent).
struct CompareAndSetCommand {
  std::string key;
  std::optional<std::string> expected;
  std::optional<std::string> new_value;
  Timestamp commit_ts = 0;
  bool operator==(const CompareAndSetCommand&) const = default;
};

enum class ConditionKind : uint8_t {
  kNone = 0,       // always holds
  kExists = 1,     // the key has a (non-expired) value
  kNotExists = 2,  // the key is absent
  kEquals = 3,     // the key's value equals `value`
};

struct Condition {
  ConditionKind kind = ConditionKind::kNone;
  std::string value;  // kEquals
  bool operator==(const Condition&) const = default;
};

// Applies `mutation` if `condition` holds on the current value.
struct ConditionalWriteCommand {
  Mutation mutation;
  Condition condition;
  Timestamp commit_ts = 0;
  bool operator==(const ConditionalWriteCommand&) const = default;
};

// value = decimal int64(value or "0" if absent) + delta. Fails on a value that is not a
// decimal int64 or on overflow. Keeps the current version's expiry.
struct IncrementCommand {
  std::string key;
  int64_t delta = 0;
  Timestamp commit_ts = 0;
  bool operator==(const IncrementCommand&) const = default;
};

// value = current value (empty if absent) + suffix. Keeps the current version's expiry.
struct AppendCommand {
  std::string key;
  std::string suffix;
  Timestamp commit_ts = 0;
  bool operator==(const AppendCommand&) const = default;
};

// A put whose version reads as absent at read_ts >= commit_ts + ttl_ms (in HLC physical
// milliseconds).
struct PutWithTtlCommand {
  std::string key;
  std::string value;
  uint64_t ttl_ms = 0;
  Timestamp commit_ts = 0;
  bool operator==(const PutWithTtlCommand&) const = default;
};

// One bounded MVCC garbage-collection pass over the group's data (MvccReader::PlanGc):
// for at most `max_keys` (1..kMaxGcKeysPerPass) user keys from `start_key`, removes every
// version a read at ts >= the group's GC safe point cannot see. Locks and transaction
// records are never collected.
//
// The group's GC safe point only moves up and is stored with the pass's deletions: the
// pass runs at max(stored safe point, safe_point), so a stale or reordered proposal with
// a lower safe point still does useful work and never lowers it. From then on the group
// refuses reads and prewrites at timestamps below the safe point (kv_state_machine.h).
// The result's gc_resume_key says where the next pass starts (nullopt: done).
struct GcCommand {
  Timestamp safe_point = 0;
  std::string start_key;
  uint64_t max_keys = 0;
  bool operator==(const GcCommand&) const = default;
};

using KvCommand =
    std::variant<RawWriteCommand, SetHlcCeilingCommand, PrewriteCommand, CommitCommand,
                 RollbackCommand, CheckTxnStatusCommand, ResolveLockCommand, OnePhaseCommitCommand,
                 CompareAndSetCommand, ConditionalWriteCommand, IncrementCommand, AppendCommand,
                 PutWithTtlCommand, GcCommand, AdvanceReadFloorCommand>;

// A short name of the command's type, for messages and traces ("prewrite", "commit", ...).
const char* KvCommandName(const KvCommand& command);
// The key a transaction command is routed by (its first key, or the primary for
// CheckTxnStatus); empty for commands that concern a whole group.
std::string RoutingKeyOf(const KvCommand& command);

std::string EncodeKvCommand(const KvCommand& command);
absl::StatusOr<KvCommand> DecodeKvCommand(absl::string_view bytes);

// A per-key transaction error, in the shape of TransactionalKV's KeyError
// (REFERENCE.md section 2) plus what a client needs to act on it.
enum class KeyErrorCode : uint8_t {
  // A version committed after start_ts exists. The transaction must restart with a new
  // start_ts; retrying the same request can never succeed.
  kWriteConflict = 1,
  // Another transaction's lock is on the key. Retryable: once that lock is resolved
  // (committed, rolled back, or expired and resolved via `lock`) the same request can
  // succeed.
  kKeyIsLocked = 2,
  // This transaction was rolled back on the key (by its client or by lock resolution).
  kTxnRolledBack = 3,
  // Commit found neither this transaction's lock nor a record of its outcome: its
  // prewrite never landed here.
  kTxnLockNotFound = 4,
  // Rollback of a transaction already committed on the key.
  kTxnCommitted = 5,
};
const char* KeyErrorCodeName(KeyErrorCode code);

struct KeyError {
  KeyErrorCode code = KeyErrorCode::kWriteConflict;
  std::string key;
  std::string message;
  bool retryable = false;
  std::optional<LockRecord> lock;    // kKeyIsLocked: the blocking lock
  Timestamp conflict_commit_ts = 0;  // kWriteConflict: the newer version's commit_ts
  bool operator==(const KeyError&) const = default;
};

KeyError WriteConflictError(absl::string_view key, Timestamp start_ts,
                            Timestamp conflict_commit_ts);
KeyError KeyIsLockedError(absl::string_view key, const LockRecord& lock);
// The absl::Status a KeyError maps to: Unavailable when retryable, Aborted for conflicts
// and rollbacks (restart the transaction), FailedPrecondition otherwise.
absl::Status KeyErrorStatus(const KeyError& error);

// The outcome of a transaction as CheckTxnStatus sees it.
enum class TxnStatusKind : uint8_t {
  kUnknown = 0,
  kLocked = 1,  // the primary lock is alive
  kCommitted = 2,
  kRolledBack = 3,
};

// What applying one command produced; returned to the proposer.
struct KvApplyResult {
  // OK, or why the command had no effect. Transaction commands with per-key errors have
  // the first error's KeyErrorStatus here and every error in `key_errors`.
  absl::Status status;
  std::vector<KeyError> key_errors;
  // Read-modify-write: the value before (nullopt: absent) and the value written
  // (nullopt: deleted or nothing written). On a failed condition `old_value` holds the
  // current value so the caller can report it.
  std::optional<std::string> old_value;
  std::optional<std::string> new_value;
  // CheckTxnStatus: the decided state, its commit_ts, and for kLocked the lock.
  TxnStatusKind txn_status = TxnStatusKind::kUnknown;
  Timestamp commit_ts = 0;
  std::optional<LockRecord> lock;
  // PutWithTtl: the timestamp from which the written version reads as absent.
  Timestamp expire_ts = 0;
  // SetHlcCeiling: the group's committed ceiling after the command.
  uint64_t hlc_ceiling_ms = 0;
  // Gc: the safe point the pass ran at (the group's safe point after it), where the next
  // pass starts (nullopt: the pass reached the end of the key space), and its work.
  Timestamp gc_safe_point = 0;
  std::optional<std::string> gc_resume_key;
  uint64_t gc_keys_examined = 0;
  uint64_t gc_versions_deleted = 0;
  // AdvanceReadFloor: the group's read floor after the command.
  Timestamp read_floor_ts = 0;
  Timestamp read_uncertainty_ts = 0;  // AdvanceReadFloorCommand: the new uncertainty limit

  bool ok() const { return status.ok(); }
};

}  // namespace ekv::kv
