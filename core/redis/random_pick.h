// The count argument of ZRANDMEMBER and HRANDFIELD and the members it picks, as Redis 7.0
// decides them (t_zset.c zrandmemberCommand, t_hash.c hrandfieldCommand): no count: one
// member; count > 0: distinct members (the whole collection, in its order, when count
// covers it); count < 0: |count| picks that may repeat. The picks follow the request's
// deterministic random sequence (Executor::NextRandom).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/redis/executor.h"

namespace ekv::redis_core {

// Picks with repetition beyond this are refused rather than built in memory.
inline constexpr uint64_t kMaxRandomPicks = 10'000'000;

struct RandomCount {
  bool has_count = false;
  int64_t count = 1;
  bool with = false;           // WITHSCORES / WITHVALUES
  std::optional<Reply> error;  // the argument error, in Redis's words
};

// Parses args[2] (count) and args[3] (`with_word`) of `CMD key [count [with_word]]`.
RandomCount ParseRandomCount(const Args& args, absl::string_view with_word);

// The indexes (into a collection of `size` > 0 members) that `count` picks.
std::vector<size_t> PickRandomIndexes(Executor& ex, size_t size, int64_t count);

}  // namespace ekv::redis_core
