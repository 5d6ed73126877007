// MULTI, EXEC, DISCARD, WATCH, UNWATCH. Between MULTI and EXEC the connection queues
// commands (QUEUED); EXEC sends them, with the WATCHed keys' stamps, as one
// redis_core::RedisRequest to the group that owns their keys, where the executor checks
// the stamps and runs the commands in one Raft entry at apply time (or at one read point
// when none writes): atomic, and a watched key changed by a write through any node
// aborts EXEC with a null array. xexec: keys in several groups make the coordinator run
// EXEC as one transaction over those groups (core/coord/coordinator_redis.cc); only a
// single command whose own keys span groups answers CROSSSLOT, in its slot of the reply.
// FLUSHDB and FLUSHALL are queued too; they split EXEC into parts (ExecRun), and a
// transaction holding one is not atomic against other clients.
//
// WATCH asks each key's group for its stamp (KeyStamp in core/redis/executor.h: the
// commit timestamp of the key's last change) at a linearizable read point.
#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_stats.h"
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
  // SCRIPT's subcommands EXEC answers from the node's script cache. FLUSHDB and FLUSHALL
  // split EXEC into parts (ExecRun below).
  if (spec.name == "script") {
    // Checked now, run at EXEC against the node's script cache (QueuedScripts).
    if (std::string error = ScriptQueueError(context.args); !error.empty()) {
      c.multi_failed = true;
      context.reply(std::move(error));
      return true;
    }
  } else if (redis_core::FindCommand(spec.name) == nullptr &&
             !redis_core::IsScriptCommand(spec.name) && !IsWalkInExec(spec.name)) {
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

bool IsWalkInExec(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  return lower == "flushdb" || lower == "flushall";
}

namespace {

// EXEC as a run of parts: the queued commands between two FLUSHDB/FLUSHALL go to the
// group(s) as one atomic transaction (the first part also carries the WATCHed stamps, so
// a changed key aborts it before anything ran), and each FLUSHDB/FLUSHALL walks the
// keyspace in between (commands/keyspace.cc), which no group's executor can do. Without a
// flush this is one part: EXEC is atomic. With one, the parts run in the queue's order
// but other clients' commands may run between them (documented in README.md).
struct ExecRun : std::enable_shared_from_this<ExecRun> {
  RedisBackend* backend = nullptr;
  int protocol = 2;
  ReplyFn reply;
  std::vector<std::vector<std::string>> queued;
  std::vector<redis_core::Watch> watches;  // checked by the first part only
  size_t next = 0;                         // the next queued command to run
  bool started = false;                    // a part or a flush ran (or is running)
  std::vector<Reply> replies;              // one per command of the finished parts
  // INFO commandstats: each queued command counts as a call once EXEC ran it, as in Redis
  // (null: no server to count in). The group times no single command of a transaction, so
  // each gets an equal share of EXEC's time.
  std::shared_ptr<CommandStats> stats;
  std::vector<std::string> stats_names;  // one per queued command
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void Next() {
    // The WATCH check comes before anything runs, a leading FLUSHDB included.
    if (!started && !watches.empty()) return RunPart(next);
    if (next >= queued.size()) {
      CountCalls();
      return reply(EncodeReplyFor(protocol, Reply::Array(std::move(replies))));
    }
    if (IsWalkInExec(queued[next][0])) {
      started = true;
      return Flush();
    }
    RunPart(next);
  }

  void Flush() {
    const std::string error = FlushdbSyntaxError(queued[next]);
    ++next;
    if (!error.empty()) {
      replies.push_back(Reply::Error(error));
      return Next();
    }
    FlushKeyspace(backend, [self = shared_from_this()](absl::Status status) {
      self->replies.push_back(status.ok() ? Reply::Ok() : Reply::Error(BackendErrorText(status)));
      self->Next();
    });
  }

  // queued[next, end) as one transaction (possibly empty: only the WATCH check).
  void RunPart(size_t end) {
    while (end < queued.size() && !IsWalkInExec(queued[end][0])) ++end;
    const bool first = !started;
    started = true;
    redis_core::RedisRequest request = MakeRedisRequest({"exec"});
    request.transaction = true;
    request.commands.assign(std::make_move_iterator(queued.begin() + next),
                            std::make_move_iterator(queued.begin() + end));
    const size_t count = end - next;
    next = end;
    if (first) request.watches = std::move(watches);
    watches.clear();
    // SCRIPT LOAD/EXISTS/FLUSH... are answered here, the rest by the group.
    auto scripts = std::make_shared<const QueuedScripts>(QueuedScripts::Resolve(&request));
    if (request.commands.empty() && request.watches.empty()) {
      scripts->Apply();
      return Ran(scripts->Splice(Reply::Array()));
    }
    bool write = false;
    std::string routing_key;
    for (const std::vector<std::string>& args : request.commands) {
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
    backend->Execute(std::move(request), write,
                     [self = shared_from_this(), scripts, first, count](absl::StatusOr<Reply> r) {
                       // Nothing ran yet: the failure or refusal is EXEC's reply, as without
                       // a flush. A later part's failure fills its slots: the parts before
                       // it ran.
                       if (!r.ok()) {
                         if (first) return self->reply(BackendErrorReply(r.status()));
                         return self->Failed(count, Reply::Error(BackendErrorText(r.status())));
                       }
                       // Only an array means the part ran (not a WATCH abort or a refusal).
                       if (r->kind != Reply::Kind::kArray) {
                         if (first) return self->reply(EncodeReplyFor(self->protocol, *r));
                         return self->Failed(count, *std::move(r));
                       }
                       scripts->Apply();
                       self->Ran(scripts->Splice(*std::move(r)));
                     });
  }

  void Ran(Reply part) {
    for (Reply& element : part.elements) replies.push_back(std::move(element));
    Next();
  }

  void CountCalls() const {
    if (stats == nullptr || replies.size() != stats_names.size()) return;
    const int64_t usec = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count() /
                         static_cast<int64_t>(std::max<size_t>(replies.size(), 1));
    for (size_t i = 0; i < replies.size(); ++i) {
      stats->RecordCall(stats_names[i], usec, EncodeReplyFor(protocol, replies[i]));
    }
  }

  void Failed(size_t count, const Reply& error) {
    for (size_t i = 0; i < count; ++i) replies.push_back(error);
    Next();
  }
};

}  // namespace

void ExecCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  if (!c.in_multi) return context.reply(ErrorReply("ERR EXEC without MULTI"));
  if (c.multi_failed) {
    c.EndTransaction();
    return context.reply(ErrorReply("EXECABORT Transaction discarded because of previous errors."));
  }
  auto run = std::make_shared<ExecRun>();
  run->backend = context.backend;
  run->protocol = c.protocol;
  run->reply = std::move(context.reply);
  run->queued = std::move(c.queued);
  if (c.server != nullptr) {
    run->stats = c.server->stats().commands;
    const CommandTable& table = context.table != nullptr ? *context.table : CommandTable::Default();
    for (const std::vector<std::string>& args : run->queued) {
      const CommandSpec* spec = table.Find(args[0]);
      run->stats_names.push_back(spec != nullptr ? StatsName(*spec, args)
                                                 : absl::AsciiStrToLower(args[0]));
    }
  }
  {
    std::lock_guard<std::mutex> lock(c.watched->mu);
    run->watches = c.watched->keys;
  }
  c.EndTransaction();
  c.ready_keys.clear();
  for (const std::vector<std::string>& args : run->queued) {
    for (std::string& key : KeysMadeReady(args)) c.ready_keys.push_back(std::move(key));
  }
  run->Next();
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
       "Discards a transaction.", kFastAcl, &DiscardCommand, "", "",
       "O(N), when N is the number of queued commands", "", ""},
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
       &ExecCommand,
       "",
       "",
       "Depends on commands in the transaction",
       "",
       ""},
      {"multi", 1, kAnyTime | kFlagFast | kFlagAllowBusy, 0, 0, 0, "transactions", "1.2.0",
       "Starts a transaction.", kFastAcl, &MultiCommand, "", "", "O(1)", "", ""},
      {"unwatch", 1, kAnyTime | kFlagFast | kFlagAllowBusy, 0, 0, 0, "transactions", "2.2.0",
       "Forgets about watched keys of a transaction.", kFastAcl, &UnwatchCommand, "", "", "O(1)",
       "", ""},
      {"watch", -2, kAnyTime | kFlagFast | kFlagAllowBusy, 1, -1, 1, "transactions", "2.2.0",
       "Monitors changes to keys to determine the execution of a transaction.", kFastAcl,
       &WatchCommand, "", "RO|i1|r-1,1,0", "O(1) for every key.", "", ""},
  };
}

}  // namespace ekv::redis
