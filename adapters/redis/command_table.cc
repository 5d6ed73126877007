#include "adapters/redis/command_table.h"
#include "adapters/redis/monitor_feed.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapters/redis/acl_catalog.h"
#include "adapters/redis/acl_users.h"
#include "adapters/redis/resp_writer.h"
#include "adapters/redis/slow_log.h"
#include "core/util/assert.h"

namespace ekv::redis {

CommandTable::CommandTable(std::vector<CommandSpec> specs) {
  std::vector<CommandSpec> subcommands;
  for (CommandSpec& spec : specs) {
    if (absl::StrContains(spec.name, "|")) {
      subcommands.push_back(std::move(spec));
      continue;
    }
    EKV_ASSERT(spec.handler != nullptr, "command without a handler");
    EKV_ASSERT(spec.arity != 0, "a command's arity counts its name, so it is never 0");
    EKV_ASSERT(spec.name == absl::AsciiStrToLower(spec.name), "command names are lower case");
    EKV_ASSERT(ParseKeySpecs(spec.key_specs).ok(), "bad key specs of ", spec.name);
    std::string name = spec.name;
    const bool inserted = specs_.emplace(std::move(name), std::move(spec)).second;
    EKV_ASSERT(inserted, "a command is registered twice");
  }
  for (CommandSpec& spec : subcommands) {
    EKV_ASSERT(spec.name == absl::AsciiStrToLower(spec.name), "command names are lower case");
    EKV_ASSERT(ParseKeySpecs(spec.key_specs).ok(), "bad key specs of ", spec.name);
    EKV_ASSERT(specs_.count(spec.name.substr(0, spec.name.find('|'))) == 1,
               "a subcommand of a command ekv does not serve: ", spec.name);
    std::string name = spec.name;
    const bool inserted = subcommands_.emplace(std::move(name), std::move(spec)).second;
    EKV_ASSERT(inserted, "a subcommand is registered twice");
  }
}

namespace {

bool ParseInts(absl::string_view text, std::vector<int>* out) {
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value)) return false;
    out->push_back(value);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<KeySpec>> ParseKeySpecs(absl::string_view text) {
  std::vector<KeySpec> specs;
  if (text.empty()) return specs;
  for (absl::string_view one : absl::StrSplit(text, ';')) {
    std::vector<absl::string_view> parts = absl::StrSplit(one, absl::MaxSplits('|', 3));
    if (parts.size() < 3 || parts[1].empty() || parts[2].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("bad key spec '", one, "'"));
    }
    KeySpec spec;
    spec.flags = absl::StrSplit(parts[0], ' ', absl::SkipEmpty());
    if (parts.size() == 4) spec.notes = std::string(parts[3]);
    std::vector<int> numbers;
    if (parts[1] == "u") {
      spec.unknown_begin = true;
    } else if (parts[1][0] == 'i') {
      if (!ParseInts(parts[1].substr(1), &numbers) || numbers.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat("bad begin_search '", one, "'"));
      }
      spec.index = numbers[0];
    } else if (parts[1][0] == 'k') {
      const size_t comma = parts[1].rfind(',');
      if (comma == absl::string_view::npos || comma < 2 ||
          !ParseInts(parts[1].substr(comma + 1), &numbers)) {
        return absl::InvalidArgumentError(absl::StrCat("bad begin_search '", one, "'"));
      }
      spec.keyword = std::string(parts[1].substr(1, comma - 1));
      spec.startfrom = numbers[0];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("bad begin_search '", one, "'"));
    }
    numbers.clear();
    if (parts[2] == "u") {
      spec.unknown_find = true;
      specs.push_back(std::move(spec));
      continue;
    }
    if (!ParseInts(parts[2].substr(1), &numbers) || numbers.size() != 3 ||
        (parts[2][0] != 'r' && parts[2][0] != 'n')) {
      return absl::InvalidArgumentError(absl::StrCat("bad find_keys '", one, "'"));
    }
    if (parts[2][0] == 'r') {
      spec.lastkey = numbers[0];
      spec.keystep = numbers[1];
      spec.limit = numbers[2];
    } else {
      spec.keynum = true;
      spec.keynumidx = numbers[0];
      spec.firstkey = numbers[1];
      spec.numstep = numbers[2];
    }
    if ((spec.keynum ? spec.numstep : spec.keystep) <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("a key step must be positive '", one, "'"));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::optional<std::vector<CommandKey>> KeysBySpecs(const std::vector<KeySpec>& specs,
                                                   const std::vector<std::string>& args) {
  const int argc = static_cast<int>(args.size());
  std::vector<CommandKey> keys;
  for (const KeySpec& spec : specs) {
    // Redis's getKeysUsingKeySpecs gives up on an unknown spec (its caller then asks the
    // command's getkeys_proc: CommandSpec::get_keys).
    if (spec.unknown_begin || spec.unknown_find) return std::nullopt;
    int first = 0;
    if (spec.keyword.empty()) {
      first = spec.index;
    } else {
      // Redis: from startfrom forwards, or from argc + startfrom backwards.
      const int start = spec.startfrom > 0 ? spec.startfrom : argc + spec.startfrom;
      const int end = spec.startfrom > 0 ? argc - 1 : 1;
      const int direction = spec.startfrom > 0 ? 1 : -1;
      for (int i = start; i >= 1 && i < argc; i += direction) {
        if (absl::EqualsIgnoreCase(args[i], spec.keyword)) {
          first = i + 1;
          break;
        }
        if (i == end) break;
      }
      if (first == 0) continue;
    }
    int last = 0;
    int step = 0;
    if (spec.keynum) {
      const int at = first + spec.keynumidx;
      int64_t count = 0;
      if (at >= argc || !absl::SimpleAtoi(args[at], &count) || count < 0 || count > argc) {
        return std::nullopt;
      }
      first = at + spec.firstkey;
      last = first + static_cast<int>(count) - 1;
      step = spec.numstep;
    } else {
      if (spec.lastkey >= 0) {
        last = first + spec.lastkey;
      } else if (spec.limit == 0) {
        last = argc + spec.lastkey;
      } else {
        last = first + ((argc - first) / spec.limit + spec.lastkey);
      }
      step = spec.keystep;
    }
    for (int i = first; i <= last; i += step) {
      if (i >= argc || i < first) continue;  // Redis: the command reports its own error
      keys.push_back({args[i], spec.flags});
    }
  }
  return keys;
}

