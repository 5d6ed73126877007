#include "core/raft/storage.h"

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::raft {

absl::Status CompactedError(Index index) {
  return absl::OutOfRangeError(absl::StrCat("raft log compacted: index ", index));
}
absl::Status UnavailableError(Index index) {
  return absl::UnavailableError(absl::StrCat("raft log entry unavailable: index ", index));
}
bool IsCompactedError(const absl::Status& status) { return absl::IsOutOfRange(status); }
bool IsUnavailableError(const absl::Status& status) { return absl::IsUnavailable(status); }

MemoryStorage::MemoryStorage() { entries_.push_back(Entry{}); }

absl::StatusOr<Storage::InitialState> MemoryStorage::GetInitialState() const {
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

Index MemoryStorage::FirstIndex() const { return entries_.front().index + 1; }
Index MemoryStorage::LastIndex() const { return entries_.front().index + entries_.size() - 1; }

absl::StatusOr<std::vector<Entry>> MemoryStorage::Entries(Index lo, Index hi,
                                                          uint64_t max_bytes) const {
  const Index offset = entries_.front().index;
  if (lo <= offset) return CompactedError(lo);
  if (hi > LastIndex() + 1) return UnavailableError(hi - 1);
  EKV_ASSERT(lo <= hi, "Entries range inverted: ", lo, " > ", hi);
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& entry = entries_[i - offset];
    bytes += entry.ByteSize();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(entry);
  }
  return out;
}

absl::StatusOr<Term> MemoryStorage::EntryTerm(Index i) const {
  const Index offset = entries_.front().index;
  if (i < offset) return CompactedError(i);
  if (i - offset >= entries_.size()) return UnavailableError(i);
  return entries_[i - offset].term;
}

absl::StatusOr<Snapshot> MemoryStorage::GetSnapshot() const { return snapshot_; }

absl::Status MemoryStorage::ApplySnapshot(const Snapshot& snapshot) {
  if (snapshot.metadata.index <= snapshot_.metadata.index) {
    return absl::FailedPreconditionError(absl::StrCat("snapshot at index ", snapshot.metadata.index,
                                                      " is out of date (have ",
                                                      snapshot_.metadata.index, ")"));
  }
  snapshot_ = snapshot;
  entries_.clear();
  entries_.push_back(
      Entry{snapshot.metadata.term, snapshot.metadata.index, EntryType::kNormal, ""});
  return absl::OkStatus();
}

absl::Status MemoryStorage::CreateSnapshot(Index index, const ConfState& conf_state,
                                           std::string data) {
  if (index <= snapshot_.metadata.index) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot at ", index, " is not newer than ", snapshot_.metadata.index));
  }
  if (index > LastIndex()) {
    return absl::OutOfRangeError(
        absl::StrCat("snapshot index ", index, " is beyond the last index ", LastIndex()));
  }
  const Index offset = entries_.front().index;
  snapshot_.metadata.index = index;
  snapshot_.metadata.term = entries_[index - offset].term;
  snapshot_.metadata.conf_state = conf_state;
  snapshot_.data = std::move(data);
  return absl::OkStatus();
}

absl::Status MemoryStorage::Compact(Index compact_index) {
  const Index offset = entries_.front().index;
  if (compact_index <= offset) return CompactedError(compact_index);
  if (compact_index > LastIndex()) {
    return absl::OutOfRangeError(
        absl::StrCat("compact index ", compact_index, " is beyond the last index ", LastIndex()));
  }
  const size_t keep_from = compact_index - offset;
  std::vector<Entry> kept;
  kept.reserve(entries_.size() - keep_from);
  kept.push_back(
      Entry{entries_[keep_from].term, entries_[keep_from].index, EntryType::kNormal, ""});
  for (size_t i = keep_from + 1; i < entries_.size(); ++i) kept.push_back(std::move(entries_[i]));
  entries_ = std::move(kept);
  return absl::OkStatus();
}

absl::Status MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  const Index first = FirstIndex();
  const Index last = entries.back().index;
  if (last < first) return absl::OkStatus();  // all of them are already compacted
  size_t skip = 0;
  if (entries.front().index < first) skip = first - entries.front().index;
  const Index offset = entries_.front().index;
  const Index start = entries[skip].index;
  EKV_ASSERT(start <= LastIndex() + 1, "append leaves a gap: last ", LastIndex(), " new first ",
             start);
  entries_.resize(start - offset);  // truncate any conflicting suffix
  for (size_t i = skip; i < entries.size(); ++i) {
    EKV_ASSERT(entries[i].index == offset + entries_.size(), "non-contiguous append");
    entries_.push_back(entries[i]);
  }
  return absl::OkStatus();
}

absl::Status MemoryStorage::WriteDurably(const PersistBatch& batch) {
  if (!batch.snapshot.IsEmpty()) {
    absl::Status status = ApplySnapshot(batch.snapshot);
    if (!status.ok()) return status;
  }
  absl::Status status = Append(batch.entries);
  if (!status.ok()) return status;
  if (batch.has_hard_state) hard_state_ = batch.hard_state;
  return absl::OkStatus();
}

}  // namespace ekv::raft
