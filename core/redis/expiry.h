// Expiry options of SET, GETEX and friends, parsed exactly as Redis 7.0 does
// (parseExtendedStringArgumentsOrReply, getExpireMillisecondsOrReply), so malformed
// requests get Redis's errors in Redis's order.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

// The absolute expiry (ms) of `amount` seconds/ms, relative to now_ms or absolute;
// nullopt when Redis calls it an invalid expire time.
std::optional<uint64_t> ExpireAt(int64_t amount, bool seconds, bool relative, uint64_t now_ms);

struct SetOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;
  bool keep_ttl = false;
  uint64_t expire_ms = 0;  // 0: no expiry option
};
// Parses args[first..]; the error reply, or nullopt with *options filled in.
std::optional<Reply> ParseSetOptions(const Args& args, size_t first, absl::string_view command,
                                     uint64_t now_ms, SetOptions* options);

struct GetExOptions {
  bool persist = false;
  uint64_t expire_ms = 0;
};
std::optional<Reply> ParseGetExOptions(const Args& args, uint64_t now_ms, GetExOptions* options);

}  // namespace ekv::redis_core
