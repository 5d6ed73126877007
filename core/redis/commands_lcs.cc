// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (Redis 7.0 lcsCommand): the
// longest common subsequence of two strings by the textbook dynamic programme, walked
// back from the end as Redis walks it, so the string and the match ranges (IDX) are the
// ones Redis answers. The table is bounded (kMaxLcsCells): beyond it LCS is refused in
// Redis's words for a table it cannot allocate.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "core/kv/status_macros.h"
#include "core/redis/numbers.h"
#include "core/redis/string_lookup.h"

namespace ekv::redis_core {
namespace {

// (len(a) + 1) * (len(b) + 1) cells of 4 bytes: 256 MB at most.
constexpr uint64_t kMaxLcsCells = uint64_t{64} * 1024 * 1024;

}  // namespace

EKV_REDIS_HANDLER(CmdLcs) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup first, LookupString(ex, args[1]));
  EKV_KV_ASSIGN_OR_RETURN(StringLookup second, LookupString(ex, args[2]));
  if (first.error.has_value() || second.error.has_value()) {
    return Reply::Error("ERR The specified keys must contain string values");
  }
  bool get_index = false;
  bool get_length = false;
  bool with_match_length = false;
  int64_t min_match_length = 0;
  for (size_t j = 3; j < args.size(); ++j) {
    const size_t more = args.size() - 1 - j;
    if (absl::EqualsIgnoreCase(args[j], "idx")) {
      get_index = true;
    } else if (absl::EqualsIgnoreCase(args[j], "len")) {
      get_length = true;
    } else if (absl::EqualsIgnoreCase(args[j], "withmatchlen")) {
      with_match_length = true;
    } else if (absl::EqualsIgnoreCase(args[j], "minmatchlen") && more > 0) {
      std::optional<int64_t> parsed = ParseInt64(args[j + 1]);
      if (!parsed.has_value()) return NotIntegerError();
      min_match_length = std::max<int64_t>(*parsed, 0);
      ++j;
    } else {
      return SyntaxError();
    }
  }
  if (get_index && get_length) {
    return Reply::Error("ERR If you want both the length and indexes, please just use IDX.");
  }
  const std::string a = first.value.has_value() ? first.value->value : "";
  const std::string b = second.value.has_value() ? second.value->value : "";
  const uint64_t a_length = a.size();
  const uint64_t b_length = b.size();
  if ((a_length + 1) * (b_length + 1) > kMaxLcsCells) {
    return Reply::Error(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  // dp[i][j]: the LCS length of a[0, i) and b[0, j).
  std::vector<uint32_t> dp((a_length + 1) * (b_length + 1), 0);
  auto cell = [&](uint64_t i, uint64_t j) -> uint32_t& { return dp[j + i * (b_length + 1)]; };
  for (uint64_t i = 1; i <= a_length; ++i) {
    for (uint64_t j = 1; j <= b_length; ++j) {
      cell(i, j) =
          a[i - 1] == b[j - 1] ? cell(i - 1, j - 1) + 1 : std::max(cell(i - 1, j), cell(i, j - 1));
    }
  }
  const uint32_t total = cell(a_length, b_length);
  if (get_length) return Reply::Integer(total);

  std::string result(total, '\0');
  std::vector<Reply> matches;
  uint32_t index = total;
  uint64_t i = a_length;
  uint64_t j = b_length;
  bool in_range = false;
  uint64_t a_start = 0, a_end = 0, b_start = 0, b_end = 0;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result[index - 1] = a[i - 1];
      if (!in_range) {
        in_range = true;
        a_start = a_end = i - 1;
        b_start = b_end = j - 1;
      } else if (a_start == i && b_start == j) {
        --a_start;  // the range grows backwards while the matches are contiguous
        --b_start;
      } else {
        emit = true;
      }
      if (a_start == 0 || b_start == 0) emit = true;
      --index;
      --i;
      --j;
    } else {
      if (cell(i - 1, j) > cell(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (in_range) emit = true;
    }
    if (emit) {
      const int64_t match_length = static_cast<int64_t>(a_end - a_start + 1);
      if (get_index && (min_match_length == 0 || match_length >= min_match_length)) {
        std::vector<Reply> match = {Reply::Array({Reply::Integer(static_cast<int64_t>(a_start)),
                                                  Reply::Integer(static_cast<int64_t>(a_end))}),
                                    Reply::Array({Reply::Integer(static_cast<int64_t>(b_start)),
                                                  Reply::Integer(static_cast<int64_t>(b_end))})};
        if (with_match_length) match.push_back(Reply::Integer(match_length));
        matches.push_back(Reply::Array(std::move(match)));
      }
      in_range = false;
    }
  }
  if (get_index) {
    return Reply::Map({Reply::Bulk("matches"), Reply::Array(std::move(matches)), Reply::Bulk("len"),
                       Reply::Integer(total)});
  }
  return Reply::Bulk(result);
}

}  // namespace ekv::redis_core
