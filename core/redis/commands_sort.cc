// SORT and SORT_RO over lists, sets and sorted sets, as Redis 7.0's sortCommandGeneric:
// options (sort_options.h), then load the elements, weigh them (the element itself or the
// BY pattern's value), sort, and answer or STORE the elements or their GET values.
//
// The BY and GET patterns name keys derived from the data, which the request cannot
// declare: they are read in the request's group when it owns them (Executor::MayAccess)
// and refused otherwise with Redis Cluster's words ("BY option of SORT denied in Cluster
// mode."), which Redis 7.0 answers for every pattern in a cluster. A STORE destination is
// one of the command's keys (SortKeys), routed and planned like any other.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/hash_fields.h"
#include "core/redis/list_range.h"
#include "core/redis/set_order.h"
#include "core/redis/sort_options.h"
#include "core/redis/zset_records.h"

namespace ekv::redis_core {
namespace {

struct SortItem {
  std::string element;
  double score = 0;                     // numeric sort
  std::optional<std::string> by_value;  // ALPHA with BY: nullopt when the lookup found nothing
};

// What `pattern` leads to for `element` (nullopt: no key, a key of another type, no such
// field); `refused` set when the key lives in another group.
absl::StatusOr<std::optional<std::string>> PatternValue(Executor& ex, absl::string_view pattern,
                                                        absl::string_view element, bool* refused) {
  const PatternTarget target = ResolvePattern(pattern, element);
  if (target.kind == PatternTarget::Kind::kElement) return std::string(element);
  if (target.kind == PatternTarget::Kind::kNothing) return std::nullopt;
  if (!ex.MayAccess(target.key)) {
    *refused = true;
    return std::nullopt;
  }
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(target.key));
  if (target.field.has_value()) {
    if (found.type != Type::kHash) return std::nullopt;
    EKV_KV_ASSIGN_OR_RETURN(std::optional<StoredHashValue> value,
                            GetHashField(ex, target.key, found.meta, *target.field));
    if (!value.has_value()) return std::nullopt;
    return std::move(value->value);
  }
  if (found.type != Type::kString) return std::nullopt;
  return std::move(found.string.value);
}

Reply PatternRefused(absl::string_view option) {
  return Reply::Error(absl::StrCat("ERR ", option, " option of SORT denied in Cluster mode."));
}

// Redis's strtod check: the whole text is a number (leading blanks allowed), not NaN, not
// out of range. Text past a NUL byte is not looked at (Redis passes a C string).
bool ParseSortScore(const std::string& text, double* score) {
  char* end = nullptr;
  errno = 0;
  *score = std::strtod(text.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(*score);
}

// Replaces `destination` with a list of `values` (deletes it when there are none).
absl::Status StoreList(Executor& ex, absl::string_view destination,
                       const std::vector<std::string>& values) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(destination));
  if (values.empty()) {
    if (old.type != Type::kNone) ex.DeleteKey(destination, old);
    return absl::OkStatus();
  }
  ex.DeleteKey(destination, old);
  Meta meta = ex.NewMeta(Type::kList);
  for (const std::string& value : values) {
    ex.store().Put(ex.ElementKey(destination, meta, EncodeIndex(meta.tail)), value);
    ++meta.tail;
    ++meta.size;
  }
  ex.SaveMeta(destination, meta);
  return absl::OkStatus();
}

// Loads the elements to sort as Redis does, narrowing [*start, *end] to the loaded range
// when a list or sorted set is taken in its own order (dontsort).
absl::StatusOr<std::vector<SortItem>> LoadItems(Executor& ex, absl::string_view key,
                                                const Executor::Found& found, bool dontsort,
                                                bool desc, int64_t* start, int64_t* end) {
  std::vector<std::string> elements;
  const int64_t length = found.type == Type::kNone ? 0 : static_cast<int64_t>(found.meta.size);
  if (found.type == Type::kList && dontsort) {
    if (*end >= *start) {
      const int64_t count = *end - *start + 1;
      const int64_t from = desc ? length - *start - count : *start;
      EKV_KV_ASSIGN_OR_RETURN(elements, ListRange(ex, key, found.meta, from, count));
      if (desc) std::reverse(elements.begin(), elements.end());
      *end -= *start;
      *start = 0;
    }
  } else if (found.type == Type::kList) {
    EKV_KV_ASSIGN_OR_RETURN(elements, ListRange(ex, key, found.meta, 0, found.meta.size));
  } else if (found.type == Type::kSet) {
    EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(key, found.meta));
    for (auto& [member, value] : records) elements.push_back(std::move(member));
    InIntsetOrder(&elements);  // SMEMBERS's order
  } else if (found.type == Type::kZset) {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<ZsetEntry> entries, ZsetAllEntries(ex, key, found.meta));
    if (dontsort) {
      // Ranks [start, end] counted from the low end, or from the high end with DESC.
      if (desc) std::reverse(entries.begin(), entries.end());
      for (int64_t rank = *start; rank <= *end; ++rank) {
        elements.push_back(std::move(entries[static_cast<size_t>(rank)].member));
      }
      *end -= *start;
      *start = 0;
    } else {
      for (ZsetEntry& entry : entries) elements.push_back(std::move(entry.member));
    }
  }
  std::vector<SortItem> items(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) items[i].element = std::move(elements[i]);
  return items;
}

