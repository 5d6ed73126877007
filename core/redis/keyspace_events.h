// Keyspace notifications (Redis 7.0's notify.c): which events a write command causes, decided
// at apply time from what the command actually changed, so every replica computes the same
// ones and a command that changes nothing (SREM of an absent member) causes none.
//
// The front door keeps the node's notify-keyspace-events (the classes below, parsed and
// printed as Redis does) and sends them in each request (RedisRequest::notify_flags); the
// executor records the events of the enabled classes (Executor::Run) and returns them with
// the reply (Reply::events); the front door publishes each on __keyspace@0__:<key> and/or
// __keyevent@0__:<event> through its pub/sub fan-out (every node's subscribers).
//
// Not produced: "expired" (ekv's expiry is decided by the replicated clock when a key is
// read, and the background cleanup removes keys long after), "evicted" (ekv evicts
// nothing), "keymiss" (reads carry no events), and module events (no modules).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/redis/reply.h"

namespace ekv::redis_core {

// Redis 7.0's NOTIFY_* bits (server.h), so CONFIG's strings map as Redis maps them.
inline constexpr uint32_t kNotifyKeyspace = 1 << 0;  // K
inline constexpr uint32_t kNotifyKeyevent = 1 << 1;  // E
inline constexpr uint32_t kNotifyGeneric = 1 << 2;   // g
inline constexpr uint32_t kNotifyString = 1 << 3;    // $
inline constexpr uint32_t kNotifyList = 1 << 4;      // l
inline constexpr uint32_t kNotifySet = 1 << 5;       // s
inline constexpr uint32_t kNotifyHash = 1 << 6;      // h
inline constexpr uint32_t kNotifyZset = 1 << 7;      // z
inline constexpr uint32_t kNotifyExpired = 1 << 8;   // x
inline constexpr uint32_t kNotifyEvicted = 1 << 9;   // e
inline constexpr uint32_t kNotifyStream = 1 << 10;   // t
inline constexpr uint32_t kNotifyKeyMiss = 1 << 11;  // m (not in A)
inline constexpr uint32_t kNotifyModule = 1 << 13;   // d
inline constexpr uint32_t kNotifyNew = 1 << 14;      // n (not in A)
// Not a Redis class (never parsed or printed): asks the executor for the keys each write
// command changed, as KeyEvents with an empty event name (kTrackingEvent), which the front
// door's client-side caching (adapters/redis/tracking_table.h) turns into invalidations.
// Redis calls signalModifiedKey for them; NotificationsOf skips them.
// A changed key that holds a value with a TTL afterwards is reported as
// kTrackingExpiresPrefix followed by its deadline (unix ms, decimal) instead, so the front
// door can also invalidate it when it expires (ekv's expiry removes keys with no write).
inline constexpr uint32_t kNotifyTrackingKeys = 1 << 24;
inline constexpr absl::string_view kTrackingEvent = "";
inline constexpr absl::string_view kTrackingExpiresPrefix = "\x01";
// A script that ran a read command reports each of its declared KEYS so (Redis tracks a
// script's KEYS for its caller then, and only then).
inline constexpr absl::string_view kTrackingScriptReadEvent = "\x02";
// A KeyEvent for client-side caching rather than a notification.
inline bool IsTrackingEvent(const KeyEvent& event) {
  return event.event.empty() || event.event[0] == kTrackingExpiresPrefix[0] ||
         event.event == kTrackingScriptReadEvent;
}
inline constexpr uint32_t kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet |
                                       kNotifyHash | kNotifyZset | kNotifyExpired | kNotifyEvicted |
                                       kNotifyStream | kNotifyModule;  // A

// keyspaceEventsStringToFlags: nullopt for a character that names no class.
std::optional<uint32_t> ParseKeyspaceEvents(absl::string_view classes);
// keyspaceEventsFlagsToString: "AKE", "gKE", "$lshzxeKE"...
std::string KeyspaceEventsString(uint32_t flags);
// The classes worth sending to the groups: none unless K or E is on and some event class
// is too (Redis publishes nothing otherwise).
uint32_t RequestNotifyFlags(uint32_t flags);

// What one command did to a key it wrote (Executor's tracking).
struct KeyChange {
  bool existed = false;             // held a live value before the command
  bool deleted = false;             // holds nothing after it
  std::vector<std::string> events;  // more events after the command's own (NoteEvent)
};
using KeyChanges = std::map<std::string, KeyChange>;

// Appends the events of command `args` (lower-case name in args[0] given as `name`) of the
// classes in `flags`, in Redis 7.0's order: the command's own events, "new" right before
// the first one on a key it created, "del" after one that emptied a collection.
void AppendCommandEvents(absl::string_view name, const std::vector<std::string>& args,
                         const KeyChanges& changes, uint32_t flags, std::vector<KeyEvent>* out);

}  // namespace ekv::redis_core
