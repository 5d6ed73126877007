#include "core/redis/executor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/redis/numbers.h"
#include "core/redis/stream_read.h"
#include "core/util/assert.h"

namespace ekv::redis_core {
namespace {

std::vector<CommandInfo> BuildTable() {
  // name, arity, write, first key, last key, step, handler (Redis 7.0's COMMAND values).
  std::vector<CommandInfo> table = {
      {"append", 3, true, 1, 1, 1, &CmdAppend},
      {"bitcount", -2, false, 1, 1, 1, &CmdBitCount},
      {"bitfield", -2, true, 1, 1, 1, &CmdBitfield},
      {"bitfield_ro", -2, false, 1, 1, 1, &CmdBitfieldRo},
      {"bitop", -4, true, 2, -1, 1, &CmdBitOp},
      {"bitpos", -3, false, 1, 1, 1, &CmdBitPos},
      {"blmove", 6, true, 1, 2, 1, &CmdBLMove},
      {"blmpop", -5, true, 0, 0, 0, &CmdBLMPop, 2},
      {"blpop", -3, true, 1, -2, 1, &CmdBLPop},
      {"brpop", -3, true, 1, -2, 1, &CmdBRPop},
      {"brpoplpush", 4, true, 1, 2, 1, &CmdBRPopLPush},
      {"bzmpop", -5, true, 0, 0, 0, &CmdBZMPop, 2},
      {"bzpopmax", -3, true, 1, -2, 1, &CmdBZPopMax},
      {"bzpopmin", -3, true, 1, -2, 1, &CmdBZPopMin},
      {"copy", -3, true, 1, 2, 1, &CmdCopy},
      {"decr", 2, true, 1, 1, 1, &CmdDecr},
      {"decrby", 3, true, 1, 1, 1, &CmdDecrBy},
      {"del", -2, true, 1, -1, 1, &CmdDel},
      {"dump", 2, false, 1, 1, 1, &CmdDump},
      {"echo", 2, false, 0, 0, 0, &CmdEcho},
      {"ekv-functions-cas", 4, true, 1, 1, 1, &CmdFunctionsCas},
      {"ekv-keys", 7, false, 0, 0, 0, &CmdKeyspace},
      {"ekv-restore", -2, true, 1, 1, 1, &CmdRestoreSnapshot},
      // A blocked client's later runs (blocking.h ServeFormOf): the plain forms' arity
      // and keys.
      {"ekv-serve-blmove", 6, true, 1, 2, 1, &CmdServeBLMove},
      {"ekv-serve-blmpop", -5, true, 0, 0, 0, &CmdServeBLMPop, 2},
      {"ekv-serve-blpop", -3, true, 1, -2, 1, &CmdServeBLPop},
      {"ekv-serve-brpop", -3, true, 1, -2, 1, &CmdServeBRPop},
      {"ekv-serve-brpoplpush", 4, true, 1, 2, 1, &CmdServeBRPopLPush},
      {"ekv-serve-bzmpop", -5, true, 0, 0, 0, &CmdServeBZMPop, 2},
      {"ekv-serve-bzpopmax", -3, true, 1, -2, 1, &CmdServeBZPopMax},
      {"ekv-serve-bzpopmin", -3, true, 1, -2, 1, &CmdServeBZPopMin},
      {"ekv-serve-xread", -4, false, 0, 0, 0, &CmdServeXRead, 0, &XReadKeys},
      {"ekv-serve-xreadgroup", -7, true, 0, 0, 0, &CmdServeXReadGroup, 0, &XReadKeys},
      {"ekv-snapshot", 2, false, 1, 1, 1, &CmdSnapshot},
      {"ekv-stamp", 2, false, 1, 1, 1, &CmdStamp},
      {"ekv-xread-last", -2, false, 1, -1, 1, &CmdXReadLast},
      {"exists", -2, false, 1, -1, 1, &CmdExists},
      {"expire", -3, true, 1, 1, 1, &CmdExpire},
      {"expireat", -3, true, 1, 1, 1, &CmdExpireAt},
      {"expiretime", 2, false, 1, 1, 1, &CmdExpireTime},
      {"get", 2, false, 1, 1, 1, &CmdGet},
      {"geoadd", -5, true, 1, 1, 1, &CmdGeoAdd},
      {"geodist", -4, false, 1, 1, 1, &CmdGeoDist},
      {"geohash", -2, false, 1, 1, 1, &CmdGeoHash},
      {"geopos", -2, false, 1, 1, 1, &CmdGeoPos},
      {"georadius", -6, true, 1, 1, 1, &CmdGeoRadius, 0, &GeoRadiusKeys},
      {"georadius_ro", -6, false, 1, 1, 1, &CmdGeoRadiusRo},
      {"georadiusbymember", -5, true, 1, 1, 1, &CmdGeoRadiusByMember, 0, &GeoRadiusKeys},
      {"georadiusbymember_ro", -5, false, 1, 1, 1, &CmdGeoRadiusByMemberRo},
      {"geosearch", -7, false, 1, 1, 1, &CmdGeoSearch},
      {"geosearchstore", -8, true, 1, 2, 1, &CmdGeoSearchStore},
      {"getbit", 3, false, 1, 1, 1, &CmdGetBit},
      {"getdel", 2, true, 1, 1, 1, &CmdGetDel},
      {"getex", -2, true, 1, 1, 1, &CmdGetEx},
      {"getrange", 4, false, 1, 1, 1, &CmdGetRange},
      {"getset", 3, true, 1, 1, 1, &CmdGetSet},
      {"hdel", -3, true, 1, 1, 1, &CmdHDel},
      {"hexists", 3, false, 1, 1, 1, &CmdHExists},
      {"hget", 3, false, 1, 1, 1, &CmdHGet},
      {"hgetall", 2, false, 1, 1, 1, &CmdHGetAll},
      {"hincrby", 4, true, 1, 1, 1, &CmdHIncrBy},
      {"hincrbyfloat", 4, true, 1, 1, 1, &CmdHIncrByFloat},
      {"hkeys", 2, false, 1, 1, 1, &CmdHKeys},
      {"hrandfield", -2, false, 1, 1, 1, &CmdHRandField},
      {"hlen", 2, false, 1, 1, 1, &CmdHLen},
      {"hmget", -3, false, 1, 1, 1, &CmdHMGet},
      {"hmset", -4, true, 1, 1, 1, &CmdHMSet},
      {"hscan", -3, false, 1, 1, 1, &CmdHScan},
      {"hset", -4, true, 1, 1, 1, &CmdHSet},
      {"hsetnx", 4, true, 1, 1, 1, &CmdHSetNx},
      {"hstrlen", 3, false, 1, 1, 1, &CmdHStrlen},
      {"hvals", 2, false, 1, 1, 1, &CmdHVals},
      {"incr", 2, true, 1, 1, 1, &CmdIncr},
      {"incrby", 3, true, 1, 1, 1, &CmdIncrBy},
      {"incrbyfloat", 3, true, 1, 1, 1, &CmdIncrByFloat},
      {"lcs", -3, false, 1, 2, 1, &CmdLcs},
      {"lindex", 3, false, 1, 1, 1, &CmdLIndex},
      {"linsert", 5, true, 1, 1, 1, &CmdLInsert},
      {"llen", 2, false, 1, 1, 1, &CmdLLen},
      {"lmove", 5, true, 1, 2, 1, &CmdLMove},
      {"lmpop", -4, true, 0, 0, 0, &CmdLMPop, 1},
      {"lpop", -2, true, 1, 1, 1, &CmdLPop},
      {"lpos", -3, false, 1, 1, 1, &CmdLPos},
      {"lpush", -3, true, 1, 1, 1, &CmdLPush},
      {"lpushx", -3, true, 1, 1, 1, &CmdLPushX},
      {"lrange", 4, false, 1, 1, 1, &CmdLRange},
      {"lrem", 4, true, 1, 1, 1, &CmdLRem},
      {"lset", 4, true, 1, 1, 1, &CmdLSet},
      {"ltrim", 4, true, 1, 1, 1, &CmdLTrim},
      {"memory", -2, false, 2, 2, 1, &CmdMemory},
      {"mget", -2, false, 1, -1, 1, &CmdMGet},
      {"mset", -3, true, 1, -1, 2, &CmdMSet},
      {"move", 3, true, 1, 1, 1, &CmdMove},
      {"msetnx", -3, true, 1, -1, 2, &CmdMSetNx},
      {"object", -2, false, 2, 2, 1, &CmdObject},
      {"persist", 2, true, 1, 1, 1, &CmdPersist},
      {"ping", -1, false, 0, 0, 0, &CmdPing},
      {"pexpire", -3, true, 1, 1, 1, &CmdPExpire},
      {"pfadd", -2, true, 1, 1, 1, &CmdPfAdd},
      // A write here (it stores the estimate in the HLL's header, as Redis does); COMMAND
      // INFO calls it readonly and may_replicate, as Redis 7.0 does.
      {"pfcount", -2, true, 1, -1, 1, &CmdPfCount},
      {"pfmerge", -2, true, 1, -1, 1, &CmdPfMerge},
      {"pexpireat", -3, true, 1, 1, 1, &CmdPExpireAt},
      {"pexpiretime", 2, false, 1, 1, 1, &CmdPExpireTime},
      {"psetex", 4, true, 1, 1, 1, &CmdPSetEx},
      {"pttl", 2, false, 1, 1, 1, &CmdPTtl},
      {"rename", 3, true, 1, 2, 1, &CmdRename},
      {"renamenx", 3, true, 1, 2, 1, &CmdRenameNx},
      {"restore", -4, true, 1, 1, 1, &CmdRestore},
      {"rpop", -2, true, 1, 1, 1, &CmdRPop},
      {"rpoplpush", 3, true, 1, 2, 1, &CmdRPopLPush},
      {"rpush", -3, true, 1, 1, 1, &CmdRPush},
      {"rpushx", -3, true, 1, 1, 1, &CmdRPushX},
      {"sadd", -3, true, 1, 1, 1, &CmdSAdd},
      {"scard", 2, false, 1, 1, 1, &CmdSCard},
      {"sdiff", -2, false, 1, -1, 1, &CmdSDiff},
      {"sdiffstore", -3, true, 1, -1, 1, &CmdSDiffStore},
      {"set", -3, true, 1, 1, 1, &CmdSet},
      {"setbit", 4, true, 1, 1, 1, &CmdSetBit},
      {"setex", 4, true, 1, 1, 1, &CmdSetEx},
      {"setnx", 3, true, 1, 1, 1, &CmdSetNx},
      {"setrange", 4, true, 1, 1, 1, &CmdSetRange},
      {"sinter", -2, false, 1, -1, 1, &CmdSInter},
      {"sintercard", -3, false, 0, 0, 0, &CmdSInterCard, 1},
      {"sinterstore", -3, true, 1, -1, 1, &CmdSInterStore},
      {"sort", -2, true, 1, 1, 1, &CmdSort, 0, &SortKeys},
      {"sort_ro", -2, false, 1, 1, 1, &CmdSortRo, 0, &SortRoKeys},
      {"sscan", -3, false, 1, 1, 1, &CmdSScan},
      {"sismember", 3, false, 1, 1, 1, &CmdSIsMember},
      {"smove", 4, true, 1, 2, 1, &CmdSMove},
      {"smembers", 2, false, 1, 1, 1, &CmdSMembers},
      {"smismember", -3, false, 1, 1, 1, &CmdSMIsMember},
      {"spop", -2, true, 1, 1, 1, &CmdSPop},
      {"srandmember", -2, false, 1, 1, 1, &CmdSRandMember},
      {"srem", -3, true, 1, 1, 1, &CmdSRem},
      {"strlen", 2, false, 1, 1, 1, &CmdStrlen},
      {"sunion", -2, false, 1, -1, 1, &CmdSUnion},
      {"sunionstore", -3, true, 1, -1, 1, &CmdSUnionStore},
      {"touch", -2, false, 1, -1, 1, &CmdExists},
      {"ttl", 2, false, 1, 1, 1, &CmdTtl},
      {"type", 2, false, 1, 1, 1, &CmdType},
      {"unlink", -2, true, 1, -1, 1, &CmdDel},
      {"unwatch", 1, false, 0, 0, 0, &CmdUnwatch},
      {"xack", -4, true, 1, 1, 1, &CmdXAck},
      {"xadd", -5, true, 1, 1, 1, &CmdXAdd},
      {"xautoclaim", -6, true, 1, 1, 1, &CmdXAutoClaim},
      {"xclaim", -6, true, 1, 1, 1, &CmdXClaim},
      {"xdel", -3, true, 1, 1, 1, &CmdXDel},
      {"xgroup", -2, true, 2, 2, 1, &CmdXGroup},
      {"xinfo", -2, false, 2, 2, 1, &CmdXInfo},
      {"xpending", -3, false, 1, 1, 1, &CmdXPending},
      {"xlen", 2, false, 1, 1, 1, &CmdXLen},
      {"xrange", -4, false, 1, 1, 1, &CmdXRange},
      {"xread", -4, false, 0, 0, 0, &CmdXRead, 0, &XReadKeys},
      {"xreadgroup", -7, true, 0, 0, 0, &CmdXReadGroup, 0, &XReadKeys},
      {"xrevrange", -4, false, 1, 1, 1, &CmdXRevRange},
      {"xsetid", -3, true, 1, 1, 1, &CmdXSetId},
      {"xtrim", -4, true, 1, 1, 1, &CmdXTrim},
      {"zadd", -4, true, 1, 1, 1, &CmdZAdd},
      {"zcard", 2, false, 1, 1, 1, &CmdZCard},
      {"zcount", 4, false, 1, 1, 1, &CmdZCount},
      {"zincrby", 4, true, 1, 1, 1, &CmdZIncrBy},
      {"zmscore", -3, false, 1, 1, 1, &CmdZMScore},
      {"zmpop", -4, true, 0, 0, 0, &CmdZMPop, 1},
      {"zpopmax", -2, true, 1, 1, 1, &CmdZPopMax},
      {"zpopmin", -2, true, 1, 1, 1, &CmdZPopMin},
      {"zrange", -4, false, 1, 1, 1, &CmdZRange},
      {"zrangebylex", -4, false, 1, 1, 1, &CmdZRangeByLex},
      {"zrangebyscore", -4, false, 1, 1, 1, &CmdZRangeByScore},
      {"zrank", 3, false, 1, 1, 1, &CmdZRank},
      {"zrem", -3, true, 1, 1, 1, &CmdZRem},
      {"zrevrange", -4, false, 1, 1, 1, &CmdZRevRange},
      {"zrevrangebylex", -4, false, 1, 1, 1, &CmdZRevRangeByLex},
      {"zrevrangebyscore", -4, false, 1, 1, 1, &CmdZRevRangeByScore},
      {"zrevrank", 3, false, 1, 1, 1, &CmdZRevRank},
      {"zdiff", -3, false, 0, 0, 0, &CmdZDiff, 1},
      {"zdiffstore", -4, true, 1, 1, 1, &CmdZDiffStore, 2},
      {"zinter", -3, false, 0, 0, 0, &CmdZInter, 1},
      {"zintercard", -3, false, 0, 0, 0, &CmdZInterCard, 1},
      {"zinterstore", -4, true, 1, 1, 1, &CmdZInterStore, 2},
      {"zlexcount", 4, false, 1, 1, 1, &CmdZLexCount},
      {"zrandmember", -2, false, 1, 1, 1, &CmdZRandMember},
      {"zrangestore", -5, true, 1, 2, 1, &CmdZRangeStore},
      {"zremrangebylex", 4, true, 1, 1, 1, &CmdZRemRangeByLex},
      {"zremrangebyrank", 4, true, 1, 1, 1, &CmdZRemRangeByRank},
      {"zremrangebyscore", 4, true, 1, 1, 1, &CmdZRemRangeByScore},
      {"zunion", -3, false, 0, 0, 0, &CmdZUnion, 1},
      {"zunionstore", -4, true, 1, 1, 1, &CmdZUnionStore, 2},
      {"zscan", -3, false, 1, 1, 1, &CmdZScan},
      {"zscore", 3, false, 1, 1, 1, &CmdZScore},
  };
  std::sort(table.begin(), table.end(), [](const CommandInfo& a, const CommandInfo& b) {
    return absl::string_view(a.name) < absl::string_view(b.name);
  });
  return table;
}

}  // namespace

const std::vector<CommandInfo>& AllCommands() {
  static const std::vector<CommandInfo>* table = new std::vector<CommandInfo>(BuildTable());
  return *table;
}

const CommandInfo* FindCommand(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  const std::vector<CommandInfo>& table = AllCommands();
  auto it = std::lower_bound(table.begin(), table.end(), lower,
                             [](const CommandInfo& info, const std::string& wanted) {
                               return absl::string_view(info.name) < wanted;
                             });
  if (it == table.end() || lower != it->name) return nullptr;
  return &*it;
}

std::vector<std::string> CommandKeys(const CommandInfo& info, const Args& args) {
  if (info.key_finder != nullptr) return info.key_finder(args);
  std::vector<std::string> keys;
  const int argc = static_cast<int>(args.size());
  if (info.numkeys_index != 0) {
    // The fixed keys (the destination of ZUNIONSTORE and the like), then the counted ones.
    for (int i = info.first_key; i != 0 && i <= info.last_key && i < argc; i += info.key_step) {
      keys.push_back(args[i]);
    }
    if (info.numkeys_index >= argc) return keys;
    std::optional<int64_t> count = ParseInt64(args[info.numkeys_index]);
    if (!count.has_value() || *count <= 0) return keys;
    for (int64_t i = 1; i <= *count && info.numkeys_index + i < argc; ++i) {
      keys.push_back(args[info.numkeys_index + i]);
    }
    return keys;
  }
  if (info.first_key == 0) return keys;
  const int last = info.last_key < 0 ? argc + info.last_key : info.last_key;
  for (int i = info.first_key; i <= last && i < argc; i += info.key_step) keys.push_back(args[i]);
  return keys;
}

std::vector<std::string> RequestKeys(const RedisRequest& request) {
  std::vector<std::string> keys = {request.routing_key};
  for (const Args& args : request.commands) {
    for (std::string& key : QueuedCommandKeys(args)) keys.push_back(std::move(key));
  }
  for (const Watch& watch : request.watches) keys.push_back(watch.key);
  // ---- scripting hook (lua): a script's declared KEYS share the routing key's group.
  if (request.script.has_value()) {
    for (const std::string& key : request.script->keys) keys.push_back(key);
  }
  return keys;
}

Reply CrossSlotError() {
  return Reply::Error("CROSSSLOT Keys in request don't hash to the same slot");
}

absl::StatusOr<Reply> Executor::Run(const Args& args) {
  if (args.empty()) return Reply::Error("ERR empty command");
  const CommandInfo* info = FindCommand(args[0]);
  if (info == nullptr) {
    return Reply::Error(absl::StrCat("ERR unknown command '", args[0], "'"));
  }
  const int argc = static_cast<int>(args.size());
  if ((info->arity > 0 && argc != info->arity) || (info->arity < 0 && argc < -info->arity)) {
    return Reply::Error(
        absl::StrCat("ERR wrong number of arguments for '", info->name, "' command"));
  }
  if (info->write && read_only()) {
    return Reply::Error(absl::StrCat("ERR '", info->name, "' writes and cannot run as a read"));
  }
  if (notify_flags_ == 0) return info->handler(*this, args);
  if (!info->write) {
    // Redis's lookups that notify no miss: OBJECT's, WATCH's (ekv-stamp) and those of a
    // blocked client's turn and ekv's other internal reads.
    const absl::string_view name = info->name;
    // Redis's CMD_READONLY commands read keys (PING, ECHO, TIME do not).
    if ((notify_flags_ & kNotifyTrackingKeys) && !absl::StartsWith(name, "ekv-") &&
        (info->first_key != 0 || info->numkeys_index != 0 || info->key_finder != nullptr)) {
      read_ran_ = true;
    }
    if ((notify_flags_ & kNotifyKeyMiss) == 0 || name == "object" ||
        absl::StartsWith(name, "ekv-")) {
      return info->handler(*this, args);
    }
    EKV_ASSERT(!noting_misses_, "a read command runs inside another");
    noting_misses_ = true;
    absl::StatusOr<Reply> reply = info->handler(*this, args);
    noting_misses_ = false;
    return reply;
  }
  EKV_ASSERT(!tracking_, "a write command runs inside another");
  tracking_ = true;
  changes_.clear();
  change_order_.clear();
  looked_up_.clear();
  absl::StatusOr<Reply> reply = info->handler(*this, args);
  tracking_ = false;
  if (reply.ok() && !reply->is_error()) {
    AppendCommandEvents(info->name, args, changes_, notify_flags_, &events_);
    if (notify_flags_ & kNotifyTrackingKeys) {
      // Every key the command changed, in the order it wrote them (Redis's
      // signalModifiedKey order); a key absent before and after, such as DEL of a missing
      // key, changed nothing.
      for (const std::string& key : change_order_) {
        const KeyChange& change = changes_.at(key);
        if (!change.existed && change.deleted) continue;
        std::string event(kTrackingEvent);
        if (!change.deleted) {
          // Its deadline, when it has one: the front door invalidates it then too.
          absl::StatusOr<Found> found = Lookup(key);
          uint64_t expire_ms = 0;
          if (found.ok() && found->type == Type::kString) {
            expire_ms = found->string.expire_ms;
          } else if (found.ok() && found->type != Type::kNone) {
            expire_ms = found->meta.expire_ms;
          }
          if (expire_ms != 0) event = absl::StrCat(kTrackingExpiresPrefix, expire_ms);
        }
        events_.push_back({std::move(event), key});
      }
    }
  }
  return reply;
}

void Executor::NoteWrite(absl::string_view key, bool deleted) {
  if (!tracking_) return;
  auto [it, inserted] = changes_.try_emplace(std::string(key));
  if (inserted) {
    change_order_.push_back(it->first);
    auto seen = looked_up_.find(it->first);
    if (seen != looked_up_.end()) {
      it->second.existed = seen->second;
    } else {
      // Written before the command read it (a plain SET): read it now, before the write.
      // A failed read (a lock would have refused the request already) counts as live, so
      // no "new" event is invented.
      absl::StatusOr<Found> found = Lookup(key);
      it->second.existed = !found.ok() || found->type != Type::kNone;
    }
  }
  it->second.deleted = deleted;
}

void Executor::NoteEvent(absl::string_view key, std::string event) {
  if (!tracking_) return;
  if (changes_.find(std::string(key)) == changes_.end()) NoteWrite(key, /*deleted=*/false);
  changes_.at(std::string(key)).events.push_back(std::move(event));
}

absl::StatusOr<Executor::Found> Executor::Lookup(absl::string_view key) {
  Found found;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> meta_bytes, store_->Get(MetaKey(key)));
  if (meta_bytes.has_value()) {
    EKV_KV_ASSIGN_OR_RETURN(Meta meta, DecodeMeta(*meta_bytes));
    if (!Expired(meta.expire_ms)) {
      found.type = meta.type;
      found.meta = meta;
      // The string namespace is still checked for a transaction lock.
      EKV_KV_ASSIGN_OR_RETURN(std::optional<StringValue> ignored, store_->GetString(key));
      (void)ignored;
      if (tracking_) looked_up_.try_emplace(std::string(key), true);
      return found;
    }
  }
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StringValue> string, store_->GetString(key));
  if (string.has_value() && !Expired(string->expire_ms)) {
    found.type = Type::kString;
    found.string = *std::move(string);
  }
  if (tracking_) looked_up_.try_emplace(std::string(key), found.type != Type::kNone);
  if (noting_misses_ && found.type == Type::kNone) events_.push_back({"keymiss", std::string(key)});
  return found;
}

