// RouteLoadCounter: writes and reads land on the route that owns their key, with their
// bytes; a split's halves start from zero while untouched routes keep their counts; a
// GroupStateMachine counts applied writes and served reads.
#include "core/node/route_load_counter.h"

#include "core/kv/kv_command.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "core/route/ownership.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

route::RouteCatalog Catalog() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 1}});
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return *catalog;
}

route::GroupOwnership Owning(const route::RouteCatalog& catalog) {
  route::GroupOwnership ownership(1);
  ownership.Apply(catalog);
  return ownership;
}

TEST(RouteLoadCounterTest, WritesAndReadsLandOnTheirRoutes) {
  route::GroupOwnership ownership = Owning(Catalog());
  RouteLoadCounter counter;
  kv::RawWriteCommand write;
  write.mutations.push_back(kv::Mutation::Put("a", "123"));
  write.mutations.push_back(kv::Mutation::Put("q", "12345"));
  write.mutations.push_back(kv::Mutation::Delete("r"));
  counter.RecordCommand(&ownership, write);
  GroupResult get;
  get.value = "12";
  counter.RecordRead(&ownership, "b", get);
  GroupResult scan;
  scan.pairs = {{"c", "1"}, {"n", "22"}, {"o", "333"}};
  counter.RecordRead(&ownership, "c", scan);
  kv::CommitCommand commit;  // counted at prewrite, not again
  commit.keys = {"a"};
  counter.RecordCommand(&ownership, commit);

  std::vector<RouteLoad> loads = counter.Loads(&ownership);
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(loads[0], (RouteLoad{1, "", "m", /*reads=*/2, /*writes=*/1, /*read_bytes=*/3 + 2,
                                 /*write_bytes=*/4}));
  EXPECT_EQ(loads[1], (RouteLoad{2, "m", "", /*reads=*/2, /*writes=*/2,
                                 /*read_bytes=*/3 + 4, /*write_bytes=*/6 + 1}));
}

TEST(RouteLoadCounterTest, SplitHalvesStartFromZeroOthersKeepTheirCounts) {
  route::RouteCatalog catalog = Catalog();
  route::GroupOwnership ownership = Owning(catalog);
  RouteLoadCounter counter;
  kv::RawWriteCommand write;
  write.mutations.push_back(kv::Mutation::Put("a", ""));
  write.mutations.push_back(kv::Mutation::Put("x", ""));
  counter.RecordCommand(&ownership, write);

  route::SplitRange split;
  split.expected_catalog_version = catalog.version();
  split.route_id = 1;
  split.split_key = "g";
  ASSERT_TRUE(catalog.Split(split).ok());
  ownership.Apply(catalog);
  counter.RecordCommand(&ownership, write);

  std::vector<RouteLoad> loads = counter.Loads(&ownership);
  ASSERT_EQ(loads.size(), 3u);
  EXPECT_EQ(loads[0].route_id, 3u);
  EXPECT_EQ(loads[0].writes, 1u);  // only the write after the split
  EXPECT_EQ(loads[1].route_id, 4u);
  EXPECT_EQ(loads[1].writes, 0u);
  EXPECT_EQ(loads[2].route_id, 2u);
  EXPECT_EQ(loads[2].writes, 2u);  // kept across the split of another route
}

TEST(RouteLoadCounterTest, WithoutOwnershipEverythingIsRouteZero) {
  RouteLoadCounter counter;
  kv::IncrementCommand increment;
  increment.key = "k";
  counter.RecordCommand(nullptr, increment);
  std::vector<RouteLoad> loads = counter.Loads(nullptr);
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0].route_id, 0u);
  EXPECT_EQ(loads[0].writes, 1u);
}

TEST(RouteLoadCounterTest, GroupStateMachineCountsAppliedWritesAndServedReads) {
  GroupStateMachine machine(1, Catalog());
  kv::RawWriteCommand write;
  write.mutations.push_back(kv::Mutation::Put("p", "vv"));
  GroupCommand command;
  command.op = GroupCommandOp::kKv;
  command.physical_ms = 1000;
  command.payload = kv::EncodeKvCommand(write);
  Command apply;
  apply.kind = OpKind::kApply;
  apply.value = EncodeGroupCommand(command);
  ASSERT_TRUE(machine.Apply(1, apply).ok);
  GroupQuery query;
  query.op = GroupQueryOp::kRawGet;
  query.payload = "p";
  ASSERT_TRUE(machine.Query(EncodeGroupQuery(query)).has_value());
  ASSERT_TRUE(machine.Query(EncodeGroupQuery(query)).has_value());

  std::vector<RouteLoad> loads = machine.RouteLoads();
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(loads[0].writes, 0u);
  EXPECT_EQ(loads[1].route_id, 2u);
  EXPECT_EQ(loads[1].writes, 1u);
  EXPECT_EQ(loads[1].write_bytes, 3u);
  EXPECT_EQ(loads[1].reads, 2u);
  EXPECT_EQ(loads[1].read_bytes, 6u);
}

}  // namespace
}  // namespace ekv::node
