#include "core/redis/stream_groups.h"

#include <utility>

#include "core/kv/codec.h"
#include "core/kv/status_macros.h"

namespace ekv::redis_core {
namespace {

void AppendLength(std::string* out, absl::string_view text) {
  const uint32_t size = static_cast<uint32_t>(text.size());
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  out->append(text.data(), text.size());
}

absl::StatusOr<StreamId> ReadGroupId(kv::ByteReader* reader) {
  EKV_KV_ASSIGN_OR_RETURN(uint64_t ms, reader->ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(uint64_t seq, reader->ReadVarint64());
  return StreamId{ms, seq};
}

absl::StatusOr<StreamGroup> DecodeGroup(absl::string_view name, absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  StreamGroup group;
  group.name = std::string(name);
  EKV_KV_ASSIGN_OR_RETURN(group.last_id, ReadGroupId(&reader));
  EKV_KV_ASSIGN_OR_RETURN(uint64_t read_plus_one, reader.ReadVarint64());
  group.entries_read = static_cast<int64_t>(read_plus_one) - 1;
  EKV_KV_ASSIGN_OR_RETURN(group.pending, reader.ReadVarint64());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("stream group"));
  return group;
}

absl::StatusOr<StreamConsumer> DecodeConsumer(absl::string_view name, absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  StreamConsumer consumer;
  consumer.name = std::string(name);
  EKV_KV_ASSIGN_OR_RETURN(consumer.seen_ms, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(consumer.pending, reader.ReadVarint64());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("stream consumer"));
  return consumer;
}

absl::StatusOr<PendingEntry> DecodePending(StreamId id, absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  PendingEntry entry;
  entry.id = id;
  EKV_KV_ASSIGN_OR_RETURN(entry.delivery_ms, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(entry.delivery_count, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(absl::string_view consumer, reader.ReadLengthPrefixed());
  entry.consumer = std::string(consumer);
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("stream pending entry"));
  return entry;
}

}  // namespace

std::string StreamGroups::Element(absl::string_view subkey) const {
  return ex_.ElementKey(key_, meta_, subkey);
}

std::string StreamGroups::GroupScope(char tag, absl::string_view group) const {
  std::string subkey(1, tag);
  AppendLength(&subkey, group);
  return Element(subkey);
}

std::string StreamGroups::ConsumerScope(absl::string_view group, absl::string_view consumer) const {
  std::string scope = GroupScope('q', group);
  AppendLength(&scope, consumer);
  return scope;
}

absl::StatusOr<std::optional<StreamGroup>> StreamGroups::Group(absl::string_view name) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          ex_.store().Get(Element(std::string(1, 'g') + std::string(name))));
  if (!bytes.has_value()) return std::optional<StreamGroup>();
  EKV_KV_ASSIGN_OR_RETURN(StreamGroup group, DecodeGroup(name, *bytes));
  return std::optional<StreamGroup>(std::move(group));
}

absl::StatusOr<std::vector<StreamGroup>> StreamGroups::AllGroups() {
  const std::string prefix = Element("g");
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex_.store().Scan(prefix, PrefixEnd(prefix), SIZE_MAX));
  std::vector<StreamGroup> groups;
  for (const auto& [record_key, value] : records) {
    EKV_KV_ASSIGN_OR_RETURN(
        StreamGroup group, DecodeGroup(absl::string_view(record_key).substr(prefix.size()), value));
    groups.push_back(std::move(group));
  }
  return groups;
}

void StreamGroups::SaveGroup(const StreamGroup& group) {
  std::string bytes;
  kv::AppendVarint64(&bytes, group.last_id.ms);
  kv::AppendVarint64(&bytes, group.last_id.seq);
  kv::AppendVarint64(&bytes, static_cast<uint64_t>(group.entries_read + 1));
  kv::AppendVarint64(&bytes, group.pending);
  ex_.store().Put(Element(std::string(1, 'g') + group.name), std::move(bytes));
}

absl::Status StreamGroups::DestroyGroup(const StreamGroup& group) {
  for (char tag : {'c', 'p', 'q'}) {
    const std::string scope = GroupScope(tag, group.name);
    EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                            ex_.store().Scan(scope, PrefixEnd(scope), SIZE_MAX));
    for (const auto& [record_key, value] : records) ex_.store().Delete(record_key);
  }
  ex_.store().Delete(Element(std::string(1, 'g') + group.name));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StreamConsumer>> StreamGroups::Consumer(absl::string_view group,
                                                                     absl::string_view name) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          ex_.store().Get(GroupScope('c', group) + std::string(name)));
  if (!bytes.has_value()) return std::optional<StreamConsumer>();
  EKV_KV_ASSIGN_OR_RETURN(StreamConsumer consumer, DecodeConsumer(name, *bytes));
  return std::optional<StreamConsumer>(std::move(consumer));
}

