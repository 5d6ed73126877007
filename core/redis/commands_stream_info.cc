// XINFO STREAM [FULL [COUNT n]] and XINFO HELP (Redis 7.0's xinfoCommand). Without consumer
// groups, GROUPS and CONSUMERS answer as Redis does for a stream without them.
//
// radix-tree-keys is the stream's node count (stream_records.h); radix-tree-nodes, the
// size of Redis's radix tree, is not modelled: ekv answers keys + 1, Redis's value for a
// tree of zero or one key.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/numbers.h"
#include "core/redis/stream_records.h"

namespace ekv::redis_core {
namespace {

Reply HelpReply() {
  static const char* const kLines[] = {
      "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CONSUMERS <key> <groupname>",
      "    Show consumers of <groupname>.",
      "GROUPS <key>",
      "    Show the stream consumer groups.",
      "STREAM <key> [FULL [COUNT <count>]",
      "    Show information about the stream.",
      "HELP",
      "    Prints this help.",
  };
  std::vector<Reply> lines;
  for (const char* line : kLines) lines.push_back(Reply::Status(line));
  return Reply::Array(std::move(lines));
}

Reply SubcommandSyntaxError(const Args& args) {
  return Reply::Error(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                   absl::string_view(args[1]).substr(0, 128),
                                   "'. Try XINFO HELP."));
}

absl::StatusOr<Reply> EdgeEntry(Stream& stream, bool first) {
  EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> edge,
                          stream.Range(StreamId{}, kMaxStreamId, 1, /*reverse=*/!first));
  if (edge.empty()) return Reply::Nil();
  return std::move(StreamEntriesReply(edge).elements.front());
}

absl::StatusOr<Reply> StreamInfo(Executor& ex, const Args& args, Stream& stream) {
  bool full = false;
  int64_t count = 10;
  const size_t optc = args.size() - 3;
  if (optc != 0) {
    if ((optc != 1 && optc != 3) || !absl::EqualsIgnoreCase(args[3], "full")) {
      return SubcommandSyntaxError(args);
    }
    full = true;
    if (optc == 3) {
      if (!absl::EqualsIgnoreCase(args[4], "count")) return SubcommandSyntaxError(args);
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
  if (!full) {
    map.push_back(Reply::Bulk("groups"));
    map.push_back(Reply::Integer(0));
    map.push_back(Reply::Bulk("first-entry"));
    EKV_KV_ASSIGN_OR_RETURN(Reply first_entry, EdgeEntry(stream, true));
    map.push_back(std::move(first_entry));
    map.push_back(Reply::Bulk("last-entry"));
    EKV_KV_ASSIGN_OR_RETURN(Reply last_entry, EdgeEntry(stream, false));
    map.push_back(std::move(last_entry));
  } else {
    map.push_back(Reply::Bulk("entries"));
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<StreamEntry> entries,
        stream.Range(StreamId{}, kMaxStreamId, static_cast<uint64_t>(count), false));
    map.push_back(StreamEntriesReply(entries));
    map.push_back(Reply::Bulk("groups"));
    map.push_back(Reply::Array());
  }
  (void)ex;
  return Reply::Map(std::move(map));
}

}  // namespace

EKV_REDIS_HANDLER(CmdXInfo) {
  const std::string sub = absl::AsciiStrToLower(args[1]);
  if (sub == "help") {
    if (args.size() != 2) return SubcommandSyntaxError(args);
    return HelpReply();
  }
  const bool known = sub == "stream" || sub == "groups" || sub == "consumers";
  if (!known) {
    return Reply::Error(absl::StrCat("ERR unknown subcommand '",
                                     absl::string_view(args[1]).substr(0, 128),
                                     "'. Try XINFO HELP."));
  }
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
  if (sub == "stream") return StreamInfo(ex, args, stream);
  if (sub == "groups") return Reply::Array();
  return Reply::Error(absl::StrCat("NOGROUP No such consumer group '",
                                   absl::string_view(args[3]).substr(0, 128), "' for key name '",
                                   absl::string_view(args[2]).substr(0, 128), "'"));
}

}  // namespace ekv::redis_core
