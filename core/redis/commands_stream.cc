// Stream commands (Redis 7.0's t_stream.c): XADD, XTRIM, XLEN, XRANGE, XREVRANGE, XDEL,
// XSETID, XINFO. Entries, nodes and the stream's state are element records
// (stream_records.h); XADD touches O(1) records, XRANGE reads only the entries it answers.
// An id XADD makes from `*` comes from the group's replicated time (Executor::now_ms),
// never a node's clock, and is always above the stream's last id, as Redis's.
#include <string>
#include <utility>
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

bool IsStreamOption(absl::string_view arg, absl::string_view word) {
  return absl::EqualsIgnoreCase(arg, word);
}

Reply InvalidStreamId() { return Reply::Error(kInvalidStreamIdError); }

// XADD's and XTRIM's options (streamParseAddOrTrimArgsOrReply).
struct AddTrimArgs {
  std::optional<Reply> error;
  bool has_trim = false;
  Stream::Trim trim;
  bool no_mkstream = false;
  bool id_given = false;
  ParsedStreamId id;
  size_t id_index = 0;  // XADD: where the id (or `*`) is; args.size() when absent
};

AddTrimArgs ParseAddOrTrim(const Args& args, bool xadd) {
  AddTrimArgs out;
  int64_t limit = 0;
  bool limit_given = false;
  size_t i = 2;
  auto fail = [&](Reply reply) {
    out.error = std::move(reply);
    return out;
  };
  for (; i < args.size(); ++i) {
    const size_t more = args.size() - 1 - i;
    const std::string& opt = args[i];
    if (xadd && opt == "*") break;
    const bool maxlen = IsStreamOption(opt, "maxlen");
    if ((maxlen || IsStreamOption(opt, "minid")) && more > 0) {
      if (out.has_trim) {
        return fail(Reply::Error(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"));
      }
      out.trim.approx = false;
      if (more >= 2 && args[i + 1] == "~") {
        out.trim.approx = true;
        ++i;
      } else if (more >= 2 && args[i + 1] == "=") {
        ++i;
      }
      if (maxlen) {
        std::optional<int64_t> value = ParseInt64(args[i + 1]);
        if (!value.has_value()) return fail(NotIntegerError());
        if (*value < 0) return fail(Reply::Error("ERR The MAXLEN argument must be >= 0."));
        out.trim.by_maxlen = true;
        out.trim.maxlen = static_cast<uint64_t>(*value);
      } else {
        std::optional<ParsedStreamId> id = ParseStreamId(args[i + 1], 0, /*strict=*/true);
        if (!id.has_value()) return fail(InvalidStreamId());
        out.trim.by_maxlen = false;
        out.trim.minid = id->id;
      }
      ++i;
      out.has_trim = true;
    } else if (IsStreamOption(opt, "limit") && more > 0) {
      std::optional<int64_t> value = ParseInt64(args[i + 1]);
      if (!value.has_value()) return fail(NotIntegerError());
      if (*value < 0) return fail(Reply::Error("ERR The LIMIT argument must be >= 0."));
      limit = *value;
      limit_given = true;
      ++i;
    } else if (xadd && IsStreamOption(opt, "nomkstream")) {
      out.no_mkstream = true;
    } else if (xadd) {
      std::optional<ParsedStreamId> id =
          ParseStreamId(opt, 0, /*strict=*/true, /*allow_auto_seq=*/true);
      if (!id.has_value()) return fail(InvalidStreamId());
      out.id = *id;
      out.id_given = true;
      break;
    } else {
      return fail(SyntaxError());
    }
  }
  out.id_index = i;
  if (limit != 0 && !out.has_trim) {
    return fail(Reply::Error(
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
  }
  if (!xadd && !out.has_trim) {
    return fail(Reply::Error("ERR syntax error, XTRIM must be called with a trimming strategy"));
  }
  if (limit_given) {
    if (!out.trim.approx) {
      return fail(
          Reply::Error("ERR syntax error, LIMIT cannot be used without the special ~ option"));
    }
    out.trim.limit = static_cast<uint64_t>(limit);
  } else {
    // Redis: 100 * stream-node-max-entries for `~`, no limit for an exact trim.
    out.trim.limit = out.trim.approx ? 100 * kStreamNodeMaxEntries : 0;
  }
  return out;
}

// The stream at `key` loaded, nothing, or WRONGTYPE.
// An XRANGE bound: "-", "+", an id (a missing sequence is 0 for a start, the largest for
// an end), or "(" and an id, exclusive (streamParseIntervalIDOrReply).
struct Bound {
  StreamId id;
  bool exclusive = false;
};
std::optional<Bound> ParseBound(absl::string_view text, uint64_t missing_seq) {
  Bound bound;
  if (absl::StartsWith(text, "(") && text.size() > 1) {
    bound.exclusive = true;
    std::optional<ParsedStreamId> id = ParseStreamId(text.substr(1), missing_seq, true);
    if (!id.has_value()) return std::nullopt;
    bound.id = id->id;
    return bound;
  }
  std::optional<ParsedStreamId> id = ParseStreamId(text, missing_seq, false);
  if (!id.has_value()) return std::nullopt;
  bound.id = id->id;
  return bound;
}

absl::StatusOr<Reply> RangeGeneric(Executor& ex, const Args& args, bool reverse) {
  const std::string& start_text = reverse ? args[3] : args[2];
  const std::string& end_text = reverse ? args[2] : args[3];
  std::optional<Bound> start = ParseBound(start_text, 0);
  if (!start.has_value()) return InvalidStreamId();
  if (start->exclusive && !IncrStreamId(&start->id)) {
    return Reply::Error("ERR invalid start ID for the interval");
  }
  std::optional<Bound> end = ParseBound(end_text, UINT64_MAX);
  if (!end.has_value()) return InvalidStreamId();
  if (end->exclusive && !DecrStreamId(&end->id)) {
    return Reply::Error("ERR invalid end ID for the interval");
  }
  int64_t count = -1;
  for (size_t j = 4; j < args.size(); ++j) {
    if (IsStreamOption(args[j], "count") && j + 1 < args.size()) {
      std::optional<int64_t> value = ParseInt64(args[++j]);
      if (!value.has_value()) return NotIntegerError();
      count = *value < 0 ? 0 : *value;
    } else {
      return SyntaxError();
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, args[1]));
  if (loaded.error.has_value()) return *loaded.error;
  if (!loaded.stream.has_value()) return Reply::Array();
  if (count == 0) return Reply::NilArray();
  EKV_KV_ASSIGN_OR_RETURN(
      std::vector<StreamEntry> entries,
      loaded.stream->Range(start->id, end->id, count < 0 ? 0 : static_cast<uint64_t>(count),
                           reverse));
  return StreamEntriesReply(entries);
}

// The id XADD gives the entry (streamAppendItem's checks); nullopt when not above the
// stream's last id.
std::optional<StreamId> NewEntryId(const AddTrimArgs& parsed, StreamId last, uint64_t now_ms) {
  if (!parsed.id_given) {
    if (now_ms > last.ms) return StreamId{now_ms, 0};
    StreamId next = last;
    if (!IncrStreamId(&next)) return std::nullopt;
    return next;
  }
  if (!parsed.id.seq_given) {
    const uint64_t ms = parsed.id.id.ms;
    if (ms > last.ms) return StreamId{ms, 0};
    if (ms < last.ms || last.seq == UINT64_MAX) return std::nullopt;
    return StreamId{ms, last.seq + 1};
  }
  if (parsed.id.id <= last) return std::nullopt;
  return parsed.id.id;
}

}  // namespace

EKV_REDIS_HANDLER(CmdXAdd) {
  AddTrimArgs parsed = ParseAddOrTrim(args, /*xadd=*/true);
  if (parsed.error.has_value()) return *parsed.error;
  const size_t field_pos = parsed.id_index + 1;
  if (field_pos > args.size() || args.size() - field_pos < 2 ||
      (args.size() - field_pos) % 2 == 1) {
    return Reply::Error("ERR wrong number of arguments for 'xadd' command");
  }
  if (parsed.id_given && parsed.id.seq_given && parsed.id.id.IsZero()) {
    return Reply::Error("ERR The ID specified in XADD must be greater than 0-0");
  }
  EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, args[1], !parsed.no_mkstream));
  if (loaded.error.has_value()) return *loaded.error;
  if (!loaded.stream.has_value()) return Reply::Nil();
  Stream& stream = *loaded.stream;
  if (stream.state().last_id == kMaxStreamId) {
    return Reply::Error(
        "ERR The stream has exhausted the last possible ID, unable to add more items");
  }
  std::optional<StreamId> id = NewEntryId(parsed, stream.state().last_id, ex.now_ms());
  if (!id.has_value()) {
    return Reply::Error(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item");
  }
  EKV_KV_RETURN_IF_ERROR(
      stream.Append(*id, std::vector<std::string>(args.begin() + field_pos, args.end())));
  uint64_t trimmed = 0;
  if (parsed.has_trim) {
    EKV_KV_ASSIGN_OR_RETURN(trimmed, stream.TrimEntries(parsed.trim));
  }
  stream.Save();
  if (trimmed > 0) ex.NoteEvent(args[1], "xtrim");
  return Reply::Bulk(FormatStreamId(*id));
}

EKV_REDIS_HANDLER(CmdXTrim) {
  // Redis looks the key up before it reads the options: a missing key answers 0 whatever
  // they are.
  EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, args[1]));
  if (loaded.error.has_value()) return *loaded.error;
  if (!loaded.stream.has_value()) return Reply::Integer(0);
  AddTrimArgs parsed = ParseAddOrTrim(args, /*xadd=*/false);
  if (parsed.error.has_value()) return *parsed.error;
  EKV_KV_ASSIGN_OR_RETURN(uint64_t trimmed, loaded.stream->TrimEntries(parsed.trim));
  if (trimmed > 0) loaded.stream->Save();
  return Reply::Integer(static_cast<int64_t>(trimmed));
}

