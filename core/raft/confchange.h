// Membership changes: the proposal format and the joint-consensus transitions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/raft/types.h"

namespace ekv::raft {

enum class ConfChangeType : uint8_t { kAddVoter, kRemoveVoter, kAddLearner };

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node = kNoNode;
  bool operator==(const ConfChangeSingle&) const = default;
};

enum class ConfChangeTransition : uint8_t {
  // A single voter change applies directly ("simple"); several enter a joint config
  // which the leader leaves automatically once it is applied.
  kAuto,
  kJointImplicit,  // always joint, left automatically
  kJointExplicit,  // always joint, left by proposing an empty ConfChange
};

struct ConfChange {
  ConfChangeTransition transition = ConfChangeTransition::kAuto;
  std::vector<ConfChangeSingle> changes;  // empty: leave the joint configuration
  std::string context;

  bool LeaveJoint() const { return changes.empty(); }
  // Whether applying this needs a joint configuration (and with it auto_leave or not).
  bool EnterJoint(bool* auto_leave) const;
  bool operator==(const ConfChange&) const = default;
};

std::string EncodeConfChange(const ConfChange& change);
absl::StatusOr<ConfChange> DecodeConfChange(absl::string_view data);
std::string DescribeConfChange(const ConfChange& change);

}  // namespace ekv::raft
