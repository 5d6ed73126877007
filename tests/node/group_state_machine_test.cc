// GroupStateMachine's ownership guard: keys outside the group's ranges are refused with
// STALE_ROUTE at apply and query time, the guard follows catalog changes and ownership
// pushes, and survives snapshots.
#include "core/node/group_state_machine.h"

#include "core/kv/kv_command.h"
#include "core/kv/kv_state_machine.h"
#include "core/node/group_protocol.h"
#include "core/route/catalog_command.h"
#include "core/route/ownership.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

route::RouteCatalog DemoCatalog() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EXPECT_TRUE(catalog.ok());
  return *catalog;
}

Command Apply(GroupCommand command) {
  Command out;
  out.kind = OpKind::kApply;
  out.value = EncodeGroupCommand(command);
  return out;
}

GroupCommand RawPut(std::string key, uint64_t catalog_version) {
  kv::RawWriteCommand write;
  write.mutations.push_back(kv::Mutation::Put(std::move(key), "v"));
  GroupCommand command;
  command.op = GroupCommandOp::kKv;
  command.physical_ms = 1000;
  command.payload = kv::EncodeKvCommand(write);
  command.catalog_version = catalog_version;
  return command;
}

GroupResult ApplyAt(GroupStateMachine& machine, raft::Index index, GroupCommand command) {
  ApplyResult applied = machine.Apply(index, Apply(std::move(command)));
  EXPECT_TRUE(applied.ok);
  absl::StatusOr<GroupResult> result = DecodeGroupResult(applied.value.value_or(""));
  EXPECT_TRUE(result.ok());
  return *result;
}

GroupResult QueryRawGet(const GroupStateMachine& machine, std::string key, uint64_t version) {
  GroupQuery query;
  query.op = GroupQueryOp::kRawGet;
  query.payload = std::move(key);
  query.catalog_version = version;
  std::optional<std::string> answer = machine.Query(EncodeGroupQuery(query));
  EXPECT_TRUE(answer.has_value());
  absl::StatusOr<GroupResult> result = DecodeGroupResult(*answer);
  EXPECT_TRUE(result.ok());
  return *result;
}

std::optional<route::StaleRouteError> Stale(const GroupResult& result) {
  return route::ParseStaleRouteError(result.status());
}

TEST(GroupStateMachineOwnershipTest, RefusesKeysOutsideItsRangesAtApplyAndQuery) {
  GroupStateMachine machine(1, DemoCatalog());
  EXPECT_EQ(ApplyAt(machine, 1, RawPut("a", 1)).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyAt(machine, 2, RawPut("b", 0)).code, absl::StatusCode::kOk);  // unversioned
  const GroupResult refused = ApplyAt(machine, 3, RawPut("n", 0));
  ASSERT_TRUE(Stale(refused).has_value()) << refused.message;
  EXPECT_EQ(Stale(refused)->current_version, 1u);
  EXPECT_EQ(Stale(refused)->group, 1u);
  EXPECT_EQ(machine.applied_index(), 3u);  // a refusal is applied as a no-op
  EXPECT_FALSE(machine.Read("n").has_value());
  EXPECT_TRUE(QueryRawGet(machine, "a", 1).value.has_value());
  EXPECT_TRUE(Stale(QueryRawGet(machine, "n", 1)).has_value());

  GroupQuery scan;
  scan.op = GroupQueryOp::kRawScan;
  scan.payload = EncodeRawScan("a", "z", 10);
  absl::StatusOr<GroupResult> scanned = DecodeGroupResult(*machine.Query(EncodeGroupQuery(scan)));
  ASSERT_TRUE(scanned.ok());
  EXPECT_TRUE(Stale(*scanned).has_value()) << scanned->message;
}

TEST(GroupStateMachineOwnershipTest, AGroupThatKnowsNoCatalogServesEveryKey) {
  GroupStateMachine machine(2, std::nullopt);
  EXPECT_FALSE(machine.ownership().has_value());
  EXPECT_EQ(ApplyAt(machine, 1, RawPut("a", 0)).code, absl::StatusCode::kOk);
}

