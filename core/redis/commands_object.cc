// OBJECT (ENCODING FREQ IDLETIME REFCOUNT HELP) and MOVE (Redis 7.0 objectCommand,
// moveCommand), answered from ekv's layout (layout.h):
//   ENCODING  what Redis 7.0 would pick for the value as it is now, with its default
//             thresholds: a string "int" (string2ll, at most 20 bytes), "embstr" (<= 44
//             bytes) or "raw"; a list "quicklist" (7.0's only list encoding); a set "intset"
//             (<= 512 integer members) or "hashtable"; a hash "listpack" (<= 128 entries,
//             fields and values <= 64 bytes) or "hashtable"; a sorted set "listpack"
//             (<= 128 members of <= 64 bytes) or "skiplist". Redis also keeps the
//             history (a string APPENDed to stays raw, a set never goes back to intset):
//             hashes and sorted sets record its one-way conversion (layout.h) and answer
//             by it; strings, sets and collections written before that report what the
//             value would get if written afresh. Reads at most 513 elements.
//   REFCOUNT  Redis's: 2147483647 for the shared integers 0..9999, else 1.
//   IDLETIME  seconds since the key's last write (its stamp), since ekv does not record
//             reads: Redis counts reads as accesses too.
//   FREQ      Redis's error without an LFU maxmemory-policy (ekv has none).
//   MEMORY    USAGE: an estimate from ekv's records, not Redis's allocator (Redis's own
//             figure depends on jemalloc's size classes): the key, a fixed per-key
//             overhead, and for a collection the mean size of its first SAMPLES element
//             records (default 5, 0: all) times its record count. nil for a missing key;
//             Redis's checks and words for the options. HELP as Redis's; PURGE answers OK
//             (nothing to purge); STATS, DOCTOR and MALLOC-STATS describe Redis's allocator
//             and are not served (unknown subcommand).
//   MOVE      only database 0 exists: MOVE to 0 is Redis's "same object" error, any other
//             index "DB index is out of range" (as a server with `databases 1`).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/kv/timestamp.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"
#include "core/redis/subcommand_replies.h"

namespace ekv::redis_core {
namespace {

// Redis 7.0's defaults (the listpack and intset bounds are in layout.h):
// OBJ_ENCODING_EMBSTR_SIZE_LIMIT, OBJ_SHARED_INTEGERS.
constexpr size_t kMaxEmbstr = 44;
constexpr int64_t kSharedIntegers = 10000;
constexpr int64_t kSharedRefcount = 2147483647;

std::string StringEncoding(const std::string& value) {
  if (ParseInt64(value).has_value()) return "int";
  return value.size() <= kMaxEmbstr ? "embstr" : "raw";
}

absl::StatusOr<std::string> CollectionEncoding(Executor& ex, absl::string_view key,
                                               const Meta& meta) {
  switch (meta.type) {
    case Type::kList:
      return std::string("quicklist");
    case Type::kSet: {
      if (meta.size > kMaxIntsetEntries) return std::string("hashtable");
      EKV_KV_ASSIGN_OR_RETURN(Store::Records members, ex.Elements(key, meta));
      for (const auto& [member, ignored] : members) {
        if (!ParseInt64(member).has_value()) return std::string("hashtable");
      }
      return std::string("intset");
    }
    case Type::kHash: {
      if ((meta.flags & kMetaTracked) != 0) {
        return std::string(IsCompact(meta) ? "listpack" : "hashtable");
      }
      if (meta.size > kMaxListpackEntries) return std::string("hashtable");
      EKV_KV_ASSIGN_OR_RETURN(Store::Records fields, ex.Elements(key, meta));
      for (const auto& [field, value] : fields) {
        if (field.size() > kMaxListpackValue || value.size() > kMaxListpackValue) {
          return std::string("hashtable");
        }
      }
      return std::string("listpack");
    }
    case Type::kZset: {
      if ((meta.flags & kMetaTracked) != 0) {
        return std::string(IsCompact(meta) ? "listpack" : "skiplist");
      }
      if (meta.size > kMaxListpackEntries) return std::string("skiplist");
      // The member records ('m' member -> score); the order records repeat them.
      EKV_KV_ASSIGN_OR_RETURN(Store::Records members, ex.Elements(key, meta, "m"));
      for (const auto& [subkey, ignored] : members) {
        if (subkey.empty() || subkey[0] != 'm') break;
        if (subkey.size() - 1 > kMaxListpackValue) return std::string("skiplist");
      }
      return std::string("listpack");
    }
    case Type::kStream:
      return std::string("stream");
    default:
      return absl::InternalError("OBJECT ENCODING of an unknown type");
  }
}

Reply HelpReply() {
  static const char* const kLines[] = {
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
  };
  return SubcommandHelp("OBJECT", kLines);
}

}  // namespace

EKV_REDIS_HANDLER(CmdObject) {
  const std::string sub = absl::AsciiStrToLower(args[1]);
  const bool known =
      sub == "help" || sub == "encoding" || sub == "freq" || sub == "idletime" || sub == "refcount";
  if (!known) return UnknownSubcommand("OBJECT", args[1]);
  if (args.size() != (sub == "help" ? 2u : 3u)) {
    return Reply::Error(
        absl::StrCat("ERR wrong number of arguments for 'object|", sub, "' command"));
  }
  if (sub == "help") return HelpReply();
  const std::string& key = args[2];
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  if (found.type == Type::kNone) return Reply::Nil();
  if (sub == "encoding") {
    if (found.type == Type::kString) return Reply::Bulk(StringEncoding(found.string.value));
    EKV_KV_ASSIGN_OR_RETURN(std::string encoding, CollectionEncoding(ex, key, found.meta));
    return Reply::Bulk(encoding);
  }
  if (sub == "refcount") {
    if (found.type == Type::kString) {
      const std::optional<int64_t> value = ParseInt64(found.string.value);
      if (value.has_value() && *value >= 0 && *value < kSharedIntegers) {
        return Reply::Integer(kSharedRefcount);
      }
    }
    return Reply::Integer(1);
  }
  if (sub == "freq") {
    return Reply::Error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time "
        "to adjust.");
  }
  // idletime
  EKV_KV_ASSIGN_OR_RETURN(uint64_t stamp, ex.KeyStamp(key));
  const uint64_t written_ms = kv::PhysicalMs(stamp);
  const uint64_t idle_ms = ex.now_ms() > written_ms ? ex.now_ms() - written_ms : 0;
  return Reply::Integer(static_cast<int64_t>(idle_ms / 1000));
}

