#include "adapters/dynamo/table_store.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/item_codec.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/place_key_space.h"
#include "adapters/dynamo/secondary_index.h"
#include "adapters/dynamo/snapshot_restarts.h"

namespace ekv::dynamo {
namespace {

std::optional<std::string> EncodeOptional(const std::optional<AttributeMap>& item) {
  if (!item.has_value()) return std::nullopt;
  return EncodeItem(*item);
}

absl::StatusOr<std::optional<AttributeMap>> DecodeOptional(
    const std::optional<std::string>& bytes) {
  if (!bytes.has_value()) return std::optional<AttributeMap>();
  absl::StatusOr<AttributeMap> item = DecodeItem(*bytes);
  if (!item.ok()) return item.status();
  return std::optional<AttributeMap>(*std::move(item));
}

absl::Status TableNotFound(const std::string& name) {
  return ResourceNotFound(
      absl::StrCat("Requested resource not found: Table: ", name, " not found"));
}

}  // namespace

Task<absl::Status> TableStore::CreateTable(TableSchema* schema) {
  absl::StatusOr<uint64_t> id = co_await backend_->NewTableId();
  if (!id.ok()) co_return id.status();
  schema->id = *id;
  schema->key_layout = KeyLayout::kHashed;
  // A new table is empty: its indexes are complete (ACTIVE) from the start.
  for (SecondaryIndex& index : schema->indexes) index.backfilling = false;
  absl::Status assigned = co_await AssignIndexIds(schema);
  if (!assigned.ok()) co_return assigned;
  if (options_.place_key_spaces) {
    absl::Status placed = co_await PlaceKeySpace(backend_, schema->id);
    if (!placed.ok()) co_return placed;
  }
  schema->creation_date_time =
      options_.now_seconds
          ? options_.now_seconds()
          : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  // Absent -> present, atomically: two concurrent CreateTables of one name, on any nodes,
  // cannot both succeed.
  absl::StatusOr<DynamoBackend::CasResult> cas = co_await backend_->CompareAndSet(
      TableMetaKey(schema->name), std::nullopt, EncodeTableSchema(*schema));
  if (!cas.ok()) co_return cas.status();
  if (!cas->applied) co_return ResourceInUse(absl::StrCat("Table already exists: ", schema->name));
  co_return absl::OkStatus();
}

Task<absl::StatusOr<TableSchema>> TableStore::GetTable(const std::string& name) {
  absl::StatusOr<std::optional<std::string>> bytes = co_await backend_->Get(TableMetaKey(name));
  if (!bytes.ok()) co_return bytes.status();
  if (!bytes->has_value()) co_return TableNotFound(name);
  co_return DecodeTableSchema(**bytes);
}

Task<absl::StatusOr<std::optional<TableStats>>> TableStore::GetTableStats(uint64_t table_id) {
  absl::StatusOr<std::optional<std::string>> bytes =
      co_await backend_->Get(TableStatsKey(table_id));
  if (!bytes.ok()) co_return bytes.status();
  if (!bytes->has_value()) co_return std::optional<TableStats>();
  absl::StatusOr<TableStats> stats = DecodeTableStats(**bytes);
  if (!stats.ok()) co_return stats.status();
  co_return std::optional<TableStats>(*std::move(stats));
}

Task<absl::Status> TableStore::PutTableStats(uint64_t table_id, const TableStats& stats) {
  co_return co_await backend_->Put(TableStatsKey(table_id), EncodeTableStats(stats));
}

Task<absl::StatusOr<TableSchema>> TableStore::DeleteTable(const std::string& name) {
  const std::string meta_key = TableMetaKey(name);
  absl::StatusOr<std::optional<std::string>> bytes = co_await backend_->Get(meta_key);
  if (!bytes.ok()) co_return bytes.status();
  if (!bytes->has_value()) co_return TableNotFound(name);
  absl::StatusOr<TableSchema> schema = DecodeTableSchema(**bytes);
  if (!schema.ok()) co_return schema.status();
  // Only the table read above is deleted: a concurrent delete-and-recreate is not undone.
  absl::StatusOr<DynamoBackend::CasResult> cas =
      co_await backend_->CompareAndSet(meta_key, *bytes, std::nullopt);
  if (!cas.ok()) co_return cas.status();
  if (!cas->applied) co_return TableNotFound(name);
  // The items are unreachable from here on (nothing maps the name to this id any more);
  // removing them is cleanup, bounded so that one request cannot run unboundedly long.
  absl::Status cleaned = co_await DeletePrefix(ItemPrefix(schema->id));
  cleaned.IgnoreError();  // best effort, as the comment above says
  cleaned = co_await backend_->Delete(TableStatsKey(schema->id));
  cleaned.IgnoreError();
  for (const SecondaryIndex& index : schema->indexes) {
    if (index.id == 0) continue;
    cleaned = co_await DeletePrefix(ItemPrefix(index.id));
    cleaned.IgnoreError();
  }
  co_return schema;
}

Task<absl::Status> TableStore::DeletePrefix(const std::string& prefix) {
  const std::string end = PrefixEnd(prefix);
  size_t deleted = 0;
  std::string from = prefix;
  while (deleted < options_.max_items_deleted_with_table) {
    absl::StatusOr<DynamoBackend::KvPairs> batch =
        co_await backend_->Scan(from, end, options_.scan_batch);
    if (!batch.ok()) co_return batch.status();
    if (batch->empty()) break;
    for (const auto& [key, value] : *batch) {
      absl::Status removed = co_await backend_->Delete(key);
      if (!removed.ok()) co_return removed;
      ++deleted;
    }
    from = batch->back().first + std::string(1, '\0');
  }
  co_return absl::OkStatus();
}

Task<absl::Status> TableStore::AssignIndexIds(TableSchema* schema) {
  for (SecondaryIndex& index : schema->indexes) {
    if (index.id != 0) continue;
    absl::StatusOr<uint64_t> id = co_await backend_->NewTableId();
    if (!id.ok()) co_return id.status();
    index.id = *id;
    index.key_layout = KeyLayout::kHashed;
    if (options_.place_key_spaces) {
      absl::Status placed = co_await PlaceKeySpace(backend_, index.id);
      if (!placed.ok()) co_return placed;
    }
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<TableSchema>> TableStore::UpdateTable(
    const std::string& name, const std::function<absl::Status(TableSchema*)>& change) {
  const std::string meta_key = TableMetaKey(name);
  absl::StatusOr<std::optional<std::string>> bytes = co_await backend_->Get(meta_key);
  if (!bytes.ok()) co_return bytes.status();
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    if (!bytes->has_value()) co_return TableNotFound(name);
    absl::StatusOr<TableSchema> schema = DecodeTableSchema(**bytes);
    if (!schema.ok()) co_return schema.status();
    const TableSchema before = *schema;
    if (absl::Status s = change(&*schema); !s.ok()) co_return s;
    absl::Status assigned = co_await AssignIndexIds(&*schema);
    if (!assigned.ok()) co_return assigned;
    absl::StatusOr<DynamoBackend::CasResult> cas =
        co_await backend_->CompareAndSet(meta_key, *bytes, EncodeTableSchema(*schema));
    if (!cas.ok()) co_return cas.status();
    if (cas->applied) {
      // Entries of indexes deleted by this change are unreachable now (ids are never
      // reused); removing them is bounded cleanup, like a deleted table's items.
      for (const SecondaryIndex& old_index : before.indexes) {
        const bool kept =
            std::any_of(schema->indexes.begin(), schema->indexes.end(),
                        [&](const SecondaryIndex& i) { return i.id == old_index.id; });
        if (kept || old_index.id == 0) continue;
        // Best effort: a failure leaves unreachable keys, never a wrong answer.
        absl::Status cleaned = co_await DeletePrefix(ItemPrefix(old_index.id));
        cleaned.IgnoreError();
      }
      co_return schema;
    }
    *bytes = std::move(cas->current);
  }
  co_return absl::AbortedError("the table's metadata kept changing; try again");
}

Task<absl::StatusOr<std::vector<std::string>>> TableStore::ListTables(
    const std::string& exclusive_start, size_t limit, bool* more) {
  const std::string prefix = TableMetaPrefix();
  const std::string start = exclusive_start.empty()
                                ? prefix
                                : absl::StrCat(prefix, exclusive_start, std::string(1, '\0'));
  absl::StatusOr<DynamoBackend::KvPairs> pairs =
      co_await backend_->Scan(start, PrefixEnd(prefix), limit + 1);
  if (!pairs.ok()) co_return pairs.status();
  std::vector<std::string> names;
  for (const auto& [key, value] : *pairs) {
    if (names.size() == limit) break;
    names.push_back(key.substr(prefix.size()));
  }
  *more = pairs->size() > limit;
  co_return names;
}

Task<absl::StatusOr<std::optional<AttributeMap>>> TableStore::GetItem(const std::string& item_key) {
  absl::StatusOr<std::optional<std::string>> bytes = co_await backend_->Get(item_key);
  if (!bytes.ok()) co_return bytes.status();
  co_return DecodeOptional(*bytes);
}

Task<absl::StatusOr<TableStore::ItemChange>> TableStore::ModifyItem(const TableSchema& schema,
                                                                    const std::string& item_key,
                                                                    const Modify& modify,
                                                                    bool assume_absent) {
  absl::StatusOr<ItemChange> change = absl::InternalError("unset");
  if (schema.indexes.empty()) {
    change = co_await CompareAndSetItem(item_key, modify, assume_absent);
  } else {
    change = co_await ModifyIndexedItem(schema, item_key, modify);
  }
  if (!change.ok()) co_return change;
  if (change->old_item.has_value() || change->new_item.has_value()) {
    const std::vector<std::pair<std::string, std::optional<AttributeMap>>> written = {
        {item_key, change->old_item}};
    absl::Status repaired = co_await RepairNewIndexes(schema, written);
    if (!repaired.ok()) co_return repaired;
  }
  co_return change;
}

Task<absl::StatusOr<TableStore::ItemChange>> TableStore::ModifyIndexedItem(
    const TableSchema& schema, const std::string& item_key, const Modify& modify) {
  // A ReadRestart (the snapshot could not place a recent write) decides again above it; the
  // attempts bound those restarts too.
  SnapshotRestarts restarts(options_.max_write_attempts);
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    absl::StatusOr<uint64_t> ts = co_await SnapshotTimestamp(restarts.at_least());
    if (!ts.ok()) co_return ts.status();
    absl::StatusOr<std::optional<AttributeMap>> current = co_await GetItemAt(item_key, *ts);
    if (restarts.Retry(current.status())) continue;
    if (!current.ok()) co_return current.status();
    absl::StatusOr<std::optional<AttributeMap>> next = modify(*current);
    if (!next.ok()) co_return next.status();
    if (!current->has_value() && !next->has_value())
      co_return ItemChange{std::nullopt, std::nullopt};
    std::vector<TxnWrite> writes = {{item_key, *next, std::nullopt}};
    if (absl::Status s = AddIndexWrites(schema, item_key, *current, *next, &writes); !s.ok()) {
      co_return s;
    }
    absl::StatusOr<DynamoBackend::CommitResult> commit = co_await Commit(writes, *ts);
    if (!commit.ok()) co_return commit.status();
    if (commit->committed) co_return ItemChange{*std::move(current), *std::move(next)};
    // Another write got to the item (or one of its entries) after the snapshot: decide again.
  }
  co_return absl::AbortedError(absl::StrCat("the item kept changing under ",
                                            options_.max_write_attempts,
                                            " transactional write attempts; try again"));
}

Task<absl::StatusOr<TableStore::ItemChange>> TableStore::CompareAndSetItem(
    const std::string& item_key, const Modify& modify, bool assume_absent) {
  std::optional<std::string> current_bytes;
  if (!assume_absent) {
    absl::StatusOr<std::optional<std::string>> read = co_await backend_->Get(item_key);
    if (!read.ok()) co_return read.status();
    current_bytes = *std::move(read);
  }
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    absl::StatusOr<std::optional<AttributeMap>> current = DecodeOptional(current_bytes);
    if (!current.ok()) co_return current.status();
    absl::StatusOr<std::optional<AttributeMap>> next = modify(*current);
    if (!next.ok()) {
      // A refusal decided on a guess is no refusal: read the real value and decide again.
      if (assume_absent && attempt == 0) {
        absl::StatusOr<std::optional<std::string>> read = co_await backend_->Get(item_key);
        if (!read.ok()) co_return read.status();
        if (read->has_value()) {
          current_bytes = *std::move(read);
          continue;
        }
      }
      co_return next.status();
    }
    std::optional<std::string> next_bytes = EncodeOptional(*next);
    if (!next_bytes.has_value() && !current_bytes.has_value()) {
      // Deleting an absent item: nothing to write. Still decided on a value read
      // linearizably (unless guessed, which then is confirmed by a read).
      if (assume_absent && attempt == 0) {
        absl::StatusOr<std::optional<std::string>> read = co_await backend_->Get(item_key);
        if (!read.ok()) co_return read.status();
        if (read->has_value()) {
          current_bytes = *std::move(read);
          continue;
        }
      }
      co_return ItemChange{std::nullopt, std::nullopt};
    }
    absl::StatusOr<DynamoBackend::CasResult> cas =
        co_await backend_->CompareAndSet(item_key, current_bytes, next_bytes);
    if (!cas.ok()) co_return cas.status();
    if (cas->applied) co_return ItemChange{*std::move(current), *std::move(next)};
    current_bytes = std::move(cas->current);  // lost a race: decide again on what is there
  }
  co_return absl::AbortedError(absl::StrCat("the item kept changing under ",
                                            options_.max_write_attempts,
                                            " conditional write attempts; try again"));
}

