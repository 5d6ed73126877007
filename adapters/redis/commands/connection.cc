// Connection and server commands: PING, ECHO, HELLO, SELECT, QUIT, COMMAND. They touch
// only the connection's state and the command table, so they answer at once.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "adapters/redis/acl_catalog.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/resp_parser.h"
#include "adapters/redis/resp_writer.h"
#include "core/redis/glob.h"

namespace ekv::redis {

// What HELLO and INFO report as the server and its version: the Redis release whose
// commands and replies ekv follows byte for byte, so clients that gate features on it
// pick Redis 7 behaviour. INFO's ekv_front_door line tells an operator it is ekv.
constexpr absl::string_view kCompatibleRedisVersion = "7.0.15";

void PingCommand(CommandContext context) {
  if (context.args.size() > 2) {
    return context.reply(ErrorReply("ERR wrong number of arguments for 'ping' command"));
  }
  RespWriter writer(context.connection->protocol);
  if (context.connection->protocol == 2 && context.connection->subscriptions() > 0) {
    // A RESP2 subscriber reads every reply as a pub/sub message, so PING answers in
    // that shape (Redis: "pong" and the argument, or an empty bulk).
    writer.ArrayHeader(2);
    writer.Bulk("pong");
    writer.Bulk(context.args.size() == 2 ? absl::string_view(context.args[1]) : "");
  } else if (context.args.size() == 2) {
    writer.Bulk(context.args[1]);
  } else {
    writer.SimpleString("PONG");
  }
  context.reply(writer.Take());
}

void EchoCommand(CommandContext context) {
  RespWriter writer(context.connection->protocol);
  writer.Bulk(context.args[1]);
  context.reply(writer.Take());
}

void HelloCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  long long version = 0;
  size_t next = 1;
  if (args.size() >= 2) {
    if (!ParseRedisInt64(args[1], &version)) {
      return context.reply(ErrorReply("ERR Protocol version is not an integer or out of range"));
    }
    ++next;
    if (version < 2 || version > 3) {
      return context.reply(ErrorReply("NOPROTO unsupported protocol version"));
    }
  }
  std::string client_name;
  bool set_name = false;
  bool auth = false;
  std::string auth_user, auth_password;
  for (size_t i = next; i < args.size(); ++i) {
    const size_t more = args.size() - 1 - i;
    if (absl::EqualsIgnoreCase(args[i], "AUTH") && more >= 2) {
      auth_user = args[i + 1];
      auth_password = args[i + 2];
      auth = true;
      i += 2;
    } else if (absl::EqualsIgnoreCase(args[i], "SETNAME") && more >= 1) {
      client_name = args[++i];
      set_name = true;
    } else {
      return context.reply(
          ErrorReply(absl::StrCat("ERR Syntax error in HELLO option '", args[i], "'")));
    }
  }
  if (auth) {
    if (!CheckPassword(context.connection, auth_user, auth_password, args[0])) {
      return context.reply(
          ErrorReply("WRONGPASS invalid username-password pair or user is disabled."));
    }
  } else if (!context.connection->authenticated) {
    return context.reply(ErrorReply(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
        "the RESP protocol version at the same time"));
  }
  if (set_name) {
    if (std::string invalid = InvalidClientName(client_name); !invalid.empty()) {
      return context.reply(ErrorReply(invalid));
    }
    context.connection->name = client_name;
  }
  if (version != 0) context.connection->protocol = static_cast<int>(version);
  RespWriter writer(context.connection->protocol);
  writer.MapHeader(7);
  writer.Bulk("server");
  writer.Bulk("redis");
  writer.Bulk("version");
  writer.Bulk(kCompatibleRedisVersion);
  writer.Bulk("proto");
  writer.Integer(context.connection->protocol);
  writer.Bulk("id");
  writer.Integer(static_cast<int64_t>(context.connection->id));
  writer.Bulk("mode");
  writer.Bulk("standalone");
  writer.Bulk("role");
  writer.Bulk("master");
  writer.Bulk("modules");
  writer.ArrayHeader(0);
  context.reply(writer.Take());
}

