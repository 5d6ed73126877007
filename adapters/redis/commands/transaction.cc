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
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_stats.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/resp_writer.h"
#include "adapters/redis/slow_log.h"
#include "core/redis/executor.h"
#include "core/util/assert.h"

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

// One key's reads are done: the last one answers the client.
void WatchKeyDone(const std::shared_ptr<WatchJoin>& join) {
  {
    std::lock_guard<std::mutex> lock(join->mu);
    if (--join->remaining != 0) return;
  }
  // A key whose stamp could not be read is not watched; the client sees why.
  if (!join->error.ok()) return join->reply(BackendErrorReply(join->error));
  if (join->refused.has_value()) return join->reply(EncodeReplyFor(2, *join->refused));
  join->reply(SimpleStringReply("OK"));
}

}  // namespace

void ConnectionState::EndTransaction() {
  in_multi = false;
  multi_failed = false;
  queued.clear();
  std::lock_guard<std::mutex> lock(watched->mu);
  watched->keys.clear();
  watched->expire_at_ms.clear();
}

bool QueueInMulti(const CommandSpec& spec, CommandContext& context) {
  static const char* const kRunAtOnce[] = {"exec", "discard", "multi", "watch", "quit", "reset"};
  for (const char* name : kRunAtOnce) {
    if (spec.name == name) return false;
  }
  ConnectionState& c = *context.connection;
  // Queued as Redis queues them: the data commands and scripts (EVAL, EVALSHA...), which
  // EXEC's group runs (SCRIPT's subcommands EXEC answers from the node's script cache);
  // the keyspace walks (FLUSHDB, KEYS, SCAN...), which split EXEC into parts; and the
  // node's own commands (CONFIG, CLIENT, INFO, TIME, ...), which EXEC runs through their
  // handlers once the group ran the rest (ExecRun below), SUBSCRIBE and its kin included
  // (Redis 7.0 queues them too: EXEC's array then holds one confirmation per channel, more
  // elements than its header counts, and the connection leaves EXEC subscribed).
  // (A container's subcommand, SCRIPT's included, was checked by Dispatch: CheckSubcommand.)
  if (spec.name != "script" && redis_core::FindCommand(spec.name) == nullptr &&
      !redis_core::IsScriptCommand(spec.name) &&
      // KEYS, SCAN... run through their handlers, which needs the server's loop.
      !(IsWalkInExec(spec.name) &&
        (c.server != nullptr || spec.name == "flushdb" || spec.name == "flushall")) &&
      !IsNodeLocalInExec(spec, c)) {
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
  return lower == "flushdb" || lower == "flushall" || lower == "keys" || lower == "scan" ||
         lower == "dbsize" || lower == "randomkey" ||
         // Redis 7 functions read and change the functions registry, another group's record
         // (commands/functions.cc): they run through their handlers in their places, so an
         // EXEC's FUNCTION LOAD is what its later FCALL calls.
         lower == "function" || lower == "fcall" || lower == "fcall_ro";
}

bool IsNodeLocalInExec(const CommandSpec& spec, const ConnectionState& connection) {
  // Without a server (handler tests) there is no loop to run them on.
  if (connection.server == nullptr) return false;
  // SCRIPT's subcommands are answered in their place by QueuedScripts.
  return redis_core::FindCommand(spec.name) == nullptr && !redis_core::IsScriptCommand(spec.name) &&
         !IsWalkInExec(spec.name) && spec.name != "script";
}

namespace {

bool IsSubscribeFamily(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  return lower == "subscribe" || lower == "unsubscribe" || lower == "psubscribe" ||
         lower == "punsubscribe";
}

// EXEC as a run of parts: the queued commands between two keyspace walks (FLUSHDB,
// FLUSHALL, KEYS, SCAN, DBSIZE, RANDOMKEY) go to the group(s) as one atomic transaction
// (the first part also carries the WATCHed stamps, so a changed key aborts it before
// anything ran), and each walk runs in between (commands/keyspace.cc), which no group's
// executor can do. Without a walk this is one part: EXEC is atomic. With one, the parts
// run in the queue's order but other clients' commands may run between them (documented
// in README.md). The node's own commands (CONFIG, CLIENT, INFO, ...) touch no key: they
// run last, in their order, through their handlers on the server's loop thread, so the
// data commands stay one atomic part; their replies take their places in EXEC's array.
struct ExecRun : std::enable_shared_from_this<ExecRun> {
  RedisBackend* backend = nullptr;
  ServerControl* server = nullptr;  // null: no node-local command was queued
  const CommandTable* table = nullptr;
  uint64_t connection_id = 0;
  int protocol = 2;
  ReplyFn reply;
  std::vector<std::vector<std::string>> queued;  // the data commands and walks, in order
  std::vector<size_t> queued_slots;              // each one's place in EXEC's reply
  struct Local {
    size_t slot = 0;
    std::vector<std::string> args;
  };
  std::vector<Local> locals;  // the node's own commands, in order
  size_t next_local = 0;
  size_t total = 0;                        // commands queued in all
  std::vector<redis_core::Watch> watches;  // checked by the first part only
  std::string user_acl;                    // the user's rules for the queued scripts (UserAclRules)
  std::string user;                        // the connection's user (ACL LOG of script refusals)
  size_t next = 0;                         // the next queued command to run
  bool started = false;                    // a part or a walk ran (or is running)
  std::vector<std::string> replies;        // encoded, one per command of `queued` run so far
  std::vector<std::string> local_replies;  // encoded, one per command of `locals` run so far
  // INFO commandstats: each queued command counts as a call once EXEC ran it, as in Redis
  // (null: no server to count in). The group times no single command of a transaction, so
  // each gets an equal share of EXEC's time.
  std::shared_ptr<CommandStats> stats;
  std::vector<std::string> stats_names;  // one per queued command, in queue order
  // SLOWLOG: each queued command once EXEC ran it (not EXEC: Redis 7.0 skips it), with
  // the share of EXEC's time CountCalls gives it; empty when the log is off.
  std::shared_ptr<SlowLog> slowlog;
  std::vector<std::vector<std::string>> slowlog_args;  // SlowLog::EntryArgs, in queue order
  std::string peer, client_name;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void Next() {
    // The WATCH check comes before anything runs, a leading walk included.
    if (!started && !watches.empty()) return RunPart(next);
    if (next >= queued.size()) {
      started = true;
      return NextLocal();
    }
    if (IsWalkInExec(queued[next][0])) {
      started = true;
      return Walk();
    }
    RunPart(next);
  }

  void Walk() {
    std::vector<std::string> args = std::move(queued[next]);
    ++next;
    const std::string name = absl::AsciiStrToLower(args[0]);
    if (name == "flushdb" || name == "flushall") {
      const std::string error = FlushdbSyntaxError(args);
      if (!error.empty()) {
        replies.push_back(EncodeReplyFor(protocol, Reply::Error(error)));
        return Next();
      }
      return FlushKeyspace(backend, [self = shared_from_this()](absl::Status status) {
        self->replies.push_back(EncodeReplyFor(
            self->protocol, status.ok() ? Reply::Ok() : Reply::Error(BackendErrorText(status))));
        self->Next();
      });
    }
    RunHandler(std::move(args), [self = shared_from_this()](std::string bytes) {
      self->replies.push_back(std::move(bytes));
      self->Next();
    });
  }

  void NextLocal() {
    if (next_local >= locals.size()) return Finish();
    RunHandler(std::move(locals[next_local].args), [self = shared_from_this()](std::string bytes) {
      self->local_replies.push_back(std::move(bytes));
      ++self->next_local;
      self->NextLocal();
    });
  }

  // Runs a queued command through its own handler on the server's loop thread (it may
  // touch the connection or the server); `done` gets its encoded reply. A connection
  // closed meanwhile waits for nothing: the rest is dropped.
  void RunHandler(std::vector<std::string> args, std::function<void(std::string)> done) {
    EKV_ASSERT(server != nullptr, "a command run through its handler in EXEC needs the server");
    server->RunOnLoop(connection_id, [self = shared_from_this(), args = std::move(args),
                                      done = std::move(done)](ConnectionState* connection) mutable {
      if (connection == nullptr) return;
      const CommandSpec* spec = self->table->Find(args[0]);
      EKV_ASSERT(spec != nullptr, "a queued command left the table: ", args[0]);
      CommandContext context;
      context.args = std::move(args);
      context.connection = connection;
      context.backend = self->backend;
      context.table = self->table;
      context.reply = std::move(done);
      spec->handler(std::move(context));
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
      if (redis_core::IsScriptCommand(args[0])) request.user_acl = user_acl;
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
                       // a walk. A later part's failure fills its slots: the parts before
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
                       LogScriptAclDenials(self->server, self->connection_id, self->user, "exec",
                                           r->TakeAclDenials());
                       scripts->Apply();
                       self->Ran(scripts->Splice(*std::move(r)));
                     });
  }

  void Ran(Reply part) {
    for (const Reply& element : part.elements) replies.push_back(EncodeReplyFor(protocol, element));
    Next();
  }

  void Failed(size_t count, const Reply& error) {
    for (size_t i = 0; i < count; ++i) replies.push_back(EncodeReplyFor(protocol, error));
    Next();
  }

  // Every command ran: EXEC's array, each reply in its command's place.
  void Finish() {
    EKV_ASSERT(replies.size() == queued_slots.size() && local_replies.size() == locals.size(),
               "EXEC finished with a command not run");
    std::vector<std::string*> slots(total, nullptr);
    for (size_t i = 0; i < replies.size(); ++i) slots[queued_slots[i]] = &replies[i];
    for (size_t i = 0; i < locals.size(); ++i) slots[locals[i].slot] = &local_replies[i];
    std::string out = absl::StrCat("*", total, "\r\n");
    for (size_t i = 0; i < total; ++i) {
      EKV_ASSERT(slots[i] != nullptr, "EXEC's reply misses the command in slot ", i);
      out += *slots[i];
    }
    CountCalls(slots);
    LogSlowCalls();
    reply(std::move(out));
  }

  void LogSlowCalls() {
    if (slowlog == nullptr) return;
    const int64_t usec = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count() /
                         static_cast<int64_t>(std::max<size_t>(slowlog_args.size(), 1));
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    for (std::vector<std::string>& args : slowlog_args) {
      slowlog->Record(std::move(args), usec, peer, client_name, now);
    }
  }

  void CountCalls(const std::vector<std::string*>& slots) const {
    if (stats == nullptr || slots.size() != stats_names.size()) return;
    const int64_t usec = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count() /
                         static_cast<int64_t>(std::max<size_t>(slots.size(), 1));
    for (size_t i = 0; i < slots.size(); ++i) stats->RecordCall(stats_names[i], usec, *slots[i]);
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
  run->server = c.server;
  run->table = context.table != nullptr ? context.table : &CommandTable::Default();
  run->connection_id = c.id;
  run->protocol = c.protocol;
  run->reply = std::move(context.reply);
  run->total = c.queued.size();
  run->user_acl = UserAclRules(c);
  run->user = c.user;
  if (c.server != nullptr) run->stats = c.server->stats().commands;
  if (c.server != nullptr && c.server->stats().slowlog != nullptr &&
      c.server->stats().slowlog->enabled()) {
    run->slowlog = c.server->stats().slowlog;
    run->peer = c.address;
    run->client_name = c.name;
  }
  c.ready_keys.clear();
  bool subscribes = false;  // a (P)(UN)SUBSCRIBE was queued before the command at `slot`
  for (size_t slot = 0; slot < c.queued.size(); ++slot) {
    std::vector<std::string>& args = c.queued[slot];
    const CommandSpec* spec = run->table->Find(args[0]);
    if (run->stats != nullptr) {
      run->stats_names.push_back(spec != nullptr ? StatsName(*spec, args)
                                                 : absl::AsciiStrToLower(args[0]));
    }
    if (run->slowlog != nullptr) run->slowlog_args.push_back(SlowLog::EntryArgs(args));
    for (std::string& key : KeysMadeReady(args)) c.ready_keys.push_back(std::move(key));
    // A PING after a queued (P)SUBSCRIBE answers as a RESP2 subscriber's PING does when
    // the subscription holds at that point (Redis runs EXEC's commands in order, and
    // PING looks at the connection): its handler runs it among the node's commands, which
    // run in queue order after the group's part, the subscriptions included.
    subscribes = subscribes || IsSubscribeFamily(args[0]);
    const bool ping_after_subscribe = subscribes && absl::EqualsIgnoreCase(args[0], "ping");
    // A SORT the user's key rules refuse (SortAclError, checked now as Redis checks it
    // when EXEC runs the command) answers through its handler, touching nothing.
    const bool refused_sort = c.server != nullptr && !SortAclError(args, c).empty();
    if (spec != nullptr && (IsNodeLocalInExec(*spec, c) || ping_after_subscribe || refused_sort)) {
      run->locals.push_back({slot, std::move(args)});
    } else {
      run->queued_slots.push_back(slot);
      run->queued.push_back(std::move(args));
    }
  }
  bool watched_key_expired = false;
  {
    std::lock_guard<std::mutex> lock(c.watched->mu);
    run->watches = c.watched->keys;
    // Redis 7.0: a key that was live when WATCHed and has expired since fails EXEC, even
    // though no command touched it. A deadline this node's clock has passed has passed in
    // the group too (its time is at least the proposer's), so this never aborts an EXEC
    // Redis would run; a group clock ahead of this node's may let one run that Redis
    // would abort.
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    for (const auto& [key, deadline] : c.watched->expire_at_ms) {
      watched_key_expired = watched_key_expired || deadline <= now_ms;
    }
  }
  c.EndTransaction();
  if (watched_key_expired) return run->reply(EncodeReplyFor(run->protocol, Reply::NilArray()));
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
  RedisBackend* backend = context.backend;
  for (const std::string& key : keys) {
    backend->Execute(
        MakeRedisRequest({std::string(redis_core::kStampCommand), key}), /*write=*/false,
        [join, watched = c.watched, key, backend](absl::StatusOr<Reply> r) {
          const bool stamped = r.ok() && r->kind == Reply::Kind::kInteger;
          {
            std::lock_guard<std::mutex> lock(join->mu);
            if (!r.ok()) {
              if (join->error.ok()) join->error = r.status();
            } else if (!stamped) {
              if (!join->refused.has_value()) join->refused = *r;
            }
          }
          if (!stamped) return WatchKeyDone(join);
          // Then its deadline: read after the stamp, so a write in between changes the
          // stamp EXEC compares (and aborts it anyway).
          const uint64_t stamp = static_cast<uint64_t>(r->integer);
          backend->Execute(
              MakeRedisRequest({"pexpiretime", key}), /*write=*/false,
              [join, watched, key, stamp](absl::StatusOr<Reply> deadline) {
                {
                  std::lock_guard<std::mutex> lock(join->mu);
                  if (!deadline.ok()) {
                    if (join->error.ok()) join->error = deadline.status();
                  } else {
                    std::lock_guard<std::mutex> watch_lock(watched->mu);
                    watched->keys.push_back({key, stamp});
                    // -1: no TTL, -2: absent or already expired (Redis ignores those).
                    if (deadline->kind == Reply::Kind::kInteger && deadline->integer > 0) {
                      watched->expire_at_ms[key] = deadline->integer;
                    }
                  }
                }
                WatchKeyDone(join);
              });
        });
  }
}

void UnwatchCommand(CommandContext context) {
  ConnectionState& c = *context.connection;
  {
    std::lock_guard<std::mutex> lock(c.watched->mu);
    c.watched->keys.clear();
    c.watched->expire_at_ms.clear();
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
