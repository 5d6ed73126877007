// Consumer groups (Redis 7.0's xgroupCommand, xackCommand, xpendingCommand). Group,
// consumer and pending records: stream_groups.h. Idle times are the group's replicated
// time minus the recorded delivery time.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/numbers.h"
#include "core/redis/stream_groups.h"
#include "core/redis/subcommand_replies.h"

namespace ekv::redis_core {
namespace {

bool IsGroupOption(absl::string_view arg, absl::string_view word) {
  return absl::EqualsIgnoreCase(arg, word);
}

Reply XGroupSyntaxError(const Args& args) { return SubcommandSyntaxError("XGROUP", args[1]); }

Reply NoGroup(absl::string_view group, absl::string_view key) {
  return Reply::Error(
      absl::StrCat("NOGROUP No such consumer group '", group, "' for key name '", key, "'"));
}

Reply XGroupHelp() {
  static const char* const kLines[] = {
      "CREATE <key> <groupname> <id|$> [option]",
      "    Create a new consumer group. Options are:",
      "    * MKSTREAM",
      "      Create the empty stream if it does not exist.",
      "    * ENTRIESREAD entries_read",
      "      Set the group's entries_read counter (internal use).",
      "CREATECONSUMER <key> <groupname> <consumer>",
      "    Create a new consumer in the specified group.",
      "DELCONSUMER <key> <groupname> <consumer>",
      "    Remove the specified consumer.",
      "DESTROY <key> <groupname>",
      "    Remove the specified group.",
      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
      "    Set the current group ID and entries_read counter.",
  };
  return SubcommandHelp("XGROUP", kLines);
}

}  // namespace

EKV_REDIS_HANDLER(CmdXGroup) {
  const std::string sub = absl::AsciiStrToLower(args[1]);
  const bool known = sub == "help" || sub == "create" || sub == "setid" || sub == "destroy" ||
                     sub == "createconsumer" || sub == "delconsumer";
  if (!known) return UnknownSubcommand("XGROUP", args[1]);
  const int arity = sub == "help"      ? 2
                    : sub == "destroy" ? 4
                    : sub == "create"  ? -5
                    : sub == "setid"   ? -5
                                       : 5;
  const int argc = static_cast<int>(args.size());
  if (arity > 0 ? argc != arity : argc < -arity) {
    return Reply::Error(
        absl::StrCat("ERR wrong number of arguments for 'xgroup|", sub, "' command"));
  }
  if (sub == "help") return XGroupHelp();
  bool mkstream = false;
  int64_t entries_read = kInvalidEntriesRead;
  if (sub == "create" || sub == "setid") {
    for (size_t i = 5; i < args.size();) {
      if (sub == "create" && IsGroupOption(args[i], "mkstream")) {
        mkstream = true;
        ++i;
      } else if (IsGroupOption(args[i], "entriesread") && i + 1 < args.size()) {
        std::optional<int64_t> value = ParseInt64(args[i + 1]);
        if (!value.has_value()) return NotIntegerError();
        if (*value < 0 && *value != kInvalidEntriesRead) {
          return Reply::Error("ERR value for ENTRIESREAD must be positive or -1");
        }
        entries_read = *value;
        i += 2;
      } else {
        return XGroupSyntaxError(args);
      }
    }
  }
  const std::string& key = args[2];
  const std::string& name = args[3];
  EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, key));
  if (loaded.error.has_value()) return *loaded.error;
  std::optional<Stream>& stream = loaded.stream;
  std::optional<StreamGroups> groups;
  std::optional<StreamGroup> group;
  if (stream.has_value()) {
    groups.emplace(ex, key, stream->meta());
    EKV_KV_ASSIGN_OR_RETURN(group, groups->Group(name));
  }
  if (!mkstream) {
    if (!stream.has_value()) {
      return Reply::Error(
          "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
          "want to use the MKSTREAM option to create an empty stream automatically.");
    }
    if (!group.has_value() && (sub == "setid" || sub == "createconsumer" || sub == "delconsumer")) {
      return NoGroup(name, key);
    }
  }
  if (sub == "create") {
    if (args.size() > 8) return XGroupSyntaxError(args);
    StreamId id;
    if (args[4] == "$") {
      if (stream.has_value()) id = stream->state().last_id;
    } else {
      std::optional<ParsedStreamId> parsed = ParseStreamId(args[4], 0, /*strict=*/true);
      if (!parsed.has_value()) return Reply::Error(kInvalidStreamIdError);
      id = parsed->id;
    }
    const bool created = !stream.has_value();
    if (created) {
      stream.emplace(ex, key, ex.NewMeta(Type::kStream));
      groups.emplace(ex, key, stream->meta());
    }
    if (group.has_value()) return Reply::Error("BUSYGROUP Consumer Group name already exists");
    groups->SaveGroup(StreamGroup{name, id, entries_read, 0});
    // Redis 7.0 signals a modified key (WATCH) only for the stream MKSTREAM made, and for
    // no other XGROUP subcommand.
    stream->Save(/*touch=*/created);
    return Reply::Ok();
  }
  if (sub == "setid") {
    if (args.size() != 5 && args.size() != 7) return XGroupSyntaxError(args);
    StreamId id = stream->state().last_id;
    if (args[4] != "$") {
      std::optional<ParsedStreamId> parsed = ParseStreamId(args[4], 0, /*strict=*/false);
      if (!parsed.has_value()) return Reply::Error(kInvalidStreamIdError);
      id = parsed->id;
    }
    group->last_id = id;
    group->entries_read = entries_read;
    groups->SaveGroup(*group);
    stream->Save(/*touch=*/false);
    return Reply::Ok();
  }
  if (sub == "destroy") {
    if (!group.has_value()) return Reply::Integer(0);
    EKV_KV_RETURN_IF_ERROR(groups->DestroyGroup(*group));
    stream->Save(/*touch=*/false);
    return Reply::Integer(1);
  }
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamConsumer> consumer, groups->Consumer(name, args[4]));
  if (sub == "createconsumer") {
    if (consumer.has_value()) return Reply::Integer(0);
    groups->SaveConsumer(name, StreamConsumer{args[4], ex.now_ms(), 0});
    stream->Save(/*touch=*/false);
    return Reply::Integer(1);
  }
  // delconsumer
  if (!consumer.has_value()) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(uint64_t pending, groups->DeleteConsumer(&*group, *consumer));
  stream->Save(/*touch=*/false);
  return Reply::Integer(static_cast<int64_t>(pending));
}

