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

absl::Status ApplyWriteBuffer::Flush() {
  if (empty()) return absl::OkStatus();
  if (open_iterators_ != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "apply write buffer flushed while ", open_iterators_, " iterators over it are open"));
  }
  if (absl::Status s = env_->Write(batch_->GetWriteBatch(), /*sync=*/false); !s.ok()) return s;
  batch_->Clear();
  ++flushes_;
  return absl::OkStatus();
}

}  // namespace ekv::runtime
