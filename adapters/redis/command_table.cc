#include "adapters/redis/command_table.h"

#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/acl_users.h"
#include "adapters/redis/resp_writer.h"
#include "core/util/assert.h"

namespace ekv::redis {

CommandTable::CommandTable(std::vector<CommandSpec> specs) {
  for (CommandSpec& spec : specs) {
    EKV_ASSERT(spec.handler != nullptr, "command without a handler");
    EKV_ASSERT(spec.arity != 0, "a command's arity counts its name, so it is never 0");
    EKV_ASSERT(spec.name == absl::AsciiStrToLower(spec.name), "command names are lower case");
    std::string name = spec.name;
    const bool inserted = specs_.emplace(std::move(name), std::move(spec)).second;
    EKV_ASSERT(inserted, "a command is registered twice");
  }
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
       &PingCommand},
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
       &EchoCommand},
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
       &HelloCommand},
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
       &SelectCommand},
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
       &QuitCommand},
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
       &CommandCommand},
  }));
  return *table;
}

const CommandSpec* CommandTable::Find(absl::string_view name) const {
  auto it = specs_.find(absl::AsciiStrToLower(name));
  return it == specs_.end() ? nullptr : &it->second;
}

void CommandTable::Dispatch(std::vector<std::string> args, ConnectionState* connection,
                            RedisBackend* backend, ReplyFn reply) const {
  EKV_ASSERT(!args.empty(), "the parser never hands out an empty command");
  const CommandSpec* spec = Find(args[0]);
  // Redis 7: a command refused while MULTI queues (unknown, arity, NOAUTH) makes EXEC
  // answer EXECABORT.
  if (connection->in_multi && (spec == nullptr || !ArityOk(*spec, args.size()) ||
                               (!connection->authenticated && !(spec->flags & kFlagNoAuth)))) {
    connection->multi_failed = true;
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
    return reply(ErrorReply(absl::StrCat("ERR unknown command '", name.substr(0, 128),
                                         "', with args beginning with: ", listed)));
  }
  if (!ArityOk(*spec, args.size())) {
    return reply(
        ErrorReply(absl::StrCat("ERR wrong number of arguments for '", spec->name, "' command")));
  }
  // Redis 7's order of checks: name, arity, authentication, then the subscribed context.
  if (!connection->authenticated && !(spec->flags & kFlagNoAuth)) {
    return reply(ErrorReply("NOAUTH Authentication required."));
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
      return reply(ErrorReply(denied->message));
    }
  }
  if (connection->protocol == 2 && connection->subscriptions() > 0 &&
      !(spec->flags & kFlagSubscribedContext)) {
    return reply(ErrorReply(absl::StrCat(
        "ERR Can't execute '", spec->name,
        "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
        "context")));
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
  if (connection->in_multi && QueueInMulti(*spec, context)) return;
  spec->handler(std::move(context));
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
