// RedisBackend: the narrow storage interface the Redis command handlers call. The
// server's implementation is CoordinatorBackend (coordinator_backend.h, over the RawKV
// keyspace); unit tests use a fake. Keeping handlers behind this seam is what lets
// adapters/redis depend on runtime/server in one file only.
//
// Every call answers through its callback exactly once, on any thread (possibly the
// caller's, before the call returns). Callbacks must not block: the server's only hand
// the reply to the event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ekv::redis {

class RedisBackend {
 public:
  using ValueDone = std::function<void(absl::StatusOr<std::optional<std::string>>)>;
  using ValuesDone = std::function<void(absl::StatusOr<std::vector<std::optional<std::string>>>)>;
  using WriteDone = std::function<void(absl::Status)>;
  using CountDone = std::function<void(absl::StatusOr<int64_t>)>;

  virtual ~RedisBackend() = default;

  // A linearizable read of one key; nullopt when absent.
  virtual void Get(std::string key, ValueDone done) = 0;
  // Writes one key.
  virtual void Put(std::string key, std::string value, WriteDone done) = 0;
  // Reads several keys, each linearizably; the answer is in the keys' order. Not one
  // snapshot: a concurrent multi-key write may be seen half done.
  virtual void GetMany(std::vector<std::string> keys, ValuesDone done) = 0;
  // Writes several distinct keys. Not atomic: on an error some may have been written.
  virtual void PutMany(std::vector<std::pair<std::string, std::string>> pairs, WriteDone done) = 0;
  // Deletes the keys that exist, in order, and counts them (a key named twice counts
  // once). Each key is read, then deleted if present: a key deleted concurrently by
  // another client between the two steps is counted by both.
  virtual void DeleteExisting(std::vector<std::string> keys, CountDone done) = 0;
};

}  // namespace ekv::redis
