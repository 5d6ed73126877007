#include "core/raft/log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::raft {

std::optional<Index> Unstable::MaybeFirstIndex() const {
  if (snapshot) return snapshot->metadata.index + 1;
  return std::nullopt;
}

std::optional<Index> Unstable::MaybeLastIndex() const {
  if (!entries.empty()) return offset + entries.size() - 1;
  if (snapshot) return snapshot->metadata.index;
  return std::nullopt;
}

std::optional<Term> Unstable::MaybeTerm(Index i) const {
  if (i < offset) {
    if (snapshot && snapshot->metadata.index == i) return snapshot->metadata.term;
    return std::nullopt;
  }
  std::optional<Index> last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  return entries[i - offset].term;
}

void Unstable::StableTo(Index index, Term term) {
  std::optional<Term> t = MaybeTerm(index);
  if (!t || *t != term || index < offset) return;  // overwritten meanwhile: keep them
  entries.erase(entries.begin(), entries.begin() + static_cast<long>(index + 1 - offset));
  offset = index + 1;
}

void Unstable::StableSnapTo(Index index) {
  if (snapshot && snapshot->metadata.index == index) snapshot.reset();
}

void Unstable::Restore(const Snapshot& snap) {
  offset = snap.metadata.index + 1;
  entries.clear();
  snapshot = snap;
}

void Unstable::TruncateAndAppend(const std::vector<Entry>& ents) {
  const Index after = ents.front().index;
  if (after == offset + entries.size()) {
    entries.insert(entries.end(), ents.begin(), ents.end());
  } else if (after <= offset) {
    // Replaces everything unstable; the storage suffix is truncated at persist time.
    offset = after;
    entries = ents;
  } else {
    entries.resize(after - offset);
    entries.insert(entries.end(), ents.begin(), ents.end());
  }
}

RaftLog::RaftLog(Storage* storage, uint64_t max_applying_bytes)
    : storage_(storage), max_applying_bytes_(max_applying_bytes) {
  const Index first = storage->FirstIndex();
  const Index last = storage->LastIndex();
  unstable_.offset = last + 1;
  committed = first - 1;
  applied = first - 1;
  applying = first - 1;
}

Index RaftLog::FirstIndex() const {
  if (auto i = unstable_.MaybeFirstIndex()) return *i;
  return storage_->FirstIndex();
}

Index RaftLog::LastIndex() const {
  if (auto i = unstable_.MaybeLastIndex()) return *i;
  return storage_->LastIndex();
}

absl::StatusOr<Term> RaftLog::TermAt(Index i) const {
  // Outside [FirstIndex()-1, LastIndex()] the term is unknowable: say why, so that a
  // leader sends a snapshot for a compacted index and a follower rejects an append
  // beyond its log instead of matching it against a made-up term 0.
  const Index dummy = FirstIndex() - 1;
  if (i < dummy) return CompactedError(i);
  if (i > LastIndex()) return UnavailableError(i);
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  absl::StatusOr<Term> t = storage_->EntryTerm(i);
  if (t.ok()) return t;
  if (IsCompactedError(t.status()) || IsUnavailableError(t.status())) return t.status();
  EKV_UNREACHABLE("storage term lookup failed: ", t.status().ToString());
}

Term RaftLog::ZeroTermOnError(absl::StatusOr<Term> term) const { return term.ok() ? *term : 0; }

Term RaftLog::LastTerm() const {
  absl::StatusOr<Term> t = TermAt(LastIndex());
  EKV_ASSERT(t.ok(), "term of the last entry must be known: ", t.status().ToString());
  return *t;
}

bool RaftLog::MatchTerm(Index i, Term t) const {
  absl::StatusOr<Term> term = TermAt(i);
  return term.ok() && *term == t;
}

bool RaftLog::IsUpToDate(Index last_index, Term last_term) const {
  const Term our_term = LastTerm();
  return last_term > our_term || (last_term == our_term && last_index >= LastIndex());
}

Index RaftLog::FindConflict(const std::vector<Entry>& entries) const {
  for (const Entry& e : entries) {
    if (!MatchTerm(e.index, e.term)) return e.index;
  }
  return 0;
}

Index RaftLog::FindConflictByTerm(Index index, Term term) const {
  for (; index > 0; --index) {
    absl::StatusOr<Term> t = TermAt(index);
    if (!t.ok()) break;  // compacted: the caller falls back to probing
    if (*t <= term) break;
  }
  return index;
}

