// XINFO STREAM [FULL [COUNT n]], GROUPS, CONSUMERS and HELP (Redis 7.0's xinfoCommand).
// Idle times are the group's replicated time minus the recorded one (stream_groups.h).
//
// radix-tree-keys is the stream's node count (stream_records.h); radix-tree-nodes, the
// size of Redis's radix tree, is not modelled: ekv answers keys + 1, Redis's value for a
// tree of zero or one key.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/numbers.h"
#include "core/redis/stream_groups.h"
#include "core/redis/stream_records.h"
#include "core/redis/subcommand_replies.h"

namespace ekv::redis_core {
namespace {

Reply XInfoHelp() {
  static const char* const kLines[] = {
      "CONSUMERS <key> <groupname>",
      "    Show consumers of <groupname>.",
      "GROUPS <key>",
      "    Show the stream consumer groups.",
      "STREAM <key> [FULL [COUNT <count>]",
      "    Show information about the stream.",
  };
  return SubcommandHelp("XINFO", kLines);
}

// `fields` followed by the group's read position, the same three fields in XINFO GROUPS
// and STREAM FULL (Redis 7.0): last-delivered-id, entries-read (nil when the group's counter
// is not known) and lag (nil when it cannot be computed, GroupLag).
std::vector<Reply> WithReadPosition(std::vector<Reply> fields, const StreamFacts& facts,
                                    const StreamGroup& group) {
  const std::optional<int64_t> lag = GroupLag(facts, group);
  fields.push_back(Reply::Bulk("last-delivered-id"));
  fields.push_back(Reply::Bulk(FormatStreamId(group.last_id)));
  fields.push_back(Reply::Bulk("entries-read"));
  fields.push_back(group.entries_read == kInvalidEntriesRead ? Reply::Nil()
                                                             : Reply::Integer(group.entries_read));
  fields.push_back(Reply::Bulk("lag"));
  fields.push_back(lag.has_value() ? Reply::Integer(*lag) : Reply::Nil());
  return fields;
}

Reply XInfoSyntaxError(const Args& args) { return SubcommandSyntaxError("XINFO", args[1]); }

absl::StatusOr<Reply> XInfoEdgeEntry(Stream& stream, bool first) {
  EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> edge,
                          stream.Range(StreamId{}, kMaxStreamId, 1, /*reverse=*/!first));
  if (edge.empty()) return Reply::Nil();
  return std::move(StreamEntriesReply(edge).elements.front());
}

absl::StatusOr<Reply> XInfoStream(Executor& ex, const Args& args, Stream& stream) {
  bool full = false;
  int64_t count = 10;
  const size_t optc = args.size() - 3;
  if (optc != 0) {
    if ((optc != 1 && optc != 3) || !absl::EqualsIgnoreCase(args[3], "full")) {
      return XInfoSyntaxError(args);
    }
    full = true;
    if (optc == 3) {
      if (!absl::EqualsIgnoreCase(args[4], "count")) return XInfoSyntaxError(args);
      std::optional<int64_t> value = ParseInt64(args[5]);
      if (!value.has_value()) return NotIntegerError();
      count = *value < 0 ? 10 : *value;
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(uint64_t nodes, stream.NodeCount());
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamId> first, stream.Edge(/*first=*/true));
  const StreamState& state = stream.state();
  std::vector<Reply> map = {
      Reply::Bulk("length"),
      Reply::Integer(static_cast<int64_t>(stream.length())),
      Reply::Bulk("radix-tree-keys"),
      Reply::Integer(static_cast<int64_t>(nodes)),
      Reply::Bulk("radix-tree-nodes"),
      Reply::Integer(static_cast<int64_t>(nodes + 1)),
      Reply::Bulk("last-generated-id"),
      Reply::Bulk(FormatStreamId(state.last_id)),
      Reply::Bulk("max-deleted-entry-id"),
      Reply::Bulk(FormatStreamId(state.max_deleted)),
      Reply::Bulk("entries-added"),
      Reply::Integer(static_cast<int64_t>(state.entries_added)),
      Reply::Bulk("recorded-first-entry-id"),
      Reply::Bulk(FormatStreamId(first.value_or(StreamId{}))),
  };
  StreamGroups groups(ex, args[2], stream.meta());
  EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamGroup> all_groups, groups.AllGroups());
  if (!full) {
    map.push_back(Reply::Bulk("groups"));
    map.push_back(Reply::Integer(static_cast<int64_t>(all_groups.size())));
    map.push_back(Reply::Bulk("first-entry"));
    EKV_KV_ASSIGN_OR_RETURN(Reply first_entry, XInfoEdgeEntry(stream, true));
    map.push_back(std::move(first_entry));
    map.push_back(Reply::Bulk("last-entry"));
    EKV_KV_ASSIGN_OR_RETURN(Reply last_entry, XInfoEdgeEntry(stream, false));
    map.push_back(std::move(last_entry));
  } else {
    map.push_back(Reply::Bulk("entries"));
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<StreamEntry> entries,
        stream.Range(StreamId{}, kMaxStreamId, static_cast<uint64_t>(count), false));
    map.push_back(StreamEntriesReply(entries));
    map.push_back(Reply::Bulk("groups"));
    EKV_KV_ASSIGN_OR_RETURN(StreamFacts facts, FactsOf(stream));
    std::vector<Reply> group_replies;
    const uint64_t limit = static_cast<uint64_t>(count);
    for (const StreamGroup& group : all_groups) {
      EKV_KV_ASSIGN_OR_RETURN(
          std::vector<PendingEntry> pending,
          groups.PendingRange(group.name, nullptr, StreamId{}, kMaxStreamId, limit));
      std::vector<Reply> pending_replies;
      for (const PendingEntry& entry : pending) {
        pending_replies.push_back(
            Reply::Array({Reply::Bulk(FormatStreamId(entry.id)), Reply::Bulk(entry.consumer),
                          Reply::Integer(static_cast<int64_t>(entry.delivery_ms)),
                          Reply::Integer(static_cast<int64_t>(entry.delivery_count))}));
      }
      EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamConsumer> consumers, groups.Consumers(group.name));
      std::vector<Reply> consumer_replies;
      for (const StreamConsumer& consumer : consumers) {
        EKV_KV_ASSIGN_OR_RETURN(
            std::vector<PendingEntry> own,
            groups.PendingRange(group.name, &consumer.name, StreamId{}, kMaxStreamId, limit));
        std::vector<Reply> own_replies;
        for (const PendingEntry& entry : own) {
          own_replies.push_back(
              Reply::Array({Reply::Bulk(FormatStreamId(entry.id)),
                            Reply::Integer(static_cast<int64_t>(entry.delivery_ms)),
                            Reply::Integer(static_cast<int64_t>(entry.delivery_count))}));
        }
        consumer_replies.push_back(Reply::Map({
            Reply::Bulk("name"),
            Reply::Bulk(consumer.name),
            Reply::Bulk("seen-time"),
            Reply::Integer(static_cast<int64_t>(consumer.seen_ms)),
            Reply::Bulk("pel-count"),
            Reply::Integer(static_cast<int64_t>(consumer.pending)),
            Reply::Bulk("pending"),
            Reply::Array(std::move(own_replies)),
        }));
      }
      std::vector<Reply> fields =
          WithReadPosition({Reply::Bulk("name"), Reply::Bulk(group.name)}, facts, group);
      fields.push_back(Reply::Bulk("pel-count"));
      fields.push_back(Reply::Integer(static_cast<int64_t>(group.pending)));
      fields.push_back(Reply::Bulk("pending"));
      fields.push_back(Reply::Array(std::move(pending_replies)));
      fields.push_back(Reply::Bulk("consumers"));
      fields.push_back(Reply::Array(std::move(consumer_replies)));
      group_replies.push_back(Reply::Map(std::move(fields)));
    }
    map.push_back(Reply::Array(std::move(group_replies)));
  }
  return Reply::Map(std::move(map));
}

}  // namespace