Task<absl::Status> TableStore::PutItem(const TableSchema& schema, const std::string& item_key,
                                       const AttributeMap& item) {
  const Modify replace =
      [&](const std::optional<AttributeMap>&) -> absl::StatusOr<std::optional<AttributeMap>> {
    return std::optional<AttributeMap>(item);
  };
  absl::StatusOr<ItemChange> change =
      co_await ModifyItem(schema, item_key, replace, /*assume_absent=*/true);
  co_return change.status();
}

namespace {

// Five (Gregorian) years in seconds, as std::chrono::years counts them.
constexpr double kTtlIgnoredAgeSeconds = 5 * 365.2425 * 86400;

// DynamoDB's rule: the TTL attribute must be a Number of epoch seconds; any other type, or
// an absent attribute, never expires, and neither does a value more than five years in the
// past (DynamoDB ignores those as not meant to be epoch seconds, e.g. a birth date or a
// day count; ScyllaDB's Alternator tests check this).
bool Expired(const AttributeMap& item, const std::string& ttl_attribute, double now_seconds) {
  auto it = item.find(ttl_attribute);
  if (it == item.end() || it->second.type != AttributeType::kN) return false;
  char* end = nullptr;
  const double expiry = std::strtod(it->second.scalar.c_str(), &end);
  return end != it->second.scalar.c_str() && expiry <= now_seconds &&
         expiry > now_seconds - kTtlIgnoredAgeSeconds;
}

}  // namespace

