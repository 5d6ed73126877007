// A stream's consumer groups (Redis 7.0's streamCG, streamConsumer, streamNACK) as records
// under the stream's version (layout.h, next to stream_records.h's):
//
//   'g' group                          -> last delivered id, entries read + 1 (0: unknown,
//                                         Redis's SCG_INVALID_ENTRIES_READ), pending count
//   'c' u32 len group, group, consumer  -> seen time (ms), pending count
//   'p' u32 len group, group, id        -> delivery time (ms), delivery count, consumer
//   'q' u32 len group, group, u32 len consumer, consumer, id -> empty: the consumer's own
//                                         pending list, in id order
//
// Times are the group's replicated time (Executor::now_ms), so every replica records the
// same ones. Groups and consumers are listed in byte order of their names, which is the
// order of Redis's radix trees.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/redis/executor.h"
#include "core/redis/stream_id.h"
#include "core/redis/stream_records.h"

namespace ekv::redis_core {

inline constexpr int64_t kInvalidEntriesRead = -1;

struct StreamGroup {
  std::string name;
  StreamId last_id;
  int64_t entries_read = kInvalidEntriesRead;
  uint64_t pending = 0;
};

struct StreamConsumer {
  std::string name;
  uint64_t seen_ms = 0;
  uint64_t pending = 0;
};

struct PendingEntry {
  StreamId id;
  uint64_t delivery_ms = 0;
  uint64_t delivery_count = 0;
  std::string consumer;
};

// The group records of the stream `key` at `meta`'s version.
class StreamGroups {
 public:
  StreamGroups(Executor& ex, std::string key, const Meta& meta)
      : ex_(ex), key_(std::move(key)), meta_(meta) {}

  absl::StatusOr<std::optional<StreamGroup>> Group(absl::string_view name);
  absl::StatusOr<std::vector<StreamGroup>> AllGroups();
  void SaveGroup(const StreamGroup& group);
  // Removes the group with its consumers and pending entries.
  absl::Status DestroyGroup(const StreamGroup& group);

  absl::StatusOr<std::optional<StreamConsumer>> Consumer(absl::string_view group,
                                                         absl::string_view name);
  absl::StatusOr<std::vector<StreamConsumer>> Consumers(absl::string_view group);
  void SaveConsumer(absl::string_view group, const StreamConsumer& consumer);
  // Removes the consumer and its pending entries (from the group's list too); how many.
  absl::StatusOr<uint64_t> DeleteConsumer(StreamGroup* group, const StreamConsumer& consumer);

  absl::StatusOr<std::optional<PendingEntry>> Pending(absl::string_view group, StreamId id);
  // The group's (or, with `consumer`, that consumer's) pending entries with
  // lo <= id <= hi, at most `count` (0: all), in id order.
  absl::StatusOr<std::vector<PendingEntry>> PendingRange(absl::string_view group,
                                                         const std::string* consumer, StreamId lo,
                                                         StreamId hi, uint64_t count);
  // Adds or moves a pending entry to `entry.consumer` (counts in the records kept right).
  absl::Status PutPending(StreamGroup* group, const PendingEntry& entry);
  // The group's largest pending id (the group has some).
  absl::StatusOr<StreamId> LastPending(absl::string_view group);
  // Acknowledges one entry: false when the group has no such pending entry.
  absl::StatusOr<bool> Ack(StreamGroup* group, StreamId id);

 private:
  std::string Element(absl::string_view subkey) const;
  std::string GroupScope(char tag, absl::string_view group) const;
  std::string ConsumerScope(absl::string_view group, absl::string_view consumer) const;

  Executor& ex_;
  std::string key_;
  Meta meta_;
};

}  // namespace ekv::redis_core

namespace ekv::redis_core {

// What Redis 7.0's lag and entries-read estimates look at (t_stream.c
// streamEstimateDistanceFromFirstEverEntry, streamRangeHasTombstones).
struct StreamFacts {
  StreamState state;
  uint64_t length = 0;
  StreamId first_id;  // the first entry's id, 0-0 when empty
};
absl::StatusOr<StreamFacts> FactsOf(Stream& stream);
int64_t EstimateEntriesRead(const StreamFacts& s, StreamId id);
bool RangeHasTombstones(const StreamFacts& s, StreamId start, StreamId end);
// XINFO GROUPS's lag; nullopt when it cannot be known (Redis answers null).
std::optional<int64_t> GroupLag(const StreamFacts& s, const StreamGroup& group);
// The group's entries-read after it is delivered `id` (streamReplyWithRange).
void AdvanceGroup(const StreamFacts& s, StreamGroup* group, StreamId id);

}  // namespace ekv::redis_core
