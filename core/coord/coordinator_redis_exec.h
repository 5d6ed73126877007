// Coordinator::RedisExec, the state of one EXEC over several groups
// (coordinator_redis.cc), shared with the single commands over several groups that run
// as such an EXEC (coordinator_redis_cross.cc). Internal to core/coord.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/coord/coordinator.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"

namespace ekv::coord {

// One command from the front door (coordinator_redis_cross.cc).
struct Coordinator::RedisCross {
  OpId op = 0;
  redis_core::RedisRequest request;  // one command
  std::string payload;               // its encoding, for the one-group path
  bool write = false;
  int attempt = 0;
  int replans = 0;
  std::vector<std::string> keys;  // distinct, sorted
  // The keys of each group, in group order (step 1 reads them group by group).
  std::vector<std::vector<std::string>> groups;
  size_t read = 0;  // groups[0..read) answered step 1
  std::map<std::string, std::optional<std::string>> snapshots;
};

// One group's part of a split EXEC.
struct Coordinator::RedisExec {
  OpId op = 0;
  redis_core::RedisRequest request;
  int attempt = 0;
  int replans = 0;
  struct Part {
    raft::GroupId group = 0;
    redis_core::RedisRequest sub;         // routing key, commands, watches
    std::vector<size_t> command_indexes;  // sub.commands[i] is request.commands[index[i]]
    std::vector<std::string> keys;        // sorted, distinct: what its prepare locks
  };
  std::vector<Part> parts;  // the primary's group first
  // Per command of the request: the reply decided here (CROSSSLOT) or by its group.
  std::vector<std::optional<redis_core::Reply>> replies;
  // The keyspace events of the prepared parts, part after part (a plan starts them anew);
  // they go with EXEC's reply once it committed.
  std::vector<redis_core::KeyEvent> events;
  std::vector<redis_core::ScriptAclDenial> acl_denials;  // as events
  std::string primary;
  std::vector<std::string> all_keys;
  uint64_t start_ts = 0;
  size_t prepared = 0;  // parts[0..prepared) answered their prepare
  // ---- a single command over several groups (coordinator_redis_cross.cc) ----
  // Set when this EXEC writes back what that command computed: its first
  // `cross_expected.size()` commands are `ekv-snapshot` reads whose replies must equal
  // these (else roll back and start the command again), the others `ekv-restore` writes
  // (each answers OK), and the client gets `cross_reply`, not the array.
  std::shared_ptr<RedisCross> cross;
  bool cross_planned = false;  // planned once: a later plan is a retry, which reads again
  std::vector<redis_core::Reply> cross_expected;
  redis_core::Reply cross_reply;
};

}  // namespace ekv::coord
