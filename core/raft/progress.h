// The leader's view of one follower's log (Raft thesis §4.2.1 and etcd's flow control).
//
// Probe: the leader does not know where the follower's log matches; it sends one append
// per heartbeat interval and waits. Replicate: the match is known; appends are pipelined
// optimistically, bounded by the inflight window. Snapshot: the follower needs entries
// the leader compacted away; the leader sends a snapshot and waits for it to land.
#pragma once

#include <string>

#include "core/raft/inflights.h"
#include "core/raft/types.h"

namespace ekv::raft {

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
const char* ProgressStateName(ProgressState state);

struct Progress {
  Progress(Index next_index, int max_inflight, uint64_t max_inflight_bytes, bool learner)
      : next(next_index), inflights(max_inflight, max_inflight_bytes), is_learner(learner) {}

  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  Index pending_snapshot = 0;  // index of the snapshot in flight (kSnapshot)
  bool recent_active = false;  // heard from since the last CheckQuorum round
  // Answered this leader at least once. recent_active alone starts true for a member the
  // leader just added (so CheckQuorum spares the leader), which says nothing of whether
  // the member is alive; Config::refuse_changes_without_active_quorum needs both.
  bool answered = false;
  bool msg_app_flow_paused = false;  // probe: one append sent, waiting
  // A rejection said the follower's log is empty (hint 0: every log holds the bootstrap
  // entries at term 1 unless it is empty); cleared only by an acknowledgement of an index.
  bool log_empty = false;
  Inflights inflights;
  bool is_learner = false;
  uint64_t lease_acked_tick = 0;  // leader tick of the newest heartbeat round it answered

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);
  // Follower acknowledged entries up to `n`. Returns whether match advanced.
  bool MaybeUpdate(Index n);
  // Records that entries up to `last` were sent (optimistic in Replicate).
  void SentEntries(Index last, uint64_t bytes, bool had_entries);
  // A rejected append of `rejected` with the follower's hint. Returns false if stale.
  bool MaybeDecrTo(Index rejected, Index match_hint);
  bool IsPaused() const;
  std::string Describe() const;
};

}  // namespace ekv::raft