absl::StatusOr<std::vector<StreamConsumer>> StreamGroups::Consumers(absl::string_view group) {
  const std::string scope = GroupScope('c', group);
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex_.store().Scan(scope, PrefixEnd(scope), SIZE_MAX));
  std::vector<StreamConsumer> consumers;
  for (const auto& [record_key, value] : records) {
    EKV_KV_ASSIGN_OR_RETURN(
        StreamConsumer consumer,
        DecodeConsumer(absl::string_view(record_key).substr(scope.size()), value));
    consumers.push_back(std::move(consumer));
  }
  return consumers;
}

void StreamGroups::SaveConsumer(absl::string_view group, const StreamConsumer& consumer) {
  std::string bytes;
  kv::AppendVarint64(&bytes, consumer.seen_ms);
  kv::AppendVarint64(&bytes, consumer.pending);
  ex_.store().Put(GroupScope('c', group) + consumer.name, std::move(bytes));
}

absl::StatusOr<uint64_t> StreamGroups::DeleteConsumer(StreamGroup* group,
                                                      const StreamConsumer& consumer) {
  const std::string scope = ConsumerScope(group->name, consumer.name);
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex_.store().Scan(scope, PrefixEnd(scope), SIZE_MAX));
  for (const auto& [record_key, value] : records) {
    const StreamId id = DecodeStreamId(absl::string_view(record_key).substr(scope.size()));
    ex_.store().Delete(GroupScope('p', group->name) + EncodeStreamId(id));
    ex_.store().Delete(record_key);
    --group->pending;
  }
  ex_.store().Delete(GroupScope('c', group->name) + consumer.name);
  SaveGroup(*group);
  return records.size();
}

absl::StatusOr<std::optional<PendingEntry>> StreamGroups::Pending(absl::string_view group,
                                                                  StreamId id) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          ex_.store().Get(GroupScope('p', group) + EncodeStreamId(id)));
  if (!bytes.has_value()) return std::optional<PendingEntry>();
  EKV_KV_ASSIGN_OR_RETURN(PendingEntry entry, DecodePending(id, *bytes));
  return std::optional<PendingEntry>(std::move(entry));
}

absl::StatusOr<std::vector<PendingEntry>> StreamGroups::PendingRange(absl::string_view group,
                                                                     const std::string* consumer,
                                                                     StreamId lo, StreamId hi,
                                                                     uint64_t count) {
  std::vector<PendingEntry> out;
  if (lo > hi) return out;
  const std::string scope =
      consumer != nullptr ? ConsumerScope(group, *consumer) : GroupScope('p', group);
  std::string end = scope + EncodeStreamId(hi);
  end.push_back('\0');
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex_.store().Scan(scope + EncodeStreamId(lo), end,
                                                                   count == 0 ? SIZE_MAX : count));
  for (const auto& [record_key, value] : records) {
    const StreamId id = DecodeStreamId(absl::string_view(record_key).substr(scope.size()));
    if (consumer == nullptr) {
      EKV_KV_ASSIGN_OR_RETURN(PendingEntry entry, DecodePending(id, value));
      out.push_back(std::move(entry));
      continue;
    }
    EKV_KV_ASSIGN_OR_RETURN(std::optional<PendingEntry> entry, Pending(group, id));
    if (!entry.has_value())
      return absl::DataLossError("a consumer's pending entry is not the group's");
    out.push_back(*std::move(entry));
  }
  return out;
}

