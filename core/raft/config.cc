#include "core/raft/config.h"

#include "absl/strings/str_cat.h"

namespace ekv::raft {

absl::Status Config::Validate() const {
  if (id == kNoNode) return absl::InvalidArgumentError("raft config: id must not be 0");
  if (heartbeat_tick <= 0) {
    return absl::InvalidArgumentError("raft config: heartbeat_tick must be greater than 0");
  }
  if (election_tick <= heartbeat_tick) {
    return absl::InvalidArgumentError(absl::StrCat("raft config: election_tick (", election_tick,
                                                   ") must be greater than heartbeat_tick (",
                                                   heartbeat_tick, ")"));
  }
  if (storage == nullptr) return absl::InvalidArgumentError("raft config: storage is required");
  if (max_inflight_msgs <= 0) {
    return absl::InvalidArgumentError("raft config: max_inflight_msgs must be greater than 0");
  }
  if (max_inflight_bytes != 0 && max_inflight_bytes < max_size_per_msg) {
    return absl::InvalidArgumentError(
        "raft config: max_inflight_bytes must be at least max_size_per_msg");
  }
  if (refuse_changes_without_active_quorum && !check_quorum) {
    return absl::InvalidArgumentError(
        "raft config: refuse_changes_without_active_quorum requires check_quorum (it judges "
        "members by whom the leader heard from since its last quorum check)");
  }
  if (read_only_option == ReadOnlyOption::kLeaseBased) {
    if (!check_quorum) {
      return absl::InvalidArgumentError(
          "raft config: lease-based reads require check_quorum (a leader must step down "
          "when it loses its quorum before its lease can be trusted)");
    }
    if (max_clock_drift_ticks < 0 || max_clock_drift_ticks >= election_tick) {
      return absl::InvalidArgumentError(absl::StrCat("raft config: max_clock_drift_ticks (",
                                                     max_clock_drift_ticks,
                                                     ") must be in [0, election_tick)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ekv::raft
