// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS, FLUSH, KILL, HELP).
//
// A script runs in one group: the request (redis_core::RedisRequest::Script: the body,
// KEYS and ARGV) is routed by its first key, or by kKeylessScriptRoutingKey when it has
// none, and run there by the group's ScriptRunner (adapters/redis/lua) — EVAL as one Raft
// entry at apply time on every replica (atomic: all its writes are that entry's batch),
// EVAL_RO at a linearizable read point. Every key the script declares or touches must
// live in that group (CROSSSLOT / "Script attempted to access a non local key in a cluster
// node" otherwise).
//
// The script cache (what EVALSHA finds) is per node, as in Redis Cluster: SCRIPT LOAD or
// EVAL on one node does not make the SHA known to the others, where EVALSHA answers
// NOSCRIPT (clients such as redis-py's register_script then send SCRIPT LOAD or EVAL there).
// The cache lives in the process and is bounded by kMaxScriptCacheBytes.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/lua/lua_script_runner.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/resp_writer.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"

namespace ekv::redis {
namespace {

using redis_core::Reply;

// Where a script that declares no key runs (so it may only touch keys of that group).
constexpr absl::string_view kKeylessScriptRoutingKey = "ekv:script";
// The bodies the node's script cache may hold in all; beyond, SCRIPT LOAD and EVAL still
// work but the script is not remembered (EVALSHA then answers NOSCRIPT).
constexpr size_t kMaxScriptCacheBytes = 64 << 20;

class ScriptCache {
 public:
  static ScriptCache& Node() {
    static ScriptCache* cache = new ScriptCache();
    return *cache;
  }
  // False when the cache is full (the script is then not remembered).
  bool Add(const std::string& sha, const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    if (scripts_.count(sha) != 0) return true;
    if (bytes_ + body.size() > kMaxScriptCacheBytes) return false;
    bytes_ += body.size();
    scripts_.emplace(sha, body);
    return true;
  }
  std::optional<std::string> Find(const std::string& sha) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = scripts_.find(sha);
    if (it == scripts_.end()) return std::nullopt;
    return it->second;
  }
  void Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_.clear();
    bytes_ = 0;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> scripts_;  // guarded by mu_; sha -> body
  size_t bytes_ = 0;                            // guarded by mu_
};

// EVAL's numkeys (args[2]) checked as Redis 7.0 checks it: its error, or the count.
absl::StatusOr<size_t> CheckedNumKeys(const std::vector<std::string>& args) {
  std::optional<int64_t> numkeys = redis_core::ParseInt64(args[2]);
  if (!numkeys.has_value()) {
    return absl::InvalidArgumentError("ERR value is not an integer or out of range");
  }
  if (*numkeys > static_cast<int64_t>(args.size()) - 3) {
    return absl::InvalidArgumentError("ERR Number of keys can't be greater than number of args");
  }
  if (*numkeys < 0) return absl::InvalidArgumentError("ERR Number of keys can't be negative");
  return static_cast<size_t>(*numkeys);
}

// Runs `body` with the KEYS and ARGV that follow numkeys in the group owning KEYS[1].
void RunScript(CommandContext& context, std::string body, size_t numkeys, bool read_only) {
  const std::vector<std::string>& args = context.args;
  redis_core::RedisRequest::Script script;
  script.body = std::move(body);
  script.read_only = read_only;
  const size_t first_arg = 3 + numkeys;
  script.keys.assign(args.begin() + 3, args.begin() + first_arg);
  script.args.assign(args.begin() + first_arg, args.end());

  redis_core::RedisRequest request;
  request.routing_key =
      script.keys.empty() ? std::string(kKeylessScriptRoutingKey) : script.keys.front();
  // Only a lower bound: the group decides expiry at max(this, its replicated time).
  request.now_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  request.seed = NextRequestSeed();
  request.script = std::move(script);
  const int protocol = context.connection->protocol;
  context.backend->Execute(std::move(request), /*write=*/!read_only,
                           [reply = std::move(context.reply), protocol](absl::StatusOr<Reply> r) {
                             if (!r.ok()) return reply(BackendErrorReply(r.status()));
                             reply(EncodeReplyFor(protocol, *r));
                           });
}

void Eval(CommandContext context, bool read_only) {
  absl::StatusOr<size_t> numkeys = CheckedNumKeys(context.args);
  if (!numkeys.ok()) return context.reply(ErrorReply(numkeys.status().message()));
  std::string body = context.args[1];
  // Compiled here first, as Redis does, so a script that cannot run costs no Raft entry.
  if (std::string error = ScriptCompileError(body); !error.empty()) {
    return context.reply(ErrorReply(error));
  }
  ScriptCache::Node().Add(ScriptSha1Hex(body), body);
  RunScript(context, std::move(body), *numkeys, read_only);
}

void EvalSha(CommandContext context, bool read_only) {
  absl::StatusOr<size_t> numkeys = CheckedNumKeys(context.args);
  if (!numkeys.ok()) return context.reply(ErrorReply(numkeys.status().message()));
  std::optional<std::string> body;
  if (context.args[1].size() == 40) {
    body = ScriptCache::Node().Find(absl::AsciiStrToLower(context.args[1]));
  }
  if (!body.has_value()) {
    return context.reply(ErrorReply("NOSCRIPT No matching script. Please use EVAL."));
  }
  RunScript(context, *std::move(body), *numkeys, read_only);
}

std::string ScriptHelp(int protocol) {
  static constexpr absl::string_view kHelp[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache of this node.",
      "KILL",
      "    Kill the currently executing Lua script (ekv: never one to kill; scripts stop at",
      "    a fixed instruction limit).",
      "LOAD <script>",
      "    Load a script into the scripts cache of this node without executing it.",
      "HELP",
      "    Prints this help.",
  };
  RespWriter writer(protocol);
  writer.ArrayHeader(std::size(kHelp));
  for (absl::string_view line : kHelp) writer.SimpleString(line);
  return writer.Take();
}

}  // namespace

