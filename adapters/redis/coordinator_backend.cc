#include "adapters/redis/coordinator_backend.h"

#include <string>
#include <utility>

#include "core/coord/coordinator.h"
#include "runtime/server/coordinator.h"

namespace ekv::redis {

void CoordinatorBackend::Execute(redis_core::RedisRequest request, bool write, ReplyDone done) {
  if (request.routing_key.empty()) {
    return done(absl::InvalidArgumentError("empty keys are not supported by ekv"));
  }
  // One kv command (replicated, executed at apply) or kv query (at a read index) of the
  // owning group; the payload is recognised by its first byte (request.h). Through
  // StartRedisCommand, which resolves transaction locks in the way, runs a command whose
  // keys span groups over them and an EXEC whose keys span groups as one transaction.
  auto start = [write, request = std::move(request)](coord::Coordinator& core) mutable {
    return core.StartRedisCommand(std::move(request), write);
  };
  coordinator_->RunAsync(std::move(start), [done = std::move(done)](coord::OpResult result) {
    if (!result.status.ok()) return done(result.status);
    const node::GroupResult& group = result.group_result;
    if (!group.status().ok()) return done(group.status());
    if (!group.value.has_value()) {
      return done(absl::InternalError("redis: the group answered without a reply"));
    }
    done(redis_core::DecodeReply(*group.value));
  });
}

void CoordinatorBackend::ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) {
  const size_t count = pipeline.commands.size();
  auto start = [pipeline = std::move(pipeline)](coord::Coordinator& core) mutable {
    return core.StartRedisPipeline(std::move(pipeline));
  };
  coordinator_->RunAsync(std::move(start), [count, done = std::move(done)](coord::OpResult result) {
    std::vector<absl::StatusOr<redis_core::Reply>> replies;
    replies.reserve(count);
    if (result.status.ok() && result.redis_replies.size() != count) {
      result.status = absl::InternalError("redis: a pipeline answered the wrong number of replies");
    }
    for (size_t i = 0; i < count; ++i) {
      if (!result.status.ok()) {
        replies.push_back(result.status);
        continue;
      }
      const node::GroupResult& group = result.redis_replies[i];
      if (!group.status().ok()) {
        replies.push_back(group.status());
      } else if (!group.value.has_value()) {
        replies.push_back(absl::InternalError("redis: the group answered without a reply"));
      } else {
        replies.push_back(redis_core::DecodeReply(*group.value));
      }
    }
    done(std::move(replies));
  });
}

void CoordinatorBackend::ListRanges(RangesDone done) {
  coordinator_->RunAsync(
      [](coord::Coordinator& core) { return core.StartReadCatalog(); },
      [done = std::move(done)](coord::OpResult result) {
        if (!result.status.ok()) return done(result.status);
        if (!result.catalog.has_value()) {
          return done(absl::InternalError("redis: no catalog in the reply"));
        }
        std::vector<KeyRange> ranges;
        for (const route::RouteDescriptor& route : result.catalog->ListRoutes()) {
          ranges.push_back({route.start, route.end});
        }
        done(std::move(ranges));
      });
}

}  // namespace ekv::redis
