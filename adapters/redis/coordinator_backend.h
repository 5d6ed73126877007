// CoordinatorBackend: RedisBackend over runtime::Coordinator's RawKV operations. The only
// file of adapters/redis that knows the coordinator.
//
// Get and Put use the coordinator's async fast path (RawGetAsync / RawPutAsync: no thread
// waits while Raft works); the multi-key calls run their blocking parts on the
// coordinator's background pool (RunInBackground) or fan out async calls. Empty keys:
// the store refuses them, so they read as absent and a write of one is an error.
#pragma once

#include "adapters/redis/backend.h"

namespace ekv::runtime {
class Coordinator;
}

namespace ekv::redis {

class CoordinatorBackend final : public RedisBackend {
 public:
  explicit CoordinatorBackend(runtime::Coordinator* coordinator) : coordinator_(coordinator) {}

  void Get(std::string key, ValueDone done) override;
  void Put(std::string key, std::string value, WriteDone done) override;
  void GetMany(std::vector<std::string> keys, ValuesDone done) override;
  void PutMany(std::vector<std::pair<std::string, std::string>> pairs, WriteDone done) override;
  void DeleteExisting(std::vector<std::string> keys, CountDone done) override;

 private:
  runtime::Coordinator* coordinator_;
};

}  // namespace ekv::redis
