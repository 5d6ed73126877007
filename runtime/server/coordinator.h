// Coordinator: the server's driver of core's coord::Coordinator (core/coord/coordinator.h),
// which makes every routing, retry, transaction and lock-resolution decision -- the same
// code the simulator runs. This class only moves inputs and effects between it and the
// world: the core coordinator lives on the node loop thread (NodeLoop::Post), its group
// calls go to this node's NodeHost directly (NodeLoop::SubmitFromLoop) or, for groups
// this node does not host, through a forwarding RPC on a small pool; its timers are the
// loop's (NodeLoop::RunAtFromLoop); its answers run the callers' callbacks on the loop
// thread. The blocking methods are wrappers that wait for the asynchronous answer (never
// call them on the loop thread). Thread-safe.
//
// Stale routes: every kv command and query carries the catalog version of the route table
// it was routed by. A group whose ownership (core/route/ownership.h) says the request was
// routed by an outdated table refuses it with STALE_ROUTE, a definite no-op. The
// coordinator then reads the catalog linearizably from the catalog group, replaces its
// table, re-routes and retries (scans re-plan the rest of their range from the cursor),
// within the request deadline and at most `max_stale_route_retries` times per request.
// Clients never see a routing error unless that bound is exhausted.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/coord/coordinator.h"
#include "core/coord/membership.h"
#include "core/kv/txn_coordinator.h"
#include "core/node/group_protocol.h"
#include "core/node/member_directory.h"
#include "core/raft/confchange.h"
#include "core/route/catalog.h"
#include "core/route/ownership.h"
#include "core/route/route.h"
#include "runtime/server/fallback_pool.h"
#include "runtime/server/gc_scheduler.h"
#include "runtime/server/node_loop.h"
#include "runtime/transport/raft_transport.h"

namespace ekv::runtime {

// gRPC metadata on RequestJoin's AddNode (cluster_join.h): the joining node's data dir is empty, so
// the member readmits it to the created groups it was once removed from (AddNode's `readmit`).
inline constexpr char kJoinEmptyDataDirMetadata[] = "ekv-join-empty-data-dir";

struct CoordinatorOptions {
  raft::NodeId node_id = raft::kNoNode;
  raft::GroupId catalog_group = 1;
  std::chrono::milliseconds request_timeout{5000};
  size_t max_scan_limit = 10000;
  size_t max_txn_keys = 4096;
  uint64_t default_lock_ttl_ms = 3000;
  // Bound on refresh-and-retry rounds after STALE_ROUTE refusals, per request (the
  // request deadline bounds them too).
  int max_stale_route_retries = 32;
  // Test-the-tests only: return STALE_ROUTE refusals to the client instead of refreshing
  // and retrying (the bug the stale-route tests must catch). Off in production.
  bool planted_no_stale_route_retry = false;
  // Test-the-tests only (ekv-server --planted_bugs): the coordinator's planted bugs.
  coord::CoordinatorPlants plants;
};

// Counters, read with Coordinator::stats(); monotonic since construction.
struct CoordinatorStats {
  uint64_t stale_route_refusals = 0;  // STALE_ROUTE replies received from groups
  uint64_t route_refreshes = 0;       // catalog reads made because of them
  uint64_t ownership_updates = 0;     // kOwnership commands proposed after splits
};

// One node as the membership API shows it (Coordinator::DescribeNodes).
using MemberRole = coord::MemberRole;
struct NodeView {
  raft::NodeId node = raft::kNoNode;
  std::optional<node::MemberAddresses> addresses;  // nullopt: not in the member directory
  struct Group {
    raft::GroupId group = 0;
    MemberRole role = MemberRole::kNone;
    bool leader = false;
  };
  std::vector<Group> groups;  // every group this node hosts, in id order
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

// The answer of Coordinator::CompareAndSet.
struct CasOutcome {
  bool applied = false;  // the value was `expected` and is now `new_value`
  // The value the group found at apply time (before the write when applied): what a
  // caller retrying a read-modify-write computes from next.
  std::optional<std::string> current;
  uint64_t index = 0;  // Raft log index of the command
};

class Coordinator {
 public:
  // Register before loop->Start() (it adds a stop hook).
  Coordinator(CoordinatorOptions options, NodeLoop* loop, RaftTransport* transport);
  ~Coordinator();

