// CommandTable: every Redis command ekv serves, one entry each (name, arity, flags, key
// positions, documentation, handler), and Dispatch, which checks a request against the
// table the way Redis 7 does (unknown command, wrong number of arguments) before calling
// the command's handler. Handlers live in commands/*.cc, one small function per command.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/redis/backend.h"
#include "adapters/redis/server_control.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"

namespace ekv::redis {

// Per-connection state a command may read or change. Owned by the connection; handlers
// touch it only while they run (on the server's event-loop thread), never from a
// backend callback.
struct ConnectionState {
  uint64_t id = 0;
  int protocol = 2;                // RESP version (HELLO switches it)
  bool close_after_reply = false;  // QUIT: close once this command's reply is written
  std::string name;                // HELLO SETNAME
  // --- redis-conn additions ---
  ServerControl* server = nullptr;  // null without a server: server commands refuse
  bool authenticated = true;        // false until AUTH when a password is required
  std::string user = "default";     // who AUTH/HELLO AUTH logged in as (CLIENT LIST user=)
  std::string address;              // peer "ip:port", for CLIENT LIST / KILL ADDR
  std::string local_address;        // our "ip:port"
  int64_t created_unix_seconds = 0;
  std::string last_command;  // lower case, "client|list" style, for CLIENT LIST cmd=
  // While a command of this connection runs: the bytes of it and of what the client sent
  // after it that is not run yet (Redis's query buffer, CLIENT LIST qbuf=); else 0.
  size_t query_buffer_bytes = 0;
  // --- MONITOR (monitor_feed.h) ---
  bool monitoring = false;  // receives the node's command feed (RESET ends it)
  // What the running command shows the monitors once it answered (after its reply, as
  // Redis feeds them from call(): a monitor sees its own PING's +PONG first, and not its
  // own RESET): the command, or a pipelined run's commands, or EXEC's queued commands and
  // EXEC (the queued ones only if its reply says they ran).
  struct MonitorFeed {
    std::vector<std::vector<std::string>> commands;
    bool exec = false;  // commands.back() is EXEC
  };
  std::optional<MonitorFeed> monitor_feed;
  // SLOWLOG of a blocked command (its reply comes from the server, not its handler): the
  // arguments as the entry keeps them (empty: the log was off).
  std::vector<std::string> blocked_slowlog_args;
  std::set<std::string> channels;  // SUBSCRIBE
  std::set<std::string> patterns;  // PSUBSCRIBE
  size_t subscriptions() const { return channels.size() + patterns.size(); }
  // --- MULTI / EXEC / WATCH (commands/transaction.cc) ---
  bool in_multi = false;      // between MULTI and EXEC/DISCARD: commands are queued
  bool multi_failed = false;  // a command was refused while queuing: EXEC answers EXECABORT
  std::vector<std::vector<std::string>> queued;  // at most redis_core::kMaxCommandsPerRequest
  // The WATCHed keys and their stamps. Shared with WATCH's backend callbacks, which record
  // a stamp when the group answers: no other command of the connection runs meanwhile,
  // and a connection closed meanwhile frees nothing a late callback touches.
  struct WatchedKeys {
    std::mutex mu;
    std::vector<redis_core::Watch> keys;  // guarded by mu; at most kMaxWatchedKeys
    // The unix-ms deadline of each watched key that was live with a TTL when WATCH read
    // it (PEXPIRETIME right after its stamp): Redis 7.0 fails EXEC when such a key has
    // expired since. Guarded by mu.
    std::map<std::string, int64_t> expire_at_ms;
  };
  std::shared_ptr<WatchedKeys> watched = std::make_shared<WatchedKeys>();
  // Keys the running command makes ready for blocked clients when it succeeds (set by its
  // handler; the server reports them once the reply is not an error, then clears them).
  std::vector<std::string> ready_keys;
  // --- CLIENT REPLY (commands/server.cc), applied where the server writes replies ---
  bool replies_off = false;   // OFF: no reply is written (ON and RESET end it)
  bool skip_next = false;     // SKIP: the next command's reply is not written
  bool skip_current = false;  // the running command's reply is not written
  // Set by (P)(UN)SUBSCRIBE: their confirmations are written even under OFF or SKIP, as
  // Redis 7.0 writes them (addReplyPubsub*: CLIENT_PUSHING), in RESP2 and RESP3 alike.
  bool pushing_reply = false;
  // --- a blocked command (ServerControl::Block) until it is answered: INFO commandstats ---
  struct BlockedCall {
    std::string name;  // as commandstats names it
    std::chrono::steady_clock::time_point since;
    bool unblocked = false;  // CLIENT UNBLOCK answered it
  };
  std::optional<BlockedCall> blocked_call;
  // --- CLIENT TRACKING (commands/tracking.cc; the server's TrackingTable) ---
  struct Tracking {
    bool on = false;
    bool bcast = false;
    bool optin = false;
    bool optout = false;
    bool noloop = false;
    // CLIENT CACHING YES (with OPTIN) / NO (with OPTOUT): applies to the next command, or
    // to the next MULTI ... EXEC (Redis's CLIENT_TRACKING_CACHING).
    bool caching = false;
    bool broken_redirect = false;    // the REDIRECT connection was gone when one was due
    uint64_t redirect = 0;           // 0: none
    std::set<std::string> prefixes;  // BCAST (the empty prefix: every key)
  } tracking;
  // Forgets MULTI's queue and every WATCH (EXEC, DISCARD, RESET).
  void EndTransaction();
};

// Called exactly once with the encoded reply, from any thread.
using ReplyFn = std::function<void(std::string reply)>;

class CommandTable;

struct CommandContext {
  std::vector<std::string> args;  // args[0] is the command name as the client sent it
  ConnectionState* connection = nullptr;
  RedisBackend* backend = nullptr;
  const CommandTable* table = nullptr;
  ReplyFn reply;
};

using CommandHandler = void (*)(CommandContext context);

// Command flags, as COMMAND reports them.
enum CommandFlag : uint32_t {
  kFlagWrite = 1 << 0,
  kFlagReadOnly = 1 << 1,
  kFlagDenyOom = 1 << 2,
  kFlagFast = 1 << 3,
  kFlagLoading = 1 << 4,
  kFlagStale = 1 << 5,
  kFlagNoScript = 1 << 6,
  kFlagNoAuth = 1 << 7,  // runs before AUTH when a password is required
  kFlagPubSub = 1 << 8,
  // Not a COMMAND flag: allowed on a RESP2 connection with subscriptions (Redis decides
  // this per command too: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET).
  kFlagSubscribedContext = 1 << 9,
  kFlagBlocking = 1 << 10,
  kFlagMovableKeys = 1 << 11,
  kFlagAllowBusy = 1 << 12,
  kFlagSkipMonitor = 1 << 13,
  kFlagSkipSlowlog = 1 << 14,
  kFlagNoMandatoryKeys = 1 << 15,
  kFlagAdmin = 1 << 16,  // Redis's CMD_ADMIN: COMMAND INFO "admin"; never shown to monitors
};

struct CommandSpec {
  std::string name;  // lower case
  // Redis's convention: N > 0 exactly N arguments (name included); -N at least N.
  int arity = 0;
  uint32_t flags = 0;
  int first_key = 0;  // 0: no keys
  int last_key = 0;   // -1: up to the last argument
  int key_step = 0;
  std::string group;  // COMMAND DOCS group: "string", "connection", "server", ...
  std::string since;  // Redis version that introduced it
  std::string summary;
  std::vector<std::string> acl_categories;  // "@read", "@string", "@fast", ...
  CommandHandler handler = nullptr;
  // Last, so an entry may leave them out. COMMAND INFO's tips, Redis 7.0's, space-separated
  // ("nondeterministic_output request_policy:all_shards").
  std::string tips;
  // COMMAND INFO's key specifications, Redis 7.0's, ';'-separated (ParseKeySpecs).
  std::string key_specs;
  // COMMAND DOCS's complexity, and for a deprecated command the version and what replaces
  // it (Redis 7.0's words).
  std::string complexity;
  std::string deprecated_since;
  std::string replaced_by;
  // The keys of a command that Redis finds with a getkeys_proc because a key spec is
  // "unknown" (SORT's STORE): COMMAND GETKEYS asks it (redis_core::CommandKeys's finder).
  std::vector<std::string> (*get_keys)(const std::vector<std::string>& args) = nullptr;
};

// One key specification (Redis 7.0's key-spec model), parsed from the compact text of
// CommandSpec::key_specs, "FLAGS|BEGIN|FIND[|NOTES]": FLAGS space-separated ("RW access
// update"); BEGIN "i<index>" or "k<keyword>,<startfrom>" or "u" (unknown); FIND
// "r<lastkey>,<keystep>,<limit>" or "n<keynumidx>,<firstkey>,<keystep>" or "u" (unknown:
// the keys derive from data, or a keyword may stand anywhere -- SORT's BY/GET and STORE).
struct KeySpec {
  std::string notes;
  std::vector<std::string> flags;
  bool unknown_begin = false;  // begin_search unknown
  bool unknown_find = false;   // find_keys unknown
  int index = 0;               // begin_search index (keyword empty)
  std::string keyword;         // begin_search keyword
  int startfrom = 0;
  bool keynum = false;                           // find_keys: keynum (else range)
  int lastkey = 0, keystep = 1, limit = 0;       // range
  int keynumidx = 0, firstkey = 0, numstep = 1;  // keynum
};
// Parses CommandSpec::key_specs; an error for text that is not of that form.
absl::StatusOr<std::vector<KeySpec>> ParseKeySpecs(absl::string_view text);
// A key of a command, with the flags COMMAND GETKEYSANDFLAGS shows ("RW", "access", ...):
// its key spec's, or those Redis's getkeys_proc gives (SET and BITFIELD, whose spec says
// variable_flags; SORT's STORE); none for a key found by position.
struct CommandKey {
  std::string key;
  std::vector<std::string> flags;
};
// The keys of `args` (args[0] the command name) by the key specs, each with its spec's
// flags, as Redis 7.0's getKeysUsingKeySpecs finds them; nullopt when a spec cannot be
// applied (an unknown one, a bad numkeys).
std::optional<std::vector<CommandKey>> KeysBySpecs(const std::vector<KeySpec>& specs,
                                                   const std::vector<std::string>& args);
// The keys of `args` (args[0] the command name) as Redis 7.0 finds them for COMMAND
// GETKEYS and the ACL key check (getKeysFromCommandWithSpecs): by the key specs, else by
// the command's getkeys_proc (CommandSpec::get_keys: SORT's STORE), an entry without specs
// by its key positions. nullopt when they cannot be found (a bad numkeys); the empty list
// for a command without keys.
std::optional<std::vector<std::string>> CommandKeysOf(const CommandSpec& spec,
                                                      const std::vector<std::string>& args);
// CommandKeysOf with each key's flags.
std::optional<std::vector<CommandKey>> CommandKeysAndFlagsOf(const CommandSpec& spec,
                                                             const std::vector<std::string>& args);

class CommandTable {
 public:
  // The table of every command ekv serves.
  static const CommandTable& Default();