Meta Executor::NewMeta(Type type) {
  Meta meta;
  meta.type = type;
  meta.version_ts = commit_ts_;
  meta.version_seq = version_seq_++;
  meta.head = kListStartIndex;
  meta.tail = kListStartIndex;
  // Hashes and sorted sets track Redis's encoding (layout.h) from birth.
  if (type == Type::kHash || type == Type::kZset) meta.flags = kMetaTracked;
  return meta;
}

void Executor::SaveMeta(absl::string_view key, const Meta& meta, bool touch) {
  // A stream stays when its last entry goes, as in Redis.
  const bool remove = meta.size == 0 && meta.type != Type::kStream;
  NoteWrite(key, /*deleted=*/remove);
  if (remove) {
    store_->Delete(MetaKey(key));
  } else {
    store_->Put(MetaKey(key), EncodeMeta(meta));
  }
  if (touch || remove) Touch(key);
}

void Executor::DeleteKey(absl::string_view key, const Found& found) {
  NoteWrite(key, /*deleted=*/true);
  if (found.type == Type::kString) {
    store_->DeleteString(key);
  } else if (found.type != Type::kNone) {
    store_->Delete(MetaKey(key));
  }
  Touch(key);
}

void Executor::SetString(absl::string_view key, std::string value, uint64_t expire_ms) {
  NoteWrite(key, /*deleted=*/false);
  // A collection (live or expired) under the key is replaced: drop its metadata.
  store_->Delete(MetaKey(key));
  store_->PutString(key, std::move(value), expire_ms);
  Touch(key);
}

