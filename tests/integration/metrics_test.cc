// The metrics endpoint of real ekv-server processes (--metrics_address), scraped over HTTP
// with cpp-httplib's client: per-group Raft state agrees across the cluster, applied
// indexes and request counters follow the writes made through gRPC, /healthz answers,
// /readyz follows whether a quorum (so a leader) is there, and a second server cannot take
// a running node's metrics port.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Scrape {
  int status = 0;  // 0: no answer
  std::string body;
};

Scrape Get(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  httplib::Client client(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  client.set_connection_timeout(seconds(2));
  client.set_read_timeout(seconds(2));
  httplib::Result result = client.Get(path);
  if (!result) return {};
  return {result->status, result->body};
}

// The value of the sample `series` (name plus labels exactly as rendered) in `text`.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  const std::string needle = series + " ";
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    if (at != 0 && text[at - 1] != '\n') continue;
    const size_t start = at + needle.size();
    const size_t end = text.find('\n', start);
    double value = 0;
    if (absl::SimpleAtod(text.substr(start, end - start), &value)) return value;
  }
  return std::nullopt;
}

double SampleOr0(const std::string& text, const std::string& series) {
  return Sample(text, series).value_or(0);
}

std::string Group(const char* name, int group) {
  return absl::StrCat(name, "{group=\"", group, "\"}");
}

constexpr char kRawPutOk[] =
    "ekv_grpc_requests_total{service=\"proto.RawKV\",method=\"RawPut\",code=\"OK\"}";

class MetricsTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.metrics = true;
    // The server's Raft timing: the counters below are compared exactly, and with the
    // harness's 20 ms ticks a loaded machine holds spurious elections that fail writes.
    options.tick_ms = 50;
    StartCluster(options);
  }

  std::vector<std::string> ScrapeAll() {
    std::vector<std::string> texts;
    for (int i = 1; i <= cluster().size(); ++i) {
      Scrape scrape = Get(cluster().metrics_address(i), "/metrics");
      EXPECT_EQ(scrape.status, 200) << "n" << i;
      texts.push_back(scrape.body);
    }
    return texts;
  }

  // Until (bounded) each group has exactly one node reporting is_leader = 1 and every node
  // names that node as the leader. Returns the leaders by group, empty on timeout.
  std::map<int, int> WaitForSettledLeaders(int groups) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<std::string> texts = ScrapeAll();
      std::map<int, int> leaders;
      bool settled = true;
      for (int g = 1; g <= groups && settled; ++g) {
        int leading = 0;
        int leader = 0;
        for (int i = 1; i <= cluster().size(); ++i) {
          if (SampleOr0(texts[i - 1], Group("ekv_raft_is_leader", g)) == 1) {
            ++leading;
            leader = i;
          }
        }
        settled = leading == 1;
        for (int i = 1; settled && i <= cluster().size(); ++i) {
          settled = SampleOr0(texts[i - 1], Group("ekv_raft_leader_id", g)) == leader;
        }
        leaders[g] = leader;
      }
      if (settled) return leaders;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return {};
  }
};

