// Query and Scan: a range scan of the table's item keys (key_condition.h for Query; the
// whole table prefix for Scan), paginated like DynamoDB -- at most Limit items evaluated
// or 1 MB of item data per page, LastEvaluatedKey when the page stopped before the end,
// ExclusiveStartKey to continue. FilterExpression is applied after the read (Count vs
// ScannedCount). Each route's part of the scan is read linearizably; a page is not one
// snapshot across routes.
//
// ScanIndexForward=false reads the range forward and reverses it, so it is bounded by
// kMaxReverseItems per page (more is a ValidationException in this first form).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/key_condition.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/request_fields.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

constexpr size_t kMaxPageBytes = 1024 * 1024;
constexpr size_t kDefaultPageItems = 10000;  // without Limit, 1 MB usually ends a page first
constexpr size_t kReadBatch = 1000;
constexpr size_t kMaxReverseItems = 10000;

struct Page {
  std::vector<std::pair<std::string, AttributeMap>> items;  // in answer order
  bool more = false;                                        // stopped before the end of the range
};

// Forward: items from `start`, until `limit` items or kMaxPageBytes.
absl::StatusOr<Page> ReadForward(TableStore* store, std::string start, const std::string& end,
                                 size_t limit) {
  Page page;
  size_t bytes = 0;
  while (page.items.size() < limit && bytes < kMaxPageBytes) {
    const size_t want = std::min(limit - page.items.size(), kReadBatch);
    auto batch = store->ScanItems(start, end, want);
    if (!batch.ok()) return batch.status();
    const bool exhausted = batch->size() < want;
    for (auto& entry : *batch) {
      if (page.items.size() >= limit || bytes >= kMaxPageBytes) {
        page.more = true;  // items remain after this page
        return page;
      }
      bytes += ItemSize(entry.second);
      page.items.push_back(std::move(entry));
    }
    if (exhausted) return page;
    start = page.items.back().first + std::string(1, '\0');
  }
  page.more = true;
  return page;
}

absl::StatusOr<Page> ReadBackward(TableStore* store, const std::string& start,
                                  const std::string& end, size_t limit) {
  auto all = store->ScanItems(start, end, kMaxReverseItems + 1);
  if (!all.ok()) return all.status();
  if (all->size() > kMaxReverseItems) {
    return ValidationError(absl::StrCat("ScanIndexForward=false is limited to ranges of at most ",
                                        kMaxReverseItems,
                                        " items in this version of ekv; narrow the key condition"));
  }
  Page page;
  size_t bytes = 0;
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    if (page.items.size() >= limit || bytes >= kMaxPageBytes) {
      page.more = true;
      break;
    }
    bytes += ItemSize(it->second);
    page.items.push_back(std::move(*it));
  }
  // DynamoDB also answers a LastEvaluatedKey when the page is exactly Limit items long.
  if (page.items.size() == limit) page.more = true;
  return page;
}

// The common tail: ExclusiveStartKey, the read, FilterExpression, the reply.
absl::StatusOr<json> RunRange(const json& request, TableStore* store, const TableSchema& schema,
                              KeyRange range, bool forward,
                              const std::optional<Condition>& filter) {
  absl::StatusOr<std::optional<int64_t>> limit = LimitOf(request);
  if (!limit.ok()) return limit.status();
  if (auto it = request.find("ExclusiveStartKey"); it != request.end() && !it->is_null()) {
    absl::StatusOr<AttributeMap> start_key = AttributeMapFromJson(*it);
    if (!start_key.ok()) return start_key.status();
    absl::StatusOr<std::string> key = ItemKeyOfKey(schema, *start_key);
    if (!key.ok()) {
      return ValidationError("The provided starting key is invalid: " +
                             std::string(key.status().message()));
    }
    if (forward) {
      range.start = std::max(range.start, *key + std::string(1, '\0'));
    } else if (range.end.empty() || *key < range.end) {
      range.end = *key;
    }
  }
  Page page;
  const size_t want = limit->has_value() ? static_cast<size_t>(**limit) : kDefaultPageItems;
  if (range.end.empty() || range.start < range.end) {
    absl::StatusOr<Page> read = forward ? ReadForward(store, range.start, range.end, want)
                                        : ReadBackward(store, range.start, range.end, want);
    if (!read.ok()) return read.status();
    page = *std::move(read);
  }
  absl::StatusOr<std::optional<std::string>> select = OptionalString(request, "Select");
  if (!select.ok()) return select.status();
  const bool count_only = select->has_value() && **select == "COUNT";
  if (select->has_value() && **select != "COUNT" && **select != "ALL_ATTRIBUTES") {
    return ValidationError(absl::StrCat("Select ", **select, " is not supported by ekv yet"));
  }
  json items = json::array();
  size_t count = 0;
  for (const auto& [key, item] : page.items) {
    if (filter.has_value()) {
      absl::StatusOr<bool> keep = EvaluateCondition(*filter, item);
      if (!keep.ok()) return keep.status();
      if (!*keep) continue;
    }
    ++count;
    if (!count_only) items.push_back(AttributeMapToJson(item));
  }
  json reply = {{"Count", count}, {"ScannedCount", page.items.size()}};
  if (!count_only) reply["Items"] = std::move(items);
  if (page.more && !page.items.empty()) {
    reply["LastEvaluatedKey"] =
        AttributeMapToJson(KeyAttributesOf(schema, page.items.back().second));
  }
  return reply;
}

}  // namespace

absl::StatusOr<json> QueryOperation(const json& request, TableStore* store) {
  if (absl::Status s = RefuseUnsupported(request, {"IndexName", "KeyConditions", "QueryFilter",
                                                   "ProjectionExpression", "AttributesToGet"});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<TableSchema> schema = TableOf(request, store);
  if (!schema.ok()) return schema.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) return context.status();
  absl::StatusOr<std::optional<Condition>> key_condition =
      ConditionOf(request, "KeyConditionExpression", &*context);
  if (!key_condition.ok()) return key_condition.status();
  if (!key_condition->has_value()) {
    return ValidationError(
        "Either the KeyConditions or KeyConditionExpression parameter must be "
        "specified in the request.");
  }
  absl::StatusOr<std::optional<Condition>> filter =
      ConditionOf(request, "FilterExpression", &*context);
  if (!filter.ok()) return filter.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) return s;
  absl::StatusOr<KeyRange> range = KeyConditionRange(**key_condition, *schema);
  if (!range.ok()) return range.status();
  bool forward = true;
  if (auto it = request.find("ScanIndexForward"); it != request.end() && !it->is_null()) {
    if (!it->is_boolean()) return SerializationError("ScanIndexForward must be a boolean");
    forward = it->get<bool>();
  }
  return RunRange(request, store, *schema, *std::move(range), forward, *filter);
}

absl::StatusOr<json> ScanOperation(const json& request, TableStore* store) {
  if (absl::Status s =
          RefuseUnsupported(request, {"IndexName", "ScanFilter", "Segment", "TotalSegments",
                                      "ProjectionExpression", "AttributesToGet"});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<TableSchema> schema = TableOf(request, store);
  if (!schema.ok()) return schema.status();
  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(request);
  if (!context.ok()) return context.status();
  absl::StatusOr<std::optional<Condition>> filter =
      ConditionOf(request, "FilterExpression", &*context);
  if (!filter.ok()) return filter.status();
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) return s;
  const std::string prefix = ItemPrefix(schema->id);
  return RunRange(request, store, *schema, KeyRange{prefix, PrefixEnd(prefix)},
                  /*forward=*/true, *filter);
}

}  // namespace ekv::dynamo
