// TableStore: the DynamoDB storage layer over DynamoBackend -- tables (metadata records),
// items (encoded under their table's prefix, key_codec.h) and their secondary index entries
// (secondary_index.h). Operations call this and never see raw keys or bytes.
//
// Isolation: every item write is one atomic step. On a table without indexes it is one key:
// conditional writes and UpdateItem are optimistic read-modify-writes -- read the item,
// compute the new one (or refuse, when a condition fails), then compare-and-set against the
// exact bytes read; if another write came between, recompute from what the compare-and-set
// saw. On a table with indexes the step is one of core's transactions: the item read at a
// snapshot, the new item and its index entry puts/deletes committed together, recomputed when
// a written key changed after the snapshot. Either way the decision is made on the value the
// write replaces: linearizable per item, and an index never disagrees with its items.
//
// A write decided on a schema read before an index was added cannot have maintained it, and
// the index's backfill may already have passed the item. So after every write the table's
// schema is read again; an index it did not know is repaired for that item (one more
// transaction, from the old item the write replaced). The backfill starts after the index is
// in the schema, so every write either is seen by the backfill or sees the index.
//
// Every method that reaches the backend is a Task (task.h): `co_await` it in one expression
// with its arguments, whose referents must outlive it.
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
#include "adapters/dynamo/table_stats.h"
#include "adapters/dynamo/task.h"

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
  // Base items one backfill transaction copies into a new index.
  size_t backfill_batch = 100;
  // Spread every new table's and index's key space over the groups (place_key_space.h)
  // before CreateTable / UpdateTable answers.
  bool place_key_spaces = true;
  // The wall clock in epoch seconds (a new table's CreationDateTime); empty: the system
  // clock. The simulator passes its simulated clock, so a seed's run repeats exactly.
  std::function<double()> now_seconds = nullptr;
  // Planted bug (the simulator's --plant dynamo_index_keeps_old_entry, never set by the
  // server): index maintenance forgets to delete the entry under an item's old index key
  // when the key changes, which the simulator's index checker must catch.
  bool planted_index_keeps_old_entry = false;
};

class TableStore {
 public:
  explicit TableStore(DynamoBackend* backend, TableStoreOptions options = {})
      : backend_(backend), options_(options) {}

  // ResourceInUseException when the name is taken. Assigns schema->id, and places the new
  // key spaces over the groups first (place_key_space.h): a CreateTable that cannot place
  // them fails with the store's error and creates nothing (the empty routes it may have
  // split stay, harmlessly).
  Task<absl::Status> CreateTable(TableSchema* schema);
  // ResourceNotFoundException when absent.
  Task<absl::StatusOr<TableSchema>> GetTable(const std::string& name);
  // Removes the table (then, best effort and bounded, its items); returns its schema.
  Task<absl::StatusOr<TableSchema>> DeleteTable(const std::string& name);
  // Changes a table's metadata (billing, tags) atomically: `change` edits the schema read;
  // the write is a compare-and-set against it, retried on a concurrent change. Returns the
  // new schema; ResourceNotFoundException when absent, or `change`'s error.
  Task<absl::StatusOr<TableSchema>> UpdateTable(
      const std::string& name, const std::function<absl::Status(TableSchema*)>& change);
  // Table names after `exclusive_start` in order, at most `limit`; *more says whether
  // names remain.
  Task<absl::StatusOr<std::vector<std::string>>> ListTables(const std::string& exclusive_start,
                                                            size_t limit, bool* more);

  // The last complete count of table `table_id` (table_stats.h); nullopt: never counted.
  Task<absl::StatusOr<std::optional<TableStats>>> GetTableStats(uint64_t table_id);
  Task<absl::Status> PutTableStats(uint64_t table_id, const TableStats& stats);

  Task<absl::StatusOr<std::optional<AttributeMap>>> GetItem(const std::string& item_key);

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
  // `schema` is the item's table as the request read it. A refusal of the new item by an
  // index (a mistyped index key attribute) ends the write with nothing written.
  Task<absl::StatusOr<ItemChange>> ModifyItem(const TableSchema& schema,
                                              const std::string& item_key, const Modify& modify,
                                              bool assume_absent = false);
  // An unconditional write / delete (the old item is still read by the atomic step: the
  // index entries it had are removed).
  Task<absl::Status> PutItem(const TableSchema& schema, const std::string& item_key,
                             const AttributeMap& item);
  Task<absl::Status> DeleteItem(const TableSchema& schema, const std::string& item_key);

  // One bounded Time to Live pass over `schema`'s items (schema.ttl_attribute set): deletes
  // every item, among the first `max_items` examined from `start_key` on, whose TTL
  // attribute is a number of epoch seconds at or before `now_seconds`. Each delete is a
  // compare-and-set decided on the item's current value, so an item updated to expire later
  // in between survives. Returns the key to continue from next pass ("" when the table's end
  // was reached) and adds the number deleted to *deleted.
  Task<absl::StatusOr<std::string>> DeleteExpiredItems(const TableSchema& schema,
                                                       double now_seconds,
                                                       const std::string& start_key,
                                                       size_t max_items, size_t* deleted);

