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
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/lua/lua_script_runner.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/resp_writer.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"
#include "core/util/assert.h"

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
  size_t bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return scripts_.size();
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
  request.user_acl = UserAclRules(*context.connection);
  // A write script may push to a key it declares: its blocked clients get a turn.
  if (!read_only) context.connection->ready_keys = request.script->keys;
  const int protocol = context.connection->protocol;
  context.backend->Execute(
      std::move(request), /*write=*/!read_only,
      [reply = std::move(context.reply), protocol, server = context.connection->server,
       id = context.connection->id, user = context.connection->user,
       command = absl::AsciiStrToLower(args[0])](absl::StatusOr<Reply> r) mutable {
        if (!r.ok()) return reply(BackendErrorReply(r.status()));
        LogScriptAclDenials(server, id, std::move(user), std::move(command), r->TakeAclDenials());
        reply(EncodeReplyFor(protocol, *r));
      });
}

// Redis 7.0's checks of a script's shebang flags before it runs: a script without
// no-writes may not run through EVAL_RO / EVALSHA_RO; with it, it runs read-only. The
// error reply, or empty (and `read_only` updated).
std::string ShebangRunError(absl::string_view body, bool* read_only) {
  absl::StatusOr<ScriptShebang> shebang = ParseScriptShebang(body);
  if (!shebang.ok()) return ErrorReply(shebang.status().message());
  if (!shebang->present) return "";
  if (!shebang->no_writes && *read_only) {
    return ErrorReply("ERR Can not execute a script with write flag using *_ro command.");
  }
  *read_only = *read_only || shebang->no_writes;
  return "";
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
  if (std::string error = ShebangRunError(body, &read_only); !error.empty()) {
    return context.reply(std::move(error));
  }
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
  if (std::string error = ShebangRunError(*body, &read_only); !error.empty()) {
    return context.reply(std::move(error));
  }
  RunScript(context, *std::move(body), *numkeys, read_only);
}

Reply ScriptHelp() {
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
  std::vector<Reply> lines;
  for (absl::string_view line : kHelp) lines.push_back(Reply::Status(line));
  return Reply::Array(std::move(lines));
}

// The node's script cache as one command sees it.
class ScriptCacheView {
 public:
  virtual ~ScriptCacheView() = default;
  virtual std::optional<std::string> Find(const std::string& sha) = 0;
  // False when the cache has no room for it (it is then not remembered).
  virtual bool Add(const std::string& sha, const std::string& body) = 0;
  virtual void Flush() = 0;
};

// Outside MULTI: every change lands at once.
class NodeScriptCacheView final : public ScriptCacheView {
 public:
  std::optional<std::string> Find(const std::string& sha) override {
    return ScriptCache::Node().Find(sha);
  }
  bool Add(const std::string& sha, const std::string& body) override {
    return ScriptCache::Node().Add(sha, body);
  }
  void Flush() override { ScriptCache::Node().Flush(); }
};

// SCRIPT's subcommand and arity rule (Redis 7.0's subcommand table: LOAD 3, EXISTS -3,
// FLUSH -2, KILL 2, HELP 2): the error reply text, or empty.
std::string ScriptSubcommandError(const std::vector<std::string>& args) {
  const std::string sub = absl::AsciiStrToLower(args[1]);
  const size_t argc = args.size();
  bool arity_ok = true;
  if (sub == "load") {
    arity_ok = argc == 3;
  } else if (sub == "exists") {
    arity_ok = argc >= 3;
  } else if (sub == "flush") {
    arity_ok = argc >= 2;
  } else if (sub == "kill" || sub == "help") {
    arity_ok = argc == 2;
  } else {
    return absl::StrCat("ERR unknown subcommand '", absl::string_view(args[1]).substr(0, 128),
                        "'. Try SCRIPT HELP.");
  }
  if (!arity_ok)
    return absl::StrCat("ERR wrong number of arguments for 'script|", sub, "' command");
  return "";
}

// SCRIPT LOAD / EXISTS / FLUSH / KILL / HELP against `cache`.
Reply ScriptSubcommand(const std::vector<std::string>& args, ScriptCacheView& cache) {
  if (std::string error = ScriptSubcommandError(args); !error.empty()) return Reply::Error(error);
  const std::string sub = absl::AsciiStrToLower(args[1]);
  const size_t argc = args.size();
  if (sub == "load") {
    if (std::string error = ScriptCompileError(args[2]); !error.empty()) {
      return Reply::Error(error);
    }
    const std::string sha = ScriptSha1Hex(args[2]);
    if (!cache.Add(sha, args[2])) {
      return Reply::Error(absl::StrCat("ERR the script cache of this node is full (",
                                       kMaxScriptCacheBytes, " bytes); SCRIPT FLUSH it"));
    }
    return Reply::Bulk(sha);
  }
  if (sub == "exists") {
    std::vector<Reply> found;
    for (size_t i = 2; i < argc; ++i) {
      found.push_back(Reply::Integer(cache.Find(absl::AsciiStrToLower(args[i])).has_value()));
    }
    return Reply::Array(std::move(found));
  }
  if (sub == "flush") {
    const bool mode_ok = argc == 2 || (argc == 3 && (absl::EqualsIgnoreCase(args[2], "sync") ||
                                                     absl::EqualsIgnoreCase(args[2], "async")));
    if (!mode_ok) return Reply::Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    cache.Flush();
    return Reply::Ok();
  }
  if (sub == "kill") return Reply::Error("NOTBUSY No scripts in execution right now.");
  return ScriptHelp();
}

}  // namespace

