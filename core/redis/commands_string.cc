// String commands. A string is the MVCC value of its key (layout.h).
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/kv_command.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/expiry.h"
#include "core/redis/numbers.h"
#include "core/redis/string_lookup.h"

namespace ekv::redis_core {
namespace {

Reply TooBig() { return StringTooBigError(); }

Reply BulkOrNil(const std::optional<StringValue>& value) {
  return value.has_value() ? Reply::Bulk(value->value) : Reply::Nil();
}

absl::StatusOr<Reply> IncrementBy(Executor& ex, absl::string_view key, int64_t delta) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, key));
  if (current.error.has_value()) return *current.error;
  int64_t base = 0;
  if (current.value.has_value()) {
    std::optional<int64_t> parsed = ParseInt64(current.value->value);
    if (!parsed.has_value()) return NotIntegerError();
    base = *parsed;
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(base, delta, &sum)) {
    return Reply::Error("ERR increment or decrement would overflow");
  }
  ex.SetString(key, absl::StrCat(sum), current.value.has_value() ? current.value->expire_ms : 0);
  return Reply::Integer(sum);
}

// Writes `value` at `key` expiring at expire_ms, or deletes the key when that time has
// already passed (Redis: a key set with a past EXAT/PXAT is gone at once).
void SetOrExpire(Executor& ex, absl::string_view key, std::string value, uint64_t expire_ms,
                 const Executor::Found& old) {
  if (expire_ms != 0 && expire_ms <= ex.now_ms()) {
    ex.DeleteKey(key, old);
    return;
  }
  ex.SetString(key, std::move(value), expire_ms);
}

}  // namespace

EKV_REDIS_HANDLER(CmdGet) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  return BulkOrNil(current.value);
}

EKV_REDIS_HANDLER(CmdSet) {
  SetOptions options;
  if (std::optional<Reply> error = ParseSetOptions(args, 3, "set", ex.now_ms(), &options)) {
    return *error;
  }
  if (!options.nx && !options.xx && !options.get && !options.keep_ttl &&
      (options.expire_ms == 0 || options.expire_ms > ex.now_ms())) {
    // A plain SET replaces whatever the key holds and answers OK: it needs no part of the
    // old value (SetOrExpire below would only write), so it reads only the transaction
    // lock, not the key's metadata record, newest version and expiry record.
    EKV_KV_RETURN_IF_ERROR(ex.store().CheckStringWritable(args[1]));
    ex.SetString(args[1], args[2], options.expire_ms);
    return Reply::Ok();
  }
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(args[1]));
  if (options.get && old.type != Type::kNone && old.type != Type::kString) {
    return WrongTypeError();
  }
  const bool exists = old.type != Type::kNone;
  Reply old_reply = old.type == Type::kString ? Reply::Bulk(old.string.value) : Reply::Nil();
  if ((options.nx && exists) || (options.xx && !exists)) {
    return options.get ? old_reply : Reply::Nil();
  }
  uint64_t expire_ms = options.expire_ms;
  if (options.keep_ttl) {
    expire_ms = old.type == Type::kString ? old.string.expire_ms : exists ? old.meta.expire_ms : 0;
  }
  SetOrExpire(ex, args[1], args[2], expire_ms, old);
  return options.get ? old_reply : Reply::Ok();
}

EKV_REDIS_HANDLER(CmdSetNx) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(args[1]));
  if (old.type != Type::kNone) return Reply::Integer(0);
  ex.SetString(args[1], args[2], 0);
  return Reply::Integer(1);
}

namespace {

absl::StatusOr<Reply> SetWithTtl(Executor& ex, const Args& args, bool seconds, const char* name) {
  std::optional<int64_t> amount = ParseInt64(args[2]);
  if (!amount.has_value()) return NotIntegerError();
  std::optional<uint64_t> expire_ms = ExpireAt(*amount, seconds, /*relative=*/true, ex.now_ms());
  if (!expire_ms.has_value() || *amount <= 0) {
    return Reply::Error(absl::StrCat("ERR invalid expire time in '", name, "' command"));
  }
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(args[1]));
  SetOrExpire(ex, args[1], args[3], *expire_ms, old);
  return Reply::Ok();
}

}  // namespace

EKV_REDIS_HANDLER(CmdSetEx) { return SetWithTtl(ex, args, true, "setex"); }
EKV_REDIS_HANDLER(CmdPSetEx) { return SetWithTtl(ex, args, false, "psetex"); }

EKV_REDIS_HANDLER(CmdGetSet) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  ex.SetString(args[1], args[2], 0);
  return BulkOrNil(current.value);
}

EKV_REDIS_HANDLER(CmdGetDel) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[1]));
  if (found.type == Type::kNone) return Reply::Nil();
  if (found.type != Type::kString) return WrongTypeError();
  ex.DeleteKey(args[1], found);
  return Reply::Bulk(found.string.value);
}

EKV_REDIS_HANDLER(CmdGetEx) {
  GetExOptions options;
  if (std::optional<Reply> error = ParseGetExOptions(args, ex.now_ms(), &options)) return *error;
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[1]));
  if (found.type == Type::kNone) return Reply::Nil();
  if (found.type != Type::kString) return WrongTypeError();
  if (options.persist && found.string.expire_ms != 0) {
    ex.SetString(args[1], found.string.value, 0);
  } else if (options.expire_ms != 0) {
    SetOrExpire(ex, args[1], found.string.value, options.expire_ms, found);
  }
  return Reply::Bulk(found.string.value);
}

