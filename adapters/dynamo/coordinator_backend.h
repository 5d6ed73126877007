// CoordinatorBackend: DynamoBackend over runtime::Coordinator -- RawGet/RawPut/RawDelete,
// RawScan (ts 0: each route read linearizably), CompareAndSet (core's apply-time
// compare-and-set, one Raft round), GetTimestamp for table ids and read timestamps, and
// core's transactions (StartTxnGet at a snapshot, StartCommitTransaction) through
// RunBlocking, and the catalog (StartReadCatalog, StartSplitRange, StartMoveRange) for
// placing tables. The only file of
// adapters/dynamo that knows the coordinator.
#pragma once

#include "adapters/dynamo/backend.h"

namespace ekv::runtime {
class Coordinator;
}

namespace ekv::dynamo {

class CoordinatorBackend final : public DynamoBackend {
 public:
  explicit CoordinatorBackend(runtime::Coordinator* coordinator) : coordinator_(coordinator) {}

  absl::StatusOr<std::optional<std::string>> Get(const std::string& key) override;
  absl::Status Put(const std::string& key, const std::string& value) override;
  absl::Status Delete(const std::string& key) override;
  absl::StatusOr<CasResult> CompareAndSet(const std::string& key,
                                          const std::optional<std::string>& expected,
                                          const std::optional<std::string>& new_value) override;
  absl::StatusOr<KvPairs> Scan(const std::string& start, const std::string& end,
                               size_t limit) override;
  absl::StatusOr<uint64_t> NewTableId() override;
  absl::StatusOr<uint64_t> ReadTimestamp() override;
  absl::StatusOr<std::optional<std::string>> SnapshotGet(const std::string& key,
                                                         uint64_t ts) override;
  absl::StatusOr<KvPairs> SnapshotScan(const std::string& start, const std::string& end,
                                       size_t limit, uint64_t ts) override;
  absl::StatusOr<CommitResult> CommitTransaction(const std::vector<TxnWrite>& writes,
                                                 uint64_t start_ts) override;
  absl::StatusOr<Routes> ReadRoutes() override;
  absl::Status SplitRoute(uint64_t expected_version, uint64_t route_id,
                          const std::string& split_key) override;
  absl::Status MoveRoute(const std::string& key, uint64_t target_group) override;

 private:
  runtime::Coordinator* coordinator_;
};

}  // namespace ekv::dynamo
