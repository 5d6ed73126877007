// ACL: Redis 7.0's ACL command over the node's users (acl_users.h): CAT, DELUSER, DRYRUN,
// GENPASS, GETUSER, HELP, LIST, LOAD, LOG, SAVE, SETUSER, USERS, WHOAMI, with Redis's
// replies and errors. Users are per node, as in Redis: SETUSER on n1 changes n1 only, and
// the users file (--redis_users_file) is the source of truth that LOAD reads and SAVE
// writes (docs/architecture.md: why not replicated). Runs on the loop thread, answers at
// once.
#include <openssl/rand.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/acl_catalog.h"
#include "adapters/redis/acl_file.h"
#include "adapters/redis/acl_users.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/resp_parser.h"
#include "adapters/redis/resp_writer.h"
#include "core/util/assert.h"

namespace ekv::redis {
namespace {

constexpr absl::string_view kNoAclFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.";
constexpr absl::string_view kLoadFailed =
    ". WARNING: ACL errors detected, no change to the previously active ACL rules was performed";

// Redis 7.0's arity of each subcommand (name included: "acl whoami" is 2).
struct Subcommand {
  absl::string_view name;
  int arity;
};
constexpr Subcommand kSubcommands[] = {
    {"cat", -2},     {"deluser", -3}, {"dryrun", -4}, {"genpass", -2}, {"getuser", 3},
    {"help", 2},     {"list", 2},     {"load", 2},    {"log", -2},     {"save", 2},
    {"setuser", -3}, {"users", 2},    {"whoami", 2}};

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string SyntaxError(absl::string_view subcommand) {
  return ErrorReply(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                 subcommand, "'. Try ACL HELP."));
}

// Closes every connection logged in as a user `doomed` picks (Redis frees a removed
// user's clients); this connection closes once its reply is written.
template <typename Pred>
void CloseClientsOf(ConnectionState& self, Pred doomed) {
  for (const ConnectionState* other : self.server->Connections()) {
    if (!doomed(other->user)) continue;
    if (other->id == self.id) {
      self.close_after_reply = true;
    } else {
      self.server->Kill(other->id);
    }
  }
}

void Cat(CommandContext& context, RespWriter& writer) {
  const std::vector<std::string>& args = context.args;
  if (args.size() > 3) return context.reply(SyntaxError(args[1]));
  if (args.size() == 2) {
    writer.ArrayHeader(kAclCategories.size());
    for (absl::string_view category : kAclCategories) writer.Bulk(category);
    return context.reply(writer.Take());
  }
  const std::optional<size_t> category = AclCatalog::CategoryIndex(args[2]);
  if (!category.has_value()) {
    return context.reply(ErrorReply(absl::StrCat("ERR Unknown category '", args[2], "'")));
  }
  // Redis lists them in its hash table's order; ekv in name order.
  const AclCatalog& catalog = AclCatalog::Get();
  const std::vector<size_t>& ids = catalog.InCategory(*category);
  writer.ArrayHeader(ids.size());
  for (size_t id : ids) writer.Bulk(catalog.name(id));
  context.reply(writer.Take());
}

void DelUser(CommandContext& context) {
  const std::vector<std::string>& args = context.args;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "default") {
      return context.reply(ErrorReply("ERR The 'default' user cannot be removed"));
    }
  }
  AclUsers& users = context.connection->server->settings().users();
  int64_t deleted = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    if (!users.DelUser(args[i])) continue;
    ++deleted;
    CloseClientsOf(*context.connection, [&](const std::string& user) { return user == args[i]; });
  }
  context.reply(IntegerReply(deleted));
}

void DryRun(CommandContext& context, RespWriter& writer) {
  const std::vector<std::string>& args = context.args;
  const AclUser* user = context.connection->server->settings().users().Find(args[2]);
  if (user == nullptr) {
    return context.reply(ErrorReply(absl::StrCat("ERR User '", args[2], "' not found")));
  }
  const CommandSpec* spec = context.table == nullptr ? nullptr : context.table->Find(args[3]);
  if (spec == nullptr) {
    return context.reply(ErrorReply(absl::StrCat("ERR Command '", args[3], "' not found")));
  }
  const std::vector<std::string> command(args.begin() + 3, args.end());
  const int argc = static_cast<int>(command.size());
  if ((spec->arity > 0 && spec->arity != argc) || (spec->arity < 0 && argc < -spec->arity)) {
    return context.reply(
        ErrorReply(absl::StrCat("ERR wrong number of arguments for '", spec->name, "' command")));
  }
  const std::optional<AclDenial> denied = user->permissions.Check(*spec, command);
  if (!denied.has_value()) return context.reply(SimpleStringReply("OK"));
  // Redis's verbose form names the key or channel.
  if (denied->reason == "command") {
    writer.Bulk(
        absl::StrCat("This user has no permissions to run the '", denied->object, "' command"));
  } else {
    writer.Bulk(absl::StrCat("This user has no permissions to access the '", denied->object, "' ",
                             denied->reason));
  }
  context.reply(writer.Take());
}

