// ScriptRunner: the seam between the executor (core/, deterministic, no Lua) and a script
// engine (adapters/redis/lua: Debian's liblua5.1, as Redis embeds Lua 5.1).
//
// A script is one RedisRequest (RedisRequest::Script): one Raft entry, routed by its first
// key, run at apply time on every replica. The runner interprets the body; every
// redis.call goes back through ScriptCalls::Call, which runs the command with the
// request's own executor, so the script sees its own earlier writes and all of them land
// in the entry's one batch: the script is atomic, and replicas agree as long as the runner
// is deterministic (no clocks, no I/O, an instruction limit instead of a time limit,
// randomness seeded from the request).
//
// No runner (the simulator, a group built without one): a script request answers
// kNoScriptRunnerError and writes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"

namespace ekv::redis_core {

inline constexpr absl::string_view kNoScriptRunnerError =
    "ERR scripting is not available here (this group has no script runner)";

// What a running script may do to the group: run one command as redis.call does.
class ScriptCalls {
 public:
  virtual ~ScriptCalls() = default;
  // The command's reply; Redis's words for a refusal ("ERR Wrong number of args calling
  // Redis command from script", "ERR Write commands are not allowed from read-only
  // scripts.", "ERR Script attempted to access a non local key in a cluster node", ...) as
  // an error reply. A failed status (a transaction's lock, an engine error) aborts the
  // whole script: nothing it wrote is kept and the request fails as a whole.
  virtual absl::StatusOr<Reply> Call(const std::vector<std::string>& args) = 0;
  virtual bool read_only() const = 0;
  // The calling user's ACL rules (RedisRequest::user_acl): empty when the user may run
  // everything.
  virtual absl::string_view user_acl() const { return {}; }
  // The seed of the script's math.random (Redis's rand48). It comes from the request's
  // seed, so every replica draws the same numbers while two scripts draw different ones,
  // as Redis 7.0's one running sequence gives them.
  virtual uint32_t random_seed() const { return 0; }
  // A redis.call the caller's ACL rules refused (reason "command", "key" or "channel", and
  // what was refused): it comes back with the reply for the front door's ACL LOG.
  virtual void NoteAclDenial(absl::string_view reason, absl::string_view object) {}
};

class ScriptRunner {
 public:
  virtual ~ScriptRunner() = default;
  // Runs `script` to its reply (a script error is an error reply). Must be deterministic
  // and safe to call from several threads at once (each group applies on its own).
  virtual absl::StatusOr<Reply> Run(const RedisRequest::Script& script,
                                    ScriptCalls& calls) const = 0;
};

// What the group lends ExecuteRequest for a script: the runner (null: refused) and which
// keys its replica may touch (null: every key).
struct ScriptEnvironment {
  const ScriptRunner* runner = nullptr;
  std::function<bool(absl::string_view key)> owns_key;
};

}  // namespace ekv::redis_core
