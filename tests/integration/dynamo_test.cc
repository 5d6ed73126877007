// The DynamoDB front door on real ekv-server processes: a 3-node cluster with
// --dynamo_address on every node, driven by the real AWS SDK for JavaScript v3
// (tests/dynamo_sdk/sdk_test.js: tables, put/get/update/delete, batches, projections,
// conditional failures, query with range conditions and pagination, scan and parallel
// scan, cross-node reads, concurrent atomic updates, error shapes) and by boto3
// (tests/dynamo_boto3/boto3_test.py), plus raw HTTP checks of the wire format and the startup error
// on an occupied port. On a 3-group cluster: a table's items spread over every group (checked
// through Distribution.ListRoutes and RawScanAt), and GSI reads during concurrent writes
// (tests/dynamo_boto3/index_consistency_test.py). node and npm are required; the SDK packages are
// installed with `npm ci` into tests/dynamo_sdk when missing, and the test fails (not skips)
// without them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"

namespace ekv::integration {
namespace {

class DynamoClusterTest : public ClusterTest {
 protected:
  // Three nodes serving DynamoDB (with `extra_flags`); one of `warmup_keys` per group is
  // written first, so every group has elected a leader.
  void StartDynamoCluster(std::vector<std::string> extra_flags = {},
                          std::vector<std::string> warmup_keys = {"a-warmup", "z-warmup"}) {
    ClusterOptions options;
    options.extra_flags = std::move(extra_flags);
    options.nodes = 3;
    options.dynamo = true;
    // The server's default: a loaded CI machine can take the harness's 2 s for one write
    // (CreateTable answered "group 1 did not answer before the deadline" there).
    options.request_timeout_ms = 5000;
    // And its Raft timing (50 ms ticks): the harness's 20 ms ticks make a loaded CI machine
    // hold spurious elections, and a leader change answers writes in flight "outcome
    // unknown", which these tests (no faults injected) would count as failures.
    options.tick_ms = 50;
    ASSERT_NO_FATAL_FAILURE(StartCluster(options));
    for (const std::string& key : warmup_keys) {
      ASSERT_TRUE(RawPutEventually(cluster(), 1, key, "1").ok()) << key;
    }
  }
  // Runs tests/dynamo_boto3/`script` (with Debian's python3-boto3 through /usr/bin/python3,
  // so a pyenv or virtualenv python3 on PATH does not change what is tested) against the
  // three nodes; the script's report is printed, and it must end with `want` (", 0 failed"
  // unless told) and exit 0. Then the nodes must stop cleanly.
  void RunBoto3Script(const std::string& script, int timeout_s,
                      const std::string& want = ", 0 failed") {
    int status = 0;
    std::string out = RunShell("/usr/bin/python3 -c 'import boto3'", &status);
    ASSERT_EQ(status, 0) << "python3-boto3 is missing (scripts/install-deps.sh installs it):\n"
                         << out;
    std::string path = EKV_DYNAMO_BOTO3_TEST;  // the scripts' directory is this one's
    path = path.substr(0, path.rfind('/') + 1) + script;
    out = RunShell(absl::StrCat("timeout ", timeout_s, " /usr/bin/python3 '", path, "' ",
                                cluster().dynamo_port(1), " ", cluster().dynamo_port(2), " ",
                                cluster().dynamo_port(3)),
                   &status);
    std::cout << out;  // the client's report, printed once above the failures below
    EXPECT_EQ(status, 0);
    EXPECT_NE(out.find(want), std::string::npos);
    for (int node = 1; node <= 3; ++node) EXPECT_EQ(cluster().Terminate(node), 0) << "n" << node;
  }
  // POSTs one DynamoDB request to node `node`, SigV4-looking Authorization header included.
  httplib::Result Post(int node, const std::string& target, const std::string& body) {
    httplib::Client client("127.0.0.1", cluster().dynamo_port(node));
    client.set_read_timeout(std::chrono::seconds(20));
    httplib::Headers headers = {
        {"X-Amz-Target", target},
        {"Authorization",
         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123abcd"},
        {"X-Amz-Date", "20260101T000000Z"}};
    return client.Post("/", headers, body, "application/x-amz-json-1.0");
  }
};

TEST_F(DynamoClusterTest, AwsSdkForJavaScriptAgainstThreeNodes) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster());
  const std::string dir = EKV_DYNAMO_SDK_DIR;
  int status = 0;
  // The SDK packages, pinned by package-lock.json; installed once, then reused.
  std::string out = RunShell(absl::StrCat("cd '", dir,
                                          "' && (node -e 'require(\"@aws-sdk/lib-dynamodb\")' || "
                                          "timeout 300 npm ci --no-audit --no-fund)"),
                             &status);
  ASSERT_EQ(status, 0) << "installing @aws-sdk/client-dynamodb and @aws-sdk/lib-dynamodb "
                          "(npm ci in "
                       << dir << ") failed:\n"
                       << out;
  out = RunShell(
      absl::StrCat("cd '", dir, "' && timeout 240 node sdk_test.js ", cluster().dynamo_port(1), " ",
                   cluster().dynamo_port(2), " ", cluster().dynamo_port(3)),
      &status);
  std::cout << out;  // the client's report, printed once above the failures below
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find(", 0 failed"), std::string::npos);
  for (int node = 1; node <= 3; ++node) EXPECT_EQ(cluster().Terminate(node), 0) << "n" << node;
}

