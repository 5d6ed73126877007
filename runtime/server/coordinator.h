// Coordinator: turns client operations into group commands and queries, finds the Raft
// group that owns each key, and runs them on that group's leader -- locally through the
// NodeLoop, or by forwarding to the leader's node. Retries transparently while a group
// has no leader or leadership moves, within the request deadline. Thread-safe: gRPC
// handler threads call it concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/node/group_protocol.h"
#include "core/route/catalog.h"
#include "core/route/route.h"
#include "runtime/server/node_loop.h"
#include "runtime/transport/raft_transport.h"

namespace ekv::runtime {

struct CoordinatorOptions {
  raft::NodeId node_id = raft::kNoNode;
  raft::GroupId catalog_group = 1;
  std::chrono::milliseconds request_timeout{5000};
  size_t max_scan_limit = 10000;
  size_t max_txn_keys = 4096;
  uint64_t default_lock_ttl_ms = 3000;
};

struct WriteOutcome {
  uint64_t index = 0;  // Raft log index of the applied command
  uint64_t ts = 0;     // commit timestamp
};

struct ReadOutcome {
  uint64_t index = 0;  // read index
  std::optional<std::string> value;
};

struct KeyErrorOutcome {
  std::string key;
  std::string message;
  bool retryable = false;
};

struct TxnOutcome {
  uint64_t index = 0;
  std::vector<KeyErrorOutcome> errors;
};

class Coordinator {
 public:
  Coordinator(CoordinatorOptions options, NodeLoop* loop, RaftTransport* transport);

  // Serves a request forwarded from another node: runs it locally, never re-forwards.
  internal::ForwardResponse ServeForwarded(const internal::ForwardRequest& request);

  // RawKV.
  absl::StatusOr<WriteOutcome> RawPut(std::string key, std::string value);
  absl::StatusOr<WriteOutcome> RawDelete(std::string key);
  absl::StatusOr<ReadOutcome> RawGet(std::string key, uint64_t ts);
  absl::StatusOr<std::optional<uint64_t>> RawLatestCommitTs(std::string key);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RawScan(std::string start,
                                                                           std::string end,
                                                                           int64_t limit,
                                                                           uint64_t ts);

  // Distribution.
  absl::StatusOr<uint64_t> GetTimestamp();
  absl::StatusOr<route::RouteCatalog> ReadCatalog();
  absl::StatusOr<route::SplitResult> SplitRange(uint64_t expected_version, uint64_t route_id,
                                                std::string split_key);

  // TransactionalKV.
  absl::StatusOr<TxnOutcome> Prewrite(std::vector<std::pair<std::string, std::string>> mutations,
                                      uint64_t start_ts, uint64_t lock_ttl_ms);
  absl::StatusOr<TxnOutcome> Commit(uint64_t start_ts, std::vector<std::string> keys);
  absl::StatusOr<bool> Rollback(uint64_t start_ts);
  absl::StatusOr<WriteOutcome> TxnPut(std::string key, std::optional<std::string> value);
  absl::StatusOr<ReadOutcome> TxnGet(std::string key);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> TxnScan(std::string start,
                                                                           std::string end,
                                                                           uint64_t limit);

  // Replaces the cached route table (the catalog group's watch pushes every change).
  void UpdateRoutes(const route::RouteCatalog& catalog);

 private:
  struct GroupReply {
    node::GroupResult result;
    uint64_t index = 0;
  };
  using Deadline = std::chrono::steady_clock::time_point;

  Deadline NewDeadline() const {
    return std::chrono::steady_clock::now() + options_.request_timeout;
  }
  absl::StatusOr<GroupReply> Execute(raft::GroupId group, bool is_read, const std::string& payload,
                                     Deadline deadline);
  absl::StatusOr<node::ClientReply> RunLocally(raft::GroupId group, node::OpKind kind,
                                               const std::string& payload, Deadline deadline);
  absl::StatusOr<GroupReply> KvCommand(raft::GroupId group, const std::string& kv_command,
                                       Deadline deadline);
  absl::StatusOr<GroupReply> KvQuery(raft::GroupId group, const std::string& kv_query,
                                     Deadline deadline);
  using KvPairs = std::vector<std::pair<std::string, std::string>>;
  // Reads one route's part [from, to) of a scan, at most `want` pairs; nullopt asks for
  // the same part to be read again (e.g. after resolving a lock).
  using SubScan = std::function<absl::StatusOr<std::optional<KvPairs>>(
      raft::GroupId group, const std::string& from, const std::string& to, uint64_t want)>;
  absl::Status ValidateScan(const std::string& start, const std::string& end, int64_t limit) const;
  // Runs `sub_scan` route by route over [start, end) in key order until `limit` pairs.
  absl::StatusOr<KvPairs> ScanRoutes(const std::string& start, const std::string& end,
                                     uint64_t limit, Deadline deadline, const SubScan& sub_scan);
  absl::StatusOr<raft::GroupId> GroupOf(const std::string& key);
  std::vector<route::RouteDescriptor> RoutesOverlapping(const std::string& start,
                                                        const std::string& end);
  absl::StatusOr<uint64_t> Timestamp(Deadline deadline);
  // Resolves the lock of another transaction found on a key; true when it is gone.
  absl::StatusOr<bool> ResolveLock(const node::GroupKeyError& locked, Deadline deadline);

  CoordinatorOptions options_;
  NodeLoop* loop_;
  RaftTransport* transport_;

  std::mutex mu_;
  std::map<std::string, route::RouteDescriptor> routes_by_start_;  // guarded by mu_
  uint64_t catalog_version_ = 0;
  struct TxnRecord {
    std::string primary;
    std::vector<std::string> keys;
  };
  std::map<uint64_t, TxnRecord> txns_;  // start_ts -> what this node prewrote
};

}  // namespace ekv::runtime
