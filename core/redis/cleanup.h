// Background cleanup of the Redis collections' dead records (layout.h).
//
// DEL, an overwrite or an expiry of a collection rewrites only its metadata record, so the
// client pays O(1) whatever the size. What that leaves behind is removed here, by bounded
// passes a driver proposes periodically (the server's GcScheduler, the simulator's redis
// workload) as one Raft entry each, run at apply time on every replica
// (GroupStateMachine, group_redis.cc), so the removals are replicated and deterministic:
//
//   - element records whose version is not the live metadata's (the collection was
//     deleted, overwritten or expired; a collection re-created under the key has a new
//     version, so its elements are live and stay);
//   - metadata records whose expiry has passed by the group's replicated time (then their
//     elements are dead and go in a later pass);
//   - touch records (WATCH stamps, layout.h) of keys that hold nothing any more: no
//     metadata record (live or expired), no MVCC version of a string (MVCC GC removed the
//     last one, tombstone included), no lock, and a stamp at least
//     kTouchRecordRetentionMs older than the group's time.
//
// Never a node's own clock: `now_ms` is the physical time of the group's newest applied
// timestamp, and every later read or write of the group decides expiry with a time at
// least that (group_redis.cc), so a record removed here was already invisible to every
// later request: nothing is hidden or resurrected.
//
// WATCH and touch records. EXEC aborts when a watched key's stamp (Executor::KeyStamp)
// differs from the one WATCH read, so a removal must never let a stamp come back to a
// value a WATCH saw before the key changed (an ABA: WATCH k reads 0, k is created and
// deleted, its record removed, the stamp reads 0 again, EXEC runs). The rule: a key with
// no touch record has the group's touch floor (TouchFloorKey) as its stamp, and every
// removal raises the floor to at least the removed stamp, in the same entry. Then a key's
// stamp never decreases: with a record it is the commit timestamp of the key's last
// write; the removal replaces it by the floor (>= it); a later write records a newer
// commit timestamp, above the floor (the floor is a timestamp the group already gave
// out). And it changes whenever the key does (each write records its own, newer commit
// timestamp), so EXEC aborts whenever it must. The price is a spurious abort: a WATCH of a
// key without a record (never written, or removed) is aborted by any removal in its group
// between the WATCH and the EXEC, since the floor moved; the retention delay keeps a key
// deleted a moment ago (which a client may be watching) out of that. Prepares compare
// stamps with their start_ts likewise (a floor at or above it is a conflict, retried with
// a newer start_ts).
//
// Keys a transaction holds a lock on (a cross-group EXEC between prepare and commit, whose
// staged writes the commit applies) are skipped, as are keys the group may not write (not
// owned, a range moving in or fenced): their records are left for a later pass.
//
// A pass walks the element, metadata and touch namespaces in key order from `start_key`,
// examining at most `max_records` records (a live version's elements are skipped with one
// seek and count as one), and answers where the next pass starts (nullopt: the walk
// reached the end). Resumable from any key: a driver that loses a pass starts over.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"

namespace ekv::redis_core {

// A cleanup pass travels as a kKv group command payload whose first byte is this tag
// (distinct from kRedisRequestTag and from every kv command and query encoding).
inline constexpr uint8_t kRedisCleanupTag = 'C';
inline constexpr uint64_t kMaxCleanupRecordsPerPass = 10'000;
// How long (the group's replicated time) a deleted key's touch record stays.
inline constexpr uint64_t kTouchRecordRetentionMs = 60'000;

struct CleanupPass {
  std::string start_key;  // an engine key; empty: the start of the Redis namespace
  uint64_t max_records = 0;
  bool operator==(const CleanupPass&) const = default;
};

bool IsCleanupPass(absl::string_view bytes);
std::string EncodeCleanupPass(const CleanupPass& pass);
absl::StatusOr<CleanupPass> DecodeCleanupPass(absl::string_view bytes);

struct CleanupOutcome {
  std::optional<std::string> resume_key;  // nullopt: the walk reached the end
  uint64_t records_examined = 0;
  uint64_t elements_deleted = 0;
  uint64_t metas_deleted = 0;
  uint64_t touches_deleted = 0;
  uint64_t keys_skipped = 0;  // locked or not writable here: left for a later pass
};

// Whether the group may clean `user_key` now (ownership); the lock check is done here.
using MayClean = std::function<bool(absl::string_view user_key)>;

// Adds one pass's deletions to `batch`. Deterministic for a given engine state.
// `drop_live_elements`: planted bug (simulator self-tests only): the live version's
// elements are removed too.
absl::StatusOr<CleanupOutcome> PlanCleanup(const kv::EngineReader& engine,
                                           const kv::MvccStore& mvcc, const CleanupPass& pass,
                                           uint64_t now_ms, const MayClean& may_clean,
                                           kv::MvccBatch* batch, bool drop_live_elements = false);

}  // namespace ekv::redis_core
