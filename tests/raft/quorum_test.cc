// Quorum arithmetic: committed index and vote results of majority and joint configs.
#include "core/raft/quorum.h"

#include <map>
#include <optional>
#include <vector>

#include "gtest/gtest.h"

namespace ekv::raft {
namespace {

AckedIndexFn Acks(std::map<NodeId, Index> acked) {
  return [acked](NodeId id, Index* index) {
    auto it = acked.find(id);
    if (it == acked.end()) return false;
    *index = it->second;
    return true;
  };
}

std::function<bool(NodeId, bool*)> Votes(std::map<NodeId, bool> votes) {
  return [votes](NodeId id, bool* vote) {
    auto it = votes.find(id);
    if (it == votes.end()) return false;
    *vote = it->second;
    return true;
  };
}

TEST(QuorumTest, MajorityCommittedIndex) {
  struct Case {
    std::set<NodeId> voters;
    std::map<NodeId, Index> acked;
    Index want;
  };
  const std::vector<Case> cases = {
      {{}, {}, UINT64_MAX},  // empty config never limits a joint config
      {{1}, {}, 0},
      {{1}, {{1, 12}}, 12},
      {{1, 2}, {{1, 12}}, 0},
      {{1, 2}, {{1, 12}, {2, 5}}, 5},
      {{1, 2, 3}, {{1, 12}, {2, 5}}, 5},
      {{1, 2, 3}, {{1, 12}}, 0},
      {{1, 2, 3}, {{1, 12}, {2, 5}, {3, 7}}, 7},
      {{1, 2, 3, 4}, {{1, 12}, {2, 5}, {3, 7}, {4, 9}}, 7},  // needs 3 of 4
      {{1, 2, 3, 4, 5}, {{1, 12}, {2, 5}, {3, 7}, {4, 9}, {5, 1}}, 7},
      {{1, 2, 3, 4, 5}, {{1, 12}, {2, 12}}, 0},
      {{1, 2, 3, 4, 5}, {{1, 12}, {2, 12}, {3, 4}}, 4},
      {{1, 2, 3}, {{1, 5}, {9, 100}}, 0},  // acks of non-voters do not count
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(MajorityConfig(cases[i].voters).CommittedIndex(Acks(cases[i].acked)), cases[i].want)
        << i;
  }
}

TEST(QuorumTest, JointCommittedIndexIsTheMinimumOfBoth) {
  struct Case {
    std::set<NodeId> in, out;
    std::map<NodeId, Index> acked;
    Index want;
  };
  const std::vector<Case> cases = {
      {{1, 2, 3}, {}, {{1, 7}, {2, 7}, {3, 1}}, 7},
      {{1, 2, 3}, {1, 2, 3}, {{1, 7}, {2, 7}, {3, 1}}, 7},
      {{1, 2, 4}, {1, 2, 3}, {{1, 9}, {2, 3}, {4, 9}, {3, 1}}, 3},  // outgoing limits
      {{4, 5, 6}, {1, 2, 3}, {{1, 9}, {2, 9}, {4, 2}, {5, 1}}, 1},  // incoming limits
      {{4, 5, 6}, {1, 2, 3}, {{1, 9}, {2, 9}, {4, 8}, {5, 8}}, 8},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    JointConfig joint{MajorityConfig(cases[i].in), MajorityConfig(cases[i].out)};
    EXPECT_EQ(joint.CommittedIndex(Acks(cases[i].acked)), cases[i].want) << i;
  }
}

TEST(QuorumTest, MajorityVote) {
  struct Case {
    std::set<NodeId> voters;
    std::map<NodeId, bool> votes;
    VoteResult want;
  };
  const std::vector<Case> cases = {
      {{}, {}, VoteResult::kWon},
      {{1}, {}, VoteResult::kPending},
      {{1}, {{1, true}}, VoteResult::kWon},
      {{1}, {{1, false}}, VoteResult::kLost},
      {{1, 2}, {{1, true}}, VoteResult::kPending},
      {{1, 2}, {{1, true}, {2, false}}, VoteResult::kLost},
      {{1, 2, 3}, {{1, true}, {2, true}}, VoteResult::kWon},
      {{1, 2, 3}, {{1, true}, {2, false}}, VoteResult::kPending},
      {{1, 2, 3}, {{1, false}, {2, false}}, VoteResult::kLost},
      {{1, 2, 3, 4}, {{1, true}, {2, true}}, VoteResult::kPending},
      {{1, 2, 3, 4}, {{1, true}, {2, true}, {3, false}, {4, false}}, VoteResult::kLost},
      {{1, 2, 3, 4, 5}, {{1, true}, {2, true}, {3, false}, {4, false}}, VoteResult::kPending},
      {{1, 2, 3, 4, 5}, {{1, true}, {2, true}, {3, true}}, VoteResult::kWon},
      {{1, 2, 3}, {{1, true}, {7, true}}, VoteResult::kPending},  // 7 is no voter
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(MajorityConfig(cases[i].voters).Vote(Votes(cases[i].votes)), cases[i].want) << i;
  }
}

TEST(QuorumTest, JointVoteNeedsBothMajorities) {
  struct Case {
    std::set<NodeId> in, out;
    std::map<NodeId, bool> votes;
    VoteResult want;
  };
  const std::vector<Case> cases = {
      {{1, 2, 3}, {}, {{1, true}, {2, true}}, VoteResult::kWon},
      {{1, 2, 4}, {1, 2, 3}, {{1, true}, {2, true}}, VoteResult::kWon},
      {{1, 2, 4}, {1, 2, 3}, {{1, true}, {4, true}}, VoteResult::kPending},
      {{1, 2, 4}, {1, 2, 3}, {{1, true}, {4, true}, {3, true}}, VoteResult::kWon},
      {{1, 2, 4}, {1, 2, 3}, {{1, true}, {4, true}, {2, false}, {3, false}}, VoteResult::kLost},
      {{4, 5, 6}, {1, 2, 3}, {{1, true}, {2, true}, {3, true}}, VoteResult::kPending},
      {{4, 5, 6}, {1, 2, 3}, {{1, true}, {2, true}, {5, false}, {6, false}}, VoteResult::kLost},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    JointConfig joint{MajorityConfig(cases[i].in), MajorityConfig(cases[i].out)};
    EXPECT_EQ(joint.Vote(Votes(cases[i].votes)), cases[i].want) << i;
  }
}

}  // namespace
}  // namespace ekv::raft
