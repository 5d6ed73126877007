#include "core/raft/conf_changer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ekv::raft {

ChangedConfig ConfChanger::Copy() const {
  return ChangedConfig{tracker_.config, tracker_.progress};
}

void ConfChanger::InitProgress(ChangedConfig& changed, NodeId id, bool learner) const {
  Progress pr(last_index_ + 1, tracker_.max_inflight(), tracker_.max_inflight_bytes(), learner);
  // A new member counts as active so that CheckQuorum does not depose the leader
  // before the newcomer had a chance to answer.
  pr.recent_active = true;
  changed.progress.insert_or_assign(id, std::move(pr));
}

void ConfChanger::MakeVoter(ChangedConfig& changed, NodeId id) const {
  auto it = changed.progress.find(id);
  if (it == changed.progress.end()) {
    InitProgress(changed, id, /*learner=*/false);
  } else {
    it->second.is_learner = false;
  }
  changed.config.learners.erase(id);
  changed.config.learners_next.erase(id);
  changed.config.voters.incoming.mutable_voters().insert(id);
}

void ConfChanger::MakeLearner(ChangedConfig& changed, NodeId id) const {
  auto it = changed.progress.find(id);
  if (it == changed.progress.end()) {
    InitProgress(changed, id, /*learner=*/true);
    changed.config.learners.insert(id);
    return;
  }
  if (it->second.is_learner) return;
  Progress saved = it->second;
  Remove(changed, id);
  changed.progress.insert_or_assign(id, std::move(saved));
  if (changed.config.voters.outgoing.Contains(id)) {
    // Still a voter of the outgoing config: it becomes a learner when we leave joint.
    changed.config.learners_next.insert(id);
  } else {
    changed.progress.at(id).is_learner = true;
    changed.config.learners.insert(id);
  }
}

void ConfChanger::Remove(ChangedConfig& changed, NodeId id) const {
  if (changed.progress.find(id) == changed.progress.end()) return;
  changed.config.voters.incoming.mutable_voters().erase(id);
  changed.config.learners.erase(id);
  changed.config.learners_next.erase(id);
  // An outgoing voter keeps its progress until the joint config is left.
  if (!changed.config.voters.outgoing.Contains(id)) changed.progress.erase(id);
}

absl::Status ConfChanger::Apply(ChangedConfig& changed,
                                const std::vector<ConfChangeSingle>& changes) const {
  for (const ConfChangeSingle& change : changes) {
    if (change.node == kNoNode) continue;  // etcd's convention: node 0 is a no-op
    switch (change.type) {
      case ConfChangeType::kAddVoter:
        MakeVoter(changed, change.node);
        break;
      case ConfChangeType::kAddLearner:
        MakeLearner(changed, change.node);
        break;
      case ConfChangeType::kRemoveVoter:
        Remove(changed, change.node);
        break;
    }
  }
  if (changed.config.voters.incoming.empty()) {
    return absl::InvalidArgumentError("membership change removes all voters");
  }
  return absl::OkStatus();
}

absl::Status ConfChanger::CheckInvariants(const ChangedConfig& changed) {
  const TrackerConfig& cfg = changed.config;
  for (NodeId id : cfg.voters.IDs()) {
    if (changed.progress.find(id) == changed.progress.end()) {
      return absl::InternalError(absl::StrCat("no progress for voter ", id));
    }
  }
  for (NodeId id : cfg.learners) {
    auto it = changed.progress.find(id);
    if (it == changed.progress.end())
      return absl::InternalError(absl::StrCat("no progress for learner ", id));
    if (cfg.voters.outgoing.Contains(id)) {
      return absl::InternalError(absl::StrCat(id, " is in learners and outgoing voters"));
    }
    if (cfg.voters.incoming.Contains(id)) {
      return absl::InternalError(absl::StrCat(id, " is in learners and voters"));
    }
    if (!it->second.is_learner) return absl::InternalError(absl::StrCat(id, " not marked learner"));
  }
  for (NodeId id : cfg.learners_next) {
    if (!cfg.voters.outgoing.Contains(id)) {
      return absl::InternalError(absl::StrCat(id, " is in learners_next but not outgoing"));
    }
  }
  if (!cfg.voters.IsJoint()) {
    if (!cfg.learners_next.empty()) return absl::InternalError("learners_next outside joint");
    if (cfg.auto_leave) return absl::InternalError("auto_leave outside joint");
  }
  return absl::OkStatus();
}

