// XCLAIM and XAUTOCLAIM (Redis 7.0's xclaimCommand, xautoclaimCommand): pending entries
// change owner. Idle and delivery times are the group's replicated time (stream_groups.h).
// A pending entry whose stream entry was deleted is dropped from the lists as Redis drops
// it (XAUTOCLAIM answers its id in the third element).
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/numbers.h"
#include "core/redis/stream_groups.h"

namespace ekv::redis_core {
namespace {

bool IsClaimOption(absl::string_view arg, absl::string_view word) {
  return absl::EqualsIgnoreCase(arg, word);
}

Reply NoKeyOrGroup(const Args& args) {
  return Reply::Error(
      absl::StrCat("NOGROUP No such key '", args[1], "' or consumer group '", args[2], "'"));
}

// The stream and its group, or the error Redis answers.
struct ClaimTarget {
  std::optional<Reply> error;
  std::optional<Stream> stream;
  std::optional<StreamGroup> group;
};

absl::StatusOr<ClaimTarget> LoadClaimTarget(Executor& ex, const Args& args) {
  EKV_KV_ASSIGN_OR_RETURN(LoadedStream loaded, LoadStream(ex, args[1]));
  ClaimTarget out{std::move(loaded.error), std::move(loaded.stream), std::nullopt};
  if (out.error.has_value()) return out;
  if (out.stream.has_value()) {
    StreamGroups groups(ex, args[1], out.stream->meta());
    EKV_KV_ASSIGN_OR_RETURN(out.group, groups.Group(args[2]));
  }
  if (!out.group.has_value()) out.error = NoKeyOrGroup(args);
  return out;
}

// Moves `entry` to `consumer` (created on first use, as Redis does), delivered at
// `delivery_ms`, and answers the entry (or its id).
class Claimer {
 public:
  Claimer(Executor& ex, const std::string& key, Stream& stream, StreamGroup& group,
          std::string consumer)
      : ex_(ex),
        key_(key),
        stream_(stream),
        group_(group),
        groups_(ex, key, stream.meta()),
        consumer_(std::move(consumer)) {}

  StreamGroups& groups() { return groups_; }

  absl::StatusOr<bool> EntryExists(StreamId id) {
    EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> entry, stream_.Range(id, id, 1, false));
    return !entry.empty();
  }

  absl::Status Claim(PendingEntry entry, uint64_t delivery_ms, int64_t retry_count, bool justid,
                     std::vector<Reply>* out) {
    if (!consumer_ready_) {
      EKV_KV_ASSIGN_OR_RETURN(std::optional<StreamConsumer> found,
                              groups_.Consumer(group_.name, consumer_));
      StreamConsumer consumer = found.value_or(StreamConsumer{consumer_, ex_.now_ms(), 0});
      consumer.seen_ms = ex_.now_ms();
      groups_.SaveConsumer(group_.name, consumer);
      if (!found.has_value()) ex_.NoteEvent(key_, "xgroup-createconsumer");
      consumer_ready_ = true;
    }
    entry.delivery_ms = delivery_ms;
    if (retry_count >= 0) {
      entry.delivery_count = static_cast<uint64_t>(retry_count);
    } else if (!justid) {
      ++entry.delivery_count;
    }
    entry.consumer = consumer_;
    EKV_KV_RETURN_IF_ERROR(groups_.PutPending(&group_, entry));
    if (justid) {
      out->push_back(Reply::Bulk(FormatStreamId(entry.id)));
      return absl::OkStatus();
    }
    EKV_KV_ASSIGN_OR_RETURN(std::vector<StreamEntry> found,
                            stream_.Range(entry.id, entry.id, 1, false));
    out->push_back(found.empty() ? Reply::Nil()
                                 : std::move(StreamEntriesReply(found).elements.front()));
    return absl::OkStatus();
  }

