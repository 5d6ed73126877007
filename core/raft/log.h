// RaftLog: the stable log (Storage) plus the unstable tail not yet persisted.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/raft/storage.h"
#include "core/raft/types.h"

namespace ekv::raft {

// Entries (and possibly a snapshot) accepted by Raft but not yet durable. `offset` is the
// index of entries[0]; a pending snapshot precedes them.
struct Unstable {
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  Index offset = 1;

  std::optional<Index> MaybeFirstIndex() const;
  std::optional<Index> MaybeLastIndex() const;
  std::optional<Term> MaybeTerm(Index i) const;
  void StableTo(Index index, Term term);
  void StableSnapTo(Index index);
  void Restore(const Snapshot& snapshot);
  void TruncateAndAppend(const std::vector<Entry>& entries);
};

class RaftLog {
 public:
  RaftLog(Storage* storage, uint64_t max_applying_bytes);

  Index committed = 0;
  Index applied = 0;   // highest index acknowledged applied by the driver
  Index applying = 0;  // highest index handed to the driver to apply

  Index FirstIndex() const;
  Index LastIndex() const;
  Term LastTerm() const;
  absl::StatusOr<Term> TermAt(Index i) const;
  Term ZeroTermOnError(absl::StatusOr<Term> term) const;
  bool MatchTerm(Index i, Term t) const;
  // Whether a log ending at (last_index, last_term) is at least as up to date (§5.4.1).
  bool IsUpToDate(Index last_index, Term last_term) const;

  // Follower append (§5.3). Returns the new last index or nullopt on mismatch.
  std::optional<Index> MaybeAppend(Index index, Term log_term, Index commit,
                                   const std::vector<Entry>& entries);
  Index Append(const std::vector<Entry>& entries);
  Index FindConflict(const std::vector<Entry>& entries) const;
  // The largest index <= `index` whose term is <= `term` (fast rejection hint).
  Index FindConflictByTerm(Index index, Term term) const;

  absl::StatusOr<std::vector<Entry>> Slice(Index lo, Index hi, uint64_t max_bytes) const;
  absl::StatusOr<std::vector<Entry>> EntriesFrom(Index i, uint64_t max_bytes) const;

  bool MaybeCommit(Index max_index, Term term);
  void CommitTo(Index index);
  void AppliedTo(Index index);
  void AcceptApplying(Index index);

  bool HasNextCommittedEntries() const;
  std::vector<Entry> NextCommittedEntries();
  bool HasNextUnstableEntries() const { return !unstable_.entries.empty(); }
  const std::vector<Entry>& UnstableEntries() const { return unstable_.entries; }
  bool HasNextUnstableSnapshot() const { return unstable_.snapshot.has_value(); }
  const std::optional<Snapshot>& UnstableSnapshot() const { return unstable_.snapshot; }
  absl::StatusOr<Snapshot> GetSnapshot() const;
  void StableTo(Index index, Term term) { unstable_.StableTo(index, term); }
  void StableSnapTo(Index index) { unstable_.StableSnapTo(index); }
  void Restore(const Snapshot& snapshot);
  Storage* storage() const { return storage_; }
  // The last index known durable on this node and still part of the log: entries below
  // the unstable tail come from Storage, which only ever holds persisted data.
  Index StableLastIndex() const { return unstable_.snapshot ? 0 : unstable_.offset - 1; }

 private:
  absl::Status MustCheckOutOfBounds(Index lo, Index hi) const;
  Storage* storage_;
  Unstable unstable_;
  uint64_t max_applying_bytes_;
};

}  // namespace ekv::raft
