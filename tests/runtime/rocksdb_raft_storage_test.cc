#include "runtime/storage/rocksdb_raft_storage.h"

#include <memory>
#include <string>
#include <vector>

#include "core/raft/raw_node.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "runtime/storage/raft_group_commit.h"
#include "runtime/storage/rocksdb_env.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::runtime {
namespace {

using raft::ConfState;
using raft::Entry;
using raft::EntryType;
using raft::HardState;
using raft::Index;
using raft::PersistBatch;
using raft::Term;
using ::testing::HasSubstr;

std::vector<Entry> MakeEntries(Index first, Index last, Term term) {
  std::vector<Entry> entries;
  for (Index i = first; i <= last; ++i) {
    entries.push_back(Entry{term, i, EntryType::kNormal, "data" + std::to_string(i)});
  }
  return entries;
}

PersistBatch Append(uint64_t ready_id, std::vector<Entry> entries) {
  PersistBatch batch;
  batch.ready_id = ready_id;
  batch.entries = std::move(entries);
  return batch;
}

class RocksDbRaftStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Closes everything and opens the DB again, as a restarted node would.
  void Reopen() {
    storages_.clear();
    env_.reset();
    absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(dir_.path());
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
  }
  RocksDbRaftStorage* Group(raft::GroupId group, size_t term_cache_entries = 4096) {
    absl::StatusOr<std::unique_ptr<RocksDbRaftStorage>> storage =
        RocksDbRaftStorage::Open(env_.get(), group, {.term_cache_entries = term_cache_entries});
    EXPECT_TRUE(storage.ok()) << storage.status();
    storages_.push_back(*std::move(storage));
    return storages_.back().get();
  }
  static std::vector<Entry> All(const RocksDbRaftStorage& storage) {
    absl::StatusOr<std::vector<Entry>> entries =
        storage.Entries(storage.FirstIndex(), storage.LastIndex() + 1, raft::kNoLimit);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<Entry>{};
  }

  TempDir dir_;
  std::unique_ptr<RocksDbEnv> env_;
  std::vector<std::unique_ptr<RocksDbRaftStorage>> storages_;
};

TEST_F(RocksDbRaftStorageTest, FreshGroupLooksLikeAFreshMemoryStorage) {
  RocksDbRaftStorage* storage = Group(1);
  EXPECT_EQ(storage->FirstIndex(), 1u);
  EXPECT_EQ(storage->LastIndex(), 0u);
  EXPECT_EQ(*storage->EntryTerm(0), 0u);
  EXPECT_TRUE(raft::IsUnavailableError(storage->EntryTerm(1).status()));
  EXPECT_TRUE(raft::IsCompactedError(storage->Entries(0, 1, raft::kNoLimit).status()));
  EXPECT_TRUE(storage->GetSnapshot()->IsEmpty());
  EXPECT_TRUE(storage->GetInitialState()->hard_state.IsEmpty());
}

TEST_F(RocksDbRaftStorageTest, AppendTruncateAndHardStateSurviveReopen) {
  RocksDbRaftStorage* storage = Group(7);
  const uint64_t syncs = env_->synced_write_count();
  PersistBatch first = Append(1, MakeEntries(1, 10, 1));
  first.has_hard_state = true;
  first.hard_state = HardState{1, 2, 5};
  absl::StatusOr<raft::PersistReceipt> receipt = storage->Persist(first);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->ready_id(), 1u);
  EXPECT_EQ(env_->synced_write_count(), syncs + 1);
  // A new leader overwrites 6..10 with a shorter suffix of term 2.
  ASSERT_TRUE(storage->Persist(Append(2, MakeEntries(6, 8, 2))).ok());
  EXPECT_EQ(storage->LastIndex(), 8u);
  EXPECT_EQ(*storage->EntryTerm(5), 1u);
  EXPECT_EQ(*storage->EntryTerm(6), 2u);

  std::vector<Entry> expected = MakeEntries(1, 5, 1);
  for (const Entry& entry : MakeEntries(6, 8, 2)) expected.push_back(entry);
  EXPECT_EQ(All(*storage), expected);

  Reopen();
  storage = Group(7);
  EXPECT_EQ(storage->FirstIndex(), 1u);
  EXPECT_EQ(storage->LastIndex(), 8u);
  EXPECT_EQ(All(*storage), expected);
  EXPECT_EQ(storage->GetInitialState()->hard_state, (HardState{1, 2, 5}));
  EXPECT_TRUE(raft::IsUnavailableError(storage->EntryTerm(9).status()));
}

