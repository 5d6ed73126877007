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
// rounded up, not negative (now_ms: for the deadline's range; unused by 7.0's rules).
BlockTimeout ParseBlockTimeout(absl::string_view text, uint64_t now_ms);

// The optional `COUNT n` that ends LMPOP/ZMPOP and their blocking forms (arguments from
// `first` on): 1 when absent, or Redis 7.0's error for a bad or repeated option.
struct MultiPopCount {
  std::optional<Reply> error;
  int64_t count = 1;
};
MultiPopCount ParseMultiPopCount(const std::vector<std::string>& args, size_t first);

// True for the commands above and XREAD, whose BLOCK option (milliseconds) and keys
// stream_read.h parses (name lower case).
bool IsBlockingCommand(absl::string_view name);

// True for XREADGROUP: a blocked client's miss says nothing of what the key holds for the
// clients after it (they may read another group), so it hands over to the next one.
bool BlockedMissPassesOn(absl::string_view name);

// The form of a blocking command that a blocked client's later runs take (after its first
// run missed): as the plain form, but a source key holding another type counts as empty,
// as Redis 7.0 serves a blocked client only from a key of its type (a list pushed, deleted
// and set to a string in one EXEC leaves the client blocked, not answered WRONGTYPE). A
// move's destination is still checked, and Redis answers that WRONGTYPE too. Executor-only
// names (never in the front door's table), with the plain form's arity and keys.
// "ekv-serve-" + the lower-case name; `name` must be a blocking command.
std::string ServeFormOf(absl::string_view name);
// The run of a blocked client that a write to `key` woke: the serve form naming only that
// key (for XREAD and XREADGROUP that stream's key and id, its first for a key named twice),
// as Redis 7.0 serves a woken client from the signalled key alone (a MULTI that pushes to
// b then a answers BLPOP a b from b). BLMOVE and BRPOPLPUSH, which have one source, and a
// key the command does not name keep all their arguments. `args` must be a blocking
// command.
std::vector<std::string> ServeOnKey(const std::vector<std::string>& args, absl::string_view key);
// True when ServeOnKey narrows the command to the key (XREAD, XREADGROUP, BLPOP, BRPOP,
// BZPOPMIN, BZPOPMAX, BLMPOP, BZMPOP).
bool ServesOneKey(absl::string_view name);
// The index of the timeout argument of a blocking list or zset command; 0 when `args` is too
// short.
size_t BlockTimeoutIndex(const std::vector<std::string>& args);
// The keys whose data can serve the blocked client, in the command's order (for BLMOVE
// and BRPOPLPUSH only the source).
std::vector<std::string> BlockingKeys(const std::vector<std::string>& args);

}  // namespace ekv::redis_core