TEST_F(MetricsTest, ReportsLeadersAppliedIndexesAndRequests) {
  for (int i = 1; i <= cluster().size(); ++i) {
    Scrape health = Get(cluster().metrics_address(i), "/healthz");
    EXPECT_EQ(health.status, 200) << "n" << i << ": " << health.body;
    EXPECT_EQ(health.body, "ok\n");
    // The startup line names the endpoint.
    EXPECT_NE(cluster().Log(i).find(
                  absl::StrCat("metrics on http://", cluster().metrics_address(i), "/metrics")),
              std::string::npos)
        << cluster().Log(i);
  }

  const std::map<int, int> leaders = WaitForSettledLeaders(/*groups=*/2);
  ASSERT_EQ(leaders.size(), 2u) << "no single leader per group within 15 s";

  std::vector<std::string> before = ScrapeAll();
  // Writes to both groups (route 1 = ["", "m") on group 1, route 2 = ["m", +inf) on 2),
  // through every node. Each call is one gRPC request, counted once by the node it hit.
  constexpr int kWritesPerGroup = 10;
  std::map<int, int> ok_by_node;
  int calls = 0;
  for (int w = 0; w < kWritesPerGroup; ++w) {
    for (const char* prefix : {"a", "z"}) {
      const int node = 1 + calls % cluster().size();
      grpc::Status put = RawPut(cluster(), node, absl::StrCat(prefix, w), "value", seconds(5));
      ++calls;
      if (put.ok()) ++ok_by_node[node];
    }
  }
  int oks = 0;
  for (const auto& [node, count] : ok_by_node) oks += count;
  ASSERT_GE(oks, calls - 2) << "most writes should succeed on a settled cluster";

  // Counters and applied indexes reach their new values within a bounded wait.
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  std::vector<std::string> after;
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    after = ScrapeAll();
    done = true;
    for (int i = 1; i <= cluster().size(); ++i) {
      const std::string& was = before[i - 1];
      const std::string& now = after[i - 1];
      done = done && SampleOr0(now, kRawPutOk) - SampleOr0(was, kRawPutOk) == ok_by_node[i];
      for (int g = 1; g <= 2; ++g) {
        done = done && SampleOr0(now, Group("ekv_raft_applied_index", g)) >=
                           SampleOr0(was, Group("ekv_raft_applied_index", g)) + kWritesPerGroup - 1;
      }
    }
    if (!done) std::this_thread::sleep_for(milliseconds(100));
  }
  for (int i = 1; i <= cluster().size(); ++i) {
    const std::string& was = before[i - 1];
    const std::string& now = after[i - 1];
    EXPECT_EQ(SampleOr0(now, kRawPutOk) - SampleOr0(was, kRawPutOk), ok_by_node[i])
        << "n" << i << " RawPut OK counter";
    for (int g = 1; g <= 2; ++g) {
      EXPECT_GE(SampleOr0(now, Group("ekv_raft_applied_index", g)),
                SampleOr0(was, Group("ekv_raft_applied_index", g)) + kWritesPerGroup - 1)
          << "n" << i << " group " << g << " applied index";
      EXPECT_GE(SampleOr0(now, Group("ekv_raft_commit_index", g)),
                SampleOr0(now, Group("ekv_raft_applied_index", g)))
          << "n" << i << " group " << g;
    }
  }
  // Every answered RawPut was timed: the histogram's count is at least the OK count.
  for (int i = 1; i <= cluster().size(); ++i) {
    const std::string& now = after[i - 1];
    const std::string series = "{front_door=\"grpc\",command=\"proto.RawKV/RawPut\"}";
    EXPECT_GE(SampleOr0(now, "ekv_request_duration_seconds_count" + series),
              SampleOr0(now, kRawPutOk))
        << "n" << i;
    EXPECT_GT(SampleOr0(now, "ekv_request_duration_seconds_sum" + series), 0) << "n" << i;
    EXPECT_EQ(SampleOr0(now, "ekv_request_duration_seconds_count" + series),
              SampleOr0(now,
                        "ekv_request_duration_seconds_bucket{front_door=\"grpc\",command="
                        "\"proto.RawKV/RawPut\",le=\"+Inf\"}"))
        << "n" << i;
  }
  // The leaders replicated the writes to their followers.
  EXPECT_GT(SampleOr0(after[leaders.at(1) - 1], "ekv_transport_message_bytes_sent_total"), 0);
  EXPECT_GT(SampleOr0(after[leaders.at(1) - 1], "ekv_transport_messages_sent_total"), 0);
  if (HasFailure()) {
    for (int i = 1; i <= cluster().size(); ++i) {
      std::cout << "==== /metrics of n" << i << " ====\n" << after[i - 1];
    }
  }
}

// Until (bounded) `path` on node `i` answers `status`; the last answer.
Scrape WaitFor(const std::string& address, const std::string& path, int status) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  Scrape last = Get(address, path);
  while (last.status != status && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    last = Get(address, path);
  }
  return last;
}

