// SnapshotRestarts: the one retry rule of every DynamoDB read at a snapshot timestamp. A read
// the store refused as ReadRestart (a write the snapshot cannot place, coord/read_restart.h)
// is done again, all of it, at a new snapshot above ReadRestartAbove; a request does that a
// bounded number of times, after which the ReadRestart is its answer (a retryable error).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "core/coord/read_restart.h"

namespace ekv::dynamo {

class SnapshotRestarts {
 public:
  // At most `max_restarts` restarts (TableStore::kMaxSnapshotRestarts for a client's read).
  explicit SnapshotRestarts(int max_restarts) : max_restarts_(max_restarts) {}

  // Whether the read that ended with `status` must be done again: it was a ReadRestart and
  // restarts are left. Then at_least() is what the next snapshot must be above.
  bool Retry(const absl::Status& status) {
    if (restarts_ >= max_restarts_) return false;
    const uint64_t above = coord::ReadRestartAbove(status);
    if (above == 0) return false;
    ++restarts_;
    at_least_ = above;
    return true;
  }
  // The bound for the next SnapshotTimestamp (0 before any restart).
  uint64_t at_least() const { return at_least_; }

 private:
  const int max_restarts_;
  int restarts_ = 0;
  uint64_t at_least_ = 0;
};

}  // namespace ekv::dynamo
