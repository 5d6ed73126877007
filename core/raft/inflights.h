// The window of append messages sent to one follower and not yet acknowledged, bounded
// both in message count and in bytes so a slow follower cannot make the leader buffer
// without limit.
#pragma once

#include <cstdint>
#include <deque>

#include "core/raft/types.h"

namespace ekv::raft {

class Inflights {
 public:
  Inflights(int max_count, uint64_t max_bytes) : max_count_(max_count), max_bytes_(max_bytes) {}

  // Records an append whose last entry is `index` carrying `bytes` of payload.
  void Add(Index index, uint64_t bytes);
  // Acknowledges every in-flight append up to and including `index`.
  void FreeLE(Index index);
  bool Full() const;
  int Count() const { return static_cast<int>(window_.size()); }
  uint64_t Bytes() const { return bytes_; }
  void Reset();

 private:
  struct InFlight {
    Index index;
    uint64_t bytes;
  };
  int max_count_;
  uint64_t max_bytes_;  // 0: unlimited
  std::deque<InFlight> window_;
  uint64_t bytes_ = 0;
};

}  // namespace ekv::raft
