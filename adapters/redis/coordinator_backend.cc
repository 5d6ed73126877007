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
  // owning group; the payload is recognised by its first byte (request.h). xexec: through
  // StartRedisRequest, which resolves transaction locks in the way and runs an EXEC whose
  // keys span groups as one transaction over them.
  auto start = [write, payload = redis_core::EncodeRedisRequest(request)](
                   coord::Coordinator& core) { return core.StartRedisRequest(payload, write); };
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
