// KeyspaceNotifier: the backend the handlers see when keyspace notifications may be on. It
// stamps every request with the node's notify-keyspace-events classes
// (RedisRequest::notify_flags, core/redis/keyspace_events.h), and hands the events a reply
// brings back (Reply::events, decided at apply time by the write that happened) to
// `publish` before the reply goes on, stripped of them. With notifications off it adds
// nothing to a request and costs one load per call.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "adapters/redis/backend.h"
#include "core/redis/reply.h"

namespace ekv::redis {

class KeyspaceNotifier final : public RedisBackend {
 public:
  // Called on whichever thread the reply arrives on, with the classes the request carried.
  using Publish = std::function<void(uint32_t flags, std::vector<redis_core::KeyEvent> events)>;
  // `flags`: the node's notify-keyspace-events (RedisSettings), read on the calling thread.
  KeyspaceNotifier(RedisBackend* inner, const uint32_t* flags, Publish publish)
      : inner_(inner), flags_(flags), publish_(std::move(publish)) {}

  void Execute(redis_core::RedisRequest request, bool write, ReplyDone done) override;
  void ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) override;
  void ListRanges(RangesDone done) override { inner_->ListRanges(std::move(done)); }

 private:
  RedisBackend* inner_;
  const uint32_t* flags_;
  Publish publish_;
};

}  // namespace ekv::redis