void Executor::Touch(absl::string_view key) {
  std::string stamp;
  kv::AppendFixed64BigEndian(&stamp, commit_ts_);
  store_->Put(TouchKey(key), std::move(stamp));
}

absl::StatusOr<uint64_t> Executor::KeyStamp(absl::string_view key) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> touched, store_->Get(TouchKey(key)));
  if (!touched.has_value()) {
    // No touch record (never written through Redis, or removed by the cleanup): the
    // group's touch floor, which is at least every removed record's stamp, so a key's
    // stamp never goes back to a value a WATCH saw before it changed (cleanup.h).
    EKV_KV_ASSIGN_OR_RETURN(touched, store_->Get(TouchFloorKey()));
  }
  uint64_t stamp = 0;
  if (touched.has_value() && touched->size() == 8) stamp = kv::DecodeFixed64BigEndian(*touched);
  EKV_KV_ASSIGN_OR_RETURN(uint64_t latest, store_->LatestStringCommitTs(key));
  return std::max(stamp, latest);
}

std::string Executor::ElementKey(absl::string_view key, const Meta& meta,
                                 absl::string_view subkey) const {
  return absl::StrCat(ElementPrefix(key, meta), subkey);
}

absl::StatusOr<Store::Records> Executor::Elements(absl::string_view key, const Meta& meta,
                                                  absl::string_view from_subkey, size_t limit,
                                                  bool reverse) {
  const std::string prefix = ElementPrefix(key, meta);
  const std::string lo = absl::StrCat(prefix, from_subkey);
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          store_->Scan(reverse ? prefix : lo, PrefixEnd(prefix),
                                       std::min<size_t>(limit, SIZE_MAX), reverse));
  for (auto& [k, v] : records) k.erase(0, prefix.size());
  return records;
}