TEST_F(RocksDbRaftStorageTest, GroupsShareTheDbWithoutSeeingEachOther) {
  RocksDbRaftStorage* low = Group(1);
  RocksDbRaftStorage* high = Group(2);
  RocksDbRaftStorage* max = Group(UINT64_MAX);
  ASSERT_TRUE(low->Persist(Append(1, MakeEntries(1, 3, 1))).ok());
  ASSERT_TRUE(high->Persist(Append(1, MakeEntries(1, 5, 4))).ok());
  ASSERT_TRUE(max->Persist(Append(1, MakeEntries(1, 2, 9))).ok());
  // Installing a snapshot in group 2 wipes its log only.
  PersistBatch snapshot;
  snapshot.ready_id = 2;
  snapshot.snapshot.metadata = {20, 5, ConfState{{1, 2, 3}, {}, {}, {}, false}};
  snapshot.snapshot.data = "image";
  ASSERT_TRUE(high->Persist(snapshot).ok());
  Reopen();
  low = Group(1);
  high = Group(2);
  max = Group(UINT64_MAX);
  EXPECT_EQ(All(*low), MakeEntries(1, 3, 1));
  EXPECT_EQ(All(*max), MakeEntries(1, 2, 9));
  EXPECT_EQ(high->FirstIndex(), 21u);
  EXPECT_EQ(high->LastIndex(), 20u);
  EXPECT_EQ(*high->EntryTerm(20), 5u);
  EXPECT_EQ(high->GetSnapshot()->data, "image");
  EXPECT_EQ(high->GetInitialState()->conf_state.voters, (std::vector<raft::NodeId>{1, 2, 3}));
  // The key layout keeps each group's log contiguous.
  EXPECT_LT(RaftLogKey(1, UINT64_MAX - 1), RaftLogKey(2, 0));
}

TEST_F(RocksDbRaftStorageTest, CompactAndCreateSnapshotAreMemoryStorageLike) {
  RocksDbRaftStorage* storage = Group(3, /*term_cache_entries=*/2);
  ASSERT_TRUE(storage->Persist(Append(1, MakeEntries(1, 10, 3))).ok());
  ASSERT_TRUE(storage->CreateSnapshot(6, ConfState{{1}, {}, {}, {}, false}, "six").ok());
  ASSERT_TRUE(storage->Compact(4).ok());
  EXPECT_EQ(storage->FirstIndex(), 5u);
  EXPECT_EQ(*storage->EntryTerm(4), 3u);
  EXPECT_TRUE(raft::IsCompactedError(storage->EntryTerm(3).status()));
  EXPECT_TRUE(raft::IsCompactedError(storage->Compact(4)));
  EXPECT_TRUE(absl::IsOutOfRange(storage->Compact(11)));
  EXPECT_TRUE(absl::IsFailedPrecondition(storage->CreateSnapshot(5, {}, "")));
  // Terms below the cache come from RocksDB.
  EXPECT_EQ(*storage->EntryTerm(5), 3u);
  Reopen();
  storage = Group(3, 2);
  EXPECT_EQ(storage->FirstIndex(), 5u);
  EXPECT_EQ(storage->GetSnapshot()->metadata.index, 6u);
  EXPECT_EQ(storage->GetSnapshot()->data, "six");
  EXPECT_EQ(All(*storage), MakeEntries(5, 10, 3));
}

