#include "adapters/redis/keyspace_notifier.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/redis/keyspace_events.h"

namespace ekv::redis {

std::vector<Notification> NotificationsOf(uint32_t flags,
                                          const std::vector<redis_core::KeyEvent>& events) {
  // notify.c: the database is always 0 here (SELECT refuses any other).
  std::vector<Notification> out;
  for (const redis_core::KeyEvent& event : events) {
    if (redis_core::IsTrackingEvent(event)) continue;
    if (flags & redis_core::kNotifyKeyspace) {
      out.emplace_back(absl::StrCat("__keyspace@0__:", event.key), event.event);
    }
    if (flags & redis_core::kNotifyKeyevent) {
      out.emplace_back(absl::StrCat("__keyevent@0__:", event.event), event.key);
    }
  }
  return out;
}

std::string EncodeNotifications(const std::vector<Notification>& notifications) {
  std::string out;
  kv::AppendVarint64(&out, notifications.size());
  for (const auto& [channel, message] : notifications) {
    kv::AppendLengthPrefixed(&out, channel);
    kv::AppendLengthPrefixed(&out, message);
  }
  return out;
}

std::optional<std::vector<Notification>> DecodeNotifications(absl::string_view message) {
  kv::ByteReader reader(message);
  absl::StatusOr<uint64_t> count = reader.ReadVarint64();
  if (!count.ok() || *count > message.size()) return std::nullopt;
  std::vector<Notification> out;
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<absl::string_view> channel = reader.ReadLengthPrefixed();
    absl::StatusOr<absl::string_view> text = reader.ReadLengthPrefixed();
    if (!channel.ok() || !text.ok()) return std::nullopt;
    out.emplace_back(std::string(*channel), std::string(*text));
  }
  if (!reader.empty()) return std::nullopt;
  return out;
}

uint32_t KeyspaceNotifier::RequestFlags() const {
  uint32_t flags = redis_core::RequestNotifyFlags(*flags_);
  if (tracking_.wanted && tracking_.wanted()) flags |= redis_core::kNotifyTrackingKeys;
  return flags;
}

void KeyspaceNotifier::Execute(redis_core::RedisRequest request, bool write, ReplyDone done) {
  const uint32_t flags = RequestFlags();
  if (flags == 0) return inner_->Execute(std::move(request), write, std::move(done));
  request.notify_flags = flags;
  inner_->Execute(std::move(request), write,
                  [flags, writer = Writer(), publish = publish_,
                   done = std::move(done)](absl::StatusOr<redis_core::Reply> reply) mutable {
                    if (reply.ok()) {
                      std::vector<redis_core::KeyEvent> events = reply->TakeEvents();
                      if (!events.empty()) publish(flags, writer, std::move(events));
                    }
                    done(std::move(reply));
                  });
}

void KeyspaceNotifier::ExecutePipeline(redis_core::RedisPipeline pipeline, PipelineDone done) {
  const uint32_t flags = RequestFlags();
  if (flags == 0) return inner_->ExecutePipeline(std::move(pipeline), std::move(done));
  pipeline.notify_flags = flags;
  inner_->ExecutePipeline(std::move(pipeline),
                          [flags, writer = Writer(), publish = publish_, done = std::move(done)](
                              std::vector<absl::StatusOr<redis_core::Reply>> replies) mutable {
                            std::vector<redis_core::KeyEvent> events;
                            for (absl::StatusOr<redis_core::Reply>& reply : replies) {
                              if (!reply.ok()) continue;
                              for (redis_core::KeyEvent& event : reply->TakeEvents()) {
                                events.push_back(std::move(event));
                              }
                            }
                            if (!events.empty()) publish(flags, writer, std::move(events));
                            done(std::move(replies));
                          });
}

}  // namespace ekv::redis
