#include "runtime/storage/rocksdb_engine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/write_batch.h"

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

class RocksDbIterator final : public kv::EngineIterator {
 public:
  RocksDbIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                  const rocksdb::Snapshot* snapshot, const kv::IterOptions& options,
                  bool fill_cache)
      : lower_(options.lower_bound),
        upper_(options.upper_bound),
        lower_slice_(ToSlice(lower_)),
        upper_slice_(ToSlice(upper_)) {
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot;
    read_options.fill_cache = fill_cache;
    if (!lower_.empty()) read_options.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) read_options.iterate_upper_bound = &upper_slice_;
    iterator_.reset(db->NewIterator(read_options, family));
  }

  bool Valid() const override { return iterator_->Valid(); }
  void SeekToFirst() override { iterator_->SeekToFirst(); }
  void SeekToLast() override { iterator_->SeekToLast(); }
  // The bounds are enforced by RocksDB; clamping the target as well keeps the contract
  // explicit rather than dependent on how a given RocksDB version treats such seeks.
  void Seek(absl::string_view target) override {
    if (target < lower_) {
      iterator_->SeekToFirst();
    } else {
      iterator_->Seek(ToSlice(target));
    }
  }
  void SeekForPrev(absl::string_view target) override {
    if (!upper_.empty() && target >= upper_) {
      iterator_->SeekToLast();
    } else {
      iterator_->SeekForPrev(ToSlice(target));
    }
  }
  void Next() override {
    EKV_ASSERT(iterator_->Valid(), "Next on an invalid iterator");
    iterator_->Next();
  }
  void Prev() override {
    EKV_ASSERT(iterator_->Valid(), "Prev on an invalid iterator");
    iterator_->Prev();
  }
  absl::string_view key() const override {
    EKV_ASSERT(iterator_->Valid(), "key() on an invalid iterator");
    return ToView(iterator_->key());
  }
  absl::string_view value() const override {
    EKV_ASSERT(iterator_->Valid(), "value() on an invalid iterator");
    return ToView(iterator_->value());
  }
  absl::Status status() const override {
    return FromRocksStatus(iterator_->status(), "iterating the data column family");
  }

 private:
  // ReadOptions keeps pointers to the bound slices, which point into these strings: all
  // three must outlive iterator_ (declared first, destroyed last).
  const std::string lower_;
  const std::string upper_;
  const rocksdb::Slice lower_slice_;
  const rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> iterator_;
};

class RocksDbSnapshot final : public kv::EngineSnapshot {
 public:
  RocksDbSnapshot(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, bool fill_cache)
      : db_(db), family_(family), snapshot_(db->GetSnapshot()), fill_cache_(fill_cache) {}
  ~RocksDbSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  RocksDbSnapshot(const RocksDbSnapshot&) = delete;
  RocksDbSnapshot& operator=(const RocksDbSnapshot&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    return GetFrom(db_, family_, snapshot_, key);
  }
  std::unique_ptr<kv::EngineIterator> NewIterator(const kv::IterOptions& options) const override {
    return std::make_unique<RocksDbIterator>(db_, family_, snapshot_, options, fill_cache_);
  }

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  const rocksdb::Snapshot* const snapshot_;
  const bool fill_cache_;
};

}  // namespace

RocksDbEngine::RocksDbEngine(RocksDbEnv* env, const RocksDbEngineOptions& options)
    : env_(env), options_(options) {
  EKV_ASSERT(env != nullptr, "RocksDbEngine needs an env");
}

absl::StatusOr<std::optional<std::string>> RocksDbEngine::Get(absl::string_view key) const {
  return GetFrom(env_->db(), env_->data(), nullptr, key);
}

std::unique_ptr<kv::EngineIterator> RocksDbEngine::NewIterator(
    const kv::IterOptions& options) const {
  return std::make_unique<RocksDbIterator>(env_->db(), env_->data(), nullptr, options,
                                           options_.iterators_fill_cache);
}

std::unique_ptr<kv::EngineSnapshot> RocksDbEngine::Snapshot() const {
  return std::make_unique<RocksDbSnapshot>(env_->db(), env_->data(), options_.iterators_fill_cache);
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
  rocksdb::WriteBatch write_batch(/*reserved_bytes=*/static_cast<size_t>(batch.byte_size()) + 64);
  rocksdb::ColumnFamilyHandle* family = env_->data();
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    rocksdb::Status status;
    switch (op.kind) {
      case kv::WriteBatch::OpKind::kPut:
        status = write_batch.Put(family, op.key, op.value);
        break;
      case kv::WriteBatch::OpKind::kDelete:
        status = write_batch.Delete(family, op.key);
        break;
      case kv::WriteBatch::OpKind::kDeleteRange:
        // An empty range deletes nothing; RocksDB need not see it.
        if (op.key != op.value) status = write_batch.DeleteRange(family, op.key, op.value);
        break;
    }
    if (!status.ok()) return FromRocksStatus(status, "building a RocksDB write batch");
  }
  return env_->Write(&write_batch, options_.sync_writes);
}

}  // namespace ekv::runtime