TEST_F(RocksDbRaftStorageTest, EntriesHonoursMaxBytesButReturnsAtLeastOne) {
  RocksDbRaftStorage* storage = Group(1);
  ASSERT_TRUE(storage->Persist(Append(1, MakeEntries(1, 5, 1))).ok());
  const uint64_t one = MakeEntries(1, 1, 1)[0].ByteSize();
  EXPECT_EQ(storage->Entries(1, 6, 0)->size(), 1u);
  EXPECT_EQ(storage->Entries(1, 6, 2 * one)->size(), 2u);
  EXPECT_EQ(storage->Entries(2, 2, raft::kNoLimit)->size(), 0u);
  EXPECT_TRUE(raft::IsUnavailableError(storage->Entries(1, 7, raft::kNoLimit).status()));
}

TEST_F(RocksDbRaftStorageTest, StaleSnapshotIsRefusedAndChangesNothing) {
  RocksDbRaftStorage* storage = Group(1);
  PersistBatch batch;
  batch.snapshot.metadata = {5, 2, {}};
  ASSERT_TRUE(storage->Persist(batch).ok());
  batch.snapshot.metadata = {5, 3, {}};
  batch.entries = MakeEntries(6, 7, 3);
  absl::StatusOr<raft::PersistReceipt> receipt = storage->Persist(batch);
  ASSERT_FALSE(receipt.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(receipt.status()));
  EXPECT_EQ(storage->LastIndex(), 5u);
  EXPECT_EQ(*storage->EntryTerm(5), 2u);
}

TEST_F(RocksDbRaftStorageTest, BootstrapCopiesRawNodeBootstrapDurably) {
  raft::MemoryStorage image;
  ASSERT_TRUE(raft::RawNode::Bootstrap(image, {3, 1, 2}).ok());
  RocksDbRaftStorage* storage = Group(4);
  ASSERT_TRUE(storage->BootstrapFrom(image).ok());
  Reopen();
  storage = Group(4);
  EXPECT_EQ(storage->LastIndex(), image.LastIndex());
  EXPECT_EQ(All(*storage), *image.Entries(1, image.LastIndex() + 1, raft::kNoLimit));
  EXPECT_EQ(storage->hard_state(), image.hard_state());
  EXPECT_EQ(storage->GetInitialState()->conf_state, image.GetInitialState()->conf_state);
  EXPECT_TRUE(absl::IsFailedPrecondition(storage->BootstrapFrom(image)));
}

// ---- Group commit ----

TEST_F(RocksDbRaftStorageTest, GroupCommitMakesManyGroupsDurableWithOneSync) {
  std::vector<RocksDbRaftStorage*> groups;
  std::vector<PersistBatch> batches;
  for (raft::GroupId g = 1; g <= 16; ++g) {
    groups.push_back(Group(g));
    PersistBatch batch = Append(100 + g, MakeEntries(1, g, g));
    batch.has_hard_state = true;
    batch.hard_state = HardState{g, 1, 0};
    batches.push_back(std::move(batch));
  }
  const uint64_t syncs = env_->synced_write_count();
  RaftGroupCommit commit(env_.get());
  for (size_t i = 0; i < groups.size(); ++i) ASSERT_TRUE(commit.Add(groups[i], batches[i]).ok());
  EXPECT_EQ(commit.group_count(), 16u);
  // Prepared is not durable: nothing is visible and Persist refuses to certify.
  EXPECT_EQ(groups[0]->LastIndex(), 0u);
  absl::StatusOr<raft::PersistReceipt> early = groups[0]->Persist(batches[0]);
  ASSERT_FALSE(early.ok());
  EXPECT_THAT(std::string(early.status().message()), HasSubstr("not written"));

  ASSERT_TRUE(commit.Commit().ok());
  EXPECT_EQ(env_->synced_write_count(), syncs + 1);
  for (size_t i = 0; i < groups.size(); ++i) {
    absl::StatusOr<raft::PersistReceipt> receipt = groups[i]->Persist(batches[i]);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    EXPECT_EQ(receipt->ready_id(), batches[i].ready_id);
  }
  EXPECT_EQ(env_->synced_write_count(), syncs + 1);  // receipts cost no I/O

  Reopen();
  for (raft::GroupId g = 1; g <= 16; ++g) {
    RocksDbRaftStorage* storage = Group(g);
    EXPECT_EQ(All(*storage), MakeEntries(1, g, g));
    EXPECT_EQ(storage->hard_state(), (HardState{g, 1, 0}));
  }
}