// Inside EXEC: changes are collected in command order (later commands of the EXEC see
// them) and land with QueuedScripts::Apply.
class ExecScriptCacheView final : public ScriptCacheView {
 public:
  explicit ExecScriptCacheView(QueuedScripts* pending) : pending_(pending) {}
  std::optional<std::string> Find(const std::string& sha) override {
    for (const auto& [added_sha, body] : pending_->added_) {
      if (added_sha == sha) return body;
    }
    if (pending_->flush_) return std::nullopt;
    return ScriptCache::Node().Find(sha);
  }
  bool Add(const std::string& sha, const std::string& body) override {
    if (Find(sha).has_value()) return true;
    const size_t cached = pending_->flush_ ? 0 : ScriptCache::Node().bytes();
    if (cached + pending_->added_bytes_ + body.size() > kMaxScriptCacheBytes) return false;
    pending_->added_.emplace_back(sha, body);
    pending_->added_bytes_ += body.size();
    return true;
  }
  void Flush() override {
    pending_->flush_ = true;
    pending_->added_.clear();
    pending_->added_bytes_ = 0;
  }

 private:
  QueuedScripts* pending_;
};

QueuedScripts QueuedScripts::Resolve(redis_core::RedisRequest* request) {
  QueuedScripts out;
  ExecScriptCacheView cache(&out);
  std::vector<std::vector<std::string>> rest;
  rest.reserve(request->commands.size());
  for (size_t position = 0; position < request->commands.size(); ++position) {
    std::vector<std::string>& args = request->commands[position];
    if (args.size() >= 2 && absl::EqualsIgnoreCase(args[0], "script")) {
      out.replies_.emplace_back(position, ScriptSubcommand(args, cache));
      continue;
    }
    if (args.size() >= 3 && redis_core::IsScriptCommand(args[0]) && CheckedNumKeys(args).ok()) {
      if (absl::StartsWithIgnoreCase(args[0], "evalsha")) {
        const std::string sha = absl::AsciiStrToLower(args[1]);
        if (std::optional<std::string> body = cache.Find(sha); body.has_value()) {
          request->script_bodies.emplace(sha, *std::move(body));
        } else {
          // Unknown at this point of the EXEC: it answers NOSCRIPT (a SHA that is not 40
          // characters long), as it does in Redis.
          args[1].clear();
        }
      } else if (ScriptCompileError(args[1]).empty()) {
        cache.Add(ScriptSha1Hex(args[1]), args[1]);
      }
    }
    rest.push_back(std::move(args));
  }
  request->commands = std::move(rest);
  return out;
}

Reply QueuedScripts::Splice(Reply group_reply) const {
  for (const auto& [position, reply] : replies_) {
    EKV_ASSERT(position <= group_reply.elements.size(),
               "EXEC's reply has one element per command the group ran");
    group_reply.elements.insert(group_reply.elements.begin() + position, reply);
  }
  return group_reply;
}

void QueuedScripts::Apply() const {
  if (flush_) ScriptCache::Node().Flush();
  for (const auto& [sha, body] : added_) ScriptCache::Node().Add(sha, body);
}

void EvalCommand(CommandContext context) { Eval(std::move(context), /*read_only=*/false); }
void EvalRoCommand(CommandContext context) { Eval(std::move(context), /*read_only=*/true); }
void EvalShaCommand(CommandContext context) { EvalSha(std::move(context), /*read_only=*/false); }
void EvalShaRoCommand(CommandContext context) { EvalSha(std::move(context), /*read_only=*/true); }

void ScriptCommand(CommandContext context) {
  NodeScriptCacheView cache;
  context.reply(
      EncodeReplyFor(context.connection->protocol, ScriptSubcommand(context.args, cache)));
}

ScriptCacheStats NodeScriptCacheStats() {
  return {ScriptCache::Node().count(), ScriptCache::Node().bytes()};
}

std::vector<CommandSpec> ScriptingCommandSpecs() {
  // Redis 7.0's flags: noscript (a script cannot EVAL), stale, skip_monitor,
  // no_mandatory_keys, movablekeys.
  constexpr uint32_t kScript =
      kFlagNoScript | kFlagStale | kFlagSkipMonitor | kFlagNoMandatoryKeys | kFlagMovableKeys;
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
       &EvalCommand,
       "",
       "RW access update|i2|n0,1,1|We cannot tell how the keys will be used so we assume the "
       "worst, RW and UPDATE",
       "Depends on the script that is executed.",
       "",
       ""},
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
       &EvalShaCommand,
       "",
       "RW access update|i2|n0,1,1",
       "Depends on the script that is executed.",
       "",
       ""},
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
       &EvalRoCommand,
       "",
       "RO access|i2|n0,1,1|We cannot tell how the keys will be used so we assume the worst, RO "
       "and ACCESS",
       "Depends on the script that is executed.",
       "",
       ""},
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
       &EvalShaRoCommand,
       "",
       "RO access|i2|n0,1,1",
       "Depends on the script that is executed.",
       "",
       ""},
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
       &ScriptCommand,
       "",
       "",
       "Depends on subcommand.",
       "",
       ""},
  };
}

}  // namespace ekv::redis
