#include "adapters/dynamo/ttl_sweeper.h"

#include <algorithm>

namespace ekv::dynamo {

Task<absl::StatusOr<size_t>> TtlSweeper::RunPass(double now_seconds) {
  bool more = false;
  const bool from_first_table = next_table_.empty();
  absl::StatusOr<std::vector<std::string>> names =
      co_await store_->ListTables(next_table_, options_.tables_per_pass, &more);
  if (!names.ok()) co_return names.status();
  next_table_ = more && !names->empty() ? names->back() : "";
  size_t budget = options_.items_per_pass;
  size_t deleted = 0;
  for (const std::string& name : *names) {
    if (budget == 0) break;
    absl::StatusOr<TableSchema> schema = co_await store_->GetTable(name);
    if (!schema.ok() || schema->ttl_attribute.empty()) continue;  // deleted since, or no TTL
    const size_t share = std::max<size_t>(1, budget / names->size());
    std::string& resume = resume_at_[name];
    absl::StatusOr<std::string> next =
        co_await store_->DeleteExpiredItems(*schema, now_seconds, resume, share, &deleted);
    if (!next.ok()) co_return next.status();
    resume = *next;
    budget -= std::min(budget, share);
  }
  // When one page listed every table, forget the cursors of tables that are gone, so
  // memory stays bounded by the number of tables across table churn.
  if (from_first_table && !more) {
    std::map<std::string, std::string> kept;
    for (const std::string& name : *names) {
      if (auto it = resume_at_.find(name); it != resume_at_.end()) kept.insert(*it);
    }
    resume_at_ = std::move(kept);
  }
  co_return deleted;
}

}  // namespace ekv::dynamo
