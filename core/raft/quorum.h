// Quorum arithmetic: majority and joint (two-majority) configurations.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "core/raft/types.h"

namespace ekv::raft {

enum class VoteResult : uint8_t { kPending, kLost, kWon };

// Returns the acknowledged index of a voter, or nullopt-like `false` when unknown.
using AckedIndexFn = std::function<bool(NodeId, Index*)>;

class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::set<NodeId> voters) : voters_(std::move(voters)) {}

  const std::set<NodeId>& voters() const { return voters_; }
  std::set<NodeId>& mutable_voters() { return voters_; }
  bool empty() const { return voters_.empty(); }
  size_t size() const { return voters_.size(); }
  bool Contains(NodeId id) const { return voters_.count(id) > 0; }

  // The largest index acknowledged by a majority. An empty config commits everything
  // (it never limits a joint configuration), per the joint-consensus convention.
  Index CommittedIndex(const AckedIndexFn& acked) const;
  // `votes` maps voter -> granted; missing voters have not answered yet.
  VoteResult Vote(const std::function<bool(NodeId, bool*)>& vote_of) const;
  std::string Describe() const;

 private:
  std::set<NodeId> voters_;
};

// Incoming and outgoing majorities; outgoing is empty outside joint consensus.
class JointConfig {
 public:
  MajorityConfig incoming;
  MajorityConfig outgoing;

  bool IsJoint() const { return !outgoing.empty(); }
  std::set<NodeId> IDs() const;
  bool Contains(NodeId id) const { return incoming.Contains(id) || outgoing.Contains(id); }
  Index CommittedIndex(const AckedIndexFn& acked) const;
  VoteResult Vote(const std::function<bool(NodeId, bool*)>& vote_of) const;
};

}  // namespace ekv::raft
