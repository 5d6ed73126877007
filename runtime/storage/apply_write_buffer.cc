#include "runtime/storage/apply_write_buffer.h"

#include "absl/strings/str_cat.h"
#include "rocksdb/comparator.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"

namespace ekv::runtime {

ApplyWriteBuffer::ApplyWriteBuffer(RocksDbEnv* env)
    : env_(env),
      // overwrite_key: reads see the newest write of a key, and base-delta iterators work.
      batch_(std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                            /*overwrite_key=*/true)) {}

ApplyWriteBuffer::~ApplyWriteBuffer() = default;

bool ApplyWriteBuffer::empty() const { return batch_->GetWriteBatch()->Count() == 0; }

size_t ApplyWriteBuffer::buffered_bytes() const { return batch_->GetDataSize(); }

void ApplyWriteBuffer::AddRoundListener(const void* owner, std::function<void()> drop) {
  round_listeners_.emplace_back(owner, std::move(drop));
}

void ApplyWriteBuffer::RemoveRoundListener(const void* owner) {
  std::erase_if(round_listeners_, [owner](const auto& entry) { return entry.first == owner; });
}

absl::Status ApplyWriteBuffer::Flush() {
  if (open_iterators_ == 0) {
    for (const auto& [owner, drop] : round_listeners_) drop();
  }
  if (empty()) return absl::OkStatus();
  if (open_iterators_ != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "apply write buffer flushed while ", open_iterators_, " iterators over it are open"));
  }
  // The index holds the newest write of each key in key order: writing just those, sorted,
  // drops overwritten versions (every entry rewrites the group's applied index) and lets
  // the memtable insert each key next to the previous one (its skiplist keeps the last
  // insert position) instead of searching from the top.
  rocksdb::WriteBatch sorted(batch_->GetDataSize());
  rocksdb::ColumnFamilyHandle* family = env_->data();
  std::unique_ptr<rocksdb::WBWIIterator> it(batch_->NewIterator(family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::WriteEntry entry = it->Entry();
    rocksdb::Status status;
    switch (entry.type) {
      case rocksdb::kPutRecord:
        status = sorted.Put(family, entry.key, entry.value);
        break;
      case rocksdb::kDeleteRecord:
        status = sorted.Delete(family, entry.key);
        break;
      default:
        return absl::InternalError(absl::StrCat("apply write buffer holds a record of type ",
                                                static_cast<int>(entry.type),
                                                "; only puts and deletes are buffered"));
    }
    if (!status.ok()) return FromRocksStatus(status, "building the applied writes' batch");
  }
  if (!it->status().ok()) return FromRocksStatus(it->status(), "reading the apply write buffer");
  if (absl::Status s = env_->Write(&sorted, /*sync=*/false); !s.ok()) return s;
  batch_->Clear();
  ++flushes_;
  return absl::OkStatus();
}

}  // namespace ekv::runtime