namespace {

// The flags Redis 7.0's getkeys_procs give: sortGetKeys and sortROGetKeys (the only procs
// ekv's table reaches, CommandSpec::get_keys: SORT's STORE spec is unknown) read the
// sorted key and overwrite the STORE destination; setGetKeys and bitfieldGetKeys (the
// commands whose spec says variable_flags) decide by the arguments whether the key is read.
std::vector<std::string> ProcKeyFlags(const std::vector<std::string>& args, size_t position) {
  const std::string name = absl::AsciiStrToLower(args[0]);
  if (name == "set") {
    for (size_t i = 3; i < args.size(); ++i) {
      if (absl::EqualsIgnoreCase(args[i], "get")) return {"RW", "access", "update"};
    }
    return {"OW", "update"};
  }
  if (name == "bitfield") {
    bool readonly = true;
    for (size_t i = 2; i < args.size(); ++i) {
      const size_t more = args.size() - i - 1;
      if (absl::EqualsIgnoreCase(args[i], "get") && more >= 2) {
        i += 2;
      } else if ((absl::EqualsIgnoreCase(args[i], "set") ||
                  absl::EqualsIgnoreCase(args[i], "incrby")) &&
                 more >= 3) {
        readonly = false;
        break;
      } else if (absl::EqualsIgnoreCase(args[i], "overflow") && more >= 1) {
        i += 1;
      } else {
        readonly = false;  // a syntax error: Redis assumes a write
        break;
      }
    }
    if (readonly) return {"RO", "access"};
    return {"RW", "access", "update"};
  }
  EKV_ASSERT(name == "sort" || name == "sort_ro", "no other getkeys_proc is reached");
  if (position == 0) return {"RO", "access"};
  return {"OW", "update"};
}

}  // namespace

std::optional<std::vector<std::string>> CommandKeysOf(const CommandSpec& spec,
                                                      const std::vector<std::string>& args) {
  std::optional<std::vector<CommandKey>> refs = CommandKeysAndFlagsOf(spec, args);
  if (!refs.has_value()) return std::nullopt;
  std::vector<std::string> keys;
  for (CommandKey& ref : *refs) keys.push_back(std::move(ref.key));
  return keys;
}