// /readyz: 200 once every group has a leader; 503 naming a leaderless group while a
// quorum is gone (the node itself stays healthy); 200 again once the quorum is back.
TEST_F(MetricsTest, ReadyOnlyWhileEveryGroupHasALeader) {
  for (int i = 1; i <= cluster().size(); ++i) {
    Scrape ready = WaitFor(cluster().metrics_address(i), "/readyz", 200);
    EXPECT_EQ(ready.status, 200) << "n" << i << ": " << ready.body;
    EXPECT_EQ(ready.body, "ok\n") << "n" << i;
  }
  cluster().Kill(2);
  cluster().Kill(3);
  // The leader steps down once it hears from no quorum (check_quorum); nobody can win an
  // election with one vote of three.
  Scrape lost = WaitFor(cluster().metrics_address(1), "/readyz", 503);
  EXPECT_EQ(lost.status, 503) << lost.body;
  EXPECT_NE(lost.body.find("has no known leader"), std::string::npos) << lost.body;
  Scrape health = Get(cluster().metrics_address(1), "/healthz");
  EXPECT_EQ(health.status, 200) << "a node without a quorum is still alive: " << health.body;

  ASSERT_TRUE(cluster().RestartNode(2).ok());
  Scrape back = WaitFor(cluster().metrics_address(1), "/readyz", 200);
  EXPECT_EQ(back.status, 200) << back.body;
  Scrape restarted = WaitFor(cluster().metrics_address(2), "/readyz", 200);
  EXPECT_EQ(restarted.status, 200) << restarted.body;
}

// Log lines are logfmt with level and node; --log_level filters them and a bad level is
// a startup error.
TEST_F(MetricsTest, LogLinesAreStructuredAndFiltered) {
  for (int i = 1; i <= cluster().size(); ++i) {
    EXPECT_NE(cluster().Log(i).find(absl::StrCat(" level=info node=n", i, " msg=\"serving gRPC on ",
                                                 cluster().grpc_address(i))),
              std::string::npos)
        << cluster().Log(i);
  }
  const std::string dir = MakeTempDir("ekv-log-level");
  const std::vector<int> ports = PickFreePorts(2);
  const std::string raft = absl::StrCat("127.0.0.1:", ports[1]);
  const std::vector<std::string> args = {
      "--id=n1", absl::StrCat("--grpc_address=127.0.0.1:", ports[0]),
      absl::StrCat("--raft_address=", raft), absl::StrCat("--peers=n1=", raft),
      absl::StrCat("--data_dir=", dir, "/data")};
  std::vector<std::string> quiet = args;
  quiet.push_back("--log_level=warn");
  ProcessResult warn_only = RunServerToCompletion(quiet, seconds(3));  // killed at the end
  EXPECT_TRUE(warn_only.timed_out) << "the node should have run until killed: " << warn_only.err;
  EXPECT_EQ(warn_only.out.find("level=info"), std::string::npos) << warn_only.out;
  std::vector<std::string> bad = args;
  bad.push_back("--log_level=verbose");
  ProcessResult refused = RunServerToCompletion(bad, seconds(15));
  RemoveTree(dir);
  EXPECT_GT(refused.exit_code, 0) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("--log_level: 'verbose' is not a log level"), std::string::npos)
      << refused.err;
}

// gRPC and httplib both default to SO_REUSEPORT, with which a second server would share
// the port of a running one; ekv-server turns it off for its metrics endpoint too.
TEST_F(MetricsTest, MetricsPortOfARunningNodeIsRefused) {
  const std::string dir = MakeTempDir("ekv-metrics-port");
  const std::vector<int> ports = PickFreePorts(2);
  const std::string raft = absl::StrCat("127.0.0.1:", ports[1]);
  ProcessResult result = RunServerToCompletion(
      {"--id=n1", absl::StrCat("--grpc_address=127.0.0.1:", ports[0]),
       absl::StrCat("--raft_address=", raft), absl::StrCat("--peers=n1=", raft),
       absl::StrCat("--data_dir=", dir, "/data"),
       absl::StrCat("--metrics_address=", cluster().metrics_address(1))},
      seconds(15));
  RemoveTree(dir);
  EXPECT_FALSE(result.timed_out) << "ekv-server kept running; stdout:\n" << result.out;
  EXPECT_GT(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find(
                absl::StrCat("--metrics_address: cannot listen on ", cluster().metrics_address(1))),
            std::string::npos)
      << result.err;
  // The running node still serves its metrics.
  EXPECT_EQ(Get(cluster().metrics_address(1), "/healthz").status, 200);
}

