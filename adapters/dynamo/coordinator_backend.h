// CoordinatorBackend: the server's DynamoBackend -- CoordinatorOpsBackend's mapping onto
// core ops (coordinator_ops_backend.h), each run on runtime::Coordinator by RunBlocking
// on the HTTP worker's thread, a range move through RunAsync for as long as its own
// deadlines allow. Every call is answered before Launch returns, so a request's coroutines
// run start to end on the worker (RunInline, task.h) and never suspend. The only file of
// adapters/dynamo that knows the runtime.
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
  void Launch(Start start, Patience patience, Done done) override;

 private:
  coord::OpResult Wait(Start start, Patience patience);

  runtime::Coordinator* coordinator_;
};

}  // namespace ekv::dynamo