Task<absl::StatusOr<std::string>> TableStore::DeleteExpiredItems(const TableSchema& schema,
                                                                 double now_seconds,
                                                                 const std::string& start_key,
                                                                 size_t max_items,
                                                                 size_t* deleted) {
  if (schema.ttl_attribute.empty()) co_return std::string();
  const std::string prefix = ItemPrefix(schema.id);
  const std::string from = start_key.empty() ? prefix : start_key;
  absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>> items =
      co_await ScanItems(from, PrefixEnd(prefix), max_items);
  if (!items.ok()) co_return items.status();
  for (const auto& [key, item] : *items) {
    if (!Expired(item, schema.ttl_attribute, now_seconds)) continue;
    bool removed = false;
    absl::StatusOr<ItemChange> change = co_await ModifyItem(
        schema, key,
        [&](const std::optional<AttributeMap>& current)
            -> absl::StatusOr<std::optional<AttributeMap>> {
          removed = current.has_value() && Expired(*current, schema.ttl_attribute, now_seconds);
          if (!removed) return current;  // changed since the scan: keep it as it is now
          return std::optional<AttributeMap>();
        });
    if (!change.ok()) co_return change.status();
    if (removed) ++*deleted;
  }
  if (items->size() < max_items) co_return std::string();
  co_return items->back().first + std::string(1, '\0');
}

