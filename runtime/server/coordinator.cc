#include "runtime/server/coordinator.h"

#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/kv_command.h"
#include "core/kv/kv_state_machine.h"
#include "core/route/catalog_command.h"

namespace ekv::runtime {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t WallClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string GroupCommandBytes(node::GroupCommandOp op, std::string payload) {
  node::GroupCommand command;
  command.op = op;
  command.physical_ms = WallClockMs();
  command.payload = std::move(payload);
  return node::EncodeGroupCommand(command);
}

std::string GroupQueryBytes(node::GroupQueryOp op, std::string payload) {
  node::GroupQuery query;
  query.op = op;
  query.payload = std::move(payload);
  return node::EncodeGroupQuery(query);
}

absl::Status FirstKeyErrorStatus(const std::vector<node::GroupKeyError>& errors) {
  const node::GroupKeyError& e = errors.front();
  if (e.retryable) return absl::UnavailableError(absl::StrCat(e.message, " (retryable)"));
  return absl::AbortedError(e.message);
}

void Backoff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10 * (attempt + 1), 100)));
}

}  // namespace

Coordinator::Coordinator(CoordinatorOptions options, NodeLoop* loop, RaftTransport* transport)
    : options_(options), loop_(loop), transport_(transport) {}

void Coordinator::UpdateRoutes(const route::RouteCatalog& catalog) {
  std::lock_guard<std::mutex> lock(mu_);
  if (catalog.version() < catalog_version_) return;  // never move backwards
  catalog_version_ = catalog.version();
  routes_by_start_.clear();
  for (const route::RouteDescriptor& route : catalog.ListRoutes()) {
    routes_by_start_.emplace(route.start, route);
  }
}

absl::StatusOr<raft::GroupId> Coordinator::GroupOf(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = routes_by_start_.upper_bound(key);
  if (it == routes_by_start_.begin()) {
    return absl::UnavailableError("route table not loaded yet");
  }
  --it;
  return it->second.raft_group_id;
}

