#include "runtime/storage/rocksdb_engine.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"
#include "runtime/storage/apply_write_buffer.h"

namespace ekv::runtime {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
absl::string_view ToView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

absl::StatusOr<std::optional<std::string>> GetFrom(rocksdb::DB* db,
                                                   rocksdb::ColumnFamilyHandle* family,
                                                   const rocksdb::Snapshot* snapshot,
                                                   absl::string_view key) {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::string value;
  rocksdb::Status status = db->Get(read_options, family, ToSlice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) {
    return FromRocksStatus(status, absl::StrCat("Get of a ", key.size(), "-byte key"));
  }
  return value;
}

// The iterator works in prefixed key space; key() hides the prefix. Over an apply write
// buffer (`overlay`), it reads the buffered writes on top of the DB (a base-delta iterator)
// and enforces the bounds itself, since the buffer holds every group's keys.
class RocksDbIterator final : public kv::EngineIterator {
 public:
  RocksDbIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                  const rocksdb::Snapshot* snapshot, const kv::IterOptions& options,
                  bool fill_cache, const std::string& prefix, ApplyWriteBuffer* overlay = nullptr,
                  bool counts_as_open = true)
      : prefix_(prefix),
        lower_(prefix + options.lower_bound),
        upper_(options.upper_bound.empty() ? PrefixSuccessor(prefix)
                                           : prefix + options.upper_bound),
        lower_slice_(ToSlice(lower_)),
        upper_slice_(ToSlice(upper_)),
        overlay_(overlay),
        counts_as_open_(counts_as_open) {
    read_options_.snapshot = snapshot;
    read_options_.fill_cache = fill_cache;
    if (!lower_.empty()) read_options_.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) read_options_.iterate_upper_bound = &upper_slice_;
    rocksdb::Iterator* base = db->NewIterator(read_options_, family);
    if (overlay_ != nullptr) {
      // Without read options: the delta side then ignores the bounds (Valid() applies
      // them) rather than treating a buffered key at the bound as the end of iteration.
      iterator_.reset(overlay_->batch()->NewIteratorWithBase(family, base));
      if (counts_as_open_) overlay_->IteratorOpened();
    } else {
      iterator_.reset(base);
    }
  }
  ~RocksDbIterator() override {
    iterator_.reset();
    if (overlay_ != nullptr && counts_as_open_) overlay_->IteratorClosed();
  }

  bool Valid() const override {
    if (!iterator_->Valid()) return false;
    if (overlay_ == nullptr) return true;
    const absl::string_view key = ToView(iterator_->key());
    return key >= lower_ && (upper_.empty() || key < upper_);
  }
  void SeekToFirst() override {
    if (overlay_ != nullptr && !lower_.empty()) {
      iterator_->Seek(lower_slice_);
    } else {
      iterator_->SeekToFirst();
    }
  }
  void SeekToLast() override {
    if (overlay_ != nullptr && !upper_.empty()) {
      iterator_->SeekForPrev(upper_slice_);
      if (iterator_->Valid() && ToView(iterator_->key()) >= upper_) iterator_->Prev();
    } else {
      iterator_->SeekToLast();
    }
  }
  // The bounds are enforced by RocksDB; clamping the target as well keeps the contract
  // explicit rather than dependent on how a given RocksDB version treats such seeks.
  void Seek(absl::string_view user_target) override {
    const std::string target = prefix_ + std::string(user_target);
    if (target < lower_) {
      SeekToFirst();
    } else {
      iterator_->Seek(ToSlice(target));
    }
  }
  void SeekForPrev(absl::string_view user_target) override {
    const std::string target = prefix_ + std::string(user_target);
    if (!upper_.empty() && target >= upper_) {
      SeekToLast();
    } else {
      iterator_->SeekForPrev(ToSlice(target));
    }
  }
  void Next() override {
    EKV_ASSERT(Valid(), "Next on an invalid iterator");
    iterator_->Next();
  }
  void Prev() override {
    EKV_ASSERT(Valid(), "Prev on an invalid iterator");
    iterator_->Prev();
  }
  absl::string_view key() const override {
    EKV_ASSERT(Valid(), "key() on an invalid iterator");
    absl::string_view key = ToView(iterator_->key());
    EKV_ASSERT(absl::StartsWith(key, prefix_), "iterator left its engine's key prefix");
    key.remove_prefix(prefix_.size());
    return key;
  }
  absl::string_view value() const override {
    EKV_ASSERT(Valid(), "value() on an invalid iterator");
    return ToView(iterator_->value());
  }
  absl::Status status() const override {
    return FromRocksStatus(iterator_->status(), "iterating the data column family");
  }

 private:
  // ReadOptions keeps pointers to the bound slices, which point into these strings: all
  // must outlive iterator_ (declared first, destroyed last).
  const std::string prefix_;
  const std::string lower_;
  const std::string upper_;
  const rocksdb::Slice lower_slice_;
  const rocksdb::Slice upper_slice_;
  rocksdb::ReadOptions read_options_;
  ApplyWriteBuffer* const overlay_;
  // False for an engine's pooled iterator: only its loans count as open (LentIterator).
  const bool counts_as_open_;
  std::unique_ptr<rocksdb::Iterator> iterator_;
};

