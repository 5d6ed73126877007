// COPY source destination [DB destination-db] [REPLACE] (Redis 7.0 copyCommand). ekv has
// one database, so DB names 0 or is refused as out of range. A string is copied as one
// value; a collection gets a new version under the destination and every element record
// of the source's version is written under it (O(size), like Redis's duplication), with
// the source's expiry.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {

EKV_REDIS_HANDLER(CmdCopy) {
  bool replace = false;
  for (size_t j = 3; j < args.size(); ++j) {
    const size_t additional = args.size() - j - 1;
    if (absl::EqualsIgnoreCase(args[j], "replace")) {
      replace = true;
    } else if (absl::EqualsIgnoreCase(args[j], "db") && additional > 0) {
      std::optional<int64_t> db = ParseInt64(args[j + 1]);
      if (!db.has_value()) return NotIntegerError();
      if (*db != 0) return Reply::Error("ERR DB index is out of range");
      ++j;
    } else {
      return SyntaxError();
    }
  }
  const std::string& source = args[1];
  const std::string& destination = args[2];
  if (source == destination) return Reply::Error("ERR source and destination objects are the same");
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found from, ex.Lookup(source));
  if (from.type == Type::kNone) return Reply::Integer(0);
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found to, ex.Lookup(destination));
  if (to.type != Type::kNone) {
    if (!replace) return Reply::Integer(0);
    ex.DeleteKey(destination, to);
  }
  if (from.type == Type::kString) {
    ex.SetString(destination, from.string.value, from.string.expire_ms);
    return Reply::Integer(1);
  }
  Meta meta = ex.NewMeta(from.meta.type);
  meta.size = from.meta.size;
  meta.expire_ms = from.meta.expire_ms;
  meta.head = from.meta.head;
  meta.tail = from.meta.tail;
  meta.flags = from.meta.flags;
  meta.next_seq = from.meta.next_seq;
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(source, from.meta));
  for (auto& [subkey, value] : records) {
    ex.store().Put(ex.ElementKey(destination, meta, subkey), std::move(value));
  }
  ex.SaveMeta(destination, meta);
  return Reply::Integer(1);
}

}  // namespace ekv::redis_core
