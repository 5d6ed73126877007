#include "adapters/dynamo/table_store.h"

#include <chrono>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/item_codec.h"
#include "adapters/dynamo/key_codec.h"

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

absl::Status TableStore::CreateTable(TableSchema* schema) {
  absl::StatusOr<uint64_t> id = backend_->NewTableId();
  if (!id.ok()) return id.status();
  schema->id = *id;
  schema->creation_date_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Absent -> present, atomically: two concurrent CreateTables of one name, on any nodes,
  // cannot both succeed.
  absl::StatusOr<DynamoBackend::CasResult> cas =
      backend_->CompareAndSet(TableMetaKey(schema->name), std::nullopt, EncodeTableSchema(*schema));
  if (!cas.ok()) return cas.status();
  if (!cas->applied) return ResourceInUse(absl::StrCat("Table already exists: ", schema->name));
  return absl::OkStatus();
}

absl::StatusOr<TableSchema> TableStore::GetTable(const std::string& name) {
  absl::StatusOr<std::optional<std::string>> bytes = backend_->Get(TableMetaKey(name));
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return TableNotFound(name);
  return DecodeTableSchema(**bytes);
}

absl::StatusOr<TableSchema> TableStore::DeleteTable(const std::string& name) {
  const std::string meta_key = TableMetaKey(name);
  absl::StatusOr<std::optional<std::string>> bytes = backend_->Get(meta_key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return TableNotFound(name);
  absl::StatusOr<TableSchema> schema = DecodeTableSchema(**bytes);
  if (!schema.ok()) return schema.status();
  // Only the table read above is deleted: a concurrent delete-and-recreate is not undone.
  absl::StatusOr<DynamoBackend::CasResult> cas =
      backend_->CompareAndSet(meta_key, *bytes, std::nullopt);
  if (!cas.ok()) return cas.status();
  if (!cas->applied) return TableNotFound(name);
  // The items are unreachable from here on (nothing maps the name to this id any more);
  // removing them is cleanup, bounded so that one request cannot run unboundedly long.
  const std::string prefix = ItemPrefix(schema->id);
  const std::string end = PrefixEnd(prefix);
  size_t deleted = 0;
  std::string from = prefix;
  while (deleted < options_.max_items_deleted_with_table) {
    absl::StatusOr<DynamoBackend::KvPairs> batch = backend_->Scan(from, end, options_.scan_batch);
    if (!batch.ok() || batch->empty()) break;
    for (const auto& [key, value] : *batch) {
      if (!backend_->Delete(key).ok()) break;
      ++deleted;
    }
    from = batch->back().first + std::string(1, '\0');
  }
  return schema;
}

absl::StatusOr<TableSchema> TableStore::UpdateTable(
    const std::string& name, const std::function<absl::Status(TableSchema*)>& change) {
  const std::string meta_key = TableMetaKey(name);
  absl::StatusOr<std::optional<std::string>> bytes = backend_->Get(meta_key);
  if (!bytes.ok()) return bytes.status();
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    if (!bytes->has_value()) return TableNotFound(name);
    absl::StatusOr<TableSchema> schema = DecodeTableSchema(**bytes);
    if (!schema.ok()) return schema.status();
    if (absl::Status s = change(&*schema); !s.ok()) return s;
    absl::StatusOr<DynamoBackend::CasResult> cas =
        backend_->CompareAndSet(meta_key, *bytes, EncodeTableSchema(*schema));
    if (!cas.ok()) return cas.status();
    if (cas->applied) return schema;
    *bytes = std::move(cas->current);
  }
  return absl::AbortedError("the table's metadata kept changing; try again");
}

absl::StatusOr<std::vector<std::string>> TableStore::ListTables(const std::string& exclusive_start,
                                                                size_t limit, bool* more) {
  const std::string prefix = TableMetaPrefix();
  const std::string start = exclusive_start.empty()
                                ? prefix
                                : absl::StrCat(prefix, exclusive_start, std::string(1, '\0'));
  absl::StatusOr<DynamoBackend::KvPairs> pairs =
      backend_->Scan(start, PrefixEnd(prefix), limit + 1);
  if (!pairs.ok()) return pairs.status();
  std::vector<std::string> names;
  for (const auto& [key, value] : *pairs) {
    if (names.size() == limit) break;
    names.push_back(key.substr(prefix.size()));
  }
  *more = pairs->size() > limit;
  return names;
}

absl::StatusOr<std::optional<AttributeMap>> TableStore::GetItem(const std::string& item_key) {
  absl::StatusOr<std::optional<std::string>> bytes = backend_->Get(item_key);
  if (!bytes.ok()) return bytes.status();
  return DecodeOptional(*bytes);
}