// A loan of an engine's pooled iterator (RocksDbEngine::NewIterator): an unbounded
// iterator over the DB and the apply buffer, created once per round (at the first read
// after the round's first buffered write) and reused by every later read of the round.
// It is a valid kv::EngineIterator because of two facts:
//   - no write reaches the engine while a loan is open: buffered writes assert that no
//     iterator over the buffer is open, and a flush is refused meanwhile, so what the
//     loan reads is the engine as of the loan, as if the iterator were new;
//   - the buffer's index (WriteBatchWithIndex) may grow between loans, and a base-delta
//     iterator re-seeked after such writes sees them (RocksDB supports mutating the
//     batch while iterating); the DB side cannot change within a round, because every
//     write to the data family flushes the buffer first and a flush drops the pool.
// A loan starts unpositioned, like a new iterator, whatever the last loan did.
class LentIterator final : public kv::EngineIterator {
 public:
  LentIterator(kv::EngineIterator* pooled, bool* lent, ApplyWriteBuffer* buffer)
      : pooled_(pooled), lent_(lent), buffer_(buffer) {
    EKV_ASSERT(!*lent_, "the pooled iterator is lent twice");
    *lent_ = true;
    buffer_->IteratorOpened();
  }
  ~LentIterator() override {
    *lent_ = false;
    buffer_->IteratorClosed();
  }
  LentIterator(const LentIterator&) = delete;
  LentIterator& operator=(const LentIterator&) = delete;

  bool Valid() const override { return positioned_ && pooled_->Valid(); }
  void SeekToFirst() override {
    positioned_ = true;
    pooled_->SeekToFirst();
  }
  void SeekToLast() override {
    positioned_ = true;
    pooled_->SeekToLast();
  }
  void Seek(absl::string_view target) override {
    positioned_ = true;
    pooled_->Seek(target);
  }
  void SeekForPrev(absl::string_view target) override {
    positioned_ = true;
    pooled_->SeekForPrev(target);
  }
  void Next() override {
    EKV_ASSERT(Valid(), "Next on an invalid iterator");
    pooled_->Next();
  }
  void Prev() override {
    EKV_ASSERT(Valid(), "Prev on an invalid iterator");
    pooled_->Prev();
  }
  absl::string_view key() const override {
    EKV_ASSERT(Valid(), "key() on an invalid iterator");
    return pooled_->key();
  }
  absl::string_view value() const override {
    EKV_ASSERT(Valid(), "value() on an invalid iterator");
    return pooled_->value();
  }
  absl::Status status() const override { return pooled_->status(); }

 private:
  kv::EngineIterator* const pooled_;
  bool* const lent_;
  ApplyWriteBuffer* const buffer_;
  bool positioned_ = false;
};

class RocksDbSnapshot final : public kv::EngineSnapshot {
 public:
  RocksDbSnapshot(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, bool fill_cache,
                  std::string prefix)
      : db_(db),
        family_(family),
        snapshot_(db->GetSnapshot()),
        fill_cache_(fill_cache),
        prefix_(std::move(prefix)) {}
  ~RocksDbSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  RocksDbSnapshot(const RocksDbSnapshot&) = delete;
  RocksDbSnapshot& operator=(const RocksDbSnapshot&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    return GetFrom(db_, family_, snapshot_, prefix_ + std::string(key));
  }
  std::unique_ptr<kv::EngineIterator> NewIterator(const kv::IterOptions& options) const override {
    return std::make_unique<RocksDbIterator>(db_, family_, snapshot_, options, fill_cache_,
                                             prefix_);
  }

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  const rocksdb::Snapshot* const snapshot_;
  const bool fill_cache_;
  const std::string prefix_;
};

}  // namespace