std::optional<std::vector<CommandKey>> CommandKeysAndFlagsOf(const CommandSpec& spec,
                                                             const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<KeySpec>> parsed = ParseKeySpecs(spec.key_specs);
  std::vector<KeySpec> key_specs = parsed.ok() ? *std::move(parsed) : std::vector<KeySpec>();
  if (key_specs.empty() && spec.first_key > 0) {
    KeySpec positions;
    positions.index = spec.first_key;
    positions.lastkey = spec.last_key < 0 ? spec.last_key : spec.last_key - spec.first_key;
    positions.keystep = spec.key_step;
    key_specs.push_back(std::move(positions));
  }
  if (key_specs.empty()) return std::vector<CommandKey>();
  bool variable_flags = false;
  for (const KeySpec& key_spec : key_specs) {
    variable_flags |= absl::c_linear_search(key_spec.flags, "variable_flags");
  }
  std::optional<std::vector<CommandKey>> keys = KeysBySpecs(key_specs, args);
  if (!keys.has_value() && spec.get_keys != nullptr) {
    keys.emplace();
    for (std::string& key : spec.get_keys(args)) {
      keys->push_back({std::move(key), ProcKeyFlags(args, keys->size())});
    }
  }
  // Redis 7.0 does not trust a variable_flags spec's flags: the command's getkeys_proc
  // finds the key and its flags.
  if (keys.has_value() && variable_flags) {
    for (size_t i = 0; i < keys->size(); ++i) (*keys)[i].flags = ProcKeyFlags(args, i);
  }
  return keys;
}

std::string StatsName(const CommandSpec& spec, const std::vector<std::string>& args) {
  const AclCatalog& catalog = AclCatalog::Get();
  const std::optional<size_t> id = catalog.Find(spec.name);
  if (!id.has_value() || catalog.subcommands(*id).empty() || args.size() < 2) return spec.name;
  std::string full = absl::StrCat(spec.name, "|", absl::AsciiStrToLower(args[1]));
  return catalog.Find(full).has_value() ? full : spec.name;
}

std::optional<SubcommandRefusal> CheckSubcommand(const CommandSpec& spec,
                                                 const std::vector<std::string>& args) {
  if (args.size() < 2) return std::nullopt;
  const AclCatalog& catalog = AclCatalog::Get();
  const std::optional<size_t> container = catalog.Find(spec.name);
  if (!container.has_value() || catalog.subcommands(*container).empty()) return std::nullopt;
  const std::string full = absl::StrCat(spec.name, "|", absl::AsciiStrToLower(args[1]));
  const std::optional<size_t> sub = catalog.Find(full);
  if (!sub.has_value()) {
    // Redis prints the subcommand with %s: it ends at a NUL byte.
    return SubcommandRefusal{
        UnknownSubcommandReply(args[1].c_str(), absl::AsciiStrToUpper(args[0].c_str())), true};
  }
  const int arity = catalog.arity(*sub);
  const int argc = static_cast<int>(args.size());
  if (arity > 0 ? argc == arity : argc >= -arity) return std::nullopt;
  return SubcommandRefusal{
      ErrorReply(absl::StrCat("ERR wrong number of arguments for '", full, "' command")), false};
}

namespace {

bool ArityOk(const CommandSpec& spec, size_t args) {
  const int argc = static_cast<int>(args);
  return spec.arity > 0 ? argc == spec.arity : argc >= -spec.arity;
}

std::vector<CommandSpec> WithServerCommands(std::vector<CommandSpec> specs) {
  for (CommandSpec& spec : ServerCommandSpecs()) specs.push_back(std::move(spec));
  for (CommandSpec& spec : TypedCommandSpecs()) specs.push_back(std::move(spec));
  for (CommandSpec& spec : TransactionCommandSpecs()) specs.push_back(std::move(spec));
  for (CommandSpec& spec : KeyspaceCommandSpecs()) specs.push_back(std::move(spec));
  for (CommandSpec& spec : AclCommandSpecs()) specs.push_back(std::move(spec));
  for (CommandSpec& spec : ScriptingCommandSpecs()) specs.push_back(std::move(spec));  // lua
  for (CommandSpec& spec : FunctionCommandSpecs()) specs.push_back(std::move(spec));   // lua
  for (CommandSpec& spec : SubcommandSpecs()) specs.push_back(std::move(spec));
  return specs;
}

}  // namespace