Task<absl::Status> TableStore::DeleteItem(const TableSchema& schema, const std::string& item_key) {
  const Modify remove =
      [](const std::optional<AttributeMap>&) -> absl::StatusOr<std::optional<AttributeMap>> {
    return std::nullopt;
  };
  absl::StatusOr<ItemChange> change = co_await ModifyItem(schema, item_key, remove);
  co_return change.status();
}

Task<absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>>> TableStore::ScanItems(
    const std::string& start, const std::string& end, size_t limit, uint64_t ts, bool reverse) {
  std::vector<std::pair<std::string, AttributeMap>> items;
  if (limit == 0 || (!end.empty() && end <= start)) co_return items;
  if (reverse && ts == 0) {
    co_return absl::InvalidArgumentError("a descending scan reads at a snapshot timestamp");
  }
  std::string from = start;
  std::string to = end;  // a descending scan moves this down instead
  while (items.size() < limit) {
    const size_t want = std::min(limit - items.size(), options_.scan_batch);
    absl::StatusOr<DynamoBackend::KvPairs> batch = absl::InternalError("unset");
    if (ts == 0) {
      batch = co_await backend_->Scan(from, end, want);
    } else {
      batch = co_await backend_->SnapshotScan(from, to, want, ts, reverse);
    }
    if (!batch.ok()) co_return batch.status();
    for (auto& [key, bytes] : *batch) {
      absl::StatusOr<AttributeMap> item = DecodeItem(bytes);
      if (!item.ok()) co_return item.status();
      items.emplace_back(key, *std::move(item));
    }
    if (batch->size() < want) break;
    if (reverse) {
      to = items.back().first;  // exclusive: the next batch answers the keys below it
      if (to <= start) break;
    } else {
      from = items.back().first + std::string(1, '\0');
      if (!end.empty() && end <= from) break;
    }
  }
  co_return items;
}