// The same cluster driven by boto3 (Debian's python3-boto3, run with /usr/bin/python3 so a
// pyenv or virtualenv python3 on PATH does not change what is tested): batch writes and
// the batch_writer helper, BatchGetItem paginated by UnprocessedKeys, projections.
TEST_F(DynamoClusterTest, Boto3AgainstThreeNodes) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster());
  RunBoto3Script("boto3_test.py", 240);
}

// TransactWriteItems / TransactGetItems through boto3 on every node: all four actions,
// cancellation reasons, validation, ClientRequestToken retried through other nodes,
// transactions racing on one item (exactly one wins), and concurrent transfers audited by
// TransactGetItems snapshots.
TEST_F(DynamoClusterTest, Boto3TransactionsAgainstThreeNodes) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster());
  RunBoto3Script("transactions_test.py", 240);
}

// DescribeTable's ItemCount / TableSizeBytes / IndexSizeBytes, counted in the background
// (here every second instead of every six hours), checked by boto3 after loads, deletes and
// updates against DynamoDB's item size rules; and descending Query pages over a partition
// bigger than one read batch (tests/dynamo_boto3/table_stats_test.py, next to
// boto3_test.py).
TEST_F(DynamoClusterTest, Boto3TableStatsAndDescendingQuery) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster({"--dynamo_table_stats_interval_s=1"}));
  RunBoto3Script("table_stats_test.py", 600);
}

// DynamoDB's limits and reply metrics through boto3 (tests/dynamo_boto3/limits_metrics_test.py):
// CreateTable CREATING and the table_exists waiter, UpdateTable UPDATING with the counted
// ItemCount, every limit of the issue's list, ReturnConsumedCapacity INDEXES and
// ReturnItemCollectionMetrics SIZE on single writes, batches and transactions.
TEST_F(DynamoClusterTest, Boto3LimitsAndReplyMetrics) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster({"--dynamo_table_stats_interval_s=1"}));
  RunBoto3Script("limits_metrics_test.py", 300);
}

TEST_F(DynamoClusterTest, WireFormatOfRepliesAndErrors) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster());
  httplib::Result created = Post(1, "DynamoDB_20120810.CreateTable", R"({
      "TableName": "wire", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]})");
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  EXPECT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(created->get_header_value("Content-Type"), "application/x-amz-json-1.0");

  httplib::Result put =
      Post(2, "DynamoDB_20120810.PutItem",
           R"({"TableName": "wire", "Item": {"k": {"S": "a"}, "n": {"N": "01.50"}}})");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200);
  EXPECT_EQ(put->body, "{}");
  httplib::Result got =
      Post(3, "DynamoDB_20120810.GetItem", R"({"TableName": "wire", "Key": {"k": {"S": "a"}}})");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->body, R"({"Item":{"k":{"S":"a"},"n":{"N":"1.5"}}})");

  httplib::Result failed = Post(3, "DynamoDB_20120810.PutItem",
                                R"json({"TableName": "wire", "Item": {"k": {"S": "a"}},
              "ConditionExpression": "attribute_not_exists(k)"})json");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 400);
  EXPECT_EQ(failed->body,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",)"
            R"("message":"The conditional request failed"})");

  httplib::Result missing =
      Post(1, "DynamoDB_20120810.GetItem", R"({"TableName": "nope", "Key": {"k": {"S": "a"}}})");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(missing->body,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
            R"("message":"Requested resource not found"})");

  httplib::Result unknown = Post(1, "DynamoDB_20120810.Frobnicate", "{}");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_NE(unknown->body.find("#UnknownOperationException"), std::string::npos) << unknown->body;

  httplib::Result garbage = Post(1, "DynamoDB_20120810.ListTables", "{oops");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  EXPECT_NE(garbage->body.find("#SerializationException"), std::string::npos) << garbage->body;

  // Dynamo keys live under the reserved prefix, beside (not over) Redis/RawKV keys.
  ASSERT_TRUE(RawPut(cluster(), 1, "wire", "a raw value").ok());
  got = Post(2, "DynamoDB_20120810.GetItem", R"({"TableName": "wire", "Key": {"k": {"S": "a"}}})");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_NE(got->body.find("1.5"), std::string::npos);
}

