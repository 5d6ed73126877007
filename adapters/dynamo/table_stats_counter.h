// TableStatsCounter: the background count behind DescribeTable's ItemCount and
// TableSizeBytes (table_stats.h). Each pass walks the tables; a table whose record is
// older than `interval_seconds` (or absent) is counted -- its items and each index's
// entries read in key order through the ordinary read path (TableStore::ScanItems) at a
// snapshot timestamp drawn for the pass, at most `items_per_pass` items per pass in all --
// and when its count is complete the record is written. A big table is counted over
// several passes, each at its own snapshot, so the figure is approximate as DynamoDB's is;
// it is at most interval + (counting time) + `delay_seconds` old.
//
// DynamoServer runs a pass every ttl_sweep_interval on its background thread; every node
// runs the counter, and a node whose count finished after another node's newer one drops
// its own. Counts in progress live in memory: a restart begins them again.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/dynamo/table_stats.h"
#include "adapters/dynamo/table_store.h"

namespace ekv::dynamo {

struct TableStatsOptions {
  // How old a table's figures may get before a node counts it again (DynamoDB: about six
  // hours). ekv-server: --dynamo_table_stats_interval_s.
  double interval_seconds = 6 * 3600;
  // This node's extra wait past the interval (the server draws it per node).
  double delay_seconds = 0;
  // Items (and index entries) read per pass, over all tables.
  size_t items_per_pass = 5000;
  size_t tables_per_pass = 100;
};

class TableStatsCounter {
 public:
  TableStatsCounter(TableStore* store, TableStatsOptions options)
      : store_(store), options_(options) {}

  // One bounded pass at wall-clock `now_seconds`. Returns the number of items read, or the
  // first store error (the next pass goes on from where this one stopped).
  Task<absl::StatusOr<size_t>> RunPass(double now_seconds);

 private:
  // Counts `name` with up to *budget items; writes its record when the count completes.
  Task<absl::Status> CountTable(const std::string& name, double now_seconds, size_t* budget);

  TableStore* store_;
  TableStatsOptions options_;
  std::string next_table_;                       // the table walk continues after this one
  std::map<std::string, TableCount> counts_;     // counts in progress, by table name
  std::map<std::string, double> not_due_until_;  // tables known to be fresh until then
};

}  // namespace ekv::dynamo