std::vector<route::RouteDescriptor> Coordinator::RoutesOverlapping(const std::string& start,
                                                                   const std::string& end) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<route::RouteDescriptor> out;
  auto it = routes_by_start_.upper_bound(start);
  if (it != routes_by_start_.begin()) --it;
  for (; it != routes_by_start_.end(); ++it) {
    if (!end.empty() && it->second.start >= end) break;
    if (!it->second.end.empty() && it->second.end <= start) continue;
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<node::ClientReply> Coordinator::RunLocally(raft::GroupId group, node::OpKind kind,
                                                          const std::string& payload,
                                                          Deadline deadline) {
  auto promise = std::make_shared<std::promise<node::ClientReply>>();
  std::future<node::ClientReply> future = promise->get_future();
  node::ClientRequest request;
  request.group = group;
  request.kind = kind;
  request.value = payload;
  loop_->Submit(std::move(request),
                [promise](const node::ClientReply& reply) { promise->set_value(reply); });
  if (future.wait_until(deadline) != std::future_status::ready) {
    return absl::DeadlineExceededError(
        absl::StrCat("group ", group,
                     " did not answer before the deadline; a write may or may "
                     "not have been applied"));
  }
  return future.get();
}

internal::ForwardResponse Coordinator::ServeForwarded(const internal::ForwardRequest& request) {
  internal::ForwardResponse response;
  const node::OpKind kind = request.op_kind() != 0
                                ? static_cast<node::OpKind>(request.op_kind())
                                : (request.is_read() ? node::OpKind::kQuery : node::OpKind::kApply);
  if (kind != node::OpKind::kQuery && kind != node::OpKind::kApply &&
      kind != node::OpKind::kTimestamp) {
    response.set_status(static_cast<uint32_t>(node::ReplyStatus::kFailed));
    response.set_detail(absl::StrCat("forwarded request of unsupported kind ", request.op_kind()));
    return response;
  }
  absl::StatusOr<node::ClientReply> reply =
      RunLocally(request.group(), kind, request.payload(), NewDeadline());
  if (!reply.ok()) {
    response.set_status(static_cast<uint32_t>(node::ReplyStatus::kUnknown));
    response.set_detail(std::string(reply.status().message()));
    return response;
  }
  response.set_status(static_cast<uint32_t>(reply->status));
  if (reply->value.has_value()) response.set_payload(*reply->value);
  response.set_index(reply->index);
  response.set_leader_hint(reply->leader_hint);
  response.set_detail(reply->detail);
  response.set_timestamp(reply->timestamp);
  return response;
}

absl::StatusOr<Coordinator::GroupReply> Coordinator::Execute(raft::GroupId group, bool is_read,
                                                             const std::string& payload,
                                                             Deadline deadline) {
  raft::NodeId hint = raft::kNoNode;
  std::string last_error = "no leader elected yet";
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    raft::NodeId target = hint != raft::kNoNode ? hint : loop_->LeaderOf(group);
    hint = raft::kNoNode;
    if (target == raft::kNoNode) {
      Backoff(attempt);
      continue;
    }
    // This node hosts the group: its NodeHost serves followers' requests through Raft
    // (proposal and read-index forwarding), so no forwarding RPC is needed.
    if (loop_->Hosts(group)) target = options_.node_id;
    node::ReplyStatus status;
    std::string reply_payload;
    uint64_t index = 0;
    std::string detail;
    raft::NodeId leader_hint = raft::kNoNode;
    bool has_payload = false;
    if (target == options_.node_id) {
      absl::StatusOr<node::ClientReply> reply = RunLocally(
          group, is_read ? node::OpKind::kQuery : node::OpKind::kApply, payload, deadline);
      if (!reply.ok()) return reply.status();
      status = reply->status;
      has_payload = reply->value.has_value();
      if (has_payload) reply_payload = *reply->value;
      index = reply->index;
      detail = reply->detail;
      leader_hint = reply->leader_hint;
    } else {
      internal::ForwardRequest forward;
      forward.set_group(group);
      forward.set_is_read(is_read);
      forward.set_payload(payload);
      absl::StatusOr<internal::ForwardResponse> response = transport_->Forward(target, forward);
      if (!response.ok()) {
        // The request may have reached the leader: only reads are safe to retry blindly;
        // a write's outcome is unknown.
        if (!is_read) {
          return absl::UnavailableError(
              absl::StrCat("write outcome unknown: ", response.status().message()));
        }
        last_error = std::string(response.status().message());
        Backoff(attempt);
        continue;
      }
      status = static_cast<node::ReplyStatus>(response->status());
      reply_payload = response->payload();
      has_payload = !reply_payload.empty();
      index = response->index();
      detail = response->detail();
      leader_hint = response->leader_hint();
    }
    switch (status) {
      case node::ReplyStatus::kOk: {
        if (!has_payload) return absl::InternalError("group reply without a result");
        absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(reply_payload);
        if (!result.ok()) return result.status();
        return GroupReply{std::move(*result), index};
      }
      case node::ReplyStatus::kNotLeader:
        hint = leader_hint != target ? leader_hint : raft::kNoNode;
        last_error = detail;
        if (hint == raft::kNoNode) Backoff(attempt);
        continue;
      case node::ReplyStatus::kFailed:
        // Definitely not applied (dropped proposal, refused read index): safe to retry.
        last_error = detail;
        Backoff(attempt);
        continue;
      case node::ReplyStatus::kUnknown:
        if (is_read) {
          last_error = detail;
          Backoff(attempt);
          continue;
        }
        return absl::UnavailableError(absl::StrCat("write outcome unknown: ", detail));
    }
  }
  return absl::UnavailableError(
      absl::StrCat("group ", group, " unavailable before the deadline: ", last_error));
}

absl::StatusOr<Coordinator::GroupReply> Coordinator::KvCommand(raft::GroupId group,
                                                               const std::string& kv_command,
                                                               Deadline deadline) {
  return Execute(group, /*is_read=*/false, GroupCommandBytes(node::GroupCommandOp::kKv, kv_command),
                 deadline);
}

absl::StatusOr<Coordinator::GroupReply> Coordinator::KvQuery(raft::GroupId group,
                                                             const std::string& kv_query,
                                                             Deadline deadline) {
  return Execute(group, /*is_read=*/true, GroupQueryBytes(node::GroupQueryOp::kKv, kv_query),
                 deadline);
}