Task<absl::StatusOr<uint64_t>> TableStore::SnapshotTimestamp(uint64_t at_least) {
  co_return co_await backend_->ReadTimestamp(at_least);
}

Task<absl::StatusOr<std::optional<AttributeMap>>> TableStore::GetItemAt(const std::string& item_key,
                                                                        uint64_t ts) {
  absl::StatusOr<std::optional<std::string>> bytes = co_await backend_->SnapshotGet(item_key, ts);
  if (!bytes.ok()) co_return bytes.status();
  co_return DecodeOptional(*bytes);
}

Task<absl::StatusOr<std::optional<std::string>>> TableStore::GetRecordAt(const std::string& key,
                                                                         uint64_t ts) {
  co_return co_await backend_->SnapshotGet(key, ts);
}

Task<absl::StatusOr<DynamoBackend::KvPairs>> TableStore::ScanRecordsAt(const std::string& start,
                                                                       const std::string& end,
                                                                       size_t limit, uint64_t ts) {
  co_return co_await backend_->SnapshotScan(start, end, limit, ts, /*reverse=*/false);
}

Task<absl::StatusOr<DynamoBackend::CommitResult>> TableStore::Commit(
    const std::vector<TxnWrite>& writes, uint64_t start_ts) {
  std::vector<DynamoBackend::TxnWrite> encoded;
  encoded.reserve(writes.size());
  for (const TxnWrite& write : writes) {
    if (write.record.has_value()) {
      encoded.emplace_back(write.key, *write.record);
    } else {
      encoded.emplace_back(write.key, EncodeOptional(write.item));
    }
  }
  co_return co_await backend_->CommitTransaction(encoded, start_ts);
}

