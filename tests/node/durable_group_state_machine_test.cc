// GroupStateMachine on a durable engine: everything the group knows (MVCC data, applied
// index, timestamp sequence, catalog, ownership) is recovered from the engine alone, and
// Raft snapshots are references whose content is installed from a staged copy.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/kv/kv_command.h"
#include "core/kv/memory_engine.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/node/snapshot_reference.h"
#include "core/route/catalog_command.h"
#include "gtest/gtest.h"
#include "tests/node/disk_engine.h"

namespace ekv::node {
namespace {

route::RouteCatalog DemoCatalog() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EXPECT_TRUE(catalog.ok());
  return *catalog;
}

std::unique_ptr<GroupStateMachine> OpenCatalogGroup(Disk* disk) {
  return std::make_unique<GroupStateMachine>(1, DemoCatalog(), DemoCatalog(),
                                             std::make_unique<DiskEngine>(disk));
}

GroupResult ApplyAt(GroupStateMachine& machine, raft::Index index, const GroupCommand& command) {
  Command out;
  out.kind = OpKind::kApply;
  out.value = EncodeGroupCommand(command);
  ApplyResult applied = machine.Apply(index, out);
  absl::StatusOr<GroupResult> result = DecodeGroupResult(applied.value.value_or(""));
  EXPECT_TRUE(result.ok());
  return *result;
}

GroupCommand RawPut(std::string key, uint64_t physical_ms) {
  kv::RawWriteCommand write;
  write.mutations.push_back(kv::Mutation::Put(std::move(key), "v"));
  GroupCommand command;
  command.op = GroupCommandOp::kKv;
  command.physical_ms = physical_ms;
  command.payload = kv::EncodeKvCommand(write);
  return command;
}

GroupCommand Split(uint64_t expected_version, uint64_t route, std::string at) {
  route::CatalogCommand split;
  split.op = route::SplitRange{expected_version, route, std::move(at)};
  GroupCommand command;
  command.op = GroupCommandOp::kCatalog;
  command.payload = split.Encode();
  return command;
}

GroupCommand TimestampRequest(uint64_t physical_ms) {
  GroupCommand command;
  command.op = GroupCommandOp::kTimestamp;
  command.physical_ms = physical_ms;
  return command;
}

// Applies a little of everything: raw writes (timestamps), a split, a no-op, and a
// timestamp draw as the last entry (its new maximum must be durable with that entry).
void ApplySome(GroupStateMachine& machine) {
  EXPECT_EQ(ApplyAt(machine, 1, RawPut("a", 5000)).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyAt(machine, 2, Split(1, 1, "f")).code, absl::StatusCode::kOk);
  machine.Skip(3);
  EXPECT_EQ(ApplyAt(machine, 4, RawPut("b", 10)).code, absl::StatusCode::kOk);  // clock behind
  EXPECT_GT(ApplyAt(machine, 5, TimestampRequest(10)).ts, 0u);
}

TEST(DurableGroupStateMachineTest, ARestartRecoversEverythingFromTheEngineAlone) {
  Disk disk;
  uint64_t digest = 0;
  kv::Timestamp max_ts = 0;
  {
    std::unique_ptr<GroupStateMachine> machine = OpenCatalogGroup(&disk);
    EXPECT_TRUE(machine->durable());
    ApplySome(*machine);
    EXPECT_EQ(machine->catalog()->version(), 2u);
    digest = machine->Digest();
    max_ts = machine->max_timestamp();
  }
  // Constructed again with the bootstrap catalog (version 1), as the server does.
  std::unique_ptr<GroupStateMachine> reopened = OpenCatalogGroup(&disk);
  EXPECT_EQ(reopened->applied_index(), 5u);
  EXPECT_EQ(reopened->catalog()->version(), 2u);
  EXPECT_EQ(reopened->ownership()->version(), 2u);
  EXPECT_EQ(reopened->max_timestamp(), max_ts);
  EXPECT_EQ(reopened->Digest(), digest);
  EXPECT_EQ(reopened->Read("a"), "v");
  // The timestamp sequence continues above what was assigned before the restart.
  const GroupResult next = ApplyAt(*reopened, 6, RawPut("c", 10));
  EXPECT_GT(next.ts, max_ts);
}

TEST(DurableGroupStateMachineTest, SnapshotsAreReferencesInstalledFromAStagedCopy) {
  Disk leader_disk;
  std::unique_ptr<GroupStateMachine> leader = OpenCatalogGroup(&leader_disk);
  ApplySome(*leader);
  const std::string image = leader->SnapshotImage();
  ASSERT_TRUE(IsSnapshotReference(image));
  EXPECT_LT(image.size(), 16u);  // no state inside

  Disk follower_disk;
  std::unique_ptr<GroupStateMachine> follower = OpenCatalogGroup(&follower_disk);
  // Without a staged copy a follower behind the snapshot cannot restore: data loss, loudly.
  EXPECT_EQ(follower->Restore(image, 5).code(), absl::StatusCode::kDataLoss);

  // The leader moved on after making the image; the shipped state is the newer one.
  EXPECT_EQ(ApplyAt(*leader, 6, RawPut("late", 6000)).code, absl::StatusCode::kOk);
  kv::MemoryEngine staged;
  CopyInto(leader_disk.engine, &staged);
  follower_disk.staged["ref-1"] = &staged;
  absl::StatusOr<SnapshotReference> reference = DecodeSnapshotReference(image);
  ASSERT_TRUE(reference.ok());
  reference->staged_ref = "ref-1";
  ASSERT_TRUE(follower->Restore(EncodeSnapshotReference(*reference), 5).ok());
  EXPECT_EQ(follower->applied_index(), 6u);  // ahead of the snapshot: NodeHost skips 6
  EXPECT_EQ(follower->Digest(), leader->Digest());
  EXPECT_EQ(follower->catalog()->version(), 2u);
  EXPECT_EQ(follower->max_timestamp(), leader->max_timestamp());

  // A snapshot the state already covers is a no-op (a restart after the install).
  EXPECT_TRUE(follower->Restore(image, 5).ok());
  EXPECT_EQ(follower->applied_index(), 6u);
  // A staged copy that arrives when the state is already newer is dropped, not kept.
  reference->staged_ref = "ref-2";
  EXPECT_TRUE(follower->Restore(EncodeSnapshotReference(*reference), 5).ok());
  EXPECT_EQ(follower_disk.discarded, std::vector<std::string>{"ref-2"});
}

TEST(DurableGroupStateMachineTest, AnInMemoryGroupRefusesAReference) {
  Disk disk;
  std::unique_ptr<GroupStateMachine> durable = OpenCatalogGroup(&disk);
  GroupStateMachine in_memory(1, DemoCatalog());
  EXPECT_FALSE(in_memory.durable());
  EXPECT_EQ(in_memory.Restore(durable->SnapshotImage(), 0).code(), absl::StatusCode::kDataLoss);
}

// A data dir from before durable state machines holds an in-memory image as its last
// Raft snapshot: the durable engine takes that state over once, and later restarts (the
// same old image is still the Raft snapshot) leave the newer engine state alone.
TEST(DurableGroupStateMachineTest, AnOldInMemoryImageIsTakenOverOnceAfterAnUpgrade) {
  GroupStateMachine old(1, DemoCatalog(), DemoCatalog());
  ApplySome(old);
  const std::string image = old.SnapshotImage();
  ASSERT_FALSE(IsSnapshotReference(image));

  Disk disk;
  {
    std::unique_ptr<GroupStateMachine> upgraded = OpenCatalogGroup(&disk);
    ASSERT_TRUE(upgraded->Restore(image, 5).ok());
    // Same data (digests differ: the durable engine also holds the group's own records).
    EXPECT_EQ(upgraded->applied_index(), 5u);
    EXPECT_EQ(upgraded->Read("a"), "v");
    EXPECT_EQ(upgraded->Read("b"), "v");
    EXPECT_EQ(upgraded->max_timestamp(), old.max_timestamp());
    EXPECT_EQ(upgraded->catalog()->version(), 2u);
    EXPECT_EQ(ApplyAt(*upgraded, 6, RawPut("after-upgrade", 7000)).code, absl::StatusCode::kOk);
  }
  std::unique_ptr<GroupStateMachine> restarted = OpenCatalogGroup(&disk);
  EXPECT_EQ(restarted->applied_index(), 6u);
  EXPECT_GT(restarted->max_timestamp(), old.max_timestamp());
  ASSERT_TRUE(restarted->Restore(image, 5).ok());  // the old image again: a no-op
  EXPECT_EQ(restarted->applied_index(), 6u);
  EXPECT_EQ(restarted->Read("after-upgrade"), "v");
  EXPECT_EQ(restarted->catalog()->version(), 2u);
}

}  // namespace
}  // namespace ekv::node
