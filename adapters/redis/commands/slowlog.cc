// SLOWLOG GET [count] | LEN | RESET | HELP (Redis 7.0's slowlogCommand) over the node's
// SlowLog (slow_log.h), which Dispatch, pipelined runs, EXEC and blocked clients fill.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/resp_parser.h"
#include "adapters/redis/resp_writer.h"
#include "adapters/redis/server_control.h"
#include "adapters/redis/slow_log.h"

namespace ekv::redis {

void SlowlogCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  ConnectionState& c = *context.connection;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  c.last_command = absl::StrCat("slowlog|", sub);
  if (c.server == nullptr || c.server->stats().slowlog == nullptr) {
    return context.reply(ErrorReply("ERR SLOWLOG needs a running server"));
  }
  SlowLog& log = *c.server->stats().slowlog;
  RespWriter writer(c.protocol);
  if (sub == "help" && args.size() == 2) {
    static constexpr absl::string_view kHelp[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    };
    writer.ArrayHeader(std::size(kHelp));
    for (absl::string_view line : kHelp) writer.SimpleString(line);
  } else if (sub == "reset" && args.size() == 2) {
    log.Reset();
    writer.SimpleString("OK");
  } else if (sub == "len" && args.size() == 2) {
    writer.Integer(static_cast<int64_t>(log.size()));
  } else if (sub == "get" && (args.size() == 2 || args.size() == 3)) {
    size_t count = 10;
    if (args.size() == 3) {
      // Redis answers a count it cannot parse with the range's words too.
      long long parsed = 0;
      if (!ParseRedisInt64(args[2], &parsed) || parsed < -1) {
        return context.reply(ErrorReply("ERR count should be greater than or equal to -1"));
      }
      count = parsed == -1 ? log.size() : static_cast<size_t>(parsed);
    }
    const std::vector<SlowLog::Entry> entries = log.Newest(count);
    writer.ArrayHeader(entries.size());
    for (const SlowLog::Entry& entry : entries) {
      writer.ArrayHeader(6);
      writer.Integer(entry.id);
      writer.Integer(entry.unix_seconds);
      writer.Integer(entry.usec);
      writer.ArrayHeader(entry.args.size());
      for (const std::string& arg : entry.args) writer.Bulk(arg);
      writer.Bulk(entry.peer);
      writer.Bulk(entry.client_name);
    }
  } else {
    // addReplySubcommandSyntaxError: an unknown subcommand was refused by Dispatch, so
    // this is a known one with arguments it does not take.
    return context.reply(ErrorReply(
        absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                     absl::string_view(args[1].c_str()).substr(0, 128), "'. Try SLOWLOG HELP.")));
  }
  context.reply(writer.Take());
}

}  // namespace ekv::redis
