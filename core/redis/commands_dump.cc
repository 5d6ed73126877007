// DUMP and RESTORE (rdb_payload.h): a key's value in Redis 7.0's serialization, through
// the whole-key snapshot (key_snapshot.h) both sides already share with the cross-group
// commands. RESTORE checks its arguments in Redis 7.0's order (restoreCommand, cluster.c):
// options, then BUSYKEY, then the TTL, then the payload's version and checksum, then its
// contents. ekv keeps no LRU/LFU state, so IDLETIME and FREQ are checked and ignored.
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/hash_fields.h"
#include "core/redis/key_snapshot.h"
#include "core/redis/numbers.h"
#include "core/redis/rdb_payload.h"
#include "core/redis/zset_records.h"

namespace ekv::redis_core {
namespace {

absl::StatusOr<RdbValue> ValueOf(const KeySnapshot& snapshot) {
  RdbValue value;
  value.type = snapshot.type;
  switch (snapshot.type) {
    case Type::kString:
      value.string_value = snapshot.string_value;
      break;
    case Type::kList:
    case Type::kSet:
      for (const auto& [subkey, element] : snapshot.records) {
        value.elements.push_back(snapshot.type == Type::kList ? element : subkey);
      }
      break;
    case Type::kHash: {
      EKV_KV_ASSIGN_OR_RETURN(value.pairs, HashRecordsInOrder(snapshot.meta, snapshot.records));
      if ((snapshot.meta.flags & kMetaTracked) != 0) value.compact = IsCompact(snapshot.meta);
      break;
    }
    case Type::kZset:
      if ((snapshot.meta.flags & kMetaTracked) != 0) value.compact = IsCompact(snapshot.meta);
      for (const auto& [subkey, score] : snapshot.records) {
        if (subkey.empty() || subkey[0] != kZsetMemberTag) continue;
        value.scored.emplace_back(subkey.substr(1), DecodeDouble(score));
      }
      break;
    case Type::kNone:
    case Type::kStream:  // refused by CmdDump
      return absl::InternalError("DUMP of an absent key or a stream");
  }
  return value;
}

KeySnapshot SnapshotOf(const RdbValue& value, uint64_t expire_ms) {
  KeySnapshot snapshot;
  snapshot.type = value.type;
  snapshot.expire_ms = expire_ms;
  snapshot.meta.type = value.type;
  switch (value.type) {
    case Type::kString:
      snapshot.string_value = value.string_value;
      break;
    case Type::kList: {
      snapshot.meta.head = kListStartIndex;
      uint64_t index = kListStartIndex;
      for (const std::string& element : value.elements) {
        snapshot.records.emplace_back(EncodeIndex(index++), element);
      }
      snapshot.meta.tail = index;
      snapshot.meta.size = value.elements.size();
      break;
    }
    case Type::kSet:
      for (const std::string& member : value.elements) snapshot.records.emplace_back(member, "");
      snapshot.meta.size = value.elements.size();
      break;
    case Type::kHash: {
      // Redis 7.0 loads a hash of <= 128 short fields as a listpack, in the payload's order.
      snapshot.meta.flags = kMetaTracked;
      ConvertIf(&snapshot.meta, value.pairs.size() > kMaxListpackEntries);
      for (const auto& [field, v] : value.pairs) {
        ConvertIf(&snapshot.meta, field.size() > kMaxListpackValue || v.size() > kMaxListpackValue);
      }
      for (const auto& [field, v] : value.pairs) {
        snapshot.records.emplace_back(field,
                                      EncodeHashValue(snapshot.meta, snapshot.meta.next_seq++, v));
      }
      snapshot.meta.size = value.pairs.size();
      break;
    }
    case Type::kZset:
      // A small sorted set loads as a listpack, which stores -0 as 0 (zset_records.h).
      snapshot.meta.flags = kMetaTracked;
      ConvertIf(&snapshot.meta, value.scored.size() > kMaxListpackEntries);
      for (const auto& [member, score] : value.scored) {
        ConvertIf(&snapshot.meta, member.size() > kMaxListpackValue);
      }
      for (auto [member, score] : value.scored) {
        if (IsCompact(snapshot.meta) && score == 0) score = 0.0;
        snapshot.records.emplace_back(std::string(1, kZsetMemberTag) + member, EncodeDouble(score));
        snapshot.records.emplace_back(std::string(1, kZsetOrderTag) + EncodeScore(score) + member,
                                      "");
      }
      snapshot.meta.size = value.scored.size();
      break;
    case Type::kNone:
    case Type::kStream:  // never decoded from a payload (rdb_payload.h)
      break;
  }
  return snapshot;
}

bool Is(absl::string_view arg, absl::string_view option) {
  return absl::EqualsIgnoreCase(arg, option);
}

}  // namespace

EKV_REDIS_HANDLER(CmdDump) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<KeySnapshot> snapshot, SnapshotKey(ex, args[1]));
  if (!snapshot.has_value()) return Reply::Nil();
  // Redis's stream payload (listpacks of its radix tree) is not written by ekv.
  if (snapshot->type == Type::kStream) {
    return Reply::Error("ERR DUMP of a stream is not supported by ekv");
  }
  EKV_KV_ASSIGN_OR_RETURN(RdbValue value, ValueOf(*snapshot));
  return Reply::Bulk(EncodeDumpPayload(value));
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
EKV_REDIS_HANDLER(CmdRestore) {
  bool replace = false;
  bool absttl = false;
  bool idletime = false;
  bool freq = false;
  for (size_t j = 4; j < args.size(); ++j) {
    const size_t additional = args.size() - j - 1;
    if (Is(args[j], "replace")) {
      replace = true;
    } else if (Is(args[j], "absttl")) {
      absttl = true;
    } else if (Is(args[j], "idletime") && additional >= 1 && !freq) {
      std::optional<int64_t> idle = ParseInt64(args[j + 1]);
      if (!idle.has_value()) return NotIntegerError();
      if (*idle < 0) return Reply::Error("ERR Invalid IDLETIME value, must be >= 0");
      idletime = true;
      ++j;
    } else if (Is(args[j], "freq") && additional >= 1 && !idletime) {
      std::optional<int64_t> frequency = ParseInt64(args[j + 1]);
      if (!frequency.has_value()) return NotIntegerError();
      if (*frequency < 0 || *frequency > 255) {
        return Reply::Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      }
      freq = true;
      ++j;
    } else {
      return SyntaxError();
    }
  }
  const std::string& key = args[1];
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  if (!replace && found.type != Type::kNone) {
    return Reply::Error("BUSYKEY Target key name already exists.");
  }
  std::optional<int64_t> ttl = ParseInt64(args[2]);
  if (!ttl.has_value()) return NotIntegerError();
  if (*ttl < 0) return Reply::Error("ERR Invalid TTL value, must be >= 0");
  if (!VerifyDumpPayload(args[3])) {
    return Reply::Error("ERR DUMP payload version or checksum are wrong");
  }
  absl::StatusOr<RdbValue> value = DecodeDumpPayload(args[3]);
  if (!value.ok()) return Reply::Error("ERR Bad data format");
  uint64_t expire_ms = 0;
  if (*ttl != 0) {
    const int64_t at = absttl ? *ttl : *ttl + static_cast<int64_t>(ex.now_ms());
    // Already expired (Redis: when <= now): the key is only deleted (REPLACE) and OK.
    if (at <= static_cast<int64_t>(ex.now_ms())) {
      if (found.type != Type::kNone) ex.DeleteKey(key, found);
      return Reply::Ok();
    }
    expire_ms = static_cast<uint64_t>(at);
  }
  EKV_KV_RETURN_IF_ERROR(RestoreKey(ex, key, SnapshotOf(*value, expire_ms)));
  return Reply::Ok();
}

}  // namespace ekv::redis_core
