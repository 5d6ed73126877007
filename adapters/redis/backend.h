// RedisBackend: the narrow storage interface the Redis command handlers call. The
// server's implementation is CoordinatorBackend (coordinator_backend.h): it sends the
// request to the group owning its routing key, where redis_core's executor runs it (at
// apply time for a write, at a linearizable read point for a read). Unit tests use a
// fake that runs the same executor over an in-memory engine. Keeping handlers behind
// this seam is what lets adapters/redis depend on runtime/server in one file only.
//
// Every call answers through its callback exactly once, on any thread (possibly the
// caller's, before the call returns). Callbacks must not block: the server's only hand
// the reply to the event loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"

namespace ekv::redis {

class RedisBackend {
 public:
  // The executor's reply (a Redis error reply is a reply, not a failed status); a
  // failed status means the request did not run or its outcome is unknown.
  using ReplyDone = std::function<void(absl::StatusOr<redis_core::Reply>)>;

  virtual ~RedisBackend() = default;

  // Runs `request` in the group owning request.routing_key: as one replicated entry
  // when `write`, else as a linearizable read (write commands are then refused).
  virtual void Execute(redis_core::RedisRequest request, bool write, ReplyDone done) = 0;

  // Pipelined commands of one connection, each naming one key (redis_core::RedisPipeline,
  // built by pipeline_run.h): run in order, consecutive ones of one group as one request
  // there; `done` gets one answer per command, in order, each as Execute would give it.
  using PipelineDone = std::function<void(std::vector<absl::StatusOr<redis_core::Reply>>)>;
  virtual void ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) = 0;

  // One group's key range, [start, end) (end empty: no bound).
  struct KeyRange {
    std::string start;
    std::string end;
  };
  using RangesDone = std::function<void(absl::StatusOr<std::vector<KeyRange>>)>;
  // The ranges of the keyspace in key order, together covering every key: the walk of
  // SCAN, KEYS, DBSIZE and RANDOMKEY goes through them one at a time. The default is a
  // single group owning everything.
  virtual void ListRanges(RangesDone done) { done(std::vector<KeyRange>{KeyRange{}}); }
};

}  // namespace ekv::redis
