#include "core/kv/hlc.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::kv {

Hlc::Hlc(Options options) : options_(options) {
  EKV_ASSERT(options_.renew_margin_ms < options_.ceiling_lease_ms,
             "hlc: renew_margin_ms must be below ceiling_lease_ms, or every call would renew");
  EKV_ASSERT(options_.ahead_margin_ms < options_.ahead_step_ms,
             "hlc: ahead_margin_ms must be below ahead_step_ms, or every call would renew");
}

absl::StatusOr<Timestamp> Hlc::Now(uint64_t physical_ms) {
  if (physical_ms > kMaxPhysicalMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("hlc: physical time ", physical_ms, " ms exceeds 48 bits"));
  }
  // last_ + 1 carries a full logical counter into the next millisecond by plain addition.
  EKV_ASSERT(last_ < kMaxTimestamp, "hlc: timestamp space exhausted");
  const Timestamp candidate = std::max(MakeTimestamp(physical_ms, 0), last_ + 1);
  if (PhysicalMs(candidate) > committed_ceiling_ms_) {
    return absl::UnavailableError(absl::StrCat(
        "hlc: timestamp ", FormatTimestamp(candidate), " would exceed the committed ceiling ",
        committed_ceiling_ms_, " ms; commit a higher ceiling first"));
  }
  EKV_ASSERT(candidate > last_, "hlc: timestamps must strictly increase");
  last_ = candidate;
  return candidate;
}

absl::Status Hlc::Observe(Timestamp ts, uint64_t physical_ms) {
  if (PhysicalMs(ts) > physical_ms + options_.max_clock_offset_ms) {
    return absl::OutOfRangeError(absl::StrCat(
        "hlc: observed timestamp ", FormatTimestamp(ts), " is more than ",
        options_.max_clock_offset_ms, " ms ahead of local physical time ", physical_ms, " ms"));
  }
  last_ = std::max(last_, ts);
  return absl::OkStatus();
}

std::optional<uint64_t> Hlc::CeilingNeeded(uint64_t physical_ms) const {
  // The next timestamp may land ahead of the wall clock after Recover or Observe; there
  // it advances only by the logical counter, so a little room above it is enough (see
  // "No ratchet" in hlc.h).
  const uint64_t next_ms = std::max(physical_ms, PhysicalMs(last_) + 1);
  const bool wall_close = committed_ceiling_ms_ < physical_ms + options_.renew_margin_ms;
  const bool next_close = committed_ceiling_ms_ < next_ms + options_.ahead_margin_ms;
  if (!wall_close && !next_close) return std::nullopt;
  const uint64_t ceiling =
      std::min(std::max(physical_ms + options_.ceiling_lease_ms, next_ms + options_.ahead_step_ms),
               kMaxPhysicalMs);
  EKV_ASSERT(ceiling > committed_ceiling_ms_ || ceiling == kMaxPhysicalMs,
             "hlc: a renewed ceiling must be above the committed one");
  return ceiling;
}

void Hlc::SetCommittedCeiling(uint64_t ceiling_ms) {
  committed_ceiling_ms_ = std::max(committed_ceiling_ms_, std::min(ceiling_ms, kMaxPhysicalMs));
}

void Hlc::Recover(uint64_t committed_ceiling_ms) {
  EKV_ASSERT(committed_ceiling_ms <= kMaxPhysicalMs, "hlc: ceiling exceeds 48 bits");
  // The previous leader may have issued anything up to (ceiling, kMaxLogical).
  last_ = std::max(last_, MakeTimestamp(committed_ceiling_ms, kMaxLogical));
  SetCommittedCeiling(committed_ceiling_ms);
}

}  // namespace ekv::kv
