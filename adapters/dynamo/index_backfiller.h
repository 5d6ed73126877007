// IndexBackfiller: copies a table's existing items into a global secondary index created by
// UpdateTable. Each pass walks the tables, gives an id to indexes that lack one, and runs
// TableStore::BackfillIndex on every index still CREATING, examining at most
// `items_per_pass` items in all. Progress is a cursor in the table's metadata record, so a
// backfill survives restarts and moves between nodes; every node runs passes, and the
// transactions of overlapping passes conflict instead of corrupting anything. The index
// turns ACTIVE (DescribeTable) when its cursor reaches the table's end.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/dynamo/table_store.h"

namespace ekv::dynamo {

struct IndexBackfillerOptions {
  size_t items_per_pass = 2000;
  size_t tables_per_pass = 100;
};

class IndexBackfiller {
 public:
  IndexBackfiller(TableStore* store, IndexBackfillerOptions options)
      : store_(store), options_(options) {}

  // One bounded pass. Returns the number of items examined, or the first store error (the
  // next pass continues from the stored cursor).
  Task<absl::StatusOr<size_t>> RunPass();

 private:
  TableStore* store_;
  IndexBackfillerOptions options_;
  std::string next_table_;  // where the table walk continues
};

}  // namespace ekv::dynamo
