// Clients issuing put/get/cas/delete on a small key set, recording a History.
//
// Each client has one operation outstanding at a time (so the history's real-time order
// is meaningful), sends it to the node it believes leads the key's group, follows
// not-leader hints for a bounded number of attempts, and gives up after a timeout: a
// write that timed out or whose fate the node could not tell is kUnknown, a write that
// was never accepted is kFailed. After the heal phase, one final read per key feeds the
// durability checker.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/node/command.h"
#include "core/util/rng.h"
#include "sim/checkers/durability.h"
#include "sim/checkers/history.h"
#include "sim/cluster.h"
#include "sim/scheduler.h"
#include "sim/swarm.h"
#include "sim/trace.h"

namespace ekv::sim {

class Workload {
 public:
  static constexpr int kMaxAttemptsPerOperation = 8;  // not-leader hops and read retries
  static constexpr int kMaxFinalReadTries = 40;

  Workload(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
           const SwarmProfile& profile, int total_ops);

  void Start();
  void StopIssuing() { issuing_ = false; }
  bool Idle() const;
  // Called by the cluster when a node produces a reply; it reaches the client later.
  void OnReply(NodeIndex node, const node::ClientReply& reply);

  void StartFinalReads();
  bool FinalReadsDone() const;
  const checkers::FinalValues& final_values() const { return final_values_; }
  std::vector<std::string> unread_keys() const;

  const checkers::History& history() const { return history_; }
  uint64_t issued() const { return issued_; }
  // Operations answered kOk (reads and writes).
  uint64_t acknowledged() const { return acknowledged_; }
  // Highest log index at which an acknowledged write applied, per group.
  const std::map<raft::GroupId, raft::Index>& max_acked_index() const { return max_acked_index_; }

 private:
  struct Client {
    uint64_t id = 0;
    bool busy = false;
    bool final_reader = false;
    std::string final_key;
    int final_tries = 0;
    uint64_t op_id = 0;  // history id of the outstanding operation
    node::ClientRequest request;
    int attempt = 0;
    std::map<raft::GroupId, NodeIndex> leader_guess;
    std::map<std::string, std::optional<std::string>> last_seen;
  };

  raft::GroupId GroupOf(const std::string& key) const;
  void ScheduleNext(size_t client_index);
  void IssueRandom(size_t client_index);
  void IssueRead(size_t client_index, const std::string& key);
  void Send(size_t client_index, NodeIndex target);
  NodeIndex PickTarget(Client& client, raft::GroupId group);
  void HandleReply(size_t client_index, NodeIndex node, const node::ClientReply& reply);
  void Finish(size_t client_index, checkers::Operation::Outcome outcome,
              std::optional<std::string> read_value);

  Scheduler& scheduler_;
  Trace& trace_;
  Cluster& cluster_;
  Rng rng_;
  SwarmProfile profile_;
  int total_ops_;
  bool issuing_ = false;
  std::vector<std::string> keys_;
  std::map<std::string, raft::GroupId> key_groups_;
  std::vector<Client> clients_;
  std::map<uint64_t, size_t> request_owner_;  // request id -> client index
  uint64_t next_request_id_ = 1;
  uint64_t issued_ = 0;
  uint64_t acknowledged_ = 0;
  std::map<raft::GroupId, raft::Index> max_acked_index_;
  checkers::History history_;
  checkers::FinalValues final_values_;
};

}  // namespace ekv::sim
