#include "runtime/storage/rocksdb_raft_storage.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace ekv::runtime {
namespace {

using raft::ConfState;
using raft::Entry;
using raft::EntryType;
using raft::GroupId;
using raft::HardState;
using raft::Index;
using raft::SnapshotMetadata;
using raft::Term;

// Index UINT64_MAX never holds an entry, so [group, UINT64_MAX) covers a whole group log.
constexpr Index kEndOfLog = UINT64_MAX;
constexpr char kHardStateTag = 'h';
constexpr char kOffsetTag = 'o';
constexpr char kSnapshotMetadataTag = 'm';
constexpr char kSnapshotDataTag = 'd';

rocksdb::Slice ToSlice(const std::string& s) { return rocksdb::Slice(s.data(), s.size()); }

std::string EncodeEntryValue(const Entry& entry) {
  std::string value;
  value.reserve(1 + kv::kMaxVarint64Bytes + entry.data.size());
  kv::AppendByte(&value, static_cast<uint8_t>(entry.type));
  kv::AppendVarint64(&value, entry.term);
  value.append(entry.data);
  return value;
}

absl::StatusOr<Entry> DecodeEntryValue(Index index, absl::string_view value) {
  kv::ByteReader reader(value);
  Entry entry;
  entry.index = index;
  EKV_KV_ASSIGN_OR_RETURN(const uint8_t type, reader.ReadByte());
  if (type > static_cast<uint8_t>(EntryType::kConfChange)) {
    return absl::DataLossError(absl::StrCat("raft log entry ", index, " has unknown type ", type));
  }
  entry.type = static_cast<EntryType>(type);
  EKV_KV_ASSIGN_OR_RETURN(entry.term, reader.ReadVarint64());
  entry.data = std::string(reader.ReadRest());
  return entry;
}

// The term alone, without copying the data.
absl::StatusOr<Term> DecodeEntryTerm(absl::string_view value) {
  kv::ByteReader reader(value);
  EKV_KV_ASSIGN_OR_RETURN(const uint8_t type, reader.ReadByte());
  (void)type;
  return reader.ReadVarint64();
}

std::string EncodeHardState(const HardState& hard_state) {
  std::string value;
  kv::AppendVarint64(&value, hard_state.term);
  kv::AppendVarint64(&value, hard_state.vote);
  kv::AppendVarint64(&value, hard_state.commit);
  return value;
}

absl::StatusOr<HardState> DecodeHardState(absl::string_view value) {
  kv::ByteReader reader(value);
  HardState hard_state;
  EKV_KV_ASSIGN_OR_RETURN(hard_state.term, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(hard_state.vote, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(hard_state.commit, reader.ReadVarint64());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("raft hard state"));
  return hard_state;
}

std::string EncodeOffset(Index index, Term term) {
  std::string value;
  kv::AppendVarint64(&value, index);
  kv::AppendVarint64(&value, term);
  return value;
}

void AppendIds(std::string* dst, const std::vector<raft::NodeId>& ids) {
  kv::AppendVarint64(dst, ids.size());
  for (raft::NodeId id : ids) kv::AppendVarint64(dst, id);
}

absl::Status ReadIds(kv::ByteReader* reader, std::vector<raft::NodeId>* ids) {
  EKV_KV_ASSIGN_OR_RETURN(const uint64_t count, reader->ReadVarint64());
  // Each id takes at least one byte: a count beyond that is corruption, not an allocation.
  if (count > reader->remaining()) {
    return absl::DataLossError(
        absl::StrCat("conf state claims ", count, " node ids in ", reader->remaining(), " bytes"));
  }
  ids->clear();
  for (uint64_t i = 0; i < count; ++i) {
    EKV_KV_ASSIGN_OR_RETURN(const uint64_t id, reader->ReadVarint64());
    ids->push_back(id);
  }
  return absl::OkStatus();
}

std::string EncodeSnapshotMetadata(const SnapshotMetadata& metadata) {
  std::string value;
  kv::AppendVarint64(&value, metadata.index);
  kv::AppendVarint64(&value, metadata.term);
  AppendIds(&value, metadata.conf_state.voters);
  AppendIds(&value, metadata.conf_state.voters_outgoing);
  AppendIds(&value, metadata.conf_state.learners);
  AppendIds(&value, metadata.conf_state.learners_next);
  kv::AppendByte(&value, metadata.conf_state.auto_leave ? 1 : 0);
  return value;
}

absl::StatusOr<SnapshotMetadata> DecodeSnapshotMetadata(absl::string_view value) {
  kv::ByteReader reader(value);
  SnapshotMetadata metadata;
  EKV_KV_ASSIGN_OR_RETURN(metadata.index, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(metadata.term, reader.ReadVarint64());
  EKV_KV_RETURN_IF_ERROR(ReadIds(&reader, &metadata.conf_state.voters));
  EKV_KV_RETURN_IF_ERROR(ReadIds(&reader, &metadata.conf_state.voters_outgoing));
  EKV_KV_RETURN_IF_ERROR(ReadIds(&reader, &metadata.conf_state.learners));
  EKV_KV_RETURN_IF_ERROR(ReadIds(&reader, &metadata.conf_state.learners_next));
  EKV_KV_ASSIGN_OR_RETURN(const uint8_t auto_leave, reader.ReadByte());
  metadata.conf_state.auto_leave = auto_leave != 0;
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("raft snapshot metadata"));
  return metadata;
}

}  // namespace

std::string RaftLogKey(GroupId group, Index index) {
  std::string key;
  key.reserve(16);
  kv::AppendFixed64BigEndian(&key, group);
  kv::AppendFixed64BigEndian(&key, index);
  return key;
}

std::string RaftStateKey(GroupId group, char tag) {
  std::string key;
  key.reserve(9);
  kv::AppendFixed64BigEndian(&key, group);
  key.push_back(tag);
  return key;
}

RocksDbRaftStorage::RocksDbRaftStorage(RocksDbEnv* env, GroupId group,
                                       const RocksDbRaftStorageOptions& options)
    : env_(env), group_(group), options_(options) {}

absl::StatusOr<std::unique_ptr<RocksDbRaftStorage>> RocksDbRaftStorage::Open(
    RocksDbEnv* env, GroupId group, const RocksDbRaftStorageOptions& options) {
  EKV_ASSERT(env != nullptr, "RocksDbRaftStorage needs an env");
  std::unique_ptr<RocksDbRaftStorage> storage(new RocksDbRaftStorage(env, group, options));
  EKV_KV_RETURN_IF_ERROR(storage->Load());
  return storage;
}

absl::Status RocksDbRaftStorage::Load() {
  const std::string context =
      absl::StrCat("loading raft group ", group_, " from ", env_->data_dir());
  rocksdb::DB* db = env_->db();
  std::string value;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), env_->raft_state(),
                                   RaftStateKey(group_, kHardStateTag), &value);
  if (status.ok()) {
    EKV_KV_ASSIGN_OR_RETURN(state_.hard_state, DecodeHardState(value));
  } else if (!status.IsNotFound()) {
    return FromRocksStatus(status, context);
  }
  status = db->Get(rocksdb::ReadOptions(), env_->raft_state(),
                   RaftStateKey(group_, kSnapshotMetadataTag), &value);
  if (status.ok()) {
    EKV_KV_ASSIGN_OR_RETURN(state_.snapshot_metadata, DecodeSnapshotMetadata(value));
  } else if (!status.IsNotFound()) {
    return FromRocksStatus(status, context);
  }
  status =
      db->Get(rocksdb::ReadOptions(), env_->raft_state(), RaftStateKey(group_, kOffsetTag), &value);
  if (status.ok()) {
    kv::ByteReader reader(value);
    EKV_KV_ASSIGN_OR_RETURN(state_.offset_index, reader.ReadVarint64());
    EKV_KV_ASSIGN_OR_RETURN(state_.offset_term, reader.ReadVarint64());
    EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("raft log offset"));
  } else if (!status.IsNotFound()) {
    return FromRocksStatus(status, context);
  }

  // The log's extent, and the tail's terms for the cache.
  const std::string lower = RaftLogKey(group_, 0);
  const std::string upper = RaftLogKey(group_, kEndOfLog);
  const rocksdb::Slice lower_slice = ToSlice(lower);
  const rocksdb::Slice upper_slice = ToSlice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, env_->raft_log()));
  it->SeekToFirst();
  if (it->Valid()) {
    const Index first = kv::DecodeFixed64BigEndian(absl::string_view(it->key().data() + 8, 8));
    if (first != state_.offset_index + 1) {
      return absl::DataLossError(absl::StrCat(context, ": log starts at index ", first,
                                              " but its offset is ", state_.offset_index));
    }
  }
  EKV_KV_RETURN_IF_ERROR(FromRocksStatus(it->status(), context));
  state_.last_index = state_.offset_index;
  std::deque<Term> tail;
  Index expected = 0;
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    const Index index = kv::DecodeFixed64BigEndian(absl::string_view(it->key().data() + 8, 8));
    if (tail.empty()) {
      state_.last_index = index;
    } else if (index != expected) {
      return absl::DataLossError(
          absl::StrCat(context, ": log has a hole: entry ", expected, " is missing"));
    }
    EKV_KV_ASSIGN_OR_RETURN(const Term term, DecodeEntryTerm(absl::string_view(
                                                 it->value().data(), it->value().size())));
    tail.push_front(term);
    expected = index - 1;
    if (tail.size() >= options_.term_cache_entries) break;
  }
  EKV_KV_RETURN_IF_ERROR(FromRocksStatus(it->status(), context));
  recent_terms_ = std::move(tail);
  recent_terms_first_ = state_.last_index + 1 - recent_terms_.size();
  return absl::OkStatus();
}

