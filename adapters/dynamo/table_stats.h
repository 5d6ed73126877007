// TableStats: the figures DescribeTable answers as ItemCount and TableSizeBytes (and per
// index ItemCount and IndexSizeBytes). DynamoDB documents them as approximate, refreshed
// about every six hours; ekv counts them the same way, in the background
// (table_stats_counter.h), and keeps the last complete count in one record per table
// (key_codec.h, TableStatsKey), which DescribeTable reads. A table that was never counted
// answers 0, as a new DynamoDB table does.
//
// Sizes follow DynamoDB's item size rules (attribute_value.h, ItemSize): an index's size is
// that of the entries it stores, i.e. the items as it projects them.
//
// This file is the pure part: the record's encoding, when a count is due, and the
// arithmetic of a count in progress. No I/O, no clock (times are passed in).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dynamo/attribute_value.h"
#include "adapters/dynamo/table_schema.h"

namespace ekv::dynamo {

struct KeySpaceStats {
  int64_t item_count = 0;
  int64_t size_bytes = 0;
};

struct TableStats {
  KeySpaceStats table;
  std::map<uint64_t, KeySpaceStats> indexes;  // by SecondaryIndex::id
  double computed_at = 0;                     // epoch seconds when the count finished
};

std::string EncodeTableStats(const TableStats& stats);
// DataLoss on a malformed record.
absl::StatusOr<TableStats> DecodeTableStats(absl::string_view bytes);

// Whether a node should start counting a table whose stored record is `stored` (nullopt:
// never counted) at `now_seconds`: never counted, or the record is at least
// `interval_seconds` + `delay_seconds` old. `delay_seconds` is the node's own offset, so
// the nodes of a cluster do not all start the same count at the same moment.
bool TableStatsDue(const std::optional<TableStats>& stored, double now_seconds,
                   double interval_seconds, double delay_seconds);

// One count of a table in progress: its key spaces (the table's items, then each index's
// entries) are walked in key order, a bounded batch at a time, possibly over several
// passes; the count is complete when the last space's end was reached.
class TableCount {
 public:
  // Counts `schema`'s table and its indexes that have an id (a CREATING index too: its
  // entries so far). `started_at`: epoch seconds.
  TableCount(const TableSchema& schema, double started_at);

  uint64_t table_id() const { return table_id_; }
  double started_at() const { return started_at_; }
  bool done() const { return space_ >= spaces_.size(); }
  // The key range to read next: [start, end) of the current key space. Not when done().
  std::pair<std::string, std::string> NextRange() const;
  // Adds a batch read from NextRange() in key order. `exhausted`: the read returned fewer
  // items than it asked for, so the current key space ends after this batch.
  void Add(const std::vector<std::pair<std::string, AttributeMap>>& batch, bool exhausted);
  // The figures; only once done().
  TableStats Result(double computed_at) const;

 private:
  struct Space {
    uint64_t id = 0;  // the table's or an index's id (its ItemPrefix)
    bool is_index = false;
    KeySpaceStats stats;
  };
  uint64_t table_id_ = 0;
  double started_at_ = 0;
  std::vector<Space> spaces_;
  size_t space_ = 0;
  std::string cursor_;  // where the current space continues ("": its start)
};

}  // namespace ekv::dynamo
