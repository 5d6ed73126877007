#include "core/redis/blocking.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/redis/numbers.h"
#include "core/redis/stream_read.h"

namespace ekv::redis_core {

BlockTimeout ParseBlockTimeout(absl::string_view text, uint64_t now_ms) {
  (void)now_ms;
  BlockTimeout out;
  std::optional<long double> seconds = ParseLongDouble(text);
  if (!seconds.has_value()) {
    out.error = Reply::Error("ERR timeout is not a float or out of range");
    return out;
  }
  // Redis 7.0.15: (long long)ceill(seconds * 1000), rounded up so that a timeout under a
  // millisecond (0.0001) still times out rather than meaning forever (-0.0001 rounds up to
  // 0, forever); a value the cast cannot hold (1e30, inf) becomes LLONG_MIN on x86-64,
  // hence "negative" too.
  const long double ms = std::ceil(*seconds * 1000.0L);
  constexpr long double kLimit = 9223372036854775808.0L;  // 2^63
  if (!(ms < kLimit) || ms < -kLimit || static_cast<int64_t>(ms) < 0) {
    out.error = Reply::Error("ERR timeout is negative");
    return out;
  }
  // Beyond a century is forever in practice (Redis's deadline would overflow there).
  constexpr int64_t kForeverMs = int64_t{100} * 365 * 24 * 3600 * 1000;
  const int64_t value = static_cast<int64_t>(ms);
  out.ms = value > kForeverMs ? 0 : static_cast<uint64_t>(value);
  return out;
}

bool IsBlockingCommand(absl::string_view name) {
  return name == "blpop" || name == "brpop" || name == "blmove" || name == "brpoplpush" ||
         name == "blmpop" || name == "bzpopmin" || name == "bzpopmax" || name == "bzmpop" ||
         name == "xread" || name == "xreadgroup";
}

bool BlockedMissPassesOn(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  return lower == "xreadgroup" || lower == "ekv-serve-xreadgroup";
}

std::string ServeFormOf(absl::string_view name) {
  return absl::StrCat("ekv-serve-", absl::AsciiStrToLower(name));
}

bool ServesOneKey(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  return lower == "xread" || lower == "xreadgroup" || lower == "blpop" || lower == "brpop" ||
         lower == "bzpopmin" || lower == "bzpopmax" || lower == "blmpop" || lower == "bzmpop";
}

std::vector<std::string> ServeOnKey(const std::vector<std::string>& args, absl::string_view key) {
  std::vector<std::string> out = args;
  out.front() = ServeFormOf(args.front());
  if (!ServesOneKey(args.front())) return out;
  const std::string name = absl::AsciiStrToLower(args.front());
  if (name == "blmpop" || name == "bzmpop") {
    // timeout numkeys key... direction [COUNT n]: one key.
    if (args.size() < 4) return out;
    std::optional<int64_t> count = ParseInt64(args[2]);
    if (!count.has_value() || *count < 1 || 3 + static_cast<size_t>(*count) > args.size()) {
      return out;
    }
    const auto first = args.begin() + 3;
    const auto last = first + *count;
    if (std::find(first, last, key) == last) return out;
    std::vector<std::string> narrowed = {out.front(), args[1], "1", std::string(key)};
    narrowed.insert(narrowed.end(), last, args.end());
    return narrowed;
  }
  if (name != "xread" && name != "xreadgroup") {
    // key... timeout: one key.
    if (args.size() < 3 || std::find(args.begin() + 1, args.end() - 1, key) == args.end() - 1) {
      return out;
    }
    return {out.front(), std::string(key), args.back()};
  }
  const XReadArgs parsed = ParseXRead(args);
  if (parsed.error.has_value()) return out;
  for (size_t i = 0; i < parsed.streams_count; ++i) {
    if (args[parsed.streams_index + i] != key) continue;
    out.resize(parsed.streams_index);
    out.emplace_back(key);
    out.push_back(args[parsed.streams_index + parsed.streams_count + i]);
    return out;
  }
  return out;
}

size_t BlockTimeoutIndex(const std::vector<std::string>& args) {
  if (args.size() < 2) return 0;
  const std::string name = absl::AsciiStrToLower(args[0]);
  if (name == "blmpop" || name == "bzmpop") return 1;
  if (name == "blmove") return args.size() > 5 ? 5 : 0;
  if (name == "brpoplpush") return args.size() > 3 ? 3 : 0;
  return args.size() - 1;
}

std::vector<std::string> BlockingKeys(const std::vector<std::string>& args) {
  std::vector<std::string> keys;
  if (args.size() < 3) return keys;
  const std::string name = absl::AsciiStrToLower(args[0]);
  if (name == "blmove" || name == "brpoplpush") {
    keys.push_back(args[1]);
  } else if (name == "blmpop" || name == "bzmpop") {
    std::optional<int64_t> count = ParseInt64(args[2]);
    if (!count.has_value()) return keys;
    for (int64_t i = 0; i < *count && 3 + static_cast<size_t>(i) < args.size(); ++i) {
      keys.push_back(args[3 + i]);
    }
  } else {
    keys.assign(args.begin() + 1, args.end() - 1);
  }
  return keys;
}

MultiPopCount ParseMultiPopCount(const std::vector<std::string>& args, size_t first) {
  MultiPopCount out;
  bool seen = false;
  for (size_t j = first; j < args.size(); ++j) {
    if (!seen && absl::EqualsIgnoreCase(args[j], "count") && j + 1 < args.size()) {
      std::optional<int64_t> parsed = ParseInt64(args[++j]);
      if (!parsed.has_value() || *parsed < 1) {
        out.error = Reply::Error("ERR count should be greater than 0");
        return out;
      }
      out.count = *parsed;
      seen = true;
    } else {
      out.error = SyntaxError();
      return out;
    }
  }
  return out;
}

}  // namespace ekv::redis_core
