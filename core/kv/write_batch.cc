#include "core/kv/write_batch.h"

namespace ekv::kv {

void WriteBatch::Put(absl::string_view key, absl::string_view value) {
  ops_.push_back(Op{OpKind::kPut, std::string(key), std::string(value)});
  byte_size_ += key.size() + value.size() + kPerOpOverheadBytes;
}

void WriteBatch::Delete(absl::string_view key) {
  ops_.push_back(Op{OpKind::kDelete, std::string(key), std::string()});
  byte_size_ += key.size() + kPerOpOverheadBytes;
}

void WriteBatch::DeleteRange(absl::string_view begin, absl::string_view end) {
  ops_.push_back(Op{OpKind::kDeleteRange, std::string(begin), std::string(end)});
  byte_size_ += begin.size() + end.size() + kPerOpOverheadBytes;
}

void WriteBatch::Clear() {
  ops_.clear();
  byte_size_ = 0;
}

}  // namespace ekv::kv
