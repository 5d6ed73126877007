// XREAD (Redis 7.0's xreadCommand without a group) and what a blocked XREAD needs: the
// form its later runs take (ekv-serve-xread: a key holding another type counts as empty,
// as Redis serves a blocked reader only from a stream) and `ekv-xread-last`, which
// resolves `$` when the client blocks (stream_read.h). XREAD only reads: a blocked client
// takes nothing from the stream, so every reader waiting on it is served.
#include <string>
#include <utility>
#include <vector>

#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/stream_groups.h"
#include "core/redis/stream_read.h"
#include "core/redis/stream_records.h"

namespace ekv::redis_core {
namespace {

absl::StatusOr<Reply> XReadGeneric(Executor& ex, const Args& args, bool serve) {
  XReadArgs parsed = ParseXRead(args, ex.called_from_script());
  if (parsed.error.has_value()) return *parsed.error;
  // The ids, checked key by key as Redis does (a key of another type answers WRONGTYPE
  // before a later bad id).
  std::vector<std::optional<Stream>> streams;
  std::vector<StreamId> after;
  for (size_t i = 0; i < parsed.streams_count; ++i) {
    const std::string& key = args[parsed.streams_index + i];
    const std::string& id_text = args[parsed.streams_index + parsed.streams_count + i];
    EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, key, Type::kStream));
    if (c.error.has_value() && !serve) return *c.error;
    std::optional<Stream> stream;
    if (c.exists) {
      stream.emplace(ex, key, c.meta);
      EKV_KV_RETURN_IF_ERROR(stream->Load());
    }
    if (id_text == "$") {
      after.push_back(stream.has_value() ? stream->state().last_id : StreamId{});
    } else if (id_text == ">") {
      return Reply::Error(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
          "<consumer> option.");
    } else {
      std::optional<ParsedStreamId> id = ParseStreamId(id_text, 0, /*strict=*/true);
      if (!id.has_value()) return Reply::Error(kInvalidStreamIdError);
      after.push_back(id->id);
    }
    streams.push_back(std::move(stream));
  }
  std::vector<Reply> served;
  for (size_t i = 0; i < streams.size(); ++i) {
    if (!streams[i].has_value() || streams[i]->length() == 0) continue;
    Stream& stream = *streams[i];
    StreamId start = after[i];
    if (!IncrStreamId(&start)) continue;  // nothing is above the largest id
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<StreamEntry> entries,
        stream.Range(start, kMaxStreamId, static_cast<uint64_t>(parsed.count), false));
    if (entries.empty()) continue;
    served.push_back(Reply::Bulk(args[parsed.streams_index + i]));
    served.push_back(StreamEntriesReply(entries));
  }
  // Nothing to serve: a null array, what a timeout answers too (the front door blocks a
  // client that gave BLOCK; inside MULTI or a script Redis does not block either).
  if (served.empty()) return Reply::NilArray();
  return Reply::KeyedMap(std::move(served));
}

// One stream of an XREADGROUP: its consumer's history from `after` on (explicit id), or
// the group's new entries (`>`), delivered and recorded pending unless NOACK.
absl::StatusOr<std::optional<Reply>> ServeGroup(Executor& ex, const XReadArgs& parsed,
                                                const std::string& key, Stream& stream,
                                                StreamGroup& group, std::optional<StreamId> after) {
  StreamGroups groups(ex, key, stream.meta());
  EKV_KV_ASSIGN_OR_RETURN(StreamFacts facts, FactsOf(stream));
  if (!after.has_value()) {
    // New entries: only when the stream has some past the group's last delivered id.
    if (stream.length() == 0) return std::optional<Reply>();
    EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamId> top, stream.Edge(/*first=*/false));
    if (!top.has_value() || *top <= group.last_id) return std::optional<Reply>();
  }
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamConsumer> found,
                          groups.Consumer(group.name, parsed.consumer));
  StreamConsumer consumer = found.value_or(StreamConsumer{parsed.consumer, ex.now_ms(), 0});
  consumer.seen_ms = ex.now_ms();
  groups.SaveConsumer(group.name, consumer);
  if (!found.has_value()) ex.NoteEvent(key, "xgroup-createconsumer");
  const uint64_t count = static_cast<uint64_t>(parsed.count);
  std::vector<Reply> out;
  if (after.has_value()) {
    StreamId start = *after;
    if (!IncrStreamId(&start)) return std::optional<Reply>(Reply::Array());
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<PendingEntry> history,
        groups.PendingRange(group.name, &parsed.consumer, start, kMaxStreamId, count));
    for (PendingEntry& entry : history) {
      EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> found_entry,
                              stream.Range(entry.id, entry.id, 1, false));
      if (found_entry.empty()) {
        // Deleted since it was delivered: its id and a null, as Redis answers it.
        out.push_back(Reply::Array({Reply::Bulk(FormatStreamId(entry.id)), Reply::NilArray()}));
        continue;
      }
      out.push_back(std::move(StreamEntriesReply(found_entry).elements.front()));
      entry.delivery_ms = ex.now_ms();
      ++entry.delivery_count;
      EKV_KV_RETURN_IF_ERROR(groups.PutPending(&group, entry));
    }
    return std::optional<Reply>(Reply::Array(std::move(out)));
  }
  StreamId start = group.last_id;
  if (!IncrStreamId(&start)) return std::optional<Reply>();
  EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> entries,
                          stream.Range(start, kMaxStreamId, count, false));
  for (const StreamEntry& entry : entries) {
    AdvanceGroup(facts, &group, entry.id);
    if (!parsed.noack) {
      EKV_KV_RETURN_IF_ERROR(
          groups.PutPending(&group, PendingEntry{entry.id, ex.now_ms(), 1, parsed.consumer}));
    }
  }
  groups.SaveGroup(group);
  return std::optional<Reply>(StreamEntriesReply(entries));
}

// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...
absl::StatusOr<Reply> XReadGroupGeneric(Executor& ex, const Args& args, bool serve) {
  XReadArgs parsed = ParseXRead(args, ex.called_from_script());
  if (parsed.error.has_value()) return *parsed.error;
  struct Target {
    std::optional<Stream> stream;
    std::optional<StreamGroup> group;
    std::optional<StreamId> after;  // nullopt: `>`
  };
  std::vector<Target> targets;
  for (size_t i = 0; i < parsed.streams_count; ++i) {
    const std::string& key = args[parsed.streams_index + i];
    const std::string& id_text = args[parsed.streams_index + parsed.streams_count + i];
    Target target;
    EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, key, Type::kStream));
    if (c.error.has_value() && !serve) return *c.error;
    if (c.exists) {
      target.stream.emplace(ex, key, c.meta);
      EKV_KV_RETURN_IF_ERROR(target.stream->Load());
      StreamGroups groups(ex, key, c.meta);
      EKV_KV_ASSIGN_OR_RETURN(target.group, groups.Group(parsed.group));
    }
    if (!target.group.has_value() && !serve) {
      return Reply::Error(absl::StrCat("NOGROUP No such key '", key, "' or consumer group '",
                                       parsed.group, "' in XREADGROUP with GROUP option"));
    }
    if (id_text == "$") {
      return Reply::Error(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
          "history of this consumer by specifying a proper ID, or use the > ID to get new "
          "messages. The $ ID would just return an empty result set.");
    }
    if (id_text != ">") {
      std::optional<ParsedStreamId> id = ParseStreamId(id_text, 0, /*strict=*/true);
      if (!id.has_value()) return Reply::Error(kInvalidStreamIdError);
      target.after = id->id;
    }
    targets.push_back(std::move(target));
  }
  std::vector<Reply> served;
  for (size_t i = 0; i < targets.size(); ++i) {
    Target& target = targets[i];
    if (!target.stream.has_value() || !target.group.has_value()) continue;
    const std::string& key = args[parsed.streams_index + i];
    EKV_KV_ASSIGN_OR_RETURN(
        std::optional<Reply> entries,
        ServeGroup(ex, parsed, key, *target.stream, *target.group, target.after));
    if (!entries.has_value()) continue;
    served.push_back(Reply::Bulk(key));
    served.push_back(*std::move(entries));
  }
  if (served.empty()) return Reply::NilArray();
  return Reply::KeyedMap(std::move(served));
}

}  // namespace

EKV_REDIS_HANDLER(CmdXRead) { return XReadGeneric(ex, args, /*serve=*/false); }
EKV_REDIS_HANDLER(CmdServeXRead) { return XReadGeneric(ex, args, /*serve=*/true); }
EKV_REDIS_HANDLER(CmdXReadGroup) { return XReadGroupGeneric(ex, args, /*serve=*/false); }
EKV_REDIS_HANDLER(CmdServeXReadGroup) { return XReadGroupGeneric(ex, args, /*serve=*/true); }

EKV_REDIS_HANDLER(CmdXReadLast) {
  std::vector<Reply> ids;
  for (size_t i = 1; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, args[i], Type::kStream));
    if (c.error.has_value()) return *c.error;
    StreamId last;
    if (c.exists) {
      Stream stream(ex, args[i], c.meta);
      EKV_KV_RETURN_IF_ERROR(stream.Load());
      last = stream.state().last_id;
    }
    ids.push_back(Reply::Bulk(FormatStreamId(last)));
  }
  return Reply::Array(std::move(ids));
}

}  // namespace ekv::redis_core
