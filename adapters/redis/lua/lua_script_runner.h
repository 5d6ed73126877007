// LuaScriptRunner: redis_core::ScriptRunner on Debian's liblua5.1 (Redis embeds Lua 5.1),
// with Redis 7.0's script API and value conversions. It runs at apply time on every
// replica of a group, so everything a script can observe is deterministic:
//  - a fresh Lua state per script run (nothing survives from one script to the next), with
//    only the base, table, string and math libraries and Redis's cjson, bit, struct and
//    cmsgpack (no os, io, package, loadfile, dofile, print);
//  - math.random / math.randomseed are Redis's (rand48), seeded at every script start from
//    the request's seed (ScriptCalls::random_seed), so a script draws the same numbers on
//    every replica and two scripts draw different ones, as under Redis 7.0's one running
//    sequence (which replicas replaying scripts could not agree on); after
//    math.randomseed(n) both draw the same numbers.
//  - a runaway script is stopped after `max_instructions` Lua VM instructions (counted by
//    a count hook, never by a clock) with kInstructionLimitMessage as its error;
//  - the state's memory is capped at `max_memory_bytes` (allocations beyond fail, Lua's
//    "not enough memory");
//  - globals are read-only as in Redis 7.0 ("Attempt to modify a readonly table"), reading
//    an unknown one fails ("Script attempted to access nonexistent global variable 'x'"),
//    and the library tables (redis, string, math, table, coroutine, cjson, bit, struct,
//    cmsgpack) are read-only too.
// What a script may still do that differs between replicas: print a table's or function's
// address (tostring({})) or depend on pairs() order over table-keyed tables. Scripts that
// write such values are not deterministic; Redis 7.0 replicates a script's effects and
// does not care, ekv replicates the script and does.
//
// redis.call / redis.pcall check a command as Redis 7.0 does (unknown command, arity,
// commands flagged noscript such as MULTI, EVAL, SUBSCRIBE), refuse the front door's
// commands that the executor does not run at apply time (PUBLISH, TIME, SCAN, INFO...:
// "ERR This Redis command is not allowed from script"), then hand the command to
// redis_core::ScriptCalls (read-only scripts, keys outside the group).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/script_runner.h"

namespace ekv::redis {

// About a second of a tight loop on one core of this machine; Redis's busy-script
// threshold is 5 s of wall time, which replicas could not agree on.
inline constexpr uint64_t kDefaultMaxScriptInstructions = 100'000'000;
inline constexpr size_t kDefaultMaxScriptMemoryBytes = 64 << 20;
// A script's reply, as ekv holds it, may take this many times the memory limit: a reply
// without shared tables fits in the script's memory, so only one whose tables hold the
// same table many times (a reply exponentially larger than the script) is refused.
inline constexpr size_t kMaxReplyMemoryFactor = 4;
// The error a script stopped by the instruction limit raises (then "ERR " and the usual
// " script: <sha>, on @user_script:<line>." are added, as for any script error).
inline constexpr const char* kInstructionLimitMessage =
    "Script exceeded the instruction limit (ekv stops runaway scripts after a fixed number "
    "of Lua instructions)";

class LuaScriptRunner final : public redis_core::ScriptRunner {
 public:
  struct Options {
    uint64_t max_instructions = kDefaultMaxScriptInstructions;
    size_t max_memory_bytes = kDefaultMaxScriptMemoryBytes;
  };
  LuaScriptRunner() = default;
  explicit LuaScriptRunner(Options options) : options_(options) {}

  absl::StatusOr<redis_core::Reply> Run(const redis_core::RedisRequest::Script& script,
                                        redis_core::ScriptCalls& calls) const override;

 private:
  Options options_;
};

// Redis 7.0's script shebang: a first line "#!lua [flags=f1,f2,...]" (flags no-writes,
// allow-oom, allow-stale, no-cluster, allow-cross-slot-keys). A script with one compiles
// from that line's line feed on (so line numbers stay the user's) and runs with its flags:
// no-writes makes it read-only (as EVAL_RO), and without it EVAL_RO refuses the script;
// the other flags concern eviction, stale replicas and cluster slots, which ekv does not
// have, so they are accepted and change nothing. Without a shebang a script runs in
// Redis's compatibility mode, as before.
struct ScriptShebang {
  bool present = false;
  bool no_writes = false;
  size_t length = 0;  // bytes before the first line feed; 0 without a shebang
};
// The shebang of `body`, or its error reply text in Redis 7.0's words ("ERR Unexpected
// engine in script shebang: #!python", "ERR Unknown lua shebang option: x", "ERR
// Unexpected flag in script shebang: x", "ERR Invalid script shebang").
absl::StatusOr<ScriptShebang> ParseScriptShebang(absl::string_view body);

// The script's SHA1 as Redis names it (40 lower-case hex digits), also redis.sha1hex.
std::string ScriptSha1Hex(absl::string_view body);
// "ERR Error compiling script (new function): user_script:1: ..." when `body` does not
// compile, or its shebang's error (what EVAL and SCRIPT LOAD answer), or an empty string.
std::string ScriptCompileError(absl::string_view body);

// ---- Redis 7 functions (FUNCTION LOAD, FCALL) ----

// A library's first line, "#!<engine> name=<library>" (function.c's
// functionExtractLibMetaData, then the name and engine checks, in Redis 7.0.15's words:
// "ERR Missing library metadata", "ERR Invalid library metadata", "ERR Invalid metadata
// value given: x", "ERR Library name was not given", "ERR Library names can only contain
// ...", "ERR Engine 'x' not found"). The code compiles from that line's line feed on.
struct LibraryMetadata {
  std::string name;
  std::string engine;
  size_t code_offset = 0;
};
absl::StatusOr<LibraryMetadata> ParseLibraryMetadata(absl::string_view code);

// What redis.register_function registered: the name, the description (named form only)
// and the flags (bit i: kFunctionFlagNames' i-th, Redis's order: no-writes, allow-oom,
// allow-stale, no-cluster, allow-cross-slot-keys).
struct LuaFunctionInfo {
  std::string name;
  std::optional<std::string> description;
  uint32_t flags = 0;
};
inline constexpr uint32_t kFunctionFlagNoWrites = 1;
std::vector<std::string> FunctionFlagNames(uint32_t flags);

// A library's top level runs in at most this many Lua instructions (about half a second,
// Redis's FUNCTION LOAD timeout is 500 ms): beyond, "FUNCTION LOAD timeout".
inline constexpr uint64_t kDefaultMaxLoadInstructions = 50'000'000;

// FUNCTION LOAD's checks of `code` that need no registry: the metadata, then loading it in a
// fresh state whose globals hold only the load API (redis.register_function, redis.log, the
// constants) -- "ERR Error compiling function: ...", "ERR Error registering functions: ...",
// "ERR No functions registered". The functions it registers, in registration order.
absl::StatusOr<std::vector<LuaFunctionInfo>> LoadLibraryFunctions(
    absl::string_view code, uint64_t max_instructions = kDefaultMaxLoadInstructions);

}  // namespace ekv::redis
