// Connection and server administration: AUTH, RESET, CLIENT, INFO, TIME, CONFIG. They read
// and change the connection's state and, through ServerControl, the server's settings and
// other connections; they answer at once, on the loop thread.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/redis/acl_users.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/pubsub_hub.h"
#include "adapters/redis/resp_parser.h"
#include "adapters/redis/resp_writer.h"
#include "core/redis/keyspace_events.h"
#include "core/redis/layout.h"

namespace ekv::redis {
namespace {

constexpr absl::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

std::string WrongArity(absl::string_view command) {
  return ErrorReply(absl::StrCat("ERR wrong number of arguments for '", command, "' command"));
}

std::string NoServer(absl::string_view command) {
  return ErrorReply(absl::StrCat("ERR ", command, " needs a running server"));
}

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// CLIENT LIST's flags, in Redis 7.0's order (those ekv has): O monitor, P pub/sub, then
// t tracking, R broken redirect, B broadcast; N when none.
std::string ClientFlags(const ConnectionState& c) {
  std::string flags;
  if (c.monitoring) {
    flags += 'O';
  } else if (c.subscriptions() > 0) {
    flags += 'P';
  }
  if (c.tracking.on) flags += 't';
  if (c.tracking.broken_redirect) flags += 'R';
  if (c.tracking.bcast) flags += 'B';
  return flags.empty() ? "N" : flags;
}

}  // namespace

// One CLIENT LIST line, with Redis 7.0's fields in its order. Memory and buffer figures
// ekv does not track per connection are 0; qbuf is the query buffer as Redis counts it
// while the connection's command runs (that command's bytes and what was sent after it).
std::string ClientLine(const ConnectionState& c) {
  const int64_t age = c.created_unix_seconds == 0 ? 0 : NowUnixSeconds() - c.created_unix_seconds;
  return absl::StrCat("id=", c.id, " addr=", c.address, " laddr=", c.local_address,
                      " fd=0 name=", c.name, " age=", age, " idle=0 flags=", ClientFlags(c),
                      " db=0 sub=", c.channels.size(), " psub=", c.patterns.size(),
                      " ssub=0 multi=", c.in_multi ? static_cast<int64_t>(c.queued.size()) : -1,
                      " qbuf=", c.query_buffer_bytes,
                      " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 "
                      "obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=",
                      c.last_command, " user=", c.user,
                      " redir=", c.tracking.on ? static_cast<int64_t>(c.tracking.redirect) : -1,
                      " resp=", c.protocol, "\n");
}

bool CheckPassword(ConnectionState* connection, absl::string_view user, absl::string_view password,
                   absl::string_view command) {
  if (connection->server == nullptr) return user == "default";
  AclUsers& users = connection->server->settings().users();
  const AclUser* found = users.Find(user);
  if (found == nullptr || !found->Accepts(password)) {
    // Redis 7 records failed logins in ACL LOG under the name tried.
    LogAclEvent(*connection, "auth", command, std::string(user), absl::AsciiStrToLower(command));
    return false;
  }
  connection->authenticated = true;
  connection->user = std::string(user);
  return true;
}

std::string InvalidClientName(absl::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') {
      return "ERR Client names cannot contain spaces, newlines or special characters.";
    }
  }
  return "";
}

void AuthCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  if (args.size() > 3) return context.reply(ErrorReply("ERR syntax error"));
  if (args.size() == 2) {
    const AclUser* default_user =
        context.connection->server == nullptr
            ? nullptr
            : context.connection->server->settings().users().Find("default");
    const bool required = default_user != nullptr && !default_user->nopass;
    if (!required) {
      return context.reply(ErrorReply(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?"));
    }
  }
  const bool ok = args.size() == 2 ? CheckPassword(context.connection, "default", args[1], args[0])
                                   : CheckPassword(context.connection, args[1], args[2], args[0]);
  context.reply(ok ? SimpleStringReply("OK") : ErrorReply(kWrongPass));
}

void ResetCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  if (c.server != nullptr) {
    for (const std::string& channel : c.channels) c.server->Unsubscribe(c, channel, false);
    for (const std::string& pattern : c.patterns) c.server->Unsubscribe(c, pattern, true);
  }
  c.channels.clear();
  c.patterns.clear();
  if (c.server != nullptr) c.server->StopMonitoring(c);
  c.EndTransaction();  // RESET discards MULTI and forgets every WATCH, as Redis does
  DisableTracking(c);  // clearClientConnectionState
  c.protocol = 2;
  c.name.clear();
  c.replies_off = false;  // Redis's clearClientConnectionState ends CLIENT REPLY OFF/SKIP
  c.skip_next = false;
  c.skip_current = false;
  // Like Redis: back to the default user, who must authenticate again when a password is set.
  c.authenticated = c.server == nullptr || c.server->settings().users().DefaultIsOpen();
  c.user = "default";
  context.reply(SimpleStringReply("RESET"));
}

// MONITOR: from now on the connection receives every command this node's front door runs
// (monitor_feed.h). Again while monitoring: no reply, as Redis ignores it.
void MonitorCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  if (c.server == nullptr) return context.reply(NoServer("MONITOR"));
  if (c.monitoring) return context.reply("");
  c.server->StartMonitoring(c);
  context.reply(SimpleStringReply("OK"));
}

void ClientCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  ConnectionState& c = *context.connection;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  c.last_command = absl::StrCat("client|", sub);
  const size_t argc = args.size();
  RespWriter writer(c.protocol);
  auto arity = [&](bool ok) {
    if (!ok) context.reply(WrongArity(absl::StrCat("client|", sub)));
    return ok;
  };
  if (sub == "tracking" || sub == "caching" || sub == "getredir" || sub == "trackinginfo") {
    return ClientTrackingCommand(std::move(context), sub);
  }
  if (sub == "id") {
    if (!arity(argc == 2)) return;
    writer.Integer(static_cast<int64_t>(c.id));
  } else if (sub == "getname") {
    if (!arity(argc == 2)) return;
    if (c.name.empty()) {
      writer.Null();
    } else {
      writer.Bulk(c.name);
    }
  } else if (sub == "setname") {
    if (!arity(argc == 3)) return;
    if (std::string invalid = InvalidClientName(args[2]); !invalid.empty()) {
      return context.reply(ErrorReply(invalid));
    }
    c.name = args[2];
    writer.SimpleString("OK");
  } else if (sub == "info") {
    if (!arity(argc == 2)) return;
    writer.Verbatim(ClientLine(c));
  } else if (sub == "list") {
    if (c.server == nullptr) return context.reply(NoServer("CLIENT LIST"));
    bool only_pubsub = false, only_normal = false;
    std::vector<uint64_t> ids;
    for (size_t i = 2; i < argc; ++i) {
      if (absl::EqualsIgnoreCase(args[i], "type") && i + 1 < argc) {
        const std::string type = absl::AsciiStrToLower(args[++i]);
        if (type == "pubsub") {
          only_pubsub = true;
        } else if (type == "normal") {
          only_normal = true;
        } else if (type != "master" && type != "replica" && type != "slave") {
          return context.reply(ErrorReply(absl::StrCat("ERR Unknown client type '", args[i], "'")));
        } else {
          only_pubsub = only_normal = true;  // no replicas or masters: nothing listed
        }
      } else if (absl::EqualsIgnoreCase(args[i], "id") && i + 1 < argc) {
        for (++i; i < argc; ++i) {
          // [ops5] Redis 7.0 takes any integer (0 and negatives match nothing: empty list).
          int64_t id = 0;
          if (!absl::SimpleAtoi(args[i], &id)) {
            return context.reply(ErrorReply("ERR Invalid client ID"));
          }
          ids.push_back(static_cast<uint64_t>(id));
        }
      } else {
        return context.reply(ErrorReply("ERR syntax error"));
      }
    }
    std::string lines;
    for (const ConnectionState* other : c.server->Connections()) {
      const bool pubsub = other->subscriptions() > 0;
      if ((only_pubsub && !pubsub) || (only_normal && pubsub)) continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), other->id) == ids.end()) continue;
      lines += ClientLine(*other);
    }
    writer.Verbatim(lines);
  } else if (sub == "kill") {
    if (c.server == nullptr) return context.reply(NoServer("CLIENT KILL"));
    if (!arity(argc >= 3)) return;
    std::vector<const ConnectionState*> all = c.server->Connections();
    if (argc == 3) {  // the old form: CLIENT KILL addr, answering OK or an error
      for (const ConnectionState* other : all) {
        if (other->address == args[2]) {
          c.server->Kill(other->id);
          return context.reply(SimpleStringReply("OK"));
        }
      }
      return context.reply(ErrorReply("ERR No such client"));
    }
    if ((argc - 2) % 2 != 0) return context.reply(ErrorReply("ERR syntax error"));
    uint64_t by_id = 0;
    std::string by_addr, by_laddr, by_user;
    bool skip_me = true;
    // TYPE: ekv has no replica or master connections, so those types match nothing.
    bool type_normal = false, type_pubsub = false, type_none = false;
    for (size_t i = 2; i < argc; i += 2) {
      const std::string option = absl::AsciiStrToLower(args[i]);
      const std::string& value = args[i + 1];
      if (option == "id") {
        long long id = 0;
        if (!ParseRedisInt64(value, &id) || id <= 0) {
          return context.reply(ErrorReply("ERR client-id should be greater than 0"));
        }
        by_id = static_cast<uint64_t>(id);
      } else if (option == "addr") {
        by_addr = value;
      } else if (option == "laddr") {
        by_laddr = value;
      } else if (option == "type") {
        const std::string type = absl::AsciiStrToLower(value);
        if (type == "normal") {
          type_normal = true;
        } else if (type == "pubsub") {
          type_pubsub = true;
        } else if (type == "master" || type == "replica" || type == "slave") {
          type_none = true;
        } else {
          return context.reply(ErrorReply(absl::StrCat("ERR Unknown client type '", value, "'")));
        }
      } else if (option == "user") {
        if (c.server->settings().users().Find(value) == nullptr) {
          return context.reply(ErrorReply(absl::StrCat("ERR No such user '", value, "'")));
        }
        by_user = value;
      } else if (option == "skipme") {
        if (absl::EqualsIgnoreCase(value, "yes")) {
          skip_me = true;
        } else if (absl::EqualsIgnoreCase(value, "no")) {
          skip_me = false;
        } else {
          return context.reply(ErrorReply("ERR syntax error"));
        }
      } else {
        return context.reply(ErrorReply("ERR syntax error"));
      }
    }
    int64_t killed = 0;
    for (const ConnectionState* other : all) {
      if (by_id != 0 && other->id != by_id) continue;
      if (!by_addr.empty() && other->address != by_addr) continue;
      if (!by_laddr.empty() && other->local_address != by_laddr) continue;
      if (!by_user.empty() && other->user != by_user) continue;
      const bool pubsub = other->subscriptions() > 0;
      if (type_none || (type_normal && pubsub) || (type_pubsub && !pubsub)) continue;
      if (skip_me && other->id == c.id) continue;
      if (c.server->Kill(other->id)) ++killed;
    }
    writer.Integer(killed);
  } else if (sub == "unblock") {
    // Redis 7.0: CLIENT UNBLOCK id [TIMEOUT|ERROR], the reason checked before the id; 1
    // when the client was blocked (on this node) and is answered now, else 0.
    if (!arity(argc >= 3)) return;
    if (argc > 4) {
      return context.reply(ErrorReply(
          absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                       absl::string_view(args[1]).substr(0, 128), "'. Try CLIENT HELP.")));
    }
    bool error = false;
    if (argc == 4) {
      if (absl::EqualsIgnoreCase(args[3], "error")) {
        error = true;
      } else if (!absl::EqualsIgnoreCase(args[3], "timeout")) {
        return context.reply(ErrorReply("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
      }
    }
    long long id = 0;
    if (!ParseRedisInt64(args[2], &id)) {
      return context.reply(ErrorReply("ERR value is not an integer or out of range"));
    }
    const bool unblocked =
        id > 0 && c.server != nullptr && c.server->Unblock(static_cast<uint64_t>(id), error);
    // Redis 7.0 counts a call that made any error reply as failed: CLIENT UNBLOCK ERROR
    // answered the blocked client with one.
    if (unblocked && error) c.server->stats().commands->RecordFailure("client|unblock");
    writer.Integer(unblocked ? 1 : 0);
  } else if (sub == "reply") {
    if (!arity(argc == 3)) return;
    // Redis 7.0: ON answers OK; OFF and SKIP answer nothing (their reply is dropped where
    // the server writes replies); SKIP while OFF changes nothing.
    if (absl::EqualsIgnoreCase(args[2], "on")) {
      c.replies_off = false;
      c.skip_next = false;
      c.skip_current = false;
      writer.SimpleString("OK");
    } else if (absl::EqualsIgnoreCase(args[2], "off")) {
      c.replies_off = true;
    } else if (absl::EqualsIgnoreCase(args[2], "skip")) {
      if (!c.replies_off) c.skip_next = true;
    } else {
      return context.reply(ErrorReply("ERR syntax error"));
    }
  } else if (sub == "no-evict") {
    if (!arity(argc == 3)) return;
    // Accepted as Redis does: ekv never evicts clients, so either setting holds.
    if (!absl::EqualsIgnoreCase(args[2], "on") && !absl::EqualsIgnoreCase(args[2], "off")) {
      return context.reply(ErrorReply("ERR syntax error"));
    }
    writer.SimpleString("OK");
  } else if (sub == "help") {
    if (!arity(argc == 2)) return;
    static constexpr absl::string_view kHelp[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>,",
        "    SKIPME (YES|NO).",
        "LIST [TYPE (NORMAL|PUBSUB)] [ID <id> [<id> ...]]",
        "    Return information about client connections.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Accepted; ekv never evicts clients.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "HELP",
        "    Print this help.",
    };
    writer.ArrayHeader(std::size(kHelp));
    for (absl::string_view line : kHelp) writer.SimpleString(line);
  } else {
    return context.reply(UnknownSubcommandReply(args[1], "CLIENT"));
  }
  context.reply(writer.Take());
}

