// DynamoBackend: the narrow storage interface under the DynamoDB front door -- single keys
// of ekv's RawKV keyspace, an atomic compare-and-set, and ordered range scans. The
// server's implementation is CoordinatorBackend (coordinator_backend.h); unit tests use
// an in-memory fake. Keeping everything above this seam free of runtime/server is what
// lets the handlers be tested without a cluster.
//
// Every call is a Task (task.h): the server's backend answers it before returning (its HTTP
// worker blocks on the coordinator), the simulator's later, from its event loop. Errors are the
// store's own (no leader, deadline, overloaded): the front door answers them as 500
// InternalServerError, which SDKs retry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/dynamo/task.h"
#include "core/kv/timestamp.h"
#include "core/placement/table_placement.h"

namespace ekv::dynamo {

class DynamoBackend {
 public:
  // A snapshot timestamp above every commit timestamp (core's "latest"): SnapshotGet/Scan
  // at it read each key's newest committed version once the locks in the way are resolved,
  // which is a linearizable read of each route, as Get/Scan are.
  static constexpr uint64_t kLatestSnapshot = kv::kMaxTimestamp - 1;

  struct CasResult {
    bool applied = false;
    std::optional<std::string> current;  // the value found when the command applied
  };
  using KvPairs = std::vector<std::pair<std::string, std::string>>;

  virtual ~DynamoBackend() = default;

  // A linearizable read; nullopt when absent.
  virtual Task<absl::StatusOr<std::optional<std::string>>> Get(const std::string& key) = 0;
  // Unconditional write / delete.
  virtual Task<absl::Status> Put(const std::string& key, const std::string& value) = 0;
  virtual Task<absl::Status> Delete(const std::string& key) = 0;
  // Atomically: if the key's value is `expected` (nullopt: absent), make it `new_value`
  // (nullopt: delete). Linearizable; `current` is what the comparison saw.
  virtual Task<absl::StatusOr<CasResult>> CompareAndSet(
      const std::string& key, const std::optional<std::string>& expected,
      const std::optional<std::string>& new_value) = 0;
  // Keys in [start, end) in order ("" end: no bound), at most `limit`. Each route's part is
  // read linearizably; the whole is not one snapshot.
  virtual Task<absl::StatusOr<KvPairs>> Scan(const std::string& start, const std::string& end,
                                             size_t limit) = 0;
  // A number never returned before by any node (scopes a new table's keys).
  virtual Task<absl::StatusOr<uint64_t>> NewTableId() = 0;

  // Multi-key transactions (core's MVCC transactions; TransactWriteItems and
  // TransactGetItems). A read timestamp from the cluster's timestamp oracle, above
  // `at_least` (0: any). A snapshot read below may be refused as ReadRestart
  // (core/coord/read_restart.h): the reader then takes a timestamp above
  // coord::ReadRestartAbove(status) and reads everything again.
  virtual Task<absl::StatusOr<uint64_t>> ReadTimestamp(uint64_t at_least) = 0;
  // The key's value in the snapshot at `ts` (locks of transactions in the way resolved).
  virtual Task<absl::StatusOr<std::optional<std::string>>> SnapshotGet(const std::string& key,
                                                                       uint64_t ts) = 0;
  // Keys in [start, end) in the snapshot at `ts`, at most `limit`; another transaction's
  // lock in the range is resolved (through its primary) before the pairs are answered, so
  // a transaction that committed before `ts` was drawn is seen whole. `reverse`: the
  // last `limit` keys of the range, in descending order (a descending Query).
  virtual Task<absl::StatusOr<KvPairs>> SnapshotScan(const std::string& start,
                                                     const std::string& end, size_t limit,
                                                     uint64_t ts, bool reverse) = 0;
  // One write of a transaction: the key's new value, nullopt to delete it.
  using TxnWrite = std::pair<std::string, std::optional<std::string>>;
  struct CommitResult {
    bool committed = false;
    // When not committed: the keys another write got to first (a version newer than
    // start_ts, or another transaction's lock).
    std::vector<std::string> conflict_keys;
  };
  // Commits `writes` (distinct keys) atomically at a timestamp above start_ts, unless a
  // key changed after start_ts; then nothing is written. An error means the outcome is
  // unknown or the store failed.
  virtual Task<absl::StatusOr<CommitResult>> CommitTransaction(const std::vector<TxnWrite>& writes,
                                                               uint64_t start_ts) = 0;

  // The route catalog, for placing a new table's key space over the groups
  // (place_key_space.h; the planner's own route type). Routes in key order.
  using Route = placement::CatalogRoute;
  struct Routes {
    uint64_t version = 0;
    std::vector<Route> routes;
  };
  virtual Task<absl::StatusOr<Routes>> ReadRoutes() = 0;
  // Splits route `route_id` at `split_key` (both halves stay in its group) if the catalog
  // is still at `expected_version` (else FailedPrecondition, and nothing changed).
  virtual Task<absl::Status> SplitRoute(uint64_t expected_version, uint64_t route_id,
                                        const std::string& split_key) = 0;
  // Moves the route holding `key` to `target_group` (copy, fence, cut-over); resumes a
  // move of it to that group that stopped part way.
  virtual Task<absl::Status> MoveRoute(const std::string& key, uint64_t target_group) = 0;
};

}  // namespace ekv::dynamo
