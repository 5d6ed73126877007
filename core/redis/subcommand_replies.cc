#include "core/redis/subcommand_replies.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ekv::redis_core {
namespace {

constexpr size_t kMaxSubcommandEcho = 128;  // Redis's %.128s

}  // namespace

Reply SubcommandHelp(absl::string_view command, absl::Span<const char* const> body) {
  std::vector<Reply> lines;
  lines.reserve(body.size() + 3);
  lines.push_back(Reply::Status(
      absl::StrCat(command, " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")));
  for (const char* line : body) lines.push_back(Reply::Status(line));
  lines.push_back(Reply::Status("HELP"));
  lines.push_back(Reply::Status("    Prints this help."));
  return Reply::Array(std::move(lines));
}

Reply UnknownSubcommand(absl::string_view command, absl::string_view subcommand) {
  return Reply::Error(absl::StrCat("ERR unknown subcommand '",
                                   subcommand.substr(0, kMaxSubcommandEcho), "'. Try ", command,
                                   " HELP."));
}

Reply SubcommandSyntaxError(absl::string_view command, absl::string_view subcommand) {
  return Reply::Error(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                   subcommand.substr(0, kMaxSubcommandEcho), "'. Try ", command,
                                   " HELP."));
}

}  // namespace ekv::redis_core