void GenPass(CommandContext& context, RespWriter& writer) {
  const std::vector<std::string>& args = context.args;
  if (args.size() > 3) return context.reply(SyntaxError(args[1]));
  long long bits = 256;
  if (args.size() == 3 && !ParseRedisInt64(args[2], &bits)) {
    return context.reply(ErrorReply("ERR value is not an integer or out of range"));
  }
  if (bits <= 0 || bits > 4096) {
    return context.reply(
        ErrorReply("ERR ACL GENPASS argument must be the number of bits for the output "
                   "password, a positive number up to 4096"));
  }
  const size_t chars = static_cast<size_t>((bits + 3) / 4);
  std::string random((chars + 1) / 2, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(random.data()),
                 static_cast<int>(random.size())) != 1) {
    return context.reply(ErrorReply("ERR the random generator failed"));
  }
  writer.Bulk(absl::BytesToHexString(random).substr(0, chars));
  context.reply(writer.Take());
}

void GetUser(CommandContext& context, RespWriter& writer) {
  const AclUser* user = context.connection->server->settings().users().Find(context.args[2]);
  if (user == nullptr) {
    writer.Null();
    return context.reply(writer.Take());
  }
  std::vector<absl::string_view> flags = {user->enabled ? "on" : "off"};
  if (user->nopass) flags.push_back("nopass");
  if (user->skip_sanitize_payload) flags.push_back("skip-sanitize-payload");
  if (user->sanitize_payload) flags.push_back("sanitize-payload");
  writer.MapHeader(6);
  writer.Bulk("flags");
  writer.SetHeader(flags.size());
  for (absl::string_view flag : flags) writer.Bulk(flag);
  writer.Bulk("passwords");
  writer.ArrayHeader(user->password_hashes.size());
  for (const std::string& hash : user->password_hashes) writer.Bulk(hash);
  writer.Bulk("commands");
  writer.Bulk(user->permissions.DescribeCommands());
  writer.Bulk("keys");
  writer.Bulk(user->permissions.DescribeKeys());
  writer.Bulk("channels");
  writer.Bulk(user->permissions.DescribeChannels());
  writer.Bulk("selectors");
  writer.ArrayHeader(0);
  context.reply(writer.Take());
}

void Load(CommandContext& context) {
  RedisSettings& settings = context.connection->server->settings();
  if (settings.acl_file.empty()) return context.reply(ErrorReply(kNoAclFile));
  absl::StatusOr<AclFile> file = ReadAclFile(settings.acl_file);
  if (!file.ok()) {
    return context.reply(ErrorReply(absl::StrCat("ERR ", file.status().message(), kLoadFailed)));
  }
  // ekv-server refuses --redis_requirepass with a file that has a default user; without
  // one, the password keeps guarding the default user (Redis would open it).
  if (!file->defines_default && !settings.requirepass.empty()) {
    file->users.SetDefaultPassword(settings.requirepass);
  }
  AclUsers& users = settings.users();
  AclLog log = std::move(users.log());
  users = std::move(file->users);
  users.log() = std::move(log);
  // Redis 7.0 replaces every user but the default one, closing their clients.
  CloseClientsOf(*context.connection, [](const std::string& user) { return user != "default"; });
  context.reply(SimpleStringReply("OK"));
}

void Log(CommandContext& context, RespWriter& writer) {
  const std::vector<std::string>& args = context.args;
  if (args.size() > 3) return context.reply(SyntaxError(args[1]));
  AclLog& log = context.connection->server->settings().users().log();
  long long count = 10;
  if (args.size() == 3) {
    if (absl::EqualsIgnoreCase(args[2], "reset")) {
      log.Reset();
      return context.reply(SimpleStringReply("OK"));
    }
    if (!ParseRedisInt64(args[2], &count)) {
      return context.reply(ErrorReply("ERR value is not an integer or out of range"));
    }
  }
  const size_t shown = count <= 0 ? 0 : std::min(log.entries().size(), static_cast<size_t>(count));
  const int64_t now_ms = NowUnixMs();
  writer.ArrayHeader(shown);
  for (size_t i = 0; i < shown; ++i) {
    const AclLogEntry& entry = log.entries()[i];
    writer.MapHeader(7);
    writer.Bulk("count");
    writer.Integer(static_cast<int64_t>(entry.count));
    writer.Bulk("reason");
    writer.Bulk(entry.reason);
    writer.Bulk("context");
    writer.Bulk(entry.context);
    writer.Bulk("object");
    writer.Bulk(entry.object);
    writer.Bulk("username");
    writer.Bulk(entry.username);
    writer.Bulk("age-seconds");
    writer.Double(static_cast<double>(now_ms - entry.updated_ms) / 1000.0);
    writer.Bulk("client-info");
    writer.Bulk(entry.client_info);
  }
  context.reply(writer.Take());
}