// Rough single-client rates over one keep-alive connection to n2 (a follower of some
// groups, so some writes are forwarded): printed, not asserted, for the record.
TEST_F(DynamoClusterTest, SequentialRequestRates) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster());
  httplib::Client client("127.0.0.1", cluster().dynamo_port(2));
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as SDKs do; else the body waits for a delayed ACK
  client.set_read_timeout(std::chrono::seconds(20));
  const httplib::Headers create = {{"X-Amz-Target", "DynamoDB_20120810.CreateTable"}};
  httplib::Result created = client.Post("/", create, R"({
      "TableName": "rates", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]})",
                                        "application/x-amz-json-1.0");
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  ASSERT_EQ(created->status, 200) << created->body;
  constexpr int kRequests = 300;
  struct Kind {
    const char* operation;
    std::string (*body)(int i);
  };
  const Kind kinds[] = {
      {"PutItem",
       [](int i) {
         return absl::StrCat(R"({"TableName": "rates", "Item": {"k": {"S": "key)", i % 50,
                             R"("}, "v": {"N": ")", i, R"("}}})");
       }},
      {"UpdateItem",
       [](int i) {
         return absl::StrCat(R"({"TableName": "rates", "Key": {"k": {"S": "key)", i % 50,
                             R"("}}, "UpdateExpression": "ADD hits :one",)",
                             R"j("ConditionExpression": "attribute_exists(k)",)j",
                             R"("ExpressionAttributeValues": {":one": {"N": "1"}}})");
       }},
      {"GetItem",
       [](int i) {
         return absl::StrCat(R"({"TableName": "rates", "Key": {"k": {"S": "key)", i % 50,
                             R"("}}})");
       }},
  };
  for (const Kind& kind : kinds) {
    const httplib::Headers headers = {
        {"X-Amz-Target", absl::StrCat("DynamoDB_20120810.", kind.operation)}};
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRequests; ++i) {
      httplib::Result r = client.Post("/", headers, kind.body(i), "application/x-amz-json-1.0");
      ASSERT_TRUE(r) << kind.operation << " " << i;
      ASSERT_EQ(r->status, 200) << kind.operation << " " << i << ": " << r->body;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << kRequests << " sequential " << kind.operation
              << " via n2: " << static_cast<int>(kRequests / seconds) << " requests/s, "
              << static_cast<int>(seconds * 1e6 / kRequests) << " us each\n";
  }
}

