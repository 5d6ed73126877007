#include "sim/network.h"

#include "gtest/gtest.h"

namespace ekv::sim {
namespace {

Network MakeNetwork() {
  Network network({1, 2, 3, 4, 5}, Rng(7));
  LinkProfile profile;
  profile.min_latency_us = 100;
  profile.max_latency_us = 200;
  network.SetDefaultProfile(profile);
  return network;
}

TEST(NetworkTest, DeliversWithinLatencyBounds) {
  Network network = MakeNetwork();
  for (int i = 0; i < 100; ++i) {
    std::vector<SimTime> plan = network.Plan(1, 2, 1000);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_GE(plan[0], 1100u);
    EXPECT_LE(plan[0], 1200u);
  }
}

TEST(NetworkTest, SplitIsSymmetricAndHeals) {
  Network network = MakeNetwork();
  network.Split({1, 2});
  EXPECT_TRUE(network.Connected(1, 2));
  EXPECT_TRUE(network.Connected(3, 5));
  EXPECT_FALSE(network.Connected(1, 3));
  EXPECT_FALSE(network.Connected(3, 1));
  EXPECT_TRUE(network.Plan(2, 4, 0).empty());
  network.Heal();
  EXPECT_TRUE(network.Connected(1, 3));
  EXPECT_EQ(network.Plan(2, 4, 0).size(), 1u);
}

TEST(NetworkTest, OneWayCutDropsOnlyThatDirection) {
  Network network = MakeNetwork();
  network.CutOneWay(1, 2);
  EXPECT_FALSE(network.Connected(1, 2));
  EXPECT_TRUE(network.Connected(2, 1));
}

TEST(NetworkTest, BridgeNodeTalksToBothSides) {
  Network network = MakeNetwork();
  network.Bridge({1, 2}, 3);  // sides {1,2} and {4,5}, 3 bridges
  EXPECT_TRUE(network.Connected(1, 3));
  EXPECT_TRUE(network.Connected(3, 5));
  EXPECT_TRUE(network.Connected(5, 3));
  EXPECT_FALSE(network.Connected(1, 4));
  EXPECT_FALSE(network.Connected(5, 2));
  EXPECT_TRUE(network.Connected(1, 2));
}

TEST(NetworkTest, ClogHoldsMessagesUntilItEnds) {
  Network network = MakeNetwork();
  network.Clog(2, 50000);
  std::vector<SimTime> to_clogged = network.Plan(1, 2, 0);
  ASSERT_EQ(to_clogged.size(), 1u);
  EXPECT_GE(to_clogged[0], 50100u);
  std::vector<SimTime> from_clogged = network.Plan(2, 3, 0);
  ASSERT_EQ(from_clogged.size(), 1u);
  EXPECT_GE(from_clogged[0], 50100u);
  std::vector<SimTime> unrelated = network.Plan(1, 3, 0);
  EXPECT_LE(unrelated[0], 200u);
}

TEST(NetworkTest, DropAndDuplicateFollowProbabilities) {
  Network network = MakeNetwork();
  LinkProfile lossy;
  lossy.drop_probability = 1.0;
  network.SetLinkProfile(1, 2, lossy);
  EXPECT_TRUE(network.Plan(1, 2, 0).empty());
  EXPECT_EQ(network.Plan(2, 1, 0).size(), 1u);
  LinkProfile duplicating;
  duplicating.duplicate_probability = 1.0;
  network.SetLinkProfile(3, 4, duplicating);
  EXPECT_EQ(network.Plan(3, 4, 0).size(), 2u);
}

TEST(NetworkTest, SameSeedSamePlans) {
  Network a = MakeNetwork();
  Network b = MakeNetwork();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.Plan(1, 2, i), b.Plan(1, 2, i));
}

}  // namespace
}  // namespace ekv::sim