 private:
  Executor& ex_;
  const std::string& key_;
  Stream& stream_;
  StreamGroup& group_;
  StreamGroups groups_;
  std::string consumer_;
  bool consumer_ready_ = false;
};

}  // namespace

// XCLAIM key group consumer min-idle-time id... [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE]
// [JUSTID] [LASTID id]
EKV_REDIS_HANDLER(CmdXClaim) {
  EKV_KV_ASSIGN_OR_RETURN(ClaimTarget target, LoadClaimTarget(ex, args));
  if (target.error.has_value()) return *target.error;
  std::optional<int64_t> min_idle = ParseInt64(args[4]);
  if (!min_idle.has_value()) return Reply::Error("ERR Invalid min-idle-time argument for XCLAIM");
  if (*min_idle < 0) min_idle = 0;
  // The ids, up to the first argument that is not one (the options follow).
  std::vector<StreamId> ids;
  size_t j = 5;
  for (; j < args.size(); ++j) {
    std::optional<ParsedStreamId> id = ParseStreamId(args[j], 0, /*strict=*/true);
    if (!id.has_value()) break;
    ids.push_back(id->id);
  }
  const int64_t now = static_cast<int64_t>(ex.now_ms());
  int64_t delivery = -1;
  int64_t retry_count = -1;
  bool force = false;
  bool justid = false;
  StreamId last_id;
  for (; j < args.size(); ++j) {
    const bool more = j + 1 < args.size();
    if (IsClaimOption(args[j], "force")) {
      force = true;
    } else if (IsClaimOption(args[j], "justid")) {
      justid = true;
    } else if (IsClaimOption(args[j], "idle") && more) {
      std::optional<int64_t> idle = ParseInt64(args[++j]);
      if (!idle.has_value()) return Reply::Error("ERR Invalid IDLE option argument for XCLAIM");
      delivery = now - *idle;
    } else if (IsClaimOption(args[j], "time") && more) {
      std::optional<int64_t> time = ParseInt64(args[++j]);
      if (!time.has_value()) return Reply::Error("ERR Invalid TIME option argument for XCLAIM");
      delivery = *time;
    } else if (IsClaimOption(args[j], "retrycount") && more) {
      std::optional<int64_t> count = ParseInt64(args[++j]);
      if (!count.has_value()) {
        return Reply::Error("ERR Invalid RETRYCOUNT option argument for XCLAIM");
      }
      retry_count = *count;
    } else if (IsClaimOption(args[j], "lastid") && more) {
      std::optional<ParsedStreamId> id = ParseStreamId(args[++j], 0, /*strict=*/true);
      if (!id.has_value()) return Reply::Error(kInvalidStreamIdError);
      last_id = id->id;
    } else {
      return Reply::Error(absl::StrCat("ERR Unrecognized XCLAIM option '", args[j], "'"));
    }
  }
  StreamGroup& group = *target.group;
  Stream& stream = *target.stream;
  bool group_changed = false;
  if (last_id > group.last_id) {
    group.last_id = last_id;
    group_changed = true;
  }
  // A bogus delivery time (negative, in the future) is now, as Redis takes it.
  if (delivery < 0 || delivery > now) delivery = now;
  Claimer claimer(ex, args[1], stream, group, args[3]);
  std::vector<Reply> out;
  for (StreamId id : ids) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<PendingEntry> pending,
                            claimer.groups().Pending(group.name, id));
    EKV_KV_ASSIGN_OR_RETURN(bool exists, claimer.EntryExists(id));
    if (!exists) {
      // The entry is gone: its pending record goes too.
      if (pending.has_value()) EKV_KV_RETURN_IF_ERROR(claimer.groups().Ack(&group, id).status());
      continue;
    }
    const bool forced = !pending.has_value();
    if (forced) {
      if (!force) continue;
      // Redis's streamCreateNACK starts a delivery count at 1 (a claim without JUSTID then
      // counts one more).
      pending = PendingEntry{id, 0, 1, ""};
    }
    if (!forced && *min_idle != 0 && now - static_cast<int64_t>(pending->delivery_ms) < *min_idle) {
      continue;
    }
    EKV_KV_RETURN_IF_ERROR(
        claimer.Claim(*pending, static_cast<uint64_t>(delivery), retry_count, justid, &out));
  }
  if (group_changed) claimer.groups().SaveGroup(group);
  return Reply::Array(std::move(out));
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
EKV_REDIS_HANDLER(CmdXAutoClaim) {
  std::optional<int64_t> min_idle = ParseInt64(args[4]);
  if (!min_idle.has_value()) {
    return Reply::Error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
  }
  if (*min_idle < 0) min_idle = 0;
  const absl::string_view start_text = args[5];
  const bool exclusive = start_text.size() > 1 && start_text[0] == '(';
  std::optional<ParsedStreamId> parsed =
      exclusive ? ParseStreamId(start_text.substr(1), 0, /*strict=*/true)
                : ParseStreamId(start_text, 0, /*strict=*/false);
  if (!parsed.has_value()) return Reply::Error(kInvalidStreamIdError);
  StreamId start = parsed->id;
  if (exclusive && !IncrStreamId(&start)) {
    return Reply::Error("ERR invalid start ID for the interval");
  }
  int64_t count = 100;
  bool justid = false;
  constexpr int64_t kAttemptsFactor = 10;
  for (size_t j = 6; j < args.size();) {
    if (IsClaimOption(args[j], "count") && j + 1 < args.size()) {
      std::optional<int64_t> value = ParseInt64(args[j + 1]);
      constexpr int64_t kMaxCount = LONG_MAX / 16;  // LONG_MAX / max(sizeof(streamID), 10)
      if (!value.has_value() || *value < 1 || *value > kMaxCount) {
        return Reply::Error("ERR COUNT must be > 0");
      }
      count = *value;
      j += 2;
    } else if (IsClaimOption(args[j], "justid")) {
      justid = true;
      ++j;
    } else {
      return SyntaxError();
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(ClaimTarget target, LoadClaimTarget(ex, args));
  if (target.error.has_value()) return *target.error;
  StreamGroup& group = *target.group;
  Claimer claimer(ex, args[1], *target.stream, group, args[3]);
  const int64_t now = static_cast<int64_t>(ex.now_ms());
  int64_t attempts = count * kAttemptsFactor;
  // The group's pending entries from `start`: at most `attempts` examined, and the one
  // after them is the next cursor.
  EKV_KV_ASSIGN_OR_RETURN(std::vector<PendingEntry> pending,
                          claimer.groups().PendingRange(group.name, nullptr, start, kMaxStreamId,
                                                        static_cast<uint64_t>(attempts) + 1));
  std::vector<Reply> claimed;
  std::vector<Reply> deleted;
  size_t next = 0;
  while (attempts > 0 && count > 0 && next < pending.size()) {
    --attempts;
    const PendingEntry& entry = pending[next++];
    EKV_KV_ASSIGN_OR_RETURN(bool exists, claimer.EntryExists(entry.id));
    if (!exists) {
      EKV_KV_RETURN_IF_ERROR(claimer.groups().Ack(&group, entry.id).status());
      deleted.push_back(Reply::Bulk(FormatStreamId(entry.id)));
      --count;
      continue;
    }
    if (*min_idle != 0 && now - static_cast<int64_t>(entry.delivery_ms) < *min_idle) continue;
    EKV_KV_RETURN_IF_ERROR(
        claimer.Claim(entry, static_cast<uint64_t>(now), /*retry_count=*/-1, justid, &claimed));
    --count;
  }
  const StreamId cursor = next < pending.size() ? pending[next].id : StreamId{};
  return Reply::Array({Reply::Bulk(FormatStreamId(cursor)), Reply::Array(std::move(claimed)),
                       Reply::Array(std::move(deleted))});
}

}  // namespace ekv::redis_core
