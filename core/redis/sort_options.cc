#include "core/redis/sort_options.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {

std::variant<SortOptions, Reply> ParseSortOptions(const Args& args, bool read_only) {
  SortOptions options;
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t left = args.size() - j - 1;  // arguments after this one
    const std::string word = absl::AsciiStrToLower(args[j]);
    if (word == "asc") {
      options.desc = false;
    } else if (word == "desc") {
      options.desc = true;
    } else if (word == "alpha") {
      options.alpha = true;
    } else if (word == "limit" && left >= 2) {
      const std::optional<int64_t> start = ParseInt64(args[j + 1]);
      const std::optional<int64_t> count = ParseInt64(args[j + 2]);
      if (!start.has_value() || !count.has_value()) {
        return Reply::Error("ERR value is not an integer or out of range");
      }
      options.limit_start = *start;
      options.limit_count = *count;
      j += 2;
    } else if (!read_only && word == "store" && left >= 1) {
      options.store = args[++j];
    } else if (word == "by" && left >= 1) {
      options.by = args[++j];
      if (options.by->find('*') == std::string::npos) options.dontsort = true;
    } else if (word == "get" && left >= 1) {
      options.gets.push_back(args[++j]);
    } else {
      return Reply::Error("ERR syntax error");
    }
  }
  return options;
}

PatternTarget ResolvePattern(absl::string_view pattern, absl::string_view element) {
  PatternTarget target;
  // Redis searches the pattern as a C string (strchr, strstr: nothing after a NUL byte is
  // found) but copies the postfix and the field by the pattern's length.
  const absl::string_view searched = pattern.substr(0, pattern.find('\0'));
  if (searched == "#") {
    target.kind = PatternTarget::Kind::kElement;
    return target;
  }
  const size_t star = searched.find('*');
  if (star == absl::string_view::npos) return target;
  size_t postfix_end = pattern.size();
  const size_t arrow = searched.find("->", star + 1);
  if (arrow != absl::string_view::npos && arrow + 2 < searched.size()) {
    target.field = std::string(pattern.substr(arrow + 2));
    postfix_end = arrow;
  }
  target.kind = PatternTarget::Kind::kKey;
  target.key = absl::StrCat(pattern.substr(0, star), element,
                            pattern.substr(star + 1, postfix_end - star - 1));
  return target;
}

}  // namespace ekv::redis_core