absl::Status TableStore::AddIndexWrites(const TableSchema& schema, const std::string& item_key,
                                        const std::optional<AttributeMap>& old_item,
                                        const std::optional<AttributeMap>& new_item,
                                        std::vector<TxnWrite>* writes) {
  if (schema.indexes.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<IndexEntryWrite>> entries =
      IndexWrites(schema, item_key, old_item, new_item, IndexKeyCheck::kRefuse);
  if (!entries.ok()) return entries.status();
  for (IndexEntryWrite& entry : *entries) {
    // Planted (simulator only): an item that stays keeps its old index key's entry too.
    if (options_.planted_index_keeps_old_entry && new_item.has_value() &&
        !entry.entry.has_value()) {
      continue;
    }
    writes->push_back({std::move(entry.key), std::move(entry.entry), std::nullopt});
  }
  return absl::OkStatus();
}

Task<absl::Status> TableStore::RepairNewIndexes(
    const TableSchema& schema,
    const std::vector<std::pair<std::string, std::optional<AttributeMap>>>& written) {
  absl::StatusOr<TableSchema> latest = co_await GetTable(schema.name);
  if (!latest.ok()) {
    // A table deleted since: its items and entries are unreachable.
    if (ErrorName(latest.status()) == "ResourceNotFoundException") co_return absl::OkStatus();
    co_return latest.status();
  }
  if (latest->id != schema.id) co_return absl::OkStatus();
  TableSchema unknown = *latest;
  std::erase_if(unknown.indexes, [&](const SecondaryIndex& index) {
    return index.id == 0 ||
           std::any_of(schema.indexes.begin(), schema.indexes.end(),
                       [&](const SecondaryIndex& known) { return known.id == index.id; });
  });
  if (unknown.indexes.empty()) co_return absl::OkStatus();
  for (const auto& [key, old_item] : written) {
    bool settled = false;
    SnapshotRestarts restarts(options_.max_write_attempts);
    for (int attempt = 0; attempt < options_.max_write_attempts && !settled; ++attempt) {
      absl::StatusOr<uint64_t> ts = co_await SnapshotTimestamp(restarts.at_least());
      if (!ts.ok()) co_return ts.status();
      absl::StatusOr<std::optional<AttributeMap>> current = co_await GetItemAt(key, *ts);
      if (restarts.Retry(current.status())) continue;
      if (!current.ok()) co_return current.status();
      if (!current->has_value() && !old_item.has_value()) {
        settled = true;  // no entry before, none now
        break;
      }
      // The item written back unchanged: a write to it after the snapshot makes this retry.
      std::vector<TxnWrite> writes = {{key, *current, std::nullopt}};
      absl::StatusOr<std::vector<IndexEntryWrite>> entries =
          IndexWrites(unknown, key, old_item, *current, IndexKeyCheck::kSkip,
                      /*rewrite_unchanged=*/true);
      if (!entries.ok()) co_return entries.status();
      for (IndexEntryWrite& entry : *entries) {
        writes.push_back({std::move(entry.key), std::move(entry.entry), std::nullopt});
      }
      absl::StatusOr<DynamoBackend::CommitResult> commit = co_await Commit(writes, *ts);
      if (!commit.ok()) co_return commit.status();
      settled = commit->committed;
    }
    if (!settled) {
      co_return absl::AbortedError("the item kept changing while its new index was repaired");
    }
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<size_t>> TableStore::BackfillIndex(const std::string& table_name,
                                                       uint64_t index_id, size_t max_items) {
  absl::StatusOr<TableSchema> schema = co_await GetTable(table_name);
  if (!schema.ok()) {
    if (ErrorName(schema.status()) == "ResourceNotFoundException") co_return 0;
    co_return schema.status();
  }
  auto it = std::find_if(schema->indexes.begin(), schema->indexes.end(),
                         [&](const SecondaryIndex& index) { return index.id == index_id; });
  if (index_id == 0 || it == schema->indexes.end() || !it->backfilling) co_return 0;
  TableSchema only = *schema;
  only.indexes = {*it};
  const std::string prefix = ItemPrefix(schema->id);
  const std::string end = PrefixEnd(prefix);
  std::string from = it->backfill_cursor.empty() ? prefix : it->backfill_cursor;
  size_t examined = 0;
  while (examined < max_items) {
    const size_t want = std::min(options_.backfill_batch, max_items - examined);
    absl::StatusOr<DynamoBackend::KvPairs> keys = co_await backend_->Scan(from, end, want);
    if (!keys.ok()) co_return keys.status();
    absl::StatusOr<uint64_t> ts = co_await SnapshotTimestamp();
    if (!ts.ok()) co_return ts.status();
    std::vector<TxnWrite> writes;
    for (const auto& [key, unused_bytes] : *keys) {
      // The snapshot's value, not the scan's: the commit below is checked against writes
      // after the snapshot, so the entry written is the item's value at commit.
      absl::StatusOr<std::optional<AttributeMap>> item = co_await GetItemAt(key, *ts);
      if (!item.ok()) co_return item.status();
      if (!item->has_value()) continue;  // deleted since the scan
      writes.push_back({key, *item, std::nullopt});
      absl::StatusOr<std::vector<IndexEntryWrite>> entries =
          IndexWrites(only, key, std::nullopt, *item, IndexKeyCheck::kSkip);
      if (!entries.ok()) co_return entries.status();
      for (IndexEntryWrite& entry : *entries) {
        writes.push_back({std::move(entry.key), std::move(entry.entry), std::nullopt});
      }
    }
    if (!writes.empty()) {
      absl::StatusOr<DynamoBackend::CommitResult> commit = co_await Commit(writes, *ts);
      if (!commit.ok()) co_return commit.status();
      if (!commit->committed) co_return examined;  // a write raced this batch: next pass
    }
    examined += keys->size();
    const bool done = keys->size() < want;
    const std::string next = done ? std::string() : keys->back().first + std::string(1, '\0');
    const std::function<absl::Status(TableSchema*)> advance = [&](TableSchema* current) {
      for (SecondaryIndex& index : current->indexes) {
        if (index.id != index_id || !index.backfilling) continue;
        if (done) {
          index.backfilling = false;
          index.backfill_cursor.clear();
        } else if (index.backfill_cursor < next) {
          index.backfill_cursor = next;  // another node may be ahead: never move back
        }
      }
      return absl::OkStatus();
    };
    absl::StatusOr<TableSchema> updated = co_await UpdateTable(table_name, advance);
    if (!updated.ok()) co_return updated.status();
    if (done) break;
    from = next;
  }
  co_return examined;
}

}  // namespace ekv::dynamo
