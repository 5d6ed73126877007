// MemoryStorage: the in-memory log behind Raft in tests and the simulator.
#include "core/raft/storage.h"

#include <vector>

#include "gtest/gtest.h"

namespace ekv::raft {
namespace {

std::vector<Entry> Ents(Index first, std::vector<Term> terms) {
  std::vector<Entry> out;
  for (Term t : terms) out.push_back(Entry{t, first++, EntryType::kNormal, ""});
  return out;
}

// Log 1/1 2/2 3/3 4/4 5/5, compacted up to 3: first 4, dummy at 3.
MemoryStorage Compacted() {
  MemoryStorage s;
  EXPECT_TRUE(s.Append(Ents(1, {1, 2, 3, 4, 5})).ok());
  EXPECT_TRUE(s.CreateSnapshot(3, ConfState{{1, 2, 3}, {}, {}, {}, false}, "img").ok());
  EXPECT_TRUE(s.Compact(3).ok());
  return s;
}

TEST(MemoryStorageTest, EmptyStorage) {
  MemoryStorage s;
  EXPECT_EQ(s.FirstIndex(), 1u);
  EXPECT_EQ(s.LastIndex(), 0u);
  EXPECT_EQ(*s.EntryTerm(0), 0u);
  EXPECT_TRUE(IsUnavailableError(s.EntryTerm(1).status()));
  EXPECT_TRUE(s.GetSnapshot()->IsEmpty());
}

TEST(MemoryStorageTest, TermsAroundCompaction) {
  MemoryStorage s = Compacted();
  EXPECT_EQ(s.FirstIndex(), 4u);
  EXPECT_EQ(s.LastIndex(), 5u);
  struct Case {
    Index index;
    bool compacted, unavailable;
    Term term;
  };
  for (const Case& c : std::vector<Case>{{2, true, false, 0},
                                         {3, false, false, 3},  // the dummy keeps its term
                                         {4, false, false, 4},
                                         {5, false, false, 5},
                                         {6, false, true, 0}}) {
    absl::StatusOr<Term> t = s.EntryTerm(c.index);
    EXPECT_EQ(IsCompactedError(t.status()), c.compacted) << c.index;
    EXPECT_EQ(IsUnavailableError(t.status()), c.unavailable) << c.index;
    if (t.ok()) {
      EXPECT_EQ(*t, c.term) << c.index;
    }
  }
}

TEST(MemoryStorageTest, EntriesRangeAndByteLimit) {
  MemoryStorage s = Compacted();
  EXPECT_TRUE(IsCompactedError(s.Entries(3, 5, kNoLimit).status()));
  EXPECT_TRUE(IsUnavailableError(s.Entries(4, 7, kNoLimit).status()));
  EXPECT_EQ(s.Entries(4, 6, kNoLimit)->size(), 2u);
  EXPECT_EQ(s.Entries(4, 4, kNoLimit)->size(), 0u);
  // At least one entry even if it alone exceeds the limit; then only what fits.
  EXPECT_EQ(s.Entries(4, 6, 1)->size(), 1u);
  const uint64_t one = Entry{}.ByteSize();
  EXPECT_EQ(s.Entries(4, 6, 2 * one)->size(), 2u);
  EXPECT_EQ(s.Entries(4, 6, 2 * one - 1)->size(), 1u);
}

TEST(MemoryStorageTest, CompactErrors) {
  MemoryStorage s = Compacted();
  EXPECT_TRUE(IsCompactedError(s.Compact(3)));
  EXPECT_TRUE(IsCompactedError(s.Compact(2)));
  EXPECT_FALSE(s.Compact(6).ok());  // beyond the last index
  ASSERT_TRUE(s.Compact(5).ok());
  EXPECT_EQ(s.FirstIndex(), 6u);
  EXPECT_EQ(s.LastIndex(), 5u);
  EXPECT_EQ(*s.EntryTerm(5), 5u);
}

TEST(MemoryStorageTest, SnapshotCreateAndApply) {
  MemoryStorage s = Compacted();
  EXPECT_FALSE(s.CreateSnapshot(3, ConfState{}, "").ok());  // not newer
  EXPECT_FALSE(s.CreateSnapshot(9, ConfState{}, "").ok());  // beyond last
  ASSERT_TRUE(s.CreateSnapshot(5, ConfState{{1}, {}, {}, {}, false}, "five").ok());
  Snapshot snap = *s.GetSnapshot();
  EXPECT_EQ(snap.metadata.index, 5u);
  EXPECT_EQ(snap.metadata.term, 5u);
  EXPECT_EQ(snap.data, "five");

  MemoryStorage other;
  ASSERT_TRUE(other.ApplySnapshot(snap).ok());
  EXPECT_EQ(other.FirstIndex(), 6u);
  EXPECT_EQ(other.LastIndex(), 5u);
  EXPECT_EQ(*other.EntryTerm(5), 5u);
  EXPECT_EQ(other.GetInitialState()->conf_state.voters, std::vector<NodeId>{1});
  EXPECT_FALSE(other.ApplySnapshot(snap).ok());  // out of date now
}

TEST(MemoryStorageTest, AppendTruncatesConflictingSuffix) {
  struct Case {
    std::vector<Entry> append;
    Index last;
    std::vector<Term> terms_from_4;  // expected terms of 4..last
  };
  const std::vector<Case> cases = {
      {Ents(4, {4, 5}), 5, {4, 5}},        // identical: no change
      {Ents(4, {4, 6, 6}), 6, {4, 6, 6}},  // conflict at 5: truncate then append
      {Ents(6, {6}), 6, {4, 5, 6}},        // plain extension
      {Ents(2, {2, 3, 7}), 4, {7}},        // starts in the compacted prefix: skipped part
      {Ents(1, {1, 2}), 5, {4, 5}},        // entirely compacted: ignored
      {Ents(5, {9}), 5, {4, 9}},           // replaces the last entry
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    MemoryStorage s = Compacted();
    ASSERT_TRUE(s.Append(cases[i].append).ok()) << i;
    EXPECT_EQ(s.LastIndex(), cases[i].last) << i;
    std::vector<Term> terms;
    for (Index j = 4; j <= s.LastIndex(); ++j) terms.push_back(*s.EntryTerm(j));
    EXPECT_EQ(terms, cases[i].terms_from_4) << i;
  }
}

TEST(MemoryStorageTest, PersistWritesSnapshotEntriesAndHardState) {
  MemoryStorage s;
  PersistBatch batch;
  batch.entries = Ents(1, {1, 1});
  batch.hard_state = HardState{1, 2, 1};
  batch.has_hard_state = true;
  batch.ready_id = 7;
  absl::StatusOr<PersistReceipt> receipt = s.Persist(batch);
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->ready_id(), 7u);
  EXPECT_EQ(s.LastIndex(), 2u);
  EXPECT_EQ(s.hard_state(), (HardState{1, 2, 1}));
}

}  // namespace
}  // namespace ekv::raft
