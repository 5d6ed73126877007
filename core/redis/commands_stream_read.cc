// XREAD and XREADGROUP (Redis 7.0's xreadCommand) and what a blocked one needs: the form
// its later runs take (ekv-serve-xread, ekv-serve-xreadgroup: Redis 7.0's
// serveClientsBlockedOnStreamKey, below) and `ekv-xread-last`, which resolves `$` when
// the client blocks (stream_read.h). XREAD only reads: a blocked client takes nothing
// from the stream, so every reader waiting on it is served.
//
// A woken client is answered from one stream: the front door runs the serve form with
// only the stream a write signalled (blocking.h ServeOnKey), and the serve form answers
// from the first of its streams whose last generated id passed the client's (the
// group's last delivered id for a consumer), with the entries after it, none when they
// were deleted again. A consumer's stream that is gone or holds another type answers
// -UNBLOCKED, a group that is gone -NOGROUP (Redis 7.0.15's words).
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

// A woken XREAD: the first stream (of another type: none) whose last id passed the
// client's, with the entries after the client's id.
absl::StatusOr<Reply> ServeWokenReader(Executor& ex, const Args& args, const XReadArgs& parsed) {
  for (size_t i = 0; i < parsed.streams_count; ++i) {
    const std::string& key = args[parsed.streams_index + i];
    const std::string& id_text = args[parsed.streams_index + parsed.streams_count + i];
    EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, key, Type::kStream));
    if (!c.exists) continue;
    Stream stream(ex, key, c.meta);
    EKV_KV_RETURN_IF_ERROR(stream.Load());
    // `$` was resolved when the client blocked; a `$` left means "nothing yet".
    StreamId start = stream.state().last_id;
    if (id_text != "$") {
      std::optional<ParsedStreamId> id = ParseStreamId(id_text, 0, /*strict=*/true);
      if (!id.has_value()) continue;
      start = id->id;
    }
    if (!(start < stream.state().last_id) || !IncrStreamId(&start)) continue;
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<StreamEntry> entries,
        stream.Range(start, kMaxStreamId, static_cast<uint64_t>(parsed.count), false));
    return Reply::KeyedMap({Reply::Bulk(key), StreamEntriesReply(entries)});
  }
  return Reply::NilArray();
}

absl::StatusOr<Reply> XReadGeneric(Executor& ex, const Args& args, bool serve) {
  XReadArgs parsed = ParseXRead(args, ex.called_from_script());
  if (parsed.error.has_value()) return *parsed.error;
  if (serve) return ServeWokenReader(ex, args, parsed);
  // The ids, checked key by key as Redis does (a key of another type answers WRONGTYPE
  // before a later bad id).
  std::vector<std::optional<Stream>> streams;
  std::vector<StreamId> after;
  for (size_t i = 0; i < parsed.streams_count; ++i) {
    const std::string& key = args[parsed.streams_index + i];
    const std::string& id_text = args[parsed.streams_index + parsed.streams_count + i];
    EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, key));
    if (loaded.error.has_value()) return *loaded.error;
    std::optional<Stream>& stream = loaded.stream;
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
    if (!streams[i].has_value()) ex.NoteMiss(args[parsed.streams_index + i]);
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
// the group's new entries (`>`), delivered and recorded pending unless NOACK. `woken`: a
// blocked consumer's turn, which the caller found due (the stream's last id passed the
// group's), answered even when those entries are gone.
absl::StatusOr<std::optional<Reply>> ServeGroup(Executor& ex, const XReadArgs& parsed,
                                                const std::string& key, Stream& stream,
                                                StreamGroup& group, std::optional<StreamId> after,
                                                bool woken = false) {
  StreamGroups groups(ex, key, stream.meta());
  EKV_KV_ASSIGN_OR_RETURN(StreamFacts facts, FactsOf(stream));
  if (!after.has_value() && !woken) {
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

// A woken consumer: the first of its streams whose last id passed the group's (those
// before it checked: a stream gone, or a group gone, answers an error).
absl::StatusOr<Reply> ServeWokenConsumer(Executor& ex, const Args& args, const XReadArgs& parsed) {
  for (size_t i = 0; i < parsed.streams_count; ++i) {
    const std::string& key = args[parsed.streams_index + i];
    EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, key, Type::kStream));
    if (!c.exists) return Reply::Error("UNBLOCKED the stream key no longer exists");
    Stream stream(ex, key, c.meta);
    EKV_KV_RETURN_IF_ERROR(stream.Load());
    StreamGroups groups(ex, key, c.meta);
    EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamGroup> group, groups.Group(parsed.group));
    if (!group.has_value()) {
      return Reply::Error("NOGROUP the consumer group this client was blocked on no longer exists");
    }
    // A consumer blocks only when every id is `>` (a history read answers at once).
    if (args[parsed.streams_index + parsed.streams_count + i] != ">") continue;
    if (!(group->last_id < stream.state().last_id)) continue;
    EKV_KV_ASSIGN_OR_RETURN(
        std::optional<Reply> entries,
        ServeGroup(ex, parsed, key, stream, *group, std::nullopt, /*woken=*/true));
    if (!entries.has_value()) continue;
    return Reply::KeyedMap({Reply::Bulk(key), *std::move(entries)});
  }
  return Reply::NilArray();
}

// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...
absl::StatusOr<Reply> XReadGroupGeneric(Executor& ex, const Args& args, bool serve) {
  XReadArgs parsed = ParseXRead(args, ex.called_from_script());
  if (parsed.error.has_value()) return *parsed.error;
  if (serve) return ServeWokenConsumer(ex, args, parsed);
  struct Target {
    std::optional<Stream> stream;
    std::optional<StreamGroup> group;
    std::optional<StreamId> after;  // nullopt: `>`
  };
  std::vector<Target> targets;
  for (size_t i = 0; i < parsed.streams_count; ++i) {
    const std::string& key = args[parsed.streams_index + i];
    const std::string& id_text = args[parsed.streams_index + parsed.streams_count + i];
    EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, key));
    if (loaded.error.has_value()) return *loaded.error;
    Target target{std::move(loaded.stream), std::nullopt, std::nullopt};
    if (target.stream.has_value()) {
      StreamGroups groups(ex, key, target.stream->meta());
      EKV_KV_ASSIGN_OR_RETURN(target.group, groups.Group(parsed.group));
    }
    if (!target.group.has_value()) {
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