absl::StatusOr<TableStore::ItemChange> TableStore::ModifyItem(const std::string& item_key,
                                                              const Modify& modify,
                                                              bool assume_absent) {
  std::optional<std::string> current_bytes;
  if (!assume_absent) {
    absl::StatusOr<std::optional<std::string>> read = backend_->Get(item_key);
    if (!read.ok()) return read.status();
    current_bytes = *std::move(read);
  }
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    absl::StatusOr<std::optional<AttributeMap>> current = DecodeOptional(current_bytes);
    if (!current.ok()) return current.status();
    absl::StatusOr<std::optional<AttributeMap>> next = modify(*current);
    if (!next.ok()) {
      // A refusal decided on a guess is no refusal: read the real value and decide again.
      if (assume_absent && attempt == 0) {
        absl::StatusOr<std::optional<std::string>> read = backend_->Get(item_key);
        if (!read.ok()) return read.status();
        if (read->has_value()) {
          current_bytes = *std::move(read);
          continue;
        }
      }
      return next.status();
    }
    std::optional<std::string> next_bytes = EncodeOptional(*next);
    if (!next_bytes.has_value() && !current_bytes.has_value()) {
      // Deleting an absent item: nothing to write. Still decided on a value read
      // linearizably (unless guessed, which then is confirmed by a read).
      if (assume_absent && attempt == 0) {
        absl::StatusOr<std::optional<std::string>> read = backend_->Get(item_key);
        if (!read.ok()) return read.status();
        if (read->has_value()) {
          current_bytes = *std::move(read);
          continue;
        }
      }
      return ItemChange{std::nullopt, std::nullopt};
    }
    absl::StatusOr<DynamoBackend::CasResult> cas =
        backend_->CompareAndSet(item_key, current_bytes, next_bytes);
    if (!cas.ok()) return cas.status();
    if (cas->applied) return ItemChange{*std::move(current), *std::move(next)};
    current_bytes = std::move(cas->current);  // lost a race: decide again on what is there
  }
  return absl::AbortedError(absl::StrCat("the item kept changing under ",
                                         options_.max_write_attempts,
                                         " conditional write attempts; try again"));
}

absl::Status TableStore::PutItem(const std::string& item_key, const AttributeMap& item) {
  return backend_->Put(item_key, EncodeItem(item));
}

namespace {

// DynamoDB's rule: the TTL attribute must be a Number of epoch seconds; any other type, or
// an absent attribute, never expires. (DynamoDB also ignores values more than five years in
// the past; ekv deletes those too, as they are long expired by any reading.)
bool Expired(const AttributeMap& item, const std::string& ttl_attribute, double now_seconds) {
  auto it = item.find(ttl_attribute);
  if (it == item.end() || it->second.type != AttributeType::kN) return false;
  char* end = nullptr;
  const double expiry = std::strtod(it->second.scalar.c_str(), &end);
  return end != it->second.scalar.c_str() && expiry <= now_seconds;
}

}  // namespace

absl::StatusOr<std::string> TableStore::DeleteExpiredItems(const TableSchema& schema,
                                                           double now_seconds,
                                                           const std::string& start_key,
                                                           size_t max_items, size_t* deleted) {
  if (schema.ttl_attribute.empty()) return std::string();
  const std::string prefix = ItemPrefix(schema.id);
  const std::string from = start_key.empty() ? prefix : start_key;
  absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>> items =
      ScanItems(from, PrefixEnd(prefix), max_items);
  if (!items.ok()) return items.status();
  for (const auto& [key, item] : *items) {
    if (!Expired(item, schema.ttl_attribute, now_seconds)) continue;
    bool removed = false;
    absl::StatusOr<ItemChange> change = ModifyItem(
        key,
        [&](const std::optional<AttributeMap>& current)
            -> absl::StatusOr<std::optional<AttributeMap>> {
          removed = current.has_value() && Expired(*current, schema.ttl_attribute, now_seconds);
          if (!removed) return current;  // changed since the scan: keep it as it is now
          return std::optional<AttributeMap>();
        });
    if (!change.ok()) return change.status();
    if (removed) ++*deleted;
  }
  if (items->size() < max_items) return std::string();
  return items->back().first + std::string(1, '\0');
}

absl::Status TableStore::DeleteItem(const std::string& item_key) {
  return backend_->Delete(item_key);
}

absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>> TableStore::ScanItems(
    const std::string& start, const std::string& end, size_t limit) {
  std::vector<std::pair<std::string, AttributeMap>> items;
  if (limit == 0 || (!end.empty() && end <= start)) return items;
  std::string from = start;
  while (items.size() < limit) {
    const size_t want = std::min(limit - items.size(), options_.scan_batch);
    absl::StatusOr<DynamoBackend::KvPairs> batch = backend_->Scan(from, end, want);
    if (!batch.ok()) return batch.status();
    for (auto& [key, bytes] : *batch) {
      absl::StatusOr<AttributeMap> item = DecodeItem(bytes);
      if (!item.ok()) return item.status();
      items.emplace_back(key, *std::move(item));
    }
    if (batch->size() < want) break;
    from = items.back().first + std::string(1, '\0');
    if (!end.empty() && end <= from) break;
  }
  return items;
}

absl::StatusOr<uint64_t> TableStore::SnapshotTimestamp() { return backend_->ReadTimestamp(); }

absl::StatusOr<std::optional<AttributeMap>> TableStore::GetItemAt(const std::string& item_key,
                                                                  uint64_t ts) {
  absl::StatusOr<std::optional<std::string>> bytes = backend_->SnapshotGet(item_key, ts);
  if (!bytes.ok()) return bytes.status();
  return DecodeOptional(*bytes);
}

absl::StatusOr<std::optional<std::string>> TableStore::GetRecordAt(const std::string& key,
                                                                   uint64_t ts) {
  return backend_->SnapshotGet(key, ts);
}

absl::StatusOr<DynamoBackend::CommitResult> TableStore::Commit(const std::vector<TxnWrite>& writes,
                                                               uint64_t start_ts) {
  std::vector<DynamoBackend::TxnWrite> encoded;
  encoded.reserve(writes.size());
  for (const TxnWrite& write : writes) {
    if (write.record.has_value()) {
      encoded.emplace_back(write.key, *write.record);
    } else {
      encoded.emplace_back(write.key, EncodeOptional(write.item));
    }
  }
  return backend_->CommitTransaction(encoded, start_ts);
}

}  // namespace ekv::dynamo
