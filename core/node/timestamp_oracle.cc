#include "core/node/timestamp_oracle.h"

#include <algorithm>

#include "core/util/assert.h"

namespace ekv::node {

TimestampOracle::TimestampOracle(Options options) : options_(options) {}

void TimestampOracle::StartTerm(uint64_t term) {
  EKV_ASSERT(term > term_, "oracle: leading term ", term, " after term ", term_);
  StopServing();
  term_ = term;
  hlc_.emplace(options_.hlc);
}

void TimestampOracle::StopServing() {
  hlc_.reset();
  term_ = 0;
  recovered_ = false;
  active_ = false;
  proposed_ceiling_ms_.reset();
  proposed_at_tick_ = 0;
  last_issued_ = 0;
  floor_logged_ = 0;
}

void TimestampOracle::Recover(uint64_t committed_ceiling_ms, kv::Timestamp max_applied_ts,
                              uint64_t wall_ms) {
  EKV_ASSERT(leading(), "oracle: Recover while not leading");
  hlc_->Recover(std::min(committed_ceiling_ms, kv::kMaxPhysicalMs));
  // Applied timestamps are replicated facts, not a peer's clock reading: take them whatever
  // the local clock says (Observe's offset guard is for messages).
  (void)hlc_->Observe(max_applied_ts, std::max(wall_ms, kv::PhysicalMs(max_applied_ts)));
  recovered_ = true;
}

void TimestampOracle::OnCeilingApplied(uint64_t ceiling_ms) {
  if (!leading()) return;
  hlc_->SetCommittedCeiling(ceiling_ms);
  if (proposed_ceiling_ms_.has_value() && ceiling_ms >= *proposed_ceiling_ms_) {
    proposed_ceiling_ms_.reset();
  }
}

std::optional<uint64_t> TimestampOracle::CeilingToPropose(uint64_t wall_ms, int now_tick) const {
  if (!leading() || !recovered_ || !active_) return std::nullopt;
  if (proposed_ceiling_ms_.has_value() &&
      now_tick - proposed_at_tick_ < options_.ceiling_retry_ticks) {
    return std::nullopt;
  }
  return hlc_->CeilingNeeded(wall_ms);
}

void TimestampOracle::OnCeilingProposed(uint64_t ceiling_ms, int now_tick) {
  proposed_ceiling_ms_ = ceiling_ms;
  proposed_at_tick_ = now_tick;
}

absl::StatusOr<kv::Timestamp> TimestampOracle::Issue(uint64_t wall_ms,
                                                     kv::Timestamp max_applied_ts) {
  EKV_ASSERT(leading() && recovered_, "oracle: Issue before Recover");
  (void)hlc_->Observe(max_applied_ts, std::max(wall_ms, kv::PhysicalMs(max_applied_ts)));
  absl::StatusOr<kv::Timestamp> ts = hlc_->Now(wall_ms);
  if (!ts.ok()) return ts.status();
  EKV_ASSERT(*ts > max_applied_ts && *ts > last_issued_,
             "oracle: issued timestamp must exceed every applied and issued one");
  EKV_ASSERT(kv::PhysicalMs(*ts) <= hlc_->committed_ceiling_ms(),
             "oracle: issued a timestamp above the committed ceiling");
  last_issued_ = *ts;
  return ts;
}

std::optional<kv::Timestamp> TimestampOracle::FloorToLog() const {
  if (!leading() || last_issued_ <= floor_logged_) return std::nullopt;
  return last_issued_;
}

void TimestampOracle::OnFloorProposed(kv::Timestamp floor_ts) {
  floor_logged_ = std::max(floor_logged_, floor_ts);
}

}  // namespace ekv::node
