#include "core/raft/quorum.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_join.h"

namespace ekv::raft {

Index MajorityConfig::CommittedIndex(const AckedIndexFn& acked) const {
  if (voters_.empty()) return UINT64_MAX;
  std::vector<Index> indexes;
  indexes.reserve(voters_.size());
  for (NodeId id : voters_) {
    Index index = 0;
    if (!acked(id, &index)) index = 0;
    indexes.push_back(index);
  }
  // Sorted descending, the (n/2)-th element is held by a majority (n/2+1 voters).
  std::sort(indexes.begin(), indexes.end(), std::greater<Index>());
  return indexes[voters_.size() / 2];
}

VoteResult MajorityConfig::Vote(const std::function<bool(NodeId, bool*)>& vote_of) const {
  if (voters_.empty()) return VoteResult::kWon;
  size_t granted = 0, rejected = 0, missing = 0;
  for (NodeId id : voters_) {
    bool vote = false;
    if (!vote_of(id, &vote)) {
      ++missing;
    } else if (vote) {
      ++granted;
    } else {
      ++rejected;
    }
  }
  const size_t quorum = voters_.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (granted + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::string MajorityConfig::Describe() const { return absl::StrJoin(voters_, " "); }

std::set<NodeId> JointConfig::IDs() const {
  std::set<NodeId> ids = incoming.voters();
  ids.insert(outgoing.voters().begin(), outgoing.voters().end());
  return ids;
}

Index JointConfig::CommittedIndex(const AckedIndexFn& acked) const {
  return std::min(incoming.CommittedIndex(acked), outgoing.CommittedIndex(acked));
}

VoteResult JointConfig::Vote(const std::function<bool(NodeId, bool*)>& vote_of) const {
  const VoteResult in = incoming.Vote(vote_of);
  const VoteResult out = outgoing.Vote(vote_of);
  if (in == out) return in;
  if (in == VoteResult::kLost || out == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace ekv::raft
