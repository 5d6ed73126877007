// The coordinator's stale-route path, end to end through a real NodeLoop: one node hosting
// the catalog group (1) and group 2, and several coordinators on it. One follows the
// catalog watch like a server's; the others are handed the bootstrap table and never hear
// of changes -- a node whose watch is arbitrarily late. After splits that group 2 learns
// in one jump (so it refuses requests routed by the bootstrap table, ownership.h), every
// operation through a stale coordinator must still succeed, with the retry counted in
// CoordinatorStats; with the planted no-retry bug the same operations must fail.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/node/group_state_machine.h"
#include "core/route/catalog.h"
#include "core/route/ownership.h"
#include "core/util/assert.h"
#include "gtest/gtest.h"
#include "runtime/server/coordinator.h"
#include "runtime/server/node_loop.h"
#include "runtime/storage/rocksdb_env.h"
#include "runtime/transport/raft_transport.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::runtime {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

route::RouteCatalog Bootstrap() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EKV_ASSERT(catalog.ok(), "the demo bootstrap catalog is valid");
  return *catalog;
}

// One node, groups 1 (catalog) and 2, every group built as ekv_server_main builds it.
class OneNode {
 public:
  OneNode() : bootstrap_(Bootstrap()), transport_(1, {{1, "127.0.0.1:1"}}, {}) {
    absl::StatusOr<std::unique_ptr<RocksDbEnv>> env = RocksDbEnv::Open(dir_.path());
    EKV_ASSERT(env.ok(), "test RocksDB opens");
    env_ = std::move(*env);
    NodeLoopOptions options;
    options.node_id = 1;
    options.tick_ms = 5;
    options.groups = {{1, {1}}, {2, {1}}};
    options.host.raft.election_tick = 4;
    options.host.raft.heartbeat_tick = 1;
    options.host.serve_on_followers = true;
    loop_ = std::make_unique<NodeLoop>(options, env_.get(), &transport_, [this](raft::GroupId g) {
      std::optional<route::RouteCatalog> catalog;
      if (g == 1) catalog = bootstrap_;
      auto machine = std::make_unique<node::GroupStateMachine>(g, std::move(catalog), bootstrap_);
      if (g == 1) {
        machine->SetCatalogListener([this](const route::RouteCatalog& catalog) {
          if (Coordinator* watcher = watcher_.load(); watcher != nullptr) {
            watcher->UpdateRoutes(catalog);
          }
        });
      }
      return machine;
    });
    fresh_ = NewCoordinator();
    watcher_ = fresh_.get();
    const absl::Status started = loop_->Start();
    EKV_ASSERT(started.ok(), "the node loop starts");
  }
  ~OneNode() {
    watcher_ = nullptr;
    loop_->Stop();
  }

  // A coordinator that routes by the bootstrap table and never hears of a change.
  std::unique_ptr<Coordinator> NewCoordinator(bool planted_no_retry = false,
                                              int max_stale_route_retries = 32) {
    CoordinatorOptions options;
    options.max_stale_route_retries = max_stale_route_retries;
    options.node_id = 1;
    options.request_timeout = std::chrono::milliseconds(5000);
    options.planted_no_stale_route_retry = planted_no_retry;
    auto coordinator = std::make_unique<Coordinator>(options, loop_.get(), &transport_);
    coordinator->UpdateRoutes(bootstrap_);
    return coordinator;
  }

  Coordinator& fresh() { return *fresh_; }

 private:
  TempDir dir_;
  route::RouteCatalog bootstrap_;
  RaftTransport transport_;
  std::unique_ptr<RocksDbEnv> env_;
  std::unique_ptr<NodeLoop> loop_;
  std::unique_ptr<Coordinator> fresh_;
  std::atomic<Coordinator*> watcher_{nullptr};
};

// Splits route 1 (group 1, the catalog group: group 2 hears nothing) at "g", then route 2
// (group 2's) at "t": group 2 jumps from version 1 to 3 and from then on refuses requests
// routed at versions below 3. Writes a, x, y on the way.
void SplitTwice(Coordinator& fresh) {
  ASSERT_TRUE(fresh.RawPut("a", "a0").ok());
  ASSERT_TRUE(fresh.RawPut("x", "x0").ok());
  absl::StatusOr<route::SplitResult> first = fresh.SplitRange(1, 1, "g");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->catalog_version, 2u);
  EXPECT_EQ(fresh.stats().ownership_updates, 0u) << "the catalog group follows the catalog";
  // Group 2 is still at version 1: a request routed at the newer version 2 is judged by
  // its own view, and accepted.
  absl::StatusOr<WriteOutcome> newer = fresh.RawPut("y", "y0");
  ASSERT_TRUE(newer.ok()) << newer.status();
  absl::StatusOr<route::SplitResult> second = fresh.SplitRange(2, 2, "t");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->catalog_version, 3u);
  EXPECT_EQ(fresh.stats().ownership_updates, 1u) << "group 2 was told about its split";
  // Routed at version 3, which group 2 now has: accepted on both sides of the new split.
  ASSERT_TRUE(fresh.RawPut("p", "p0").ok());
  ASSERT_TRUE(fresh.RawPut("z", "z0").ok());
  EXPECT_EQ(fresh.stats().stale_route_refusals, 0u) << "the fresh coordinator is never refused";
}