absl::StatusOr<raft::Storage::InitialState> RocksDbRaftStorage::GetInitialState() const {
  return InitialState{state_.hard_state, state_.snapshot_metadata.conf_state};
}

absl::StatusOr<std::vector<Entry>> RocksDbRaftStorage::Entries(Index lo, Index hi,
                                                               uint64_t max_bytes) const {
  if (lo <= state_.offset_index) return raft::CompactedError(lo);
  if (hi > state_.last_index + 1) return raft::UnavailableError(hi - 1);
  EKV_ASSERT(lo <= hi, "Entries range inverted: ", lo, " > ", hi);
  std::vector<Entry> out;
  if (lo == hi) return out;
  const std::string lower = RaftLogKey(group_, lo);
  const std::string upper = RaftLogKey(group_, hi);
  const rocksdb::Slice lower_slice = ToSlice(lower);
  const rocksdb::Slice upper_slice = ToSlice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(env_->db()->NewIterator(read_options, env_->raft_log()));
  uint64_t bytes = 0;
  Index expected = lo;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    const Index index = kv::DecodeFixed64BigEndian(absl::string_view(it->key().data() + 8, 8));
    if (index != expected) break;  // reported below as a hole
    EKV_KV_ASSIGN_OR_RETURN(
        Entry entry,
        DecodeEntryValue(index, absl::string_view(it->value().data(), it->value().size())));
    bytes += entry.ByteSize();
    if (!out.empty() && bytes > max_bytes) return out;
    out.push_back(std::move(entry));
  }
  EKV_KV_RETURN_IF_ERROR(FromRocksStatus(
      it->status(), absl::StrCat("reading raft log of group ", group_, " [", lo, ", ", hi, ")")));
  if (expected != hi) {
    return absl::DataLossError(absl::StrCat("raft log of group ", group_, " in ", env_->data_dir(),
                                            " is missing entry ", expected, " (log should hold (",
                                            state_.offset_index, ", ", state_.last_index, "])"));
  }
  return out;
}

