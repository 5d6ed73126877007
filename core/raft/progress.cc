#include "core/raft/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::raft {

const char* ProgressStateName(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "StateProbe";
    case ProgressState::kReplicate:
      return "StateReplicate";
    case ProgressState::kSnapshot:
      return "StateSnapshot";
  }
  return "StateUnknown";
}

void Progress::BecomeProbe() {
  // Coming back from a snapshot, resume after it: the follower will have it or reject.
  if (state == ProgressState::kSnapshot) {
    const Index snapshot = pending_snapshot;
    state = ProgressState::kProbe;
    next = std::max(match + 1, snapshot + 1);
  } else {
    state = ProgressState::kProbe;
    next = match + 1;
  }
  pending_snapshot = 0;
  msg_app_flow_paused = false;
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  pending_snapshot = 0;
  msg_app_flow_paused = false;
  inflights.Reset();
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  msg_app_flow_paused = false;
  inflights.Reset();
}

bool Progress::MaybeUpdate(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    msg_app_flow_paused = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

void Progress::SentEntries(Index last, uint64_t bytes, bool had_entries) {
  switch (state) {
    case ProgressState::kReplicate:
      if (had_entries) {
        next = last + 1;
        inflights.Add(last, bytes);
      }
      msg_app_flow_paused = inflights.Full();
      break;
    case ProgressState::kProbe:
      msg_app_flow_paused = true;
      break;
    case ProgressState::kSnapshot:
      EKV_UNREACHABLE("sending entries to a follower in StateSnapshot");
  }
}

bool Progress::MaybeDecrTo(Index rejected, Index match_hint) {
  if (state == ProgressState::kReplicate) {
    // In Replicate, rejections of indexes at or below match are stale.
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // In Probe only the rejection of the append just sent (next-1) is meaningful.
  if (next - 1 != rejected) return false;
  next = std::max<Index>(std::min(rejected, match_hint + 1), match + 1);
  msg_app_flow_paused = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressState::kProbe:
      return msg_app_flow_paused;
    case ProgressState::kReplicate:
      return msg_app_flow_paused;
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

std::string Progress::Describe() const {
  std::string out = absl::StrCat(ProgressStateName(state), " match=", match, " next=", next);
  if (is_learner) absl::StrAppend(&out, " learner");
  if (msg_app_flow_paused) absl::StrAppend(&out, " paused");
  if (state == ProgressState::kSnapshot) absl::StrAppend(&out, " pendingSnap=", pending_snapshot);
  if (!recent_active) absl::StrAppend(&out, " inactive");
  if (inflights.Count() > 0) absl::StrAppend(&out, " inflight=", inflights.Count());
  return out;
}

}  // namespace ekv::raft
