// NodeReadiness: ready only with a group, a leader known for each, a route table and an
// applied catalog; the reason names what is missing.
#include "runtime/metrics/readiness.h"

#include "gtest/gtest.h"

namespace ekv::runtime::metrics {
namespace {

std::map<raft::GroupId, node::GroupStatus> Statuses(raft::NodeId leader1, raft::NodeId leader2,
                                                    raft::Index applied1 = 5) {
  std::map<raft::GroupId, node::GroupStatus> statuses;
  statuses[1].group = 1;
  statuses[1].leader = leader1;
  statuses[1].applied = applied1;
  statuses[2].group = 2;
  statuses[2].leader = leader2;
  return statuses;
}

TEST(ReadinessTest, ReadyWhenEveryGroupHasALeaderAndTheCatalogIsLoaded) {
  EXPECT_TRUE(NodeReadiness(Statuses(1, 2), /*route_table_version=*/1, /*catalog_group=*/1).ok());
}

TEST(ReadinessTest, NamesWhatIsMissing) {
  EXPECT_EQ(NodeReadiness({}, 1, 1).message(), "this node hosts no Raft group yet");
  absl::Status no_leader = NodeReadiness(Statuses(1, raft::kNoNode), 1, 1);
  EXPECT_TRUE(absl::IsUnavailable(no_leader));
  EXPECT_EQ(no_leader.message(), "group 2 has no known leader");
  EXPECT_EQ(NodeReadiness(Statuses(1, 2), 0, 1).message(), "no route table loaded yet");
  EXPECT_EQ(NodeReadiness(Statuses(1, 2, /*applied1=*/0), 1, 1).message(),
            "the route catalog (group 1) has not been applied yet");
  // A node that does not host the catalog group only needs its route table.
  EXPECT_TRUE(NodeReadiness(Statuses(1, 2, 0), 1, /*catalog_group=*/3).ok());
}

}  // namespace
}  // namespace ekv::runtime::metrics
