#include "adapters/dynamo/table_stats_counter.h"

#include <algorithm>

#include "adapters/dynamo/errors.h"

namespace ekv::dynamo {

Task<absl::StatusOr<size_t>> TableStatsCounter::RunPass(double now_seconds) {
  bool more = false;
  const bool from_first_table = next_table_.empty();
  absl::StatusOr<std::vector<std::string>> names =
      co_await store_->ListTables(next_table_, options_.tables_per_pass, &more);
  if (!names.ok()) co_return names.status();
  const size_t budget_at_start = options_.items_per_pass;
  size_t budget = budget_at_start;
  for (const std::string& name : *names) {
    if (absl::Status s = co_await CountTable(name, now_seconds, &budget); !s.ok()) co_return s;
    if (budget == 0) co_return budget_at_start;  // this table continues next pass
    next_table_ = name;
  }
  if (!more) {
    next_table_.clear();
    if (from_first_table) {
      // Every table was listed: forget what is kept of tables that are gone, so memory
      // stays bounded by the number of tables across table churn.
      std::map<std::string, TableCount> counts;
      std::map<std::string, double> fresh;
      for (const std::string& name : *names) {
        if (auto it = counts_.find(name); it != counts_.end()) counts.insert(*it);
        if (auto it = not_due_until_.find(name); it != not_due_until_.end()) fresh.insert(*it);
      }
      counts_ = std::move(counts);
      not_due_until_ = std::move(fresh);
    }
  }
  co_return budget_at_start - budget;
}

Task<absl::Status> TableStatsCounter::CountTable(const std::string& name, double now_seconds,
                                                 size_t* budget) {
  if (auto it = not_due_until_.find(name); it != not_due_until_.end() && now_seconds < it->second) {
    co_return absl::OkStatus();
  }
  absl::StatusOr<TableSchema> schema = co_await store_->GetTable(name);
  if (!schema.ok()) {
    counts_.erase(name);
    // Deleted since it was listed: nothing to count.
    co_return ErrorName(schema.status()) == "ResourceNotFoundException" ? absl::OkStatus()
                                                                        : schema.status();
  }
  auto count = counts_.find(name);
  if (count != counts_.end() && count->second.table_id() != schema->id) {
    counts_.erase(count);  // the table was deleted and created again under its name
    count = counts_.end();
  }
  if (count == counts_.end()) {
    absl::StatusOr<std::optional<TableStats>> stored = co_await store_->GetTableStats(schema->id);
    if (!stored.ok()) co_return stored.status();
    if (!TableStatsDue(*stored, now_seconds, options_.interval_seconds, options_.delay_seconds)) {
      not_due_until_[name] =
          (*stored)->computed_at + options_.interval_seconds + options_.delay_seconds;
      co_return absl::OkStatus();
    }
    count = counts_.emplace(name, TableCount(*schema, now_seconds)).first;
  }
  TableCount& counting = count->second;
  uint64_t ts = 0;
  while (!counting.done() && *budget > 0) {
    if (ts == 0) {
      absl::StatusOr<uint64_t> snapshot = co_await store_->SnapshotTimestamp();
      if (!snapshot.ok()) co_return snapshot.status();
      ts = *snapshot;
    }
    const auto [start, end] = counting.NextRange();
    const size_t want = *budget;
    absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>> batch =
        co_await store_->ScanItems(start, end, want, ts);
    if (!batch.ok()) co_return batch.status();
    counting.Add(*batch, batch->size() < want);
    *budget -= batch->size();
  }
  if (!counting.done()) co_return absl::OkStatus();
  // Another node may have finished a count that started after this one: keep the newer.
  absl::StatusOr<std::optional<TableStats>> stored = co_await store_->GetTableStats(schema->id);
  if (!stored.ok()) co_return stored.status();
  const TableStats result = counting.Result(now_seconds);
  const double started_at = counting.started_at();
  counts_.erase(count);
  if (stored->has_value() && (*stored)->computed_at >= started_at) {
    not_due_until_[name] =
        (*stored)->computed_at + options_.interval_seconds + options_.delay_seconds;
    co_return absl::OkStatus();
  }
  if (absl::Status s = co_await store_->PutTableStats(schema->id, result); !s.ok()) co_return s;
  not_due_until_[name] = now_seconds + options_.interval_seconds + options_.delay_seconds;
  co_return absl::OkStatus();
}

}  // namespace ekv::dynamo
