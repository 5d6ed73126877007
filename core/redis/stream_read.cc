#include "core/redis/stream_read.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {

XReadArgs ParseXRead(const std::vector<std::string>& args, bool from_script) {
  XReadArgs out;
  out.xreadgroup = absl::EndsWithIgnoreCase(args[0], "xreadgroup");
  const bool group = out.xreadgroup;
  bool group_given = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const bool more = i + 1 < args.size();
    if (absl::EqualsIgnoreCase(args[i], "block") && more) {
      if (from_script) {
        out.error = Reply::Error(absl::StrCat(
            "ERR ", args[0], " command is not allowed with BLOCK option from scripts"));
        return out;
      }
      // Redis 7.0's getTimeoutFromObjectOrReply in milliseconds.
      std::optional<int64_t> ms = ParseInt64(args[++i]);
      if (!ms.has_value()) {
        out.error = Reply::Error("ERR timeout is not an integer or out of range");
        return out;
      }
      if (*ms < 0) {
        out.error = Reply::Error("ERR timeout is negative");
        return out;
      }
      out.block_ms = *ms;
    } else if (absl::EqualsIgnoreCase(args[i], "count") && more) {
      std::optional<int64_t> count = ParseInt64(args[++i]);
      if (!count.has_value()) {
        out.error = NotIntegerError();
        return out;
      }
      out.count = *count < 0 ? 0 : *count;
    } else if (absl::EqualsIgnoreCase(args[i], "streams") && more) {
      const size_t rest = args.size() - (i + 1);
      if (rest % 2 != 0) {
        // Redis 7.0 says XREAD and '$' for XREADGROUP too.
        out.error = Reply::Error(
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
            "specified.");
        return out;
      }
      out.streams_index = i + 1;
      out.streams_count = rest / 2;
      break;
    } else if (absl::EqualsIgnoreCase(args[i], "group") && i + 2 < args.size()) {
      if (!group) {
        out.error = Reply::Error(
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return out;
      }
      out.group = args[i + 1];
      out.consumer = args[i + 2];
      group_given = true;
      i += 2;
    } else if (absl::EqualsIgnoreCase(args[i], "noack")) {
      if (!group) {
        out.error = Reply::Error(
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return out;
      }
      out.noack = true;
    } else {
      out.error = SyntaxError();
      return out;
    }
  }
  if (out.streams_index == 0) {
    out.error = SyntaxError();  // STREAMS is mandatory
  } else if (group && !group_given) {
    out.error = Reply::Error("ERR Missing GROUP option for XREADGROUP");
  }
  return out;
}

std::vector<std::string> XReadKeys(const std::vector<std::string>& args) {
  // Redis's key specifications look for STREAMS from argument 1 (XREAD) or 4 (XREADGROUP,
  // after GROUP group consumer).
  const size_t from = absl::EndsWithIgnoreCase(args[0], "xreadgroup") ? 4 : 1;
  for (size_t i = from; i < args.size(); ++i) {
    if (!absl::EqualsIgnoreCase(args[i], "streams")) continue;
    const size_t rest = args.size() - (i + 1);
    if (rest == 0 || rest % 2 != 0) return {};
    return std::vector<std::string>(args.begin() + i + 1, args.begin() + i + 1 + rest / 2);
  }
  return {};
}

}  // namespace ekv::redis_core