  // Multi-item transactions (TransactWriteItems, TransactGetItems) over core's MVCC
  // transactions: every read of one transaction is at one snapshot timestamp, and the
  // commit writes all or nothing, refused when any written key changed after that
  // timestamp. Strictly serializable when every key the decision depended on is written
  // (TransactWriteItems writes a ConditionCheck's item back unchanged for this reason).
  // `at_least`: after a read at a snapshot was refused as ReadRestart, the timestamp the
  // next snapshot must be above (coord::ReadRestartAbove); readers retake a snapshot at
  // most kMaxSnapshotRestarts times per request.
  Task<absl::StatusOr<uint64_t>> SnapshotTimestamp(uint64_t at_least = 0);
  static constexpr int kMaxSnapshotRestarts = 3;
  Task<absl::StatusOr<std::optional<AttributeMap>>> GetItemAt(const std::string& item_key,
                                                              uint64_t ts);
  // A front-door record (not an item) at a snapshot, e.g. a transaction's idempotency token.
  Task<absl::StatusOr<std::optional<std::string>>> GetRecordAt(const std::string& key, uint64_t ts);
  // Front-door records (raw bytes, not items) with keys in [start, end) in the snapshot at
  // `ts`, at most `limit`, in key order (TokenSweeper).
  Task<absl::StatusOr<DynamoBackend::KvPairs>> ScanRecordsAt(const std::string& start,
                                                             const std::string& end, size_t limit,
                                                             uint64_t ts);
  struct TxnWrite {
    std::string key;
    std::optional<AttributeMap> item;   // nullopt: delete (or `record`, when set)
    std::optional<std::string> record;  // a front-door record's bytes instead of an item
  };
  Task<absl::StatusOr<DynamoBackend::CommitResult>> Commit(const std::vector<TxnWrite>& writes,
                                                           uint64_t start_ts);
  // Appends the index entry writes that take `item_key`'s entries from `old_item` to
  // `new_item` (refusing a mistyped index key in new_item) -- every transaction that writes
  // an item of an indexed table commits these with it.
  absl::Status AddIndexWrites(const TableSchema& schema, const std::string& item_key,
                              const std::optional<AttributeMap>& old_item,
                              const std::optional<AttributeMap>& new_item,
                              std::vector<TxnWrite>* writes);
  // The check after a committed write described at the top: `written` are the item keys
  // written under `schema` with the items they replaced.
  Task<absl::Status> RepairNewIndexes(
      const TableSchema& schema,
      const std::vector<std::pair<std::string, std::optional<AttributeMap>>>& written);

  // One bounded step of backfilling index `index_id` of table `table_name`: at most
  // `max_items` base items from the index's cursor on get their entries (each in a
  // transaction with the item written back unchanged, so a concurrent write to the item
  // makes it retry), then the cursor advances in the table's metadata, and the index turns
  // ACTIVE when the table's end is reached. Returns the number of items examined (0: nothing
  // to do -- the index is gone or active).
  Task<absl::StatusOr<size_t>> BackfillIndex(const std::string& table_name, uint64_t index_id,
                                             size_t max_items);

  // Items with keys in [start, end) in key order, at most `limit`: each route's part read
  // linearizably (ts 0), or all of it in the snapshot at `ts` (SnapshotTimestamp), which
  // resolves the locks of transactions in the way -- index reads use that, so an index
  // entry written with its item in another group is seen once the item's write is
  // (a two-phase commit answers after its primary, the item, commits).
  // `reverse`: the last `limit` items of the range in descending key order; only at a
  // snapshot (ts > 0), which core's scans can read backwards.
  Task<absl::StatusOr<std::vector<std::pair<std::string, AttributeMap>>>> ScanItems(
      const std::string& start, const std::string& end, size_t limit, uint64_t ts = 0,
      bool reverse = false);

 private:
  Task<absl::StatusOr<ItemChange>> ModifyIndexedItem(const TableSchema& schema,
                                                     const std::string& item_key,
                                                     const Modify& modify);
  Task<absl::StatusOr<ItemChange>> CompareAndSetItem(const std::string& item_key,
                                                     const Modify& modify, bool assume_absent);
  // Deletes keys under `prefix`, at most max_items_deleted_with_table (cleanup of a deleted
  // table or index whose keys nothing reads any more).
  Task<absl::Status> DeletePrefix(const std::string& prefix);
  // Ids for indexes that have none (new ones, or records from before indexes were stored).
  Task<absl::Status> AssignIndexIds(TableSchema* schema);

  DynamoBackend* backend_;
  TableStoreOptions options_;
};

}  // namespace ekv::dynamo
