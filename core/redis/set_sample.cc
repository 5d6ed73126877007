#include "core/redis/set_sample.h"

#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"

namespace ekv::redis_core {
namespace {

// The first (or, `reverse`, the last) member in [from, to) (member bytes; empty `to`: no
// bound), as the pending writes leave the set.
absl::StatusOr<std::optional<std::string>> MemberIn(Executor& ex, absl::string_view key,
                                                    const Meta& meta, absl::string_view from,
                                                    absl::string_view to, bool reverse) {
  const std::string prefix = ElementPrefix(key, meta);
  const std::string hi = to.empty() ? PrefixEnd(prefix) : absl::StrCat(prefix, to);
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex.store().Scan(absl::StrCat(prefix, from), hi, 1, reverse));
  if (records.empty()) return std::nullopt;
  return records.front().first.substr(prefix.size());
}

}  // namespace

absl::StatusOr<std::string> RandomSetMember(Executor& ex, absl::string_view key, const Meta& meta) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> lo, MemberIn(ex, key, meta, "", "", false));
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> hi, MemberIn(ex, key, meta, "", "", true));
  if (!lo.has_value() || !hi.has_value()) {
    return absl::InternalError("redis: a random member of an empty set");
  }
  for (int level = 0; level < kMaxSampleLevels && *lo != *hi; ++level) {
    // Every member in [lo, hi] starts with their common prefix; the next byte after it
    // splits them. Pick that byte uniformly among those between lo's and hi's (or lo
    // itself, when lo is the prefix), then narrow to the members with it.
    size_t common = 0;
    while (common < lo->size() && common < hi->size() && (*lo)[common] == (*hi)[common]) ++common;
    const std::string prefix = lo->substr(0, common);
    const bool lo_is_prefix = lo->size() == common;
    std::optional<std::string> next = lo;
    if (lo_is_prefix) {
      // The member after lo gives the smallest next byte.
      EKV_KV_ASSIGN_OR_RETURN(
          next, MemberIn(ex, key, meta, absl::StrCat(*lo, std::string(1, '\0')), "", false));
      if (!next.has_value() || next->size() <= common) return *lo;
    }
    const uint64_t low_byte = static_cast<uint8_t>((*next)[common]);
    const uint64_t high_byte = static_cast<uint8_t>((*hi)[common]);
    const uint64_t options = (lo_is_prefix ? 1 : 0) + (high_byte - low_byte + 1);
    uint64_t choice = ex.NextRandom() % options;
    if (lo_is_prefix) {
      if (choice == 0) return *lo;
      --choice;
    }
    const std::string branch =
        absl::StrCat(prefix, std::string(1, static_cast<char>(low_byte + choice)));
    EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> first,
                            MemberIn(ex, key, meta, branch, "", false));
    // hi starts with a byte >= the branch's, so some member is at or after the branch.
    if (!first.has_value()) return *hi;
    if (!absl::StartsWith(*first, branch)) return *first;  // no member there: the next one
    EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> last,
                            MemberIn(ex, key, meta, branch, PrefixEnd(branch), true));
    lo = std::move(first);
    hi = last.has_value() ? std::move(last) : lo;
  }
  return *lo;
}

}  // namespace ekv::redis_core
