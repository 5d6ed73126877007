// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB. The
// connection keeps its own channel and pattern sets; the server's registry (through
// ServerControl) knows every subscriber of the node, and PUBLISH reaches the other nodes
// through the server's fan-out. Confirmations are one reply per channel, as pushes in
// RESP3, all in the one reply string of the command.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/resp_writer.h"

namespace ekv::redis {
namespace {

void WriteConfirmation(RespWriter& writer, absl::string_view kind, const std::string* name,
                       size_t count) {
  writer.PushHeader(3);
  writer.Bulk(kind);
  if (name == nullptr) {
    writer.Null();
  } else {
    writer.Bulk(*name);
  }
  writer.Integer(static_cast<int64_t>(count));
}

void Subscribe(CommandContext& context, bool pattern) {
  ConnectionState& c = *context.connection;
  if (c.server == nullptr) {
    return context.reply(ErrorReply("ERR SUBSCRIBE needs a running server"));
  }
  std::set<std::string>& mine = pattern ? c.patterns : c.channels;
  RespWriter writer(c.protocol);
  for (size_t i = 1; i < context.args.size(); ++i) {
    const std::string& name = context.args[i];
    if (mine.insert(name).second) c.server->Subscribe(c, name, pattern);
    WriteConfirmation(writer, pattern ? "psubscribe" : "subscribe", &name, c.subscriptions());
  }
  c.pushing_reply = true;
  context.reply(writer.Take());
}

void Unsubscribe(CommandContext& context, bool pattern) {
  ConnectionState& c = *context.connection;
  const absl::string_view kind = pattern ? "punsubscribe" : "unsubscribe";
  std::set<std::string>& mine = pattern ? c.patterns : c.channels;
  std::vector<std::string> names(context.args.begin() + 1, context.args.end());
  if (names.empty()) names.assign(mine.begin(), mine.end());  // all of them
  RespWriter writer(c.protocol);
  if (names.empty()) {
    // Nothing to leave: one confirmation with a null name, as Redis answers.
    WriteConfirmation(writer, kind, nullptr, c.subscriptions());
  }
  for (const std::string& name : names) {
    if (mine.erase(name) > 0 && c.server != nullptr) c.server->Unsubscribe(c, name, pattern);
    WriteConfirmation(writer, kind, &name, c.subscriptions());
  }
  c.pushing_reply = true;
  context.reply(writer.Take());
}

}  // namespace

void SubscribeCommand(CommandContext context) { Subscribe(context, false); }
void PsubscribeCommand(CommandContext context) { Subscribe(context, true); }
void UnsubscribeCommand(CommandContext context) { Unsubscribe(context, false); }
void PunsubscribeCommand(CommandContext context) { Unsubscribe(context, true); }

void PublishCommand(CommandContext context) {
  ServerControl* server = context.connection->server;
  if (server == nullptr) return context.reply(ErrorReply("ERR PUBLISH needs a running server"));
  server->Publish(
      std::move(context.args[1]), std::move(context.args[2]),
      [reply = std::move(context.reply)](int64_t receivers) { reply(IntegerReply(receivers)); });
}

void PubsubCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  ConnectionState& c = *context.connection;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  c.last_command = absl::StrCat("pubsub|", sub);
  if (c.server == nullptr) return context.reply(ErrorReply("ERR PUBSUB needs a running server"));
  const size_t argc = args.size();
  auto unknown_or_arity = [&] {
    context.reply(
        ErrorReply(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                absl::string_view(args[1]).substr(0, 128), "'. Try PUBSUB HELP.")));
  };
  RespWriter writer(c.protocol);
  if (sub == "channels" || sub == "shardchannels") {
    if (argc > 3) return unknown_or_arity();
    // ekv has no shard channels (no cluster slots): SSUBSCRIBE does not exist.
    const std::vector<std::string> names =
        sub == "channels" ? c.server->ActiveChannels(argc == 3 ? absl::string_view(args[2]) : "")
                          : std::vector<std::string>{};
    writer.ArrayHeader(names.size());
    for (const std::string& name : names) writer.Bulk(name);
  } else if (sub == "numsub" || sub == "shardnumsub") {
    writer.ArrayHeader(2 * (argc - 2));
    for (size_t i = 2; i < argc; ++i) {
      writer.Bulk(args[i]);
      writer.Integer(sub == "numsub" ? c.server->ChannelSubscribers(args[i]) : 0);
    }
  } else if (sub == "numpat") {
    if (argc != 2)
      return context.reply(ErrorReply("ERR wrong number of arguments for 'pubsub|numpat' command"));
    writer.Integer(c.server->PatternCount());
  } else if (sub == "help") {
    if (argc != 2)
      return context.reply(ErrorReply("ERR wrong number of arguments for 'pubsub|help' command"));
    static constexpr absl::string_view kHelp[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Print this help.",
    };
    writer.ArrayHeader(std::size(kHelp));
    for (absl::string_view line : kHelp) writer.SimpleString(line);
  } else {
    return context.reply(UnknownSubcommandReply(args[1], "PUBSUB"));
  }
  context.reply(writer.Take());
}

}  // namespace ekv::redis
