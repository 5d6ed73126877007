#include "adapters/redis/pipeline_run.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapters/redis/acl_users.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/slow_log.h"
#include "core/redis/executor.h"
#include "core/redis/key_snapshot.h"
#include "core/util/assert.h"

namespace ekv::redis {

std::optional<redis_core::PipelinedCommand> RunMember(const CommandTable& table,
                                                      const std::vector<std::string>& args,
                                                      const ConnectionState& connection,
                                                      const CommandSpec** spec_out) {
  if (args.empty() || connection.in_multi || !connection.authenticated ||
      connection.subscriptions() > 0 || connection.monitoring) {
    return std::nullopt;
  }
  const CommandSpec* spec = table.Find(args[0]);
  if (spec == nullptr || spec->handler != &TypedCommand) return std::nullopt;
  const int argc = static_cast<int>(args.size());
  if (spec->arity > 0 ? argc != spec->arity : argc < -spec->arity) return std::nullopt;
  const redis_core::CommandInfo* info = redis_core::FindCommand(spec->name);
  if (info == nullptr || redis_core::IsInternalCommand(info->name)) return std::nullopt;
  // TypedCommand answers these itself (a key without its value).
  if ((spec->name == "mset" || spec->name == "msetnx") && args.size() % 2 == 0) {
    return std::nullopt;
  }
  redis_core::PipelinedCommand member;
  for (std::string& key : redis_core::CommandKeys(*info, args)) {
    if (key.empty()) return std::nullopt;  // answered alone: ekv refuses empty keys
    if (member.key.empty()) {
      member.key = std::move(key);
    } else if (key != member.key) {
      return std::nullopt;  // several keys: maybe several groups, or split per key
    }
  }
  if (member.key.empty()) return std::nullopt;
  if (connection.server != nullptr) {
    const AclUser* user = connection.server->settings().users().Find(connection.user);
    if (user == nullptr) return std::nullopt;
    if (!user->permissions.AllowsEverything() && user->permissions.Check(*spec, args).has_value()) {
      return std::nullopt;  // Dispatch refuses it and writes ACL LOG
    }
    if (!SortAclError(args, connection).empty()) return std::nullopt;  // TypedCommand refuses it
  }
  member.write = info->write;
  if (spec_out != nullptr) *spec_out = spec;
  return member;
}

PipelineRun NextRun(const CommandTable& table, const ConnectionState& connection,
                    absl::FunctionRef<const std::vector<std::string>*(size_t)> next,
                    const RunLimits& limits) {
  PipelineRun run;
  size_t bytes = 0;
  for (size_t i = 0; i < limits.max_commands; ++i) {
    const std::vector<std::string>* args = next(i);
    if (args == nullptr) break;
    size_t size = 0;
    for (const std::string& arg : *args) size += arg.size();
    if (i > 0 && bytes + size > limits.max_arg_bytes) break;
    const CommandSpec* spec = nullptr;
    std::optional<redis_core::PipelinedCommand> member = RunMember(table, *args, connection, &spec);
    if (!member.has_value()) break;
    bytes += size;
    run.commands.push_back(*std::move(member));
    run.specs.push_back(spec);
  }
  if (run.commands.size() < 2) return PipelineRun{};
  return run;
}

void DispatchRun(PipelineRun run, ConnectionState* connection, RedisBackend* backend,
                 RunReplyFn reply) {
  const size_t count = run.commands.size();
  EKV_ASSERT(count >= 2 && run.specs.size() == count, "a run has two commands or more");
  // What Dispatch does for each command before its handler runs.
  ServerControl* server = connection->server;
  connection->last_command = run.specs.back()->name;
  if (server != nullptr) server->stats().commands_processed += count;
  std::vector<std::vector<std::string>> ready(count);
  for (size_t i = 0; i < count; ++i) ready[i] = KeysMadeReady(run.commands[i].args);
  using Observe = std::function<void(const std::string&, std::chrono::nanoseconds)>;
  Observe observe;
  if (server != nullptr && server->settings().observe_latency) {
    observe = server->settings().observe_latency;  // a copy: the settings may change
  }
  std::shared_ptr<CommandStats> stats =
      server != nullptr ? server->stats().commands : std::shared_ptr<CommandStats>();
  // SLOWLOG: each command of the run as Dispatch logs it, taking the run's time.
  std::shared_ptr<SlowLog> slowlog =
      server != nullptr ? server->stats().slowlog : std::shared_ptr<SlowLog>();
  std::vector<std::vector<std::string>> slowlog_args;
  if (slowlog != nullptr && slowlog->enabled()) {
    for (const redis_core::PipelinedCommand& command : run.commands) {
      slowlog_args.push_back(SlowLog::EntryArgs(command.args));
    }
  } else {
    slowlog.reset();
  }
  redis_core::RedisPipeline pipeline;
  // As MakeRedisRequest: only a lower bound of the groups' time, and a fresh seed.
  pipeline.now_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  pipeline.seed = NextRequestSeed();
  pipeline.commands = std::move(run.commands);
  backend->ExecutePipeline(
      std::move(pipeline),
      [protocol = connection->protocol, specs = std::move(run.specs), ready = std::move(ready),
       observe = std::move(observe), stats = std::move(stats), slowlog = std::move(slowlog),
       slowlog_args = std::move(slowlog_args), peer = connection->address,
       client_name = connection->name, start = std::chrono::steady_clock::now(),
       reply = std::move(reply)](std::vector<absl::StatusOr<redis_core::Reply>> replies) mutable {
        EKV_ASSERT(replies.size() == specs.size(), "a pipeline answers every command");
        std::string bytes;
        std::vector<std::string> ready_keys;
        // Each command of the run is one call, taking the run's time.
        const int64_t usec = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
        for (size_t i = 0; i < replies.size(); ++i) {
          if (!replies[i].ok()) {
            std::string error = BackendErrorReply(replies[i].status());
            if (stats != nullptr) stats->RecordCall(specs[i]->name, usec, error);
            bytes += error;
            continue;
          }
          std::string encoded = EncodeReplyFor(protocol, *replies[i]);
          if (stats != nullptr) stats->RecordCall(specs[i]->name, usec, encoded);
          bytes += encoded;
          if (!replies[i]->is_error()) {
            for (std::string& key : ready[i]) ready_keys.push_back(std::move(key));
          }
        }
        if (slowlog != nullptr) {
          const int64_t now = absl::ToUnixSeconds(absl::Now());
          for (std::vector<std::string>& args : slowlog_args) {
            slowlog->Record(std::move(args), usec, peer, client_name, now);
          }
        }
        reply(std::move(bytes), std::move(ready_keys));
        if (observe) {
          const std::chrono::nanoseconds elapsed = std::chrono::steady_clock::now() - start;
          for (const CommandSpec* spec : specs) observe(spec->name, elapsed);
        }
      });
}

}  // namespace ekv::redis