absl::StatusOr<Term> RocksDbRaftStorage::EntryTerm(Index i) const {
  if (i < state_.offset_index) return raft::CompactedError(i);
  if (i > state_.last_index) return raft::UnavailableError(i);
  if (i == state_.offset_index) return state_.offset_term;
  if (i >= recent_terms_first_) return recent_terms_[i - recent_terms_first_];
  return ReadTermFromDb(i);
}

absl::StatusOr<Term> RocksDbRaftStorage::ReadTermFromDb(Index index) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status status =
      env_->db()->Get(rocksdb::ReadOptions(), env_->raft_log(), RaftLogKey(group_, index), &value);
  if (status.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("raft log of group ", group_, " in ", env_->data_dir(),
                                            " is missing entry ", index));
  }
  EKV_KV_RETURN_IF_ERROR(FromRocksStatus(
      status, absl::StrCat("reading the term of raft log entry ", index, " of group ", group_)));
  return DecodeEntryTerm(absl::string_view(value.data(), value.size()));
}

absl::StatusOr<raft::Snapshot> RocksDbRaftStorage::GetSnapshot() const {
  raft::Snapshot snapshot;
  snapshot.metadata = state_.snapshot_metadata;
  if (snapshot.metadata.index == 0) return snapshot;
  rocksdb::Status status = env_->db()->Get(rocksdb::ReadOptions(), env_->raft_state(),
                                           RaftStateKey(group_, kSnapshotDataTag), &snapshot.data);
  if (status.IsNotFound()) status = rocksdb::Status::OK();  // an empty image is not stored
  EKV_KV_RETURN_IF_ERROR(
      FromRocksStatus(status, absl::StrCat("reading the snapshot data of group ", group_)));
  return snapshot;
}