std::string GroupDataPrefix(uint64_t group) {
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<char>(group >> (8 * (7 - i)));
  return prefix;
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string next(prefix);
  while (!next.empty()) {
    if (static_cast<uint8_t>(next.back()) != 0xff) {
      next.back() = static_cast<char>(static_cast<uint8_t>(next.back()) + 1);
      return next;
    }
    next.pop_back();
  }
  return next;
}

RocksDbEngine::RocksDbEngine(RocksDbEnv* env, const RocksDbEngineOptions& options)
    : env_(env), options_(options) {
  EKV_ASSERT(env != nullptr, "RocksDbEngine needs an env");
  if (options_.apply_buffer != nullptr) {
    options_.apply_buffer->AddRoundListener(this, [this] { DropPooledIterator(); });
  }
}

RocksDbEngine::~RocksDbEngine() {
  EKV_ASSERT(!pooled_lent_, "an engine destroyed while its pooled iterator is lent");
  if (options_.apply_buffer != nullptr) options_.apply_buffer->RemoveRoundListener(this);
  pooled_.reset();
}

void RocksDbEngine::DropPooledIterator() const {
  EKV_ASSERT(!pooled_lent_, "the pooled iterator dropped while lent");
  pooled_.reset();
}

absl::StatusOr<std::optional<std::string>> RocksDbEngine::Get(absl::string_view key) const {
  ApplyWriteBuffer* buffer = options_.apply_buffer;
  if (buffer == nullptr || buffer->empty()) {
    return GetFrom(env_->db(), env_->data(), nullptr, options_.key_prefix + std::string(key));
  }
  const std::string prefixed = options_.key_prefix + std::string(key);
  std::string value;
  rocksdb::Status status = buffer->batch()->GetFromBatchAndDB(
      env_->db(), rocksdb::ReadOptions(), env_->data(), ToSlice(prefixed), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) {
    return FromRocksStatus(status, absl::StrCat("Get of a ", key.size(), "-byte key"));
  }
  return value;
}

std::unique_ptr<kv::EngineIterator> RocksDbEngine::NewIterator(
    const kv::IterOptions& options) const {
  ApplyWriteBuffer* buffer = options_.apply_buffer;
  // The point reads of applies (MvccReader's GetVersion, LatestCommitTs) ask for the
  // whole engine: while the round's buffer holds writes, those share one iterator
  // (LentIterator). A second iterator open at the same time, a bounded one (scans), or
  // one while the buffer is empty (a plain DB iterator, which later buffered writes
  // cannot reach, so writes may go on while it is open) is made as before.
  if (buffer != nullptr && !buffer->empty() && options.lower_bound.empty() &&
      options.upper_bound.empty() && !pooled_lent_) {
    if (pooled_ == nullptr) {
      pooled_ = std::make_unique<RocksDbIterator>(
          env_->db(), env_->data(), nullptr, options, options_.iterators_fill_cache,
          options_.key_prefix, buffer, /*counts_as_open=*/false);
      ++pooled_iterators_made_;
    }
    return std::make_unique<LentIterator>(pooled_.get(), &pooled_lent_, buffer);
  }
  return std::make_unique<RocksDbIterator>(
      env_->db(), env_->data(), nullptr, options, options_.iterators_fill_cache,
      options_.key_prefix, buffer != nullptr && !buffer->empty() ? buffer : nullptr);
}

void RocksDbEngine::FlushApplyBuffer() const {
  if (options_.apply_buffer == nullptr) return;
  absl::Status status = options_.apply_buffer->Flush();
  // A replica that cannot write its applied state must stop rather than diverge.
  EKV_ASSERT(status.ok(), "flushing applied writes failed: ", status.ToString());
}

std::unique_ptr<kv::EngineSnapshot> RocksDbEngine::Snapshot() const {
  // A snapshot is a DB view: it must hold everything written so far.
  FlushApplyBuffer();
  return std::make_unique<RocksDbSnapshot>(env_->db(), env_->data(), options_.iterators_fill_cache,
                                           options_.key_prefix);
}