namespace {

// MEMORY USAGE's fixed costs: what any key costs beside its name and value (Redis's
// dictEntry plus robj plus sds headers is of this order), and each element record beside
// its bytes.
constexpr int64_t kKeyOverhead = 48;
constexpr int64_t kElementOverhead = 16;
constexpr int64_t kDefaultSamples = 5;  // Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES

Reply MemoryHelpReply() {
  static const char* const kLines[] = {
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
  };
  return SubcommandHelp("MEMORY", kLines);
}

absl::StatusOr<Reply> MemoryUsage(Executor& ex, const Args& args) {
  int64_t samples = kDefaultSamples;
  for (size_t i = 3; i < args.size(); i += 2) {  // SAMPLES n pairs
    if (!absl::EqualsIgnoreCase(args[i], "samples") || i + 1 >= args.size()) {
      return SyntaxError();
    }
    const std::optional<int64_t> parsed = ParseInt64(args[i + 1]);
    if (!parsed.has_value()) return NotIntegerError();
    if (*parsed < 0) return SyntaxError();
    samples = *parsed == 0 ? INT64_MAX : *parsed;
  }
  const std::string& key = args[2];
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  if (found.type == Type::kNone) return Reply::Nil();
  int64_t usage = kKeyOverhead + static_cast<int64_t>(key.size());
  if (found.type == Type::kString) {
    return Reply::Integer(usage + static_cast<int64_t>(found.string.value.size()));
  }
  // A sorted set keeps two records per member (by member and by score).
  const int64_t records =
      static_cast<int64_t>(found.meta.size) * (found.meta.type == Type::kZset ? 2 : 1);
  const size_t limit = static_cast<size_t>(std::min<int64_t>(samples, records));
  EKV_KV_ASSIGN_OR_RETURN(Store::Records sampled, ex.Elements(key, found.meta, "", limit));
  if (sampled.empty()) return Reply::Integer(usage);
  int64_t bytes = 0;
  for (const auto& [subkey, value] : sampled) {
    bytes += static_cast<int64_t>(subkey.size() + value.size()) + kElementOverhead;
  }
  usage += bytes / static_cast<int64_t>(sampled.size()) * records;
  return Reply::Integer(usage);
}

}  // namespace

EKV_REDIS_HANDLER(CmdMemory) {
  const std::string sub = absl::AsciiStrToLower(args[1]);
  if (sub == "usage") {
    if (args.size() < 3) {
      return Reply::Error("ERR wrong number of arguments for 'memory|usage' command");
    }
    return MemoryUsage(ex, args);
  }
  if (sub != "help" && sub != "purge") return UnknownSubcommand("MEMORY", args[1]);
  if (args.size() != 2) {
    return Reply::Error(
        absl::StrCat("ERR wrong number of arguments for 'memory|", sub, "' command"));
  }
  if (sub == "help") return MemoryHelpReply();
  return Reply::Status("OK");
}

EKV_REDIS_HANDLER(CmdMove) {
  const std::optional<int64_t> db = ParseInt64(args[2]);
  if (!db.has_value()) return NotIntegerError();
  // getIntFromObjectOrReply's own words for a long long beyond an int.
  if (*db < INT32_MIN || *db > INT32_MAX) {
    return Reply::Error("ERR value is out of range, value must between -2147483648 and 2147483647");
  }
  if (*db != 0) return Reply::Error("ERR DB index is out of range");
  return Reply::Error("ERR source and destination objects are the same");
}

}  // namespace ekv::redis_core