// The README's quickstart commands through the real AWS CLI, when it is installed.
TEST_F(DynamoClusterTest, ReadmeQuickstartThroughAwsCli) {
  int status = 0;
  RunShell("command -v aws", &status);
  ASSERT_EQ(status, 0) << "the AWS CLI (aws) is not installed: scripts/install-deps.sh installs it";
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster());
  auto aws = [&](int node, const std::string& args) {
    return RunShell(absl::StrCat("AWS_ACCESS_KEY_ID=fake AWS_SECRET_ACCESS_KEY=fake "
                                 "AWS_DEFAULT_REGION=us-east-1 timeout 60 aws dynamodb "
                                 "--endpoint-url http://127.0.0.1:",
                                 cluster().dynamo_port(node), " ", args),
                    &status);
  };
  std::string out = aws(1,
                        "create-table --table-name Music --attribute-definitions "
                        "AttributeName=Artist,AttributeType=S AttributeName=Song,AttributeType=S "
                        "--key-schema AttributeName=Artist,KeyType=HASH "
                        "AttributeName=Song,KeyType=RANGE --billing-mode PAY_PER_REQUEST");
  ASSERT_EQ(status, 0) << out;
  out = aws(1,
            "put-item --table-name Music --item '{\"Artist\": {\"S\": \"Acme Band\"}, "
            "\"Song\": {\"S\": \"Happy Day\"}, \"Plays\": {\"N\": \"1\"}}'");
  ASSERT_EQ(status, 0) << out;
  out = aws(2,
            "get-item --table-name Music --key '{\"Artist\": {\"S\": \"Acme Band\"}, "
            "\"Song\": {\"S\": \"Happy Day\"}}'");
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"Happy Day\""), std::string::npos) << out;
  out = aws(3,
            "query --table-name Music --key-condition-expression 'Artist = :a AND "
            "begins_with(Song, :s)' --expression-attribute-values '{\":a\": {\"S\": \"Acme "
            "Band\"}, \":s\": {\"S\": \"Happy\"}}'");
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"Count\": 1"), std::string::npos) << out;
  out = aws(1, "list-tables");
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"Music\""), std::string::npos) << out;
  out = aws(2, "describe-table --table-name Nope");
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("ResourceNotFoundException"), std::string::npos) << out;
}

// A table's items spread over the cluster's groups (three here): CreateTable cuts the
// table's key space at partition-hash boundaries and moves the parts to the groups, which
// the public Distribution API shows (ListRoutes) and RawScanAt over each route confirms;
// Query, Scan (paged across the routes) and parallel Scan still answer every item once.
TEST_F(DynamoClusterTest, TableItemsSpreadOverGroups) {
  ClusterOptions options;
  options.nodes = 3;
  options.dynamo = true;
  options.request_timeout_ms = 5000;
  options.tick_ms = 50;
  options.extra_flags = {"--groups=3", "--split_points=m,t"};
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  for (const char* key : {"a-warmup", "p-warmup", "z-warmup"}) {
    ASSERT_TRUE(RawPutEventually(cluster(), 1, key, "1").ok()) << key;
  }
  const auto create_start = std::chrono::steady_clock::now();
  httplib::Result created = Post(2, "DynamoDB_20120810.CreateTable", R"({
      "TableName": "spread", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"},
                    {"AttributeName": "s", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"},
                               {"AttributeName": "s", "AttributeType": "N"}]})");
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  ASSERT_EQ(created->status, 200) << created->body;
  // For the record (placement: 4 splits and 2 range moves here), not asserted.
  std::cout << "CreateTable with placement over 3 groups took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - create_start)
                   .count()
            << " ms\n";
  constexpr int kPartitions = 30;
  for (int i = 0; i < kPartitions; ++i) {
    for (int s = 0; s < 2; ++s) {
      httplib::Result put = Post(1 + (i % 3), "DynamoDB_20120810.PutItem",
                                 absl::StrCat(R"({"TableName": "spread", "Item": {"k": {"S": "key)",
                                              i, R"("}, "s": {"N": ")", s, R"("}}})"));
      ASSERT_TRUE(put) << i;
      ASSERT_EQ(put->status, 200) << put->body;
    }
  }
  // Which groups hold the table's items, as the public APIs tell: the routes under the
  // DynamoDB item prefix, and the raw keys each of them holds.
  proto::ListRoutesResponse routes;
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(10));
  ASSERT_TRUE(cluster().dist(1).ListRoutes(&context, proto::ListRoutesRequest(), &routes).ok());
  const std::string item_prefix("\0ddbi", 5);
  std::map<uint64_t, int> items_per_group;
  int total = 0;
  for (const proto::RouteDescriptor& route : routes.routes()) {
    if (!absl::StartsWith(route.start(), item_prefix)) continue;
    absl::StatusOr<std::map<std::string, std::string>> pairs =
        ScanAll(cluster(), 3, route.start(), route.end());
    ASSERT_TRUE(pairs.ok()) << pairs.status();
    // The route after the table's key space also holds the table's metadata record and
    // the warm-up keys: only item keys count.
    for (const auto& [key, value] : *pairs) {
      if (!absl::StartsWith(key, item_prefix)) continue;
      ++items_per_group[route.raft_group_id()];
      ++total;
    }
  }
  std::string shown;
  for (const auto& [group, count] : items_per_group) {
    absl::StrAppend(&shown, " group ", group, ": ", count);
  }
  std::cout << "items per group:" << shown << " (" << routes.routes_size() << " routes)\n";
  EXPECT_EQ(total, 2 * kPartitions) << shown;
  int groups_with_items = 0;
  for (const auto& [group, count] : items_per_group) groups_with_items += count > 0 ? 1 : 0;
  EXPECT_EQ(groups_with_items, 3) << shown;

  // Query: one partition, both items.
  httplib::Result queried = Post(3, "DynamoDB_20120810.Query", R"({"TableName": "spread",
      "KeyConditionExpression": "k = :k",
      "ExpressionAttributeValues": {":k": {"S": "key17"}}})");
  ASSERT_TRUE(queried);
  EXPECT_EQ(queried->status, 200) << queried->body;
  EXPECT_NE(queried->body.find(R"("Count":2)"), std::string::npos) << queried->body;
  // Scan in pages of 7 (across the routes of the three groups), then 4 parallel segments.
  const auto scan_all = [&](const std::string& extra) {
    std::set<std::string> seen;
    std::string start;
    for (int page = 0; page < 40; ++page) {
      std::string body = absl::StrCat(R"({"TableName": "spread", "Limit": 7)", extra);
      if (!start.empty()) absl::StrAppend(&body, R"(, "ExclusiveStartKey": )", start);
      absl::StrAppend(&body, "}");
      httplib::Result scanned = Post(1 + page % 3, "DynamoDB_20120810.Scan", body);
      EXPECT_TRUE(scanned);
      if (!scanned) break;
      EXPECT_EQ(scanned->status, 200) << scanned->body;
      const nlohmann::json reply = nlohmann::json::parse(scanned->body);
      for (const nlohmann::json& item : reply["Items"]) {
        EXPECT_TRUE(seen.insert(item.dump()).second) << "seen twice: " << item.dump();
      }
      if (!reply.contains("LastEvaluatedKey")) break;
      start = reply["LastEvaluatedKey"].dump();
    }
    return seen;
  };
  EXPECT_EQ(scan_all("").size(), 2u * kPartitions);
  std::set<std::string> segmented;
  for (int segment = 0; segment < 4; ++segment) {
    for (const std::string& item :
         scan_all(absl::StrCat(R"(, "Segment": )", segment, R"(, "TotalSegments": 4)"))) {
      EXPECT_TRUE(segmented.insert(item).second) << "in two segments: " << item;
    }
  }
  EXPECT_EQ(segmented.size(), 2u * kPartitions);
  for (int node = 1; node <= 3; ++node) EXPECT_EQ(cluster().Terminate(node), 0) << "n" << node;
}