// ---------------------------------------------------------------------------------------
// RawKV

absl::StatusOr<WriteOutcome> Coordinator::RawPut(std::string key, std::string value) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<raft::GroupId> group = GroupOf(key);
  if (!group.ok()) return group.status();
  kv::RawWriteCommand command;
  command.mutations.push_back(kv::Mutation::Put(std::move(key), std::move(value)));
  absl::StatusOr<GroupReply> reply = KvCommand(*group, kv::EncodeKvCommand(command), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  return WriteOutcome{reply->index, reply->result.ts};
}

absl::StatusOr<WriteOutcome> Coordinator::RawDelete(std::string key) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<raft::GroupId> group = GroupOf(key);
  if (!group.ok()) return group.status();
  kv::RawWriteCommand command;
  command.mutations.push_back(kv::Mutation::Delete(std::move(key)));
  absl::StatusOr<GroupReply> reply = KvCommand(*group, kv::EncodeKvCommand(command), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  return WriteOutcome{reply->index, reply->result.ts};
}

absl::StatusOr<ReadOutcome> Coordinator::RawGet(std::string key, uint64_t ts) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<raft::GroupId> group = GroupOf(key);
  if (!group.ok()) return group.status();
  absl::StatusOr<GroupReply> reply =
      ts == 0
          ? Execute(*group, true, GroupQueryBytes(node::GroupQueryOp::kRawGet, key), NewDeadline())
          : KvQuery(*group, node::EncodeKvQuery(kv::KvQuery::Get(key, ts)), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (!reply->result.key_errors.empty()) return FirstKeyErrorStatus(reply->result.key_errors);
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  return ReadOutcome{reply->index, reply->result.value};
}

absl::StatusOr<std::optional<uint64_t>> Coordinator::RawLatestCommitTs(std::string key) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<raft::GroupId> group = GroupOf(key);
  if (!group.ok()) return group.status();
  absl::StatusOr<GroupReply> reply =
      KvQuery(*group, node::EncodeKvQuery(kv::KvQuery::LatestCommitTs(key)), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  if (reply->result.ts == 0) return std::optional<uint64_t>();
  return std::optional<uint64_t>(reply->result.ts);
}