TEST(GroupStateMachineOwnershipTest, PlantedBugServesOutsideTheRange) {
  GroupStateMachine machine(1, DemoCatalog());
  route::PlantedRouteBugs bugs;
  bugs.serve_outside_range = true;
  machine.SetPlantedRouteBugs(bugs);
  EXPECT_EQ(ApplyAt(machine, 1, RawPut("n", 1)).code, absl::StatusCode::kOk);
}

GroupCommand Gc(kv::Timestamp safe_point, std::string start_key, uint64_t catalog_version) {
  GroupCommand command;
  command.op = GroupCommandOp::kKv;
  command.physical_ms = 1000;
  command.payload = kv::EncodeKvCommand(kv::GcCommand{safe_point, std::move(start_key), 100});
  command.catalog_version = catalog_version;
  return command;
}

// GC is whole-group maintenance: never refused for ownership (its start key is only a
// cursor, here outside the group's range), and it answers the safe point it ran at and
// where to resume (no value: done). Later server-chosen timestamps land above it.
TEST(GroupStateMachineOwnershipTest, GcIsAWholeGroupCommandWithoutAnOwnershipCheck) {
  GroupStateMachine machine(1, DemoCatalog());
  EXPECT_EQ(ApplyAt(machine, 1, RawPut("a", 1)).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyAt(machine, 2, RawPut("a", 1)).code, absl::StatusCode::kOk);
  const kv::Timestamp safe_point = kv::MakeTimestamp(5000, 0);
  const GroupResult collected = ApplyAt(machine, 3, Gc(safe_point, "", 1));
  ASSERT_EQ(collected.code, absl::StatusCode::kOk) << collected.message;
  EXPECT_EQ(collected.ts, safe_point);
  EXPECT_FALSE(collected.value.has_value());
  const GroupResult outside = ApplyAt(machine, 4, Gc(safe_point, "n", 1));
  EXPECT_EQ(outside.code, absl::StatusCode::kOk) << outside.message;
  const GroupResult write = ApplyAt(machine, 5, RawPut("b", 1));
  ASSERT_EQ(write.code, absl::StatusCode::kOk);
  EXPECT_GT(write.ts, safe_point);
  EXPECT_TRUE(QueryRawGet(machine, "a", 1).value.has_value());
}

GroupCommand KvCommandAt(kv::KvCommand kv_command) {
  GroupCommand command;
  command.op = GroupCommandOp::kKv;
  command.physical_ms = 1000;
  command.payload = kv::EncodeKvCommand(kv_command);
  command.catalog_version = 1;
  return command;
}

GroupResult QueryRawScan(const GroupStateMachine& machine, std::string start, std::string end,
                         uint64_t limit) {
  GroupQuery query;
  query.op = GroupQueryOp::kRawScan;
  query.payload = EncodeRawScan(start, end, limit);
  query.catalog_version = 1;
  std::optional<std::string> answer = machine.Query(EncodeGroupQuery(query));
  EXPECT_TRUE(answer.has_value());
  absl::StatusOr<GroupResult> result = DecodeGroupResult(answer.value_or(""));
  EXPECT_TRUE(result.ok());
  return *result;
}

