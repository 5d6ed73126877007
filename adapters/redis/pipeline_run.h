// Pipelined commands as one request (issue 24). When a connection has several complete
// commands buffered, the server (redis_server.cc) takes the longest run of consecutive
// ones that may travel together and sends them as one redis_core::RedisPipeline; the
// coordinator cuts it into parts of one group each and each part runs in its group in
// order at one point (core/coord/coordinator_redis_pipeline.cc). Each command still gets
// exactly the reply or error it would get alone, in order; the next run starts once this
// one answered, as the next lone command does.
//
// A command joins a run only when Dispatch would hand it straight to TypedCommand as one
// request of one key's group, with every check Dispatch makes passed: known, arity,
// authenticated, outside MULTI, no RESP2 subscription, allowed by the user's ACL rules, a
// data command the executor runs (not blocking, not pub/sub, not a script, not a
// connection, server or admin command), naming exactly one distinct non-empty key (a
// command with several keys may span groups, and DEL/EXISTS/MGET/MSET of several keys
// are split per key: they go alone). Any other command ends the run and goes alone
// through Dispatch, which answers its errors in Redis's words.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "adapters/redis/backend.h"
#include "adapters/redis/command_table.h"
#include "core/redis/request.h"

namespace ekv::redis {

struct RunLimits {
  size_t max_commands = redis_core::kMaxPipelineCommands;
  size_t max_arg_bytes = redis_core::kMaxPipelineArgBytes;  // the first command always fits
};

struct PipelineRun {
  // args empty: the caller moves each command's arguments in before DispatchRun.
  std::vector<redis_core::PipelinedCommand> commands;
  std::vector<const CommandSpec*> specs;  // each command's table entry
};

// Whether `args` may join a run on `connection` (the rules above): its key and whether it
// writes, with args left empty; nullopt when it must go alone through Dispatch.
std::optional<redis_core::PipelinedCommand> RunMember(const CommandTable& table,
                                                      const std::vector<std::string>& args,
                                                      const ConnectionState& connection,
                                                      const CommandSpec** spec);

// The next run: the longest prefix of the connection's next commands (`next(i)`: the
// i-th, null past the last) whose commands all may join, within `limits`. Fewer than two
// members: there is no run (the first command goes alone).
PipelineRun NextRun(const CommandTable& table, const ConnectionState& connection,
                    absl::FunctionRef<const std::vector<std::string>*(size_t)> next,
                    const RunLimits& limits = {});

// Called exactly once with every command's encoded reply, concatenated in order, and the
// keys the run made ready for blocked clients (those of commands that did not fail).
using RunReplyFn = std::function<void(std::string replies, std::vector<std::string> ready_keys)>;

// Sends `run` (at least two commands, their args filled in) as one backend call,
// counting each command as Dispatch does (INFO's commands processed, CLIENT LIST's cmd=,
// the latency observer).
void DispatchRun(PipelineRun run, ConnectionState* connection, RedisBackend* backend,
                 RunReplyFn reply);

}  // namespace ekv::redis
