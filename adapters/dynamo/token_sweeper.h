// TokenSweeper: deletes TransactWriteItems idempotency records (transaction_token.h) once
// their 10-minute window is over, so tokens do not pile up for ever. Each pass reads at
// most `records_per_pass` records, in key order from where the last pass stopped, at one
// snapshot timestamp, and deletes the expired ones in transactions started at that
// timestamp of at most `deletes_per_commit` keys: a record rewritten after the snapshot
// (the token reused by a new request once free) conflicts, and is left for a later pass
// to judge again. An expired record is already ignored by TransactWriteItems, so the sweep
// changes no answer; it only frees the space.
//
// DynamoServer runs a pass every ttl_sweep_interval on its background thread
// (background_passes.h); every node sweeps, and overlapping sweeps conflict harmlessly.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/dynamo/table_store.h"

namespace ekv::dynamo {

struct TokenSweeperOptions {
  size_t records_per_pass = 1000;
  size_t deletes_per_commit = 100;
};

class TokenSweeper {
 public:
  TokenSweeper(TableStore* store, TokenSweeperOptions options) : store_(store), options_(options) {}

  // One bounded pass at wall-clock `now_seconds` (epoch seconds): returns the number of
  // records deleted, or the first store error (the next pass starts from the same place).
  Task<absl::StatusOr<size_t>> RunPass(double now_seconds);

 private:
  TableStore* store_;
  TokenSweeperOptions options_;
  std::string resume_;  // the record key the next pass starts at ("": the first)
};

}  // namespace ekv::dynamo