uint64_t Executor::NextRandom() {
  // splitmix64: a small, well-mixed deterministic sequence.
  seed_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = seed_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

EKV_REDIS_HANDLER(CmdStamp) {
  EKV_KV_ASSIGN_OR_RETURN(uint64_t stamp, ex.KeyStamp(args[1]));
  return Reply::Integer(static_cast<int64_t>(stamp));
}

RequestOutcome ExecuteRequest(const RedisRequest& request, Store* store, uint64_t now_ms,
                              kv::Timestamp commit_ts, const ScriptEnvironment* scripts) {
  // ---- scripting hook (lua)
  if (request.script.has_value()) return ExecuteScript(request, store, now_ms, commit_ts, scripts);
  RequestOutcome outcome;
  Executor executor(store, now_ms, request.seed, commit_ts);
  executor.set_notify_flags(request.notify_flags);
  if (scripts != nullptr) executor.set_key_access(&scripts->owns_key);
  auto fail = [&](absl::Status status) {
    store->Discard();
    outcome.status = std::move(status);
    outcome.locked = store->locked();
    return outcome;
  };
  if (!request.transaction) {
    if (request.commands.size() != 1) {
      return fail(absl::InvalidArgumentError("redis request: one command expected"));
    }
    absl::StatusOr<Reply> reply = executor.Run(request.commands.front());
    if (!reply.ok()) return fail(reply.status());
    outcome.reply = *std::move(reply);
    outcome.reply.set_events(executor.TakeEvents());
    return outcome;
  }
  for (const Watch& watch : request.watches) {
    absl::StatusOr<uint64_t> stamp = executor.KeyStamp(watch.key);
    if (!stamp.ok()) return fail(stamp.status());
    if (*stamp != watch.stamp) {
      outcome.reply = Reply::NilArray();  // a watched key changed: EXEC aborts
      return outcome;
    }
  }
  std::vector<Reply> replies;
  for (const Args& args : request.commands) {
    absl::StatusOr<Reply> reply = !args.empty() && IsScriptCommand(args[0])
                                      ? RunQueuedScript(executor, args, request, scripts)
                                      : executor.Run(args);
    if (!reply.ok()) return fail(reply.status());
    replies.push_back(*std::move(reply));
  }
  outcome.reply = Reply::Array(std::move(replies));
  outcome.reply.set_events(executor.TakeEvents());
  outcome.reply.set_acl_denials(executor.TakeAclDenials());
  return outcome;
}

}  // namespace ekv::redis_core