// DynamoDB operations are timed per operation in ekv_request_duration_seconds, driven by
// curl (DynamoDB's JSON protocol, unsigned: the node has no --dynamo_credentials_file): each
// operation's count is what was sent, an error counts too, and an unknown target is not a
// label.
class DynamoMetricsTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.metrics = true;
    options.dynamo = true;
    // As DynamoClusterTest (dynamo_test.cc), since each call below is made once: the server's
    // request timeout and Raft timing, not the harness's 2 s and 20 ms ticks, with which a
    // loaded machine misses a write's deadline or holds a spurious election (CreateTable was
    // answered "group 1 did not answer before the deadline" there); and both groups have
    // elected a leader (a gRPC write, which no DynamoDB series counts) before the first call.
    options.request_timeout_ms = 5000;
    options.tick_ms = 50;
    ASSERT_NO_FATAL_FAILURE(StartCluster(options));
    for (const char* key : {"a-warmup", "z-warmup"}) {
      ASSERT_TRUE(RawPutEventually(cluster(), 1, key, "1").ok()) << key;
    }
  }

  // POSTs `body` as DynamoDB operation `operation` to n1; the reply body and HTTP status.
  std::string Call(const std::string& operation, const std::string& body) {
    const std::string out = cluster().temp_dir() + "/curl.out";
    const int code = RunProgram({"curl", "-sS", "--max-time", "60", "-w", "\nHTTP %{http_code}",
                                 "-H", "Content-Type: application/x-amz-json-1.0", "-H",
                                 "X-Amz-Target: DynamoDB_20120810." + operation, "--data", body,
                                 absl::StrCat("http://127.0.0.1:", cluster().dynamo_port(1), "/")},
                                out, seconds(90));
    const std::string reply = ReadWholeFile(out);
    EXPECT_EQ(code, 0) << operation << ": " << reply;
    return reply;
  }
};

TEST_F(DynamoMetricsTest, OperationsAreTimedPerOperation) {
  const std::string series = "ekv_request_duration_seconds_count{front_door=\"dynamo\",command=\"";
  Scrape before = Get(cluster().metrics_address(1), "/metrics");
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(Sample(before.body, series + "PutItem\"}"), 0) << before.body;
  const std::string create = Call(
      "CreateTable", R"({"TableName":"tbl","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],)"
                     R"("AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],)"
                     R"("BillingMode":"PAY_PER_REQUEST"})");
  ASSERT_NE(create.find("HTTP 200"), std::string::npos) << create;
  for (int i = 0; i < 3; ++i) {
    const std::string put =
        Call("PutItem", absl::StrCat(R"({"TableName":"tbl","Item":{"k":{"S":"key)", i, R"("}}})"));
    ASSERT_NE(put.find("HTTP 200"), std::string::npos) << put;
  }
  const std::string get = Call("GetItem", R"({"TableName":"tbl","Key":{"k":{"S":"key1"}}})");
  ASSERT_NE(get.find("key1"), std::string::npos) << get;
  const std::string missing =
      Call("GetItem", R"({"TableName":"nope-table","Key":{"k":{"S":"x"}}})");
  ASSERT_NE(missing.find("ResourceNotFoundException"), std::string::npos) << missing;
  const std::string unknown = Call("NoSuchOperation", "{}");
  ASSERT_NE(unknown.find("HTTP 400"), std::string::npos) << unknown;

  Scrape after = Get(cluster().metrics_address(1), "/metrics");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(Sample(after.body, series + "CreateTable\"}"), 1) << after.body;
  EXPECT_EQ(Sample(after.body, series + "PutItem\"}"), 3) << after.body;
  EXPECT_EQ(Sample(after.body, series + "GetItem\"}"), 2) << after.body;  // the error too
  EXPECT_EQ(Sample(after.body, series + "Scan\"}"), 0) << after.body;     // listed, never run
  EXPECT_EQ(after.body.find("NoSuchOperation"), std::string::npos);
  // The +Inf bucket holds every observation; the sum is positive.
  EXPECT_EQ(Sample(after.body,
                   "ekv_request_duration_seconds_bucket{front_door=\"dynamo\","
                   "command=\"PutItem\",le=\"+Inf\"}"),
            3)
      << after.body;
  EXPECT_GT(SampleOr0(after.body,
                      "ekv_request_duration_seconds_sum{front_door=\"dynamo\","
                      "command=\"PutItem\"}"),
            0)
      << after.body;
  // Another node served none of them.
  Scrape other = Get(cluster().metrics_address(2), "/metrics");
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(Sample(other.body, series + "PutItem\"}"), 0) << other.body;
}

}  // namespace
}  // namespace ekv::integration