std::optional<Index> RaftLog::MaybeAppend(Index index, Term log_term, Index commit,
                                          const std::vector<Entry>& entries) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const Index last_new = index + entries.size();
  const Index conflict = FindConflict(entries);
  if (conflict != 0) {
    // Log Matching: an entry that is committed can never conflict.
    EKV_ASSERT(conflict > committed, "entry ", conflict, " conflicts with committed entry ",
               committed);
    const size_t start = conflict - (index + 1);
    std::vector<Entry> suffix(entries.begin() + static_cast<long>(start), entries.end());
    Append(suffix);
  }
  CommitTo(std::min(commit, last_new));
  return last_new;
}

Index RaftLog::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return LastIndex();
  EKV_ASSERT(entries.front().index - 1 >= committed, "appending ", entries.front().index,
             " would overwrite committed ", committed);
  unstable_.TruncateAndAppend(entries);
  return LastIndex();
}

absl::Status RaftLog::MustCheckOutOfBounds(Index lo, Index hi) const {
  EKV_ASSERT(lo <= hi, "invalid slice ", lo, " > ", hi);
  if (lo < FirstIndex()) return CompactedError(lo);
  EKV_ASSERT(hi <= LastIndex() + 1, "slice [", lo, ",", hi, ") out of bound last ", LastIndex());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Entry>> RaftLog::Slice(Index lo, Index hi, uint64_t max_bytes) const {
  if (absl::Status s = MustCheckOutOfBounds(lo, hi); !s.ok()) return s;
  std::vector<Entry> out;
  if (lo == hi) return out;
  uint64_t bytes = 0;
  const Index unstable_from = unstable_.offset;
  if (lo < unstable_from) {
    absl::StatusOr<std::vector<Entry>> stored =
        storage_->Entries(lo, std::min(hi, unstable_from), max_bytes);
    if (!stored.ok()) return stored.status();
    out = std::move(*stored);
    for (const Entry& e : out) bytes += e.ByteSize();
    // Storage stopped early because of the byte limit: do not continue past the gap.
    if (out.size() < std::min(hi, unstable_from) - lo) return out;
  }
  for (Index i = std::max(lo, unstable_from); i < hi; ++i) {
    const Entry& e = unstable_.entries[i - unstable_from];
    bytes += e.ByteSize();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

absl::StatusOr<std::vector<Entry>> RaftLog::EntriesFrom(Index i, uint64_t max_bytes) const {
  if (i > LastIndex()) return std::vector<Entry>{};
  return Slice(i, LastIndex() + 1, max_bytes);
}

bool RaftLog::MaybeCommit(Index max_index, Term term) {
  // Only entries of the leader's current term are committed by counting (§5.4.2).
  if (max_index > committed && ZeroTermOnError(TermAt(max_index)) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::CommitTo(Index index) {
  if (committed < index) {
    EKV_ASSERT(index <= LastIndex(), "commit ", index, " beyond last index ", LastIndex());
    committed = index;
  }
}

void RaftLog::AppliedTo(Index index) {
  // A Ready's entries may be acknowledged after later ones taken out of band
  // (RawNode::TakeCommittedEntries): the applied index only moves forward.
  if (index == 0 || index <= applied) return;
  EKV_ASSERT(index <= committed, "applied ", index, " beyond committed ", committed);
  applied = index;
  applying = std::max(applying, index);
}

void RaftLog::AcceptApplying(Index index) { applying = index; }

bool RaftLog::HasNextCommittedEntries() const {
  if (HasNextUnstableSnapshot()) return false;  // the snapshot must be applied first
  const Index lo = std::max(applying + 1, FirstIndex());
  return committed + 1 > lo;
}

std::vector<Entry> RaftLog::NextCommittedEntries() {
  if (!HasNextCommittedEntries()) return {};
  const Index lo = std::max(applying + 1, FirstIndex());
  absl::StatusOr<std::vector<Entry>> entries = Slice(lo, committed + 1, max_applying_bytes_);
  EKV_ASSERT(entries.ok(), "committed entries unavailable: ", entries.status().ToString());
  return std::move(*entries);
}

absl::StatusOr<Snapshot> RaftLog::GetSnapshot() const {
  if (unstable_.snapshot) return *unstable_.snapshot;
  return storage_->GetSnapshot();
}

void RaftLog::Restore(const Snapshot& snapshot) {
  committed = snapshot.metadata.index;
  unstable_.Restore(snapshot);
}

}  // namespace ekv::raft