absl::Status Coordinator::ValidateScan(const std::string& start, const std::string& end,
                                       int64_t limit) const {
  if (limit <= 0 || static_cast<uint64_t>(limit) > options_.max_scan_limit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be in 1..", options_.max_scan_limit, ", got ", limit));
  }
  if (!end.empty() && end <= start) {
    return absl::InvalidArgumentError("end_key must be greater than start_key (or empty)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Coordinator::KvPairs> Coordinator::ScanRoutes(const std::string& start,
                                                             const std::string& end, uint64_t limit,
                                                             Deadline deadline,
                                                             const SubScan& sub_scan) {
  KvPairs out;
  std::string cursor = start;
  // Walk the routes in key order; re-resolve after each sub-scan so a split between
  // sub-scans never makes a key appear twice or not at all.
  while (out.size() < limit && Clock::now() < deadline) {
    std::vector<route::RouteDescriptor> routes = RoutesOverlapping(cursor, end);
    if (routes.empty()) break;
    const route::RouteDescriptor& route = routes.front();
    const std::string sub_end =
        route.end.empty() ? end : (end.empty() ? route.end : std::min(route.end, end));
    absl::StatusOr<std::optional<KvPairs>> pairs =
        sub_scan(route.raft_group_id, cursor, sub_end, limit - out.size());
    if (!pairs.ok()) return pairs.status();
    if (!pairs->has_value()) continue;  // the sub-scan asks to be retried from `cursor`
    for (auto& pair : **pairs) out.push_back(std::move(pair));
    if (sub_end.empty() || (!end.empty() && sub_end >= end)) break;
    cursor = sub_end;
  }
  return out;
}

absl::StatusOr<Coordinator::KvPairs> Coordinator::RawScan(std::string start, std::string end,
                                                          int64_t limit, uint64_t ts) {
  if (absl::Status valid = ValidateScan(start, end, limit); !valid.ok()) return valid;
  const Deadline deadline = NewDeadline();
  return ScanRoutes(
      start, end, static_cast<uint64_t>(limit), deadline,
      [&](raft::GroupId group, const std::string& from, const std::string& to,
          uint64_t want) -> absl::StatusOr<std::optional<KvPairs>> {
        absl::StatusOr<GroupReply> reply =
            ts == 0 ? Execute(group, true,
                              GroupQueryBytes(node::GroupQueryOp::kRawScan,
                                              node::EncodeRawScan(from, to, want)),
                              deadline)
                    : KvQuery(group, node::EncodeKvQuery(kv::KvQuery::Scan(from, to, want, ts)),
                              deadline);
        if (!reply.ok()) return reply.status();
        if (!reply->result.key_errors.empty()) {
          return FirstKeyErrorStatus(reply->result.key_errors);
        }
        if (absl::Status s = reply->result.status(); !s.ok()) return s;
        return std::optional<KvPairs>(std::move(reply->result.pairs));
      });
}

// ---------------------------------------------------------------------------------------
// Distribution

absl::StatusOr<uint64_t> Coordinator::Timestamp(Deadline deadline) {
  // Served from memory by the leader of the catalog group (core/node/timestamp_oracle.h);
  // a follower answers with a hint, so unlike Execute this goes to the leader's node even
  // when this node hosts the group. A timestamp has no effect: every failure is retried.
  const raft::GroupId group = options_.catalog_group;
  raft::NodeId target = raft::kNoNode;
  std::string last_error = "no leader elected yet";
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    if (target == raft::kNoNode) target = loop_->LeaderOf(group);
    if (target == raft::kNoNode) {
      Backoff(attempt);
      continue;
    }
    node::ReplyStatus status = node::ReplyStatus::kFailed;
    uint64_t ts = 0;
    raft::NodeId hint = raft::kNoNode;
    if (target == options_.node_id) {
      absl::StatusOr<node::ClientReply> reply =
          RunLocally(group, node::OpKind::kTimestamp, "", deadline);
      if (!reply.ok()) return reply.status();
      status = reply->status;
      ts = reply->timestamp;
      hint = reply->leader_hint;
      last_error = reply->detail;
    } else {
      internal::ForwardRequest forward;
      forward.set_group(group);
      forward.set_op_kind(static_cast<uint32_t>(node::OpKind::kTimestamp));
      absl::StatusOr<internal::ForwardResponse> response = transport_->Forward(target, forward);
      if (response.ok()) {
        status = static_cast<node::ReplyStatus>(response->status());
        ts = response->timestamp();
        hint = response->leader_hint();
        last_error = response->detail();
      } else {
        last_error = std::string(response.status().message());
      }
    }
    if (status == node::ReplyStatus::kOk && ts != 0) return ts;
    const raft::NodeId previous = target;
    target = hint != previous ? hint : raft::kNoNode;
    if (target == raft::kNoNode) Backoff(attempt);
  }
  return absl::UnavailableError(
      absl::StrCat("no timestamp from group ", group, " before the deadline: ", last_error));
}

absl::StatusOr<uint64_t> Coordinator::GetTimestamp() { return Timestamp(NewDeadline()); }

absl::StatusOr<route::RouteCatalog> Coordinator::ReadCatalog() {
  absl::StatusOr<GroupReply> reply =
      Execute(options_.catalog_group, true, GroupQueryBytes(node::GroupQueryOp::kCatalog, ""),
              NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  absl::StatusOr<route::RouteCatalog> catalog = route::RouteCatalog::Decode(reply->result.blob);
  if (catalog.ok()) UpdateRoutes(*catalog);
  return catalog;
}

absl::StatusOr<route::SplitResult> Coordinator::SplitRange(uint64_t expected_version,
                                                           uint64_t route_id,
                                                           std::string split_key) {
  route::CatalogCommand command;
  command.op = route::SplitRange{expected_version, route_id, std::move(split_key)};
  absl::StatusOr<GroupReply> reply =
      Execute(options_.catalog_group, false,
              GroupCommandBytes(node::GroupCommandOp::kCatalog, command.Encode()), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  kv::ByteReader reader(reply->result.blob);
  absl::StatusOr<route::RouteDescriptor> left = route::DecodeRoute(&reader);
  if (!left.ok()) return left.status();
  absl::StatusOr<route::RouteDescriptor> right = route::DecodeRoute(&reader);
  if (!right.ok()) return right.status();
  route::SplitResult result;
  result.catalog_version = reply->result.ts;
  result.left = *left;
  result.right = *right;
  (void)ReadCatalog();  // refresh our table at once; other nodes get the push
  return result;
}

// ---------------------------------------------------------------------------------------
// Transactions

absl::StatusOr<bool> Coordinator::ResolveLock(const node::GroupKeyError& locked,
                                              Deadline deadline) {
  if (locked.lock_primary.empty()) return false;
  absl::StatusOr<raft::GroupId> primary_group = GroupOf(locked.lock_primary);
  if (!primary_group.ok()) return primary_group.status();
  kv::CheckTxnStatusCommand check;
  check.primary = locked.lock_primary;
  check.start_ts = locked.lock_start_ts;
  check.current_ms = WallClockMs();
  absl::StatusOr<GroupReply> status =
      KvCommand(*primary_group, kv::EncodeKvCommand(check), deadline);
  if (!status.ok()) return status.status();
  const auto kind = static_cast<kv::TxnStatusKind>(status->result.txn_status);
  if (kind == kv::TxnStatusKind::kLocked) return false;  // still alive: wait
  kv::ResolveLockCommand resolve;
  resolve.keys.push_back(locked.key);
  resolve.start_ts = locked.lock_start_ts;
  resolve.commit_ts = kind == kv::TxnStatusKind::kCommitted ? status->result.ts : 0;
  absl::StatusOr<raft::GroupId> group = GroupOf(locked.key);
  if (!group.ok()) return group.status();
  absl::StatusOr<GroupReply> resolved = KvCommand(*group, kv::EncodeKvCommand(resolve), deadline);
  if (!resolved.ok()) return resolved.status();
  return true;
}

absl::StatusOr<TxnOutcome> Coordinator::Prewrite(
    std::vector<std::pair<std::string, std::string>> mutations, uint64_t start_ts,
    uint64_t lock_ttl_ms) {
  if (mutations.empty()) return absl::InvalidArgumentError("prewrite needs at least one mutation");
  if (mutations.size() > options_.max_txn_keys) {
    return absl::InvalidArgumentError(
        absl::StrCat("a transaction may write at most ", options_.max_txn_keys, " keys"));
  }
  if (start_ts == 0) {
    return absl::InvalidArgumentError("start_ts is required (use Distribution.GetTimestamp)");
  }
  if (lock_ttl_ms == 0) lock_ttl_ms = options_.default_lock_ttl_ms;
  const std::string primary = mutations.front().first;
  std::map<raft::GroupId, kv::PrewriteCommand> by_group;
  TxnRecord record{primary, {}};
  for (auto& [key, value] : mutations) {
    if (key.empty()) return absl::InvalidArgumentError("mutation key must not be empty");
    absl::StatusOr<raft::GroupId> group = GroupOf(key);
    if (!group.ok()) return group.status();
    kv::PrewriteCommand& command = by_group[*group];
    command.primary = primary;
    command.start_ts = start_ts;
    command.lock_ttl_ms = lock_ttl_ms;
    record.keys.push_back(key);
    command.mutations.push_back(kv::Mutation::Put(key, std::move(value)));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    txns_[start_ts] = record;
  }
  const Deadline deadline = NewDeadline();
  TxnOutcome outcome;
  for (auto& [group, command] : by_group) {
    absl::StatusOr<GroupReply> reply = KvCommand(group, kv::EncodeKvCommand(command), deadline);
    if (!reply.ok()) return reply.status();
    outcome.index = std::max(outcome.index, reply->index);
    for (const node::GroupKeyError& e : reply->result.key_errors) {
      outcome.errors.push_back({e.key, e.message, e.retryable});
    }
    if (reply->result.key_errors.empty() && !reply->result.status().ok()) {
      outcome.errors.push_back(
          {command.mutations.front().key, std::string(reply->result.message), false});
    }
  }
  return outcome;
}

absl::StatusOr<TxnOutcome> Coordinator::Commit(uint64_t start_ts, std::vector<std::string> keys) {
  if (start_ts == 0) return absl::InvalidArgumentError("start_ts is required");
  std::string primary;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = txns_.find(start_ts);
    if (it != txns_.end()) {
      primary = it->second.primary;
      if (keys.empty()) keys = it->second.keys;
    }
  }
  if (keys.empty()) return absl::InvalidArgumentError("commit needs the transaction's keys");
  if (primary.empty()) primary = keys.front();
  const Deadline deadline = NewDeadline();
  absl::StatusOr<uint64_t> commit_ts = Timestamp(deadline);
  if (!commit_ts.ok()) return commit_ts.status();
  std::map<raft::GroupId, kv::CommitCommand> by_group;
  for (const std::string& key : keys) {
    absl::StatusOr<raft::GroupId> group = GroupOf(key);
    if (!group.ok()) return group.status();
    kv::CommitCommand& command = by_group[*group];
    command.start_ts = start_ts;
    command.commit_ts = *commit_ts;
    command.keys.push_back(key);
  }
  absl::StatusOr<raft::GroupId> primary_group = GroupOf(primary);
  if (!primary_group.ok()) return primary_group.status();
  // The primary's group commits first: that commit is the transaction's commit point.
  std::vector<raft::GroupId> order{*primary_group};
  for (const auto& [group, command] : by_group) {
    if (group != *primary_group) order.push_back(group);
  }
  TxnOutcome outcome;
  for (raft::GroupId group : order) {
    auto it = by_group.find(group);
    if (it == by_group.end()) continue;
    absl::StatusOr<GroupReply> reply = KvCommand(group, kv::EncodeKvCommand(it->second), deadline);
    if (!reply.ok()) {
      if (group == *primary_group) return reply.status();
      // Past the commit point: a secondary left locked is resolved by readers later.
      continue;
    }
    outcome.index = std::max(outcome.index, reply->index);
    for (const node::GroupKeyError& e : reply->result.key_errors) {
      outcome.errors.push_back({e.key, e.message, e.retryable});
    }
    if (group == *primary_group && !outcome.errors.empty()) return outcome;  // not committed
  }
  std::lock_guard<std::mutex> lock(mu_);
  txns_.erase(start_ts);
  return outcome;
}

absl::StatusOr<bool> Coordinator::Rollback(uint64_t start_ts) {
  TxnRecord record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = txns_.find(start_ts);
    if (it == txns_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "no prewritten transaction with start_ts ", start_ts,
          " on this node: send Rollback to the node that served PreWrite (its locks also "
          "expire after lock_ttl and are rolled back by readers)"));
    }
    record = it->second;
  }
  std::map<raft::GroupId, kv::RollbackCommand> by_group;
  for (const std::string& key : record.keys) {
    absl::StatusOr<raft::GroupId> group = GroupOf(key);
    if (!group.ok()) return group.status();
    by_group[*group].start_ts = start_ts;
    by_group[*group].keys.push_back(key);
  }
  const Deadline deadline = NewDeadline();
  bool success = true;
  for (auto& [group, command] : by_group) {
    absl::StatusOr<GroupReply> reply = KvCommand(group, kv::EncodeKvCommand(command), deadline);
    if (!reply.ok()) return reply.status();
    if (!reply->result.status().ok() || !reply->result.key_errors.empty()) success = false;
  }
  if (success) {
    std::lock_guard<std::mutex> lock(mu_);
    txns_.erase(start_ts);
  }
  return success;
}

