// Client-side helpers over ProcessCluster's real gRPC stubs: single RPCs with deadlines,
// bounded retry loops for setup and verification, paged scans, and a leader probe.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {

constexpr std::chrono::milliseconds kRpcTimeout{2000};

void SetDeadline(grpc::ClientContext* context, std::chrono::milliseconds timeout);

struct ReadResult {
  grpc::Status status;
  bool exists = false;
  std::string value;
};

grpc::Status RawPut(ProcessCluster& cluster, int node, const std::string& key,
                    const std::string& value, std::chrono::milliseconds timeout = kRpcTimeout);
ReadResult RawGet(ProcessCluster& cluster, int node, const std::string& key,
                  std::chrono::milliseconds timeout = kRpcTimeout);

// Retry until OK or `budget` passes (for setup and read-back, where a transient
// UNAVAILABLE during an election is expected). Writes retried this way must be idempotent.
grpc::Status RawPutEventually(ProcessCluster& cluster, int node, const std::string& key,
                              const std::string& value,
                              std::chrono::milliseconds budget = std::chrono::seconds(15));
ReadResult RawGetEventually(ProcessCluster& cluster, int node, const std::string& key,
                            std::chrono::milliseconds budget = std::chrono::seconds(15));

// Every pair in [start, end) (end empty: +inf) read through `node` with RawScanAt, in pages
// of `page` keys, each page retried within `budget`.
absl::StatusOr<std::map<std::string, std::string>> ScanAll(
    ProcessCluster& cluster, int node, const std::string& start = "", const std::string& end = "",
    int64_t page = 1000, std::chrono::milliseconds budget = std::chrono::seconds(20));

// Finds the leader of the group owning `key` from outside, since the API does not name
// leaders: pauses one node at a time (SIGSTOP, well below an election timeout) and writes
// `key` through another node; only a paused leader stalls that write. Requires every node
// running; returns the one node whose pause stalled the write, retried a bounded number of
// rounds until exactly one node does.
absl::StatusOr<int> FindLeader(ProcessCluster& cluster, const std::string& key,
                               std::chrono::milliseconds pause = std::chrono::milliseconds(150));

}  // namespace ekv::integration
