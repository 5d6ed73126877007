// CoordinatorBackend: RedisBackend over runtime::Coordinator. The only file of
// adapters/redis that knows the coordinator.
//
// A request becomes one core op run with RunAsync (no thread waits while Raft works):
// Coordinator::StartRedisCommand, handed the request as built (the coordinator encodes it
// once, as the payload of the group's kv command or query); the group's GroupResult
// carries the encoded reply. Pipelined commands: Coordinator::StartRedisPipeline. Empty keys: the
// store refuses them, so a command on one is an error.
#pragma once

#include "adapters/redis/backend.h"

namespace ekv::runtime {
class Coordinator;
}

namespace ekv::redis {

class CoordinatorBackend final : public RedisBackend {
 public:
  explicit CoordinatorBackend(runtime::Coordinator* coordinator) : coordinator_(coordinator) {}

  void Execute(redis_core::RedisRequest request, bool write, ReplyDone done) override;
  // Coordinator::StartRedisPipeline.
  void ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) override;
  // The routes of the catalog (Coordinator::StartReadCatalog).
  void ListRanges(RangesDone done) override;

 private:
  runtime::Coordinator* coordinator_;
};

}  // namespace ekv::redis
