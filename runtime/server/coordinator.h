// Coordinator: turns client operations into group commands and queries, finds the Raft
// group that owns each key, and runs them on that group's leader -- locally through the
// NodeLoop, or by forwarding to the leader's node. Retries transparently while a group
// has no leader or leadership moves, within the request deadline. Thread-safe: gRPC
// handler threads call it concurrently.
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
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
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
};

// Counters, read with Coordinator::stats(); monotonic since construction.
struct CoordinatorStats {
  uint64_t stale_route_refusals = 0;  // STALE_ROUTE replies received from groups
  uint64_t route_refreshes = 0;       // catalog reads made because of them
  uint64_t ownership_updates = 0;     // kOwnership commands proposed after splits
};

// One node as the membership API shows it (Coordinator::DescribeNodes).
enum class MemberRole { kNone, kLearner, kVoter };
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
  Coordinator(CoordinatorOptions options, NodeLoop* loop, RaftTransport* transport);

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

  // Atomic read-modify-write of one key in the RawKV keyspace (coordinator_conditional.cc):
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
  absl::Status AddNode(raft::NodeId node, const node::MemberAddresses& addresses);
  // Makes a member a voter of every group (after it caught up as a learner).
  absl::Status PromoteNode(raft::NodeId node);
  // Takes `node` out of every group, then out of the directory.
  absl::Status RemoveNode(raft::NodeId node);
  // The directory's nodes and every node of a group's configuration, with their roles as
  // this node's replicas last saw them.
  std::vector<NodeView> DescribeNodes(const node::MemberDirectory& directory) const;
  // The groups this node hosts, in id order.
  std::vector<raft::GroupId> HostedGroups() const;

  // Maintenance. One MVCC GC pass (kv::GcCommand) on `group`, proposed through its
  // leader like any kv command; whole-group, so not routed by key.
  absl::StatusOr<GcPassOutcome> RunGcPass(raft::GroupId group, uint64_t safe_point,
                                          const std::string& start_key, uint64_t max_keys);
  // Whether this node last saw itself as `group`'s leader.
  bool LeadsGroup(raft::GroupId group) const;

  // Replaces the cached route table (the catalog group's watch pushes every change).
  void UpdateRoutes(const route::RouteCatalog& catalog);
  raft::NodeId node_id() const { return options_.node_id; }
  // The version of the cached route table (0 before the first UpdateRoutes).
  uint64_t catalog_version() const;
  CoordinatorStats stats() const;

 private:
  struct GroupReply {
    node::GroupResult result;
    uint64_t index = 0;
  };
  // A key's group as the route table said, and the table's version (stamped on requests).
  struct RoutedGroup {
    raft::GroupId group = 0;
    uint64_t catalog_version = 0;
  };
  using Deadline = std::chrono::steady_clock::time_point;
  // Builds the group command or query bytes for a request routed at `catalog_version`.
  using PayloadFor = std::function<std::string(uint64_t catalog_version)>;

  Deadline NewDeadline() const {
    return std::chrono::steady_clock::now() + options_.request_timeout;
  }
  absl::StatusOr<GroupReply> Execute(raft::GroupId group, bool is_read, const std::string& payload,
                                     Deadline deadline);
  absl::StatusOr<node::ClientReply> RunLocally(raft::GroupId group, node::OpKind kind,
                                               const std::string& payload, Deadline deadline);
  // Routes `key`, runs the request built for that route's version on its group and, on a
  // STALE_ROUTE refusal, refreshes the routes and does it again (see the top comment).
  absl::StatusOr<GroupReply> ExecuteRouted(const std::string& key, bool is_read,
                                           const PayloadFor& payload_for, Deadline deadline);
  // Runs a transaction's write phase through core's kv::TxnCoordinator (one group: a
  // one-phase commit whose commit_ts the group chooses; several: 2PC, primary first),
  // carrying out its proposals and commit_ts requests on this thread. Returns the
  // coordinator's outcome and the log index of the last command that committed.
  struct DrivenTxn {
    kv::TxnOutcome outcome;
    uint64_t index = 0;
  };
  DrivenTxn DriveTransaction(std::vector<kv::Mutation> mutations, uint64_t start_ts,
                             Deadline deadline);
  absl::StatusOr<GroupReply> KvCommand(const std::string& key, const std::string& kv_command,
                                       Deadline deadline);
  absl::StatusOr<GroupReply> KvQuery(const std::string& key, const std::string& kv_query,
                                     Deadline deadline);
  // One group's part of a multi-key command: its keys and the reply (or why none came).
  using GroupBatchDone = std::function<absl::StatusOr<bool>(
      raft::GroupId group, const std::vector<std::string>& keys, absl::StatusOr<GroupReply> reply)>;
  // Groups `keys` by route and runs `build(keys)` (an encoded kv command) on each group,
  // the group of `first_key` first. `done` sees every reply that is not a STALE_ROUTE
  // refusal and returns false to stop; a refused batch and every batch after it are
  // re-routed with refreshed routes, so the group of `first_key` still goes first.
  absl::Status KvCommandByGroup(
      std::vector<std::string> keys, const std::string& first_key,
      const std::function<std::string(const std::vector<std::string>&)>& build, Deadline deadline,
      const GroupBatchDone& done);
  // The STALE_ROUTE refusal in `result`, if it is one; counts it.
  std::optional<route::StaleRouteError> StaleRoute(const node::GroupResult& result);
  // After a STALE_ROUTE refusal of a request routed at `routed_version`: reads the catalog
  // linearizably and replaces the route table. Error when the retry bound or the deadline
  // is exhausted (or, with the planted bug, always).
  absl::Status RefreshAfterStaleRoute(const route::StaleRouteError& stale, uint64_t routed_version,
                                      int* retries, Deadline deadline);
  using KvPairs = std::vector<std::pair<std::string, std::string>>;
  // Reads one route's part [from, to) of a scan, at most `want` pairs, stamped with
  // `catalog_version`; nullopt asks for the same part to be read again (e.g. after
  // resolving a lock). A STALE_ROUTE status makes ScanRoutes refresh and re-plan.
  using SubScan = std::function<absl::StatusOr<std::optional<KvPairs>>(
      raft::GroupId group, uint64_t catalog_version, const std::string& from, const std::string& to,
      uint64_t want)>;
  absl::Status ValidateScan(const std::string& start, const std::string& end, int64_t limit) const;
  // Runs `sub_scan` route by route over [start, end) in key order until `limit` pairs.
  absl::StatusOr<KvPairs> ScanRoutes(const std::string& start, const std::string& end,
                                     uint64_t limit, Deadline deadline, const SubScan& sub_scan);
  absl::StatusOr<RoutedGroup> GroupOf(const std::string& key);
  // The routes overlapping [start, end) in key order, and the table's version.
  std::pair<std::vector<route::RouteDescriptor>, uint64_t> RoutesOverlapping(
      const std::string& start, const std::string& end);
  absl::StatusOr<route::RouteCatalog> ReadCatalogBy(Deadline deadline);
  absl::StatusOr<uint64_t> Timestamp(Deadline deadline);
  // Runs a request that only a group's leader serves (kTimestamp, kConfChange) there,
  // following leader hints and retrying every failure until the deadline.
  absl::StatusOr<node::ClientReply> RunOnLeader(raft::GroupId group, node::OpKind kind,
                                                const std::string& payload, Deadline deadline);
  // Membership helpers (coordinator_membership.cc).
  absl::StatusOr<node::MemberDirectory> ChangeDirectory(const node::MemberChange& change,
                                                        Deadline deadline);
  absl::Status ChangeEveryGroup(raft::NodeId node, raft::ConfChangeType type, Deadline deadline);
  // Resolves the lock of another transaction found on a key; true when it is gone.
  absl::StatusOr<bool> ResolveLock(const node::GroupKeyError& locked, Deadline deadline);

  CoordinatorOptions options_;
  NodeLoop* loop_;
  RaftTransport* transport_;

  mutable std::mutex mu_;
  std::map<std::string, route::RouteDescriptor> routes_by_start_;  // guarded by mu_
  uint64_t catalog_version_ = 0;                                   // guarded by mu_
  std::atomic<uint64_t> stale_route_refusals_{0};
  std::atomic<uint64_t> route_refreshes_{0};
  std::atomic<uint64_t> ownership_updates_{0};
  struct TxnRecord {
    std::string primary;
    std::vector<std::string> keys;
  };
  std::map<uint64_t, TxnRecord> txns_;  // start_ts -> what this node prewrote
  // Declared last: destroyed first, so queued fallbacks finish while the rest is alive.
  std::unique_ptr<FallbackPool> fallback_;
};

}  // namespace ekv::runtime