EKV_REDIS_HANDLER(CmdXLen) {
  EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, args[1], Type::kStream));
  if (c.error.has_value()) return *c.error;
  return Reply::Integer(c.exists ? static_cast<int64_t>(c.meta.size) : 0);
}

EKV_REDIS_HANDLER(CmdXRange) { return RangeGeneric(ex, args, false); }
EKV_REDIS_HANDLER(CmdXRevRange) { return RangeGeneric(ex, args, true); }

EKV_REDIS_HANDLER(CmdXDel) {
  EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, args[1]));
  if (loaded.error.has_value()) return *loaded.error;
  if (!loaded.stream.has_value()) return Reply::Integer(0);
  // Every id is checked before anything is deleted.
  std::vector<StreamId> ids;
  for (size_t j = 2; j < args.size(); ++j) {
    std::optional<ParsedStreamId> id = ParseStreamId(args[j], 0, true);
    if (!id.has_value()) return InvalidStreamId();
    ids.push_back(id->id);
  }
  Stream& stream = *loaded.stream;
  int64_t deleted = 0;
  for (StreamId id : ids) {
    EKV_KV_ASSIGN_OR_RETURN(bool removed, stream.Delete(id));
    if (!removed) continue;
    ++deleted;
    if (id > stream.state().max_deleted) stream.state().max_deleted = id;
  }
  if (deleted > 0) stream.Save();
  return Reply::Integer(deleted);
}