EKV_REDIS_HANDLER(CmdIncr) { return IncrementBy(ex, args[1], 1); }
EKV_REDIS_HANDLER(CmdDecr) { return IncrementBy(ex, args[1], -1); }

EKV_REDIS_HANDLER(CmdIncrBy) {
  std::optional<int64_t> delta = ParseInt64(args[2]);
  if (!delta.has_value()) return NotIntegerError();
  return IncrementBy(ex, args[1], *delta);
}

EKV_REDIS_HANDLER(CmdDecrBy) {
  std::optional<int64_t> delta = ParseInt64(args[2]);
  if (!delta.has_value()) return NotIntegerError();
  if (*delta == std::numeric_limits<int64_t>::min()) {
    return Reply::Error("ERR decrement would overflow");
  }
  return IncrementBy(ex, args[1], -*delta);
}

EKV_REDIS_HANDLER(CmdIncrByFloat) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  long double base = 0;
  if (current.value.has_value()) {
    std::optional<long double> parsed = ParseLongDouble(current.value->value);
    if (!parsed.has_value()) return NotFloatError();
    base = *parsed;
  }
  std::optional<long double> delta = ParseLongDouble(args[2]);
  if (!delta.has_value()) return NotFloatError();
  const long double sum = base + *delta;
  if (std::isnan(sum) || std::isinf(sum)) {
    return Reply::Error("ERR increment would produce NaN or Infinity");
  }
  std::string text = FormatLongDouble(sum);
  ex.SetString(args[1], text, current.value.has_value() ? current.value->expire_ms : 0);
  return Reply::Bulk(text);
}

EKV_REDIS_HANDLER(CmdAppend) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  std::string value = current.value.has_value() ? current.value->value : "";
  if (value.size() + args[2].size() > kv::kMaxValueBytes) return TooBig();
  value += args[2];
  const int64_t length = static_cast<int64_t>(value.size());
  ex.SetString(args[1], std::move(value), current.value.has_value() ? current.value->expire_ms : 0);
  return Reply::Integer(length);
}

EKV_REDIS_HANDLER(CmdStrlen) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  return Reply::Integer(current.value.has_value() ? current.value->value.size() : 0);
}

EKV_REDIS_HANDLER(CmdGetRange) {
  std::optional<int64_t> start = ParseInt64(args[2]);
  std::optional<int64_t> end = ParseInt64(args[3]);
  if (!start.has_value() || !end.has_value()) return NotIntegerError();
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  const std::string value = current.value.has_value() ? current.value->value : "";
  int64_t s = *start;
  int64_t e = *end;
  if (s < 0 && e < 0 && s > e) return Reply::Bulk("");
  const int64_t length = static_cast<int64_t>(value.size());
  if (s < 0) s = length + s;
  if (e < 0) e = length + e;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= length) e = length - 1;
  if (s > e || length == 0) return Reply::Bulk("");
  return Reply::Bulk(absl::string_view(value).substr(s, e - s + 1));
}

EKV_REDIS_HANDLER(CmdSetRange) {
  std::optional<int64_t> offset = ParseInt64(args[2]);
  if (!offset.has_value()) return NotIntegerError();
  if (*offset < 0) return Reply::Error("ERR offset is out of range");
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  const std::string& patch = args[3];
  if (!current.value.has_value()) {
    if (patch.empty()) return Reply::Integer(0);
  } else if (patch.empty()) {
    return Reply::Integer(current.value->value.size());
  }
  if (static_cast<uint64_t>(*offset) + patch.size() > kv::kMaxValueBytes) return TooBig();
  std::string value = current.value.has_value() ? current.value->value : "";
  if (value.size() < *offset + patch.size()) value.resize(*offset + patch.size(), '\0');
  value.replace(*offset, patch.size(), patch);
  const int64_t length = static_cast<int64_t>(value.size());
  ex.SetString(args[1], std::move(value), current.value.has_value() ? current.value->expire_ms : 0);
  return Reply::Integer(length);
}

EKV_REDIS_HANDLER(CmdMGet) {
  std::vector<Reply> values;
  for (size_t i = 1; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[i]));
    values.push_back(found.type == Type::kString ? Reply::Bulk(found.string.value) : Reply::Nil());
  }
  return Reply::Array(std::move(values));
}

EKV_REDIS_HANDLER(CmdMSet) {
  if (args.size() % 2 != 1) {
    return Reply::Error(absl::StrCat("ERR wrong number of arguments for '",
                                     absl::AsciiStrToLower(args[0]), "' command"));
  }
  for (size_t i = 1; i + 1 < args.size(); i += 2) {
    EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[i]));  // lock check
    (void)found;
    ex.SetString(args[i], args[i + 1], 0);
  }
  return Reply::Ok();
}

EKV_REDIS_HANDLER(CmdMSetNx) {
  if (args.size() % 2 != 1) {
    return Reply::Error("ERR wrong number of arguments for 'msetnx' command");
  }
  for (size_t i = 1; i + 1 < args.size(); i += 2) {
    EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(args[i]));
    if (found.type != Type::kNone) return Reply::Integer(0);
  }
  for (size_t i = 1; i + 1 < args.size(); i += 2) ex.SetString(args[i], args[i + 1], 0);
  return Reply::Integer(1);
}

}  // namespace ekv::redis_core