TEST_F(RocksDbRaftStorageTest, GroupCommitCertifiesOnlyTheBatchThatWasWritten) {
  RocksDbRaftStorage* storage = Group(1);
  RaftGroupCommit commit(env_.get());
  const PersistBatch batch = Append(5, MakeEntries(1, 3, 1));
  ASSERT_TRUE(commit.Add(storage, batch).ok());
  // One batch in flight per group.
  EXPECT_TRUE(absl::IsFailedPrecondition(commit.Add(storage, Append(6, MakeEntries(4, 4, 1)))));
  EXPECT_TRUE(absl::IsFailedPrecondition(storage->Compact(1)));
  ASSERT_TRUE(commit.Commit().ok());
  EXPECT_EQ(storage->LastIndex(), 3u);
  absl::StatusOr<raft::PersistReceipt> wrong = storage->Persist(Append(6, MakeEntries(1, 3, 1)));
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("not the batch"));
  ASSERT_TRUE(storage->Persist(batch).ok());
  // Afterwards the standalone path works again.
  ASSERT_TRUE(storage->Persist(Append(6, MakeEntries(4, 4, 1))).ok());
  EXPECT_EQ(storage->LastIndex(), 4u);
}

TEST_F(RocksDbRaftStorageTest, RefusesEverythingAfterAFailedSyncedWrite) {
  RocksDbRaftStorage* storage = Group(1);
  rocksdb::WriteBatch write_batch;
  const PersistBatch batch = Append(1, MakeEntries(1, 2, 1));
  ASSERT_TRUE(storage->PrepareBatch(batch, &write_batch).ok());
  storage->AbandonPrepared(absl::InternalError("fsync failed: EIO"));
  absl::StatusOr<raft::PersistReceipt> receipt = storage->Persist(batch);
  ASSERT_FALSE(receipt.ok());
  EXPECT_THAT(std::string(receipt.status().message()), HasSubstr("fsync failed: EIO"));
  EXPECT_EQ(storage->LastIndex(), 0u);
}

TEST_F(RocksDbRaftStorageTest, AnUnwrittenGroupCommitAbandonsItsGroups) {
  RocksDbRaftStorage* storage = Group(1);
  {
    RaftGroupCommit commit(env_.get());
    ASSERT_TRUE(commit.Add(storage, Append(1, MakeEntries(1, 1, 1))).ok());
  }
  EXPECT_FALSE(storage->Persist(Append(2, MakeEntries(1, 1, 1))).ok());
}

TEST_F(RocksDbRaftStorageTest, GroupCommitIsBounded) {
  RaftGroupCommit commit(env_.get(), /*max_batch_bytes=*/100);
  RocksDbRaftStorage* first = Group(1);
  RocksDbRaftStorage* second = Group(2);
  ASSERT_TRUE(commit.Add(first, Append(1, MakeEntries(1, 10, 1))).ok());
  absl::Status full = commit.Add(second, Append(1, MakeEntries(1, 1, 1)));
  EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
  EXPECT_FALSE(second->has_prepared_batch());
  ASSERT_TRUE(commit.Commit().ok());
  ASSERT_TRUE(commit.Add(second, Append(1, MakeEntries(1, 1, 1))).ok());
  ASSERT_TRUE(commit.Commit().ok());
  ASSERT_TRUE(first->Persist(Append(1, MakeEntries(1, 10, 1))).ok());
  ASSERT_TRUE(second->Persist(Append(1, MakeEntries(1, 1, 1))).ok());
}

}  // namespace
}  // namespace ekv::runtime