  // Serves a request forwarded from another node: runs it locally, never re-forwards.
  internal::ForwardResponse ServeForwarded(const internal::ForwardRequest& request);

  // RawKV.
  absl::StatusOr<WriteOutcome> RawPut(std::string key, std::string value);
  absl::StatusOr<WriteOutcome> RawDelete(std::string key);
  absl::StatusOr<ReadOutcome> RawGet(std::string key, uint64_t ts);
  // The same as RawPut / RawGet (ts = 0) without holding a thread while Raft works: when
  // this node hosts the key's group, the request goes straight to the node loop and
  // `done` runs on the loop thread with the answer. Anything but a plain answer (no
  // leader yet, a refusal, a stale route) is retried by the blocking path on a fallback
  // thread, exactly as RawPut / RawGet would. `done` runs once and must not block.
  using WriteDone = std::function<void(absl::StatusOr<WriteOutcome>)>;
  using ReadDone = std::function<void(absl::StatusOr<ReadOutcome>)>;
  void RawPutAsync(std::string key, std::string value, WriteDone done);
  void RawGetAsync(std::string key, ReadDone done);
  // Runs blocking work (a call above) off the caller's thread; false when overloaded.
  bool RunInBackground(std::function<void()> task);
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

  // Atomic read-modify-write of one key in the RawKV keyspace (the core's StartCompareAndSet):
  // writes `new_value` (nullopt: delete) if, when the group applies the command, the key's
  // latest value equals `expected` (nullopt: absent). One Raft round, linearizable; a
  // transaction's lock on the key is resolved and the command retried within the deadline.
  absl::StatusOr<CasOutcome> CompareAndSet(std::string key, std::optional<std::string> expected,
                                           std::optional<std::string> new_value);

  // Membership (coordinator_membership.cc). The member directory lives in the catalog
  // group (core/node/member_directory.h); group configurations change one node at a time
  // through each group's leader. Every call is idempotent, so a caller that saw an
  // error may simply call again.
  absl::StatusOr<node::MemberDirectory> ReadMembers();
  // Records this node's addresses in the directory unless they are there already.
  absl::Status AdvertiseSelf(const node::MemberAddresses& self);
  // Records `node`'s addresses, then adds it to every group as a learner.
  // `readmit`: the node joins with an empty data dir (coord::Coordinator::StartAddNode).
  absl::Status AddNode(raft::NodeId node, const node::MemberAddresses& addresses,
                       bool readmit = false);
  // Makes a member a voter of every group (after it caught up as a learner).
  absl::Status PromoteNode(raft::NodeId node);
  // Takes `node` out of every group, then out of the directory.
  absl::Status RemoveNode(raft::NodeId node);
  // The directory's nodes and every node of a group's configuration, with their roles as
  // this node's replicas last saw them.
  std::vector<NodeView> DescribeNodes(const node::MemberDirectory& directory) const;
  // The groups this node hosts, in id order.
  std::vector<raft::GroupId> HostedGroups() const;
  // The groups a joining node is added to: the initial groups (every member hosts them),
  // not the ones created at run time, which live on their own voters.
  std::vector<raft::GroupId> JoinGroups() const;
  // Every hosted group's status as of the loop's last round.
  std::map<raft::GroupId, node::GroupStatus> HostedGroupStatuses() const;
  // The leader this node last saw for `group` (kNoNode: unknown).
  raft::NodeId LeaderOf(raft::GroupId group) const;
  // The Raft address this node's transport dials each peer at (the directory's, or
  // --peers' for a member that has not recorded itself in the directory yet).
  std::map<raft::NodeId, std::string> PeerRaftAddresses() const;