  explicit CommandTable(std::vector<CommandSpec> specs);

  // Looks up args[0] (case-insensitive), checks arity, runs the handler; errors are
  // answered through `reply` in Redis's words. `args` must not be empty.
  void Dispatch(std::vector<std::string> args, ConnectionState* connection, RedisBackend* backend,
                ReplyFn reply) const;

  const CommandSpec* Find(absl::string_view name) const;  // case-insensitive
  // A subcommand ekv serves by its full name ("config|get", case-insensitive); null for
  // anything else (a client never sends a full name as a command: Find does not know it).
  const CommandSpec* FindSubcommand(absl::string_view full_name) const;
  // Find, or for a name with '|' FindSubcommand: what COMMAND INFO and DOCS look up (Redis's
  // lookupCommandBySds).
  const CommandSpec* FindByFullName(absl::string_view name) const;
  // The subcommands ekv serves of `container` (SubcommandSpecs), by name; empty for a plain
  // command.
  std::vector<const CommandSpec*> SubcommandsOf(absl::string_view container) const;
  // Ordered by name, so COMMAND output is deterministic. Top-level commands only.
  const std::map<std::string, CommandSpec>& specs() const { return specs_; }

 private:
  // Notes what a command that passed Dispatch's checks shows the node's monitors (MONITOR)
  // once it answered (ConnectionState::monitor_feed): nothing for one MULTI queues.
  void FeedMonitors(const CommandSpec& spec, const std::vector<std::string>& args, bool queued,
                    ConnectionState& connection) const;