EKV_REDIS_HANDLER(CmdXSetId) {
  std::optional<ParsedStreamId> id = ParseStreamId(args[2], 0, true);
  if (!id.has_value()) return InvalidStreamId();
  int64_t entries_added = -1;
  StreamId max_deleted;
  for (size_t i = 3; i < args.size(); i += 2) {
    const bool more = i + 1 < args.size();
    if (IsStreamOption(args[i], "entriesadded") && more) {
      std::optional<int64_t> value = ParseInt64(args[i + 1]);
      if (!value.has_value()) return NotIntegerError();
      if (*value < 0) return Reply::Error("ERR entries_added must be positive");
      entries_added = *value;
    } else if (IsStreamOption(args[i], "maxdeletedid") && more) {
      std::optional<ParsedStreamId> parsed = ParseStreamId(args[i + 1], 0, true);
      if (!parsed.has_value()) return InvalidStreamId();
      if (id->id < parsed->id) {
        return Reply::Error(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      }
      max_deleted = parsed->id;
    } else {
      return SyntaxError();
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, args[1]));
  if (loaded.error.has_value()) return *loaded.error;
  if (!loaded.stream.has_value()) return Reply::Error("ERR no such key");
  Stream& stream = *loaded.stream;
  if (stream.length() > 0) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamId> top, stream.Edge(/*first=*/false));
    if (top.has_value() && id->id < *top) {
      return Reply::Error(
          "ERR The ID specified in XSETID is smaller than the target stream top item");
    }
    if (entries_added != -1 && stream.length() > static_cast<uint64_t>(entries_added)) {
      return Reply::Error(
          "ERR The entries_added specified in XSETID is smaller than the target stream length");
    }
  }
  if (id->id < stream.state().max_deleted) {
    return Reply::Error(
        "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id");
  }
  stream.state().last_id = id->id;
  if (entries_added != -1) stream.state().entries_added = static_cast<uint64_t>(entries_added);
  if (!max_deleted.IsZero()) stream.state().max_deleted = max_deleted;
  stream.Save(/*touch=*/false);  // Redis 7.0's XSETID leaves WATCH alone
  return Reply::Ok();
}

}  // namespace ekv::redis_core
