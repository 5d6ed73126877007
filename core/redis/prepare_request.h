// xexec: the prepare of one group's part of an EXEC whose keys span groups
// (core/coord/coordinator_redis.cc, core/node/group_redis.cc; docs/architecture.md
// "EXEC over several groups"): the part as an ordinary transaction RedisRequest, plus the
// Percolator transaction whose locks (one per key the part names, watched keys included)
// stage the part's writes instead of landing them.
//
// Encoding: [kRedisRequestTag][0x00][varint start_ts][lp primary][varint lock_ttl_ms]
// [EncodeRedisRequest(part)]. It travels as a kv command payload like any RedisRequest
// (its first byte routes it to the group's Redis handling); the 0x00 after the tag is
// where a RedisRequest has its routing key's length, never 0 (an empty routing key is
// refused everywhere), so the two are told apart by that byte alone.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/request.h"

namespace ekv::redis_core {

struct PrepareRequest {
  RedisRequest part;  // transaction = true: its commands in order and its watches
  uint64_t start_ts = 0;
  std::string primary;
  uint64_t lock_ttl_ms = 0;
  bool operator==(const PrepareRequest&) const = default;
};

bool IsPrepareRequest(absl::string_view bytes);
std::string EncodePrepareRequest(const PrepareRequest& prepare);
absl::StatusOr<PrepareRequest> DecodePrepareRequest(absl::string_view bytes);

}  // namespace ekv::redis_core
