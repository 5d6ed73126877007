// Applies membership changes to a ProgressTracker's configuration, enforcing the rules of
// joint consensus (Raft thesis §4.3): a simple change alters at most one voter; anything
// else goes through a joint configuration that must be left before the next change.
#pragma once

#include <map>

#include "absl/status/statusor.h"
#include "core/raft/confchange.h"
#include "core/raft/tracker.h"

namespace ekv::raft {

struct ChangedConfig {
  TrackerConfig config;
  std::map<NodeId, Progress> progress;
};

class ConfChanger {
 public:
  ConfChanger(const ProgressTracker& tracker, Index last_index)
      : tracker_(tracker), last_index_(last_index) {}

  absl::StatusOr<ChangedConfig> EnterJoint(bool auto_leave,
                                           const std::vector<ConfChangeSingle>& changes) const;
  absl::StatusOr<ChangedConfig> LeaveJoint() const;
  absl::StatusOr<ChangedConfig> Simple(const std::vector<ConfChangeSingle>& changes) const;

  // Rebuilds a configuration from a ConfState (restart, snapshot).
  static absl::StatusOr<ChangedConfig> Restore(const ConfState& conf_state,
                                               const ProgressTracker& empty_tracker,
                                               Index last_index);

 private:
  ChangedConfig Copy() const;
  absl::Status Apply(ChangedConfig& changed, const std::vector<ConfChangeSingle>& changes) const;
  void MakeVoter(ChangedConfig& changed, NodeId id) const;
  void MakeLearner(ChangedConfig& changed, NodeId id) const;
  void Remove(ChangedConfig& changed, NodeId id) const;
  void InitProgress(ChangedConfig& changed, NodeId id, bool learner) const;
  static absl::Status CheckInvariants(const ChangedConfig& changed);

  const ProgressTracker& tracker_;
  Index last_index_;
};

}  // namespace ekv::raft