absl::Status StreamGroups::PutPending(StreamGroup* group, const PendingEntry& entry) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<PendingEntry> old, Pending(group->name, entry.id));
  if (old.has_value() && old->consumer != entry.consumer) {
    ex_.store().Delete(ConsumerScope(group->name, old->consumer) + EncodeStreamId(entry.id));
    EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamConsumer> previous,
                            Consumer(group->name, old->consumer));
    if (previous.has_value() && previous->pending > 0) {
      --previous->pending;
      SaveConsumer(group->name, *previous);
    }
  }
  if (!old.has_value() || old->consumer != entry.consumer) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamConsumer> owner,
                            Consumer(group->name, entry.consumer));
    StreamConsumer consumer = owner.value_or(StreamConsumer{entry.consumer, ex_.now_ms(), 0});
    ++consumer.pending;
    SaveConsumer(group->name, consumer);
    ex_.store().Put(ConsumerScope(group->name, entry.consumer) + EncodeStreamId(entry.id), "");
  }
  if (!old.has_value()) {
    ++group->pending;
    SaveGroup(*group);
  }
  std::string bytes;
  kv::AppendVarint64(&bytes, entry.delivery_ms);
  kv::AppendVarint64(&bytes, entry.delivery_count);
  kv::AppendLengthPrefixed(&bytes, entry.consumer);
  ex_.store().Put(GroupScope('p', group->name) + EncodeStreamId(entry.id), std::move(bytes));
  return absl::OkStatus();
}

absl::StatusOr<StreamId> StreamGroups::LastPending(absl::string_view group) {
  const std::string scope = GroupScope('p', group);
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex_.store().Scan(scope, PrefixEnd(scope), 1, /*reverse=*/true));
  if (records.empty()) return absl::DataLossError("a group's pending count without entries");
  return DecodeStreamId(absl::string_view(records.front().first).substr(scope.size()));
}

absl::StatusOr<bool> StreamGroups::Ack(StreamGroup* group, StreamId id) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<PendingEntry> entry, Pending(group->name, id));
  if (!entry.has_value()) return false;
  ex_.store().Delete(GroupScope('p', group->name) + EncodeStreamId(id));
  ex_.store().Delete(ConsumerScope(group->name, entry->consumer) + EncodeStreamId(id));
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamConsumer> consumer,
                          Consumer(group->name, entry->consumer));
  if (consumer.has_value() && consumer->pending > 0) {
    --consumer->pending;
    SaveConsumer(group->name, *consumer);
  }
  --group->pending;
  SaveGroup(*group);
  return true;
}

}  // namespace ekv::redis_core

namespace ekv::redis_core {

absl::StatusOr<StreamFacts> FactsOf(Stream& stream) {
  StreamFacts facts;
  facts.state = stream.state();
  facts.length = stream.length();
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamId> first, stream.Edge(/*first=*/true));
  facts.first_id = first.value_or(StreamId{});
  return facts;
}

int64_t EstimateEntriesRead(const StreamFacts& s, StreamId id) {
  const uint64_t added = s.state.entries_added;
  if (added == 0) return 0;
  if (s.length == 0 && id <= s.state.last_id) return static_cast<int64_t>(added);
  if (id == s.state.last_id) return static_cast<int64_t>(added);
  if (id > s.state.last_id) return kInvalidEntriesRead;
  if (s.state.max_deleted.IsZero() || s.state.max_deleted < s.first_id) {
    if (id < s.first_id) return static_cast<int64_t>(added - s.length);
    if (id == s.first_id) return static_cast<int64_t>(added - s.length + 1);
  }
  return kInvalidEntriesRead;
}

bool RangeHasTombstones(const StreamFacts& s, StreamId start, StreamId end) {
  if (s.length == 0 || s.state.max_deleted.IsZero()) return false;
  if (s.first_id > s.state.max_deleted) return false;
  return start <= s.state.max_deleted && s.state.max_deleted <= end;
}

std::optional<int64_t> GroupLag(const StreamFacts& s, const StreamGroup& group) {
  const int64_t added = static_cast<int64_t>(s.state.entries_added);
  if (added == 0) return 0;
  if (group.entries_read != kInvalidEntriesRead &&
      !RangeHasTombstones(s, group.last_id, kMaxStreamId)) {
    return added - group.entries_read;
  }
  const int64_t read = EstimateEntriesRead(s, group.last_id);
  if (read == kInvalidEntriesRead) return std::nullopt;
  return added - read;
}

void AdvanceGroup(const StreamFacts& s, StreamGroup* group, StreamId id) {
  if (id <= group->last_id) return;
  if (group->entries_read != kInvalidEntriesRead && !RangeHasTombstones(s, id, kMaxStreamId)) {
    ++group->entries_read;
  } else if (s.state.entries_added != 0) {
    group->entries_read = EstimateEntriesRead(s, id);
  }
  group->last_id = id;
}

}  // namespace ekv::redis_core
