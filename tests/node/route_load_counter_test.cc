// RouteLoadCounter: writes and reads land on the route that owns their key, with their
// bytes; a split's halves start from zero while untouched routes keep their counts; a
// GroupStateMachine counts applied writes and served reads.
#include "core/node/route_load_counter.h"

#include <algorithm>
#include <map>
#include <string>

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

// Key samples: a bounded top-k per route (RouteKeySampler), in key order, the same for
// the same accesses; keys that keep coming stay in it while one-off keys churn; counts
// halve past the decay bound; the reports survive their encoding.
TEST(RouteLoadCounterTest, KeySamplesKeepTheHotKeysBoundedAndDeterministic) {
  route::GroupOwnership ownership = Owning(Catalog());
  auto run = [&] {
    RouteLoadCounter counter;
    for (int i = 0; i < 5000; ++i) {
      kv::RawWriteCommand write;
      // Two hot keys on route 1 (every other write), and a stream of one-off keys.
      write.mutations.push_back(kv::Mutation::Put(i % 2 == 0 ? "hot1" : "hot2", "v"));
      write.mutations.push_back(kv::Mutation::Put("cold" + std::to_string(i), "v"));
      counter.RecordCommand(&ownership, write);
    }
    GroupResult get;
    get.value = "x";
    counter.RecordRead(&ownership, "zz", get);  // route 2
    return counter.Reports(&ownership);
  };
  std::vector<RouteLoadReport> reports = run();
  ASSERT_EQ(reports.size(), 2u);
  const auto& samples = reports[0].key_samples;
  EXPECT_LE(samples.size(), RouteKeySampler::kMaxKeySamples);
  EXPECT_TRUE(std::is_sorted(samples.begin(), samples.end()));
  std::map<std::string, uint64_t> by_key(samples.begin(), samples.end());
  ASSERT_TRUE(by_key.count("hot1") && by_key.count("hot2")) << samples.size();
  EXPECT_GE(by_key["hot1"], 2000u);
  EXPECT_GE(by_key["hot2"], 2000u);
  EXPECT_EQ(reports[1].key_samples, (std::vector<std::pair<std::string, uint64_t>>{{"zz", 1}}));
  EXPECT_EQ(reports, run());  // deterministic

  absl::StatusOr<std::vector<RouteLoadReport>> decoded =
      DecodeRouteLoadReports(EncodeRouteLoadReports(reports));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, reports);
  std::string truncated = EncodeRouteLoadReports(reports);
  truncated.pop_back();
  EXPECT_FALSE(DecodeRouteLoadReports(truncated).ok());
}

TEST(RouteLoadCounterTest, KeySampleCountsDecay) {
  RouteKeySampler sampler;
  for (uint64_t i = 0; i < RouteKeySampler::kDecayAt; ++i) sampler.Add("k");
  EXPECT_EQ(sampler.counts.at("k"), RouteKeySampler::kDecayAt / 2);
}

// GroupQueryOp::kRouteLoads answers the state machine's counters with their samples.
TEST(RouteLoadCounterTest, RouteLoadsQueryAnswersCountersAndSamples) {
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
  query.op = GroupQueryOp::kRouteLoads;
  std::optional<std::string> answer = machine.Query(EncodeGroupQuery(query));
  ASSERT_TRUE(answer.has_value());
  absl::StatusOr<GroupResult> result = DecodeGroupResult(*answer);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->status().ok()) << result->status();
  absl::StatusOr<std::vector<RouteLoadReport>> reports = DecodeRouteLoadReports(result->blob);
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[1].load, machine.RouteLoads()[1]);
  EXPECT_EQ((*reports)[1].key_samples, (std::vector<std::pair<std::string, uint64_t>>{{"p", 1}}));
}
}  // namespace
}  // namespace ekv::node
