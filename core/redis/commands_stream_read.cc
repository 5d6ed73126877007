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

}  // namespace

EKV_REDIS_HANDLER(CmdXRead) { return XReadGeneric(ex, args, /*serve=*/false); }
EKV_REDIS_HANDLER(CmdServeXRead) { return XReadGeneric(ex, args, /*serve=*/true); }

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