EKV_REDIS_HANDLER(CmdXAck) {
  EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, args[1], Type::kStream));
  if (c.error.has_value()) return *c.error;
  if (!c.exists) return Reply::Integer(0);
  StreamGroups groups(ex, args[1], c.meta);
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamGroup> group, groups.Group(args[2]));
  if (!group.has_value()) return Reply::Integer(0);
  // Every id is checked before anything is acknowledged.
  std::vector<StreamId> ids;
  for (size_t j = 3; j < args.size(); ++j) {
    std::optional<ParsedStreamId> id = ParseStreamId(args[j], 0, /*strict=*/true);
    if (!id.has_value()) return Reply::Error(kInvalidStreamIdError);
    ids.push_back(id->id);
  }
  int64_t acked = 0;
  for (StreamId id : ids) {
    EKV_KV_ASSIGN_OR_RETURN(bool removed, groups.Ack(&*group, id));
    if (removed) ++acked;
  }
  return Reply::Integer(acked);
}

EKV_REDIS_HANDLER(CmdXPending) {
  const bool summary = args.size() == 3;
  if (!summary && (args.size() < 6 || args.size() > 9)) return SyntaxError();
  int64_t count = 0;
  int64_t min_idle = 0;
  StreamId start;
  StreamId end;
  const std::string* consumer_name = nullptr;
  if (!summary) {
    size_t at = 3;
    if (IsGroupOption(args[3], "idle")) {
      std::optional<int64_t> idle = ParseInt64(args[4]);
      if (!idle.has_value()) return NotIntegerError();
      min_idle = *idle;
      if (args.size() < 8) return SyntaxError();
      at += 2;
    }
    std::optional<int64_t> parsed_count = ParseInt64(args[at + 2]);
    if (!parsed_count.has_value()) return NotIntegerError();
    count = *parsed_count < 0 ? 0 : *parsed_count;
    auto bound = [](absl::string_view text, uint64_t missing_seq, bool* exclusive) {
      *exclusive = text.size() > 1 && text[0] == '(';
      return *exclusive ? ParseStreamId(text.substr(1), missing_seq, /*strict=*/true)
                        : ParseStreamId(text, missing_seq, /*strict=*/false);
    };
    bool exclusive = false;
    std::optional<ParsedStreamId> lo = bound(args[at], 0, &exclusive);
    if (!lo.has_value()) return Reply::Error(kInvalidStreamIdError);
    start = lo->id;
    if (exclusive && !IncrStreamId(&start)) {
      return Reply::Error("ERR invalid start ID for the interval");
    }
    std::optional<ParsedStreamId> hi = bound(args[at + 1], UINT64_MAX, &exclusive);
    if (!hi.has_value()) return Reply::Error(kInvalidStreamIdError);
    end = hi->id;
    if (exclusive && !DecrStreamId(&end))
      return Reply::Error("ERR invalid end ID for the interval");
    if (at + 3 < args.size()) consumer_name = &args[at + 3];
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, args[1], Type::kStream));
  if (c.error.has_value()) return *c.error;
  std::optional<StreamGroup> group;
  std::optional<StreamGroups> groups;
  if (c.exists) {
    groups.emplace(ex, args[1], c.meta);
    EKV_KV_ASSIGN_OR_RETURN(group, groups->Group(args[2]));
  }
  if (!group.has_value()) {
    return Reply::Error(
        absl::StrCat("NOGROUP No such key '", args[1], "' or consumer group '", args[2], "'"));
  }
  if (summary) {
    if (group->pending == 0) {
      return Reply::Array({Reply::Integer(0), Reply::Nil(), Reply::Nil(), Reply::NilArray()});
    }
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<PendingEntry> first,
        groups->PendingRange(group->name, nullptr, StreamId{}, kMaxStreamId, 1));
    EKV_KV_ASSIGN_OR_RETURN(StreamId last, groups->LastPending(group->name));
    // The consumers with pending entries, in name order, each count as a bulk string.
    EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamConsumer> consumers, groups->Consumers(group->name));
    std::vector<Reply> owners;
    for (const StreamConsumer& consumer : consumers) {
      if (consumer.pending == 0) continue;
      owners.push_back(
          Reply::Array({Reply::Bulk(consumer.name), Reply::Bulk(absl::StrCat(consumer.pending))}));
    }
    return Reply::Array({Reply::Integer(static_cast<int64_t>(group->pending)),
                         Reply::Bulk(FormatStreamId(first.front().id)),
                         Reply::Bulk(FormatStreamId(last)), Reply::Array(std::move(owners))});
  }
  if (consumer_name != nullptr) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamConsumer> consumer,
                            groups->Consumer(group->name, *consumer_name));
    if (!consumer.has_value()) return Reply::Array();
  }
  std::vector<Reply> out;
  // IDLE filters within the range: read pages until `count` entries pass or none is left.
  StreamId from = start;
  while (static_cast<int64_t>(out.size()) < count) {
    const uint64_t wanted = static_cast<uint64_t>(count) - out.size();
    EKV_KV_ASSIGN_OR_RETURN(std::vector<PendingEntry> page,
                            groups->PendingRange(group->name, consumer_name, from, end, wanted));
    for (const PendingEntry& entry : page) {
      const int64_t idle =
          static_cast<int64_t>(ex.now_ms()) - static_cast<int64_t>(entry.delivery_ms);
      if (min_idle != 0 && idle < min_idle) continue;
      out.push_back(Reply::Array({Reply::Bulk(FormatStreamId(entry.id)),
                                  Reply::Bulk(entry.consumer), Reply::Integer(idle < 0 ? 0 : idle),
                                  Reply::Integer(static_cast<int64_t>(entry.delivery_count))}));
    }
    if (page.size() < wanted) break;  // the range is exhausted
    from = page.back().id;
    if (!IncrStreamId(&from)) break;
  }
  return Reply::Array(std::move(out));
}

}  // namespace ekv::redis_core
