// An in-memory Raft cluster for tests: RawNodes over MemoryStorage, a message queue per
// node, partitions, crashes and restarts, all driven explicitly by the test.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/raft/raw_node.h"

namespace ekv::testing {

struct NodeOptions {
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  raft::ReadOnlyOption read_only = raft::ReadOnlyOption::kSafe;
  int max_clock_drift_ticks = 1;
  uint64_t max_size_per_msg = 1 << 20;
  uint64_t max_uncommitted_size = 0;
  int max_inflight = 256;
  uint64_t max_inflight_bytes = 0;
  raft::PlantedBugs planted;
  // Bootstrap voters through RawNode::Bootstrap (committed conf change entries at 1..n)
  // instead of an index-0 ConfState.
  bool bootstrap_entries = false;
  bool snapshot_for_empty_followers = false;          // raft::Config's
  bool refuse_changes_without_active_quorum = false;  // raft::Config's
};

struct TestNode {
  raft::NodeId id = 0;
  std::unique_ptr<raft::MemoryStorage> storage;  // the "disk": survives crashes
  std::unique_ptr<raft::RawNode> raw;            // null while crashed
  NodeOptions options;
  std::vector<std::string> applied;  // data of applied normal entries (state machine)
  std::vector<raft::ReadState> read_states;
  raft::Index applied_index = 0;
  raft::ConfState conf_state;
};

class RaftTestCluster {
 public:
  // Adds nodes `ids` bootstrapped with `voters` and `learners`.
  void AddNodes(const std::vector<raft::NodeId>& ids, const std::vector<raft::NodeId>& voters,
                const std::vector<raft::NodeId>& learners, const NodeOptions& options);
  TestNode& node(raft::NodeId id);
  bool Has(raft::NodeId id) const { return nodes_.count(id) > 0; }
  std::vector<raft::NodeId> ids() const;

  // Handles one Ready of `id` if any: persist, apply, advance, queue messages.
  // Appends a description to `log` when non-null. Returns whether there was one.
  bool ProcessReady(raft::NodeId id, std::string* log);
  // Delivers queued messages addressed to `ids` (all nodes if empty); returns the count.
  // Messages crossing a partition or addressed to crashed nodes are dropped.
  int Deliver(const std::vector<raft::NodeId>& ids, std::string* log);
  // Drops queued messages to `to` (all if 0) optionally only from `from` (0: any).
  int DropMessages(raft::NodeId to, raft::NodeId from, std::string* log);
  // Process and deliver until quiescent (bounded).
  void Stabilize(const std::vector<raft::NodeId>& ids, std::string* log);

  void Crash(raft::NodeId id);
  void Restart(raft::NodeId id);
  // Only messages between nodes of the same side are delivered.
  void Partition(const std::vector<std::vector<raft::NodeId>>& sides);
  void Heal() { side_of_.clear(); }
  bool Connected(raft::NodeId a, raft::NodeId b) const;
  // Snapshot at the applied index of `id` and compact its log up to there.
  absl::Status Compact(raft::NodeId id, raft::Index index);
  // Snapshot at the applied index of `id`, keeping its whole log.
  absl::Status Snapshot(raft::NodeId id);
  // `id` loses its disk and starts again empty under the same id, configured by nobody
  // (as a node joining a running group), to be added back by a conf change.
  void Wipe(raft::NodeId id);

  std::vector<raft::Message>& queue(raft::NodeId id) { return queues_[id]; }
  size_t pending_messages() const;

 private:
  void StartNode(TestNode& node);
  std::map<raft::NodeId, TestNode> nodes_;
  std::map<raft::NodeId, std::vector<raft::Message>> queues_;
  std::map<raft::NodeId, int> side_of_;
};

std::string DescribeReadyCompact(const raft::Ready& ready);
// Copies whose conf change payloads are replaced by their readable form (the encoding is
// binary), for golden output.
raft::Entry Printable(const raft::Entry& entry);
raft::Message Printable(const raft::Message& message);
std::string DescribeEntryForTest(const raft::Entry& entry);
std::string DescribeMessageForTest(const raft::Message& message);

}  // namespace ekv::testing
