// KeyspaceNotifier: the backend the handlers see when keyspace notifications may be on. It
// stamps every request with the node's notify-keyspace-events classes
// (RedisRequest::notify_flags, core/redis/keyspace_events.h), and hands the events a reply
// brings back (Reply::events, decided at apply time by the write that happened) to
// `publish` before the reply goes on, stripped of them. With notifications off it adds
// nothing to a request and costs one load per call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

#include "adapters/redis/backend.h"
#include "core/redis/reply.h"

namespace ekv::redis {

// A notification as notify.c publishes it (tracking events, redis_core::kTrackingEvent, are
// not notifications and are skipped): (channel, message), e.g.
// ("__keyspace@0__:jobs", "lpush") with K and ("__keyevent@0__:lpush", "jobs") with E.
using Notification = std::pair<std::string, std::string>;
std::vector<Notification> NotificationsOf(uint32_t flags,
                                          const std::vector<redis_core::KeyEvent>& events);
// The pub/sub fan-out channel that carries one reply's notifications to each other node
// as one message (never delivered to subscribers as such), so a write costs one delivery
// per peer however many events it has.
inline constexpr absl::string_view kNotificationsChannel("\0ekv:keyspace-events", 20);
std::string EncodeNotifications(const std::vector<Notification>& notifications);
std::optional<std::vector<Notification>> DecodeNotifications(absl::string_view message);

class KeyspaceNotifier final : public RedisBackend {
 public:
  // Called on whichever thread the reply arrives on, with the classes the request carried
  // and the connection that sent it (`writer`, 0 when not known).
  using Publish = std::function<void(uint32_t flags, uint64_t writer,
                                     std::vector<redis_core::KeyEvent> events)>;
  // Where the server says, on the calling thread, whether client-side caching needs the
  // keys each write changed (redis_core::kNotifyTrackingKeys) and which connection sends
  // the request.
  struct Tracking {
    std::function<bool()> wanted;
    std::function<uint64_t()> writer;
  };
  // `flags`: the node's notify-keyspace-events (RedisSettings), read on the calling thread.
  KeyspaceNotifier(RedisBackend* inner, const uint32_t* flags, Publish publish,
                   Tracking tracking = {})
      : inner_(inner),
        flags_(flags),
        publish_(std::move(publish)),
        tracking_(std::move(tracking)) {}

  void Execute(redis_core::RedisRequest request, bool write, ReplyDone done) override;
  void ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) override;
  void ListRanges(RangesDone done) override { inner_->ListRanges(std::move(done)); }

 private:
  RedisBackend* inner_;
  const uint32_t* flags_;
  Publish publish_;
  Tracking tracking_;
  // The classes to send with a request now (0: none), and its writer.
  uint32_t RequestFlags() const;
  uint64_t Writer() const { return tracking_.writer ? tracking_.writer() : 0; }
};

}  // namespace ekv::redis
