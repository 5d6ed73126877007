// RedisRequest: what a Redis front door sends to the group that owns a key, replicated
// (node::GroupCommandOp::kRedis) or served as a linearizable read
// (node::GroupQueryOp::kRedis). Everything the executor's result depends on is inside it
// or in the group's replicated state, so every replica computes the same reply and the
// same writes.
//
// Encoding: [kRedisRequestTag][routing_key][now_ms][seed][u8 transaction][commands: count, each a
// count of length-prefixed args][watches: count, each key + stamp][script, only when present:
// u8 1, body, u8 read_only, keys (count, each), args (count, each)][script bodies, only when
// present: u8 2, count, each sha + body][the user's ACL rules, only when present: u8 3,
// rules][keyspace event classes, only when non-zero: u8 4, varint][the FCALL's function name,
// only for a function call: u8 5, name]; varints and length-prefixed
// strings (kv/codec.h). Decoding enforces the limits below.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::redis_core {

// The first byte of an encoded request. It travels as the payload of a kv command
// (Coordinator::StartKvCommand) or kv query (StartKvQuery), whose own encodings never
// start with it (kv commands start with format byte 1, kv queries with a kind <= 2), so
// the group tells a Redis request apart by this byte alone (IsRedisRequest).
inline constexpr uint8_t kRedisRequestTag = 'R';
inline bool IsRedisRequest(absl::string_view bytes) {
  return !bytes.empty() && static_cast<uint8_t>(bytes[0]) == kRedisRequestTag;
}

// Commands queued in one MULTI. Redis has no such limit and its users queue thousands (Redis's
// own tests put 10,000 XADDs in one MULTI); this bound only keeps a decoder from trusting a
// corrupt count. What really bounds an EXEC is the bytes of its Raft entry
// (raft::Config::max_uncommitted_entries_size).
inline constexpr size_t kMaxCommandsPerRequest = 1024 * 1024;
inline constexpr size_t kMaxArgsPerCommand = 1024 * 1024;
inline constexpr size_t kMaxWatchedKeys = 1024;
// ---- scripting hook (lua): EVAL's KEYS plus ARGV ----
inline constexpr size_t kMaxScriptArgs = 1024 * 1024;
inline constexpr size_t kMaxScriptBodies = kMaxCommandsPerRequest;  // one per queued EVALSHA

// A key WATCHed by the connection and the stamp it had then (KeyStamp in executor.h).
struct Watch {
  std::string key;
  uint64_t stamp = 0;
  bool operator==(const Watch&) const = default;
};

struct RedisRequest {
  // The key the request is routed by; the group must own it. Every other key a command
  // names must live in the same group (otherwise the request is refused with CROSSSLOT).
  std::string routing_key;
  // The proposer's wall clock (ms). Expiry is decided at max(now_ms, the group's
  // largest applied time), so replicas agree and time never goes backwards.
  uint64_t now_ms = 0;
  // Drives the random choices (SPOP, SRANDMEMBER) deterministically.
  uint64_t seed = 0;
  // EXEC: the commands run atomically, in order, and the reply is an array of replies.
  bool transaction = false;
  std::vector<std::vector<std::string>> commands;
  // EXEC only: abort (nil reply, nothing written) unless every key's stamp is unchanged.
  std::vector<Watch> watches;
  // ---- scripting hook (lua): EVAL/EVALSHA (core/redis/script_runner.h) ----
  // When set, `commands` is empty and the group runs this script at apply time (or at the
  // read point for EVAL_RO), every redis.call through this request's executor.
  struct Script {
    std::string body;
    std::vector<std::string> keys;  // KEYS; all must live in the routing key's group
    std::vector<std::string> args;  // ARGV
    bool read_only = false;         // EVAL_RO / EVALSHA_RO: write commands refused
    // FCALL / FCALL_RO (Redis 7 functions): `body` is the whole library's code, shebang
    // included ("#!lua name=lib\n..."), and the runner loads it and calls this function
    // with (KEYS, ARGV) as its arguments. Empty: `body` is an EVAL script.
    std::string function;
    bool operator==(const Script&) const = default;
  };
  std::optional<Script> script;
  // EXEC only: the bodies of the scripts its queued EVALSHAs name, as the front door's
  // script cache held them at EXEC (the group keeps no cache: a SHA absent here answers
  // NOSCRIPT in its slot). SHA (40 lower-case hex digits) -> body; ordered, so the
  // encoding is deterministic.
  std::map<std::string, std::string> script_bodies;
  // The ACL rules of the user who sent the request (the front door's AclPermissions as
  // ACL LIST describes them, "~app:* resetchannels -@all +get"), for its scripts'
  // redis.acl_check_cmd and the ACL check of every redis.call, which run at apply time
  // where the node's users are not known. Empty: a user allowed every command, key and
  // channel (the default user), and requests from before ACLs reached scripts.
  std::string user_acl;
  // The keyspace event classes to record (keyspace_events.h, Redis's NOTIFY_* bits, the
  // front door's notify-keyspace-events): each write command's events of those classes
  // come back in Reply::events. 0: none (no work, and older replicas decode the request).
  uint32_t notify_flags = 0;
  bool operator==(const RedisRequest&) const = default;
};

// A run of pipelined commands of one connection (Coordinator::StartRedisPipeline): each
// names exactly one key (the front door keeps every other command out of runs, so each
// command's group is its key's). The coordinator cuts the run into consecutive parts of
// one group each and sends each part as one request with `transaction` set and no
// watches (the executor runs EXEC's commands in order, each answering its own reply or
// error, the others running on), one part after the other.
inline constexpr size_t kMaxPipelineCommands = 64;
inline constexpr size_t kMaxPipelineArgBytes = 1024 * 1024;  // the arguments of one run
struct PipelinedCommand {
  std::vector<std::string> args;
  std::string key;     // the one key it names (its routing key)
  bool write = false;  // redis_core::CommandInfo::write
};
struct RedisPipeline {
  uint64_t now_ms = 0;  // as RedisRequest::now_ms
  uint64_t seed = 0;    // command i's request draws from seed + i
  // As RedisRequest::notify_flags; a part's events come back on its first command's reply.
  uint32_t notify_flags = 0;
  std::vector<PipelinedCommand> commands;
};

std::string EncodeRedisRequest(const RedisRequest& request);
absl::StatusOr<RedisRequest> DecodeRedisRequest(absl::string_view bytes);

}  // namespace ekv::redis_core