absl::Status RocksDbEngine::ReplaceWithStaged(absl::string_view staged_ref) {
  const std::string path(staged_ref);
  if (options_.key_prefix.empty()) {
    return absl::FailedPreconditionError("only a prefixed engine can install a staged snapshot");
  }
  // The staged file must hold only keys of this engine (a file meant for another group
  // would silently overwrite it).
  rocksdb::SstFileReader reader(
      rocksdb::Options(env_->db()->GetDBOptions(), env_->db()->GetOptions(env_->data())));
  if (rocksdb::Status s = reader.Open(path); !s.ok()) {
    return FromRocksStatus(s, absl::StrCat("opening staged snapshot ", path));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    const bool first_ok = !it->Valid() || ToView(it->key()) >= options_.key_prefix;
    it->SeekToLast();
    const bool last_ok = !it->Valid() || absl::StartsWith(ToView(it->key()), options_.key_prefix);
    if (!first_ok || !last_ok || !it->status().ok()) {
      return absl::DataLossError(
          absl::StrCat("staged snapshot ", path, " holds keys outside this group's range"));
    }
  }
  FlushApplyBuffer();  // buffered writes must not land on top of the installed state
  rocksdb::WriteBatch clear;
  const std::string end = PrefixSuccessor(options_.key_prefix);
  if (rocksdb::Status s = clear.DeleteRange(env_->data(), options_.key_prefix, end); !s.ok()) {
    return FromRocksStatus(s, "building the snapshot install batch");
  }
  if (absl::Status s = env_->Write(&clear, /*sync=*/false); !s.ok()) return s;
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;  // a hard link, not a copy
  rocksdb::Status status = env_->db()->IngestExternalFile(env_->data(), {path}, ingest);
  if (!status.ok())
    return FromRocksStatus(status, absl::StrCat("ingesting staged snapshot ", path));
  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // the DB holds its own link now
  return absl::OkStatus();
}

absl::Status RocksDbEngine::Write(const kv::WriteBatch& batch) {
  // Validate everything first: RocksDB would apply the ops before a bad one.
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    if (op.kind == kv::WriteBatch::OpKind::kDeleteRange && op.key > op.value) {
      return absl::InvalidArgumentError(
          absl::StrCat("DeleteRange begin must be <= end; got begin of ", op.key.size(),
                       " bytes above end of ", op.value.size(), " bytes"));
    }
  }
  if (batch.empty()) return absl::OkStatus();
  ApplyWriteBuffer* buffer = options_.apply_buffer;
  bool has_delete_range = false;
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    has_delete_range |= op.kind == kv::WriteBatch::OpKind::kDeleteRange;
  }
  if (buffer != nullptr && !has_delete_range) return WriteToBuffer(batch, buffer);
  // A range deletion (which the index cannot overlay) goes straight to the DB, after the
  // writes buffered before it.
  FlushApplyBuffer();
  rocksdb::WriteBatch write_batch(/*reserved_bytes=*/static_cast<size_t>(batch.byte_size()) + 64);
  rocksdb::ColumnFamilyHandle* family = env_->data();
  const std::string& prefix = options_.key_prefix;
  std::string key;
  std::string end;
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    rocksdb::Status status;
    key.assign(prefix).append(op.key);
    switch (op.kind) {
      case kv::WriteBatch::OpKind::kPut:
        status = write_batch.Put(family, key, op.value);
        break;
      case kv::WriteBatch::OpKind::kDelete:
        status = write_batch.Delete(family, key);
        break;
      case kv::WriteBatch::OpKind::kDeleteRange:
        // An empty range deletes nothing; RocksDB need not see it.
        end.assign(prefix).append(op.value);
        if (op.key != op.value) status = write_batch.DeleteRange(family, key, end);
        break;
    }
    if (!status.ok()) return FromRocksStatus(status, "building a RocksDB write batch");
  }
  return env_->Write(&write_batch, options_.sync_writes);
}

absl::Status RocksDbEngine::WriteToBuffer(const kv::WriteBatch& batch, ApplyWriteBuffer* buffer) {
  EKV_ASSERT(buffer->open_iterators() == 0,
             "an engine write while an iterator over the apply buffer is open");
  rocksdb::WriteBatchWithIndex* pending = buffer->batch();
  rocksdb::ColumnFamilyHandle* family = env_->data();
  std::string key;
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    key.assign(options_.key_prefix).append(op.key);
    rocksdb::Status status = op.kind == kv::WriteBatch::OpKind::kPut
                                 ? pending->Put(family, key, op.value)
                                 : pending->Delete(family, key);
    // Put and Delete into the index fail only on malformed input, validated above.
    EKV_ASSERT(status.ok(), "buffering an applied write failed: ", status.ToString());
  }
  if (buffer->buffered_bytes() >= ApplyWriteBuffer::kMaxBufferedBytes) FlushApplyBuffer();
  return absl::OkStatus();
}

void RocksDbEngine::DiscardStaged(absl::string_view staged_ref) {
  std::error_code ignored;
  std::filesystem::remove(std::string(staged_ref), ignored);
}

}  // namespace ekv::runtime
