// Overload: a 30 s flood of clients on one node's Redis, gRPC and DynamoDB ports, beyond the
// limits (--redis_max_clients, --grpc_max_threads/--grpc_max_inflight, --dynamo_workers/
// --dynamo_max_queued_connections/--dynamo_max_inflight), gets the documented refusals ("-ERR
// max number of clients reached", RESOURCE_EXHAUSTED, HTTP 400 ThrottlingException) while
// every Raft group keeps its term (no election anywhere: heartbeats never starve behind
// client work), the other nodes keep serving, and the flooded node's resident memory stays
// under a bound derived from those limits. A gRPC request over --grpc_max_receive_message_bytes
// is answered RESOURCE_EXHAUSTED.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/ekv.grpc.pb.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Every `ekv_raft_term{...}` and `ekv_raft_is_leader{...}` sample of one node's /metrics.
std::map<std::string, double> RaftSamples(const std::string& address) {
  const size_t colon = address.rfind(':');
  httplib::Client client(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  client.set_connection_timeout(seconds(5));
  client.set_read_timeout(seconds(5));
  std::map<std::string, double> samples;
  httplib::Result result = client.Get("/metrics");
  if (!result || result->status != 200) return samples;
  for (absl::string_view line : absl::StrSplit(result->body, '\n')) {
    if (!absl::StartsWith(line, "ekv_raft_term{") &&
        !absl::StartsWith(line, "ekv_raft_is_leader{")) {
      continue;
    }
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &value)) {
      samples[std::string(line.substr(0, space))] = value;
    }
  }
  return samples;
}

// node i's samples, keyed "n<i> <series>".
std::map<std::string, double> ClusterSamples(ProcessCluster& cluster) {
  std::map<std::string, double> all;
  for (int i = 1; i <= cluster.size(); ++i) {
    for (const auto& [series, value] : RaftSamples(cluster.metrics_address(i))) {
      all[absl::StrCat("n", i, " ", series)] = value;
    }
  }
  return all;
}

// Each group with exactly one leader across the nodes, and every node reporting.
bool EveryGroupLed(const std::map<std::string, double>& samples, int nodes, int* groups) {
  std::map<std::string, int> leaders;  // "{group=...}" -> leaders
  for (const auto& [key, value] : samples) {
    const size_t at = key.find("ekv_raft_is_leader");
    if (at == std::string::npos) continue;
    leaders[key.substr(at + std::string("ekv_raft_is_leader").size())] += value == 1 ? 1 : 0;
  }
  int terms = 0;
  for (const auto& [key, value] : samples) terms += absl::StrContains(key, "ekv_raft_term{");
  *groups = static_cast<int>(leaders.size());
  if (leaders.empty() || terms != nodes * *groups) return false;
  for (const auto& [group, count] : leaders) {
    if (count != 1) return false;
  }
  return true;
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// What a refused flooder waits before it tries again. The refusals tell clients to back
// off; without any pause, 72 threads of this process spinning on refusals take both cores
// of a small test machine from every node, the followers included (measured: elections on
// a 2-core machine), which is CPU starvation of the whole host rather than client work
// delaying Raft inside one node.
constexpr milliseconds kRefusedBackoff{5};

struct FloodCounts {
  std::atomic<int64_t> redis_ok{0};
  std::atomic<int64_t> redis_max_clients{0};
  std::atomic<int64_t> grpc_ok{0};
  std::atomic<int64_t> grpc_exhausted{0};
  std::atomic<int64_t> grpc_other{0};
  std::atomic<int64_t> dynamo_ok{0};
  std::atomic<int64_t> dynamo_throttled{0};    // ThrottlingException: connection shed
  std::atomic<int64_t> dynamo_provisioned{0};  // ProvisionedThroughputExceeded: in-flight bound
  std::atomic<int64_t> dynamo_other{0};        // any other reply
  std::atomic<int64_t> dynamo_unanswered{0};   // no reply at all (timeout, reset)
  std::mutex mu;
  std::vector<std::string> dynamo_samples;  // the first few "other" replies, for failures
};

// The flooded node's limits (extra flags of the test's cluster). The request size limits
// are small so that the memory bound below is tight enough to mean something. Redis has no
// such flag short of its 512 MB argument limit: its flooders' pipelines are 1.3 KB, which
// the same 1 MiB per connection covers.
constexpr int kRedisMaxClients = 16;
constexpr int kGrpcMaxThreads = 6;
constexpr int kGrpcMaxInflight = 8;
constexpr int kDynamoWorkers = 4;
constexpr int kDynamoQueued = 4;
constexpr int kDynamoMaxInflight = 2;
constexpr int kDynamoOverflowThreads = 2;      // dynamo_server.h's default
constexpr int64_t kMaxRequestBytes = 1 << 20;  // gRPC and DynamoDB requests

// The node's resident set (VmRSS of /proc/PID/status), in bytes; -1 if unreadable.
int64_t ResidentBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    int64_t kib = 0;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits += c;
    }
    if (absl::SimpleAtoi(digits, &kib)) return kib * 1024;
  }
  return -1;
}

