#include "tests/raft/cluster.h"

#include <algorithm>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ekv::testing {

using raft::ConfChange;
using raft::Entry;
using raft::EntryType;
using raft::Message;
using raft::NodeId;

void RaftTestCluster::AddNodes(const std::vector<NodeId>& ids, const std::vector<NodeId>& voters,
                               const std::vector<NodeId>& learners, const NodeOptions& options) {
  for (NodeId id : ids) {
    if (nodes_.count(id)) throw std::runtime_error(absl::StrCat("node ", id, " exists"));
    TestNode node;
    node.id = id;
    node.options = options;
    node.storage = std::make_unique<raft::MemoryStorage>();
    if (!voters.empty() && options.bootstrap_entries) {
      absl::Status status = raft::RawNode::Bootstrap(*node.storage, voters);
      if (!status.ok()) throw std::runtime_error(status.ToString());
    } else if (!voters.empty()) {
      raft::ConfState cs;
      cs.voters = voters;
      cs.learners = learners;
      std::sort(cs.voters.begin(), cs.voters.end());
      std::sort(cs.learners.begin(), cs.learners.end());
      node.storage->SetConfState(cs);
      node.conf_state = cs;
    }
    auto [it, inserted] = nodes_.emplace(id, std::move(node));
    StartNode(it->second);
  }
}

void RaftTestCluster::StartNode(TestNode& node) {
  raft::Config config;
  config.id = node.id;
  config.group = 1;
  config.election_tick = node.options.election_tick;
  config.heartbeat_tick = node.options.heartbeat_tick;
  config.storage = node.storage.get();
  config.applied = node.applied_index;
  config.pre_vote = node.options.pre_vote;
  config.check_quorum = node.options.check_quorum;
  config.read_only_option = node.options.read_only;
  config.max_clock_drift_ticks = node.options.max_clock_drift_ticks;
  config.max_size_per_msg = node.options.max_size_per_msg;
  config.max_uncommitted_entries_size = node.options.max_uncommitted_size;
  config.max_inflight_msgs = node.options.max_inflight;
  config.max_inflight_bytes = node.options.max_inflight_bytes;
  config.planted = node.options.planted;
  config.snapshot_for_empty_followers = node.options.snapshot_for_empty_followers;
  config.refuse_changes_without_active_quorum = node.options.refuse_changes_without_active_quorum;
  config.randomization_seed = 42;
  auto raw = raft::RawNode::Create(config);
  if (!raw.ok()) throw std::runtime_error(raw.status().ToString());
  node.raw = std::move(*raw);
}

TestNode& RaftTestCluster::node(NodeId id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw std::runtime_error(absl::StrCat("no node ", id));
  return it->second;
}

std::vector<NodeId> RaftTestCluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, node] : nodes_) out.push_back(id);
  return out;
}

raft::Entry Printable(const raft::Entry& entry) {
  if (entry.type != EntryType::kConfChange) return entry;
  raft::Entry copy = entry;
  auto change = raft::DecodeConfChange(entry.data);
  copy.data = change.ok() ? raft::DescribeConfChange(*change) : "<undecodable>";
  return copy;
}

raft::Message Printable(const raft::Message& message) {
  raft::Message copy = message;
  for (Entry& e : copy.entries) e = Printable(e);
  return copy;
}

std::string DescribeEntryForTest(const raft::Entry& entry) {
  return raft::DescribeEntry(Printable(entry));
}

std::string DescribeMessageForTest(const raft::Message& message) {
  return raft::DescribeMessage(Printable(message));
}