absl::StatusOr<WriteOutcome> Coordinator::TxnPut(std::string key,
                                                 std::optional<std::string> value) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<raft::GroupId> group = GroupOf(key);
  if (!group.ok()) return group.status();
  const Deadline deadline = NewDeadline();
  // One phase, one Raft round: the group chooses the commit_ts when it applies the
  // command, above its start_ts and every read floor (core/kv/kv_state_machine.h,
  // "One-phase commit"), so no reader's snapshot can change under it. A conflict leaves
  // rollback records at start_ts: this loop retries with a new start_ts, and nothing
  // re-applies the failed attempt.
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    absl::StatusOr<uint64_t> start_ts = Timestamp(deadline);
    if (!start_ts.ok()) return start_ts.status();
    kv::OnePhaseCommitCommand one_phase;
    one_phase.start_ts = *start_ts;
    one_phase.commit_ts = 0;  // chosen at apply
    one_phase.mutations.push_back(value.has_value() ? kv::Mutation::Put(key, *value)
                                                    : kv::Mutation::Delete(key));
    absl::StatusOr<GroupReply> committed =
        KvCommand(*group, kv::EncodeKvCommand(one_phase), deadline);
    if (!committed.ok()) return committed.status();
    if (!committed->result.key_errors.empty() || !committed->result.status().ok()) {
      // Another transaction's lock: resolve it; a newer version: retry with a new start_ts.
      for (const node::GroupKeyError& e : committed->result.key_errors) {
        if (!e.lock_primary.empty() && e.lock_start_ts != *start_ts) (void)ResolveLock(e, deadline);
      }
      if (committed->result.key_errors.empty()) return committed->result.status();
      Backoff(attempt);
      continue;
    }
    return WriteOutcome{committed->index, committed->result.ts};
  }
  return absl::AbortedError("transactional write kept conflicting until the deadline");
}

