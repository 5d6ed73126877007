// KvStateMachine: the replicated state of one kv Raft group, an MvccStore driven by
// committed KvCommands (kv_command.h).
//
// Every replica applies the same commands at the same log indexes and therefore holds the
// same engine bytes: Apply reads only the store and the command, never a clock, and every
// command's writes plus the new applied index land in one atomic engine batch. A command
// that fails (a conflict, a failed condition, a malformed request) writes nothing but
// the applied index, so a failure is as deterministic as a success.
//
// Transactions follow Percolator as TiKV implements it (records.h for the layout):
//   prewrite   per key: a lock of this txn -> idempotent; another txn's lock ->
//              KeyIsLocked (retryable); a rollback record at start_ts -> TxnRolledBack;
//              a version committed after start_ts -> WriteConflict (restart the txn),
//              unless it is this txn's own commit (idempotent). All keys or none.
//   commit     per key: this txn's lock -> version at commit_ts (+ committed status on
//              the primary); else a committed record/own version -> idempotent; a
//              rollback record -> TxnRolledBack; nothing -> TxnLockNotFound.
//   rollback   per key: removes this txn's lock and always leaves a rollback record;
//              TxnCommitted if the txn already committed there.
// Because commit and rollback records are keyed by start_ts, a blind retry of a finished
// transaction is answered from them and never applies twice.
//
// MVCC garbage collection (GcCommand): each pass removes versions no read at or above the
// group's GC safe point can see. The safe point only moves up and is a meta record
// written with the pass, so every replica holds the same one at the same index. Reads
// (Get, Scan) at read_ts below it and prewrites / one-phase commits with start_ts below
// it are refused with FailedPrecondition: the versions the read would see, or the newer
// versions the prewrite's write-conflict check must find, may be gone.
//
// Reads (Query) see the applied state; a lock with start_ts <= read_ts blocks a read with
// KeyIsLocked carrying the lock, so the reader can resolve it (CheckTxnStatus on the
// primary, then ResolveLock) before reading at the same read_ts.
//
// Contract for writes whose timestamp is chosen before they apply (raw writes, RMW
// commands, OnePhaseCommit): they leave no lock while in flight, so the node layer must
// keep reads at read_ts >= such a write's commit_ts on its keys waiting until the write
// has applied (TiKV's in-memory locks in its concurrency manager), or the read could miss
// a version that later appears below its snapshot. 2PC needs no such help: its locks are
// in place before its commit_ts exists. The randomized bank test (txn_bank_test.cc)
// emulates this fence and fails without it.
//
// One-phase commit with a commit_ts chosen at apply time (OnePhaseCommitCommand with
// commit_ts == 0) needs no fence, only the read floor: the node layer serves a read at
// read_ts only after an AdvanceReadFloorCommand with floor_ts >= read_ts applied on the
// serving replica (core/node/node_host.h). The 1PC then commits at
//   commit_ts = max(start_ts, read_floor_ts) + 1.
// Safe, because:
//   - A read at R served before the 1PC applied saw the replica at some index a >= f, f
//     the index of a floor >= R. The 1PC's index is > a >= f, so read_floor_ts >= R when
//     it applies and commit_ts > R: the read's snapshot never changes. A read served
//     after it applied sees it iff commit_ts <= R, the same answer forever.
//   - Every version of its keys is <= start_ts (prewrite's conflict check), so commit_ts
//     is above all of them, and equal to none of a 2PC's: that 2PC either left a lock (1PC
//     fails) or committed above the 1PC's start_ts (WriteConflict), or prewrote after the
//     1PC with start_ts < commit_ts (WriteConflict for it).
//   - start_ts and every floor are timestamps the oracle issued (floors are read_ts), so
//     commit_ts <= (largest timestamp issued so far) + 1 <= any timestamp the oracle issues
//     after the 1PC is acknowledged. A transaction that starts after it sees it (reads
//     see versions <= read_ts), which an apply-time commit_ts above every *issued*
//     timestamp (e.g. from the HLC) could not promise for groups the oracle does not see.
//
// Uncertainty. A group assigns apply-time timestamps (raw writes, RMW commands, the Redis
// commands: max(coordinator's clock, max_ts + 1, read floor + 1)) that the oracle, which
// sees only its own group, does not know of. Such a write W, acknowledged before the
// oracle issues R, can still have W > R (a coordinator clock ahead of the oracle's, or
// max_ts + 1 chains above a floor within one millisecond). A read at R must see it all
// the same (a transaction that starts after a write completed sees it), so:
//   - The read is served only once a floor >= R applied (above), and that floor was
//     proposed after R existed. W applied before R was issued, so before that floor.
//   - When a floor rises, the group records U = its largest assigned timestamp then
//     (read_uncertainty_ts). Every version applied before that floor is <= U; every one
//     applied after it is concurrent with any read at or below the floor.
//   - A read at R < U that meets a version in (R, U] cannot tell which case it is in and
//     is refused as ReadRestart (Aborted, restart_above = U): the reader takes a new
//     snapshot above U (the oracle request carries "at least U") and reads again. Reads of
//     keys without versions in the window, and reads at R >= U, answer as before.
// This is CockroachDB's uncertainty interval with the window bounded by apply order
// instead of a clock-offset bound, so it holds whatever the clocks do.
// (docs/timestamp-ordering.md has the proof of the bug and the options weighed.)
//
// Not thread-safe; core/ is single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/kv/engine.h"
#include "core/kv/kv_command.h"
#include "core/kv/mvcc.h"