TEST(CoordinatorStaleRouteTest, EveryOperationThroughAStaleTableSucceedsAfterARetry) {
  OneNode node;
  ASSERT_NO_FATAL_FAILURE(SplitTwice(node.fresh()));

  // Each operation gets its own stale coordinator, so each must find its own way.
  auto expect_retried = [](const Coordinator& c, const char* what) {
    EXPECT_GE(c.stats().stale_route_refusals, 1u) << what << " was never refused";
    EXPECT_GE(c.stats().route_refreshes, 1u) << what;
    EXPECT_EQ(c.catalog_version(), 3u) << what << " did not refresh its table";
  };
  {
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<WriteOutcome> put = stale->RawPut("x", "x1");
    ASSERT_TRUE(put.ok()) << put.status();
    expect_retried(*stale, "RawPut");
  }
  {
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<ReadOutcome> got = stale->RawGet("x", 0);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->value, "x1");
    expect_retried(*stale, "RawGet");
  }
  {
    // The part of group 1 is served at version 1, group 2's part is refused and re-planned
    // from the cursor as [m, t) + [t, inf): every key once, in order.
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<Pairs> scanned = stale->RawScan("", "", 100, 0);
    ASSERT_TRUE(scanned.ok()) << scanned.status();
    EXPECT_EQ(*scanned, (Pairs{{"a", "a0"}, {"p", "p0"}, {"x", "x1"}, {"y", "y0"}, {"z", "z0"}}));
    expect_retried(*stale, "RawScan");
  }
  {
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<WriteOutcome> deleted = stale->RawDelete("p");
    ASSERT_TRUE(deleted.ok()) << deleted.status();
    expect_retried(*stale, "RawDelete");
  }
  {
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<WriteOutcome> put = stale->TxnPut("w", "w0");
    ASSERT_TRUE(put.ok()) << put.status();
    expect_retried(*stale, "TxnPut");
  }
  {
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<ReadOutcome> got = stale->TxnGet("w");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->value, "w0");
    expect_retried(*stale, "TxnGet");
  }
  {
    // A cross-group transaction whose primary ("v", group 2) is refused first: it is
    // re-routed and still commits before the secondary ("b", group 1).
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<uint64_t> start_ts = stale->GetTimestamp();
    ASSERT_TRUE(start_ts.ok()) << start_ts.status();
    absl::StatusOr<TxnOutcome> prewritten =
        stale->Prewrite({{"v", "v0"}, {"b", "b0"}}, *start_ts, 0);
    ASSERT_TRUE(prewritten.ok()) << prewritten.status();
    EXPECT_TRUE(prewritten->errors.empty()) << prewritten->errors.front().message;
    expect_retried(*stale, "Prewrite");
    absl::StatusOr<TxnOutcome> committed = stale->Commit(*start_ts, {});
    ASSERT_TRUE(committed.ok()) << committed.status();
    EXPECT_TRUE(committed->errors.empty()) << committed->errors.front().message;
  }
  {
    std::unique_ptr<Coordinator> stale = node.NewCoordinator();
    absl::StatusOr<Pairs> scanned = stale->TxnScan("", "", 100);
    ASSERT_TRUE(scanned.ok()) << scanned.status();
    // Raw and transactional writes share the MVCC store; "p" was deleted above.
    EXPECT_EQ(*scanned, (Pairs{{"a", "a0"},
                               {"b", "b0"},
                               {"v", "v0"},
                               {"w", "w0"},
                               {"x", "x1"},
                               {"y", "y0"},
                               {"z", "z0"}}));
    expect_retried(*stale, "TxnScan");
  }
}

// Test the test: without the retry the stale coordinator's client sees the refusal, so
// the test above fails on the planted bug.
TEST(CoordinatorStaleRouteTest, PlantedNoRetryBugReachesTheClient) {
  OneNode node;
  ASSERT_NO_FATAL_FAILURE(SplitTwice(node.fresh()));
  std::unique_ptr<Coordinator> stale = node.NewCoordinator(/*planted_no_retry=*/true);
  absl::StatusOr<WriteOutcome> put = stale->RawPut("x", "x1");
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(route::ParseStaleRouteError(put.status()).has_value()) << put.status();
  absl::StatusOr<Pairs> scanned = stale->RawScan("", "", 100, 0);
  ASSERT_FALSE(scanned.ok());
  EXPECT_TRUE(route::ParseStaleRouteError(scanned.status()).has_value()) << scanned.status();
  EXPECT_EQ(stale->stats().route_refreshes, 0u);
}

// The retry is bounded: a coordinator allowed no retries reports the exhausted bound as a
// retryable UNAVAILABLE that says why, never a raw routing error.
TEST(CoordinatorStaleRouteTest, RetriesAreBounded) {
  OneNode node;
  ASSERT_NO_FATAL_FAILURE(SplitTwice(node.fresh()));
  std::unique_ptr<Coordinator> stale =
      node.NewCoordinator(/*planted_no_retry=*/false, /*max_stale_route_retries=*/0);
  absl::StatusOr<WriteOutcome> put = stale->RawPut("x", "x2");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable) << put.status();
  EXPECT_NE(put.status().message().find("routes kept changing"), absl::string_view::npos)
      << put.status();
  EXPECT_EQ(stale->stats().stale_route_refusals, 1u);
}

}  // namespace
}  // namespace ekv::runtime