// One Redis flooder: connects, sends a pipelined batch of SETs, reads the replies;
// reconnects when the server refuses or closes.
void FloodRedis(int port, int worker, std::chrono::steady_clock::time_point until,
                FloodCounts* counts) {
  constexpr int kBatch = 32;
  std::string batch;
  for (int i = 0; i < kBatch; ++i) {
    const std::string key = absl::StrCat("flood-", worker, "-", i);
    absl::StrAppend(&batch, "*3\r\n$3\r\nSET\r\n$", key.size(), "\r\n", key, "\r\n$1\r\nv\r\n");
  }
  int fd = -1;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < until) {
    if (fd < 0) fd = Connect(port);
    if (fd < 0) continue;
    if (send(fd, batch.data(), batch.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(batch.size())) {
      close(fd);
      fd = -1;
      continue;
    }
    std::string replies;
    int lines = 0;
    while (lines < kBatch) {
      const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
      if (got <= 0) break;
      replies.append(buffer, got);
      lines = 0;
      for (size_t at = replies.find("\r\n"); at != std::string::npos;
           at = replies.find("\r\n", at + 2)) {
        ++lines;
      }
      if (absl::StartsWith(replies, "-ERR max number of clients reached")) break;
    }
    if (absl::StartsWith(replies, "-ERR max number of clients reached")) {
      counts->redis_max_clients++;
      close(fd);
      fd = -1;
      std::this_thread::sleep_for(kRefusedBackoff);
      continue;
    }
    if (lines < kBatch) {  // closed or timed out: start over
      close(fd);
      fd = -1;
      continue;
    }
    counts->redis_ok += kBatch;
  }
  if (fd >= 0) close(fd);
}

void FloodGrpc(const std::string& address, int worker, std::chrono::steady_clock::time_point until,
               FloodCounts* counts) {
  auto stub =
      proto::RawKV::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    proto::RawPutRequest request;
    request.set_key(absl::StrCat("grpc-flood-", worker, "-", i % 64));
    request.set_value(std::string(256, 'x'));
    proto::RawPutResponse response;
    const grpc::Status status = stub->RawPut(&context, request, &response);
    if (status.ok()) {
      counts->grpc_ok++;
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      counts->grpc_exhausted++;
      std::this_thread::sleep_for(kRefusedBackoff);
    } else {
      counts->grpc_other++;
    }
  }
}

constexpr absl::string_view kDynamoContentType = "application/x-amz-json-1.0";