namespace {

// INFO's sections, in Redis's order; "default" lists all but commandstats, which only
// "all", "everything" or its name asks for (ekv has no module or latencystats sections).
constexpr absl::string_view kInfoSections[] = {
    "server", "clients",      "memory",     "persistence", "stats",   "replication",
    "cpu",    "commandstats", "errorstats", "cluster",     "keyspace"};

void AppendSection(std::string* out, absl::string_view section, const ConnectionState& c) {
  ServerControl& server = *c.server;
  auto line = [out](absl::string_view key, const auto& value) {
    absl::StrAppend(out, key, ":", value, "\r\n");
  };
  if (!out->empty()) out->append("\r\n");
  if (section == "commandstats") {
    out->append(server.stats().commands->CommandSection());
    return;
  }
  if (section == "errorstats") {
    out->append(server.stats().commands->ErrorSection());
    return;
  }
  if (section == "server") {
    out->append("# Server\r\n");
    line("redis_version", "7.0.15");
    line("redis_mode", "standalone");
    line("ekv_front_door", "redis");
    line("os", "Linux");
    line("arch_bits", 64);
    line("multiplexing_api", "epoll");
    line("process_id", getpid());
    line("tcp_port", server.tcp_port());
    const int64_t now = NowUnixSeconds();
    line("server_time_usec", std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
    line("uptime_in_seconds", now - server.start_unix_seconds());
    line("uptime_in_days", (now - server.start_unix_seconds()) / 86400);
    line("hz", 10);
  } else if (section == "clients") {
    int64_t pubsub_clients = 0;
    const std::vector<const ConnectionState*> all = server.Connections();
    for (const ConnectionState* other : all) pubsub_clients += other->subscriptions() > 0;
    out->append("# Clients\r\n");
    line("connected_clients", all.size());
    line("maxclients", server.settings().maxclients);
    line("blocked_clients", server.BlockedClientCount());
    line("pubsub_clients", pubsub_clients);
    line("tracking_clients", server.Tracking().clients);
  } else if (section == "memory") {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const int64_t rss = static_cast<int64_t>(usage.ru_maxrss) * 1024;
    out->append("# Memory\r\n");
    line("used_memory", rss);  // ekv has no allocator accounting: the peak RSS
    line("used_memory_peak", rss);
    // Redis 7.0's script fields (the bodies' bytes: ekv keeps no compiled scripts).
    const ScriptCacheStats scripts = NodeScriptCacheStats();
    line("used_memory_scripts_eval", scripts.body_bytes);
    line("number_of_cached_scripts", scripts.scripts);
    line("maxmemory", 0);
    line("maxmemory_policy", "noeviction");
  } else if (section == "persistence") {
    out->append("# Persistence\r\n");
    line("loading", 0);
    line("rdb_bgsave_in_progress", 0);
    line("aof_enabled", 0);
  } else if (section == "stats") {
    const ServerStats& stats = server.stats();
    out->append("# Stats\r\n");
    line("total_connections_received", stats.connections_received);
    line("total_commands_processed", stats.commands_processed);
    line("rejected_connections", stats.rejected_connections);
    line("pubsub_channels", server.ActiveChannels("").size());
    line("pubsub_patterns", server.PatternCount());
    const TrackingStats tracking = server.Tracking();
    line("tracking_total_keys", tracking.keys);
    line("tracking_total_items", tracking.items);
    line("tracking_total_prefixes", tracking.prefixes);
    line("total_error_replies", stats.commands->total_error_replies());
    // ekv has no MIGRATE, so no sockets cached for it (Redis's suite waits for 0).
    line("migrate_cached_sockets", 0);
  } else if (section == "replication") {
    // Each ekv node accepts reads and writes (Raft replicates): a master to every client.
    out->append("# Replication\r\n");
    line("role", "master");
    line("connected_slaves", 0);
    // No Redis replication stream, hence no offset or backlog (Raft's log replicates).
    line("master_failover_state", "no-failover");
    line("master_repl_offset", 0);
    line("second_repl_offset", -1);
    line("repl_backlog_active", 0);
  } else if (section == "cpu") {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
      return absl::StrFormat("%.6f", t.tv_sec + t.tv_usec / 1e6);
    };
    out->append("# CPU\r\n");
    line("used_cpu_sys", seconds(usage.ru_stime));
    line("used_cpu_user", seconds(usage.ru_utime));
  } else if (section == "cluster") {
    out->append("# Cluster\r\n");
    line("cluster_enabled", 0);
  } else if (section == "keyspace") {
    out->append("# Keyspace\r\n");  // ekv keeps no key count per database
  }
}

}  // namespace

