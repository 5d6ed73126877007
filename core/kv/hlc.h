// Hybrid logical clock with a replicated physical-time ceiling.
//
// Timestamps (timestamp.h) must be monotonic per Raft group across leader changes and
// restarts (REFERENCE.md section 3). Wall clocks jump backwards and nodes disagree, so the
// clock alone cannot promise that; the ceiling protocol below does.
//
// Protocol
//   Invariant: every timestamp any leader of the group has issued has a physical part
//   <= the group's committed ceiling C (a number of milliseconds stored in the group's
//   replicated state, e.g. a meta key written through Raft).
//
//   1. Before issuing timestamps, the leader asks `CeilingNeeded(now_ms)`. When the
//      ceiling is less than `renew_margin_ms` above the wall clock, or less than
//      `ahead_margin_ms` above where the next timestamp lands, it returns a new ceiling:
//      max(now + ceiling_lease_ms, next + ahead_step_ms). The leader proposes it through
//      Raft and, once the entry is applied, calls `SetCommittedCeiling(c)`.
//   2. `Now(now_ms)` returns a timestamp strictly greater than every timestamp issued or
//      observed before, and refuses (UnavailableError) if its physical part would exceed
//      the committed ceiling. Issuing therefore never outruns durability.
//   3. A new leader, or a node restarting, calls `Recover(C)` with the highest ceiling in
//      its applied state before serving. All future timestamps then have a physical part
//      > C, hence are above anything the previous leader issued, even if this node's
//      wall clock is behind. It must commit a fresh ceiling (step 1) before `Now`
//      succeeds. A new leader has applied every committed entry of earlier terms before it
//      serves, so it sees the latest C.
//
//   Cost: one Raft proposal every (ceiling_lease_ms - renew_margin_ms) of wall time, and
//   after a failover the clock may run up to ceiling_lease_ms ahead of wall time until
//   wall time catches up (the logical counter absorbs the difference).
//
//   No ratchet: a leader that starts ahead of the wall clock (after Recover) needs only a
//   little physical room, since its timestamps advance by the logical counter (65,536 per
//   millisecond) until the wall clock catches up. So its ceiling is placed at most
//   ahead_step_ms above the next timestamp, or at the usual now + ceiling_lease_ms if that
//   is higher. Placing it a whole lease above the next timestamp instead made every
//   failover push the clock a lease further ahead of wall time: a storm of failovers of
//   the oracle's group drove it minutes ahead in the simulator, and everything that reads
//   a timestamp's physical part as time (lock TTLs, Redis expiry) with it. Now the clock
//   is at most ceiling_lease_ms ahead, plus ahead_step_ms per failover that comes sooner
//   than ahead_step_ms after the previous one.
//
// Not thread-safe; core/ is single-threaded. Time always comes from the caller.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/kv/timestamp.h"

namespace ekv::kv {

class Hlc {
 public:
  struct Options {
    // How far ahead of the current time a new ceiling is placed.
    uint64_t ceiling_lease_ms = 3000;
    // `CeilingNeeded` asks for a new ceiling once headroom drops below this. Must be
    // < ceiling_lease_ms; the gap bounds how often a ceiling is proposed.
    uint64_t renew_margin_ms = 1000;
    // Ahead of the wall clock (after Recover or Observe): a ceiling is renewed once the
    // next timestamp would land within ahead_margin_ms of it, and placed ahead_step_ms
    // above that timestamp. Must be < ahead_step_ms.
    uint64_t ahead_margin_ms = 10;
    uint64_t ahead_step_ms = 20;
    // `Observe` rejects timestamps more than this far ahead of local physical time: a
    // peer whose clock is that far off is faulty, and following it would drag the group's
    // clock (and ceiling) into the future.
    uint64_t max_clock_offset_ms = 500;
  };

  explicit Hlc(Options options);
  Hlc() : Hlc(Options{}) {}

  // A timestamp strictly greater than every timestamp previously returned by Now or
  // passed to Observe/Recover. Its physical part is max(physical_ms, last physical); if
  // the logical counter is exhausted the timestamp carries into the next millisecond.
  // UnavailableError if that physical part exceeds the committed ceiling (nothing is
  // consumed then); InvalidArgumentError if physical_ms > kMaxPhysicalMs.
  absl::StatusOr<Timestamp> Now(uint64_t physical_ms);

  // Merges a timestamp seen in a message so later Now() results exceed it.
  // OutOfRangeError (and no effect) if `ts` is more than max_clock_offset_ms ahead of
  // `physical_ms`, the receiver's own clock reading.
  absl::Status Observe(Timestamp ts, uint64_t physical_ms);

  // The ceiling to propose through Raft, or nullopt while the committed ceiling is still
  // at least renew_margin_ms above physical_ms and ahead_margin_ms above the physical
  // part of the next timestamp. A returned ceiling is always above the committed one.
  std::optional<uint64_t> CeilingNeeded(uint64_t physical_ms) const;

  // Records a ceiling that is now committed in the group's replicated state. Ceilings
  // only move up; a lower value (a stale proposal applied late) is ignored.
  void SetCommittedCeiling(uint64_t ceiling_ms);

  // Restart / leadership takeover with the group's highest committed ceiling: future
  // timestamps have a physical part > ceiling_ms. See the protocol above.
  void Recover(uint64_t committed_ceiling_ms);

  Timestamp last() const { return last_; }
  uint64_t committed_ceiling_ms() const { return committed_ceiling_ms_; }

 private:
  const Options options_;
  Timestamp last_ = kMinTimestamp;     // highest timestamp issued or observed
  uint64_t committed_ceiling_ms_ = 0;  // 0: nothing may be issued yet
};

}  // namespace ekv::kv
