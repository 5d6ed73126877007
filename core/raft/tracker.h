// ProgressTracker: the membership configuration plus the leader's Progress of every
// member, and the votes of the current election.
#pragma once

#include <map>
#include <set>

#include "core/raft/progress.h"
#include "core/raft/quorum.h"
#include "core/raft/types.h"

namespace ekv::raft {

struct TrackerConfig {
  JointConfig voters;
  std::set<NodeId> learners;
  std::set<NodeId> learners_next;  // become learners when leaving the joint config
  bool auto_leave = false;
};

class ProgressTracker {
 public:
  ProgressTracker(int max_inflight, uint64_t max_inflight_bytes)
      : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

  TrackerConfig config;
  std::map<NodeId, Progress> progress;  // ordered: iteration reaches messages
  std::map<NodeId, bool> votes;

  ConfState GetConfState() const;
  bool IsSingleton() const;
  Index Committed() const;
  VoteResult TallyVotes(int* granted, int* rejected) const;
  void RecordVote(NodeId id, bool granted);
  void ResetVotes() { votes.clear(); }
  // Whether the members marked recent_active form a quorum.
  bool QuorumActive() const;
  // The newest leader tick acknowledged by a quorum (lease reads).
  uint64_t QuorumLeaseTick() const;
  std::set<NodeId> VoterIDs() const { return config.voters.IDs(); }
  bool IsVoter(NodeId id) const { return config.voters.Contains(id); }
  int max_inflight() const { return max_inflight_; }
  uint64_t max_inflight_bytes() const { return max_inflight_bytes_; }

 private:
  int max_inflight_;
  uint64_t max_inflight_bytes_;
};

}  // namespace ekv::raft
