#include "adapters/dynamo/index_backfiller.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace ekv::dynamo {

Task<absl::StatusOr<size_t>> IndexBackfiller::RunPass() {
  bool more = false;
  absl::StatusOr<std::vector<std::string>> names =
      co_await store_->ListTables(next_table_, options_.tables_per_pass, &more);
  if (!names.ok()) co_return names.status();
  next_table_ = more && !names->empty() ? names->back() : "";
  size_t budget = options_.items_per_pass;
  size_t examined = 0;
  for (const std::string& name : *names) {
    if (budget == 0) break;
    absl::StatusOr<TableSchema> schema = co_await store_->GetTable(name);
    if (!schema.ok()) continue;  // deleted since it was listed
    const auto lacks_id = [](const SecondaryIndex& index) { return index.id == 0; };
    if (std::any_of(schema->indexes.begin(), schema->indexes.end(), lacks_id)) {
      // A metadata change with nothing to change: TableStore::UpdateTable assigns ids.
      const std::function<absl::Status(TableSchema*)> nothing = [](TableSchema*) {
        return absl::OkStatus();
      };
      schema = co_await store_->UpdateTable(name, nothing);
      if (!schema.ok()) co_return schema.status();
    }
    for (const SecondaryIndex& index : schema->indexes) {
      if (!index.backfilling || budget == 0) continue;
      absl::StatusOr<size_t> done = co_await store_->BackfillIndex(name, index.id, budget);
      if (!done.ok()) co_return done.status();
      examined += *done;
      budget -= std::min(budget, *done);
    }
  }
  co_return examined;
}

}  // namespace ekv::dynamo
