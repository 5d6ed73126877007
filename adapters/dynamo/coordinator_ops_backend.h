// CoordinatorOpsBackend: DynamoBackend over core's coord::Coordinator operations -- the one
// mapping of the front door's storage calls onto core ops, shared by every driver of the
// coordinator:
//   Get / Put / Delete        StartRawGet (ts 0: linearizable) / StartRawPut / StartRawDelete
//   CompareAndSet             StartCompareAndSet (core's apply-time compare-and-set)
//   Scan                      StartRawScan (ts 0: each route read linearizably)
//   NewTableId, ReadTimestamp StartGetTimestamp (the catalog group's hybrid logical clock)
//   SnapshotGet / SnapshotScan  StartTxnGet / StartTxnScan (locks in the way resolved)
//   CommitTransaction         StartCommitTransaction (one group: one phase; else 2PC)
//   ReadRoutes / SplitRoute / MoveRoute  StartReadCatalog / StartSplitRange / StartMoveRange
// A driver says only how one op is run and answered (Launch): the server's CoordinatorBackend
// through runtime::Coordinator on its worker threads, answering before Launch returns; the
// simulator's SimDynamoBackend (sim/dynamo_backend.h) through its event loop, answering
// later (the calling coroutine is suspended until then). So the simulator proves the
// mapping the server runs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "adapters/dynamo/backend.h"
#include "core/coord/coordinator.h"

namespace ekv::dynamo {

class CoordinatorOpsBackend : public DynamoBackend {
 public:
  using Start = std::function<coord::OpId(coord::Coordinator&)>;
  using Done = std::function<void(coord::OpResult)>;
  // How long the driver waits: a request's usual patience, or a range move's (its own
  // deadlines to the cut-over and to the finish, far beyond a request's).
  enum class Patience { kRequest, kMove };

  Task<absl::StatusOr<std::optional<std::string>>> Get(const std::string& key) override;
  Task<absl::Status> Put(const std::string& key, const std::string& value) override;
  Task<absl::Status> Delete(const std::string& key) override;
  Task<absl::StatusOr<CasResult>> CompareAndSet(
      const std::string& key, const std::optional<std::string>& expected,
      const std::optional<std::string>& new_value) override;
  Task<absl::StatusOr<KvPairs>> Scan(const std::string& start, const std::string& end,
                                     size_t limit) override;
  Task<absl::StatusOr<uint64_t>> NewTableId() override;
  Task<absl::StatusOr<uint64_t>> ReadTimestamp(uint64_t at_least) override;
  Task<absl::StatusOr<std::optional<std::string>>> SnapshotGet(const std::string& key,
                                                               uint64_t ts) override;
  Task<absl::StatusOr<KvPairs>> SnapshotScan(const std::string& start, const std::string& end,
                                             size_t limit, uint64_t ts, bool reverse) override;
  Task<absl::StatusOr<CommitResult>> CommitTransaction(const std::vector<TxnWrite>& writes,
                                                       uint64_t start_ts) override;
  Task<absl::StatusOr<Routes>> ReadRoutes() override;
  Task<absl::Status> SplitRoute(uint64_t expected_version, uint64_t route_id,
                                const std::string& split_key) override;
  Task<absl::Status> MoveRoute(const std::string& key, uint64_t target_group) override;

 protected:
  // Runs `start` on this node's coordinator; `done` gets its result (or the driver's error
  // status when it gave up waiting) exactly once, before Launch returns or later.
  virtual void Launch(Start start, Patience patience, Done done) = 0;

 private:
  class OpAwaiter;
  // `co_await Run(...)`: Launch, suspending the caller until `done` unless it came inline.
  OpAwaiter Run(Start start, Patience patience);
};

}  // namespace ekv::dynamo
