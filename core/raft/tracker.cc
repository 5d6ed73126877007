#include "core/raft/tracker.h"

namespace ekv::raft {

ConfState ProgressTracker::GetConfState() const {
  ConfState cs;
  cs.voters.assign(config.voters.incoming.voters().begin(), config.voters.incoming.voters().end());
  cs.voters_outgoing.assign(config.voters.outgoing.voters().begin(),
                            config.voters.outgoing.voters().end());
  cs.learners.assign(config.learners.begin(), config.learners.end());
  cs.learners_next.assign(config.learners_next.begin(), config.learners_next.end());
  cs.auto_leave = config.auto_leave;
  return cs;
}

bool ProgressTracker::IsSingleton() const {
  return config.voters.incoming.size() == 1 && !config.voters.IsJoint();
}

Index ProgressTracker::Committed() const {
  return config.voters.CommittedIndex([this](NodeId id, Index* index) {
    auto it = progress.find(id);
    if (it == progress.end()) return false;
    *index = it->second.match;
    return true;
  });
}

void ProgressTracker::RecordVote(NodeId id, bool granted) { votes.emplace(id, granted); }

VoteResult ProgressTracker::TallyVotes(int* granted, int* rejected) const {
  *granted = 0;
  *rejected = 0;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    if (it->second) {
      ++*granted;
    } else {
      ++*rejected;
    }
  }
  return config.voters.Vote([this](NodeId id, bool* vote) {
    auto it = votes.find(id);
    if (it == votes.end()) return false;
    *vote = it->second;
    return true;
  });
}

bool ProgressTracker::QuorumActive() const {
  return config.voters.Vote([this](NodeId id, bool* vote) {
    auto it = progress.find(id);
    if (it == progress.end()) return false;
    *vote = it->second.recent_active;
    return true;
  }) == VoteResult::kWon;
}

uint64_t ProgressTracker::QuorumLeaseTick() const {
  return config.voters.CommittedIndex([this](NodeId id, Index* tick) {
    auto it = progress.find(id);
    if (it == progress.end()) return false;
    *tick = it->second.lease_acked_tick;
    return true;
  });
}

}  // namespace ekv::raft
