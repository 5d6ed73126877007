#include "adapters/redis/keyspace_notifier.h"

#include <utility>

#include "core/redis/keyspace_events.h"

namespace ekv::redis {

void KeyspaceNotifier::Execute(redis_core::RedisRequest request, bool write, ReplyDone done) {
  const uint32_t flags = redis_core::RequestNotifyFlags(*flags_);
  if (flags == 0) return inner_->Execute(std::move(request), write, std::move(done));
  request.notify_flags = flags;
  inner_->Execute(std::move(request), write,
                  [flags, publish = publish_,
                   done = std::move(done)](absl::StatusOr<redis_core::Reply> reply) mutable {
                    if (reply.ok() && !reply->events.empty()) {
                      publish(flags, std::exchange(reply->events, {}));
                    }
                    done(std::move(reply));
                  });
}

void KeyspaceNotifier::ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) {
  const uint32_t flags = redis_core::RequestNotifyFlags(*flags_);
  if (flags == 0) return inner_->ExecutePipeline(std::move(pipeline), std::move(done));
  pipeline.notify_flags = flags;
  inner_->ExecutePipeline(std::move(pipeline),
                          [flags, publish = publish_, done = std::move(done)](
                              std::vector<absl::StatusOr<redis_core::Reply>> replies) mutable {
                            std::vector<redis_core::KeyEvent> events;
                            for (absl::StatusOr<redis_core::Reply>& reply : replies) {
                              if (!reply.ok()) continue;
                              for (redis_core::KeyEvent& event : reply->events)
                                events.push_back(std::move(event));
                              reply->events.clear();
                            }
                            if (!events.empty()) publish(flags, std::move(events));
                            done(std::move(replies));
                          });
}

}  // namespace ekv::redis