absl::Status RocksDbRaftStorage::CheckWritable(const char* operation) const {
  if (!failed_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(operation, " on raft group ", group_,
                     " after a failed synced write (restart to recover): ", failed_.ToString()));
  }
  if (prepared_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(operation, " on raft group ", group_, " while the batch of ready ",
                     prepared_->ready_id, " is ",
                     prepared_->committed ? "committed but not yet certified by Persist"
                                          : "prepared for a group commit"));
  }
  return absl::OkStatus();
}

absl::Status RocksDbRaftStorage::BootstrapFrom(const raft::MemoryStorage& image) {
  EKV_KV_RETURN_IF_ERROR(CheckWritable("BootstrapFrom"));
  if (state_.last_index != 0 || !state_.hard_state.IsEmpty() ||
      state_.snapshot_metadata.index != 0 || !state_.snapshot_metadata.conf_state.voters.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("bootstrap of raft group ", group_, " requires empty storage"));
  }
  EKV_KV_ASSIGN_OR_RETURN(raft::Snapshot snapshot, image.GetSnapshot());
  EKV_KV_ASSIGN_OR_RETURN(std::vector<Entry> entries,
                          image.Entries(image.FirstIndex(), image.LastIndex() + 1, raft::kNoLimit));
  rocksdb::WriteBatch write_batch;
  // A conf state without a snapshot (the older bootstrap style) is kept as metadata.
  if (snapshot.IsEmpty() && !snapshot.metadata.conf_state.voters.empty()) {
    write_batch.Put(env_->raft_state(), RaftStateKey(group_, kSnapshotMetadataTag),
                    EncodeSnapshotMetadata(snapshot.metadata));
  }
  raft::PersistBatch batch;
  if (!snapshot.IsEmpty()) batch.snapshot = std::move(snapshot);
  batch.entries = std::move(entries);
  batch.has_hard_state = !image.hard_state().IsEmpty();
  batch.hard_state = image.hard_state();
  EKV_KV_RETURN_IF_ERROR(PrepareBatch(batch, &write_batch));
  absl::StatusOr<SyncedWrite> synced = env_->WriteSynced(&write_batch);
  if (!synced.ok()) {
    AbandonPrepared(synced.status());
    return synced.status();
  }
  ApplyAfterCommit(*synced);
  prepared_.reset();
  if (batch.snapshot.IsEmpty()) state_.snapshot_metadata = image.GetSnapshot()->metadata;
  return absl::OkStatus();
}

absl::Status RocksDbRaftStorage::CreateSnapshot(Index index, const ConfState& conf_state,
                                                std::string data) {
  EKV_KV_RETURN_IF_ERROR(CheckWritable("CreateSnapshot"));
  if (index <= state_.snapshot_metadata.index) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot at ", index, " is not newer than ", state_.snapshot_metadata.index));
  }
  if (index > state_.last_index) {
    return absl::OutOfRangeError(
        absl::StrCat("snapshot index ", index, " is beyond the last index ", state_.last_index));
  }
  EKV_KV_ASSIGN_OR_RETURN(const Term term, EntryTerm(index));
  SnapshotMetadata metadata{index, term, conf_state};
  rocksdb::WriteBatch write_batch;
  write_batch.Put(env_->raft_state(), RaftStateKey(group_, kSnapshotMetadataTag),
                  EncodeSnapshotMetadata(metadata));
  write_batch.Put(env_->raft_state(), RaftStateKey(group_, kSnapshotDataTag), data);
  EKV_KV_RETURN_IF_ERROR(env_->Write(&write_batch, /*sync=*/false));
  state_.snapshot_metadata = std::move(metadata);
  return absl::OkStatus();
}

