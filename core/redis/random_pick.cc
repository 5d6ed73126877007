#include "core/redis/random_pick.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {

RandomCount ParseRandomCount(const Args& args, absl::string_view with_word) {
  RandomCount out;
  if (args.size() < 3) return out;
  out.has_count = true;
  std::optional<int64_t> count = ParseInt64(args[2]);
  if (!count.has_value()) {
    out.error = NotIntegerError();
    return out;
  }
  if (*count == INT64_MIN) {
    out.error = Reply::Error(absl::StrCat("ERR value is out of range, value must between ",
                                          -INT64_MAX, " and ", INT64_MAX));
    return out;
  }
  out.count = *count;
  if (args.size() > 4 || (args.size() == 4 && !absl::EqualsIgnoreCase(args[3], with_word))) {
    out.error = SyntaxError();
    return out;
  }
  if (args.size() == 4) {
    out.with = true;
    // Redis refuses what would overflow its reply length (count * 2).
    if (out.count < -INT64_MAX / 2 || out.count > INT64_MAX / 2) {
      out.error = Reply::Error("ERR value is out of range");
      return out;
    }
  }
  if (out.count < 0 && static_cast<uint64_t>(-out.count) > kMaxRandomPicks) {
    out.error = Reply::Error(
        absl::StrCat("ERR ekv answers at most ", kMaxRandomPicks, " repeated random picks"));
  }
  return out;
}

std::vector<size_t> PickRandomIndexes(Executor& ex, size_t size, int64_t count) {
  std::vector<size_t> out;
  if (size == 0 || count == 0) return out;
  if (count < 0 || count == 1) {
    // With repetition (count 1 too: Redis serves it by this path).
    const uint64_t picks = count < 0 ? static_cast<uint64_t>(-count) : 1;
    out.reserve(picks);
    for (uint64_t i = 0; i < picks; ++i) out.push_back(ex.NextRandom() % size);
    return out;
  }
  out.resize(size);
  std::iota(out.begin(), out.end(), size_t{0});
  if (static_cast<uint64_t>(count) >= size) return out;  // the whole collection, in order
  // Distinct: a deterministic partial shuffle.
  const size_t n = static_cast<size_t>(count);
  for (size_t i = 0; i < n; ++i) {
    const size_t pick = i + ex.NextRandom() % (size - i);
    std::swap(out[i], out[pick]);
  }
  out.resize(n);
  return out;
}

}  // namespace ekv::redis_core
