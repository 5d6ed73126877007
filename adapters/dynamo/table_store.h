// TableStore: the DynamoDB storage layer over DynamoBackend -- tables (metadata records)
// and items (encoded under their table's prefix, key_codec.h). Operations call this and
// never see raw keys or bytes.
//
// Isolation: every item write is one atomic step on one key. Conditional writes and
// UpdateItem are optimistic read-modify-writes: read the item, compute the new one (or
// refuse, when a condition fails), then compare-and-set against the exact bytes read; if
// another write came between, recompute from what the compare-and-set saw. The decision is
// therefore always made on the value the write replaces: linearizable per item.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/dynamo/attribute_value.h"
#include "adapters/dynamo/backend.h"
#include "adapters/dynamo/table_schema.h"

namespace ekv::dynamo {

struct TableStoreOptions {
  // Compare-and-set rounds one write may lose to concurrent writers before it gives up
  // (answered as a retryable 500).
  int max_write_attempts = 64;
  // Keys a DeleteTable removes before it answers; the rest stay invisible (the table id
  // is never reused) until a later cleanup.
  size_t max_items_deleted_with_table = 10000;
  // Keys one backend scan call returns.
  size_t scan_batch = 1000;
};

class TableStore {
 public:
  explicit TableStore(DynamoBackend* backend, TableStoreOptions options = {})
      : backend_(backend), options_(options) {}

  // ResourceInUseException when the name is taken. Assigns schema->id.
  absl::Status CreateTable(TableSchema* schema);
  // ResourceNotFoundException when absent.
  absl::StatusOr<TableSchema> GetTable(const std::string& name);
  // Removes the table (then, best effort and bounded, its items); returns its schema.
  absl::StatusOr<TableSchema> DeleteTable(const std::string& name);
  // Changes a table's metadata (billing, tags) atomically: `change` edits the schema read;
  // the write is a compare-and-set against it, retried on a concurrent change. Returns the
  // new schema; ResourceNotFoundException when absent, or `change`'s error.
  absl::StatusOr<TableSchema> UpdateTable(const std::string& name,
                                          const std::function<absl::Status(TableSchema*)>& change);
  // Table names after `exclusive_start` in order, at most `limit`; *more says whether
  // names remain.
  absl::StatusOr<std::vector<std::string>> ListTables(const std::string& exclusive_start,
                                                      size_t limit, bool* more);

  absl::StatusOr<std::optional<AttributeMap>> GetItem(const std::string& item_key);

  // The new item computed from the current one (nullopt: delete it), or an error that
  // ends the write with nothing written (e.g. ConditionalCheckFailedException).
  using Modify = std::function<absl::StatusOr<std::optional<AttributeMap>>(
      const std::optional<AttributeMap>& current)>;
  struct ItemChange {
    std::optional<AttributeMap> old_item;
    std::optional<AttributeMap> new_item;
  };
  // The atomic read-modify-write described at the top. `assume_absent`: skip the first
  // read and guess the item is new (PutItem's common case); a wrong guess costs one
  // failed compare-and-set, which returns the real value.
  absl::StatusOr<ItemChange> ModifyItem(const std::string& item_key, const Modify& modify,
                                        bool assume_absent = false);
  // A blind write (no condition, old value not needed).
  absl::Status PutItem(const std::string& item_key, const AttributeMap& item);
  // A blind delete (BatchWriteItem's DeleteRequest: no condition, no old value).
  absl::Status DeleteItem(const std::string& item_key);

  // One bounded Time to Live pass over `schema`'s items (schema.ttl_attribute set): deletes
  // every item, among the first `max_items` examined from `start_key` on, whose TTL
  // attribute is a number of epoch seconds at or before `now_seconds`. Each delete is a
  // compare-and-set decided on the item's current value, so an item updated to expire later
  // in between survives. Returns the key to continue from next pass ("" when the table's end
  // was reached) and adds the number deleted to *deleted.
  absl::StatusOr<std::string> DeleteExpiredItems(const TableSchema& schema, double now_seconds,
                                                 const std::string& start_key, size_t max_items,
                                                 size_t* deleted);

  // Multi-item transactions (TransactWriteItems, TransactGetItems) over core's MVCC
  // transactions: every read of one transaction is at one snapshot timestamp, and the
  // commit writes all or nothing, refused when any written key changed after that
  // timestamp. Strictly serializable when every key the decision depended on is written
  // (TransactWriteItems writes a ConditionCheck's item back unchanged for this reason).
  absl::StatusOr<uint64_t> SnapshotTimestamp();
  absl::StatusOr<std::optional<AttributeMap>> GetItemAt(const std::string& item_key, uint64_t ts);
  // A front-door record (not an item) at a snapshot, e.g. a transaction's idempotency token.
  absl::StatusOr<std::optional<std::string>> GetRecordAt(const std::string& key, uint64_t ts);
  struct TxnWrite {
    std::string key;
    std::optional<AttributeMap> item;   // nullopt: delete (or `record`, when set)
    std::optional<std::string> record;  // a front-door record's bytes instead of an item
  };
  absl::StatusOr<DynamoBackend::CommitResult> Commit(const std::vector<TxnWrite>& writes,
                                                     uint64_t start_ts);

  // Items with keys in [start, end) in key order, at most `limit`.
  absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>> ScanItems(
      const std::string& start, const std::string& end, size_t limit);

 private:
  DynamoBackend* backend_;
  TableStoreOptions options_;
};

}  // namespace ekv::dynamo
