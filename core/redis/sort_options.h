// SORT's and SORT_RO's arguments as Redis 7.0's sortCommandGeneric reads them, and the
// keys its patterns name (lookupKeyByPattern): parsing apart from running (commands_sort.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

struct SortOptions {
  bool desc = false;
  bool alpha = false;
  int64_t limit_start = 0;
  int64_t limit_count = -1;  // -1: to the end
  std::optional<std::string> by;
  // A BY pattern without '*' (a constant, "nosort" by convention) means: do not sort.
  // Sticky, as in Redis: a later BY with '*' does not undo it.
  bool dontsort = false;
  std::vector<std::string> gets;     // GET patterns, in order
  std::optional<std::string> store;  // STORE destination (the last one given); SORT only
};

// The options of args (args[1] is the key), or the error reply Redis gives: "ERR value
// is not an integer or out of range" for a bad LIMIT, "ERR syntax error" for anything else
// (STORE included, for SORT_RO).
std::variant<SortOptions, Reply> ParseSortOptions(const Args& args, bool read_only);

// Where a pattern leads for one element: "#" is the element itself; a pattern without
// '*' leads nowhere; otherwise the first '*' is replaced by the element, and a "->field"
// after it (with a non-empty field) names a hash field of that key.
struct PatternTarget {
  enum class Kind { kElement, kNothing, kKey } kind = Kind::kNothing;
  std::string key;
  std::optional<std::string> field;
};
PatternTarget ResolvePattern(absl::string_view pattern, absl::string_view element);

}  // namespace ekv::redis_core