void Save(CommandContext& context) {
  RedisSettings& settings = context.connection->server->settings();
  if (settings.acl_file.empty()) return context.reply(ErrorReply(kNoAclFile));
  if (!WriteAclFile(settings.acl_file, settings.users()).ok()) {
    return context.reply(
        ErrorReply("ERR There was an error trying to save the ACLs. Please check the server "
                   "logs for more information"));
  }
  context.reply(SimpleStringReply("OK"));
}

void SetUser(CommandContext& context) {
  const std::vector<std::string>& args = context.args;
  const std::vector<std::string> words(args.begin() + 3, args.end());
  const absl::Status set = context.connection->server->settings().users().SetUser(args[2], words);
  context.reply(set.ok() ? SimpleStringReply("OK")
                         : ErrorReply(absl::StrCat("ERR ", set.message())));
}

void Help(CommandContext& context, RespWriter& writer) {
  static constexpr absl::string_view kHelp[] = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the "
      "command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help.",
  };
  writer.ArrayHeader(std::size(kHelp));
  for (absl::string_view line : kHelp) writer.SimpleString(line);
  context.reply(writer.Take());
}

}  // namespace

void LogAclEvent(const ConnectionState& connection, absl::string_view reason,
                 absl::string_view object, const std::string& username, absl::string_view command,
                 absl::string_view context) {
  if (connection.server == nullptr) return;
  // CLIENT LIST's line as the refused command left it (cmd= names it, as in Redis).
  ConnectionState shown = connection;
  shown.last_command = std::string(command);
  std::string client_info = ClientLine(shown);
  if (!client_info.empty() && client_info.back() == '\n') client_info.pop_back();
  AclLogEntry entry;
  entry.reason = std::string(reason);
  entry.context = !context.empty()      ? std::string(context)
                  : connection.in_multi ? "multi"
                                        : "toplevel";
  entry.object = std::string(object);
  entry.username = username;
  entry.updated_ms = NowUnixMs();
  entry.client_info = std::move(client_info);
  connection.server->settings().users().log().Add(std::move(entry));
}

void LogScriptAclDenials(ServerControl* server, uint64_t connection_id, std::string username,
                         std::string command, std::vector<redis_core::ScriptAclDenial> denials) {
  if (server == nullptr || denials.empty()) return;
  server->RunOnLoop(connection_id, [username = std::move(username), command = std::move(command),
                                    denials = std::move(denials)](ConnectionState* connection) {
    if (connection == nullptr) return;  // closed meanwhile: no client to describe
    for (const redis_core::ScriptAclDenial& denial : denials) {
      LogAclEvent(*connection, denial.reason, denial.object, username, command, "lua");
    }
  });
}

std::string UserAclRules(const ConnectionState& connection) {
  if (connection.server == nullptr) return "";
  const AclUser* user = connection.server->settings().users().Find(connection.user);
  // A user removed meanwhile runs nothing: Dispatch refused the command already.
  if (user == nullptr || user->permissions.AllowsEverything()) return "";
  std::string rules = user->permissions.Describe();
  EKV_ASSERT(!rules.empty(), "a user's rules describe themselves with at least one word");
  return rules;
}

void AclCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  const Subcommand* found = nullptr;
  for (const Subcommand& s : kSubcommands) {
    if (s.name == sub) found = &s;
  }
  if (found == nullptr) return context.reply(UnknownSubcommandReply(args[1], "ACL"));
  const int argc = static_cast<int>(args.size());
  if ((found->arity > 0 && argc != found->arity) || (found->arity < 0 && argc < -found->arity)) {
    return context.reply(
        ErrorReply(absl::StrCat("ERR wrong number of arguments for 'acl|", sub, "' command")));
  }
  RespWriter writer(context.connection->protocol);
  if (sub == "help") return Help(context, writer);
  if (sub == "cat") return Cat(context, writer);
  if (sub == "genpass") return GenPass(context, writer);
  if (context.connection->server == nullptr) {
    return context.reply(ErrorReply("ERR ACL needs a running server"));
  }
  if (sub == "whoami") {
    writer.Bulk(context.connection->user);
    return context.reply(writer.Take());
  }
  if (sub == "users" || sub == "list") {
    const auto& users = context.connection->server->settings().users().users();
    writer.ArrayHeader(users.size());
    for (const auto& [name, user] : users) writer.Bulk(sub == "users" ? name : user.Describe());
    return context.reply(writer.Take());
  }
  if (sub == "setuser") return SetUser(context);
  if (sub == "deluser") return DelUser(context);
  if (sub == "getuser") return GetUser(context, writer);
  if (sub == "dryrun") return DryRun(context, writer);
  if (sub == "load") return Load(context);
  if (sub == "save") return Save(context);
  return Log(context, writer);  // the subcommands left: log
}

std::vector<CommandSpec> AclCommandSpecs() {
  return {{"acl",
           -2,
           0,
           0,
           0,
           0,
           "server",
           "6.0.0",
           "A container for Access List Control commands.",
           {"@slow"},
           &AclCommand,
           "",
           "",
           "Depends on subcommand.",
           "",
           ""}};
}

}  // namespace ekv::redis