std::string DescribeReadyCompact(const raft::Ready& ready) {
  std::string out;
  absl::StrAppend(&out, "Ready MustSync=", ready.must_sync ? "true" : "false", ":\n");
  if (ready.soft_state) {
    absl::StrAppend(&out, "Lead:", ready.soft_state->lead,
                    " State:", raft::StateTypeName(ready.soft_state->state), "\n");
  }
  if (ready.persist.has_hard_state) {
    absl::StrAppend(&out, "HardState ", raft::DescribeHardState(ready.persist.hard_state), "\n");
  }
  if (!ready.persist.snapshot.IsEmpty()) {
    const auto& meta = ready.persist.snapshot.metadata;
    absl::StrAppend(&out, "Snapshot Index:", meta.index, " Term:", meta.term, " ",
                    raft::DescribeConfState(meta.conf_state), "\n");
  }
  if (!ready.persist.entries.empty()) {
    absl::StrAppend(&out, "Entries:\n");
    for (const Entry& e : ready.persist.entries) {
      absl::StrAppend(&out, "  ", DescribeEntryForTest(e), "\n");
    }
  }
  if (!ready.committed_entries.empty()) {
    absl::StrAppend(&out, "CommittedEntries:\n");
    for (const Entry& e : ready.committed_entries) {
      absl::StrAppend(&out, "  ", DescribeEntryForTest(e), "\n");
    }
  }
  if (!ready.messages.empty()) {
    absl::StrAppend(&out, "Messages:\n");
    for (const Message& m : ready.messages) {
      absl::StrAppend(&out, "  ", DescribeMessageForTest(m), "\n");
    }
  }
  if (!ready.read_states.empty()) {
    absl::StrAppend(&out, "ReadStates:\n");
    for (const raft::ReadState& rs : ready.read_states) {
      absl::StrAppend(&out, "  Index:", rs.index, " Context:\"", rs.request_context, "\"\n");
    }
  }
  return out;
}

bool RaftTestCluster::ProcessReady(NodeId id, std::string* log) {
  TestNode& n = node(id);
  if (!n.raw || !n.raw->HasReady()) return false;
  raft::Ready ready = n.raw->GetReady();
  if (log) absl::StrAppend(log, "> ", id, " handling ", DescribeReadyCompact(ready));
  auto receipt = n.storage->Persist(ready.persist);
  if (!receipt.ok()) throw std::runtime_error(receipt.status().ToString());
  if (!ready.persist.snapshot.IsEmpty()) {
    // The test state machine's image is its applied data joined by '\n'.
    n.applied = absl::StrSplit(ready.persist.snapshot.data, '\n', absl::SkipEmpty());
    n.applied_index = ready.persist.snapshot.metadata.index;
    n.conf_state = ready.persist.snapshot.metadata.conf_state;
  }
  bool applied_conf_change = false;
  for (const Entry& e : ready.committed_entries) {
    if (e.type == EntryType::kConfChange) {
      applied_conf_change = true;
      auto change = raft::DecodeConfChange(e.data);
      if (!change.ok()) throw std::runtime_error(change.status().ToString());
      n.conf_state = n.raw->ApplyConfChange(*change);
      if (log) {
        absl::StrAppend(log, "INFO ", id, " applied conf change ",
                        raft::DescribeConfChange(*change), " -> ",
                        raft::DescribeConfState(n.conf_state), "\n");
      }
    } else if (!e.data.empty()) {
      n.applied.push_back(e.data);
    }
    n.applied_index = e.index;
  }
  if (applied_conf_change) {
    // A node that already snapshots (it compacted once) refreshes its snapshot after a
    // membership change, as a real server builds the snapshot it sends from its current
    // applied state: a new member must find itself in the configuration it receives.
    auto snapshot = n.storage->GetSnapshot();
    if (snapshot.ok() && !snapshot->IsEmpty() && n.applied_index > snapshot->metadata.index) {
      absl::Status status =
          n.storage->CreateSnapshot(n.applied_index, n.conf_state, absl::StrJoin(n.applied, "\n"));
      if (!status.ok()) throw std::runtime_error(status.ToString());
    }
  }
  for (const raft::ReadState& rs : ready.read_states) n.read_states.push_back(rs);
  for (Message& m : ready.messages) queues_[m.to].push_back(m);
  std::vector<Message> after = n.raw->Advance(std::move(ready), *receipt);
  if (log && !after.empty()) {
    absl::StrAppend(log, "OnSync:\n");
    for (const Message& m : after) absl::StrAppend(log, "  ", DescribeMessageForTest(m), "\n");
  }
  for (Message& m : after) queues_[m.to].push_back(std::move(m));
  return true;
}

bool RaftTestCluster::Connected(NodeId a, NodeId b) const {
  auto sa = side_of_.find(a);
  auto sb = side_of_.find(b);
  const int side_a = sa == side_of_.end() ? -1 : sa->second;
  const int side_b = sb == side_of_.end() ? -1 : sb->second;
  return side_a == side_b;
}

