// Query and Scan: a range scan of the table's item keys (key_condition.h for Query; the
// whole table prefix for Scan), paginated like DynamoDB -- at most Limit items evaluated
// or 1 MB of item data per page, LastEvaluatedKey when the page stopped before the end,
// ExclusiveStartKey to continue. FilterExpression is applied after the read (Count vs
// ScannedCount). Each route's part of a table's scan is read linearizably; a page is not
// one snapshot across routes.
//
// With IndexName the range is over the index's stored entries (secondary_index.h), which
// hold the items as the index projects them: reads are O(result) on indexes too. A page of
// an index is read at one snapshot timestamp (see RunRange). A local index fetches from the
// table what it does not project, metered (and counted toward the 1 MB) as DynamoDB does.
//
// ScanIndexForward=false reads the range backwards from its end (or from ExclusiveStartKey)
// at a snapshot timestamp, a batch at a time: a descending page costs what an ascending one
// does, whatever the partition's size.
#include <algorithm>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/capacity.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/key_condition.h"
#include "adapters/dynamo/legacy_parameters.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/projection.h"
#include "adapters/dynamo/request_fields.h"
#include "adapters/dynamo/secondary_index.h"
#include "adapters/dynamo/snapshot_restarts.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

constexpr size_t kMaxPageBytes = 1024 * 1024;
constexpr size_t kReadBatch = 1000;
constexpr int64_t kMaxTotalSegments = 1000000;

struct Page {
  std::vector<std::pair<std::string, AttributeMap>> items;  // in answer order
  bool more = false;                                        // stopped before the end of the range
};

// Items of [start, end) from `start` up (forward) or from `end` down, until `limit` items
// or kMaxPageBytes. ts: 0 reads each route linearizably, else the snapshot at ts
// (TableStore::ScanItems); a descending read always has a snapshot.
Task<absl::StatusOr<Page>> ReadPage(TableStore* store, std::string start, std::string end,
                                    size_t limit, uint64_t ts, bool forward) {
  Page page;
  size_t bytes = 0;
  while (page.items.size() < limit && bytes < kMaxPageBytes) {
    const size_t want = std::min(limit - page.items.size(), kReadBatch);
    auto batch = co_await store->ScanItems(start, end, want, ts, /*reverse=*/!forward);
    if (!batch.ok()) co_return batch.status();
    const bool exhausted = batch->size() < want;
    for (auto& entry : *batch) {
      if (page.items.size() >= limit || bytes >= kMaxPageBytes) {
        page.more = true;  // items remain after this page
        co_return page;
      }
      bytes += ItemSize(entry.second);
      page.items.push_back(std::move(entry));
    }
    if (exhausted) co_return page;
    if (forward) {
      start = page.items.back().first + std::string(1, '\0');
    } else {
      end = page.items.back().first;  // exclusive
    }
  }
  // DynamoDB also answers a LastEvaluatedKey when the page is exactly Limit items long.
  page.more = true;
  co_return page;
}

// The first top-level attribute name `c` reads for which `pred` holds, if any.
template <typename Pred>
std::optional<std::string> FirstNameWhere(const Condition& c, const Pred& pred) {
  for (const Condition& child : c.children) {
    if (std::optional<std::string> found = FirstNameWhere(child, pred)) return found;
  }
  std::vector<const Operand*> pending;
  for (const Operand& o : c.operands) pending.push_back(&o);
  while (!pending.empty()) {
    const Operand* o = pending.back();
    pending.pop_back();
    if (!o->path.empty() && o->path[0].index < 0 && pred(o->path[0].name)) return o->path[0].name;
    for (const Operand& arg : o->args) pending.push_back(&arg);
  }
  return std::nullopt;
}

// Whether `filter` names a top-level attribute that `index` does not project.
bool FilterNamesUnprojected(const TableSchema& schema, const SecondaryIndex& index,
                            const Condition& filter) {
  return FirstNameWhere(
             filter, [&](const std::string& name) { return !IndexProjects(schema, index, name); })
      .has_value();
}

