// The lookup every string command starts with: the key's string, nothing, or WRONGTYPE;
// and the refusal of a string grown past ekv's value limit.
#pragma once

#include <optional>

#include "core/kv/kv_command.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

// The string at `key`: nullopt for none, WRONGTYPE as `error`.
struct StringLookup {
  std::optional<StringValue> value;
  std::optional<Reply> error;
};

inline absl::StatusOr<StringLookup> LookupString(Executor& ex, absl::string_view key) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  StringLookup out;
  if (found.type == Type::kString) {
    out.value = std::move(found.string);
  } else if (found.type != Type::kNone) {
    out.error = WrongTypeError();
  }
  return out;
}

// A string longer than kv::kMaxValueBytes (ekv's limit, below Redis's 512 MB), in the
// words Redis uses for its own limit.
inline Reply StringTooBigError() {
  return Reply::Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
}

}  // namespace ekv::redis_core
