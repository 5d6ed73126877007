// The DynamoDB front door in the simulator: SimDynamoClient runs the adapter's own code
// (adapters/dynamo: the operation handlers over TableStore) for one simulated client, and
// SimDynamoBackend is the DynamoBackend it runs over -- CoordinatorOpsBackend's mapping
// onto core ops (the server's, shared), each op run by a node's coordinator through
// SimCoordinators::Run.
//
// TableStore's calls block, the simulator is a single-threaded event loop. So each client
// runs its requests on a thread of its own, under a strict baton: exactly one thread runs
// at any time. The sim thread hands the baton to the client thread and waits until that
// thread either blocks in a backend call (having left the call for the sim thread to
// send) or finishes its request; the call's answer, an event like any other, hands the
// baton back. The client thread never touches the scheduler, the trace or the cluster,
// and runs only while the sim thread waits, so a seed's run repeats exactly (the
// determinism test runs this workload too). core/ stays free of threads.
//
// The outcome of a call whose answer the client did not hear in its patience (crashed
// node, partition) is unknown: the backend answers it as the store's Unavailable error,
// which the front door answers 500, as the server's would on a deadline.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "adapters/dynamo/coordinator_ops_backend.h"
#include "adapters/dynamo/table_store.h"
#include "sim/sim_coordinators.h"

namespace ekv::sim {

class SimDynamoClient;

class SimDynamoBackend final : public dynamo::CoordinatorOpsBackend {
 public:
  explicit SimDynamoBackend(SimDynamoClient* client) : client_(client) {}

 protected:
  coord::OpResult Run(Start start, Patience patience) override;

 private:
  SimDynamoClient* client_;
};

class SimDynamoClient {
 public:
  // A request: runs on the client thread with the client's TableStore.
  using Request = std::function<void(dynamo::TableStore& store)>;

  SimDynamoClient(SimCoordinators& coordinators, dynamo::TableStoreOptions store_options);
  // Ends the thread; a request still in a backend call gets Cancelled answers to the end.
  ~SimDynamoClient();
  SimDynamoClient(const SimDynamoClient&) = delete;
  SimDynamoClient& operator=(const SimDynamoClient&) = delete;

  // Sim thread: runs `request` as `node`'s front door would (every backend call on that
  // node's coordinator; node 0: none is up, every call fails); `done` on the sim thread
  // once it returned. One request at a time.
  void Run(NodeIndex node, Request request, std::function<void()> done);
  bool busy() const { return busy_; }
  uint64_t calls() const { return calls_; }

 private:
  friend class SimDynamoBackend;
  enum class Turn { kSim, kClient };
  struct PendingCall {
    dynamo::CoordinatorOpsBackend::Start start;
    dynamo::CoordinatorOpsBackend::Patience patience;
  };

  // Client thread: leaves `start` for the sim thread, waits for its answer.
  coord::OpResult Call(dynamo::CoordinatorOpsBackend::Start start,
                       dynamo::CoordinatorOpsBackend::Patience patience);
  void ThreadBody();
  // Sim thread: gives the client thread the baton and waits for it back.
  void HandOver();
  // Sim thread: runs the client until it waits on a call sent to a coordinator, or ends.
  void Drive();

  SimCoordinators& coordinators_;
  SimDynamoBackend backend_{this};
  dynamo::TableStore store_;

  std::mutex mu_;
  std::condition_variable cv_;
  Turn turn_ = Turn::kSim;  // who holds the baton (guarded by mu_)
  bool stopping_ = false;
  Request request_;                        // the next request to run
  bool finished_ = false;                  // the request returned
  std::optional<PendingCall> pending_;     // a backend call to send
  std::optional<coord::OpResult> answer_;  // its answer
  std::string error_;                      // an exception the request threw

  // Sim thread only.
  bool busy_ = false;
  NodeIndex node_ = 0;
  std::function<void()> done_;
  uint64_t calls_ = 0;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace ekv::sim