void InfoCommand(CommandContext context) {
  const ConnectionState& c = *context.connection;
  if (c.server == nullptr) return context.reply(NoServer("INFO"));
  std::vector<std::string> wanted;
  for (size_t i = 1; i < context.args.size(); ++i) {
    wanted.push_back(absl::AsciiStrToLower(context.args[i]));
  }
  const bool every =
      absl::c_linear_search(wanted, "all") || absl::c_linear_search(wanted, "everything");
  const bool defaults = every || wanted.empty() || absl::c_linear_search(wanted, "default");
  std::string text;
  for (absl::string_view section : kInfoSections) {
    const bool in_defaults = section != "commandstats";
    if ((in_defaults && defaults) || every || absl::c_linear_search(wanted, section)) {
      AppendSection(&text, section, c);
    }
  }
  RespWriter writer(c.protocol);
  writer.Verbatim(text);
  context.reply(writer.Take());
}

void TimeCommand(CommandContext context) {
  const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  RespWriter writer(context.connection->protocol);
  writer.ArrayHeader(2);
  writer.Bulk(absl::StrCat(micros / 1000000));
  writer.Bulk(absl::StrCat(micros % 1000000));
  context.reply(writer.Take());
}

namespace {

// The encoding thresholds ekv's layout follows (core/redis/layout.h): fixed, Redis 7.0's
// redis.conf values, under their names and 7.0's ziplist aliases. OBJECT ENCODING, the
// order of small hashes and DUMP's payloads depend on them.
struct FixedSetting {
  absl::string_view name;
  int64_t value;
};
constexpr FixedSetting kEncodingSettings[] = {
    {"hash-max-listpack-entries", redis_core::kMaxListpackEntries},
    {"hash-max-listpack-value", redis_core::kMaxListpackValue},
    {"hash-max-ziplist-entries", redis_core::kMaxListpackEntries},
    {"hash-max-ziplist-value", redis_core::kMaxListpackValue},
    {"list-compress-depth", redis_core::kListCompressDepth},
    {"list-max-listpack-size", redis_core::kListMaxListpackSize},
    {"list-max-ziplist-size", redis_core::kListMaxListpackSize},
    {"set-max-intset-entries", redis_core::kMaxIntsetEntries},
    {"zset-max-listpack-entries", redis_core::kMaxListpackEntries},
    {"zset-max-listpack-value", redis_core::kMaxListpackValue},
    {"zset-max-ziplist-entries", redis_core::kMaxListpackEntries},
    {"zset-max-ziplist-value", redis_core::kMaxListpackValue},
};

const FixedSetting* FindEncodingSetting(absl::string_view name) {
  for (const FixedSetting& setting : kEncodingSettings) {
    if (setting.name == name) return &setting;
  }
  return nullptr;
}

// CONFIG GET's names, sorted: what ekv has, the facts tools read (no RDB, no AOF), and the
// encoding thresholds above.
const std::vector<absl::string_view>& ConfigNames() {
  static const std::vector<absl::string_view>* names = [] {
    auto* all = new std::vector<absl::string_view>{"appendonly",
                                                   "databases",
                                                   "maxclients",
                                                   "maxmemory",
                                                   "notify-keyspace-events",
                                                   "port",
                                                   "proto-max-bulk-len",
                                                   "requirepass",
                                                   "save",
                                                   "slowlog-log-slower-than",
                                                   "slowlog-max-len",
                                                   "timeout",
                                                   "tracking-table-max-keys"};
    for (const FixedSetting& setting : kEncodingSettings) all->push_back(setting.name);
    std::sort(all->begin(), all->end());
    return all;
  }();
  return *names;
}

std::string ConfigValue(absl::string_view name, ServerControl& server) {
  const RedisSettings& s = server.settings();
  if (const FixedSetting* fixed = FindEncodingSetting(name); fixed != nullptr) {
    return absl::StrCat(fixed->value);
  }
  if (name == "appendonly") return "no";
  if (name == "databases") return "1";
  if (name == "maxclients") return absl::StrCat(s.maxclients);
  if (name == "maxmemory") return "0";
  if (name == "notify-keyspace-events") {
    return redis_core::KeyspaceEventsString(s.notify_keyspace_events);
  }
  if (name == "port") return absl::StrCat(server.tcp_port());
  if (name == "proto-max-bulk-len") return absl::StrCat(s.proto_max_bulk_len);
  if (name == "requirepass") return s.requirepass;
  if (name == "save") return "";
  if (name == "slowlog-log-slower-than")
    return absl::StrCat(server.stats().slowlog->slower_than_usec());
  if (name == "slowlog-max-len") return absl::StrCat(server.stats().slowlog->max_len());
  if (name == "tracking-table-max-keys") return absl::StrCat(s.tracking_table_max_keys);
  return absl::StrCat(s.timeout_seconds);
}

// Redis's memory values: a number with an optional k/kb/m/mb/g/gb suffix (k = 1000,
// kb = 1024), case-insensitive.
bool ParseMemory(absl::string_view text, long long* bytes) {
  const std::string lower = absl::AsciiStrToLower(text);
  static constexpr std::pair<absl::string_view, long long> kUnits[] = {
      {"kb", 1024}, {"mb", 1024 * 1024}, {"gb", 1024LL * 1024 * 1024},
      {"k", 1000},  {"m", 1000 * 1000},  {"g", 1000LL * 1000 * 1000}};
  long long unit = 1;
  absl::string_view digits = lower;
  for (const auto& [suffix, multiplier] : kUnits) {
    if (absl::EndsWith(digits, suffix)) {
      unit = multiplier;
      digits.remove_suffix(suffix.size());
      break;
    }
  }
  long long value = 0;
  if (!ParseRedisInt64(digits, &value) || value < 0 || value > INT64_MAX / unit) return false;
  *bytes = value * unit;
  return true;
}

std::string ConfigSetFailed(absl::string_view name, absl::string_view why) {
  return ErrorReply(
      absl::StrCat("ERR CONFIG SET failed (possibly related to argument '", name, "') - ", why));
}

}  // namespace

void ConfigCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  ConnectionState& c = *context.connection;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  c.last_command = absl::StrCat("config|", sub);
  if (c.server == nullptr) return context.reply(NoServer("CONFIG"));
  RespWriter writer(c.protocol);
  if (sub == "get") {
    if (args.size() < 3) return context.reply(WrongArity("config|get"));
    // Redis 7.0 echoes a plain name as the client spelled it and lists a pattern's
    // matches under their own names, each setting once.
    std::vector<std::pair<std::string, absl::string_view>> found;
    std::set<absl::string_view> seen;
    for (size_t i = 2; i < args.size(); ++i) {
      const std::string lower = absl::AsciiStrToLower(args[i]);
      const bool plain = lower.find_first_of("*?[\\") == std::string::npos;
      for (absl::string_view name : ConfigNames()) {
        if (!(plain ? lower == name : GlobMatch(lower, name))) continue;
        if (seen.insert(name).second) found.emplace_back(plain ? args[i] : std::string(name), name);
      }
    }
    writer.MapHeader(found.size());
    for (const auto& [shown, name] : found) {
      writer.Bulk(shown);
      writer.Bulk(ConfigValue(name, *c.server));
    }
  } else if (sub == "set") {
    if (args.size() < 4 || args.size() % 2 != 0) return context.reply(WrongArity("config|set"));
    // Check every pair before changing anything: CONFIG SET is all or nothing.
    RedisSettings next = c.server->settings();
    bool requirepass_set = false;
    std::optional<int64_t> slowlog_slower_than, slowlog_max_len;  // SlowLog's, set last
    for (size_t i = 2; i < args.size(); i += 2) {
      const std::string name = absl::AsciiStrToLower(args[i]);
      const std::string& value = args[i + 1];
      long long number = 0;
      const bool is_number = ParseRedisInt64(value, &number);
      if (name == "maxclients") {
        if (!is_number)
          return context.reply(
              ConfigSetFailed(name, "argument couldn't be parsed into an integer"));
        if (number < 1)
          return context.reply(
              ConfigSetFailed(name, "argument must be between 1 and 4294967295 inclusive"));
        next.maxclients = static_cast<size_t>(number);
      } else if (name == "requirepass") {
        next.requirepass = value;
        requirepass_set = true;
      } else if (name == "proto-max-bulk-len") {
        if (!ParseMemory(value, &number)) {
          return context.reply(ConfigSetFailed(name, "argument must be a memory value"));
        }
        if (number < 1024 * 1024)
          return context.reply(ConfigSetFailed(
              name, "argument must be between 1048576 and 9223372036854775807 inclusive"));
        next.proto_max_bulk_len = number;
      } else if (name == "maxmemory") {
        if (!ParseMemory(value, &number)) {
          return context.reply(ConfigSetFailed(name, "argument must be a memory value"));
        }
        // ekv evicts nothing; a limit would promise that it does.
        if (number != 0) {
          return context.reply(
              ConfigSetFailed(name, "ekv does not evict keys: only 0 (no limit) is supported"));
        }
      } else if (name == "notify-keyspace-events") {
        std::optional<uint32_t> flags = redis_core::ParseKeyspaceEvents(value);
        if (!flags.has_value()) {
          return context.reply(
              ConfigSetFailed(name, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));
        }
        next.notify_keyspace_events = *flags;
      } else if (name == "slowlog-log-slower-than" || name == "slowlog-max-len") {
        if (!is_number)
          return context.reply(
              ConfigSetFailed(name, "argument couldn't be parsed into an integer"));
        const bool max_len = name == "slowlog-max-len";
        if (number < (max_len ? 0 : -1)) {
          return context.reply(
              ConfigSetFailed(name, absl::StrCat("argument must be between ", max_len ? 0 : -1,
                                                 " and 9223372036854775807 inclusive")));
        }
        (max_len ? slowlog_max_len : slowlog_slower_than) = number;
      } else if (name == "tracking-table-max-keys") {
        if (!is_number)
          return context.reply(
              ConfigSetFailed(name, "argument couldn't be parsed into an integer"));
        if (number < 0)
          return context.reply(ConfigSetFailed(
              name, "argument must be between 0 and 9223372036854775807 inclusive"));
        next.tracking_table_max_keys = number;
      } else if (name == "timeout") {
        if (!is_number)
          return context.reply(
              ConfigSetFailed(name, "argument couldn't be parsed into an integer"));
        // ekv closes no idle client; accepting another value would promise that it does.
        if (number != 0)
          return context.reply(
              ConfigSetFailed(name, "ekv keeps idle clients open: only 0 is supported"));
      } else if (const FixedSetting* fixed = FindEncodingSetting(name); fixed != nullptr) {
        // Accepted only as the value ekv keeps: another would promise encodings (and
        // DUMP payloads, small-hash orders) that ekv's layout does not produce.
        if (!is_number) {
          return context.reply(
              ConfigSetFailed(name, "argument couldn't be parsed into an integer"));
        }
        if (number != fixed->value) {
          return context.reply(ConfigSetFailed(
              name, absl::StrCat("ekv's encodings follow Redis 7.0's redis.conf: only ",
                                 fixed->value, " is supported")));
        }
      } else if (name == "appendonly" || name == "save" || name == "databases" || name == "port") {
        return context.reply(
            ConfigSetFailed(name, "ekv's durability is Raft's log, not settable here"));
      } else {
        return context.reply(ErrorReply(absl::StrCat(
            "ERR Unknown option or number of arguments for CONFIG SET - '", args[i], "'")));
      }
    }
    c.server->settings() = next;
    if (slowlog_slower_than.has_value()) {
      c.server->stats().slowlog->set_slower_than_usec(*slowlog_slower_than);
    }
    if (slowlog_max_len.has_value()) c.server->stats().slowlog->set_max_len(*slowlog_max_len);
    // Redis 7: requirepass is the default user's password (resetpass >pw, or nopass).
    if (requirepass_set) c.server->settings().users().SetDefaultPassword(next.requirepass);
    writer.SimpleString("OK");
  } else if (sub == "resetstat") {
    if (args.size() != 2) return context.reply(WrongArity("config|resetstat"));
    // The command and error counts are reset in place: replies still in flight hold them.
    std::shared_ptr<CommandStats> commands = c.server->stats().commands;
    std::shared_ptr<SlowLog> slowlog = c.server->stats().slowlog;
    c.server->stats() = ServerStats{};
    commands->Reset();
    c.server->stats().commands = std::move(commands);
    c.server->stats().slowlog = std::move(slowlog);  // Redis's RESETSTAT keeps it
    writer.SimpleString("OK");
  } else if (sub == "help") {
    if (args.size() != 2) return context.reply(WrongArity("config|help"));
    static constexpr absl::string_view kHelp[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "HELP",
        "    Print this help.",
    };
    writer.ArrayHeader(std::size(kHelp));
    for (absl::string_view line : kHelp) writer.SimpleString(line);
  } else {
    return context.reply(UnknownSubcommandReply(args[1], "CONFIG"));
  }
  context.reply(writer.Take());
}

}  // namespace ekv::redis
