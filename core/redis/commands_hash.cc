// Hash commands. Fields are element records (layout.h, hash_fields.h); HGETALL, HKEYS,
// HVALS and HRANDFIELD answer a compact hash (Redis's listpack) in insertion order, as
// Redis does, and a converted one in byte order of the fields (Redis's hashtable order is
// its own).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/hash_fields.h"
#include "core/redis/numbers.h"
#include "core/redis/random_pick.h"

namespace ekv::redis_core {
namespace {

absl::StatusOr<std::optional<std::string>> GetField(Executor& ex, absl::string_view key,
                                                    const Meta& meta, absl::string_view field) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StoredHashValue> value, GetHashField(ex, key, meta, field));
  if (!value.has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value->value));
}

// Sets fields from args[first..] in pairs; returns how many were new.
absl::StatusOr<int64_t> SetFields(Executor& ex, const Args& args, size_t first) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupOrCreate(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return absl::FailedPreconditionError("wrongtype");
  int64_t added = 0;
  // Redis 7.0 hashTypeTryConversion: any long argument converts before the first write.
  for (size_t i = first; i < args.size(); ++i) {
    ConvertIf(&hash.meta, args[i].size() > kMaxListpackValue);
  }
  for (size_t i = first; i + 1 < args.size(); i += 2) {
    EKV_KV_ASSIGN_OR_RETURN(bool is_new,
                            PutHashField(ex, args[1], &hash.meta, args[i], args[i + 1]));
    if (is_new) ++added;
  }
  ex.SaveMeta(args[1], hash.meta);
  return added;
}

absl::StatusOr<Reply> HSetGeneric(Executor& ex, const Args& args, bool hmset) {
  if (args.size() % 2 != 0) {
    return Reply::Error(
        absl::StrCat("ERR wrong number of arguments for '", hmset ? "hmset" : "hset", "' command"));
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection check, LookupCollection(ex, args[1], Type::kHash));
  if (check.error.has_value()) return *check.error;
  EKV_KV_ASSIGN_OR_RETURN(int64_t added, SetFields(ex, args, 2));
  return hmset ? Reply::Ok() : Reply::Integer(added);
}

// The hash's fields and values in Redis's order; empty when the key is absent.
absl::StatusOr<Store::Records> AllFields(Executor& ex, const Collection& hash,
                                         absl::string_view key) {
  if (!hash.exists) return Store::Records();
  return HashFieldsInOrder(ex, key, hash.meta);
}

}  // namespace

EKV_REDIS_HANDLER(CmdHSet) { return HSetGeneric(ex, args, false); }
EKV_REDIS_HANDLER(CmdHMSet) { return HSetGeneric(ex, args, true); }

EKV_REDIS_HANDLER(CmdHSetNx) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupOrCreate(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  if (hash.exists) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old,
                            GetField(ex, args[1], hash.meta, args[2]));
    if (old.has_value()) return Reply::Integer(0);
  }
  EKV_KV_RETURN_IF_ERROR(PutHashField(ex, args[1], &hash.meta, args[2], args[3]).status());
  ex.SaveMeta(args[1], hash.meta);
  return Reply::Integer(1);
}

EKV_REDIS_HANDLER(CmdHGet) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  if (!hash.exists) return Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          GetField(ex, args[1], hash.meta, args[2]));
  return value.has_value() ? Reply::Bulk(*value) : Reply::Nil();
}

EKV_REDIS_HANDLER(CmdHMGet) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  std::vector<Reply> values;
  for (size_t i = 2; i < args.size(); ++i) {
    std::optional<std::string> value;
    if (hash.exists) {
      EKV_KV_ASSIGN_OR_RETURN(value, GetField(ex, args[1], hash.meta, args[i]));
    }
    values.push_back(value.has_value() ? Reply::Bulk(*value) : Reply::Nil());
  }
  return Reply::Array(std::move(values));
}

EKV_REDIS_HANDLER(CmdHGetAll) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  EKV_KV_ASSIGN_OR_RETURN(Store::Records fields, AllFields(ex, hash, args[1]));
  std::vector<Reply> flat;
  for (const auto& [field, value] : fields) {
    flat.push_back(Reply::Bulk(field));
    flat.push_back(Reply::Bulk(value));
  }
  return Reply::Map(std::move(flat));
}

EKV_REDIS_HANDLER(CmdHKeys) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  EKV_KV_ASSIGN_OR_RETURN(Store::Records fields, AllFields(ex, hash, args[1]));
  std::vector<Reply> out;
  for (const auto& [field, value] : fields) out.push_back(Reply::Bulk(field));
  return Reply::Array(std::move(out));
}