// One DynamoDB flooder: PutItems over a keep-alive connection, a new connection every 20
// requests (so queued connections get their turn); a refused client backs off and retries.
void FloodDynamo(int port, int worker, std::chrono::steady_clock::time_point until,
                 FloodCounts* counts) {
  for (int i = 0; std::chrono::steady_clock::now() < until;) {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_connection_timeout(seconds(10));
    client.set_read_timeout(seconds(60));
    client.set_write_timeout(seconds(10));
    for (int n = 0; n < 20 && std::chrono::steady_clock::now() < until; ++n, ++i) {
      const std::string body =
          absl::StrCat(R"({"TableName": "flood", "Item": {"k": {"S": "w)", worker, "-", i % 16,
                       R"("}, "v": {"S": ")", std::string(128, 'x'), R"("}}})");
      httplib::Result result = client.Post("/", {{"X-Amz-Target", "DynamoDB_20120810.PutItem"}},
                                           body, std::string(kDynamoContentType));
      if (!result) {
        counts->dynamo_unanswered++;
        std::lock_guard<std::mutex> lock(counts->mu);
        if (counts->dynamo_samples.size() < 5)
          counts->dynamo_samples.push_back(httplib::to_string(result.error()));
        break;
      }
      if (result->status == 200) {
        counts->dynamo_ok++;
        continue;
      }
      const bool throttled =
          result->status == 400 &&
          absl::StrContains(result->body,
                            R"("__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException")") &&
          absl::StrContains(result->body, "Rate of requests exceeds the allowed throughput.");
      const bool provisioned =
          result->status == 400 &&
          absl::StrContains(result->body, "#ProvisionedThroughputExceededException");
      if (throttled) {
        counts->dynamo_throttled++;
      } else if (provisioned) {
        counts->dynamo_provisioned++;
      } else {
        counts->dynamo_other++;
        std::lock_guard<std::mutex> lock(counts->mu);
        if (counts->dynamo_samples.size() < 5)
          counts->dynamo_samples.push_back(absl::StrCat(result->status, " ", result->body));
      }
      std::this_thread::sleep_for(kRefusedBackoff);
      if (throttled) break;  // the server closes a shed connection: reconnect
    }
  }
}

// POSTs one DynamoDB request to `port`, retried until it is answered 200 (the table's group
// may still be electing); the last reply on failure.
std::string DynamoUntilOk(int port, const std::string& target, const std::string& body) {
  std::string last;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(seconds(20));
    httplib::Result result =
        client.Post("/", {{"X-Amz-Target", target}}, body, std::string(kDynamoContentType));
    if (result && result->status == 200) return "";
    last = result ? absl::StrCat(result->status, " ", result->body)
                  : httplib::to_string(result.error());
    if (result && absl::StrContains(result->body, "ResourceInUseException")) return "";
    std::this_thread::sleep_for(milliseconds(500));
  }
  return last.empty() ? "no reply" : last;
}