const CommandTable& CommandTable::Default() {
  // Arity, flags and key positions are Redis 7's, so COMMAND tells clients the truth.
  static const CommandTable* table = new CommandTable(WithServerCommands({
      {"ping",
       -1,
       kFlagFast | kFlagSubscribedContext,
       0,
       0,
       0,
       "connection",
       "1.0.0",
       "Returns the server's liveliness response.",
       {"@fast", "@connection"},
       &PingCommand,
       "request_policy:all_shards response_policy:all_succeeded",
       "",
       "O(1)",
       "",
       ""},
      {"echo",
       2,
       kFlagLoading | kFlagStale | kFlagFast,
       0,
       0,
       0,
       "connection",
       "1.0.0",
       "Returns the given string.",
       {"@fast", "@connection"},
       &EchoCommand,
       "",
       "",
       "O(1)",
       "",
       ""},
      {"hello",
       -1,
       kFlagNoScript | kFlagLoading | kFlagStale | kFlagFast | kFlagNoAuth | kFlagAllowBusy,
       0,
       0,
       0,
       "connection",
       "6.0.0",
       "Handshakes with the Redis server.",
       {"@fast", "@connection"},
       &HelloCommand,
       "",
       "",
       "O(1)",
       "",
       ""},
      {"select",
       2,
       kFlagLoading | kFlagStale | kFlagFast,
       0,
       0,
       0,
       "connection",
       "1.0.0",
       "Changes the selected database (ekv has only database 0).",
       {"@fast", "@connection"},
       &SelectCommand,
       "",
       "",
       "O(1)",
       "",
       ""},
      {"quit",
       -1,
       kFlagNoScript | kFlagLoading | kFlagStale | kFlagFast | kFlagNoAuth | kFlagAllowBusy |
           kFlagSubscribedContext,
       0,
       0,
       0,
       "connection",
       "1.0.0",
       "Closes the connection.",
       {"@fast", "@connection"},
       &QuitCommand,
       "",
       "",
       "O(1)",
       "",
       ""},
      {"command",
       -1,
       kFlagLoading | kFlagStale,
       0,
       0,
       0,
       "server",
       "2.8.13",
       "Returns detailed information about all commands.",
       {"@slow", "@connection"},
       &CommandCommand,
       "nondeterministic_output_order",
       "",
       "O(N) where N is the total number of Redis commands",
       "",
       ""},
  }));
  return *table;
}

const CommandSpec* CommandTable::Find(absl::string_view name) const {
  auto it = specs_.find(absl::AsciiStrToLower(name));
  return it == specs_.end() ? nullptr : &it->second;
}

const CommandSpec* CommandTable::FindSubcommand(absl::string_view full_name) const {
  auto it = subcommands_.find(absl::AsciiStrToLower(full_name));
  return it == subcommands_.end() ? nullptr : &it->second;
}

const CommandSpec* CommandTable::FindByFullName(absl::string_view name) const {
  return absl::StrContains(name, "|") ? FindSubcommand(name) : Find(name);
}

std::vector<const CommandSpec*> CommandTable::SubcommandsOf(absl::string_view container) const {
  const std::string prefix = absl::StrCat(absl::AsciiStrToLower(container), "|");
  std::vector<const CommandSpec*> out;
  for (auto it = subcommands_.lower_bound(prefix);
       it != subcommands_.end() && absl::StartsWith(it->first, prefix); ++it) {
    out.push_back(&it->second);
  }
  return out;
}

