// The lookup every collection command starts with: the key's collection of the expected
// type, nothing, or WRONGTYPE.
#pragma once

#include <optional>

#include "core/kv/status_macros.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

struct Collection {
  bool exists = false;
  Meta meta;                   // valid when exists
  std::optional<Reply> error;  // WRONGTYPE
};

inline absl::StatusOr<Collection> LookupCollection(Executor& ex, absl::string_view key, Type type) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  Collection out;
  if (found.type == Type::kNone) return out;
  if (found.type != type) {
    out.error = WrongTypeError();
    return out;
  }
  out.exists = true;
  out.meta = found.meta;
  return out;
}

// The collection, or a new empty one of `type` to add to (not saved until SaveMeta).
inline absl::StatusOr<Collection> LookupOrCreate(Executor& ex, absl::string_view key, Type type) {
  EKV_KV_ASSIGN_OR_RETURN(Collection c, LookupCollection(ex, key, type));
  if (!c.error.has_value() && !c.exists) c.meta = ex.NewMeta(type);
  return c;
}

}  // namespace ekv::redis_core
