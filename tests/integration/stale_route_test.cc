// Issue #6: stale routing is safe and invisible to clients. Node 1 keeps splitting routes
// on both sides of the initial "m" boundary while clients on nodes 2 and 3 write, read and
// scan keys there in a tight loop. Nodes 2 and 3 learn each split through their catalog
// watch, some time after it committed, and the group that owns a split route learns it
// through an ownership update; in between a group may refuse a request routed by an older
// table (STALE_ROUTE), and the coordinator must refresh and retry. No client may see any
// error, every read returns the value its own worker wrote, and every scan returns every
// key acknowledged before it started, exactly once and in key order.
//
// Whether a refusal happens in a given run is timing; with the coordinator's retry
// removed this test failed in 4 of 6 runs (the deterministic proof that the retry runs is
// tests/server/coordinator_stale_route_test.cc).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;

// Generous client deadline: the server's own request timeout (below) bounds its retries;
// a client error here must mean the server gave up, not that the machine was busy.
constexpr milliseconds kClientTimeout{15000};
constexpr int kWorkersPerSide = 2;     // per client node and side of the initial boundary
constexpr int kWorkerKeys = 250;       // keys per worker; 8 workers stay far below scan limit
constexpr int64_t kScanLimit = 10000;  // the server's max_scan_limit
constexpr int kScanEvery = 10;         // one full scan per this many writes
constexpr size_t kSplitBurst = 8;      // splits made back to back

std::string Key(const std::string& side, int index, int worker) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%s/%04d/w%d", side.c_str(), index, worker);
  return buffer;
}

struct Failures {
  std::mutex mu;
  std::vector<std::string> messages;
  void Add(std::string message) {
    std::lock_guard<std::mutex> lock(mu);
    if (messages.size() < 20) messages.push_back(std::move(message));
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return messages.size();
  }
};

// Every acknowledged write, for the scans' "nothing lost" check.
struct Acknowledged {
  std::mutex mu;
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> Snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return values;
  }
  void Add(const std::string& key, const std::string& value) {
    std::lock_guard<std::mutex> lock(mu);
    values[key] = value;
  }
};

grpc::Status ListRoutes(ProcessCluster& cluster, int node, proto::ListRoutesResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context, kClientTimeout);
  return cluster.dist(node).ListRoutes(&context, proto::ListRoutesRequest(), response);
}

// Splits the route holding `key` at `key` through `node`, re-reading the catalog when a
// concurrent change made the expected version stale. Returns the new catalog version.
absl::StatusOr<uint64_t> SplitAt(ProcessCluster& cluster, int node, const std::string& key) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    proto::ListRoutesResponse routes;
    grpc::Status listed = ListRoutes(cluster, node, &routes);
    if (!listed.ok()) return absl::UnavailableError("ListRoutes: " + Describe(listed));
    const proto::RouteDescriptor* holder = nullptr;
    for (const proto::RouteDescriptor& route : routes.routes()) {
      if (route.start() <= key && (route.end().empty() || key < route.end())) holder = &route;
    }
    if (holder == nullptr) return absl::InternalError("no route holds " + key);
    grpc::ClientContext context;
    SetDeadline(&context, kClientTimeout);
    proto::SplitRangeRequest request;
    request.set_expected_catalog_version(routes.catalog_version());
    request.set_route_id(holder->route_id());
    request.set_split_key(key);
    proto::SplitRangeResponse response;
    grpc::Status split = cluster.dist(node).SplitRange(&context, request, &response);
    if (split.ok()) return response.catalog_version();
    if (split.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return absl::UnavailableError("SplitRange at " + key + ": " + Describe(split));
    }
  }
  return absl::AbortedError("SplitRange at " + key + " kept meeting a newer catalog");
}

