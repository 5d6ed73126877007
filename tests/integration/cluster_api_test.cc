// A healthy 3-node cluster through real gRPC clients: leader election, follower
// forwarding (the quickstart of REFERENCE §1 in RawKV terms) and every public RPC.
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;

// The server's Raft timing (its 50 ms ticks), not the harness's 20 ms: these tests make most
// calls once and expect their exact answers, and with 20 ms ticks a loaded machine holds
// spurious elections, during which a call is answered UNAVAILABLE or "outcome unknown".
ClusterOptions ServerTiming() {
  ClusterOptions options;
  options.tick_ms = 50;
  return options;
}

TEST_F(ClusterTest, QuickstartWritesAnywhereReadsEverywhere) {
  const uint64_t started_us = MonotonicMicros();
  ASSERT_NO_FATAL_FAILURE(StartCluster(ServerTiming()));
  std::cout << "cluster of 3 elected leaders and served on every node after "
            << (MonotonicMicros() - started_us) / 1000 << " ms\n";

  // redis-cli -p 63791 set key value; get key on every node.
  grpc::Status put = RawPutEventually(cluster(), 1, "key", "value");
  ASSERT_TRUE(put.ok()) << Describe(put);
  for (int node = 1; node <= 3; ++node) {
    ReadResult got = RawGetEventually(cluster(), node, "key");
    ASSERT_TRUE(got.status.ok()) << "n" << node << ": " << Describe(got.status);
    EXPECT_TRUE(got.exists) << "n" << node;
    EXPECT_EQ(got.value, "value") << "n" << node;
  }
  // redis-cli -p 63792 set bbbb 1234; get bbbb on n3 and n1.
  put = RawPutEventually(cluster(), 2, "bbbb", "1234");
  ASSERT_TRUE(put.ok()) << Describe(put);
  for (int node : {3, 1}) {
    ReadResult got = RawGetEventually(cluster(), node, "bbbb");
    ASSERT_TRUE(got.status.ok()) << "n" << node << ": " << Describe(got.status);
    EXPECT_EQ(got.value, "1234") << "n" << node;
  }
  // A write through every node to each group: at least two of the three nodes are
  // followers of each group, so forwarding is exercised whoever leads.
  for (int node = 1; node <= 3; ++node) {
    for (const std::string prefix : {"fwd-a/", "zz-fwd/"}) {
      const std::string key = prefix + std::to_string(node);
      put = RawPut(cluster(), node, key, "via n" + std::to_string(node));
      ASSERT_TRUE(put.ok()) << key << " via n" << node << ": " << Describe(put);
      for (int reader = 1; reader <= 3; ++reader) {
        ReadResult got = RawGet(cluster(), reader, key);
        ASSERT_TRUE(got.status.ok()) << Describe(got.status);
        EXPECT_EQ(got.value, "via n" + std::to_string(node)) << key << " read via n" << reader;
      }
    }
  }
  // SIGTERM is a graceful shutdown: exit code 0.
  for (int node = 1; node <= 3; ++node) {
    const uint64_t term_us = MonotonicMicros();
    EXPECT_EQ(cluster().Terminate(node), 0) << "n" << node << " after SIGTERM";
    std::cout << "n" << node << " exited " << (MonotonicMicros() - term_us) / 1000
              << " ms after SIGTERM\n";
  }
}

void ExpectRoute(const proto::RouteDescriptor& route, uint64_t id, const std::string& start,
                 const std::string& end, uint64_t group, uint64_t parent) {
  EXPECT_EQ(route.route_id(), id);
  EXPECT_EQ(route.start(), start) << "route " << id;
  EXPECT_EQ(route.end(), end) << "route " << id;
  EXPECT_EQ(route.raft_group_id(), group) << "route " << id;
  EXPECT_EQ(route.state(), proto::ROUTE_STATE_ACTIVE) << "route " << id;
  EXPECT_EQ(route.parent_route_id(), parent) << "route " << id;
}

grpc::Status Split(ProcessCluster& cluster, int node, uint64_t version, uint64_t route_id,
                   const std::string& key, proto::SplitRangeResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::SplitRangeRequest request;
  request.set_expected_catalog_version(version);
  request.set_route_id(route_id);
  request.set_split_key(key);
  return cluster.dist(node).SplitRange(&context, request, response);
}

grpc::Status ListRoutes(ProcessCluster& cluster, int node, proto::ListRoutesResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  return cluster.dist(node).ListRoutes(&context, proto::ListRoutesRequest(), response);
}