absl::Status RocksDbRaftStorage::Compact(Index compact_index) {
  EKV_KV_RETURN_IF_ERROR(CheckWritable("Compact"));
  if (compact_index <= state_.offset_index) return raft::CompactedError(compact_index);
  if (compact_index > state_.last_index) {
    return absl::OutOfRangeError(absl::StrCat("compact index ", compact_index,
                                              " is beyond the last index ", state_.last_index));
  }
  EKV_KV_ASSIGN_OR_RETURN(const Term term, EntryTerm(compact_index));
  rocksdb::WriteBatch write_batch;
  write_batch.DeleteRange(env_->raft_log(), RaftLogKey(group_, state_.offset_index + 1),
                          RaftLogKey(group_, compact_index + 1));
  write_batch.Put(env_->raft_state(), RaftStateKey(group_, kOffsetTag),
                  EncodeOffset(compact_index, term));
  EKV_KV_RETURN_IF_ERROR(env_->Write(&write_batch, /*sync=*/false));
  state_.offset_index = compact_index;
  state_.offset_term = term;
  TrimTermCache();
  return absl::OkStatus();
}

absl::Status RocksDbRaftStorage::PrepareBatch(const raft::PersistBatch& batch,
                                              rocksdb::WriteBatch* write_batch) {
  EKV_KV_RETURN_IF_ERROR(CheckWritable("PrepareBatch"));
  PreparedBatch prepared;
  prepared.write_batch = write_batch;
  prepared.ready_id = batch.ready_id;
  prepared.entry_count = batch.entries.size();
  prepared.snapshot_index = batch.snapshot.metadata.index;
  prepared.has_hard_state = batch.has_hard_state;
  prepared.hard_state = batch.hard_state;
  LogState& next = prepared.state_after;
  next = state_;

  // Validate before touching `write_batch`, so an error leaves it unchanged.
  const raft::Snapshot& snapshot = batch.snapshot;
  if (!snapshot.IsEmpty() && snapshot.metadata.index <= next.snapshot_metadata.index) {
    return absl::FailedPreconditionError(absl::StrCat("snapshot at index ", snapshot.metadata.index,
                                                      " is out of date (have ",
                                                      next.snapshot_metadata.index, ")"));
  }

  if (!snapshot.IsEmpty()) {
    // Installing a snapshot replaces the whole log, including entries past its index.
    prepared.installs_snapshot = true;
    write_batch->DeleteRange(env_->raft_log(), RaftLogKey(group_, 0),
                             RaftLogKey(group_, kEndOfLog));
    write_batch->Put(env_->raft_state(), RaftStateKey(group_, kSnapshotMetadataTag),
                     EncodeSnapshotMetadata(snapshot.metadata));
    write_batch->Put(env_->raft_state(), RaftStateKey(group_, kSnapshotDataTag), snapshot.data);
    write_batch->Put(env_->raft_state(), RaftStateKey(group_, kOffsetTag),
                     EncodeOffset(snapshot.metadata.index, snapshot.metadata.term));
    next.snapshot_metadata = snapshot.metadata;
    next.offset_index = snapshot.metadata.index;
    next.offset_term = snapshot.metadata.term;
    next.last_index = snapshot.metadata.index;
  }

  const std::vector<Entry>& entries = batch.entries;
  if (!entries.empty() && entries.back().index > next.offset_index) {
    // Entries at or below the offset are already compacted; skip them (MemoryStorage::Append).
    const Index first = next.offset_index + 1;
    const size_t skip = entries.front().index < first ? first - entries.front().index : 0;
    const Index start = entries[skip].index;
    EKV_ASSERT(start <= next.last_index + 1, "append leaves a gap in group ", group_, ": last ",
               next.last_index, " new first ", start);
    const Index new_last = entries.back().index;
    EKV_ASSERT(new_last < kEndOfLog, "raft index ", new_last, " is reserved");
    // Entries past the new last index belong to a conflicting suffix; the rest are
    // overwritten by the Puts below.
    if (next.last_index > new_last) {
      write_batch->DeleteRange(env_->raft_log(), RaftLogKey(group_, new_last + 1),
                               RaftLogKey(group_, next.last_index + 1));
    }
    prepared.append_start = start;
    prepared.appended_terms.reserve(entries.size() - skip);
    for (size_t i = skip; i < entries.size(); ++i) {
      const Entry& entry = entries[i];
      EKV_ASSERT(entry.index == start + (i - skip), "non-contiguous append in group ", group_,
                 ": expected index ", start + (i - skip), " got ", entry.index);
      write_batch->Put(env_->raft_log(), RaftLogKey(group_, entry.index), EncodeEntryValue(entry));
      prepared.appended_terms.push_back(entry.term);
    }
    next.last_index = new_last;
  }

  if (batch.has_hard_state) {
    write_batch->Put(env_->raft_state(), RaftStateKey(group_, kHardStateTag),
                     EncodeHardState(batch.hard_state));
    next.hard_state = batch.hard_state;
  }
  prepared_ = std::move(prepared);
  return absl::OkStatus();
}

