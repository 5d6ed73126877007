// An ordered list of writes that an Engine applies atomically: after Engine::Write
// returns, either every operation is visible or (on error) none is.
//
// Operations apply in the order they were added, so a Put after a Delete of the same key
// wins. The batch owns copies of its keys and values. It maps one-to-one onto
// rocksdb::WriteBatch (Put, Delete, DeleteRange).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ekv::kv {

class WriteBatch {
 public:
  enum class OpKind : uint8_t { kPut, kDelete, kDeleteRange };
  struct Op {
    OpKind kind;
    std::string key;    // kDeleteRange: begin (inclusive)
    std::string value;  // kPut: value; kDeleteRange: end (exclusive); kDelete: empty
  };

  void Put(absl::string_view key, absl::string_view value);
  void Delete(absl::string_view key);
  // Deletes every key in [begin, end). Engine::Write rejects begin > end.
  void DeleteRange(absl::string_view begin, absl::string_view end);

  void Clear();
  bool empty() const { return ops_.empty(); }
  size_t count() const { return ops_.size(); }
  // Key and value bytes plus a small per-op overhead; callers bound batches by this.
  uint64_t byte_size() const { return byte_size_; }
  absl::Span<const Op> ops() const { return ops_; }

 private:
  static constexpr uint64_t kPerOpOverheadBytes = 8;
  std::vector<Op> ops_;
  uint64_t byte_size_ = 0;
};

}  // namespace ekv::kv
