#include "sim/workload.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::sim {

using checkers::Operation;

Workload::Workload(Scheduler& scheduler, Trace& trace, Cluster& cluster, Rng rng,
                   const SwarmProfile& profile, int total_ops)
    : scheduler_(scheduler),
      trace_(trace),
      cluster_(cluster),
      rng_(rng),
      profile_(profile),
      total_ops_(total_ops) {
  for (raft::GroupId group : cluster_.group_ids()) {
    for (int k = 0; k < profile_.keys_per_group; ++k) {
      std::string key = absl::StrCat("g", group, "k", k);
      keys_.push_back(key);
      key_groups_[key] = group;
    }
  }
  for (int i = 0; i < profile_.clients; ++i) {
    Client client;
    client.id = static_cast<uint64_t>(i + 1);
    clients_.push_back(std::move(client));
  }
}

raft::GroupId Workload::GroupOf(const std::string& key) const { return key_groups_.at(key); }

void Workload::Start() {
  issuing_ = true;
  for (size_t i = 0; i < clients_.size(); ++i) ScheduleNext(i);
}

bool Workload::Idle() const {
  return std::none_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; });
}

void Workload::ScheduleNext(size_t client_index) {
  if (!issuing_ || clients_[client_index].final_reader) return;
  // Spread the operations over the chaos phase.
  const SimTime mean_think_us =
      profile_.chaos_duration_us * clients_.size() / std::max(total_ops_, 1);
  scheduler_.After(rng_.Range(0, 2 * mean_think_us), [this, client_index] {
    if (!issuing_ || clients_[client_index].busy) return;
    if (issued_ >= static_cast<uint64_t>(total_ops_)) {
      issuing_ = false;
      return;
    }
    IssueRandom(client_index);
  });
}

void Workload::IssueRandom(size_t client_index) {
  Client& client = clients_[client_index];
  const std::string key = keys_[rng_.Uniform(keys_.size())];
  const double dice = rng_.NextDouble();
  node::ClientRequest request;
  request.group = GroupOf(key);
  request.key = key;
  ++issued_;
  const std::string value = absl::StrCat("v", issued_);
  const SimTime now = scheduler_.now();
  if (dice < profile_.read_fraction) {
    request.kind = node::OpKind::kGet;
    client.op_id = history_.InvokeRead(client.id, key, now);
  } else if (dice < profile_.read_fraction + profile_.cas_fraction) {
    request.kind = node::OpKind::kCas;
    request.value = value;
    auto seen = client.last_seen.find(key);
    if (seen != client.last_seen.end()) request.expected = seen->second;
    client.op_id = history_.InvokeCas(client.id, key, request.expected, value, now);
  } else if (rng_.Chance(0.1)) {
    request.kind = node::OpKind::kDelete;
    client.op_id = history_.InvokeWrite(client.id, key, std::nullopt, now);
  } else {
    request.kind = node::OpKind::kPut;
    request.value = value;
    client.op_id = history_.InvokeWrite(client.id, key, value, now);
  }
  client.busy = true;
  client.request = request;
  client.attempt = 0;
  const uint64_t op_id = client.op_id;
  scheduler_.After(profile_.client_timeout_us, [this, client_index, op_id] {
    Client& c = clients_[client_index];
    if (c.busy && c.op_id == op_id) {
      // The guessed leader did not answer (it may be down for good, e.g. with a corrupt
      // disk): forget it so the next attempt tries another replica.
      c.leader_guess.erase(c.request.group);
      Finish(client_index, Operation::Outcome::kUnknown, std::nullopt);
    }
  });
  Send(client_index, PickTarget(client, request.group));
}

void Workload::IssueRead(size_t client_index, const std::string& key) {
  Client& client = clients_[client_index];
  node::ClientRequest request;
  request.group = GroupOf(key);
  request.key = key;
  request.kind = node::OpKind::kGet;
  client.op_id = history_.InvokeRead(client.id, key, scheduler_.now());
  client.busy = true;
  client.request = request;
  client.attempt = 0;
  const uint64_t op_id = client.op_id;
  scheduler_.After(profile_.client_timeout_us, [this, client_index, op_id] {
    Client& c = clients_[client_index];
    if (c.busy && c.op_id == op_id)
      Finish(client_index, Operation::Outcome::kUnknown, std::nullopt);
  });
  Send(client_index, PickTarget(client, request.group));
}

NodeIndex Workload::PickTarget(Client& client, raft::GroupId group) {
  auto guess = client.leader_guess.find(group);
  if (guess != client.leader_guess.end()) return guess->second;
  const std::vector<NodeIndex>& replicas = cluster_.replicas(group);
  return replicas[rng_.Uniform(replicas.size())];
}

void Workload::Send(size_t client_index, NodeIndex target) {
  Client& client = clients_[client_index];
  client.request.request_id = next_request_id_++;
  request_owner_[client.request.request_id] = client_index;
  const node::ClientRequest request = client.request;
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                   [this, target, request] { cluster_.SubmitClientRequest(target, request); });
}

