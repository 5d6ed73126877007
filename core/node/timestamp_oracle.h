// TimestampOracle: the timestamp service a Raft group's leader runs in memory.
//
// Timestamps come from the leader's hybrid logical clock (kv::Hlc) bounded by the group's
// committed ceiling (hlc.h), so serving one costs no Raft proposal: one ceiling proposal
// every (ceiling_lease_ms - renew_margin_ms) of wall time, plus one leadership
// confirmation (ReadIndex, or a valid lease) per batch of waiting requests. NodeHost
// drives it (node_host.h, "Timestamps"); this class holds the decisions, NodeHost the
// requests, proposals and read indexes.
//
// Protocol, per leadership term:
//   1. StartTerm(term) when the node becomes leader. NodeHost proposes a term-start floor
//      (GroupCommandOp::kTimestampFloor, above_ceiling) before any other proposal of the
//      term: every timestamp assigned at apply time after it (raw writes, RMW commands)
//      lies above the committed ceiling, hence above every timestamp an earlier leader
//      issued, even though those never entered the log.
//   2. Once that floor has applied (so has every entry of earlier terms), Recover(C, M)
//      with the applied ceiling C and the group's largest applied timestamp M: every later
//      timestamp is above both. Then CeilingToPropose asks for a fresh ceiling; requests
//      wait until it is applied (OnCeilingApplied), bounded by NodeHost's request timeout.
//   3. Requests are served in batches: each batch waits for one leadership confirmation
//      (a read index) asked for after its requests arrived, and for the group to have
//      applied up to that read index. Issue() then observes the largest applied timestamp
//      and returns Hlc::Now. Confirmation means a deposed leader never hands out a
//      timestamp lower than one its successor already issued: the successor issues only
//      after committing its ceiling with a quorum of its term, and that quorum would have
//      refused the deposed leader's heartbeat round, which started after the request came.
//      Applying up to the read index means every write that completed before the request
//      has a timestamp below what is issued. (Writes still in flight may apply below it;
//      readers at that timestamp are protected by the read floor, node_host.h.)
//   4. FloorToLog: the largest timestamp issued that the log does not know yet. NodeHost
//      proposes it (kTimestampFloor) ahead of the next proposal it appends, so timestamps
//      assigned at apply time to later entries lie above every timestamp issued before.
//   Leadership lost: StopServing; waiting requests fail (timestamps have no effect, so
//   clients retry freely).
//
// Pure and single-threaded; wall time (ms) and ticks come from the caller.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "core/kv/hlc.h"
#include "core/kv/timestamp.h"

namespace ekv::node {

// Deliberately planted bugs, for the simulator's self-tests only.
struct PlantedOracleBugs {
  // A follower answers timestamp requests from its own applied state and wall clock.
  bool follower_issues = false;
  // The leader serves timestamp requests without confirming its leadership first.
  bool skip_confirmation = false;
};

class TimestampOracle {
 public:
  struct Options {
    kv::Hlc::Options hlc;
    // A ceiling proposal not applied within this many ticks is proposed again.
    int ceiling_retry_ticks = 20;
  };

  explicit TimestampOracle(Options options);
  TimestampOracle() : TimestampOracle(Options{}) {}

  // This node leads `term` (> any term it led before). Nothing is served until Recover.
  void StartTerm(uint64_t term);
  // Leadership lost: forgets the clock, the ceiling and the floors of the term.
  void StopServing();
  bool leading() const { return term_ != 0; }
  uint64_t term() const { return term_; }

  // Step 2 above: the term-start floor has applied.
  void Recover(uint64_t committed_ceiling_ms, kv::Timestamp max_applied_ts, uint64_t wall_ms);
  bool recovered() const { return recovered_; }

  // The group's applied ceiling (call after applying entries; lower values are ignored).
  void OnCeilingApplied(uint64_t ceiling_ms);
  // A ceiling to propose now, or nullopt: not recovered, not active (no request was ever
  // made this term), headroom is enough, or a proposal is in flight since fewer than
  // ceiling_retry_ticks. Call OnCeilingProposed after proposing it.
  std::optional<uint64_t> CeilingToPropose(uint64_t wall_ms, int now_tick) const;
  void OnCeilingProposed(uint64_t ceiling_ms, int now_tick);
  // A timestamp request arrived (the oracle renews its ceiling only while in use).
  void MarkActive() { active_ = true; }

  // Step 3 above: the caller has confirmed leadership after the request arrived and the
  // group has applied its whole log. UnavailableError while the committed ceiling leaves
  // no room (nothing is consumed; retry after the next ceiling applies).
  absl::StatusOr<kv::Timestamp> Issue(uint64_t wall_ms, kv::Timestamp max_applied_ts);

  // Step 4 above.
  std::optional<kv::Timestamp> FloorToLog() const;
  void OnFloorProposed(kv::Timestamp floor_ts);

  kv::Timestamp last_issued() const { return last_issued_; }
  uint64_t committed_ceiling_ms() const {
    return hlc_.has_value() ? hlc_->committed_ceiling_ms() : 0;
  }

 private:
  const Options options_;
  std::optional<kv::Hlc> hlc_;  // one per term; none while not leading
  uint64_t term_ = 0;           // 0: not leading
  bool recovered_ = false;
  bool active_ = false;
  std::optional<uint64_t> proposed_ceiling_ms_;  // in flight, not yet applied
  int proposed_at_tick_ = 0;
  kv::Timestamp last_issued_ = 0;
  kv::Timestamp floor_logged_ = 0;  // largest issued timestamp proposed as a floor
};

}  // namespace ekv::node
