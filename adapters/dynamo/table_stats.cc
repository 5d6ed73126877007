#include "adapters/dynamo/table_stats.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/key_codec.h"
#include "core/util/assert.h"

namespace ekv::dynamo {

using nlohmann::json;

std::string EncodeTableStats(const TableStats& stats) {
  json indexes = json::object();
  for (const auto& [id, space] : stats.indexes) {
    indexes[absl::StrCat(id)] = {space.item_count, space.size_bytes};
  }
  json record = {{"items", stats.table.item_count},
                 {"bytes", stats.table.size_bytes},
                 {"indexes", std::move(indexes)},
                 {"at", stats.computed_at}};
  return record.dump();
}

absl::StatusOr<TableStats> DecodeTableStats(absl::string_view bytes) {
  TableStats stats;
  try {
    const json record = json::parse(bytes);
    stats.table.item_count = record.at("items").get<int64_t>();
    stats.table.size_bytes = record.at("bytes").get<int64_t>();
    stats.computed_at = record.at("at").get<double>();
    for (const auto& [id_text, pair] : record.at("indexes").items()) {
      uint64_t id = 0;
      if (!absl::SimpleAtoi(id_text, &id) || !pair.is_array() || pair.size() != 2) {
        return absl::DataLossError(
            absl::StrCat("stored DynamoDB table stats: bad index ", id_text));
      }
      stats.indexes[id] = {pair[0].get<int64_t>(), pair[1].get<int64_t>()};
    }
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrCat("stored DynamoDB table stats: ", e.what()));
  }
  return stats;
}

bool TableStatsDue(const std::optional<TableStats>& stored, double now_seconds,
                   double interval_seconds, double delay_seconds) {
  if (!stored.has_value()) return true;
  return now_seconds - stored->computed_at >= interval_seconds + delay_seconds;
}

TableCount::TableCount(const TableSchema& schema, double started_at)
    : table_id_(schema.id), started_at_(started_at) {
  EKV_ASSERT(schema.id != 0, "a table is counted once it has an id");
  spaces_.push_back({schema.id, false, {}});
  for (const SecondaryIndex& index : schema.indexes) {
    if (index.id != 0) spaces_.push_back({index.id, true, {}});
  }
}

std::pair<std::string, std::string> TableCount::NextRange() const {
  EKV_ASSERT(!done(), "no range to read after the count is done");
  const std::string prefix = ItemPrefix(spaces_[space_].id);
  return {cursor_.empty() ? prefix : cursor_, PrefixEnd(prefix)};
}

void TableCount::Add(const std::vector<std::pair<std::string, AttributeMap>>& batch,
                     bool exhausted) {
  EKV_ASSERT(!done(), "a batch added after the count is done");
  Space& space = spaces_[space_];
  const auto [start, end] = NextRange();
  for (const auto& [key, item] : batch) {
    EKV_ASSERT(key >= start && key < end, "a counted key outside the range read");
    ++space.stats.item_count;
    space.stats.size_bytes += static_cast<int64_t>(ItemSize(item));
  }
  if (exhausted) {
    ++space_;
    cursor_.clear();
  } else if (!batch.empty()) {
    cursor_ = batch.back().first + std::string(1, '\0');
  }
}

TableStats TableCount::Result(double computed_at) const {
  EKV_ASSERT(done(), "a table's figures are read once its count is done");
  TableStats stats;
  stats.computed_at = computed_at;
  for (const Space& space : spaces_) {
    if (space.is_index) {
      stats.indexes[space.id] = space.stats;
    } else {
      stats.table = space.stats;
    }
  }
  return stats;
}

}  // namespace ekv::dynamo