absl::StatusOr<ReadOutcome> Coordinator::TxnGet(std::string key) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<raft::GroupId> group = GroupOf(key);
  if (!group.ok()) return group.status();
  const Deadline deadline = NewDeadline();
  absl::StatusOr<uint64_t> read_ts = Timestamp(deadline);
  if (!read_ts.ok()) return read_ts.status();
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    absl::StatusOr<GroupReply> reply =
        KvQuery(*group, node::EncodeKvQuery(kv::KvQuery::Get(key, *read_ts)), deadline);
    if (!reply.ok()) return reply.status();
    if (reply->result.key_errors.empty()) {
      if (absl::Status s = reply->result.status(); !s.ok()) return s;
      return ReadOutcome{reply->index, reply->result.value};
    }
    absl::StatusOr<bool> resolved = ResolveLock(reply->result.key_errors.front(), deadline);
    if (!resolved.ok()) return resolved.status();
    if (!*resolved) Backoff(attempt);
  }
  return absl::UnavailableError("key stayed locked by a live transaction until the deadline");
}

absl::StatusOr<Coordinator::KvPairs> Coordinator::TxnScan(std::string start, std::string end,
                                                          uint64_t limit) {
  if (absl::Status valid =
          ValidateScan(start, end, static_cast<int64_t>(std::min<uint64_t>(limit, INT64_MAX)));
      !valid.ok()) {
    return valid;
  }
  const Deadline deadline = NewDeadline();
  absl::StatusOr<uint64_t> read_ts = Timestamp(deadline);
  if (!read_ts.ok()) return read_ts.status();
  int attempt = 0;
  return ScanRoutes(
      start, end, limit, deadline,
      [&](raft::GroupId group, const std::string& from, const std::string& to,
          uint64_t want) -> absl::StatusOr<std::optional<KvPairs>> {
        absl::StatusOr<GroupReply> reply = KvQuery(
            group, node::EncodeKvQuery(kv::KvQuery::Scan(from, to, want, *read_ts)), deadline);
        if (!reply.ok()) return reply.status();
        if (!reply->result.key_errors.empty()) {
          // Another transaction's lock: resolve it and scan the same range again.
          absl::StatusOr<bool> resolved = ResolveLock(reply->result.key_errors.front(), deadline);
          if (!resolved.ok()) return resolved.status();
          if (!*resolved) Backoff(attempt++);
          return std::optional<KvPairs>();
        }
        if (absl::Status s = reply->result.status(); !s.ok()) return s;
        return std::optional<KvPairs>(std::move(reply->result.pairs));
      });
}

}  // namespace ekv::runtime