int RaftTestCluster::Deliver(const std::vector<NodeId>& ids, std::string* log) {
  std::vector<NodeId> targets = ids.empty() ? this->ids() : ids;
  int delivered = 0;
  for (NodeId to : targets) {
    std::vector<Message> msgs = std::exchange(queues_[to], {});
    for (const Message& m : msgs) {
      auto it = nodes_.find(to);
      if (it == nodes_.end() || !it->second.raw || !Connected(m.from, to)) {
        if (log) absl::StrAppend(log, "  dropped: ", DescribeMessageForTest(m), "\n");
        continue;
      }
      if (log) absl::StrAppend(log, "  ", DescribeMessageForTest(m), "\n");
      absl::Status status = it->second.raw->Step(m);
      if (!status.ok() && log) absl::StrAppend(log, "  error: ", status.message(), "\n");
      ++delivered;
    }
  }
  return delivered;
}

int RaftTestCluster::DropMessages(NodeId to, NodeId from, std::string* log) {
  int dropped = 0;
  for (auto& [target, msgs] : queues_) {
    if (to != 0 && target != to) continue;
    std::vector<Message> keep;
    for (Message& m : msgs) {
      if (from == 0 || m.from == from) {
        if (log) absl::StrAppend(log, "dropped: ", DescribeMessageForTest(m), "\n");
        ++dropped;
      } else {
        keep.push_back(std::move(m));
      }
    }
    msgs = std::move(keep);
  }
  return dropped;
}

void RaftTestCluster::Stabilize(const std::vector<NodeId>& ids, std::string* log) {
  std::vector<NodeId> targets = ids.empty() ? this->ids() : ids;
  for (int round = 0; round < 1000; ++round) {
    bool progress = false;
    for (NodeId id : targets) progress |= ProcessReady(id, log);
    for (NodeId id : targets) {
      if (!queues_[id].empty()) {
        if (log) absl::StrAppend(log, "> ", id, " receiving messages\n");
        progress |= Deliver({id}, log) > 0 || true;
      }
    }
    if (!progress) return;
  }
  throw std::runtime_error("stabilize did not converge in 1000 rounds");
}

void RaftTestCluster::Crash(NodeId id) {
  TestNode& n = node(id);
  n.raw.reset();
  queues_[id].clear();
  // Volatile state (the applied state machine) is rebuilt from the snapshot on restart.
  auto snapshot = n.storage->GetSnapshot();
  n.applied = absl::StrSplit(snapshot->data, '\n', absl::SkipEmpty());
  n.applied_index = snapshot->metadata.index;
  n.read_states.clear();
}

void RaftTestCluster::Restart(NodeId id) {
  TestNode& n = node(id);
  if (n.raw) throw std::runtime_error(absl::StrCat("node ", id, " is running"));
  StartNode(n);
}

void RaftTestCluster::Partition(const std::vector<std::vector<NodeId>>& sides) {
  side_of_.clear();
  for (size_t i = 0; i < sides.size(); ++i) {
    for (NodeId id : sides[i]) side_of_[id] = static_cast<int>(i);
  }
}

absl::Status RaftTestCluster::Compact(NodeId id, raft::Index index) {
  TestNode& n = node(id);
  if (index > n.applied_index) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot compact at ", index, " beyond applied ", n.applied_index));
  }
  // The image at `index` is the applied data at that point; the test state machine only
  // snapshots at its current applied index.
  if (index != n.applied_index) {
    return absl::FailedPreconditionError("test state machine snapshots at its applied index");
  }
  absl::Status status =
      n.storage->CreateSnapshot(index, n.conf_state, absl::StrJoin(n.applied, "\n"));
  if (!status.ok()) return status;
  return n.storage->Compact(index);
}

absl::Status RaftTestCluster::Snapshot(NodeId id) {
  TestNode& n = node(id);
  return n.storage->CreateSnapshot(n.applied_index, n.conf_state, absl::StrJoin(n.applied, "\n"));
}

void RaftTestCluster::Wipe(NodeId id) {
  TestNode& n = node(id);
  n.raw.reset();
  queues_[id].clear();
  n.storage = std::make_unique<raft::MemoryStorage>();
  n.applied.clear();
  n.applied_index = 0;
  n.conf_state = raft::ConfState{};
  n.read_states.clear();
  StartNode(n);
}

size_t RaftTestCluster::pending_messages() const {
  size_t total = 0;
  for (const auto& [id, msgs] : queues_) total += msgs.size();
  return total;
}

}  // namespace ekv::testing
