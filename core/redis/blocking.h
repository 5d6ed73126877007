// What the blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP) share between the executor, which runs their non-blocking form, and
// the front door, which blocks a client whose attempt found nothing: where the timeout
// argument is, how Redis 7.0 reads it, and which keys the client waits on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/redis/reply.h"

namespace ekv::redis_core {

struct BlockTimeout {
  std::optional<Reply> error;  // Redis's words when the argument is not a valid timeout
  uint64_t ms = 0;             // relative; 0 = wait forever
};

// Redis 7.0's getTimeoutFromObjectOrReply in seconds: a long double, times 1000
// truncated, not negative (now_ms: for the deadline's range; unused by 7.0's rules).
BlockTimeout ParseBlockTimeout(absl::string_view text, uint64_t now_ms);

// The optional `COUNT n` that ends LMPOP/ZMPOP and their blocking forms (arguments from
// `first` on): 1 when absent, or Redis 7.0's error for a bad or repeated option.
struct MultiPopCount {
  std::optional<Reply> error;
  int64_t count = 1;
};
MultiPopCount ParseMultiPopCount(const std::vector<std::string>& args, size_t first);

// True for the commands above (name lower case).
bool IsBlockingCommand(absl::string_view name);
// The index of the timeout argument of a blocking command; 0 when `args` is too short.
size_t BlockTimeoutIndex(const std::vector<std::string>& args);
// The keys whose data can serve the blocked client, in the command's order (for BLMOVE
// and BRPOPLPUSH only the source).
std::vector<std::string> BlockingKeys(const std::vector<std::string>& args);

}  // namespace ekv::redis_core
