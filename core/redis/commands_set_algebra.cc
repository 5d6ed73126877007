// SINTER, SUNION, SDIFF and their *STORE forms. Every key must live in the request's group
// (CROSSSLOT otherwise, checked by the group). The result is computed over the members in
// byte order and answered in Redis's intset order when it would be one (set_order.h); a STORE
// replaces the destination with a new set version (O(1) removal of the old one) or deletes it when
// the result is empty, as Redis does.
#include <algorithm>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/numbers.h"
#include "core/redis/set_order.h"

namespace ekv::redis_core {
namespace {

enum class Algebra { kInter, kUnion, kDiff };

// The members of each set named by args[first..]; WRONGTYPE as a reply.
absl::StatusOr<Reply> Compute(Executor& ex, const Args& args, size_t first, Algebra op,
                              std::set<std::string>* out) {
  bool started = false;
  for (size_t i = first; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(Collection set, LookupCollection(ex, args[i], Type::kSet));
    if (set.error.has_value()) return *set.error;
    std::set<std::string> members;
    if (set.exists) {
      EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(args[i], set.meta));
      for (auto& [member, value] : records) members.insert(std::move(member));
    }
    if (!started) {
      *out = std::move(members);
      started = true;
      continue;
    }
    std::set<std::string> next;
    switch (op) {
      case Algebra::kInter:
        std::set_intersection(out->begin(), out->end(), members.begin(), members.end(),
                              std::inserter(next, next.end()));
        break;
      case Algebra::kUnion:
        std::set_union(out->begin(), out->end(), members.begin(), members.end(),
                       std::inserter(next, next.end()));
        break;
      case Algebra::kDiff:
        std::set_difference(out->begin(), out->end(), members.begin(), members.end(),
                            std::inserter(next, next.end()));
        break;
    }
    *out = std::move(next);
  }
  return Reply::Ok();
}

absl::StatusOr<Reply> Read(Executor& ex, const Args& args, Algebra op) {
  std::set<std::string> result;
  EKV_KV_ASSIGN_OR_RETURN(Reply status, Compute(ex, args, 1, op, &result));
  if (status.is_error()) return status;
  std::vector<std::string> members(result.begin(), result.end());
  InIntsetOrder(&members);
  std::vector<Reply> out;
  for (std::string& member : members) out.push_back(Reply::Bulk(std::move(member)));
  return Reply::Set(std::move(out));
}

absl::StatusOr<Reply> StoreResult(Executor& ex, const Args& args, Algebra op) {
  std::set<std::string> result;
  EKV_KV_ASSIGN_OR_RETURN(Reply status, Compute(ex, args, 2, op, &result));
  if (status.is_error()) return status;
  const std::string& destination = args[1];
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found old, ex.Lookup(destination));
  ex.DeleteKey(destination, old);
  if (result.empty()) return Reply::Integer(0);
  Meta meta = ex.NewMeta(Type::kSet);
  for (const std::string& member : result) {
    ex.store().Put(ex.ElementKey(destination, meta, member), "");
  }
  meta.size = result.size();
  ex.SaveMeta(destination, meta);
  return Reply::Integer(static_cast<int64_t>(result.size()));
}

}  // namespace

EKV_REDIS_HANDLER(CmdSInter) { return Read(ex, args, Algebra::kInter); }
EKV_REDIS_HANDLER(CmdSUnion) { return Read(ex, args, Algebra::kUnion); }
EKV_REDIS_HANDLER(CmdSDiff) { return Read(ex, args, Algebra::kDiff); }
EKV_REDIS_HANDLER(CmdSInterStore) { return StoreResult(ex, args, Algebra::kInter); }
EKV_REDIS_HANDLER(CmdSUnionStore) { return StoreResult(ex, args, Algebra::kUnion); }
EKV_REDIS_HANDLER(CmdSDiffStore) { return StoreResult(ex, args, Algebra::kDiff); }

// SINTERCARD numkeys key [key ...] [LIMIT limit] (Redis 7.0 sinterCardCommand): the size
// of the intersection, counting stopping at `limit` (0: no limit).
EKV_REDIS_HANDLER(CmdSInterCard) {
  std::optional<int64_t> numkeys = ParseInt64(args[1]);
  if (!numkeys.has_value() || *numkeys < 1) {
    return Reply::Error("ERR numkeys should be greater than 0");
  }
  if (*numkeys > static_cast<int64_t>(args.size()) - 2) {
    return Reply::Error("ERR Number of keys can't be greater than number of args");
  }
  const size_t keys_end = 2 + static_cast<size_t>(*numkeys);
  int64_t limit = 0;
  for (size_t i = keys_end; i < args.size(); ++i) {
    if (absl::EqualsIgnoreCase(args[i], "limit") && i + 1 < args.size()) {
      std::optional<int64_t> parsed = ParseInt64(args[++i]);
      if (!parsed.has_value() || *parsed < 0) return Reply::Error("ERR LIMIT can't be negative");
      limit = *parsed;
    } else {
      return SyntaxError();
    }
  }
  const Args keys(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(keys_end));
  std::set<std::string> result;
  EKV_KV_ASSIGN_OR_RETURN(Reply status, Compute(ex, keys, 2, Algebra::kInter, &result));
  if (status.is_error()) return status;
  int64_t count = static_cast<int64_t>(result.size());
  if (limit > 0) count = std::min(count, limit);
  return Reply::Integer(count);
}

}  // namespace ekv::redis_core
