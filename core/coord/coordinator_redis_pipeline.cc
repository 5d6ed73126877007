// coord::Coordinator: pipelined Redis commands of one connection (StartRedisPipeline).
//
// The front door sends a run of commands that each name exactly one key
// (redis_core::RedisPipeline). Here the run is cut into parts: the longest stretch of
// consecutive commands whose keys the route table puts in one group. Each part is one
// request to that group, `transaction` set and no watches, so the group's executor runs
// its commands in order at one point, each answering its own reply or error while the
// others run on (EXEC's semantics minus WATCH; a pipeline, not MULTI, to the client):
// one Raft entry at apply time when any command writes, else one read at one
// linearizable read point. A part of one command goes as that command alone. The parts
// go one after the other, each once the previous one answered, so the connection's order
// holds across groups: a later command never runs before an earlier one.
//
// Everything a lone command meets, a part meets the same way: a STALE_ROUTE refusal is
// re-routed by KvCommandRouted / KvQueryRouted; a transaction's lock on any of the part's
// keys refuses the part before anything ran and is resolved before it goes again
// (RedisOneGroupAnswer); a CROSSSLOT refusal (the routes changed between the cut and the
// group: nothing ran) reads the catalog and cuts again from the same command. A part
// that fails (deadline, unknown outcome of its entry) fails each of its commands with
// that status, and the next part still goes, as the next lone command would.
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/redis/executor.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {

// Route changes one pipeline may meet (each reads the catalog again).
constexpr int kMaxPipelineReplans = 8;

bool IsCrossSlotAnswer(const node::GroupResult& result) {
  static const std::string* const cross_slot =
      new std::string(redis_core::EncodeReply(redis_core::CrossSlotError()));
  return result.value.has_value() && *result.value == *cross_slot;
}

node::GroupResult FailedReply(const absl::Status& status) {
  node::GroupResult result;
  result.code = status.code();
  result.message = std::string(status.message());
  return result;
}

}  // namespace

struct Coordinator::RedisPipelineRun {
  OpId op = 0;
  redis_core::RedisPipeline pipeline;
  std::vector<node::GroupResult> replies;  // commands [0, replies.size()) answered
  int replans = 0;
};

OpId Coordinator::StartRedisPipeline(redis_core::RedisPipeline pipeline) {
  const OpId op = NewOp();
  if (pipeline.commands.empty() || pipeline.commands.size() > redis_core::kMaxCommandsPerRequest) {
    Fail(op, absl::InvalidArgumentError(absl::StrCat("redis pipeline: ", pipeline.commands.size(),
                                                     " commands, expected 1..",
                                                     redis_core::kMaxCommandsPerRequest)));
    return op;
  }
  for (const redis_core::PipelinedCommand& command : pipeline.commands) {
    if (command.key.empty() || command.args.empty()) {
      Fail(op, absl::InvalidArgumentError("redis pipeline: a command without its key"));
      return op;
    }
  }
  auto run = std::make_shared<RedisPipelineRun>();
  run->op = op;
  run->pipeline = std::move(pipeline);
  run->replies.reserve(run->pipeline.commands.size());
  RedisPipelineStep(std::move(run));
  return op;
}

void Coordinator::RedisPipelineStep(std::shared_ptr<RedisPipelineRun> run) {
  const std::vector<redis_core::PipelinedCommand>& commands = run->pipeline.commands;
  const size_t begin = run->replies.size();
  if (begin == commands.size()) {
    OpResult out;
    out.redis_replies = std::move(run->replies);
    return Finish(run->op, std::move(out));
  }
  // Each part has the whole request timeout, as each command sent alone had.
  ops_.at(run->op).deadline_us = now_us_ + options_.request_timeout_us;
  // The part: from `begin`, every following command whose key the table puts in the same
  // group. Without a route for the first key, it goes alone, routed as a lone command is.
  size_t end = begin + 1;
  bool write = commands[begin].write;
  if (const route::RouteDescriptor* first = table_.Lookup(commands[begin].key); first != nullptr) {
    while (end < commands.size()) {
      const route::RouteDescriptor* route = table_.Lookup(commands[end].key);
      if (route == nullptr || route->raft_group_id != first->raft_group_id) break;
      write = write || commands[end].write;
      ++end;
    }
  }
  redis_core::RedisRequest request;
  request.routing_key = commands[begin].key;
  request.now_ms = run->pipeline.now_ms;
  request.seed = run->pipeline.seed + begin;
  request.notify_flags = run->pipeline.notify_flags;
  const bool alone = end - begin == 1;
  request.transaction = !alone;
  for (size_t i = begin; i < end; ++i) request.commands.push_back(commands[i].args);
  std::string key = request.routing_key;
  RedisOneGroupAnswer(
      run->op, std::move(key), redis_core::EncodeRedisRequest(request), write, 0,
      [this, run, begin, end, alone](absl::StatusOr<GroupReply> reply) {
        auto fail_part = [&](absl::Status status) {
          if (options_.plants.redis_pipeline_unknown_as_failed &&
              absl::StrContains(status.message(), "outcome unknown")) {
            status = absl::UnavailableError("redis: the part failed");  // planted bug (sim only)
          }
          for (size_t i = begin; i < end; ++i) run->replies.push_back(FailedReply(status));
        };
        if (!reply.ok()) {
          fail_part(reply.status());
          return RedisPipelineStep(run);
        }
        node::GroupResult& result = reply->result;
        if (alone || !result.status().ok() || !result.value.has_value()) {
          // One command's own answer; or the part's failure, which is each command's.
          for (size_t i = begin; i < end; ++i) run->replies.push_back(result);
          return RedisPipelineStep(run);
        }
        if (IsCrossSlotAnswer(result)) {
          // Refused whole: the routes changed under the cut. Read them, cut again.
          if (++run->replans > kMaxPipelineReplans) {
            fail_part(absl::UnavailableError("redis: routes kept changing"));
            return RedisPipelineStep(run);
          }
          return ReadCatalog(DeadlineOf(run->op),
                             [this, run, begin, end](absl::StatusOr<route::RouteCatalog> c) {
                               if (!c.ok()) {
                                 for (size_t i = begin; i < end; ++i) {
                                   run->replies.push_back(FailedReply(c.status()));
                                 }
                               }
                               RedisPipelineStep(run);
                             });
        }
        absl::StatusOr<redis_core::Reply> replies = redis_core::DecodeReply(*result.value);
        if (!replies.ok() || replies->kind != redis_core::Reply::Kind::kArray ||
            replies->elements.size() != end - begin) {
          fail_part(absl::InternalError(absl::StrCat(
              "redis: a pipelined part of ", end - begin, " commands answered ",
              replies.ok() ? redis_core::DebugString(*replies) : replies.status().ToString())));
          return RedisPipelineStep(run);
        }
        // The part's keyspace events travel with its first command's reply (the front
        // door publishes them when it answers the run, all at once).
        if (!replies->elements.empty()) replies->elements.front().set_events(replies->TakeEvents());
        for (redis_core::Reply& element : replies->elements) {
          node::GroupResult one;
          one.ts = result.ts;
          one.value = redis_core::EncodeReply(element);
          run->replies.push_back(std::move(one));
        }
        RedisPipelineStep(run);
      });
}

}  // namespace ekv::coord
