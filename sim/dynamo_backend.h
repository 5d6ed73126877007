// The DynamoDB front door in the simulator: SimDynamoClient runs the adapter's own code
// (adapters/dynamo: the operation handlers over TableStore) for one simulated client, and
// SimDynamoBackend is the DynamoBackend it runs over -- CoordinatorOpsBackend's mapping
// onto core ops (the server's, shared), each op run by a node's coordinator through
// SimCoordinators::Run.
//
// TableStore and the handlers are coroutines (adapters/dynamo/task.h), so no thread is
// needed: a request runs on the event loop until its first backend call, which sends the
// op and suspends the request; the op's answer, an event like any other, resumes it, and
// so on until it ends. Everything runs on the simulator's one thread, in event order, so a
// seed's run repeats exactly (the determinism test runs this workload too).
//
// The outcome of a call whose answer the client did not hear in its patience (crashed
// node, partition) is unknown: the backend answers it as the store's Unavailable error,
// which the front door answers 500, as the server's would on a deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "adapters/dynamo/coordinator_ops_backend.h"
#include "adapters/dynamo/table_store.h"
#include "adapters/dynamo/task.h"
#include "sim/sim_coordinators.h"

namespace ekv::sim {

class SimDynamoClient;

class SimDynamoBackend final : public dynamo::CoordinatorOpsBackend {
 public:
  explicit SimDynamoBackend(SimDynamoClient* client) : client_(client) {}

 protected:
  void Launch(Start start, Patience patience, Done done) override;

 private:
  SimDynamoClient* client_;
};

class SimDynamoClient {
 public:
  // A request: the coroutine that runs it with the client's TableStore (its value is the
  // request's own business; it reports through what it captured).
  using Request = std::function<dynamo::Task<bool>(dynamo::TableStore& store)>;

  SimDynamoClient(SimCoordinators& coordinators, dynamo::TableStoreOptions store_options);
  // A request still waiting on a backend call is dropped (its frames freed; the call's
  // answer, if it still comes, finds the client gone and is ignored).
  ~SimDynamoClient();
  SimDynamoClient(const SimDynamoClient&) = delete;
  SimDynamoClient& operator=(const SimDynamoClient&) = delete;

  // Runs `request` as `node`'s front door would (every backend call on that node's
  // coordinator; node 0: none is up, every call fails); `done` once it returned. One
  // request at a time.
  void Run(NodeIndex node, Request request, std::function<void()> done);
  bool busy() const { return busy_; }
  uint64_t calls() const { return calls_; }

 private:
  friend class SimDynamoBackend;

  // A backend call of the running request.
  void Launch(dynamo::CoordinatorOpsBackend::Start start,
              dynamo::CoordinatorOpsBackend::Patience patience,
              dynamo::CoordinatorOpsBackend::Done done);
  // After the request ran (until it suspended or ended): ends it if it ended.
  void FinishIfEnded();

  SimCoordinators& coordinators_;
  SimDynamoBackend backend_{this};
  dynamo::TableStore store_;

  bool busy_ = false;
  NodeIndex node_ = 0;
  std::optional<dynamo::Task<bool>> running_;
  std::function<void()> done_;
  uint64_t calls_ = 0;
  // Shared with the answers in flight: false once the client is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ekv::sim