  std::map<std::string, CommandSpec> specs_;
  std::map<std::string, CommandSpec> subcommands_;  // by full name: "config|get"
};

// The handlers, registered in CommandTable::Default (commands/*.cc).
void PingCommand(CommandContext context);
void EchoCommand(CommandContext context);
void HelloCommand(CommandContext context);
void SelectCommand(CommandContext context);
void QuitCommand(CommandContext context);
void CommandCommand(CommandContext context);
// The data commands (strings, keys, expiry, hashes, lists, sets, sorted sets): run by
// redis_core's executor in the owning group (commands/typed.cc). Keys in different
// groups: DEL, EXISTS, MGET and MSET are split per key; any other command runs over the
// groups as a one-command transaction (core/coord/coordinator_redis_cross.cc).
void TypedCommand(CommandContext context);
std::vector<CommandSpec> TypedCommandSpecs();  // commands/typed_specs.cc
// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP: run once like
// TypedCommand; a miss blocks the connection in the server (ServerControl::Block) until
// a write anywhere in the cluster serves it or it times out (commands/blocking.cc).
void BlockingCommand(CommandContext context);
// XREAD: as TypedCommand, but with BLOCK a client that finds nothing blocks until an XADD
// anywhere in the cluster serves it or it times out (commands/stream_read.cc).
void XReadCommand(CommandContext context);
// Redis 7.0's sortCommandGeneric refuses a BY pattern (one with '*') and GET to a user
// without access to every key ("BY option of SORT denied due to insufficient ACL
// permissions.", "GET option ..."), at the option where its left-to-right parse meets it:
// the error text for SORT / SORT_RO `args` sent by `connection`'s user, or empty (an
// earlier syntax or LIMIT error is left to the command, which answers it as Redis).
std::string SortAclError(const std::vector<std::string>& args, const ConnectionState& connection);
// The same for a user without access to every key (a script's caller: lua runner).
std::string SortAclErrorText(const std::vector<std::string>& args);
// A request of one command routed by its first argument after the name, with the proposer's
// clock as the lower bound of the group's time and a fresh random seed (commands/typed.cc).
redis_core::RedisRequest MakeRedisRequest(std::vector<std::string> args);
// --- redis-conn additions: commands/server.cc, commands/pubsub.cc ---
void AuthCommand(CommandContext context);
void ResetCommand(CommandContext context);
void MonitorCommand(CommandContext context);
void ClientCommand(CommandContext context);
// CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO (commands/tracking.cc); `sub` lower case.
void ClientTrackingCommand(CommandContext context, const std::string& sub);
// Turns the connection's tracking off (CLIENT TRACKING OFF, RESET).
void DisableTracking(ConnectionState& connection);
void InfoCommand(CommandContext context);
void TimeCommand(CommandContext context);
void ConfigCommand(CommandContext context);
void SlowlogCommand(CommandContext context);  // commands/slowlog.cc
void SubscribeCommand(CommandContext context);
void UnsubscribeCommand(CommandContext context);
void PsubscribeCommand(CommandContext context);
void PunsubscribeCommand(CommandContext context);
void PublishCommand(CommandContext context);
void PubsubCommand(CommandContext context);
// --- transactions: commands/transaction.cc ---
void MultiCommand(CommandContext context);
void ExecCommand(CommandContext context);
void DiscardCommand(CommandContext context);
void WatchCommand(CommandContext context);
void UnwatchCommand(CommandContext context);
std::vector<CommandSpec> TransactionCommandSpecs();
// --- the keyspace walks: commands/keyspace.cc ---
void ScanCommand(CommandContext context);
void KeysCommand(CommandContext context);
void DbsizeCommand(CommandContext context);
void RandomkeyCommand(CommandContext context);
void FlushdbCommand(CommandContext context);  // FLUSHDB and FLUSHALL
// FLUSHDB's argument check: Redis's error text, or empty when the arguments are fine.
std::string FlushdbSyntaxError(const std::vector<std::string>& args);
// FLUSHDB's walk of every route, deleting every key (but DynamoDB's); `done` once every key
// present at the start is gone (keys written meanwhile by others may survive).
void FlushKeyspace(RedisBackend* backend, std::function<void(absl::Status)> done);
// Whether EXEC runs this queued command as a keyspace walk between the atomic parts of the
// transaction (FLUSHDB, FLUSHALL, KEYS, SCAN, DBSIZE, RANDOMKEY; and FUNCTION, FCALL,
// FCALL_RO, which need the functions registry) rather than in the group
// (commands/transaction.cc).
bool IsWalkInExec(absl::string_view name);
// Whether MULTI queues this node-local command (CONFIG, CLIENT, INFO, TIME, SUBSCRIBE...:
// neither a data command, a script nor a walk) for EXEC to run through its handler after
// the rest; false on a connection without a server (there is no loop to run it on).
bool IsNodeLocalInExec(const CommandSpec& spec, const ConnectionState& connection);
std::vector<CommandSpec> KeyspaceCommandSpecs();
// A fresh random seed per request (commands/typed.cc).
uint64_t NextRequestSeed();
// Called by Dispatch for a command that passed its checks on a connection inside MULTI:
// queues it (QUEUED) or refuses it (and marks the transaction failed). Returns false for
// the commands that run at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT,
// RESET, as Redis 7.0).
bool QueueInMulti(const CommandSpec& spec, CommandContext& context);
// AUTH's check: marks the connection authenticated as `user` and returns true when
// `password` is that user's ("default": requirepass; others: RedisSettings::users).
// A failed check is recorded in ACL LOG with `command` (as the client typed it) as its object.
bool CheckPassword(ConnectionState* connection, absl::string_view user, absl::string_view password,
                   absl::string_view command = "auth");
// One CLIENT LIST line ("id=... resp=2\n"), Redis 7.0's fields (commands/server.cc).
std::string ClientLine(const ConnectionState& connection);
// --- scripting: commands/scripting.cc (lua) ---
void EvalCommand(CommandContext context);
void EvalRoCommand(CommandContext context);
void EvalShaCommand(CommandContext context);
void EvalShaRoCommand(CommandContext context);
void ScriptCommand(CommandContext context);
std::vector<CommandSpec> ScriptingCommandSpecs();
// The node's script cache (INFO memory's number_of_cached_scripts, used_memory_scripts_eval).
struct ScriptCacheStats {
  size_t scripts = 0;
  size_t body_bytes = 0;
};
ScriptCacheStats NodeScriptCacheStats();
// EXEC's node-local part: the script commands of the transaction as Redis 7.0 meets them
// when EXEC runs, in command order against the node's script cache. An EVAL whose numkeys
// is valid and whose body compiles enters the cache; an EVALSHA's body is looked up at
// that point (an earlier EVAL or SCRIPT LOAD of the same EXEC counts, an earlier SCRIPT
// FLUSH empties it) and carried in request->script_bodies; SCRIPT LOAD / EXISTS / FLUSH /
// KILL / HELP are answered here and leave the request (they touch no key: the cache is
// per node, as in Redis Cluster). The cache changes land only when the group ran the
// transaction (Apply), so an EXEC aborted by WATCH leaves the cache as it was.
class QueuedScripts {
 public:
  static QueuedScripts Resolve(redis_core::RedisRequest* request);
  // The group's reply to the rest of the transaction (an array) with the SCRIPT
  // commands' replies in their places.
  redis_core::Reply Splice(redis_core::Reply group_reply) const;
  // Lands the EXEC's cache changes in the node's script cache.
  void Apply() const;

