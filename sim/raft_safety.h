// Raft safety invariants checked continuously while the simulation runs.
//
//   - Election Safety: at most one leader per term in each group, across all nodes and
//     incarnations (§5.2).
//   - Monotonicity: a node's commit and applied indexes never decrease within one process
//     incarnation.
//   - State Machine Safety: every node that applies index i of a group applies the same
//     entry (term and bytes) there (§5.4.3). Recording every applied entry's fingerprint
//     also checks Log Matching on the applied prefix of every log.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/node/node_host.h"
#include "core/raft/types.h"
#include "sim/network.h"

namespace ekv::sim {

class RaftSafetyChecker {
 public:
  void OnApply(NodeIndex node, raft::GroupId group, const raft::Entry& entry);
  // A new process incarnation of `node` starts: its in-memory indexes may start lower.
  void OnRestart(NodeIndex node);
  // Inspects `node`'s groups after it handled an event.
  void Observe(NodeIndex node, const node::NodeHost& host);

  bool violated() const { return !violation_.empty(); }
  const std::string& violation() const { return violation_; }
  uint64_t applied_entries_checked() const { return applied_checks_; }

 private:
  void Fail(std::string what);

  struct Fingerprint {
    raft::Term term = 0;
    uint64_t data_hash = 0;
    NodeIndex first_node = 0;
  };
  std::map<std::pair<raft::GroupId, raft::Term>, NodeIndex> leaders_;
  std::map<std::pair<NodeIndex, raft::GroupId>, std::pair<raft::Index, raft::Index>> progress_;
  std::map<raft::GroupId, raft::Index> max_commit_;  // highest commit index seen anywhere
  std::map<std::pair<raft::GroupId, raft::Index>, Fingerprint> applied_;
  uint64_t applied_checks_ = 0;
  std::string violation_;
};

}  // namespace ekv::sim