EKV_REDIS_HANDLER(CmdXInfo) {
  const std::string sub = absl::AsciiStrToLower(args[1]);
  if (sub == "help") {
    if (args.size() != 2) return XInfoSyntaxError(args);
    return XInfoHelp();
  }
  const bool known = sub == "stream" || sub == "groups" || sub == "consumers";
  if (!known) return UnknownSubcommand("XINFO", args[1]);
  const int arity = sub == "stream" ? -3 : sub == "groups" ? 3 : 4;
  const int argc = static_cast<int>(args.size());
  if (arity > 0 ? argc != arity : argc < -arity) {
    return Reply::Error(
        absl::StrCat("ERR wrong number of arguments for 'xinfo|", sub, "' command"));
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, args[2], Type::kStream));
  if (c.error.has_value()) return *c.error;
  if (!c.exists) return Reply::Error("ERR no such key");
  Stream stream(ex, args[2], c.meta);
  EKV_KV_RETURN_IF_ERROR(stream.Load());
  if (sub == "stream") return XInfoStream(ex, args, stream);
  StreamGroups groups(ex, args[2], c.meta);
  if (sub == "groups") {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamGroup> all, groups.AllGroups());
    EKV_KV_ASSIGN_OR_RETURN(StreamFacts facts, FactsOf(stream));
    std::vector<Reply> out;
    for (const StreamGroup& group : all) {
      EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamConsumer> consumers, groups.Consumers(group.name));
      std::vector<Reply> fields = {
          Reply::Bulk("name"),      Reply::Bulk(group.name),
          Reply::Bulk("consumers"), Reply::Integer(static_cast<int64_t>(consumers.size())),
          Reply::Bulk("pending"),   Reply::Integer(static_cast<int64_t>(group.pending)),
      };
      out.push_back(Reply::Map(WithReadPosition(std::move(fields), facts, group)));
    }
    return Reply::Array(std::move(out));
  }
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamGroup> group, groups.Group(args[3]));
  if (!group.has_value()) {
    return Reply::Error(absl::StrCat("NOGROUP No such consumer group '", args[3],
                                     "' for key name '", args[2], "'"));
  }
  EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamConsumer> consumers, groups.Consumers(group->name));
  std::vector<Reply> out;
  for (const StreamConsumer& consumer : consumers) {
    const int64_t idle = static_cast<int64_t>(ex.now_ms()) - static_cast<int64_t>(consumer.seen_ms);
    out.push_back(Reply::Map({
        Reply::Bulk("name"),
        Reply::Bulk(consumer.name),
        Reply::Bulk("pending"),
        Reply::Integer(static_cast<int64_t>(consumer.pending)),
        Reply::Bulk("idle"),
        Reply::Integer(idle < 0 ? 0 : idle),
    }));
  }
  return Reply::Array(std::move(out));
}

}  // namespace ekv::redis_core
