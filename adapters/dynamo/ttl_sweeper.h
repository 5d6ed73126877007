// TtlSweeper: the background half of DynamoDB's Time to Live. Each pass walks the tables
// with TTL enabled and deletes expired items (TableStore::DeleteExpiredItems), examining
// at most `items_per_pass` items in all, and remembers where it stopped in each table so
// the next pass continues there: a big table is swept over several passes, never in one
// unbounded request. DynamoServer runs a pass every `interval` on its own thread; every
// node sweeps, and the conditional deletes make overlapping sweeps harmless.
//
// As in DynamoDB, an expired item stays readable until a pass deletes it (DynamoDB: within
// days; ekv: within a few intervals). Readers that must not see expired items filter on
// the TTL attribute, as DynamoDB's documentation advises.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "adapters/dynamo/table_store.h"

namespace ekv::dynamo {

struct TtlSweeperOptions {
  size_t items_per_pass = 2000;
  size_t tables_per_pass = 100;
};

class TtlSweeper {
 public:
  TtlSweeper(TableStore* store, TtlSweeperOptions options) : store_(store), options_(options) {}

  // One bounded pass at wall-clock time `now_seconds` (epoch seconds). Returns the number
  // of items deleted, or the first store error (the next pass retries from the same place).
  Task<absl::StatusOr<size_t>> RunPass(double now_seconds);

 private:
  TableStore* store_;
  TtlSweeperOptions options_;
  std::string next_table_;                        // where the table walk continues
  std::map<std::string, std::string> resume_at_;  // table -> item key to continue from
};

}  // namespace ekv::dynamo
