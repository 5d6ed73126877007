// RaftLog: follower append with conflict handling, the fast-rejection hint and the
// election restriction's up-to-date check.
#include "core/raft/log.h"

#include <vector>

#include "gtest/gtest.h"

namespace ekv::raft {
namespace {

std::vector<Entry> Ents(Index first, std::vector<Term> terms) {
  std::vector<Entry> out;
  for (Term t : terms) out.push_back(Entry{t, first++, EntryType::kNormal, ""});
  return out;
}

std::vector<Term> Terms(const RaftLog& log) {
  std::vector<Term> out;
  for (Index i = log.FirstIndex(); i <= log.LastIndex(); ++i) out.push_back(*log.TermAt(i));
  return out;
}

TEST(RaftLogTest, MaybeAppendConflictHandling) {
  // Stable log 1/1 2/2 3/3, committed 1.
  struct Case {
    Index index;
    Term log_term;
    Index commit;
    std::vector<Entry> entries;
    bool ok;
    Index want_last_new;
    Index want_commit;
    std::vector<Term> want_terms;
  };
  const std::vector<Case> cases = {
      // Mismatch on the previous entry: rejected, nothing changes.
      {3, 2, 3, Ents(4, {4}), false, 0, 1, {1, 2, 3}},
      {4, 3, 3, Ents(5, {4}), false, 0, 1, {1, 2, 3}},  // beyond the log
      // Match, no entries: commit advances up to last new entry only.
      {3, 3, 3, {}, true, 3, 3, {1, 2, 3}},
      {2, 2, 3, {}, true, 2, 2, {1, 2, 3}},  // commit limited to index+len
      // Entries already present: no truncation (a stale, shorter append is harmless).
      {1, 1, 2, Ents(2, {2}), true, 2, 2, {1, 2, 3}},
      // Extension.
      {3, 3, 4, Ents(4, {4, 4}), true, 5, 4, {1, 2, 3, 4, 4}},
      // Conflict at 3: truncate the suffix and replace it.
      {2, 2, 1, Ents(3, {4, 4}), true, 4, 1, {1, 2, 4, 4}},
      // Conflict at 2 (partly matching entries before it are skipped).
      {1, 1, 0, Ents(2, {5}), true, 2, 1, {1, 5}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    MemoryStorage storage;
    ASSERT_TRUE(storage.Append(Ents(1, {1, 2, 3})).ok());
    RaftLog log(&storage, kNoLimit);
    log.committed = 1;
    const Case& c = cases[i];
    std::optional<Index> last = log.MaybeAppend(c.index, c.log_term, c.commit, c.entries);
    EXPECT_EQ(last.has_value(), c.ok) << i;
    if (last) {
      EXPECT_EQ(*last, c.want_last_new) << i;
    }
    EXPECT_EQ(log.committed, c.want_commit) << i;
    EXPECT_EQ(Terms(log), c.want_terms) << i;
  }
}

TEST(RaftLogTest, FindConflict) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append(Ents(1, {1, 2, 3})).ok());
  RaftLog log(&storage, kNoLimit);
  EXPECT_EQ(log.FindConflict({}), 0u);
  EXPECT_EQ(log.FindConflict(Ents(1, {1, 2, 3})), 0u);
  EXPECT_EQ(log.FindConflict(Ents(2, {2, 3, 4})), 4u);  // new entry, no conflict before it
  EXPECT_EQ(log.FindConflict(Ents(2, {2, 4})), 3u);
  EXPECT_EQ(log.FindConflict(Ents(1, {4})), 1u);
}

TEST(RaftLogTest, FindConflictByTerm) {
  // Log with terms 1 1 3 3 5 5 at indexes 1..6 (the leader's or the follower's).
  struct Case {
    Index index;
    Term term;
    Index want;
  };
  const std::vector<Case> cases = {
      {6, 5, 6}, {6, 4, 4}, {6, 3, 4}, {6, 2, 2}, {6, 1, 2},
      {6, 0, 0}, {4, 3, 4}, {3, 2, 2}, {1, 0, 0}, {0, 0, 0},
  };
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append(Ents(1, {1, 1, 3, 3, 5, 5})).ok());
  RaftLog log(&storage, kNoLimit);
  for (const Case& c : cases) {
    EXPECT_EQ(log.FindConflictByTerm(c.index, c.term), c.want) << c.index << "/" << c.term;
  }
}

TEST(RaftLogTest, FindConflictByTermStopsAtCompaction) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append(Ents(1, {1, 1, 3, 3, 5, 5})).ok());
  ASSERT_TRUE(storage.CreateSnapshot(3, ConfState{{1}, {}, {}, {}, false}, "").ok());
  ASSERT_TRUE(storage.Compact(3).ok());
  RaftLog log(&storage, kNoLimit);
  EXPECT_EQ(log.FindConflictByTerm(6, 4), 4u);
  // Walking into the compacted prefix stops at its first index (2), whose term is not
  // known (as etcd's findConflictByTerm): the leader probes there and falls back to a
  // snapshot.
  EXPECT_EQ(log.FindConflictByTerm(6, 1), 2u);
}

TEST(RaftLogTest, IsUpToDate) {
  // Our last entry is 3/2 (index 3, term 2).
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append(Ents(1, {1, 2, 2})).ok());
  RaftLog log(&storage, kNoLimit);
  struct Case {
    Index last_index;
    Term last_term;
    bool want;
  };
  for (const Case& c : std::vector<Case>{
           {2, 1, false},  // lower term
           {5, 1, false},  // lower term, longer log: still behind (§5.4.1)
           {2, 2, false},  // same term, shorter
           {3, 2, true},   // identical
           {4, 2, true},   // same term, longer
           {1, 3, true},   // higher term wins regardless of length
       }) {
    EXPECT_EQ(log.IsUpToDate(c.last_index, c.last_term), c.want)
        << c.last_index << "/" << c.last_term;
  }
}

TEST(RaftLogTest, UnstableEntriesAndStableTo) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append(Ents(1, {1})).ok());
  RaftLog log(&storage, kNoLimit);
  log.Append(Ents(2, {1, 2}));
  EXPECT_EQ(log.LastIndex(), 3u);
  EXPECT_EQ(log.UnstableEntries().size(), 2u);
  EXPECT_EQ(log.StableLastIndex(), 1u);
  log.StableTo(2, 1);
  EXPECT_EQ(log.UnstableEntries().size(), 1u);
  EXPECT_EQ(log.StableLastIndex(), 2u);
  log.StableTo(3, 9);  // wrong term (overwritten meanwhile): ignored
  EXPECT_EQ(log.UnstableEntries().size(), 1u);
}

}  // namespace
}  // namespace ekv::raft