// Writers move items between GSI keys (each write a transaction over the item's group and
// its old and new entries' groups) while readers scan the index: every index scan holds
// each item exactly once, and a write's new entry is found through another node as soon as
// the write is acknowledged (tests/dynamo_boto3/index_consistency_test.py).
TEST_F(DynamoClusterTest, Boto3IndexReadsDuringConcurrentWrites) {
  ASSERT_NO_FATAL_FAILURE(StartDynamoCluster({"--groups=3", "--split_points=m,t"},
                                             {"a-warmup", "p-warmup", "z-warmup"}));
  RunBoto3Script("index_consistency_test.py", 150, "1 passed, 0 failed");
}

TEST(DynamoStartupTest, OccupiedPortExitsNonZeroWithAMessage) {
  // A listening socket on 127.0.0.1 held while the server starts.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  const int held = ntohs(address.sin_port);
  const std::vector<int> ports = PickFreePorts(2);
  const std::string dir = MakeTempDir("ekv-dynamo-port");
  const std::string raft = absl::StrCat("127.0.0.1:", ports[1]);
  ProcessResult result = RunServerToCompletion(
      {"--id=n1", absl::StrCat("--grpc_address=127.0.0.1:", ports[0]),
       absl::StrCat("--raft_address=", raft), absl::StrCat("--peers=n1=", raft),
       absl::StrCat("--data_dir=", dir, "/data"),
       absl::StrCat("--dynamo_address=127.0.0.1:", held)},
      std::chrono::milliseconds(15000));
  close(fd);
  RemoveTree(dir);
  EXPECT_FALSE(result.timed_out) << result.out;
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.exit_code, -1) << result.err;
  EXPECT_NE(result.err.find(absl::StrCat("--dynamo_address: cannot listen on 127.0.0.1:", held)),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace ekv::integration