// A latest-state read (RawGet, RawScan at ts 0) answers the version below a transaction's
// lock together with the lock: the transaction may have committed at its primary in
// another group ("n", group 2 here) while this group's commit was lost, and only a
// resolver rolls the key forward, so the coordinator must ask the primary before the read
// stands. (Found by ekv-sim --seed 115 --workload dynamo: a TransactWriteItems committed
// at its first item, the second item's lock was left, and linearizable table reads kept
// showing the old balance.)
TEST(GroupStateMachineRawReadTest, AnswersTheLocksOfTheKeysItReads) {
  GroupStateMachine machine(1, DemoCatalog());
  ASSERT_EQ(ApplyAt(machine, 1, RawPut("a", 1)).code, absl::StatusCode::kOk);
  ASSERT_EQ(ApplyAt(machine, 2, RawPut("c", 1)).code, absl::StatusCode::kOk);
  const kv::Timestamp start_ts = kv::MakeTimestamp(2000, 0);
  kv::PrewriteCommand prewrite;
  prewrite.mutations = {kv::Mutation::Put("c", "new"), kv::Mutation::Put("d", "new")};
  prewrite.primary = "n";
  prewrite.start_ts = start_ts;
  prewrite.lock_ttl_ms = 3000;
  const GroupResult prewritten = ApplyAt(machine, 3, KvCommandAt(prewrite));
  ASSERT_EQ(prewritten.code, absl::StatusCode::kOk) << prewritten.message;

  const GroupResult get = QueryRawGet(machine, "c", 1);
  EXPECT_EQ(get.code, absl::StatusCode::kOk) << get.message;
  EXPECT_EQ(get.value, std::optional<std::string>("v"));
  ASSERT_EQ(get.key_errors.size(), 1u) << get.message;
  EXPECT_EQ(get.key_errors[0].key, "c");
  EXPECT_EQ(get.key_errors[0].lock_primary, "n");
  EXPECT_EQ(get.key_errors[0].lock_start_ts, start_ts);
  const GroupResult unlocked = QueryRawGet(machine, "a", 1);
  EXPECT_EQ(unlocked.value, std::optional<std::string>("v"));
  EXPECT_TRUE(unlocked.key_errors.empty());

  // Every lock in the range, "d" too (a key with no version yet).
  const GroupResult scan = QueryRawScan(machine, "a", "m", 10);
  EXPECT_EQ(scan.code, absl::StatusCode::kOk) << scan.message;
  EXPECT_EQ(scan.pairs.size(), 2u);
  ASSERT_EQ(scan.key_errors.size(), 2u) << scan.message;
  EXPECT_EQ(scan.key_errors[0].key, "c");
  EXPECT_EQ(scan.key_errors[1].key, "d");
  EXPECT_EQ(scan.key_errors[1].lock_primary, "n");
  // A scan the limit ends before the locked keys reads no further, so their locks are
  // not its.
  const GroupResult short_scan = QueryRawScan(machine, "a", "m", 1);
  EXPECT_TRUE(short_scan.key_errors.empty()) << short_scan.message;
  ASSERT_EQ(short_scan.pairs.size(), 1u);
  EXPECT_EQ(short_scan.pairs[0].first, "a");

  // Rolled forward (the primary committed): the reads see the transaction's write.
  const GroupResult resolved =
      ApplyAt(machine, 4, KvCommandAt(kv::ResolveLockCommand{{"c", "d"}, start_ts, start_ts + 1}));
  ASSERT_EQ(resolved.code, absl::StatusCode::kOk) << resolved.message;
  const GroupResult after = QueryRawGet(machine, "c", 1);
  EXPECT_TRUE(after.key_errors.empty()) << after.message;
  EXPECT_EQ(after.value, std::optional<std::string>("new"));
  const GroupResult after_scan = QueryRawScan(machine, "a", "m", 10);
  EXPECT_TRUE(after_scan.key_errors.empty());
  EXPECT_EQ(after_scan.pairs.size(), 3u);
}

TEST(GroupStateMachineOwnershipTest, FollowsSplitsAndOwnershipPushes) {
  const route::RouteCatalog bootstrap = DemoCatalog();
  GroupStateMachine catalog_group(1, bootstrap, bootstrap);
  GroupStateMachine other(2, std::nullopt, bootstrap);

  // Split route 2 (group 2's) twice on the catalog group: versions 2 and 3.
  route::CatalogCommand split;
  split.op = route::SplitRange{1, 2, "p"};
  GroupCommand command;
  command.op = GroupCommandOp::kCatalog;
  command.payload = split.Encode();
  EXPECT_EQ(ApplyAt(catalog_group, 1, command).code, absl::StatusCode::kOk);
  split.op = route::SplitRange{2, 4, "t"};
  command.payload = split.Encode();
  EXPECT_EQ(ApplyAt(catalog_group, 2, command).code, absl::StatusCode::kOk);
  EXPECT_EQ(catalog_group.ownership()->version(), 3u);
  // Group 1's own range did not change hands: a request routed at version 1 still fits.
  EXPECT_EQ(ApplyAt(catalog_group, 3, RawPut("a", 1)).code, absl::StatusCode::kOk);

  // Group 2 learns version 3 in one jump: it cannot tell what happened in between, so it
  // refuses requests routed before 3 once, and serves them routed at 3.
  GroupCommand push;
  push.op = GroupCommandOp::kOwnership;
  push.payload = catalog_group.catalog()->Encode();
  EXPECT_EQ(ApplyAt(other, 1, push).ts, 3u);
  const GroupResult old = ApplyAt(other, 2, RawPut("q", 1));
  ASSERT_TRUE(Stale(old).has_value()) << old.message;
  EXPECT_EQ(Stale(old)->current_version, 3u);
  EXPECT_EQ(ApplyAt(other, 3, RawPut("q", 3)).code, absl::StatusCode::kOk);
  // An older push is ignored.
  push.payload = bootstrap.Encode();
  EXPECT_EQ(ApplyAt(other, 4, push).ts, 3u);

  // Ownership is replicated state: a snapshot carries it exactly.
  GroupStateMachine restored(2, std::nullopt, bootstrap);
  ASSERT_TRUE(restored.Restore(other.SnapshotImage(), other.applied_index()).ok());
  EXPECT_EQ(*restored.ownership(), *other.ownership());
  EXPECT_EQ(restored.Digest(), other.Digest());
}

