// CoordinatorBackend: the server's DynamoBackend -- CoordinatorOpsBackend's mapping onto
// core ops (coordinator_ops_backend.h), each run on runtime::Coordinator by RunBlocking
// on the HTTP worker's thread, a range move through RunAsync for as long as its own
// deadlines allow. The only file of adapters/dynamo that knows the runtime.
#pragma once

#include "adapters/dynamo/coordinator_ops_backend.h"

namespace ekv::runtime {
class Coordinator;
}

namespace ekv::dynamo {

class CoordinatorBackend final : public CoordinatorOpsBackend {
 public:
  explicit CoordinatorBackend(runtime::Coordinator* coordinator) : coordinator_(coordinator) {}

 protected:
  coord::OpResult Run(Start start, Patience patience) override;

 private:
  runtime::Coordinator* coordinator_;
};

}  // namespace ekv::dynamo
