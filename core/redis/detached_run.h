// RunOverSnapshots: runs one command against given whole-key values (key_snapshot.h) in
// a private in-memory store, for the coordinator of a single command whose keys live in
// several groups (core/coord/coordinator_redis_cross.cc). The coordinator reads every
// key's snapshot, runs the command here, and writes the keys it changed back in one
// cross-group transaction that first checks every snapshot is still what was read, so
// the reply and the writes are those of running the command at the commit point.
//
// Deterministic: the result depends only on the arguments.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/redis/reply.h"

namespace ekv::redis_core {

// Encoded snapshot per key (nullopt: absent).
using SnapshotMap = std::map<std::string, std::optional<std::string>>;

struct DetachedResult {
  Reply reply;
  // Every key the command wrote (touched, in Redis's sense), with its new encoded snapshot
  // (nullopt: the key is gone).
  SnapshotMap writes;
};

// `snapshots` must hold every key the command names. now_ms, seed and notify_flags as the
// request's (the keyspace events come back in the reply, Reply::events).
absl::StatusOr<DetachedResult> RunOverSnapshots(const std::vector<std::string>& command,
                                                const SnapshotMap& snapshots, uint64_t now_ms,
                                                uint64_t seed, uint32_t notify_flags = 0);

}  // namespace ekv::redis_core
