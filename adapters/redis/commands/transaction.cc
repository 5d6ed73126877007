// MULTI, EXEC, DISCARD, WATCH, UNWATCH. Between MULTI and EXEC the connection queues
// commands (QUEUED); EXEC sends them, with the WATCHed keys' stamps, as one
// redis_core::RedisRequest to the group that owns their keys, where the executor checks
// the stamps and runs the commands in one Raft entry at apply time (or at one read point
// when none writes): atomic, and a watched key changed by a write through any node
// aborts EXEC with a null array. xexec: keys in several groups make the coordinator run
// EXEC as one transaction over those groups (core/coord/coordinator_redis.cc); only a
// single command whose own keys span groups answers CROSSSLOT, in its slot of the reply.
//
// WATCH asks each key's group for its stamp (KeyStamp in core/redis/executor.h: the
// commit timestamp of the key's last change) at a linearizable read point.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/resp_writer.h"
#include "core/redis/executor.h"

namespace ekv::redis {
namespace {

using redis_core::Reply;

// Routes a transaction that names no key (MULTI PING EXEC): any group can answer it.
constexpr absl::string_view kKeylessRoutingKey = "ekv:transaction";

// Counts WATCH's outstanding stamp reads; the last one answers the client.
struct WatchJoin {
  std::mutex mu;
  size_t remaining = 0;          // guarded by mu
  absl::Status error;            // guarded by mu
  std::optional<Reply> refused;  // guarded by mu: an error reply of the group (CROSSSLOT...)
  ReplyFn reply;
};

}  // namespace

void ConnectionState::EndTransaction() {
  in_multi = false;
  multi_failed = false;
  queued.clear();
  std::lock_guard<std::mutex> lock(watched->mu);
  watched->keys.clear();
}

bool QueueInMulti(const CommandSpec& spec, CommandContext& context) {
  static const char* const kRunAtOnce[] = {"exec", "discard", "multi", "watch", "quit", "reset"};
  for (const char* name : kRunAtOnce) {
    if (spec.name == name) return false;
  }
  ConnectionState& c = *context.connection;
  // Only what the group's executor can run is queued: the data commands and the
  // connection commands whose reply depends on their arguments alone.
  // Scripts too (EVAL, EVALSHA...): EXEC's executor runs them with the group's runner;
  // SCRIPT's subcommands EXEC answers from the node's script cache.
  if (spec.name == "script") {
    // Checked now, run at EXEC against the node's script cache (QueuedScripts).
    if (std::string error = ScriptQueueError(context.args); !error.empty()) {
      c.multi_failed = true;
      context.reply(std::move(error));
      return true;
    }
  } else if (redis_core::FindCommand(spec.name) == nullptr &&
             !redis_core::IsScriptCommand(spec.name)) {
    c.multi_failed = true;
    context.reply(ErrorReply("ERR Command not allowed inside a transaction"));
    return true;
  }
  if (c.queued.size() >= redis_core::kMaxCommandsPerRequest) {
    c.multi_failed = true;
    context.reply(
        ErrorReply(absl::StrCat("ERR ekv runs at most ", redis_core::kMaxCommandsPerRequest,
                                " commands in one transaction")));
    return true;
  }
  c.queued.push_back(std::move(context.args));
  context.reply(SimpleStringReply("QUEUED"));
  return true;
}

void MultiCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  if (c.in_multi) return context.reply(ErrorReply("ERR MULTI calls can not be nested"));
  c.in_multi = true;
  context.reply(SimpleStringReply("OK"));
}

void DiscardCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  if (!c.in_multi) return context.reply(ErrorReply("ERR DISCARD without MULTI"));
  c.EndTransaction();
  context.reply(SimpleStringReply("OK"));
}

void ExecCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  if (!c.in_multi) return context.reply(ErrorReply("ERR EXEC without MULTI"));
  if (c.multi_failed) {
    c.EndTransaction();
    return context.reply(ErrorReply("EXECABORT Transaction discarded because of previous errors."));
  }
  redis_core::RedisRequest request = MakeRedisRequest({"exec"});
  request.commands.clear();
  request.transaction = true;
  request.commands = std::move(c.queued);
  {
    std::lock_guard<std::mutex> lock(c.watched->mu);
    request.watches = c.watched->keys;
  }
  c.EndTransaction();
  // SCRIPT LOAD/EXISTS/FLUSH... are answered here, the rest by the group.
  auto scripts = std::make_shared<const QueuedScripts>(QueuedScripts::Resolve(&request));
  const int protocol = c.protocol;
  if (request.commands.empty() && request.watches.empty()) {
    scripts->Apply();
    return context.reply(EncodeReplyFor(protocol, scripts->Splice(Reply::Array())));
  }
  bool write = false;
  std::string routing_key;
  c.ready_keys.clear();
  for (const std::vector<std::string>& args : request.commands) {
    for (std::string& key : KeysMadeReady(args)) c.ready_keys.push_back(std::move(key));
    const redis_core::CommandInfo* info = redis_core::FindCommand(args[0]);
    write = write || (info != nullptr ? info->write : redis_core::IsWriteScriptCommand(args[0]));
    if (!routing_key.empty()) continue;
    for (const std::string& key : redis_core::QueuedCommandKeys(args)) {
      if (!key.empty()) {
        routing_key = key;
        break;
      }
    }
  }
  if (routing_key.empty() && !request.watches.empty()) routing_key = request.watches[0].key;
  if (routing_key.empty()) routing_key = std::string(kKeylessRoutingKey);
  request.routing_key = std::move(routing_key);
  context.backend->Execute(
      std::move(request), write,
      [reply = std::move(context.reply), protocol, scripts](absl::StatusOr<Reply> r) {
        if (!r.ok()) return reply(BackendErrorReply(r.status()));
        // Only an array means the transaction ran (not a WATCH abort or a refusal).
        if (r->kind != Reply::Kind::kArray) return reply(EncodeReplyFor(protocol, *r));
        scripts->Apply();
        reply(EncodeReplyFor(protocol, scripts->Splice(*std::move(r))));
      });
}

void WatchCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  if (c.in_multi) return context.reply(ErrorReply("ERR WATCH inside MULTI is not allowed"));
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(c.watched->mu);
    for (size_t i = 1; i < context.args.size(); ++i) {
      const std::string& key = context.args[i];
      const bool known = std::any_of(c.watched->keys.begin(), c.watched->keys.end(),
                                     [&](const redis_core::Watch& w) { return w.key == key; }) ||
                         std::find(keys.begin(), keys.end(), key) != keys.end();
      if (!known) keys.push_back(key);
    }
    if (c.watched->keys.size() + keys.size() > redis_core::kMaxWatchedKeys) {
      return context.reply(ErrorReply(absl::StrCat(
          "ERR ekv watches at most ", redis_core::kMaxWatchedKeys, " keys per connection")));
    }
  }
  if (keys.empty()) return context.reply(SimpleStringReply("OK"));
  auto join = std::make_shared<WatchJoin>();
  join->remaining = keys.size();
  join->reply = std::move(context.reply);
  for (const std::string& key : keys) {
    context.backend->Execute(
        MakeRedisRequest({std::string(redis_core::kStampCommand), key}), /*write=*/false,
        [join, watched = c.watched, key](absl::StatusOr<Reply> r) {
          {
            std::lock_guard<std::mutex> lock(join->mu);
            if (!r.ok()) {
              if (join->error.ok()) join->error = r.status();
            } else if (r->kind != Reply::Kind::kInteger) {
              if (!join->refused.has_value()) join->refused = *r;
            } else {
              std::lock_guard<std::mutex> watch_lock(watched->mu);
              watched->keys.push_back({key, static_cast<uint64_t>(r->integer)});
            }
            if (--join->remaining != 0) return;
          }
          // A key whose stamp could not be read is not watched; the client sees why.
          if (!join->error.ok()) return join->reply(BackendErrorReply(join->error));
          if (join->refused.has_value()) {
            return join->reply(EncodeReplyFor(2, *join->refused));
          }
          join->reply(SimpleStringReply("OK"));
        });
  }
}

void UnwatchCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  {
    std::lock_guard<std::mutex> lock(c.watched->mu);
    c.watched->keys.clear();
  }
  context.reply(SimpleStringReply("OK"));
}

std::vector<CommandSpec> TransactionCommandSpecs() {
  const uint32_t kAnyTime = kFlagNoScript | kFlagLoading | kFlagStale;
  const std::vector<std::string> kFastAcl = {"@fast", "@transaction"};
  return {
      {"discard", 1, kAnyTime | kFlagFast | kFlagAllowBusy, 0, 0, 0, "transactions", "2.0.0",
       "Discards a transaction.", kFastAcl, &DiscardCommand},
      {"exec",
       1,
       kAnyTime | kFlagSkipSlowlog,
       0,
       0,
       0,
       "transactions",
       "1.2.0",
       "Executes all commands in a transaction.",
       {"@slow", "@transaction"},
       &ExecCommand},
      {"multi", 1, kAnyTime | kFlagFast | kFlagAllowBusy, 0, 0, 0, "transactions", "1.2.0",
       "Starts a transaction.", kFastAcl, &MultiCommand},
      {"unwatch", 1, kAnyTime | kFlagFast | kFlagAllowBusy, 0, 0, 0, "transactions", "2.2.0",
       "Forgets about watched keys of a transaction.", kFastAcl, &UnwatchCommand},
      {"watch", -2, kAnyTime | kFlagFast | kFlagAllowBusy, 1, -1, 1, "transactions", "2.2.0",
       "Monitors changes to keys to determine the execution of a transaction.", kFastAcl,
       &WatchCommand},
  };
}

}  // namespace ekv::redis