grpc::Status GetRoute(ProcessCluster& cluster, int node, const std::string& key,
                      proto::GetRouteResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::GetRouteRequest request;
  request.set_key(key);
  return cluster.dist(node).GetRoute(&context, request, response);
}

uint64_t Timestamp(ProcessCluster& cluster, int node) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::GetTimestampResponse response;
  grpc::Status status =
      cluster.dist(node).GetTimestamp(&context, proto::GetTimestampRequest(), &response);
  EXPECT_TRUE(status.ok()) << "GetTimestamp via n" << node << ": " << Describe(status);
  return response.timestamp();
}

std::string TxnGetValue(ProcessCluster& cluster, int node, const std::string& key) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::GetRequest request;
  request.set_key(key);
  proto::GetResponse response;
  grpc::Status status = cluster.txn(node).Get(&context, request, &response);
  EXPECT_TRUE(status.ok()) << "Get " << key << " via n" << node << ": " << Describe(status);
  return response.value();
}

std::vector<std::string> ScanKeys(ProcessCluster& cluster, int node, const std::string& start,
                                  const std::string& end, int64_t limit, grpc::Status* status,
                                  uint64_t ts = 0) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::RawScanAtRequest request;
  request.set_start_key(start);
  request.set_end_key(end);
  request.set_limit(limit);
  request.set_ts(ts);
  proto::RawScanAtResponse response;
  *status = cluster.raw(node).RawScanAt(&context, request, &response);
  std::vector<std::string> keys;
  for (const proto::RawKVPair& pair : response.kv())
    keys.push_back(pair.key() + "=" + pair.value());
  return keys;
}