namespace ekv::kv {

// A read of the applied state. Linearizability (ReadIndex) is the node layer's job.
struct KvQuery {
  enum class Kind : uint8_t { kGet, kScan, kLatestCommitTs };
  Kind kind = Kind::kGet;
  std::string key;      // kGet, kLatestCommitTs; kScan: the inclusive start
  std::string end_key;  // kScan: exclusive end; empty = no bound
  size_t limit = 0;     // kScan: 1..kMaxScanLimit
  Timestamp read_ts = 0;
  ScanDirection direction = ScanDirection::kForward;
  // A read AS OF read_ts (a time-travel read at a timestamp the caller chose): no
  // uncertainty window ("Uncertainty" below), so no ReadRestart, and no promise to see a
  // write another group acknowledged before read_ts was obtained.
  bool as_of = false;

  static KvQuery Get(std::string key, Timestamp read_ts);
  static KvQuery Scan(std::string start, std::string end, size_t limit, Timestamp read_ts,
                      ScanDirection direction = ScanDirection::kForward);
  static KvQuery LatestCommitTs(std::string key);
};

struct KvQueryResult {
  // OK, or UnavailableError when `locked` is set, or the read's error.
  absl::Status status;
  std::optional<KeyError> locked;             // KeyIsLocked with the blocking lock
  std::optional<std::string> value;           // kGet (nullopt: absent)
  std::vector<KvPair> pairs;                  // kScan
  std::optional<Timestamp> latest_commit_ts;  // kLatestCommitTs (nullopt: no versions)
  // kGet/kScan refused as ReadRestart (Aborted): read again at a snapshot above this.
  Timestamp restart_above = 0;
  uint64_t applied_index = 0;  // the state the read saw

  bool ok() const { return status.ok(); }
};

// Deliberately planted bugs, used only by the simulator's self-tests to prove that its
// transaction checkers catch them. Never set outside those tests.
struct PlantedKvBugs {
  bool skip_write_conflict_check = false;  // prewrite ignores versions committed after start_ts
  bool commit_ignores_rollback = false;    // commit of a rolled-back (lock-less) key "succeeds"
  // GC also removes the newest version <= safe point, which reads at the safe point need.
  bool gc_drops_visible_version = false;
  // Planted (simulator, --workload redis): a Redis read decides expiry by the request's
  // clock alone, not max(request clock, the group's newest timestamp) (group_redis.cc).
  bool redis_read_request_clock = false;
  // Planted (simulator, --workload redis): a Redis cleanup pass also removes the live
  // version's elements (core/redis/cleanup.h).
  bool redis_cleanup_drops_live_elements = false;
  // Reads ignore their uncertainty window ("Uncertainty" above): a snapshot taken after a
  // write in another group was acknowledged can miss it.
  bool reads_ignore_uncertainty = false;
};

// The refusal of a read or prewrite at `ts` below the group's GC safe point.
absl::Status BelowGcSafePointError(absl::string_view what, Timestamp ts, Timestamp safe_point);

class KvStateMachine {
 public:
  // Meta names (key_codec.h's meta namespace) of the state machine's own records.
  static constexpr absl::string_view kAppliedIndexMeta = "applied_index";
  static constexpr absl::string_view kHlcCeilingMeta = "hlc_ceiling_ms";
  static constexpr absl::string_view kGcSafePointMeta = "gc_safe_point";
  static constexpr absl::string_view kReadFloorMeta = "read_floor_ts";
  static constexpr absl::string_view kReadUncertaintyMeta = "read_uncertainty_ts";

