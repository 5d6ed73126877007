#include "tests/integration/cluster_client.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ekv::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxRetries = 10000;
constexpr std::chrono::milliseconds kRetryPause{50};
constexpr int kLeaderProbeRounds = 8;

}  // namespace

void SetDeadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
}

grpc::Status RawPut(ProcessCluster& cluster, int node, const std::string& key,
                    const std::string& value, std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  SetDeadline(&context, timeout);
  proto::RawPutRequest request;
  request.set_key(key);
  request.set_value(value);
  proto::RawPutResponse response;
  grpc::Status status = cluster.raw(node).RawPut(&context, request, &response);
  if (status.ok() && !response.success()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "RawPut answered OK with success=false");
  }
  return status;
}

ReadResult RawGet(ProcessCluster& cluster, int node, const std::string& key,
                  std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  SetDeadline(&context, timeout);
  proto::RawGetRequest request;
  request.set_key(key);
  request.set_ts(0);
  proto::RawGetResponse response;
  ReadResult result;
  result.status = cluster.raw(node).RawGet(&context, request, &response);
  result.exists = response.exists();
  result.value = response.value();
  return result;
}

grpc::Status RawPutEventually(ProcessCluster& cluster, int node, const std::string& key,
                              const std::string& value, std::chrono::milliseconds budget) {
  const auto deadline = Clock::now() + budget;
  grpc::Status status;
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    status = RawPut(cluster, node, key, value);
    if (status.ok() || Clock::now() >= deadline) return status;
    std::this_thread::sleep_for(kRetryPause);
  }
  return status;
}

ReadResult RawGetEventually(ProcessCluster& cluster, int node, const std::string& key,
                            std::chrono::milliseconds budget) {
  const auto deadline = Clock::now() + budget;
  ReadResult result;
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    result = RawGet(cluster, node, key);
    if (result.status.ok() || Clock::now() >= deadline) return result;
    std::this_thread::sleep_for(kRetryPause);
  }
  return result;
}

absl::StatusOr<std::map<std::string, std::string>> ScanAll(ProcessCluster& cluster, int node,
                                                           const std::string& start,
                                                           const std::string& end, int64_t page,
                                                           std::chrono::milliseconds budget) {
  std::map<std::string, std::string> out;
  std::string cursor = start;
  // A page of `page` keys advances the cursor by at least one key, so this bounds the loop.
  for (int pages = 0; pages < 100000; ++pages) {
    const auto deadline = Clock::now() + budget;
    proto::RawScanAtResponse response;
    grpc::Status status;
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
      grpc::ClientContext context;
      SetDeadline(&context, kRpcTimeout);
      proto::RawScanAtRequest request;
      request.set_start_key(cursor);
      request.set_end_key(end);
      request.set_limit(page);
      response.Clear();
      status = cluster.raw(node).RawScanAt(&context, request, &response);
      if (status.ok() || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(kRetryPause);
    }
    if (!status.ok()) {
      return absl::UnavailableError(absl::StrCat("RawScanAt through n", node, " from '", cursor,
                                                 "' kept failing: ", status.error_code(), " ",
                                                 status.error_message()));
    }
    for (const proto::RawKVPair& pair : response.kv()) out[pair.key()] = pair.value();
    if (response.kv_size() < page) return out;
    cursor = response.kv(response.kv_size() - 1).key() + std::string(1, '\0');
  }
  return absl::ResourceExhaustedError("ScanAll: too many pages");
}

absl::StatusOr<int> FindLeader(ProcessCluster& cluster, const std::string& key,
                               std::chrono::milliseconds pause) {
  std::string last;
  for (int round = 0; round < kLeaderProbeRounds; ++round) {
    std::vector<int> stalled;
    bool conclusive = true;
    for (int x = 1; x <= cluster.size() && conclusive; ++x) {
      const int via = x % cluster.size() + 1;
      if (!cluster.running(x) || !cluster.running(via)) {
        return absl::FailedPreconditionError("FindLeader needs every node running");
      }
      // Warm up: the path through `via` works while everyone runs.
      grpc::Status warm = RawPutEventually(cluster, via, key, "probe", std::chrono::seconds(10));
      if (!warm.ok()) {
        last = absl::StrCat("warm-up write through n", via, " failed: ", warm.error_message());
        conclusive = false;
        break;
      }
      cluster.Pause(x);
      grpc::Status probe = RawPut(cluster, via, key, "probe", pause);
      cluster.Resume(x);
      if (!probe.ok()) stalled.push_back(x);
      // Let the resumed node catch up before the next probe.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (conclusive && stalled.size() == 1) return stalled.front();
    if (conclusive) last = absl::StrCat(stalled.size(), " nodes stalled the probe write");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no single leader found for key '", key, "': ", last));
}

}  // namespace ekv::integration