void CommandTable::Dispatch(std::vector<std::string> args, ConnectionState* connection,
                            RedisBackend* backend, ReplyFn reply) const {
  EKV_ASSERT(!args.empty(), "the parser never hands out an empty command");
  const CommandSpec* spec = Find(args[0]);
  // INFO commandstats / errorstats: refusals before the handler count as rejected calls
  // of the command (an unknown command only as an error), the handler's answer as a call.
  std::shared_ptr<CommandStats> stats = connection->server != nullptr
                                            ? connection->server->stats().commands
                                            : std::shared_ptr<CommandStats>();
  const std::string stats_name = spec == nullptr ? std::string() : StatsName(*spec, args);
  auto refuse = [&](std::string error) {
    if (stats != nullptr) {
      if (spec == nullptr) {
        stats->RecordError(error);
      } else {
        stats->RecordRejected(stats_name, error);
      }
    }
    reply(std::move(error));
  };
  const std::optional<SubcommandRefusal> bad_subcommand =
      spec == nullptr || !ArityOk(*spec, args.size()) ? std::nullopt : CheckSubcommand(*spec, args);
  // Redis 7: a command refused while MULTI queues (unknown, arity, an unknown subcommand or
  // a subcommand's arity, NOAUTH) makes EXEC answer EXECABORT.
  if (connection->in_multi &&
      (spec == nullptr || !ArityOk(*spec, args.size()) || bad_subcommand.has_value() ||
       (!connection->authenticated && !(spec->flags & kFlagNoAuth)))) {
    connection->multi_failed = true;
  }
  if (spec == nullptr && connection->in_multi) {
    // Redis 7.0's no-multi commands (SAVE, SHUTDOWN, SYNC, PSYNC), which ekv does not
    // serve, are refused while MULTI queues as Redis refuses them there: after the arity
    // and NOAUTH checks, with "Command not allowed inside a transaction".
    const std::string name = absl::AsciiStrToLower(args[0]);
    const std::optional<size_t> id = AclCatalog::Get().Find(name);
    if (id.has_value() &&
        (name == "save" || name == "shutdown" || name == "sync" || name == "psync")) {
      const int arity = AclCatalog::Get().arity(*id);
      const int argc = static_cast<int>(args.size());
      std::string error =
          !(arity > 0 ? argc == arity : argc >= -arity)
              ? ErrorReply(absl::StrCat("ERR wrong number of arguments for '", name, "' command"))
          : !connection->authenticated ? ErrorReply("NOAUTH Authentication required.")
                                       : ErrorReply("ERR Command not allowed inside a transaction");
      if (stats != nullptr) stats->RecordRejected(name, error);
      return reply(std::move(error));
    }
  }
  if (spec == nullptr) {
    // Redis 7.0's words: the name and the first ~128 bytes of arguments, each quoted and
    // followed by a space, C-string semantics (an argument ends at a NUL byte).
    std::string listed;
    for (size_t i = 1; i < args.size() && listed.size() < 128; ++i) {
      absl::string_view arg(args[i].c_str());
      listed += absl::StrCat("'", arg.substr(0, 128 - listed.size()), "' ");
    }
    absl::string_view name(args[0].c_str());
    return refuse(ErrorReply(absl::StrCat("ERR unknown command '", name.substr(0, 128),
                                          "', with args beginning with: ", listed)));
  }
  if (!ArityOk(*spec, args.size())) {
    return refuse(
        ErrorReply(absl::StrCat("ERR wrong number of arguments for '", spec->name, "' command")));
  }
  if (bad_subcommand.has_value()) {
    if (!bad_subcommand->unknown) return refuse(bad_subcommand->error);
    if (stats != nullptr) stats->RecordError(bad_subcommand->error);
    return reply(bad_subcommand->error);
  }
  // Redis 7's order of checks: name, arity, authentication, then the subscribed context.
  if (!connection->authenticated && !(spec->flags & kFlagNoAuth)) {
    return refuse(ErrorReply("NOAUTH Authentication required."));
  }
  // Then the user's ACL rules (acl_rules.h); a refusal while MULTI queues aborts EXEC and
  // is recorded in ACL LOG. A user removed meanwhile (its connection is being closed) may
  // run nothing.
  if (connection->server != nullptr) {
    const AclUser* user = connection->server->settings().users().Find(connection->user);
    std::optional<AclDenial> denied;
    if (user == nullptr) {
      denied = AclDenial{"command", spec->name,
                         absl::StrCat("NOPERM this user has no permissions to run the '",
                                      spec->name, "' command")};
    } else if (!user->permissions.AllowsEverything()) {
      denied = user->permissions.Check(*spec, args);
    }
    if (denied.has_value()) {
      LogAclEvent(*connection, denied->reason, denied->object, connection->user,
                  denied->reason == "command" ? denied->object : spec->name);
      if (connection->in_multi) connection->multi_failed = true;
      return refuse(ErrorReply(denied->message));
    }
  }
  if (connection->protocol == 2 && connection->subscriptions() > 0 &&
      !(spec->flags & kFlagSubscribedContext)) {
    return refuse(ErrorReply(absl::StrCat(
        "ERR Can't execute '", spec->name,
        "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
        "context")));
  }
  // A monitor is a replica to Redis 7.0, which keeps it off the keyspace.
  if (connection->monitoring && (spec->flags & (kFlagWrite | kFlagReadOnly))) {
    return refuse(ErrorReply("ERR Replica can't interact with the keyspace"));
  }
  connection->last_command = spec->name;
  if (connection->server != nullptr) ++connection->server->stats().commands_processed;
  CommandContext context;
  context.args = std::move(args);
  context.connection = connection;
  context.backend = backend;
  context.table = this;
  context.reply = std::move(reply);
  if (connection->server != nullptr && connection->server->settings().observe_latency) {
    // A copy: the reply may come from a backend thread after the settings changed.
    context.reply = [observe = connection->server->settings().observe_latency,
                     command = &spec->name, start = std::chrono::steady_clock::now(),
                     inner = std::move(context.reply)](std::string bytes) mutable {
      inner(std::move(bytes));
      observe(*command, std::chrono::steady_clock::now() - start);
    };
  }
  // A command MULTI queues is not a call yet: EXEC counts it when it ran (ExecRun).
  const bool queued = connection->in_multi && spec->name != "exec" && spec->name != "discard" &&
                      spec->name != "multi" && spec->name != "watch" && spec->name != "quit" &&
                      spec->name != "reset";
  if (stats != nullptr && !queued) {
    context.reply = [stats, name = stats_name, start = std::chrono::steady_clock::now(),
                     inner = std::move(context.reply)](std::string bytes) mutable {
      stats->RecordCall(name,
                        std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count(),
                        bytes);
      inner(std::move(bytes));
    };
  }
  // SLOWLOG: every command but EXEC (whose commands are logged one by one, ExecRun), as
  // Redis 7.0 logs it, before its reply is written. A blocking command that blocks never
  // calls this reply: the server logs it when it answers (RedisServer's AnswerBlocked).
  if (connection->server != nullptr && !queued && spec->name != "exec") {
    std::shared_ptr<SlowLog> slowlog = connection->server->stats().slowlog;
    // CONFIG too while the log is off: the CONFIG SET that turns it on is logged.
    if (slowlog != nullptr && (slowlog->enabled() || spec->name == "config")) {
      // The name the client will have after a command that names it (CLIENT SETNAME,
      // HELLO, RESET), which only node-local handlers run: their reply decides it.
      const bool renames = spec->name == "client" || spec->name == "hello" || spec->name == "reset";
      context.reply = [slowlog, entry_args = SlowLog::EntryArgs(context.args),
                       name_args = renames ? context.args : std::vector<std::string>(),
                       peer = connection->address, client_name = connection->name,
                       start = std::chrono::steady_clock::now(),
                       inner = std::move(context.reply)](std::string bytes) mutable {
        slowlog->Record(std::move(entry_args),
                        std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count(),
                        std::move(peer),
                        SlowLog::ClientNameAfter(name_args, std::move(client_name), bytes),
                        absl::ToUnixSeconds(absl::Now()));
        inner(std::move(bytes));
      };
    }
  }
  FeedMonitors(*spec, context.args, queued, *connection);
  if (connection->in_multi && QueueInMulti(*spec, context)) return;
  spec->handler(std::move(context));
}

