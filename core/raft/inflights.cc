#include "core/raft/inflights.h"

#include "core/util/assert.h"

namespace ekv::raft {

void Inflights::Add(Index index, uint64_t bytes) {
  EKV_ASSERT(!Full(), "cannot add into a full inflights window");
  EKV_ASSERT(window_.empty() || window_.back().index < index,
             "inflight indexes must increase: ", window_.empty() ? 0 : window_.back().index,
             " then ", index);
  window_.push_back(InFlight{index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(Index index) {
  while (!window_.empty() && window_.front().index <= index) {
    bytes_ -= window_.front().bytes;
    window_.pop_front();
  }
}

bool Inflights::Full() const {
  return static_cast<int>(window_.size()) >= max_count_ ||
         (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

void Inflights::Reset() {
  window_.clear();
  bytes_ = 0;
}

}  // namespace ekv::raft