EKV_REDIS_HANDLER(CmdHVals) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  EKV_KV_ASSIGN_OR_RETURN(Store::Records fields, AllFields(ex, hash, args[1]));
  std::vector<Reply> out;
  for (const auto& [field, value] : fields) out.push_back(Reply::Bulk(value));
  return Reply::Array(std::move(out));
}

EKV_REDIS_HANDLER(CmdHDel) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  if (!hash.exists) return Reply::Integer(0);
  int64_t deleted = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string element = ex.ElementKey(args[1], hash.meta, args[i]);
    EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old, ex.store().Get(element));
    if (!old.has_value()) continue;
    // A field added again later gets a new sequence: it goes to the end, as in Redis.
    ex.store().Delete(element);
    --hash.meta.size;
    ++deleted;
  }
  if (deleted > 0) ex.SaveMeta(args[1], hash.meta);
  return Reply::Integer(deleted);
}

EKV_REDIS_HANDLER(CmdHExists) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  if (!hash.exists) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          GetField(ex, args[1], hash.meta, args[2]));
  return Reply::Integer(value.has_value() ? 1 : 0);
}

EKV_REDIS_HANDLER(CmdHLen) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  return Reply::Integer(hash.exists ? static_cast<int64_t>(hash.meta.size) : 0);
}

EKV_REDIS_HANDLER(CmdHStrlen) {
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  if (!hash.exists) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          GetField(ex, args[1], hash.meta, args[2]));
  return Reply::Integer(value.has_value() ? static_cast<int64_t>(value->size()) : 0);
}

EKV_REDIS_HANDLER(CmdHIncrBy) {
  std::optional<int64_t> delta = ParseInt64(args[3]);
  if (!delta.has_value()) return NotIntegerError();
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupOrCreate(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old,
                          GetField(ex, args[1], hash.meta, args[2]));
  int64_t base = 0;
  if (old.has_value()) {
    std::optional<int64_t> parsed = ParseInt64(*old);
    if (!parsed.has_value()) return Reply::Error("ERR hash value is not an integer");
    base = *parsed;
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(base, *delta, &sum)) {
    return Reply::Error("ERR increment or decrement would overflow");
  }
  EKV_KV_RETURN_IF_ERROR(
      PutHashField(ex, args[1], &hash.meta, args[2], absl::StrCat(sum)).status());
  ex.SaveMeta(args[1], hash.meta);
  return Reply::Integer(sum);
}

EKV_REDIS_HANDLER(CmdHIncrByFloat) {
  std::optional<long double> delta = ParseLongDouble(args[3]);
  if (!delta.has_value()) return NotFloatError();
  // Redis 7.0 refuses an infinite increment before it looks at the key (INCRBYFLOAT does
  // not: its words are those of the sum below).
  if (std::isinf(*delta)) return Reply::Error("ERR value is NaN or Infinity");
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupOrCreate(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> old,
                          GetField(ex, args[1], hash.meta, args[2]));
  long double base = 0;
  if (old.has_value()) {
    std::optional<long double> parsed = ParseLongDouble(*old);
    if (!parsed.has_value()) return Reply::Error("ERR hash value is not a float");
    base = *parsed;
  }
  const long double sum = base + *delta;
  if (std::isnan(sum) || std::isinf(sum)) {
    return Reply::Error("ERR increment would produce NaN or Infinity");
  }
  std::string text = FormatLongDouble(sum);
  EKV_KV_RETURN_IF_ERROR(PutHashField(ex, args[1], &hash.meta, args[2], text).status());
  ex.SaveMeta(args[1], hash.meta);
  return Reply::Bulk(text);
}

// HRANDFIELD key [count [WITHVALUES]]: the count's rules in random_pick.h; with values
// the reply is field/value pairs (RESP3: nested arrays), as Redis 7.0 answers.
EKV_REDIS_HANDLER(CmdHRandField) {
  const RandomCount parsed = ParseRandomCount(args, "withvalues");
  if (parsed.error.has_value()) return *parsed.error;
  EKV_KV_ASSIGN_OR_RETURN(Collection hash, LookupCollection(ex, args[1], Type::kHash));
  if (hash.error.has_value()) return *hash.error;
  if (!hash.exists) return parsed.has_count ? Reply::Array() : Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(Store::Records fields, AllFields(ex, hash, args[1]));
  if (fields.empty()) return absl::DataLossError("redis hash: a live hash without fields");
  if (!parsed.has_count) return Reply::Bulk(fields[ex.NextRandom() % fields.size()].first);
  std::vector<Reply> out;
  for (size_t index : PickRandomIndexes(ex, fields.size(), parsed.count)) {
    out.push_back(Reply::Bulk(fields[index].first));
    if (parsed.with) out.push_back(Reply::Bulk(fields[index].second));
  }
  return parsed.with ? Reply::Pairs(std::move(out)) : Reply::Array(std::move(out));
}

}  // namespace ekv::redis_core