void CommandTable::FeedMonitors(const CommandSpec& spec, const std::vector<std::string>& args,
                                bool queued, ConnectionState& connection) const {
  connection.monitor_feed.reset();
  ServerControl* server = connection.server;
  if (server == nullptr || !server->HasMonitors() || queued || !ShownToMonitors(spec, args)) {
    return;
  }
  ConnectionState::MonitorFeed feed;
  if (spec.name == "exec") {
    feed.exec = true;
    if (connection.in_multi && !connection.multi_failed) {
      for (const std::vector<std::string>& command : connection.queued) {
        const CommandSpec* queued_spec = Find(command[0]);
        if (queued_spec != nullptr && ShownToMonitors(*queued_spec, command)) {
          feed.commands.push_back(RedactedForMonitors(command));
        }
      }
    }
  }
  feed.commands.push_back(RedactedForMonitors(args));
  connection.monitor_feed = std::move(feed);
}

std::string UnknownSubcommandReply(absl::string_view subcommand, absl::string_view command) {
  return ErrorReply(absl::StrCat("ERR unknown subcommand '", subcommand.substr(0, 128), "'. Try ",
                                 command, " HELP."));
}

std::string BackendErrorText(const absl::Status& status) {
  EKV_ASSERT(!status.ok(), "an error reply needs an error");
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return absl::StrCat("TRYAGAIN ", status.message());
    default:
      return absl::StrCat("ERR ", status.message());
  }
}

std::string BackendErrorReply(const absl::Status& status) {
  return ErrorReply(BackendErrorText(status));
}

}  // namespace ekv::redis