// What SplitRange relies on (coordinator.cc): the group that owns a split route serves
// requests routed at the new version both before it learns of the split (judged by its
// older view, which holds the same keys: a split keeps both halves in the group) and
// after (the change is continuous, so requests routed before the split still fit too).
TEST(GroupStateMachineOwnershipTest, ServesRequestsRoutedAtANewerVersionBeforeAndAfterItLearns) {
  const route::RouteCatalog bootstrap = DemoCatalog();
  GroupStateMachine catalog_group(1, bootstrap, bootstrap);
  GroupStateMachine other(2, std::nullopt, bootstrap);
  route::CatalogCommand split;
  split.op = route::SplitRange{1, 2, "p"};
  GroupCommand command;
  command.op = GroupCommandOp::kCatalog;
  command.payload = split.Encode();
  ASSERT_EQ(ApplyAt(catalog_group, 1, command).code, absl::StatusCode::kOk);
  ASSERT_EQ(catalog_group.catalog()->version(), 2u);

  // Before: group 2 is at version 1 and sees requests routed at 2 on both sides of "p".
  EXPECT_EQ(other.ownership()->version(), 1u);
  EXPECT_EQ(ApplyAt(other, 1, RawPut("n", 2)).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyAt(other, 2, RawPut("q", 2)).code, absl::StatusCode::kOk);
  EXPECT_EQ(QueryRawGet(other, "q", 2).code, absl::StatusCode::kOk);
  // A newer version is no licence for keys the group does not own.
  EXPECT_TRUE(Stale(ApplyAt(other, 3, RawPut("a", 2))).has_value());

  // After: it learns version 2 (the next one, so ownership history is continuous).
  GroupCommand push;
  push.op = GroupCommandOp::kOwnership;
  push.payload = catalog_group.catalog()->Encode();
  EXPECT_EQ(ApplyAt(other, 4, push).ts, 2u);
  EXPECT_EQ(ApplyAt(other, 5, RawPut("n", 2)).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyAt(other, 6, RawPut("q", 2)).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyAt(other, 7, RawPut("q", 1)).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyAt(other, 8, RawPut("q", 3)).code, absl::StatusCode::kOk);
}

TEST(GroupProtocolTest, UnversionedRequestsKeepTheirOldBytes) {
  GroupCommand command = RawPut("a", 0);
  EXPECT_EQ(EncodeGroupCommand(command)[0], 1);
  command.catalog_version = 7;
  const std::string bytes = EncodeGroupCommand(command);
  EXPECT_EQ(bytes[0], 2);
  absl::StatusOr<GroupCommand> decoded = DecodeGroupCommand(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->catalog_version, 7u);
  GroupQuery query;
  query.op = GroupQueryOp::kRawGet;
  query.payload = "k";
  query.catalog_version = 9;
  absl::StatusOr<GroupQuery> decoded_query = DecodeGroupQuery(EncodeGroupQuery(query));
  ASSERT_TRUE(decoded_query.ok());
  EXPECT_EQ(decoded_query->catalog_version, 9u);
}

}  // namespace
}  // namespace ekv::node