TEST_F(ClusterTest, EveryRpcThroughRealClients) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(ServerTiming()));
  ProcessCluster& c = cluster();

  // ---- RawKV: keys on both sides of the "m" route boundary.
  const std::vector<std::pair<std::string, std::string>> raw = {
      {"a1", "A"}, {"b2", "B"}, {"l3", "L"}, {"m4", "M"}, {"p5", "P"}, {"z6", "Z"}};
  for (size_t i = 0; i < raw.size(); ++i) {
    grpc::Status put =
        RawPutEventually(c, 1 + static_cast<int>(i % 3), raw[i].first, raw[i].second);
    ASSERT_TRUE(put.ok()) << raw[i].first << ": " << Describe(put);
  }
  grpc::Status status;
  EXPECT_EQ(ScanKeys(c, 2, "", "", 100, &status),
            (std::vector<std::string>{"a1=A", "b2=B", "l3=L", "m4=M", "p5=P", "z6=Z"}));
  EXPECT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(ScanKeys(c, 3, "", "", 4, &status),
            (std::vector<std::string>{"a1=A", "b2=B", "l3=L", "m4=M"}))
      << "limit across the route boundary";
  EXPECT_EQ(ScanKeys(c, 1, "b", "p", 100, &status),
            (std::vector<std::string>{"b2=B", "l3=L", "m4=M"}));
  ScanKeys(c, 1, "", "", 0, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  ScanKeys(c, 1, "p", "b", 10, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);

  // RawLatestCommitTS, and a snapshot read at that timestamp after an overwrite.
  uint64_t a1_ts = 0;
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::RawLatestCommitTSRequest request;
    request.set_key("a1");
    proto::RawLatestCommitTSResponse response;
    status = c.raw(2).RawLatestCommitTS(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(response.exists());
    EXPECT_GT(response.ts(), 0u);
    a1_ts = response.ts();
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::RawLatestCommitTSRequest request;
    request.set_key("never-written");
    proto::RawLatestCommitTSResponse response;
    status = c.raw(3).RawLatestCommitTS(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_FALSE(response.exists());
  }
  ASSERT_TRUE(RawPut(c, 3, "a1", "A2").ok());
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::RawGetRequest request;
    request.set_key("a1");
    request.set_ts(a1_ts);
    proto::RawGetResponse response;
    status = c.raw(1).RawGet(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.value(), "A") << "snapshot read at the first write's commit ts";
    EXPECT_EQ(RawGet(c, 1, "a1").value, "A2");
    EXPECT_EQ(ScanKeys(c, 2, "a", "b", 10, &status, a1_ts), (std::vector<std::string>{"a1=A"}));
  }
  // RawDelete, then a read of the deleted and of a never-written key.
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::RawDeleteRequest request;
    request.set_key("p5");
    proto::RawDeleteResponse response;
    status = c.raw(1).RawDelete(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(response.success());
    EXPECT_GT(response.commit_index(), 0u);
  }
  for (int node = 1; node <= 3; ++node) {
    ReadResult deleted = RawGet(c, node, "p5");
    ASSERT_TRUE(deleted.status.ok()) << Describe(deleted.status);
    EXPECT_FALSE(deleted.exists) << "deleted key read via n" << node;
  }
  EXPECT_FALSE(RawGet(c, 2, "never-written").exists);
  EXPECT_EQ(RawPut(c, 1, "", "x").error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // ---- TransactionalKV single-key operations.
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::PutRequest request;
    request.set_key("t/k1");
    request.set_value("tv1");
    proto::PutResponse response;
    status = c.txn(2).Put(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(response.success());
  }
  EXPECT_EQ(TxnGetValue(c, 3, "t/k1"), "tv1");
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::ScanRequest request;
    request.set_start_key("t/");
    request.set_end_key("t0");
    request.set_limit(10);
    proto::ScanResponse response;
    status = c.txn(1).Scan(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    ASSERT_EQ(response.kv_size(), 1);
    EXPECT_EQ(response.kv(0).key(), "t/k1");
    EXPECT_EQ(response.kv(0).value(), "tv1");
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::DeleteRequest request;
    request.set_key("t/k1");
    proto::DeleteResponse response;
    status = c.txn(1).Delete(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(response.success());
  }
  EXPECT_EQ(TxnGetValue(c, 2, "t/k1"), "");

  // ---- A cross-group transaction: "a" on group 1, "z" on group 2.
  const uint64_t start_ts = Timestamp(c, 1);
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::PreWriteRequest request;
    proto::Kv* a = request.add_mutations();
    a->set_key("a");
    a->set_value("txn-a");
    proto::Kv* z = request.add_mutations();
    z->set_key("z");
    z->set_value("txn-z");
    request.set_start_ts(start_ts);
    request.set_lock_ttl(3000);
    proto::PreCommitResponse response;
    status = c.txn(1).PreWrite(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.errors_size(), 0) << response.DebugString();
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::CommitRequest request;
    request.set_start_ts(start_ts);
    request.add_keys("a");
    request.add_keys("z");
    proto::CommitResponse response;
    status = c.txn(1).Commit(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(response.success()) << response.DebugString();
    EXPECT_EQ(response.errors_size(), 0) << response.DebugString();
  }
  EXPECT_EQ(TxnGetValue(c, 2, "a"), "txn-a");
  EXPECT_EQ(TxnGetValue(c, 3, "z"), "txn-z");

  // ---- Rollback of a prewritten transaction (sent to the node that served PreWrite).
  const uint64_t rollback_ts = Timestamp(c, 2);
  EXPECT_GT(rollback_ts, start_ts);
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::PreWriteRequest request;
    proto::Kv* b = request.add_mutations();
    b->set_key("b");
    b->set_value("never");
    proto::Kv* y = request.add_mutations();
    y->set_key("y");
    y->set_value("never");
    request.set_start_ts(rollback_ts);
    proto::PreCommitResponse response;
    status = c.txn(2).PreWrite(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.errors_size(), 0) << response.DebugString();
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::RollbackRequest request;
    request.set_start_ts(rollback_ts);
    proto::RollbackResponse response;
    status = c.txn(2).Rollback(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(response.success());
  }
  EXPECT_EQ(TxnGetValue(c, 1, "b"), "");
  EXPECT_EQ(TxnGetValue(c, 3, "y"), "");
  {
    // A commit after the rollback must not resurrect the writes.
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::CommitRequest request;
    request.set_start_ts(rollback_ts);
    request.add_keys("b");
    request.add_keys("y");
    proto::CommitResponse response;
    status = c.txn(2).Commit(&context, request, &response);
    EXPECT_TRUE(!status.ok() || !response.success())
        << "commit after rollback succeeded: " << response.DebugString();
  }
  EXPECT_EQ(TxnGetValue(c, 1, "b"), "");
  EXPECT_EQ(TxnGetValue(c, 1, "y"), "");

  // ---- Distribution: the initial catalog, GetRoute, timestamps.
  proto::ListRoutesResponse routes;
  status = ListRoutes(c, 1, &routes);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(routes.catalog_version(), 1u);
  ASSERT_EQ(routes.routes_size(), 2) << routes.DebugString();
  ExpectRoute(routes.routes(0), 1, "", "m", 1, 0);
  ExpectRoute(routes.routes(1), 2, "m", "", 2, 0);
  proto::GetRouteResponse route;
  ASSERT_TRUE(GetRoute(c, 2, "a", &route).ok());
  EXPECT_EQ(route.start(), "");
  EXPECT_EQ(route.end(), "m");
  EXPECT_EQ(route.raft_group_id(), 1u);
  ASSERT_TRUE(GetRoute(c, 3, "z", &route).ok());
  EXPECT_EQ(route.start(), "m");
  EXPECT_EQ(route.end(), "");
  EXPECT_EQ(route.raft_group_id(), 2u);

  uint64_t previous = 0;
  for (int i = 0; i < 30; ++i) {
    const int node = 1 + i % 3;
    const uint64_t ts = Timestamp(c, node);
    EXPECT_GT(ts, previous) << "GetTimestamp call " << i << " via n" << node;
    previous = ts;
  }

  // ---- SplitRange exactly as the quickstart's grpcurl line.
  proto::SplitRangeResponse split;
  status = Split(c, 1, 1, 1, "g", &split);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(split.catalog_version(), 2u);
  ExpectRoute(split.left(), 3, "", "g", 1, 1);
  ExpectRoute(split.right(), 4, "g", "m", 1, 1);

  proto::SplitRangeResponse refused;
  EXPECT_EQ(Split(c, 2, 1, 3, "c", &refused).error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "stale expected_catalog_version";
  EXPECT_EQ(Split(c, 3, 1, 1, "c", &refused).error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "stale expected_catalog_version, retired route";
  EXPECT_EQ(Split(c, 1, 2, 3, "", &refused).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "split key at the route's start";
  EXPECT_EQ(Split(c, 1, 2, 3, "g", &refused).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "split key at the route's end";
  EXPECT_EQ(Split(c, 2, 2, 3, "x", &refused).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "split key outside the route";
  EXPECT_EQ(Split(c, 3, 2, 99, "b", &refused).error_code(), grpc::StatusCode::NOT_FOUND)
      << "unknown route";
  EXPECT_EQ(Split(c, 3, 2, 1, "b", &refused).error_code(), grpc::StatusCode::NOT_FOUND)
      << "the split parent is no longer a route";

  // Every node sees version 2 (bounded wait: followers learn it through the catalog watch).
  for (int node = 1; node <= 3; ++node) {
    proto::ListRoutesResponse after;
    const auto deadline = std::chrono::steady_clock::now() + kPollBudget;
    while (true) {
      after.Clear();
      status = ListRoutes(c, node, &after);
      if ((status.ok() && after.catalog_version() == 2) ||
          std::chrono::steady_clock::now() >= deadline) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(after.catalog_version(), 2u) << "n" << node;
    ASSERT_EQ(after.routes_size(), 3) << "n" << node << ": " << after.DebugString();
    ExpectRoute(after.routes(0), 3, "", "g", 1, 1);
    ExpectRoute(after.routes(1), 4, "g", "m", 1, 1);
    ExpectRoute(after.routes(2), 2, "m", "", 2, 0);
    ASSERT_TRUE(GetRoute(c, node, "h", &route).ok());
    EXPECT_EQ(route.start(), "g") << "n" << node;
    EXPECT_EQ(route.end(), "m") << "n" << node;
    EXPECT_EQ(route.raft_group_id(), 1u) << "n" << node;
    // Data and scans across the new boundary still work through every node.
    // (Only the two-character raw keys: whether RawScanAt also shows keys written by
    // transactions is not part of this check.)
    std::vector<std::string> raw_keys;
    for (const std::string& pair : ScanKeys(c, node, "", "", 100, &status)) {
      if (pair.find('=') == 2) raw_keys.push_back(pair);
    }
    EXPECT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(raw_keys, (std::vector<std::string>{"a1=A2", "b2=B", "l3=L", "m4=M", "z6=Z"}))
        << "n" << node;
  }
}

// Client-driven transactions whose keys are committed by separate Commit calls, also through
// a node that did not serve PreWrite: every key gets the primary's commit_ts (two would let
// a snapshot between them see half the transaction), a secondary committed before its
// primary is refused, and a snapshot read (RawGet at ts) resolves a leftover lock.
grpc::Status PreWrite(ProcessCluster& c, int node, uint64_t start_ts,
                      const std::vector<std::pair<std::string, std::string>>& mutations,
                      proto::PreCommitResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::PreWriteRequest request;
  for (const auto& [key, value] : mutations) {
    proto::Kv* kv = request.add_mutations();
    kv->set_key(key);
    kv->set_value(value);
  }
  request.set_start_ts(start_ts);
  request.set_lock_ttl(30000);
  return c.txn(node).PreWrite(&context, request, response);
}

grpc::Status Commit(ProcessCluster& c, int node, uint64_t start_ts,
                    const std::vector<std::string>& keys, proto::CommitResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::CommitRequest request;
  request.set_start_ts(start_ts);
  for (const std::string& key : keys) request.add_keys(key);
  return c.txn(node).Commit(&context, request, response);
}

uint64_t LatestCommitTs(ProcessCluster& c, int node, const std::string& key) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  proto::RawLatestCommitTSRequest request;
  request.set_key(key);
  proto::RawLatestCommitTSResponse response;
  grpc::Status status = c.raw(node).RawLatestCommitTS(&context, request, &response);
  EXPECT_TRUE(status.ok()) << key << ": " << Describe(status);
  EXPECT_TRUE(response.exists()) << key << ": " << response.DebugString();
  return response.ts();
}

TEST_F(ClusterTest, SeparateCommitsOfOneTransactionShareItsCommitTs) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(ServerTiming()));
  ProcessCluster& c = cluster();
  grpc::Status status;

  // Primary "c1" (group 1) committed through n1, secondary "x1" (group 2) through n2.
  const uint64_t t1 = Timestamp(c, 1);
  proto::PreCommitResponse prewritten;
  status = PreWrite(c, 1, t1, {{"c1", "C"}, {"x1", "X"}}, &prewritten);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(prewritten.errors_size(), 0) << prewritten.DebugString();
  proto::CommitResponse committed;
  status = Commit(c, 1, t1, {"c1"}, &committed);
  ASSERT_TRUE(status.ok() && committed.success()) << Describe(status) << committed.DebugString();
  committed.Clear();
  status = Commit(c, 2, t1, {"x1"}, &committed);
  ASSERT_TRUE(status.ok() && committed.success()) << Describe(status) << committed.DebugString();
  EXPECT_EQ(LatestCommitTs(c, 3, "c1"), LatestCommitTs(c, 3, "x1"));

  // The same through the node that served PreWrite.
  const uint64_t t2 = Timestamp(c, 2);
  prewritten.Clear();
  status = PreWrite(c, 2, t2, {{"d1", "D"}, {"y1", "Y"}}, &prewritten);
  ASSERT_TRUE(status.ok() && prewritten.errors_size() == 0)
      << Describe(status) << prewritten.DebugString();
  committed.Clear();
  status = Commit(c, 2, t2, {"d1"}, &committed);
  ASSERT_TRUE(status.ok() && committed.success()) << Describe(status) << committed.DebugString();
  // Before y1's own Commit: a snapshot read meets its lock and resolves it forward.
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    proto::RawGetRequest request;
    request.set_key("y1");
    request.set_ts(Timestamp(c, 3));
    proto::RawGetResponse response;
    status = c.raw(3).RawGet(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.value(), "Y") << response.DebugString();
  }
  committed.Clear();
  status = Commit(c, 2, t2, {"y1"}, &committed);
  EXPECT_TRUE(status.ok() && committed.success()) << Describe(status) << committed.DebugString();
  EXPECT_EQ(LatestCommitTs(c, 1, "d1"), LatestCommitTs(c, 1, "y1"));

  // A secondary alone, before its primary, is refused and leaves the transaction whole.
  const uint64_t t3 = Timestamp(c, 3);
  prewritten.Clear();
  status = PreWrite(c, 3, t3, {{"e1", "E"}, {"w1", "W"}}, &prewritten);
  ASSERT_TRUE(status.ok() && prewritten.errors_size() == 0)
      << Describe(status) << prewritten.DebugString();
  committed.Clear();
  status = Commit(c, 1, t3, {"w1"}, &committed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(status) << committed.DebugString();
  committed.Clear();
  status = Commit(c, 3, t3, {"e1", "w1"}, &committed);
  ASSERT_TRUE(status.ok() && committed.success()) << Describe(status) << committed.DebugString();
  EXPECT_EQ(LatestCommitTs(c, 2, "e1"), LatestCommitTs(c, 2, "w1"));
  EXPECT_EQ(TxnGetValue(c, 1, "w1"), "W");
}

}  // namespace
}  // namespace ekv::integration