absl::StatusOr<Reply> Sort(Executor& ex, const Args& args, bool read_only) {
  std::variant<SortOptions, Reply> parsed = ParseSortOptions(args, read_only);
  if (std::holds_alternative<Reply>(parsed)) return std::get<Reply>(std::move(parsed));
  SortOptions options = std::get<SortOptions>(std::move(parsed));

  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[1]));
  if (found.type != Type::kNone && found.type != Type::kList && found.type != Type::kSet &&
      found.type != Type::kZset) {
    return WrongTypeError();
  }
  // A set answered in its own order would differ between replicas of Redis (hash order):
  // Redis sorts it when the result is stored or a script asked.
  if (options.dontsort && found.type == Type::kSet &&
      (options.store.has_value() || ex.called_from_script())) {
    options.dontsort = false;
    options.alpha = true;
    options.by.reset();
  }

  // Redis's LIMIT arithmetic, bounded by the length.
  const int64_t length = found.type == Type::kNone ? 0 : static_cast<int64_t>(found.meta.size);
  int64_t start = std::min(std::max<int64_t>(options.limit_start, 0), length);
  const int64_t count = std::min(std::max<int64_t>(options.limit_count, -1), length);
  int64_t end = count < 0 ? length - 1 : start + count - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;

  EKV_KV_ASSIGN_OR_RETURN(
      std::vector<SortItem> items,
      LoadItems(ex, args[1], found, options.dontsort, options.desc, &start, &end));

  bool conversion_error = false;
  if (!options.dontsort) {
    for (SortItem& item : items) {
      std::optional<std::string> weight;
      if (options.by.has_value()) {
        bool refused = false;
        EKV_KV_ASSIGN_OR_RETURN(weight, PatternValue(ex, *options.by, item.element, &refused));
        if (refused) return PatternRefused("BY");
        if (!weight.has_value()) continue;  // weight 0 (numeric), or none (ALPHA)
      } else {
        weight = item.element;
      }
      if (options.alpha) {
        if (options.by.has_value()) item.by_value = std::move(weight);
      } else if (!ParseSortScore(*weight, &item.score)) {
        conversion_error = true;
      }
    }
    // Redis's sortCompare; std::stable_sort keeps equal weights in load order, as glibc's
    // qsort (a merge sort) does.
    const bool by_pattern = options.by.has_value();
    auto compare = [&](const SortItem& a, const SortItem& b) {
      int cmp = 0;
      if (!options.alpha) {
        if (a.score != b.score) {
          cmp = a.score > b.score ? 1 : -1;
        } else {
          cmp = a.element.compare(b.element);  // equal scores: a deterministic order
        }
      } else if (by_pattern) {
        if (!a.by_value.has_value() || !b.by_value.has_value()) {
          cmp = a.by_value.has_value() == b.by_value.has_value() ? 0
                : a.by_value.has_value()                         ? 1
                                                                 : -1;
        } else {
          cmp = a.by_value->compare(*b.by_value);
        }
      } else {
        cmp = a.element.compare(b.element);
      }
      return options.desc ? cmp > 0 : cmp < 0;
    };
    std::stable_sort(items.begin(), items.end(), compare);
  }
  if (conversion_error)
    return Reply::Error("ERR One or more scores can't be converted into double");

  // Layout: the elements in [start, end], or for each its GET values in order.
  std::vector<std::optional<std::string>> out;
  for (int64_t j = start; j <= end; ++j) {
    const std::string& element = items[static_cast<size_t>(j)].element;
    if (options.gets.empty()) {
      out.emplace_back(element);
      continue;
    }
    for (const std::string& pattern : options.gets) {
      bool refused = false;
      EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> value,
                              PatternValue(ex, pattern, element, &refused));
      if (refused) return PatternRefused("GET");
      out.push_back(std::move(value));
    }
  }
  if (options.store.has_value()) {
    std::vector<std::string> values;
    values.reserve(out.size());
    for (std::optional<std::string>& value : out) values.push_back(value.value_or(""));
    EKV_KV_RETURN_IF_ERROR(StoreList(ex, *options.store, values));
    return Reply::Integer(static_cast<int64_t>(values.size()));
  }
  std::vector<Reply> replies;
  replies.reserve(out.size());
  for (std::optional<std::string>& value : out) {
    replies.push_back(value.has_value() ? Reply::Bulk(*value) : Reply::Nil());
  }
  return Reply::Array(std::move(replies));
}

}  // namespace

EKV_REDIS_HANDLER(CmdSort) { return Sort(ex, args, /*read_only=*/false); }
EKV_REDIS_HANDLER(CmdSortRo) { return Sort(ex, args, /*read_only=*/true); }

std::vector<std::string> SortKeys(const Args& args) {
  // Redis 7.0's sortGetKeys: the sorted key, and the last STORE's destination; LIMIT, GET
  // and BY skip their arguments, any other word is taken as an option without one.
  std::vector<std::string> keys;
  if (args.size() < 2) return keys;
  keys.push_back(args[1]);
  std::optional<std::string> destination;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string word = absl::AsciiStrToLower(args[i]);
    if (word == "limit") {
      i += 2;
    } else if (word == "get" || word == "by") {
      i += 1;
    } else if (word == "store" && i + 1 < args.size()) {
      destination = args[i + 1];
    }
  }
  if (destination.has_value()) keys.push_back(*std::move(destination));
  return keys;
}

std::vector<std::string> SortRoKeys(const Args& args) {
  if (args.size() < 2) return {};
  return {args[1]};
}

}  // namespace ekv::redis_core