absl::StatusOr<ChangedConfig> ConfChanger::EnterJoint(
    bool auto_leave, const std::vector<ConfChangeSingle>& changes) const {
  if (tracker_.config.voters.IsJoint()) {
    return absl::FailedPreconditionError("configuration is already joint");
  }
  if (tracker_.config.voters.incoming.empty()) {
    return absl::FailedPreconditionError("cannot enter a joint configuration with no voters");
  }
  ChangedConfig changed = Copy();
  changed.config.voters.outgoing = changed.config.voters.incoming;
  if (absl::Status status = Apply(changed, changes); !status.ok()) return status;
  changed.config.auto_leave = auto_leave;
  if (absl::Status status = CheckInvariants(changed); !status.ok()) return status;
  return changed;
}

absl::StatusOr<ChangedConfig> ConfChanger::LeaveJoint() const {
  if (!tracker_.config.voters.IsJoint()) {
    return absl::FailedPreconditionError("cannot leave a non-joint configuration");
  }
  ChangedConfig changed = Copy();
  for (NodeId id : changed.config.learners_next) {
    changed.config.learners.insert(id);
    changed.progress.at(id).is_learner = true;
  }
  changed.config.learners_next.clear();
  for (NodeId id : changed.config.voters.outgoing.voters()) {
    if (!changed.config.voters.incoming.Contains(id) && !changed.config.learners.count(id)) {
      changed.progress.erase(id);
    }
  }
  changed.config.voters.outgoing = MajorityConfig();
  changed.config.auto_leave = false;
  if (absl::Status status = CheckInvariants(changed); !status.ok()) return status;
  return changed;
}

absl::StatusOr<ChangedConfig> ConfChanger::Simple(
    const std::vector<ConfChangeSingle>& changes) const {
  if (tracker_.config.voters.IsJoint()) {
    return absl::FailedPreconditionError("cannot apply a simple change in a joint configuration");
  }
  ChangedConfig changed = Copy();
  if (absl::Status status = Apply(changed, changes); !status.ok()) return status;
  // A simple change must alter the voter set by at most one member, or two majorities
  // could decide independently (thesis §4.1).
  size_t differing = 0;
  const auto& before = tracker_.config.voters.incoming.voters();
  const auto& after = changed.config.voters.incoming.voters();
  for (NodeId id : before) differing += after.count(id) == 0;
  for (NodeId id : after) differing += before.count(id) == 0;
  if (differing > 1) {
    return absl::InvalidArgumentError(
        "more than one voter changed without entering a joint configuration");
  }
  if (absl::Status status = CheckInvariants(changed); !status.ok()) return status;
  return changed;
}

absl::StatusOr<ChangedConfig> ConfChanger::Restore(const ConfState& cs,
                                                   const ProgressTracker& empty_tracker,
                                                   Index last_index) {
  // Replay: the outgoing voters as a simple config, then enter joint with the incoming
  // ones and the learners, mirroring how the configuration was reached.
  ProgressTracker tracker(empty_tracker.max_inflight(), empty_tracker.max_inflight_bytes());
  auto apply_to = [&](const absl::StatusOr<ChangedConfig>& result) -> absl::Status {
    if (!result.ok()) return result.status();
    tracker.config = result->config;
    tracker.progress = result->progress;
    return absl::OkStatus();
  };
  std::vector<ConfChangeSingle> outgoing;
  for (NodeId id : cs.voters_outgoing) outgoing.push_back({ConfChangeType::kAddVoter, id});
  std::vector<ConfChangeSingle> incoming;
  for (NodeId id : cs.voters) incoming.push_back({ConfChangeType::kAddVoter, id});
  for (NodeId id : cs.learners) incoming.push_back({ConfChangeType::kAddLearner, id});
  for (NodeId id : cs.learners_next) incoming.push_back({ConfChangeType::kAddLearner, id});

  if (outgoing.empty()) {
    for (const ConfChangeSingle& change : incoming) {
      if (absl::Status s = apply_to(ConfChanger(tracker, last_index).Simple({change})); !s.ok()) {
        return s;
      }
    }
  } else {
    for (const ConfChangeSingle& change : outgoing) {
      if (absl::Status s = apply_to(ConfChanger(tracker, last_index).Simple({change})); !s.ok()) {
        return s;
      }
    }
    // Entering joint starts from the outgoing voters; the incoming set replaces them.
    std::vector<ConfChangeSingle> changes;
    for (NodeId id : cs.voters_outgoing) {
      if (std::find(cs.voters.begin(), cs.voters.end(), id) == cs.voters.end()) {
        changes.push_back({ConfChangeType::kRemoveVoter, id});
      }
    }
    changes.insert(changes.end(), incoming.begin(), incoming.end());
    if (absl::Status s =
            apply_to(ConfChanger(tracker, last_index).EnterJoint(cs.auto_leave, changes));
        !s.ok()) {
      return s;
    }
  }
  return ChangedConfig{tracker.config, tracker.progress};
}

}  // namespace ekv::raft