TEST_F(ClusterTest, SplitsUnderLoadAreInvisibleToClients) {
  ClusterOptions options;
  options.request_timeout_ms = 8000;
  // The server's Raft timing: with the harness's 20 ms ticks a loaded machine holds
  // spurious elections, and a leader change answers a write in flight "outcome unknown",
  // which this test (no faults injected, every failure counted) would report.
  options.tick_ms = 50;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ProcessCluster& c = cluster();
  // Every node serves before the load starts (elections are not what this test is about).
  for (int node = 1; node <= 3; ++node) {
    grpc::Status warm = RawPutEventually(c, node, "warm/" + std::to_string(node), "w");
    ASSERT_TRUE(warm.ok()) << Describe(warm);
  }
  ASSERT_TRUE(RawGetEventually(c, 2, "warm/1").status.ok());
  ASSERT_TRUE(RawGetEventually(c, 3, "warm/1").status.ok());

  Failures failures;
  Acknowledged acknowledged;
  std::atomic<bool> splitting_done{false};
  std::atomic<int> writes{0}, reads{0}, scans{0}, scanned_pairs{0};

  // Workers on each client node and each side of the initial boundary ("c" < "m" <= "q"),
  // interleaving writes, reads of their own writes, and full scans.
  auto worker = [&](int node, int id, const std::string& side) {
    for (int i = 0; i < kWorkerKeys && failures.size() == 0; ++i) {
      const std::string key = Key(side, i, id);
      const std::string value = "v" + std::to_string(i) + "@" + std::to_string(id);
      grpc::Status put = RawPut(c, node, key, value, kClientTimeout);
      if (!put.ok()) {
        failures.Add("RawPut " + key + " via n" + std::to_string(node) + ": " + Describe(put));
        return;
      }
      acknowledged.Add(key, value);
      ++writes;
      ReadResult got = RawGet(c, node, key, kClientTimeout);
      ++reads;
      if (!got.status.ok() || !got.exists || got.value != value) {
        failures.Add("RawGet " + key + " via n" + std::to_string(node) + ": " +
                     Describe(got.status) + " exists=" + std::to_string(got.exists) + " value='" +
                     got.value + "' want '" + value + "'");
        return;
      }
      if (i % kScanEvery != kScanEvery - 1) continue;
      const std::map<std::string, std::string> before = acknowledged.Snapshot();
      grpc::ClientContext context;
      SetDeadline(&context, kClientTimeout);
      proto::RawScanAtRequest request;
      request.set_limit(kScanLimit);  // start "" and end "" (+inf): the whole key space
      proto::RawScanAtResponse response;
      grpc::Status scanned = c.raw(node).RawScanAt(&context, request, &response);
      ++scans;
      if (!scanned.ok()) {
        failures.Add("RawScanAt via n" + std::to_string(node) + ": " + Describe(scanned));
        return;
      }
      scanned_pairs += response.kv_size();
      std::map<std::string, std::string> seen;
      std::string previous;
      for (int p = 0; p < response.kv_size(); ++p) {
        const proto::RawKVPair& pair = response.kv(p);
        if (p > 0 && pair.key() <= previous) {
          failures.Add("scan via n" + std::to_string(node) + " returned " + pair.key() + " after " +
                       previous + " (a repeat or out of order)");
          return;
        }
        previous = pair.key();
        seen[pair.key()] = pair.value();
      }
      for (const auto& [k, v] : before) {
        // Each key is written once, so an acknowledged key has exactly that value.
        auto it = seen.find(k);
        if (it == seen.end() || it->second != v) {
          failures.Add("scan via n" + std::to_string(node) + " lost or changed " + k);
          return;
        }
      }
    }
  };

  // Split points land between the workers' keys, alternating sides, so both groups'
  // routes split while they are in use (group 2 learns its splits by ownership updates).
  std::vector<std::string> split_keys;
  for (int i = 10; i < kWorkerKeys; i += 10) {
    split_keys.push_back(Key("c", i, 0));
    split_keys.push_back(Key("q", i + 5, 0));
  }
  uint64_t last_version = 0;
  const int total_writes = 2 * 2 * kWorkersPerSide * kWorkerKeys;
  std::thread splitter([&] {
    for (size_t j = 0; j < split_keys.size(); ++j) {
      // Bursts of back-to-back splits (a burst is what leaves n2's and n3's watches a few
      // versions behind), paced by the writers' progress so they go on for the whole run.
      const size_t burst = j / kSplitBurst;
      const size_t bursts = (split_keys.size() + kSplitBurst - 1) / kSplitBurst;
      const int due = static_cast<int>(burst * total_writes / (bursts + 1));
      while (writes.load() < due && failures.size() == 0) {
        std::this_thread::sleep_for(milliseconds(2));
      }
      if (failures.size() != 0) break;
      const std::string& key = split_keys[j];
      absl::StatusOr<uint64_t> version = SplitAt(c, 1, key);
      if (!version.ok()) {
        failures.Add(std::string(version.status().message()));
        break;
      }
      last_version = *version;
    }
    splitting_done = true;
  });
  const uint64_t started_us = MonotonicMicros();
  std::vector<std::thread> workers;
  int next_id = 1;
  for (int node : {2, 3}) {
    for (const std::string side : {"c", "q"}) {
      for (int w = 0; w < kWorkersPerSide; ++w) workers.emplace_back(worker, node, next_id++, side);
    }
  }
  for (std::thread& t : workers) t.join();
  splitter.join();
  std::cout << writes << " writes, " << reads << " reads, " << scans << " scans (" << scanned_pairs
            << " pairs) through n2 and n3 while n1 made " << split_keys.size()
            << " splits (catalog version " << last_version << ") in "
            << (MonotonicMicros() - started_us) / 1000 << " ms\n";
  {
    std::lock_guard<std::mutex> lock(failures.mu);
    for (const std::string& message : failures.messages) ADD_FAILURE() << message;
  }
  ASSERT_EQ(failures.size(), 0u);
  EXPECT_TRUE(splitting_done);
  EXPECT_EQ(last_version, 1 + split_keys.size()) << "every split committed";
  EXPECT_EQ(writes, total_writes);

  // Afterwards every node scans exactly what was acknowledged, once, in order.
  const std::map<std::string, std::string> acked = acknowledged.Snapshot();
  const std::vector<std::pair<std::string, std::string>> expected(acked.begin(), acked.end());
  for (int node = 1; node <= 3; ++node) {
    grpc::ClientContext context;
    SetDeadline(&context, kClientTimeout);
    proto::RawScanAtRequest request;
    request.set_start_key("c/");
    request.set_end_key("r");
    request.set_limit(kScanLimit);
    proto::RawScanAtResponse response;
    grpc::Status scanned = c.raw(node).RawScanAt(&context, request, &response);
    ASSERT_TRUE(scanned.ok()) << "n" << node << ": " << Describe(scanned);
    std::vector<std::pair<std::string, std::string>> got;
    for (const proto::RawKVPair& pair : response.kv()) got.emplace_back(pair.key(), pair.value());
    EXPECT_EQ(got, expected) << "final scan via n" << node;
  }
}

}  // namespace
}  // namespace ekv::integration