void ResolveQueuedScripts(redis_core::RedisRequest* request) {
  for (std::vector<std::string>& args : request->commands) {
    if (args.size() < 3 || !redis_core::IsScriptCommand(args[0]) || !CheckedNumKeys(args).ok()) {
      continue;
    }
    if (absl::StartsWithIgnoreCase(args[0], "evalsha")) {
      const std::string sha = absl::AsciiStrToLower(args[1]);
      if (std::optional<std::string> body = ScriptCache::Node().Find(sha); body.has_value()) {
        request->script_bodies.emplace(sha, *std::move(body));
      } else {
        // Unknown here, though an EVAL later in this EXEC may add it: this one answers
        // NOSCRIPT (a SHA that is not 40 characters long), as it does in Redis.
        args[1].clear();
      }
      continue;
    }
    if (ScriptCompileError(args[1]).empty()) {
      ScriptCache::Node().Add(ScriptSha1Hex(args[1]), args[1]);
    }
  }
}

void EvalCommand(CommandContext context) { Eval(std::move(context), /*read_only=*/false); }
void EvalRoCommand(CommandContext context) { Eval(std::move(context), /*read_only=*/true); }
void EvalShaCommand(CommandContext context) { EvalSha(std::move(context), /*read_only=*/false); }
void EvalShaRoCommand(CommandContext context) { EvalSha(std::move(context), /*read_only=*/true); }

void ScriptCommand(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  const size_t argc = args.size();
  auto wrong_arity = [&] {
    context.reply(
        ErrorReply(absl::StrCat("ERR wrong number of arguments for 'script|", sub, "' command")));
  };
  if (sub == "load") {
    if (argc != 3) return wrong_arity();
    if (std::string error = ScriptCompileError(args[2]); !error.empty()) {
      return context.reply(ErrorReply(error));
    }
    const std::string sha = ScriptSha1Hex(args[2]);
    if (!ScriptCache::Node().Add(sha, args[2])) {
      return context.reply(
          ErrorReply(absl::StrCat("ERR the script cache of this node is full (",
                                  kMaxScriptCacheBytes, " bytes); SCRIPT FLUSH it")));
    }
    RespWriter writer(context.connection->protocol);
    writer.Bulk(sha);
    return context.reply(writer.Take());
  }
  if (sub == "exists") {
    if (argc < 3) return wrong_arity();
    RespWriter writer(context.connection->protocol);
    writer.ArrayHeader(argc - 2);
    for (size_t i = 2; i < argc; ++i) {
      writer.Integer(ScriptCache::Node().Find(absl::AsciiStrToLower(args[i])).has_value() ? 1 : 0);
    }
    return context.reply(writer.Take());
  }
  if (sub == "flush") {
    const bool mode_ok = argc == 2 || (argc == 3 && (absl::EqualsIgnoreCase(args[2], "sync") ||
                                                     absl::EqualsIgnoreCase(args[2], "async")));
    if (!mode_ok)
      return context.reply(ErrorReply("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    ScriptCache::Node().Flush();
    return context.reply(SimpleStringReply("OK"));
  }
  if (sub == "kill") {
    if (argc != 2) return wrong_arity();
    return context.reply(ErrorReply("NOTBUSY No scripts in execution right now."));
  }
  if (sub == "help") {
    if (argc != 2) return wrong_arity();
    return context.reply(ScriptHelp(context.connection->protocol));
  }
  context.reply(UnknownSubcommandReply(args[1], "SCRIPT"));
}

std::vector<CommandSpec> ScriptingCommandSpecs() {
  // Redis 7.0's flags: noscript (a script cannot EVAL), stale, movablekeys.
  constexpr uint32_t kScript = kFlagNoScript | kFlagStale | kFlagMovableKeys;
  return {
      {"eval",
       -3,
       kScript,
       0,
       0,
       0,
       "scripting",
       "2.6.0",
       "Executes a server-side Lua script.",
       {"@slow", "@scripting"},
       &EvalCommand},
      {"evalsha",
       -3,
       kScript,
       0,
       0,
       0,
       "scripting",
       "2.6.0",
       "Executes a server-side Lua script by SHA1 digest.",
       {"@slow", "@scripting"},
       &EvalShaCommand},
      {"eval_ro",
       -3,
       kScript | kFlagReadOnly,
       0,
       0,
       0,
       "scripting",
       "7.0.0",
       "Executes a read-only server-side Lua script.",
       {"@slow", "@scripting"},
       &EvalRoCommand},
      {"evalsha_ro",
       -3,
       kScript | kFlagReadOnly,
       0,
       0,
       0,
       "scripting",
       "7.0.0",
       "Executes a read-only server-side Lua script by SHA1 digest.",
       {"@slow", "@scripting"},
       &EvalShaRoCommand},
      {"script",
       -2,
       kFlagNoScript,
       0,
       0,
       0,
       "scripting",
       "2.6.0",
       "A container for Lua scripts management commands.",
       {"@slow"},
       &ScriptCommand},
  };
}

}  // namespace ekv::redis