size_t RoundUpTo4K(size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

// What a local index read's fetches from the table have cost so far.
struct Fetches {
  double units = 0;  // read units, each item's rounded up on its own
  size_t bytes = 0;  // each item's size rounded up to 4 KB, for the 1 MB page limit
};

// Replaces the local index entry *item with its whole item from the table as of the index
// snapshot `ts` (the latest version could have another index key than the entry: outside
// the key condition, and a LastEvaluatedKey the next page would misplace), adding that read
// to *fetches. Reading nothing is still a read. A ReadRestart status means the snapshot
// must be taken again.
Task<absl::Status> FetchBaseItem(TableStore* store, const TableSchema& schema, bool consistent,
                                 uint64_t ts, AttributeMap* item, Fetches* fetches) {
  absl::StatusOr<std::string> base_key = ItemKeyOfItem(schema, *item);
  if (!base_key.ok()) co_return base_key.status();
  absl::StatusOr<std::optional<AttributeMap>> base_item = co_await store->GetItemAt(*base_key, ts);
  if (!base_item.ok()) co_return base_item.status();
  const size_t size = base_item->has_value() ? ItemSize(**base_item) : 0;
  fetches->units += ReadUnits(size, consistent);
  fetches->bytes += RoundUpTo4K(size);
  if (base_item->has_value()) *item = **std::move(base_item);
  co_return absl::OkStatus();
}

// Whether an index read needs attributes its index does not hold: a local index then
// fetches each item from the table (DynamoDB does, at a read per item); a global one cannot,
// and DynamoDB refuses a projection that asks for them. A filter on a global index sees the
// entry as projected, as DynamoDB's does.
absl::StatusOr<bool> NeedsBaseItems(const TableSchema& schema, const SecondaryIndex& index,
                                    const std::optional<Condition>& filter,
                                    const std::optional<std::vector<Path>>& projection) {
  if (index.projection_type == "ALL") return false;
  const auto missing = [&](const std::string& name) { return !IndexProjects(schema, index, name); };
  if (projection.has_value()) {
    for (const Path& path : *projection) {
      if (path.empty() || path[0].index >= 0 || !missing(path[0].name)) continue;
      if (index.global) {
        return ValidationError(
            absl::StrCat("One or more parameter values were invalid: Global secondary index ",
                         index.name, " does not project [", path[0].name, "]"));
      }
      return true;
    }
  }
  return !index.global && filter.has_value() && FilterNamesUnprojected(schema, index, *filter);
}

// Select and the projection, checked against each other as DynamoDB does. *count_only:
// Select COUNT.
// *all_attributes: answer whole base items (ALL_ATTRIBUTES on an index).
absl::Status CheckSelect(const json& request, const std::optional<std::vector<Path>>& projection,
                         const SecondaryIndex* index, bool* count_only, bool* all_attributes) {
  *all_attributes = false;
  absl::StatusOr<std::optional<std::string>> select = OptionalString(request, "Select");
  if (!select.ok()) return select.status();
  *count_only = false;
  if (!select->has_value()) return absl::OkStatus();
  const std::string& value = **select;
  if (value != "ALL_ATTRIBUTES" && value != "ALL_PROJECTED_ATTRIBUTES" && value != "COUNT" &&
      value != "SPECIFIC_ATTRIBUTES") {
    return ValidationError(absl::StrCat(
        "1 validation error detected: Value '", value,
        "' at 'select' failed to satisfy constraint: Member must satisfy enum value set: "
        "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"));
  }
  if (value == "ALL_PROJECTED_ATTRIBUTES" && index == nullptr) {
    return ValidationError(
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  }
  if (value == "ALL_ATTRIBUTES" && index != nullptr) {
    // A local index fetches the rest of the item from the table; a global one cannot.
    if (index->global && index->projection_type != "ALL") {
      return ValidationError(absl::StrCat(
          "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
          "supported for global secondary index ",
          index->name, " because its projection type is not ALL"));
    }
    *all_attributes = true;
  }
  if (value == "SPECIFIC_ATTRIBUTES") {
    if (!projection.has_value()) {
      return ValidationError(
          "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
          "SPECIFIC_ATTRIBUTES");
    }
    return absl::OkStatus();
  }
  if (projection.has_value()) {
    const bool expression = request.contains("ProjectionExpression");
    return ValidationError(absl::StrCat("Cannot specify the ",
                                        expression ? "ProjectionExpression" : "AttributesToGet",
                                        " when choosing to get ", value));
  }
  *count_only = value == "COUNT";
  return absl::OkStatus();
}

// The common tail: ExclusiveStartKey, the read, FilterExpression, Select, the projection,
// the reply.
// `index`: the request's IndexName (nullptr: the table); `range` is then over its entries.
// How the entries of a page become the answer's items.
struct PageAnswering {
  const std::optional<Condition>* filter = nullptr;
  const std::optional<std::vector<Path>>* projection = nullptr;
  bool count_only = false;
  bool consistent = false;
  // An LSI fetches the attributes it does not project from the table, one read of the whole
  // item per entry (Select ALL_ATTRIBUTES, or a projection or filter naming them). A filter
  // on projected attributes only is decided on the entry, so only the entries it keeps are
  // fetched. DynamoDB meters such a read in two shares: the index entries read, summed and
  // rounded up to 4 KB once, on the index; each fetched item, rounded up to 4 KB on its own,
  // on the table. Its 1 MB page counts the same sum, so fetches may end a page early.
  bool fetch = false;
  bool fetch_before_filter = false;
};

struct PageAnswer {
  json items = json::array();
  size_t count = 0;
  size_t scanned_bytes = 0;
  Fetches fetches;
};

// Filters, fetches (at the index snapshot `ts`) and projects the entries of *page into
// *answer, cutting *page where its fetches reach the 1 MB page. A ReadRestart status from a
// fetch means the whole page must be read again at a later snapshot.
Task<absl::Status> AnswerPage(TableStore* store, const TableSchema& schema,
                              const PageAnswering& how, uint64_t ts, Page* page,
                              PageAnswer* answer) {
  const std::optional<Condition>& filter = *how.filter;
  for (size_t i = 0; i < page->items.size(); ++i) {
    if (how.fetch && i > 0 &&
        RoundUpTo4K(answer->scanned_bytes) + answer->fetches.bytes >= kMaxPageBytes) {
      page->items.resize(i);  // the page ends after the entry that reached 1 MB
      page->more = true;
      break;
    }
    AttributeMap& item = page->items[i].second;
    answer->scanned_bytes += ItemSize(item);
    if (how.fetch_before_filter) {
      absl::Status fetched =
          co_await FetchBaseItem(store, schema, how.consistent, ts, &item, &answer->fetches);
      if (!fetched.ok()) co_return fetched;
    }
    if (filter.has_value()) {
      absl::StatusOr<bool> keep = EvaluateCondition(*filter, item);
      if (!keep.ok()) co_return keep.status();
      if (!*keep) continue;
    }
    ++answer->count;
    if (how.count_only) continue;
    if (how.fetch && !how.fetch_before_filter) {
      absl::Status fetched =
          co_await FetchBaseItem(store, schema, how.consistent, ts, &item, &answer->fetches);
      if (!fetched.ok()) co_return fetched;
    }
    const std::optional<std::vector<Path>>& projection = *how.projection;
    answer->items.push_back(AttributeMapToJson(projection ? Project(item, *projection) : item));
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<json>> RunRange(const json& request, TableStore* store,
                                    const TableSchema& schema, KeyRange range, bool forward,
                                    const std::optional<Condition>& filter,
                                    const std::optional<std::vector<Path>>& projection,
                                    const SecondaryIndex* index) {
  bool count_only = false;
  bool all_attributes = false;
  if (absl::Status s = CheckSelect(request, projection, index, &count_only, &all_attributes);
      !s.ok()) {
    co_return s;
  }
  if (index != nullptr && !all_attributes) {
    absl::StatusOr<bool> needs_base = NeedsBaseItems(schema, *index, filter, projection);
    if (!needs_base.ok()) co_return needs_base.status();
    all_attributes = *needs_base;
  }
  absl::StatusOr<std::string> capacity_mode = ReturnConsumedCapacityOf(request);
  if (!capacity_mode.ok()) co_return capacity_mode.status();
  bool consistent = false;
  if (auto it = request.find("ConsistentRead"); it != request.end() && !it->is_null()) {
    if (!it->is_boolean()) co_return SerializationError("ConsistentRead must be a boolean");
    consistent = it->get<bool>();
  }
  if (consistent && index != nullptr && index->global) {
    co_return ValidationError("Consistent reads are not supported on global secondary indexes");
  }
  absl::StatusOr<std::optional<int64_t>> limit = LimitOf(request);
  if (!limit.ok()) co_return limit.status();
  // Without Limit only the 1 MB ends a page, as in DynamoDB, however small the items.
  const size_t want =
      limit->has_value() ? static_cast<size_t>(**limit) : std::numeric_limits<size_t>::max();
  if (auto it = request.find("ExclusiveStartKey"); it != request.end() && !it->is_null()) {
    absl::StatusOr<AttributeMap> start_key = AttributeMapFromJson(*it);
    if (!start_key.ok()) co_return start_key.status();
    absl::StatusOr<std::string> key =
        index == nullptr ? ItemKeyOfKey(schema, *start_key) : ItemKeyOfItem(schema, *start_key);
    if (key.ok() && index != nullptr) {
      // On an index the start is the entry of that base key and index key.
      absl::StatusOr<std::optional<std::string>> entry =
          IndexEntryKey(schema, *index, *key, *start_key, IndexKeyCheck::kRefuse);
      if (!entry.ok()) {
        key = entry.status();
      } else if (!entry->has_value()) {
        key = ValidationError("The provided key element does not match the schema");
      } else {
        key = **entry;
      }
    }
    if (!key.ok()) {
      co_return ValidationError("The provided starting key is invalid: " +
                                std::string(key.status().message()));
    }
    // A parallel scan continues within its own segment only.
    const bool segmented = request.contains("Segment") && !request["Segment"].is_null();
    if (segmented && (*key < range.start || (!range.end.empty() && *key >= range.end))) {
      co_return ValidationError(
          "The provided Exclusive start key does not map to the provided segment");
    }
    if (forward) {
      range.start = std::max(range.start, *key + std::string(1, '\0'));
    } else if (range.end.empty() || *key < range.end) {
      range.end = *key;
    }
  }
  PageAnswering answering;
  answering.filter = &filter;
  answering.projection = &projection;
  answering.count_only = count_only;
  answering.consistent = consistent;
  answering.fetch = all_attributes && index->projection_type != "ALL";
  answering.fetch_before_filter =
      answering.fetch && filter.has_value() && FilterNamesUnprojected(schema, *index, *filter);
  Page page;
  PageAnswer answer;
  if (range.end.empty() || range.start < range.end) {
    // An index is read at one snapshot: its entries may live in other groups than their
    // items, and a write that changed both is answered once the item committed (the
    // two-phase commit's primary), perhaps before the entry's group applied its part. The
    // snapshot read resolves such a transaction's lock first, so an index never shows less
    // of a write than its table does. A table's own items are read linearizably, route by
    // route, without the extra timestamp round; such a read resolves a transaction's lock
    // too (TransactWriteItems' items after the first are secondaries of its commit).
    // Core reads backwards only at a timestamp: a descending read of a table's items is at
    // the latest one, which reads each route's newest versions as the forward read does.
    uint64_t ts = 0;
    SnapshotRestarts restarts(TableStore::kMaxSnapshotRestarts);
    for (;;) {
      if (index != nullptr) {
        absl::StatusOr<uint64_t> snapshot = co_await store->SnapshotTimestamp(restarts.at_least());
        if (!snapshot.ok()) co_return snapshot.status();
        ts = *snapshot;
      } else if (!forward) {
        ts = DynamoBackend::kLatestSnapshot;
      }
      absl::StatusOr<Page> read =
          co_await ReadPage(store, range.start, range.end, want, ts, forward);
      if (restarts.Retry(read.status())) continue;
      if (!read.ok()) co_return read.status();
      page = *std::move(read);
      // An LSI's fetches read the table at the index's snapshot (ts), within this loop.
      answer = PageAnswer{};
      absl::Status answered = co_await AnswerPage(store, schema, answering, ts, &page, &answer);
      if (restarts.Retry(answered)) continue;
      if (!answered.ok()) co_return answered;
      break;
    }
  }
  json reply = {{"Count", answer.count}, {"ScannedCount", page.items.size()}};
  if (!count_only) reply["Items"] = std::move(answer.items);
  if (page.more && !page.items.empty()) {
    const AttributeMap& last = page.items.back().second;
    reply["LastEvaluatedKey"] =
        AttributeMapToJson(index != nullptr ? IndexKeyAttributes(schema, *index, last)
                                            : KeyAttributesOf(schema, last));
  }
  if (*capacity_mode != "NONE") {
    // Query and Scan are metered on the bytes read, not per item; a read of an index is
    // metered on the index (INDEXES names it), its fetches from the table on the table.
    CapacityUse use;
    const double units = ReadUnits(answer.scanned_bytes, consistent);
    if (index != nullptr) {
      use.AddIndexRead(*index, units);
      use.table = answer.fetches.units;
    } else {
      use.table = units;
    }
    reply["ConsumedCapacity"] = ConsumedCapacityJson(schema.name, use, *capacity_mode);
  }
  co_return reply;
}

// Segment/TotalSegments (parallel scan): segment i of n is the i-th of n equal slices of
// the table's key space, cut at 4-byte boundaries after the table prefix -- under
// KeyLayout::kHashed exactly the partition-hash slices, as DynamoDB cuts them, so segments
// are even. Every item lies in exactly one segment, and each segment is an ordinary key
// range, so it pages with LastEvaluatedKey like a whole-table scan.
absl::StatusOr<KeyRange> ScanSegmentRange(const json& request, const std::string& prefix) {
  auto segment_it = request.find("Segment");
  auto total_it = request.find("TotalSegments");
  const bool has_segment = segment_it != request.end() && !segment_it->is_null();
  const bool has_total = total_it != request.end() && !total_it->is_null();
  KeyRange whole{prefix, PrefixEnd(prefix)};
  if (!has_segment && !has_total) return whole;
  if (!has_total) {
    return ValidationError(
        "The TotalSegments parameter is required but was not present in the request when "
        "Segment parameter is present");
  }
  if (!has_segment) {
    return ValidationError(
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present");
  }
  if (!segment_it->is_number_integer() || !total_it->is_number_integer()) {
    return SerializationError("Segment and TotalSegments must be integers");
  }
  const int64_t segment = segment_it->get<int64_t>();
  const int64_t total = total_it->get<int64_t>();
  if (total < 1 || total > kMaxTotalSegments) {
    return ValidationError(
        absl::StrCat("1 validation error detected: Value '", total,
                     "' at 'totalSegments' failed to satisfy constraint: Member must have value ",
                     total < 1 ? "greater than or equal to 1" : "less than or equal to 1000000"));
  }
  if (segment < 0) {
    return ValidationError(absl::StrCat("1 validation error detected: Value '", segment,
                                        "' at 'segment' failed to satisfy constraint: Member "
                                        "must have value greater than or equal to 0"));
  }
  if (segment >= total) {
    return ValidationError(absl::StrCat(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: ",
        segment, " is not less than TotalSegments: ", total));
  }
  const auto boundary = [&](int64_t i) {
    const uint64_t cut = (static_cast<uint64_t>(i) << 32) / static_cast<uint64_t>(total);
    std::string key = prefix;
    for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<char>(cut >> shift));
    return key;
  };
  KeyRange range = whole;
  if (segment > 0) range.start = boundary(segment);
  if (segment + 1 < total) range.end = boundary(segment + 1);
  return range;
}

// The first key attribute of `key_schema` that `c` names, if any.
std::optional<std::string> KeyAttributeIn(const Condition& c, const TableSchema& key_schema) {
  return FirstNameWhere(c, [&](const std::string& name) {
    return name == key_schema.hash.name || (key_schema.range && name == key_schema.range->name);
  });
}

}  // namespace

Task<absl::StatusOr<json>> QueryOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  if (!schema.ok()) co_return schema.status();
  absl::StatusOr<const SecondaryIndex*> index = IndexOf(request, *schema);
  if (!index.ok()) co_return index.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) co_return context.status();
  absl::StatusOr<std::optional<Condition>> key_condition =
      LegacyConditionOf(request, "KeyConditions", "KeyConditionExpression");
  if (!key_condition.ok()) co_return key_condition.status();
  if (!key_condition->has_value()) {
    key_condition = ConditionOf(request, "KeyConditionExpression", &*context);
  }
  if (!key_condition.ok()) co_return key_condition.status();
  if (!key_condition->has_value()) {
    co_return ValidationError(
        "Either the KeyConditions or KeyConditionExpression parameter must be "
        "specified in the request.");
  }
  absl::StatusOr<std::optional<Condition>> filter =
      LegacyConditionOf(request, "QueryFilter", "FilterExpression");
  if (!filter.ok()) co_return filter.status();
  if (!filter->has_value()) filter = ConditionOf(request, "FilterExpression", &*context);
  if (!filter.ok()) co_return filter.status();
  absl::StatusOr<std::optional<std::vector<Path>>> projection = ProjectionOf(request, &*context);
  if (!projection.ok()) co_return projection.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  if (*index != nullptr) {
    if (absl::Status s = CheckIndexReadable(**index); !s.ok()) co_return s;
  }
  const TableSchema key_schema = *index != nullptr ? IndexKeySchema(*schema, **index) : *schema;
  // A Query selects on its key with the key condition only; DynamoDB refuses a filter that
  // names a key attribute.
  if (filter->has_value()) {
    if (std::optional<std::string> key = KeyAttributeIn(**filter, key_schema)) {
      const bool legacy = request.contains("QueryFilter") && !request["QueryFilter"].is_null();
      co_return ValidationError(absl::StrCat(legacy ? "QueryFilter" : "Filter Expression",
                                             " can only contain non-primary key attributes: "
                                             "Primary key attribute: ",
                                             *key));
    }
  }
  // On an index the condition is checked against the index key and selects a range of the
  // index's entries (secondary_index.h).
  absl::StatusOr<KeyRange> range = KeyConditionRange(**key_condition, key_schema);
  if (!range.ok()) co_return range.status();
  bool forward = true;
  if (auto it = request.find("ScanIndexForward"); it != request.end() && !it->is_null()) {
    if (!it->is_boolean()) co_return SerializationError("ScanIndexForward must be a boolean");
    forward = it->get<bool>();
  }
  co_return co_await RunRange(request, store, *schema, *std::move(range), forward, *filter,
                              *projection, *index);
}

Task<absl::StatusOr<json>> ScanOperation(const json& request, TableStore* store) {
  absl::StatusOr<TableSchema> schema = co_await TableOf(request, store);
  if (!schema.ok()) co_return schema.status();
  absl::StatusOr<const SecondaryIndex*> index = IndexOf(request, *schema);
  if (!index.ok()) co_return index.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) co_return context.status();
  absl::StatusOr<std::optional<Condition>> filter =
      LegacyConditionOf(request, "ScanFilter", "FilterExpression");
  if (!filter.ok()) co_return filter.status();
  if (!filter->has_value()) filter = ConditionOf(request, "FilterExpression", &*context);
  if (!filter.ok()) co_return filter.status();
  absl::StatusOr<std::optional<std::vector<Path>>> projection = ProjectionOf(request, &*context);
  if (!projection.ok()) co_return projection.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  if (*index != nullptr) {
    if (absl::Status s = CheckIndexReadable(**index); !s.ok()) co_return s;
  }
  // On an index the segments divide the index's entries.
  absl::StatusOr<KeyRange> range =
      ScanSegmentRange(request, ItemPrefix(*index != nullptr ? (*index)->id : schema->id));
  if (!range.ok()) co_return range.status();
  co_return co_await RunRange(request, store, *schema, *std::move(range), /*forward=*/true, *filter,
                              *projection, *index);
}

}  // namespace ekv::dynamo