TEST(OverloadTest, FloodingOneNodeCostsNoLeadership) {
  ClusterOptions options;
  options.redis = true;
  options.metrics = true;
  // Election timeout 5-10 s: the test runs on a shared 2-core machine that may be busy
  // with other work (a build, a simulator sweep), which starves every node alike (measured:
  // an election of a group led by an unflooded node with 1-2 s). A node whose loop let
  // client work delay its heartbeats for seconds would still lose its leadership.
  options.tick_ms = 100;
  options.election_ticks = 50;
  options.request_timeout_ms = 5000;
  options.dynamo = true;
  options.extra_flags = {absl::StrCat("--redis_max_clients=", kRedisMaxClients),
                         absl::StrCat("--grpc_max_threads=", kGrpcMaxThreads),
                         absl::StrCat("--grpc_max_inflight=", kGrpcMaxInflight),
                         absl::StrCat("--grpc_max_receive_message_bytes=", kMaxRequestBytes),
                         absl::StrCat("--dynamo_workers=", kDynamoWorkers),
                         absl::StrCat("--dynamo_max_queued_connections=", kDynamoQueued),
                         absl::StrCat("--dynamo_max_inflight=", kDynamoMaxInflight),
                         absl::StrCat("--dynamo_max_request_bytes=", kMaxRequestBytes)};
  ProcessCluster cluster(options);
  for (int i = 1; i <= cluster.size(); ++i) ASSERT_TRUE(cluster.StartNode(i).ok());

  // Every group led, and the leaders settled (the same terms twice, 3 s apart).
  std::map<std::string, double> before;
  int groups = 0;
  const auto settle_deadline = std::chrono::steady_clock::now() + seconds(90);
  while (std::chrono::steady_clock::now() < settle_deadline) {
    std::map<std::string, double> first = ClusterSamples(cluster);
    std::this_thread::sleep_for(seconds(3));
    before = ClusterSamples(cluster);
    if (EveryGroupLed(before, cluster.size(), &groups) && first == before) break;
    before.clear();
  }
  ASSERT_FALSE(before.empty()) << "the cluster never settled\n" << cluster.Logs();

  // A gRPC request over --grpc_max_receive_message_bytes is refused RESOURCE_EXHAUSTED; one
  // under it is served.
  {
    auto stub = proto::RawKV::NewStub(
        grpc::CreateChannel(cluster.grpc_address(1), grpc::InsecureChannelCredentials()));
    for (const size_t size : {static_cast<size_t>(kMaxRequestBytes) + 1024,
                              static_cast<size_t>(kMaxRequestBytes) / 2}) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + seconds(30));
      proto::RawPutRequest request;
      request.set_key("big");
      request.set_value(std::string(size, 'b'));
      proto::RawPutResponse response;
      const grpc::Status status = stub->RawPut(&context, request, &response);
      if (size > static_cast<size_t>(kMaxRequestBytes)) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
            << size << " bytes: " << status.error_message();
      } else {
        EXPECT_TRUE(status.ok()) << size << " bytes: " << status.error_message();
      }
    }
  }
  // The DynamoDB flood's table.
  ASSERT_EQ(DynamoUntilOk(cluster.dynamo_port(1), "DynamoDB_20120810.CreateTable", R"({
      "TableName": "flood", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]})"),
            "");
  ASSERT_EQ(DynamoUntilOk(cluster.dynamo_port(1), "DynamoDB_20120810.PutItem",
                          R"({"TableName": "flood", "Item": {"k": {"S": "warm"}}})"),
            "");

  // The memory bound of the flooded node: its resident set before the flood, plus every
  // request the limits let in at once at the largest size they allow, twice (the request
  // and what serving it copies: its reply, its Raft entry), plus what storage may grow to
  // on its own (RocksDB: 4 column families x 2 memtables of 32 MiB, the 64 MiB block
  // cache). A node that queued its flood's requests instead of refusing them would grow
  // with the flood's length.
  const pid_t flooded = cluster.pid(1);
  int64_t baseline = 0;
  for (int i = 0; i < 6; ++i) {
    baseline = std::max(baseline, ResidentBytes(flooded));
    std::this_thread::sleep_for(milliseconds(500));
  }
  ASSERT_GT(baseline, 0) << "cannot read /proc/" << flooded << "/status";
  const int64_t admitted = kRedisMaxClients + kGrpcMaxThreads + kGrpcMaxInflight + kDynamoWorkers +
                           kDynamoQueued + kDynamoOverflowThreads;
  const int64_t storage_allowance = (4 * 2 * 32 + 64) * (int64_t{1} << 20);
  const int64_t bound = baseline + 2 * admitted * kMaxRequestBytes + storage_allowance;

  // The flood: 40 Redis clients (the limit is 16), 32 gRPC RawPut callers (8 in flight, 6
  // threads) and 24 DynamoDB clients (4 workers, 4 queued, 2 in flight) on n1, for 30 s.
  FloodCounts counts;
  const auto until = std::chrono::steady_clock::now() + seconds(30);
  std::vector<std::thread> flooders;
  std::vector<std::pair<double, int64_t>> rss_samples;  // (seconds into the flood, bytes)
  const auto flood_start = std::chrono::steady_clock::now();
  flooders.emplace_back([&] {
    while (std::chrono::steady_clock::now() < until) {
      rss_samples.emplace_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - flood_start).count(),
          ResidentBytes(flooded));
      std::this_thread::sleep_for(milliseconds(500));
    }
  });
  for (int w = 0; w < 24; ++w) {
    flooders.emplace_back(FloodDynamo, cluster.dynamo_port(1), w, until, &counts);
  }
  for (int w = 0; w < 40; ++w) {
    flooders.emplace_back(FloodRedis, cluster.redis_port(1), w, until, &counts);
  }
  for (int w = 0; w < 32; ++w) {
    flooders.emplace_back(FloodGrpc, cluster.grpc_address(1), w, until, &counts);
  }
  // Meanwhile another node keeps serving writes (forwarded to leaders, some on n1).
  int other_node_writes = 0;
  {
    auto stub = proto::RawKV::NewStub(
        grpc::CreateChannel(cluster.grpc_address(2), grpc::InsecureChannelCredentials()));
    while (std::chrono::steady_clock::now() < until) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + seconds(10));
      proto::RawPutRequest request;
      request.set_key(absl::StrCat("steady-", other_node_writes));
      request.set_value("v");
      proto::RawPutResponse response;
      if (stub->RawPut(&context, request, &response).ok()) ++other_node_writes;
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  for (std::thread& t : flooders) t.join();

  const std::map<std::string, double> after = ClusterSamples(cluster);
  int64_t peak = 0;
  std::string samples;
  for (const auto& [at, bytes] : rss_samples) {
    peak = std::max(peak, bytes);
    absl::StrAppend(&samples, absl::StrFormat(" %.1fs:%dMiB", at, bytes >> 20));
  }
  std::string summary = absl::StrCat(
      "redis ok ", counts.redis_ok.load(), ", redis max-clients ", counts.redis_max_clients.load(),
      "; grpc ok ", counts.grpc_ok.load(), ", grpc RESOURCE_EXHAUSTED ",
      counts.grpc_exhausted.load(), ", grpc other ", counts.grpc_other.load(), "; dynamo ok ",
      counts.dynamo_ok.load(), ", dynamo ThrottlingException ", counts.dynamo_throttled.load(),
      ", dynamo ProvisionedThroughputExceeded ", counts.dynamo_provisioned.load(),
      ", dynamo other ", counts.dynamo_other.load(), ", dynamo unanswered ",
      counts.dynamo_unanswered.load(), "; writes through n2 ", other_node_writes,
      "; n1 RSS baseline ", baseline >> 20, " MiB, peak ", peak >> 20, " MiB, bound ", bound >> 20,
      " MiB");
  for (const std::string& sample : counts.dynamo_samples)
    absl::StrAppend(&summary, "\n  dynamo reply: ", sample.substr(0, 300));
  std::cout << "flood: " << summary << "\n";
  // Memory stayed bounded, sampled every 0.5 s through the flood.
  EXPECT_GE(rss_samples.size(), 30u) << summary;
  EXPECT_LE(peak, bound) << summary << "\nRSS samples:" << samples;
  for (const auto& [at, bytes] : rss_samples) EXPECT_GT(bytes, 0) << "at " << at << " s";
  // No election anywhere: every node reports the same term and leader for every group.
  EXPECT_EQ(after, before) << summary << "\n" << cluster.Logs();
  EXPECT_GT(counts.redis_max_clients.load(), 0) << summary;
  EXPECT_GT(counts.redis_ok.load(), 0) << summary;
  EXPECT_GT(counts.grpc_exhausted.load(), 0) << summary;
  EXPECT_GT(counts.grpc_ok.load(), 0) << summary;
  EXPECT_GT(counts.dynamo_throttled.load(), 0) << summary;
  EXPECT_GT(counts.dynamo_ok.load(), 0) << summary;
  // Every DynamoDB request was answered, with a success or DynamoDB's throttling errors:
  // none waited past its client's timeout in the listen backlog.
  EXPECT_EQ(counts.dynamo_other.load(), 0) << summary;
  EXPECT_EQ(counts.dynamo_unanswered.load(), 0) << summary;
  EXPECT_GT(other_node_writes, 0) << summary;
}

}  // namespace
}  // namespace ekv::integration
