// Generic key commands: DEL, EXISTS, TYPE, the EXPIRE family, TTL, PERSIST, RENAME.
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {
namespace {

uint64_t ExpireOf(const Executor::Found& found) {
  if (found.type == Type::kString) return found.string.expire_ms;
  if (found.type == Type::kNone) return 0;
  return found.meta.expire_ms;
}

// Gives `key` (which holds `found`) the expiry expire_ms (0: none).
void SetExpiry(Executor& ex, absl::string_view key, const Executor::Found& found,
               uint64_t expire_ms) {
  if (found.type == Type::kString) {
    ex.SetString(key, found.string.value, expire_ms);
    return;
  }
  Meta meta = found.meta;
  meta.expire_ms = expire_ms;
  ex.SaveMeta(key, meta);
}

enum ExpireFlag : uint32_t { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

absl::StatusOr<Reply> ExpireGeneric(Executor& ex, const Args& args, bool seconds, bool relative) {
  const std::string name = absl::AsciiStrToLower(args[0]);
  uint32_t flags = 0;
  for (size_t j = 3; j < args.size(); ++j) {
    const std::string& opt = args[j];
    if (absl::EqualsIgnoreCase(opt, "nx")) {
      flags |= kNx;
    } else if (absl::EqualsIgnoreCase(opt, "xx")) {
      flags |= kXx;
    } else if (absl::EqualsIgnoreCase(opt, "gt")) {
      flags |= kGt;
    } else if (absl::EqualsIgnoreCase(opt, "lt")) {
      flags |= kLt;
    } else {
      return Reply::Error(absl::StrCat("ERR Unsupported option ", opt));
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    return Reply::Error("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if ((flags & kGt) && (flags & kLt)) {
    return Reply::Error("ERR GT and LT options at the same time are not compatible");
  }
  std::optional<int64_t> when = ParseInt64(args[2]);
  if (!when.has_value()) return NotIntegerError();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const Reply invalid =
      Reply::Error(absl::StrCat("ERR invalid expire time in '", name, "' command"));
  int64_t at = *when;
  if (seconds) {
    if (at > kMax / 1000 || at < kMin / 1000) return invalid;
    at *= 1000;
  }
  const int64_t base = relative ? static_cast<int64_t>(ex.now_ms()) : 0;
  if (at > kMax - base) return invalid;
  at += base;
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[1]));
  if (found.type == Type::kNone) return Reply::Integer(0);
  const uint64_t current = ExpireOf(found);  // 0: persistent (an infinite TTL)
  if (flags & kNx) {
    if (current != 0) return Reply::Integer(0);
  } else if (flags & kXx) {
    if (current == 0) return Reply::Integer(0);
  }
  if (flags & kGt) {
    if (current == 0 || at <= static_cast<int64_t>(current)) return Reply::Integer(0);
  } else if (flags & kLt) {
    if (current != 0 && at >= static_cast<int64_t>(current)) return Reply::Integer(0);
  }
  if (at <= static_cast<int64_t>(ex.now_ms())) {
    ex.DeleteKey(args[1], found);  // already expired: deleted at once, reply 1
  } else {
    SetExpiry(ex, args[1], found, static_cast<uint64_t>(at));
  }
  return Reply::Integer(1);
}

absl::StatusOr<Reply> TtlGeneric(Executor& ex, const Args& args, bool ms, bool absolute) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[1]));
  if (found.type == Type::kNone) return Reply::Integer(-2);
  const uint64_t expire = ExpireOf(found);
  if (expire == 0) return Reply::Integer(-1);
  int64_t ttl = absolute ? static_cast<int64_t>(expire)
                         : static_cast<int64_t>(expire) - static_cast<int64_t>(ex.now_ms());
  if (ttl < 0) ttl = 0;
  return Reply::Integer(ms ? ttl : (ttl + 500) / 1000);
}

// Copies `found` (held by `from`) to `to` under a new version, with its expiry.
absl::Status CopyKey(Executor& ex, absl::string_view from, const Executor::Found& found,
                     absl::string_view to) {
  if (found.type == Type::kString) {
    ex.SetString(to, found.string.value, found.string.expire_ms);
    return absl::OkStatus();
  }
  EKV_KV_ASSIGN_OR_RETURN(Store::Records elements, ex.Elements(from, found.meta));
  Meta meta = ex.NewMeta(found.meta.type);
  meta.size = found.meta.size;
  meta.expire_ms = found.meta.expire_ms;
  meta.head = found.meta.head;
  meta.tail = found.meta.tail;
  meta.flags = found.meta.flags;
  meta.next_seq = found.meta.next_seq;
  // The old value of `to`, whatever its type, is replaced.
  ex.store().DeleteString(to);
  for (auto& [subkey, value] : elements) ex.store().Put(ex.ElementKey(to, meta, subkey), value);
  ex.SaveMeta(to, meta);
  return absl::OkStatus();
}

absl::StatusOr<Reply> RenameGeneric(Executor& ex, const Args& args, bool nx) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found source, ex.Lookup(args[1]));
  if (source.type == Type::kNone) return Reply::Error("ERR no such key");
  if (args[1] == args[2]) return nx ? Reply::Integer(0) : Reply::Ok();
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found target, ex.Lookup(args[2]));
  if (nx && target.type != Type::kNone) return Reply::Integer(0);
  if (target.type != Type::kNone) ex.DeleteKey(args[2], target);
  EKV_KV_RETURN_IF_ERROR(CopyKey(ex, args[1], source, args[2]));
  ex.DeleteKey(args[1], source);
  return nx ? Reply::Integer(1) : Reply::Ok();
}

}  // namespace

EKV_REDIS_HANDLER(CmdDel) {
  int64_t deleted = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[i]));
    if (found.type == Type::kNone) continue;
    ex.DeleteKey(args[i], found);
    ++deleted;
  }
  return Reply::Integer(deleted);
}

EKV_REDIS_HANDLER(CmdExists) {
  int64_t count = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[i]));
    if (found.type != Type::kNone) ++count;
  }
  return Reply::Integer(count);
}

EKV_REDIS_HANDLER(CmdType) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[1]));
  return Reply::Status(TypeName(found.type));
}

EKV_REDIS_HANDLER(CmdExpire) { return ExpireGeneric(ex, args, true, true); }
EKV_REDIS_HANDLER(CmdPExpire) { return ExpireGeneric(ex, args, false, true); }
EKV_REDIS_HANDLER(CmdExpireAt) { return ExpireGeneric(ex, args, true, false); }
EKV_REDIS_HANDLER(CmdPExpireAt) { return ExpireGeneric(ex, args, false, false); }
EKV_REDIS_HANDLER(CmdTtl) { return TtlGeneric(ex, args, false, false); }
EKV_REDIS_HANDLER(CmdPTtl) { return TtlGeneric(ex, args, true, false); }
EKV_REDIS_HANDLER(CmdExpireTime) { return TtlGeneric(ex, args, false, true); }
EKV_REDIS_HANDLER(CmdPExpireTime) { return TtlGeneric(ex, args, true, true); }

EKV_REDIS_HANDLER(CmdPersist) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[1]));
  if (found.type == Type::kNone || ExpireOf(found) == 0) return Reply::Integer(0);
  SetExpiry(ex, args[1], found, 0);
  return Reply::Integer(1);
}

EKV_REDIS_HANDLER(CmdRename) { return RenameGeneric(ex, args, false); }
EKV_REDIS_HANDLER(CmdRenameNx) { return RenameGeneric(ex, args, true); }

}  // namespace ekv::redis_core
