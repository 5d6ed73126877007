// LeaderBandReachable (sim/leader_band.h): the simulator's judgement of whether leaders can
// be balanced at all, which decides between "legal" and a violation after the heal.
#include "sim/leader_band.h"

#include "gtest/gtest.h"

namespace ekv::sim {
namespace {

std::map<uint64_t, size_t> Each(size_t bound) { return {{1, bound}, {2, bound}, {3, bound}}; }

TEST(LeaderBandTest, AChainReachesTheBandWhereNoDirectTransferDoes) {
  // n1 leads groups 2 and 3 (voters n1, n2), n2 leads group 4 (voters n2, n3), n3 leads
  // none: 2/1/0 around a mean of 1. No direct transfer evens two counts (n1's groups have
  // no voter leading two fewer), which the old judgement called "legal"; a chain (group 2 to
  // n2, group 4 to n3) gives 1/1/1, so the band is reachable and the core must get there.
  const std::map<uint64_t, std::vector<uint64_t>> candidates = {
      {2, {1, 2}}, {3, {1, 2}}, {4, {2, 3}}};
  EXPECT_TRUE(LeaderBandReachable(candidates, Each(1), Each(1)));
}

TEST(LeaderBandTest, ANodeNoGroupCanGiveItsShareIsOutOfReach) {
  // n3 votes in no group: it can never lead one, and the band asks for one each.
  const std::map<uint64_t, std::vector<uint64_t>> candidates = {
      {2, {1, 2}}, {3, {1, 2}}, {4, {1, 2}}};
  EXPECT_FALSE(LeaderBandReachable(candidates, Each(1), Each(1)));
  // Without the lower bound it is reachable (at most one each is not: three groups, but n3
  // takes none, so at most two each).
  EXPECT_FALSE(LeaderBandReachable(candidates, Each(0), Each(1)));
  EXPECT_TRUE(LeaderBandReachable(candidates, Each(0), Each(2)));
}

TEST(LeaderBandTest, AGroupOnlyOneNodeMayLeadCountsForIt) {
  // The catalog group keeps its leader (n1): n1 leads it plus at most one more.
  const std::map<uint64_t, std::vector<uint64_t>> candidates = {
      {1, {1}}, {2, {1}}, {3, {1, 2, 3}}, {4, {1, 2, 3}}};
  EXPECT_FALSE(LeaderBandReachable(candidates, Each(1), Each(1)));  // n1 must lead 1 and 2
  EXPECT_TRUE(LeaderBandReachable(candidates, Each(1), Each(2)));
}

TEST(LeaderBandTest, AugmentsThroughLongerPaths) {
  // Each group may go to its own node or the next one: a greedy first pass fills n1..n3 with
  // groups 1..3 and must then push each one on to reach n4.
  const std::map<uint64_t, std::vector<uint64_t>> candidates = {
      {1, {1}}, {2, {1, 2}}, {3, {2, 3}}, {4, {3, 4}}};
  const std::map<uint64_t, size_t> one = {{1, 1}, {2, 1}, {3, 1}, {4, 1}};
  EXPECT_TRUE(LeaderBandReachable(candidates, one, one));
  const std::map<uint64_t, size_t> none_for_4 = {{1, 1}, {2, 1}, {3, 1}, {4, 0}};
  EXPECT_FALSE(LeaderBandReachable(candidates, one, none_for_4));
}

}  // namespace
}  // namespace ekv::sim