void SelectCommand(CommandContext context) {
  long long db = 0;
  if (!ParseRedisInt64(context.args[1], &db) || db < INT32_MIN || db > INT32_MAX) {
    return context.reply(ErrorReply("ERR value is not an integer or out of range"));
  }
  // One keyspace: the RawKV keys are database 0. Other databases would need a layout.
  if (db != 0) return context.reply(ErrorReply("ERR DB index is out of range"));
  context.reply(SimpleStringReply("OK"));
}

void QuitCommand(CommandContext context) {
  context.connection->close_after_reply = true;
  context.reply(SimpleStringReply("OK"));
}

namespace {

// In Redis 7.0's order (addReplyCommandFlags).
void WriteFlags(RespWriter& writer, uint32_t flags) {
  static constexpr std::pair<CommandFlag, absl::string_view> kNames[] = {
      {kFlagWrite, "write"},
      {kFlagReadOnly, "readonly"},
      {kFlagDenyOom, "denyoom"},
      {kFlagAdmin, "admin"},
      {kFlagPubSub, "pubsub"},
      {kFlagNoScript, "noscript"},
      {kFlagBlocking, "blocking"},
      {kFlagLoading, "loading"},
      {kFlagStale, "stale"},
      {kFlagSkipMonitor, "skip_monitor"},
      {kFlagSkipSlowlog, "skip_slowlog"},
      {kFlagFast, "fast"},
      {kFlagNoAuth, "no_auth"},
      {kFlagNoMandatoryKeys, "no_mandatory_keys"},
      {kFlagMovableKeys, "movablekeys"},
      {kFlagAllowBusy, "allow_busy"},
  };
  size_t count = 0;
  for (const auto& [flag, name] : kNames) count += (flags & flag) ? 1 : 0;
  writer.SetHeader(count);
  for (const auto& [flag, name] : kNames) {
    if (flags & flag) writer.SimpleString(name);
  }
}

// One key specification as Redis 7.0's COMMAND INFO writes it (maps: flat arrays in RESP2).
void WriteKeySpec(RespWriter& writer, const KeySpec& spec) {
  writer.MapHeader(spec.notes.empty() ? 3 : 4);
  if (!spec.notes.empty()) {
    writer.Bulk("notes");
    writer.Bulk(spec.notes);
  }
  writer.Bulk("flags");
  writer.SetHeader(spec.flags.size());
  for (const std::string& flag : spec.flags) writer.SimpleString(flag);
  writer.Bulk("begin_search");
  writer.MapHeader(2);
  writer.Bulk("type");
  if (spec.unknown_begin) {
    writer.Bulk("unknown");
    writer.Bulk("spec");
    writer.MapHeader(0);
  } else if (spec.keyword.empty()) {
    writer.Bulk("index");
    writer.Bulk("spec");
    writer.MapHeader(1);
    writer.Bulk("index");
    writer.Integer(spec.index);
  } else {
    writer.Bulk("keyword");
    writer.Bulk("spec");
    writer.MapHeader(2);
    writer.Bulk("keyword");
    writer.Bulk(spec.keyword);
    writer.Bulk("startfrom");
    writer.Integer(spec.startfrom);
  }
  writer.Bulk("find_keys");
  writer.MapHeader(2);
  writer.Bulk("type");
  if (spec.unknown_find) {
    writer.Bulk("unknown");
    writer.Bulk("spec");
    writer.MapHeader(0);
    return;
  }
  writer.Bulk(spec.keynum ? "keynum" : "range");
  writer.Bulk("spec");
  writer.MapHeader(3);
  if (spec.keynum) {
    writer.Bulk("keynumidx");
    writer.Integer(spec.keynumidx);
    writer.Bulk("firstkey");
    writer.Integer(spec.firstkey);
    writer.Bulk("keystep");
    writer.Integer(spec.numstep);
  } else {
    writer.Bulk("lastkey");
    writer.Integer(spec.lastkey);
    writer.Bulk("keystep");
    writer.Integer(spec.keystep);
    writer.Bulk("limit");
    writer.Integer(spec.limit);
  }
}

// COMMAND INFO's ten fields for one command (Redis 7 layout), from the command's table entry;
// a container's subcommands are those ekv serves (in name order; Redis's are in its hash
// order).
void WriteInfo(RespWriter& writer, const CommandTable& table, const CommandSpec& spec) {
  writer.ArrayHeader(10);
  writer.Bulk(spec.name);
  writer.Integer(spec.arity);
  WriteFlags(writer, spec.flags);
  writer.Integer(spec.first_key);
  writer.Integer(spec.last_key);
  writer.Integer(spec.key_step);
  // In Redis 7.0's order (its ACL category bits).
  static const std::vector<std::string> kCategoryOrder = {
      "@keyspace",   "@read",        "@write",    "@set",         "@sortedset", "@list",
      "@hash",       "@string",      "@bitmap",   "@hyperloglog", "@geo",       "@stream",
      "@pubsub",     "@admin",       "@fast",     "@slow",        "@blocking",  "@dangerous",
      "@connection", "@transaction", "@scripting"};
  auto rank = [](const std::string& category) {
    return std::find(kCategoryOrder.begin(), kCategoryOrder.end(), category) -
           kCategoryOrder.begin();
  };
  std::vector<std::string> categories = spec.acl_categories;
  std::stable_sort(categories.begin(), categories.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  writer.SetHeader(categories.size());
  for (const std::string& category : categories) writer.SimpleString(category);
  const std::vector<std::string> tips = absl::StrSplit(spec.tips, ' ', absl::SkipEmpty());
  writer.SetHeader(tips.size());
  for (const std::string& tip : tips) writer.Bulk(tip);
  // The table's entries parse (CommandTable's constructor checks them).
  const std::vector<KeySpec> key_specs = *ParseKeySpecs(spec.key_specs);
  writer.SetHeader(key_specs.size());  // sets in RESP3, as Redis 7.0 answers
  for (const KeySpec& key_spec : key_specs) WriteKeySpec(writer, key_spec);
  const std::vector<const CommandSpec*> subcommands = table.SubcommandsOf(spec.name);
  if (subcommands.empty()) {
    writer.SetHeader(0);  // addReplyCommandSubCommands: an empty set, but an array of them
    return;
  }
  writer.ArrayHeader(subcommands.size());
  for (const CommandSpec* subcommand : subcommands) WriteInfo(writer, table, *subcommand);
}

// COMMAND DOCS's fields in Redis 7.0's order, but the arguments and history ekv's table
// does not keep; a container's subcommands as those ekv serves.
void WriteDocs(RespWriter& writer, const CommandTable& table, const CommandSpec& spec) {
  writer.Bulk(spec.name);
  const bool deprecated = !spec.deprecated_since.empty();
  const std::vector<const CommandSpec*> subcommands = table.SubcommandsOf(spec.name);
  writer.MapHeader(3 + (spec.complexity.empty() ? 0 : 1) + (deprecated ? 3 : 0) +
                   (subcommands.empty() ? 0 : 1));
  writer.Bulk("summary");
  writer.Bulk(spec.summary);
  writer.Bulk("since");
  writer.Bulk(spec.since);
  writer.Bulk("group");
  writer.Bulk(spec.group);
  if (!spec.complexity.empty()) {
    writer.Bulk("complexity");
    writer.Bulk(spec.complexity);
  }
  if (deprecated) {
    writer.Bulk("doc_flags");
    writer.SetHeader(1);
    writer.SimpleString("deprecated");
    writer.Bulk("deprecated_since");
    writer.Bulk(spec.deprecated_since);
    writer.Bulk("replaced_by");
    writer.Bulk(spec.replaced_by);
  }
  if (!subcommands.empty()) {
    writer.Bulk("subcommands");
    writer.MapHeader(subcommands.size());
    for (const CommandSpec* subcommand : subcommands) WriteDocs(writer, table, *subcommand);
  }
}

// COMMAND GETKEYS / GETKEYSANDFLAGS <command> <arg>...: the keys, each as [key, flags] with
// `flags`, in Redis 7.0's order of checks (getKeysSubcommandImpl); the error text instead.
std::string WriteKeys(RespWriter& writer, const CommandTable& table,
                      const std::vector<std::string>& args, bool flags) {
  // Redis's lookupCommand: a container's subcommand when one more argument follows.
  const CommandSpec* spec = table.Find(args[2]);
  if (spec != nullptr && args.size() > 3 && !table.SubcommandsOf(spec->name).empty()) {
    spec = table.FindSubcommand(absl::StrCat(spec->name, "|", args[3]));
  }
  if (spec == nullptr) return "ERR Invalid command specified";
  // Redis 7.0 finds the keys by the key specifications (numkeys included); an entry
  // without them (a container such as OBJECT, whose subcommands Redis specifies) by its
  // key positions (CommandKeysOf).
  if (ParseKeySpecs(spec->key_specs)->empty() && spec->first_key <= 0) {
    return "ERR The command has no key arguments";
  }
  const int argc = static_cast<int>(args.size()) - 2;  // the command's own argc
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    return "ERR Invalid number of arguments specified for command";
  }
  const std::vector<std::string> command(args.begin() + 2, args.end());
  std::optional<std::vector<CommandKey>> keys = CommandKeysAndFlagsOf(*spec, command);
  if (!keys.has_value() || keys->empty()) {
    if (!(spec->flags & kFlagNoMandatoryKeys)) return "ERR Invalid arguments specified for command";
    keys.emplace();
  }
  writer.ArrayHeader(keys->size());
  for (const CommandKey& key : *keys) {
    if (flags) writer.ArrayHeader(2);
    writer.Bulk(key.key);
    if (!flags) continue;
    writer.SetHeader(key.flags.size());  // addReplyFlagsForKeyArgs: a set in RESP3
    for (const std::string& flag : key.flags) writer.SimpleString(flag);
  }
  return "";
}

std::string WrongSubcommandArity(absl::string_view subcommand) {
  return ErrorReply(absl::StrCat("ERR wrong number of arguments for 'command|",
                                 absl::AsciiStrToLower(subcommand), "' command"));
}

}  // namespace

void CommandCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  const CommandTable& table = *context.table;
  RespWriter writer(context.connection->protocol);
  if (args.size() == 1) {
    writer.ArrayHeader(table.specs().size());
    for (const auto& [name, spec] : table.specs()) WriteInfo(writer, table, spec);
    return context.reply(writer.Take());
  }
  const std::string sub = absl::AsciiStrToLower(args[1]);
  if (sub == "count") {
    if (args.size() != 2) return context.reply(WrongSubcommandArity(sub));
    writer.Integer(static_cast<int64_t>(table.specs().size()));
  } else if (sub == "info") {
    if (args.size() == 2) {
      writer.ArrayHeader(table.specs().size());
      for (const auto& [name, spec] : table.specs()) WriteInfo(writer, table, spec);
    } else {
      writer.ArrayHeader(args.size() - 2);
      for (size_t i = 2; i < args.size(); ++i) {
        const CommandSpec* spec = table.FindByFullName(args[i]);
        if (spec == nullptr) {
          writer.Null();
        } else {
          WriteInfo(writer, table, *spec);
        }
      }
    }
  } else if (sub == "docs") {
    std::vector<const CommandSpec*> specs;
    if (args.size() == 2) {
      for (const auto& [name, spec] : table.specs()) specs.push_back(&spec);
    } else {
      for (size_t i = 2; i < args.size(); ++i) {
        if (const CommandSpec* spec = table.FindByFullName(args[i]); spec != nullptr) {
          specs.push_back(spec);
        }
      }
    }
    writer.MapHeader(specs.size());
    for (const CommandSpec* spec : specs) WriteDocs(writer, table, *spec);
  } else if (sub == "list") {
    // Redis 7.0: [FILTERBY MODULE name | ACLCAT category | PATTERN glob], one filter.
    enum class Filter { kNone, kModule, kAclCat, kPattern } filter = Filter::kNone;
    std::string argument;
    if (args.size() != 2) {
      if (args.size() != 5 || !absl::EqualsIgnoreCase(args[2], "filterby")) {
        return context.reply(ErrorReply("ERR syntax error"));
      }
      const std::string type = absl::AsciiStrToLower(args[3]);
      if (type == "module") {
        filter = Filter::kModule;
      } else if (type == "aclcat") {
        filter = Filter::kAclCat;
      } else if (type == "pattern") {
        filter = Filter::kPattern;
      } else {
        return context.reply(ErrorReply("ERR syntax error"));
      }
      argument = args[4];
    }
    // Redis filters every command and, apart, each of its subcommands by its full name.
    auto shown = [&](const CommandSpec& spec) {
      switch (filter) {
        case Filter::kNone:
          return true;
        case Filter::kModule:  // ekv loads no modules
          return false;
        case Filter::kAclCat: {
          // Redis's categories (AclCatalog): a container's are its own (@slow), not those
          // ekv's entry carries for its subcommands' sake.
          const AclCatalog& catalog = AclCatalog::Get();
          const std::optional<size_t> id = catalog.Find(spec.name);
          const std::optional<size_t> category = AclCatalog::CategoryIndex(argument);
          if (id.has_value()) {
            return category.has_value() && (catalog.categories(*id) & (1u << *category)) != 0;
          }
          return absl::c_linear_search(spec.acl_categories, "@" + absl::AsciiStrToLower(argument));
        }
        case Filter::kPattern:  // case-insensitive, as Redis matches command names
          return redis_core::GlobMatch(absl::AsciiStrToLower(argument), spec.name);
      }
      return false;
    };
    std::vector<absl::string_view> names;
    for (const auto& [name, spec] : table.specs()) {
      if (shown(spec)) names.push_back(name);
      for (const CommandSpec* subcommand : table.SubcommandsOf(name)) {
        if (shown(*subcommand)) names.push_back(subcommand->name);
      }
    }
    writer.ArrayHeader(names.size());
    for (absl::string_view name : names) writer.Bulk(name);
  } else if (sub == "getkeys" || sub == "getkeysandflags") {
    if (args.size() < 4) return context.reply(WrongSubcommandArity(sub));
    if (std::string error = WriteKeys(writer, table, args, sub == "getkeysandflags");
        !error.empty()) {
      return context.reply(ErrorReply(error));
    }
  } else if (sub == "help") {
    if (args.size() != 2) return context.reply(WrongSubcommandArity(sub));
    static constexpr absl::string_view kHelp[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands ekv serves.",
        "COUNT",
        "    Return the total number of commands ekv serves.",
        "INFO [<command-name> ...]",
        "    Return details about the given commands, or all of them.",
        "DOCS [<command-name> ...]",
        "    Return documentation about the given commands, or all of them.",
        "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
        "    Return the names of the commands ekv serves, or of those matching the filter.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Print this help.",
    };
    writer.ArrayHeader(std::size(kHelp));
    for (absl::string_view line : kHelp) writer.SimpleString(line);
  } else {
    return context.reply(ErrorReply(absl::StrCat("ERR unknown subcommand '",
                                                 absl::string_view(args[1]).substr(0, 128),
                                                 "'. Try COMMAND HELP.")));
  }
  context.reply(writer.Take());
}

}  // namespace ekv::redis