 private:
  friend class ExecScriptCacheView;
  bool flush_ = false;  // a SCRIPT FLUSH ran: the cache empties before `added_` land
  std::vector<std::pair<std::string, std::string>> added_;  // (sha, body) after the flush
  size_t added_bytes_ = 0;
  std::vector<std::pair<size_t, redis_core::Reply>> replies_;  // (position, reply) ascending
};
// --- Redis 7 functions: commands/functions.cc (lua) ---
void FunctionCommand(CommandContext context);
void FcallCommand(CommandContext context);
void FcallRoCommand(CommandContext context);
std::vector<CommandSpec> FunctionCommandSpecs();
// --- ACL: commands/acl.cc ---
void AclCommand(CommandContext context);
std::vector<CommandSpec> AclCommandSpecs();
// Records a refusal or a failed AUTH in the node's ACL LOG (reason "command", "key",
// "channel" or "auth"; `command` is what CLIENT LIST's cmd= shows for it; `context` empty:
// "multi" or "toplevel" as the connection is).
void LogAclEvent(const ConnectionState& connection, absl::string_view reason,
                 absl::string_view object, const std::string& username, absl::string_view command,
                 absl::string_view context = {});
// Records the redis.calls a script's caller may not run (Reply::acl_denials, decided where
// the script ran) in the ACL LOG with context "lua", as Redis's scriptVerifyACL does, on the
// loop thread (from any thread), before a reply queued after this call.
void LogScriptAclDenials(ServerControl* server, uint64_t connection_id, std::string username,
                         std::string command, std::vector<redis_core::ScriptAclDenial> denials);
// The connection's user's ACL rules as ACL LIST describes them, for a request that runs
// scripts (RedisRequest::user_acl: redis.acl_check_cmd, the ACL check of redis.call);
// empty when the user may run everything (or there is no server).
std::string UserAclRules(const ConnectionState& connection);
// Redis's CLIENT SETNAME rule as an error message; empty when the name is fine.
std::string InvalidClientName(absl::string_view name);
// Their table entries (commands/server_specs.cc), appended to CommandTable::Default.
std::vector<CommandSpec> ServerCommandSpecs();
// The subcommands the containers' handlers serve ("config|get"), as Redis 7.0 describes
// them (subcommand_specs.cc, generated by scripts/gen-redis-subcommand-specs.py): the
// entries COMMAND INFO, DOCS, LIST and GETKEYS answer from. They have no handler: the
// container's handler parses its own subcommand.
std::vector<CommandSpec> SubcommandSpecs();
// "ERR unknown subcommand 'x'. Try CLIENT HELP." (the subcommand cut at 128 bytes).
std::string UnknownSubcommandReply(absl::string_view subcommand, absl::string_view command);

// Redis 7.0's lookupCommand resolves a container ("config", "object", "client"...) given a
// second argument to that subcommand, and processCommand checks the subcommand's existence
// and arity as it checks a plain command's: before the handler, before AUTH and ACL, and
// while MULTI queues (a refusal then aborts EXEC); a script's redis.call checks the same.
// The refusal as an encoded error reply, with `unknown` set when there is no such
// subcommand (Redis has then no command to count it under); nullopt when the subcommand
// is fine or `spec` is no container (by Redis 7.0.15's table, AclCatalog).
struct SubcommandRefusal {
  std::string error;
  bool unknown = false;
};
std::optional<SubcommandRefusal> CheckSubcommand(const CommandSpec& spec,
                                                 const std::vector<std::string>& args);

// The name INFO commandstats counts a command under: a container's subcommand as Redis
// names it ("client|id") when Redis has that subcommand, else the command's name.
std::string StatsName(const CommandSpec& spec, const std::vector<std::string>& args);

// A storage error as a Redis error reply: "TRYAGAIN ..." when retrying may succeed (no
// leader yet, overloaded, deadline, unknown outcome of an idempotent write), else
// "ERR ...", always with the store's message.
std::string BackendErrorReply(const absl::Status& status);
// The same words unencoded, for a reply inside an array (EXEC's slots).
std::string BackendErrorText(const absl::Status& status);

}  // namespace ekv::redis