void Workload::OnReply(NodeIndex node, const node::ClientReply& reply) {
  auto owner = request_owner_.find(reply.request_id);
  if (owner == request_owner_.end()) return;
  const size_t client_index = owner->second;
  request_owner_.erase(owner);
  scheduler_.After(rng_.Range(1, profile_.client_latency_max_us),
                   [this, client_index, node, reply] { HandleReply(client_index, node, reply); });
}

void Workload::HandleReply(size_t client_index, NodeIndex node, const node::ClientReply& reply) {
  Client& client = clients_[client_index];
  if (!client.busy || client.request.request_id != reply.request_id) return;  // stale
  const bool is_read = client.request.kind == node::OpKind::kGet;
  switch (reply.status) {
    case node::ReplyStatus::kOk:
      client.leader_guess[client.request.group] = node;
      ++acknowledged_;
      if (!is_read) {
        raft::Index& max_index = max_acked_index_[client.request.group];
        max_index = std::max(max_index, reply.index);
      }
      Finish(client_index, Operation::Outcome::kOk, is_read ? reply.value : std::nullopt);
      return;
    case node::ReplyStatus::kUnknown:
      client.leader_guess.erase(client.request.group);
      Finish(client_index, Operation::Outcome::kUnknown, std::nullopt);
      return;
    case node::ReplyStatus::kFailed:
      // A read has no effect, so it may simply be tried again; a failed write is final.
      if (!is_read) {
        Finish(client_index, Operation::Outcome::kFailed, std::nullopt);
        return;
      }
      break;
    case node::ReplyStatus::kNotLeader:
      break;
  }
  // Not accepted: hop to the hinted leader (or anywhere) after a short backoff.
  if (++client.attempt >= kMaxAttemptsPerOperation) {
    Finish(client_index, Operation::Outcome::kFailed, std::nullopt);
    return;
  }
  const std::vector<NodeIndex>& replicas = cluster_.replicas(client.request.group);
  NodeIndex target = replicas[rng_.Uniform(replicas.size())];
  if (reply.status == node::ReplyStatus::kNotLeader && reply.leader_hint != raft::kNoNode &&
      reply.leader_hint != node &&
      std::find(replicas.begin(), replicas.end(), reply.leader_hint) != replicas.end()) {
    target = reply.leader_hint;
  }
  client.leader_guess[client.request.group] = target;
  const uint64_t op_id = client.op_id;
  const SimTime backoff = rng_.Range(1000, 10000) * static_cast<SimTime>(client.attempt);
  scheduler_.After(backoff, [this, client_index, op_id, target] {
    Client& c = clients_[client_index];
    if (c.busy && c.op_id == op_id) Send(client_index, target);
  });
}

void Workload::Finish(size_t client_index, Operation::Outcome outcome,
                      std::optional<std::string> read_value) {
  Client& client = clients_[client_index];
  EKV_ASSERT(client.busy, "finishing an idle client");
  const bool is_read = client.request.kind == node::OpKind::kGet;
  if (outcome == Operation::Outcome::kOk) {
    if (is_read) {
      client.last_seen[client.request.key] = read_value;
    } else if (client.request.kind == node::OpKind::kDelete) {
      client.last_seen[client.request.key] = std::nullopt;
    } else {
      client.last_seen[client.request.key] = client.request.value;
    }
  }
  trace_.Record({scheduler_.now(), "op-done", client.id, client.op_id,
                 static_cast<uint64_t>(outcome), 0, ""});
  history_.Complete(client.op_id, outcome, scheduler_.now(),
                    is_read && outcome == Operation::Outcome::kOk ? read_value : std::nullopt);
  client.busy = false;
  if (client.final_reader) {
    if (outcome == Operation::Outcome::kOk) {
      final_values_[client.final_key] = read_value;
    } else if (++client.final_tries < kMaxFinalReadTries) {
      const std::string key = client.final_key;
      scheduler_.After(rng_.Range(10000, 50000),
                       [this, client_index, key] { IssueRead(client_index, key); });
    }
    return;
  }
  ScheduleNext(client_index);
}

void Workload::StartFinalReads() {
  issuing_ = false;
  for (const std::string& key : keys_) {
    Client client;
    client.id = clients_.size() + 1;
    client.final_reader = true;
    client.final_key = key;
    clients_.push_back(std::move(client));
    IssueRead(clients_.size() - 1, key);
  }
}

bool Workload::FinalReadsDone() const {
  for (const Client& client : clients_) {
    if (client.final_reader && (client.busy || (final_values_.count(client.final_key) == 0 &&
                                                client.final_tries < kMaxFinalReadTries))) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> Workload::unread_keys() const {
  std::vector<std::string> unread;
  for (const std::string& key : keys_) {
    if (final_values_.count(key) == 0) unread.push_back(key);
  }
  return unread;
}

}  // namespace ekv::sim