void RocksDbRaftStorage::ApplyAfterCommit(const SyncedWrite& write) {
  EKV_ASSERT(prepared_.has_value() && !prepared_->committed, "ApplyAfterCommit on raft group ",
             group_, " without a prepared batch");
  EKV_ASSERT(write.batch() == prepared_->write_batch, "raft group ", group_,
             " prepared its batch into a different WriteBatch than the one synced");
  prepared_->committed = true;
  InstallState(*prepared_);
}

void RocksDbRaftStorage::AbandonPrepared(const absl::Status& cause) {
  EKV_ASSERT(!cause.ok(), "AbandonPrepared needs the error that caused it");
  prepared_.reset();
  failed_ = cause;
}

void RocksDbRaftStorage::InstallState(const PreparedBatch& prepared) {
  state_ = prepared.state_after;
  if (prepared.installs_snapshot) {
    recent_terms_.clear();
    recent_terms_first_ = state_.offset_index + 1;
  }
  if (!prepared.appended_terms.empty()) {
    const Index start = prepared.append_start;
    if (start < recent_terms_first_) {
      recent_terms_.clear();
      recent_terms_first_ = start;
    } else {
      // The cache reaches the old last index, and start <= old last + 1.
      recent_terms_.resize(start - recent_terms_first_);
    }
    recent_terms_.insert(recent_terms_.end(), prepared.appended_terms.begin(),
                         prepared.appended_terms.end());
  } else if (recent_terms_first_ + recent_terms_.size() > state_.last_index + 1) {
    // Cannot happen: the last index only shrinks through an append or a snapshot.
    EKV_UNREACHABLE("term cache of group ", group_, " ends past the last index");
  }
  TrimTermCache();
  EKV_ASSERT(recent_terms_first_ + recent_terms_.size() == state_.last_index + 1,
             "term cache of group ", group_, " does not end at the last index ", state_.last_index);
}

void RocksDbRaftStorage::TrimTermCache() {
  while (!recent_terms_.empty() && (recent_terms_first_ <= state_.offset_index ||
                                    recent_terms_.size() > options_.term_cache_entries)) {
    recent_terms_.pop_front();
    ++recent_terms_first_;
  }
  if (recent_terms_.empty()) recent_terms_first_ = state_.last_index + 1;
}

bool RocksDbRaftStorage::Matches(const PreparedBatch& prepared,
                                 const raft::PersistBatch& batch) const {
  return prepared.ready_id == batch.ready_id && prepared.entry_count == batch.entries.size() &&
         prepared.snapshot_index == batch.snapshot.metadata.index &&
         prepared.has_hard_state == batch.has_hard_state &&
         (!batch.has_hard_state || prepared.hard_state == batch.hard_state);
}

absl::Status RocksDbRaftStorage::WriteDurably(const raft::PersistBatch& batch) {
  if (prepared_.has_value()) {
    // The group-commit path: certify only the batch that was actually synced.
    if (!prepared_->committed) {
      return absl::FailedPreconditionError(
          absl::StrCat("Persist on raft group ", group_, ": the batch of ready ",
                       prepared_->ready_id, " is prepared but its group commit was not written"));
    }
    if (!Matches(*prepared_, batch)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Persist on raft group ", group_, ": ready ", batch.ready_id,
          " is not the batch that was group-committed (ready ", prepared_->ready_id, ")"));
    }
    prepared_.reset();
    return absl::OkStatus();
  }
  rocksdb::WriteBatch write_batch;
  EKV_KV_RETURN_IF_ERROR(PrepareBatch(batch, &write_batch));
  if (write_batch.Count() == 0) {
    // Nothing new to make durable (everything was already compacted, or the batch is
    // empty): every earlier batch was certified by its own synced write.
    prepared_->committed = true;
    InstallState(*prepared_);
    prepared_.reset();
    return absl::OkStatus();
  }
  absl::StatusOr<SyncedWrite> synced = env_->WriteSynced(&write_batch);
  if (!synced.ok()) {
    AbandonPrepared(synced.status());
    return synced.status();
  }
  ApplyAfterCommit(*synced);
  prepared_.reset();
  return absl::OkStatus();
}

}  // namespace ekv::runtime