  // Maintenance. One MVCC GC pass (kv::GcCommand) on `group`, proposed through its
  // leader like any kv command; whole-group, so not routed by key.
  absl::StatusOr<GcPassOutcome> RunGcPass(raft::GroupId group, uint64_t safe_point,
                                          const std::string& start_key, uint64_t max_keys);
  // One Redis cleanup pass (core/redis/cleanup.h) on `group`, whole-group like GC;
  // answers where the next pass starts (nullopt: the end).
  absl::StatusOr<std::optional<std::string>> RunRedisCleanupPass(raft::GroupId group,
                                                                 const std::string& start_key,
                                                                 uint64_t max_records);
  // Whether this node last saw itself as `group`'s leader.
  bool LeadsGroup(raft::GroupId group) const;

  // Any core operation (coord::Coordinator::Start*), for front doors whose needs the
  // methods above do not cover: asynchronously (`done` runs once on the loop thread and
  // must not block) or blocking (never on the loop thread).
  using CoreStart = std::function<coord::OpId(coord::Coordinator&)>;
  void RunAsync(CoreStart start, std::function<void(coord::OpResult)> done) {
    Start(std::move(start), std::move(done));
  }
  coord::OpResult RunBlocking(CoreStart start) { return Wait(std::move(start)); }
  // Several at once, each answered in order of `starts`: they run concurrently, so the
  // call takes as long as the slowest (a leaderless group's timeout), not their sum.
  std::vector<coord::OpResult> RunAllBlocking(std::vector<CoreStart> starts);

  // Replaces the cached route table (the catalog group's watch pushes every change).
  void UpdateRoutes(const route::RouteCatalog& catalog);
  raft::NodeId node_id() const { return options_.node_id; }
  // The version of the cached route table (0 before the first UpdateRoutes).
  uint64_t catalog_version() const;
  CoordinatorStats stats() const;

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  using StartFn = std::function<coord::OpId(coord::Coordinator&)>;
  using OpCallback = std::function<void(coord::OpResult)>;
  class LoopGroupView;

  Deadline NewDeadline() const {
    return std::chrono::steady_clock::now() + options_.request_timeout;
  }
  // Any thread: starts an operation on the loop thread; `done` runs once, on the loop
  // thread (or the caller's, if the loop refuses the work).
  void Start(StartFn start, OpCallback done);
  // Not on the loop thread: starts an operation and waits for its answer.
  coord::OpResult Wait(StartFn start);
  // Loop thread: carries out the core's effects until it has none.
  void Pump();
  void PublishCounters();
  void SyncTime();
  void Forward(coord::CallId call, raft::NodeId node, node::ClientRequest request);
  void OnStop();
  absl::StatusOr<node::ClientReply> RunLocally(raft::GroupId group, node::OpKind kind,
                                               const std::string& payload, Deadline deadline);

  CoordinatorOptions options_;
  NodeLoop* loop_;
  RaftTransport* transport_;
  std::unique_ptr<LoopGroupView> view_;
  std::unique_ptr<coord::Coordinator> core_;     // loop thread only
  std::map<coord::OpId, OpCallback> callbacks_;  // loop thread only
  // Set once, on the loop thread (or the stopping one), when this coordinator stops
  // answering: every task, timer and answer it left behind checks it first, so they may
  // outlive the coordinator.
  struct Life {
    bool stopped = false;
  };
  std::shared_ptr<Life> life_ = std::make_shared<Life>();
  // Mirrors of the core's counters for other threads, refreshed after every Pump.
  std::atomic<uint64_t> catalog_version_{0};
  // Every group id created at run time (live or retired) as of the newest catalog, for
  // JoinGroups: the groups this node hosts outside it are the initial ones.
  mutable std::mutex created_mu_;
  route::CreatedGroupIds created_group_ids_;
  uint64_t created_version_ = 0;
  std::atomic<uint64_t> stale_route_refusals_{0};
  std::atomic<uint64_t> route_refreshes_{0};
  std::atomic<uint64_t> ownership_updates_{0};
  // Forwards (blocking RPCs) and RunInBackground. Declared last: destroyed first, so
  // queued work finishes while the rest is alive.
  std::unique_ptr<FallbackPool> fallback_;
};

}  // namespace ekv::runtime