  // `engine` must outlive the state machine. Recovers applied_index(), the HLC
  // ceiling and the GC safe point from the engine's meta records, so a restarted replica resumes
  // where its durable state ends.
  explicit KvStateMachine(Engine* engine);

  KvStateMachine(const KvStateMachine&) = delete;
  KvStateMachine& operator=(const KvStateMachine&) = delete;

  // Applies the committed command at log `index`. Asserts index > applied_index():
  // re-applying an entry would break exactly-once effects (an increment applied twice).
  KvApplyResult Apply(uint64_t index, const KvCommand& command);
  // Decodes and applies; undecodable bytes yield a DataLossError result and (like any
  // failed command) only advance the applied index, identically on every replica.
  KvApplyResult ApplyEncoded(uint64_t index, absl::string_view command_bytes);
  // Applies at log `index` a batch a layer above computed deterministically from the
  // applied state (the Redis types, core/redis): its writes, the staged meta and the new
  // applied index land in one atomic engine write, as Apply's do.
  void ApplyPrepared(uint64_t index, MvccBatch batch);
  // Marks `index` applied without a command (leader no-ops, configuration changes).
  void Skip(uint64_t index);
  // Adds a meta record (key_codec.h's meta namespace) to the batch of the next Apply or
  // Skip, so state kept by a layer above (a group's timestamp sequence, its catalog)
  // becomes durable atomically with the applied index it belongs to.
  void StageMeta(absl::string_view name, std::string value);
  bool has_staged_meta() const { return !staged_meta_.empty(); }
  // Writes the staged meta records now, without applying an entry (after Restore).
  absl::Status FlushStagedMeta();
  // The value of a meta record of the applied state (nullopt: absent).
  absl::StatusOr<std::optional<std::string>> ReadMeta(absl::string_view name) const;

  KvQueryResult Query(const KvQuery& query) const;

  uint64_t applied_index() const { return applied_index_; }
  // The group's committed HLC ceiling (hlc.h): feed Hlc::SetCommittedCeiling / Recover.
  uint64_t hlc_ceiling_ms() const { return hlc_ceiling_ms_; }
  // The group's committed GC safe point (0: never collected).
  Timestamp gc_safe_point() const { return gc_safe_point_; }
  // The highest AdvanceReadFloorCommand applied (0: none); see "One-phase commit" above.
  Timestamp read_floor_ts() const { return read_floor_ts_; }
  // The largest timestamp the group had assigned when its read floor last rose (0: never);
  // see "Uncertainty" above.
  Timestamp read_uncertainty_ts() const { return read_uncertainty_ts_; }

  // Every engine record of the group (versions, locks, txn records, expiries, meta
  // including the applied index), self-checking. Restore replaces the whole state with
  // an image; a corrupt image is rejected with DataLossError and changes nothing.
  std::string SnapshotImage() const;
  absl::Status Restore(absl::string_view image);
  // A fingerprint of every engine record; equal on replicas with equal state.
  uint64_t Digest() const;

  const MvccStore& store() const { return store_; }
  void set_planted(const PlantedKvBugs& planted) { planted_ = planted; }

 private:
  Engine* const engine_;
  MvccStore store_;
  uint64_t applied_index_ = 0;
  uint64_t hlc_ceiling_ms_ = 0;
  Timestamp gc_safe_point_ = 0;
  std::vector<std::pair<std::string, std::string>> staged_meta_;
  Timestamp read_floor_ts_ = 0;
  Timestamp read_uncertainty_ts_ = 0;
  PlantedKvBugs planted_;
};

}  // namespace ekv::kv
