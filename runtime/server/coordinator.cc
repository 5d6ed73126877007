#include "runtime/server/coordinator.h"

#include <algorithm>
#include <future>
#include <set>
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

// `catalog_version`: the route table version a kv request was routed by (0: not routed
// by key, e.g. catalog and timestamp commands).
std::string GroupCommandBytes(node::GroupCommandOp op, std::string payload,
                              uint64_t catalog_version = 0) {
  node::GroupCommand command;
  command.op = op;
  command.physical_ms = WallClockMs();
  command.payload = std::move(payload);
  command.catalog_version = catalog_version;
  return node::EncodeGroupCommand(command);
}

std::string GroupQueryBytes(node::GroupQueryOp op, std::string payload,
                            uint64_t catalog_version = 0) {
  node::GroupQuery query;
  query.op = op;
  query.payload = std::move(payload);
  query.catalog_version = catalog_version;
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
    : options_(options),
      loop_(loop),
      transport_(transport),
      fallback_(std::make_unique<FallbackPool>(/*threads=*/4, /*max_queued=*/4096)) {}

void Coordinator::UpdateRoutes(const route::RouteCatalog& catalog) {
  std::lock_guard<std::mutex> lock(mu_);
  if (catalog.version() < catalog_version_) return;  // never move backwards
  catalog_version_ = catalog.version();
  routes_by_start_.clear();
  for (const route::RouteDescriptor& route : catalog.ListRoutes()) {
    routes_by_start_.emplace(route.start, route);
  }
}

uint64_t Coordinator::catalog_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return catalog_version_;
}

CoordinatorStats Coordinator::stats() const {
  CoordinatorStats out;
  out.stale_route_refusals = stale_route_refusals_.load(std::memory_order_relaxed);
  out.route_refreshes = route_refreshes_.load(std::memory_order_relaxed);
  out.ownership_updates = ownership_updates_.load(std::memory_order_relaxed);
  return out;
}

absl::StatusOr<Coordinator::RoutedGroup> Coordinator::GroupOf(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = routes_by_start_.upper_bound(key);
  if (it == routes_by_start_.begin()) {
    return absl::UnavailableError("route table not loaded yet");
  }
  --it;
  return RoutedGroup{it->second.raft_group_id, catalog_version_};
}

std::pair<std::vector<route::RouteDescriptor>, uint64_t> Coordinator::RoutesOverlapping(
    const std::string& start, const std::string& end) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<route::RouteDescriptor> out;
  auto it = routes_by_start_.upper_bound(start);
  if (it != routes_by_start_.begin()) --it;
  for (; it != routes_by_start_.end(); ++it) {
    if (!end.empty() && it->second.start >= end) break;
    if (!it->second.end.empty() && it->second.end <= start) continue;
    out.push_back(it->second);
  }
  return {std::move(out), catalog_version_};
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
      kind != node::OpKind::kTimestamp && kind != node::OpKind::kConfChange) {
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

std::optional<route::StaleRouteError> Coordinator::StaleRoute(const node::GroupResult& result) {
  if (result.code != absl::StatusCode::kAborted) return std::nullopt;
  std::optional<route::StaleRouteError> stale = route::ParseStaleRouteMessage(result.message);
  if (stale.has_value()) stale_route_refusals_.fetch_add(1, std::memory_order_relaxed);
  return stale;
}

absl::Status Coordinator::RefreshAfterStaleRoute(const route::StaleRouteError& stale,
                                                 uint64_t routed_version, int* retries,
                                                 Deadline deadline) {
  if (options_.planted_no_stale_route_retry) {  // planted bug: the refusal reaches the client
    return route::MakeStaleRouteError(stale.current_version, stale.group, stale.reason);
  }
  if (++*retries > options_.max_stale_route_retries || Clock::now() >= deadline) {
    return absl::UnavailableError(absl::StrCat(
        "routes kept changing: ", *retries - 1, " route refreshes (at most ",
        options_.max_stale_route_retries,
        " per request, within the request deadline) did not reach a group that accepts the "
        "request; last refusal by group ",
        stale.group, " at catalog version ", stale.current_version, ": ", stale.reason));
  }
  route_refreshes_.fetch_add(1, std::memory_order_relaxed);
  // A linearizable read of the catalog group: at least as new as any catalog a group has
  // been told about (ownership updates carry catalogs that group committed).
  absl::StatusOr<route::RouteCatalog> catalog = ReadCatalogBy(deadline);
  if (!catalog.ok()) return catalog.status();
  // Not newer than the table the request was routed by: the group is the one behind (it
  // learns ownership changes through kOwnership), so give it a moment before retrying.
  if (catalog->version() <= routed_version) Backoff(*retries);
  return absl::OkStatus();
}

absl::StatusOr<Coordinator::GroupReply> Coordinator::ExecuteRouted(const std::string& key,
                                                                   bool is_read,
                                                                   const PayloadFor& payload_for,
                                                                   Deadline deadline) {
  // Bounded by RefreshAfterStaleRoute (max_stale_route_retries and the deadline).
  for (int retries = 0;;) {
    absl::StatusOr<RoutedGroup> routed = GroupOf(key);
    if (!routed.ok()) return routed.status();
    absl::StatusOr<GroupReply> reply =
        Execute(routed->group, is_read, payload_for(routed->catalog_version), deadline);
    if (!reply.ok()) return reply;
    std::optional<route::StaleRouteError> stale = StaleRoute(reply->result);
    if (!stale.has_value()) return reply;
    // A refusal is a definite no-op (group_protocol.h), so even a write is safe to resend.
    if (absl::Status refreshed =
            RefreshAfterStaleRoute(*stale, routed->catalog_version, &retries, deadline);
        !refreshed.ok()) {
      return refreshed;
    }
  }
}

absl::StatusOr<Coordinator::GroupReply> Coordinator::KvCommand(const std::string& key,
                                                               const std::string& kv_command,
                                                               Deadline deadline) {
  return ExecuteRouted(
      key, /*is_read=*/false,
      [&](uint64_t version) {
        return GroupCommandBytes(node::GroupCommandOp::kKv, kv_command, version);
      },
      deadline);
}

absl::StatusOr<Coordinator::GroupReply> Coordinator::KvQuery(const std::string& key,
                                                             const std::string& kv_query,
                                                             Deadline deadline) {
  return ExecuteRouted(
      key, /*is_read=*/true,
      [&](uint64_t version) { return GroupQueryBytes(node::GroupQueryOp::kKv, kv_query, version); },
      deadline);
}

absl::Status Coordinator::KvCommandByGroup(
    std::vector<std::string> keys, const std::string& first_key,
    const std::function<std::string(const std::vector<std::string>&)>& build, Deadline deadline,
    const GroupBatchDone& done) {
  struct Batch {
    std::vector<std::string> keys;
    // The oldest table version any of its keys was routed by: stamping older than the
    // truth can only cause a refusal, never a wrong acceptance.
    uint64_t catalog_version = UINT64_MAX;
  };
  int retries = 0;
  while (!keys.empty()) {
    std::map<raft::GroupId, Batch> by_group;
    raft::GroupId first_group = 0;
    for (std::string& key : keys) {
      absl::StatusOr<RoutedGroup> routed = GroupOf(key);
      if (!routed.ok()) return routed.status();
      if (key == first_key) first_group = routed->group;
      Batch& batch = by_group[routed->group];
      batch.catalog_version = std::min(batch.catalog_version, routed->catalog_version);
      batch.keys.push_back(std::move(key));
    }
    std::vector<raft::GroupId> order;
    if (first_group != 0) order.push_back(first_group);
    for (const auto& [group, batch] : by_group) {
      if (group != first_group) order.push_back(group);
    }
    // Keys to route again: those of a refused batch and of every batch after it, so
    // the order (the group of `first_key` first) holds across refreshes.
    std::vector<std::string> rerouted;
    for (raft::GroupId group : order) {
      Batch& batch = by_group[group];
      if (!rerouted.empty()) {
        for (std::string& key : batch.keys) rerouted.push_back(std::move(key));
        continue;
      }
      absl::StatusOr<GroupReply> reply = Execute(
          group, /*is_read=*/false,
          GroupCommandBytes(node::GroupCommandOp::kKv, build(batch.keys), batch.catalog_version),
          deadline);
      if (reply.ok()) {
        if (std::optional<route::StaleRouteError> stale = StaleRoute(reply->result)) {
          if (absl::Status refreshed =
                  RefreshAfterStaleRoute(*stale, batch.catalog_version, &retries, deadline);
              !refreshed.ok()) {
            return refreshed;
          }
          rerouted = std::move(batch.keys);
          continue;
        }
      }
      absl::StatusOr<bool> go_on = done(group, batch.keys, std::move(reply));
      if (!go_on.ok()) return go_on.status();
      if (!*go_on) return absl::OkStatus();
    }
    keys = std::move(rerouted);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// RawKV

absl::StatusOr<WriteOutcome> Coordinator::RawPut(std::string key, std::string value) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  kv::RawWriteCommand command;
  command.mutations.push_back(kv::Mutation::Put(key, std::move(value)));
  absl::StatusOr<GroupReply> reply = KvCommand(key, kv::EncodeKvCommand(command), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  return WriteOutcome{reply->index, reply->result.ts};
}

absl::StatusOr<WriteOutcome> Coordinator::RawDelete(std::string key) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  kv::RawWriteCommand command;
  command.mutations.push_back(kv::Mutation::Delete(key));
  absl::StatusOr<GroupReply> reply = KvCommand(key, kv::EncodeKvCommand(command), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  return WriteOutcome{reply->index, reply->result.ts};
}

absl::StatusOr<ReadOutcome> Coordinator::RawGet(std::string key, uint64_t ts) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<GroupReply> reply =
      ts == 0 ? ExecuteRouted(
                    key, /*is_read=*/true,
                    [&](uint64_t version) {
                      return GroupQueryBytes(node::GroupQueryOp::kRawGet, key, version);
                    },
                    NewDeadline())
              : KvQuery(key, node::EncodeKvQuery(kv::KvQuery::Get(key, ts)), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (!reply->result.key_errors.empty()) return FirstKeyErrorStatus(reply->result.key_errors);
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  return ReadOutcome{reply->index, reply->result.value};
}

absl::StatusOr<std::optional<uint64_t>> Coordinator::RawLatestCommitTs(std::string key) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  absl::StatusOr<GroupReply> reply =
      KvQuery(key, node::EncodeKvQuery(kv::KvQuery::LatestCommitTs(key)), NewDeadline());
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
  int stale_retries = 0;
  // Walk the routes in key order; re-resolve after each sub-scan so a split between
  // sub-scans never makes a key appear twice or not at all. Everything before `cursor`
  // is in `out`; a refused or repeated sub-scan added nothing, so re-planning from
  // `cursor` keeps every key exactly once and in order.
  while (out.size() < limit) {
    if (Clock::now() >= deadline) {
      // Never a partial answer dressed as a complete one.
      return absl::DeadlineExceededError(absl::StrCat("scan reached ", route::FormatKey(cursor),
                                                      " with ", out.size(),
                                                      " pairs when the request deadline passed"));
    }
    auto [routes, catalog_version] = RoutesOverlapping(cursor, end);
    if (routes.empty()) break;
    const route::RouteDescriptor& route = routes.front();
    const std::string sub_end =
        route.end.empty() ? end : (end.empty() ? route.end : std::min(route.end, end));
    absl::StatusOr<std::optional<KvPairs>> pairs =
        sub_scan(route.raft_group_id, catalog_version, cursor, sub_end, limit - out.size());
    if (!pairs.ok()) {
      std::optional<route::StaleRouteError> stale = route::ParseStaleRouteError(pairs.status());
      if (!stale.has_value()) return pairs.status();
      stale_route_refusals_.fetch_add(1, std::memory_order_relaxed);
      if (absl::Status refreshed =
              RefreshAfterStaleRoute(*stale, catalog_version, &stale_retries, deadline);
          !refreshed.ok()) {
        return refreshed;
      }
      continue;  // re-plan [cursor, end) with the refreshed routes
    }
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
      [&](raft::GroupId group, uint64_t catalog_version, const std::string& from,
          const std::string& to, uint64_t want) -> absl::StatusOr<std::optional<KvPairs>> {
        absl::StatusOr<GroupReply> reply =
            ts == 0 ? Execute(group, true,
                              GroupQueryBytes(node::GroupQueryOp::kRawScan,
                                              node::EncodeRawScan(from, to, want), catalog_version),
                              deadline)
                    : Execute(group, true,
                              GroupQueryBytes(
                                  node::GroupQueryOp::kKv,
                                  node::EncodeKvQuery(kv::KvQuery::Scan(from, to, want, ts)),
                                  catalog_version),
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

absl::StatusOr<node::ClientReply> Coordinator::RunOnLeader(raft::GroupId group, node::OpKind kind,
                                                           const std::string& payload,
                                                           Deadline deadline) {
  // A follower answers these with a hint, so unlike Execute this goes to the leader's
  // node even when this node hosts the group. Callers send only requests that are safe to
  // repeat (a timestamp has no effect; conf changes are idempotent), so every failure is
  // retried until the deadline.
  raft::NodeId target = raft::kNoNode;
  std::string last_error = "no leader elected yet";
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    if (target == raft::kNoNode) target = loop_->LeaderOf(group);
    if (target == raft::kNoNode) {
      Backoff(attempt);
      continue;
    }
    node::ClientReply reply;
    reply.status = node::ReplyStatus::kFailed;
    if (target == options_.node_id) {
      absl::StatusOr<node::ClientReply> local = RunLocally(group, kind, payload, deadline);
      if (!local.ok()) return local.status();
      reply = std::move(*local);
    } else {
      internal::ForwardRequest forward;
      forward.set_group(group);
      forward.set_op_kind(static_cast<uint32_t>(kind));
      forward.set_payload(payload);
      absl::StatusOr<internal::ForwardResponse> response = transport_->Forward(target, forward);
      if (response.ok()) {
        reply.status = static_cast<node::ReplyStatus>(response->status());
        reply.index = response->index();
        reply.timestamp = response->timestamp();
        reply.leader_hint = response->leader_hint();
        reply.detail = response->detail();
      } else {
        reply.detail = std::string(response.status().message());
      }
    }
    if (reply.status == node::ReplyStatus::kOk) return reply;
    last_error = reply.detail;
    const raft::NodeId previous = target;
    target = reply.leader_hint != previous ? reply.leader_hint : raft::kNoNode;
    if (target == raft::kNoNode) Backoff(attempt);
  }
  return absl::UnavailableError(absl::StrCat("no ", node::OpKindName(kind), " from group ", group,
                                             " before the deadline: ", last_error));
}

absl::StatusOr<uint64_t> Coordinator::Timestamp(Deadline deadline) {
  // Served from memory by the leader of the catalog group (core/node/timestamp_oracle.h).
  for (;;) {
    absl::StatusOr<node::ClientReply> reply =
        RunOnLeader(options_.catalog_group, node::OpKind::kTimestamp, "", deadline);
    if (!reply.ok()) return reply.status();
    if (reply->timestamp != 0) return reply->timestamp;
  }
}

absl::StatusOr<uint64_t> Coordinator::GetTimestamp() { return Timestamp(NewDeadline()); }

// ---------------------------------------------------------------------------------------
// Maintenance

absl::StatusOr<GcPassOutcome> Coordinator::RunGcPass(raft::GroupId group, uint64_t safe_point,
                                                     const std::string& start_key,
                                                     uint64_t max_keys) {
  kv::GcCommand command;
  command.safe_point = safe_point;
  command.start_key = start_key;
  command.max_keys = max_keys;
  // Unversioned (catalog_version 0): GC is whole-group, and no ownership check applies.
  absl::StatusOr<GroupReply> reply = Execute(
      group, /*is_read=*/false,
      GroupCommandBytes(node::GroupCommandOp::kKv, kv::EncodeKvCommand(command)), NewDeadline());
  if (!reply.ok()) return reply.status();
  if (absl::Status s = reply->result.status(); !s.ok()) return s;
  GcPassOutcome outcome;
  outcome.safe_point = reply->result.ts;
  outcome.resume_key = std::move(reply->result.value);
  return outcome;
}

bool Coordinator::LeadsGroup(raft::GroupId group) const {
  return loop_->LeaderOf(group) == options_.node_id;
}

absl::StatusOr<route::RouteCatalog> Coordinator::ReadCatalog() {
  return ReadCatalogBy(NewDeadline());
}

absl::StatusOr<route::RouteCatalog> Coordinator::ReadCatalogBy(Deadline deadline) {
  absl::StatusOr<GroupReply> reply = Execute(
      options_.catalog_group, true, GroupQueryBytes(node::GroupQueryOp::kCatalog, ""), deadline);
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
  const Deadline deadline = NewDeadline();
  absl::StatusOr<GroupReply> reply =
      Execute(options_.catalog_group, false,
              GroupCommandBytes(node::GroupCommandOp::kCatalog, command.Encode()), deadline);
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
  // Refresh our table at once (other nodes get the push), then tell the group that owns
  // the split route (unless it is the catalog group, which follows the catalog itself):
  // from then on it refuses requests routed by tables older than what it has owned since,
  // and coordinators that routed by them refresh and retry.
  //
  // Until it learns, the group judges requests routed at the new version by its older view
  // (ownership.h), and accepts them. That is safe because a split leaves the group's keys
  // unchanged: both halves stay in the same group (moving ranges between groups is not
  // built), so "owned at the old version" and "owned at the new one" are the same keys.
  // For the same reason a failed update below is only a lost refinement, not an error:
  // the split itself is committed and the client is told so.
  absl::StatusOr<route::RouteCatalog> catalog = ReadCatalogBy(deadline);
  const raft::GroupId owner = result.left.raft_group_id;
  if (catalog.ok() && owner != options_.catalog_group) {
    absl::StatusOr<GroupReply> told =
        Execute(owner, /*is_read=*/false,
                GroupCommandBytes(node::GroupCommandOp::kOwnership, catalog->Encode()), deadline);
    if (told.ok() && told->result.status().ok()) {
      ownership_updates_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Transactions

absl::StatusOr<bool> Coordinator::ResolveLock(const node::GroupKeyError& locked,
                                              Deadline deadline) {
  if (locked.lock_primary.empty()) return false;
  kv::CheckTxnStatusCommand check;
  check.primary = locked.lock_primary;
  check.start_ts = locked.lock_start_ts;
  check.current_ms = WallClockMs();
  absl::StatusOr<GroupReply> status =
      KvCommand(locked.lock_primary, kv::EncodeKvCommand(check), deadline);
  if (!status.ok()) return status.status();
  const auto kind = static_cast<kv::TxnStatusKind>(status->result.txn_status);
  if (kind == kv::TxnStatusKind::kLocked) return false;  // still alive: wait
  kv::ResolveLockCommand resolve;
  resolve.keys.push_back(locked.key);
  resolve.start_ts = locked.lock_start_ts;
  resolve.commit_ts = kind == kv::TxnStatusKind::kCommitted ? status->result.ts : 0;
  absl::StatusOr<GroupReply> resolved =
      KvCommand(locked.key, kv::EncodeKvCommand(resolve), deadline);
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
  TxnRecord record{primary, {}};
  for (const auto& [key, value] : mutations) {
    if (key.empty()) return absl::InvalidArgumentError("mutation key must not be empty");
    record.keys.push_back(key);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    txns_[start_ts] = record;
  }
  const Deadline deadline = NewDeadline();
  TxnOutcome outcome;
  absl::Status done = KvCommandByGroup(
      record.keys, primary,
      [&](const std::vector<std::string>& keys) {
        // The batch's mutations in request order (duplicates of a key go to one group).
        const std::set<std::string> in_batch(keys.begin(), keys.end());
        kv::PrewriteCommand command;
        command.primary = primary;
        command.start_ts = start_ts;
        command.lock_ttl_ms = lock_ttl_ms;
        for (const auto& [key, value] : mutations) {
          if (in_batch.count(key) != 0) command.mutations.push_back(kv::Mutation::Put(key, value));
        }
        return kv::EncodeKvCommand(command);
      },
      deadline,
      [&](raft::GroupId, const std::vector<std::string>& keys,
          absl::StatusOr<GroupReply> reply) -> absl::StatusOr<bool> {
        if (!reply.ok()) return reply.status();
        outcome.index = std::max(outcome.index, reply->index);
        for (const node::GroupKeyError& e : reply->result.key_errors) {
          outcome.errors.push_back({e.key, e.message, e.retryable});
        }
        if (reply->result.key_errors.empty() && !reply->result.status().ok()) {
          outcome.errors.push_back({keys.front(), std::string(reply->result.message), false});
        }
        return true;
      });
  if (!done.ok()) return done;
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
  TxnOutcome outcome;
  bool primary_refused = false;
  // The primary's group commits first: that commit is the transaction's commit point.
  // (KvCommandByGroup keeps it first also when a stale route makes it re-route.)
  absl::Status done = KvCommandByGroup(
      std::move(keys), primary,
      [&](const std::vector<std::string>& batch) {
        kv::CommitCommand command;
        command.start_ts = start_ts;
        command.commit_ts = *commit_ts;
        command.keys = batch;
        return kv::EncodeKvCommand(command);
      },
      deadline,
      [&](raft::GroupId, const std::vector<std::string>& batch,
          absl::StatusOr<GroupReply> reply) -> absl::StatusOr<bool> {
        const bool has_primary = std::find(batch.begin(), batch.end(), primary) != batch.end();
        if (!reply.ok()) {
          if (has_primary) return reply.status();
          // Past the commit point: a secondary left locked is resolved by readers later.
          return true;
        }
        outcome.index = std::max(outcome.index, reply->index);
        for (const node::GroupKeyError& e : reply->result.key_errors) {
          outcome.errors.push_back({e.key, e.message, e.retryable});
        }
        if (has_primary && !outcome.errors.empty()) {
          primary_refused = true;  // not committed
          return false;
        }
        return true;
      });
  if (!done.ok()) return done;
  if (primary_refused) return outcome;
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
  const Deadline deadline = NewDeadline();
  bool success = true;
  absl::Status done = KvCommandByGroup(
      record.keys, record.primary,
      [&](const std::vector<std::string>& batch) {
        kv::RollbackCommand command;
        command.start_ts = start_ts;
        command.keys = batch;
        return kv::EncodeKvCommand(command);
      },
      deadline,
      [&](raft::GroupId, const std::vector<std::string>&,
          absl::StatusOr<GroupReply> reply) -> absl::StatusOr<bool> {
        if (!reply.ok()) return reply.status();
        if (!reply->result.status().ok() || !reply->result.key_errors.empty()) success = false;
        return true;
      });
  if (!done.ok()) return done;
  if (success) {
    std::lock_guard<std::mutex> lock(mu_);
    txns_.erase(start_ts);
  }
  return success;
}

absl::StatusOr<WriteOutcome> Coordinator::TxnPut(std::string key,
                                                 std::optional<std::string> value) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  const Deadline deadline = NewDeadline();
  // One key, one group: core's coordinator commits it in one phase, one Raft round; the
  // group picks the commit_ts at apply above every snapshot it served (core/kv/
  // kv_state_machine.h, "One-phase commit"). A conflict leaves rollback records at
  // start_ts, so retrying with a new start_ts never re-applies the failed attempt.
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    absl::StatusOr<uint64_t> start_ts = Timestamp(deadline);
    if (!start_ts.ok()) return start_ts.status();
    DrivenTxn driven = DriveTransaction(
        {value.has_value() ? kv::Mutation::Put(key, *value) : kv::Mutation::Delete(key)}, *start_ts,
        deadline);
    if (driven.outcome.status.ok()) return WriteOutcome{driven.index, driven.outcome.commit_ts};
    if (driven.outcome.outcome_unknown || driven.outcome.key_errors.empty()) {
      return driven.outcome.status;
    }
    // Another transaction's lock: resolve it; a newer version: retry with a new start_ts.
    for (const kv::KeyError& e : driven.outcome.key_errors) {
      if (!e.lock.has_value() || e.lock->start_ts == *start_ts) continue;
      (void)ResolveLock(node::ToGroupKeyError(e), deadline);
    }
    Backoff(attempt);
  }
  return absl::AbortedError("transactional write kept conflicting until the deadline");
}

Coordinator::DrivenTxn Coordinator::DriveTransaction(std::vector<kv::Mutation> mutations,
                                                     uint64_t start_ts, Deadline deadline) {
  kv::TxnCoordinatorOptions txn_options;
  txn_options.lock_ttl_ms = options_.default_lock_ttl_ms;
  txn_options.one_phase_commit_ts_at_apply = true;
  kv::TxnCoordinator txns(txn_options, [this](absl::string_view key) -> kv::GroupId {
    absl::StatusOr<RoutedGroup> routed = GroupOf(std::string(key));
    return routed.ok() ? routed->group : 0;
  });
  DrivenTxn driven;
  absl::StatusOr<kv::TxnId> id = txns.Begin(std::move(mutations), start_ts);
  if (!id.ok()) {
    driven.outcome.status = id.status();
    return driven;
  }
  std::optional<kv::TxnOutcome> outcome;
  // The coordinator keeps working after it reports (secondaries, rollbacks): drain it.
  while (true) {
    kv::CoordinatorEffects effects = txns.TakeEffects();
    if (effects.empty()) break;
    for (const kv::TxnProposal& proposal : effects.proposals) {
      const std::string key = kv::RoutingKeyOf(proposal.command);
      absl::StatusOr<GroupReply> reply =
          KvCommand(key, kv::EncodeKvCommand(proposal.command), deadline);
      if (!reply.ok()) {
        txns.OnProposalTimeout(proposal.proposal_id);
        continue;
      }
      const kv::KvApplyResult result = node::ToKvApplyResult(reply->result);
      if (result.ok()) driven.index = std::max(driven.index, reply->index);
      txns.OnProposalResult(proposal.proposal_id, result);
    }
    for (kv::TxnId txn_id : effects.commit_ts_requests) {
      absl::StatusOr<uint64_t> commit_ts = Timestamp(deadline);
      if (commit_ts.ok()) {
        txns.ProvideCommitTs(txn_id, *commit_ts);
      } else {
        txns.CommitTsUnavailable(txn_id);
      }
    }
    for (kv::TxnOutcome& reported : effects.outcomes) {
      if (!outcome.has_value()) outcome = std::move(reported);
    }
  }
  if (!outcome.has_value()) {
    driven.outcome.status =
        absl::InternalError("the transaction coordinator went quiet without an outcome");
    return driven;
  }
  driven.outcome = std::move(*outcome);
  return driven;
}

absl::StatusOr<ReadOutcome> Coordinator::TxnGet(std::string key) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  const Deadline deadline = NewDeadline();
  absl::StatusOr<uint64_t> read_ts = Timestamp(deadline);
  if (!read_ts.ok()) return read_ts.status();
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    absl::StatusOr<GroupReply> reply =
        KvQuery(key, node::EncodeKvQuery(kv::KvQuery::Get(key, *read_ts)), deadline);
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
      [&](raft::GroupId group, uint64_t catalog_version, const std::string& from,
          const std::string& to, uint64_t want) -> absl::StatusOr<std::optional<KvPairs>> {
        absl::StatusOr<GroupReply> reply = Execute(
            group, true,
            GroupQueryBytes(node::GroupQueryOp::kKv,
                            node::EncodeKvQuery(kv::KvQuery::Scan(from, to, want, *read_ts)),
                            catalog_version),
            deadline);
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

// ---------------------------------------------------------------------------------------
// Fast paths

namespace {

// What the loop's answer to a fast-path request means for the client.
enum class FastPathVerdict { kAnswer, kRetryBlocking, kOutcomeUnknown };

FastPathVerdict Judge(const node::ClientReply& reply, bool is_read,
                      absl::StatusOr<node::GroupResult>* result) {
  switch (reply.status) {
    case node::ReplyStatus::kOk:
      if (!reply.value.has_value()) {
        *result = absl::InternalError("group reply without a result");
        return FastPathVerdict::kAnswer;
      }
      *result = node::DecodeGroupResult(*reply.value);
      // A stale-route refusal is a definite no-op: the blocking path refreshes and retries.
      if (result->ok() && (*result)->code == absl::StatusCode::kAborted &&
          route::ParseStaleRouteMessage((*result)->message).has_value()) {
        return FastPathVerdict::kRetryBlocking;
      }
      return FastPathVerdict::kAnswer;
    case node::ReplyStatus::kNotLeader:
    case node::ReplyStatus::kFailed:
      return FastPathVerdict::kRetryBlocking;  // never proposed or never read: safe
    case node::ReplyStatus::kUnknown:
      return is_read ? FastPathVerdict::kRetryBlocking : FastPathVerdict::kOutcomeUnknown;
  }
  return FastPathVerdict::kRetryBlocking;
}

}  // namespace

bool Coordinator::RunInBackground(std::function<void()> task) {
  return fallback_->Run(std::move(task));
}

void Coordinator::RawPutAsync(std::string key, std::string value, WriteDone done) {
  auto blocking = [this, key, value, done]() { done(RawPut(key, value)); };
  absl::StatusOr<RoutedGroup> routed =
      key.empty() ? absl::InvalidArgumentError("key must not be empty") : GroupOf(key);
  if (!routed.ok() || !loop_->Hosts(routed->group)) {
    if (!fallback_->Run(blocking)) done(absl::UnavailableError("node overloaded"));
    return;
  }
  kv::RawWriteCommand command;
  command.mutations.push_back(kv::Mutation::Put(key, value));
  node::ClientRequest request;
  request.group = routed->group;
  request.kind = node::OpKind::kApply;
  request.value = GroupCommandBytes(node::GroupCommandOp::kKv, kv::EncodeKvCommand(command),
                                    routed->catalog_version);
  loop_->Submit(std::move(request), [this, blocking = std::move(blocking),
                                     done](const node::ClientReply& reply) {
    absl::StatusOr<node::GroupResult> result = absl::UnknownError("no result");
    switch (Judge(reply, /*is_read=*/false, &result)) {
      case FastPathVerdict::kAnswer:
        if (!result.ok()) return done(result.status());
        if (absl::Status s = result->status(); !s.ok()) return done(s);
        return done(WriteOutcome{reply.index, result->ts});
      case FastPathVerdict::kOutcomeUnknown:
        return done(absl::UnavailableError(absl::StrCat("write outcome unknown: ", reply.detail)));
      case FastPathVerdict::kRetryBlocking:
        if (!fallback_->Run(blocking)) done(absl::UnavailableError("node overloaded"));
        return;
    }
  });
}

void Coordinator::RawGetAsync(std::string key, ReadDone done) {
  auto blocking = [this, key, done]() { done(RawGet(key, 0)); };
  absl::StatusOr<RoutedGroup> routed =
      key.empty() ? absl::InvalidArgumentError("key must not be empty") : GroupOf(key);
  if (!routed.ok() || !loop_->Hosts(routed->group)) {
    if (!fallback_->Run(blocking)) done(absl::UnavailableError("node overloaded"));
    return;
  }
  node::ClientRequest request;
  request.group = routed->group;
  request.kind = node::OpKind::kQuery;
  request.value = GroupQueryBytes(node::GroupQueryOp::kRawGet, key, routed->catalog_version);
  loop_->Submit(std::move(request),
                [this, blocking = std::move(blocking), done](const node::ClientReply& reply) {
                  absl::StatusOr<node::GroupResult> result = absl::UnknownError("no result");
                  switch (Judge(reply, /*is_read=*/true, &result)) {
                    case FastPathVerdict::kAnswer:
                      if (!result.ok()) return done(result.status());
                      if (!result->key_errors.empty())
                        return done(FirstKeyErrorStatus(result->key_errors));
                      if (absl::Status s = result->status(); !s.ok()) return done(s);
                      return done(ReadOutcome{reply.index, result->value});
                    case FastPathVerdict::kOutcomeUnknown:
                    case FastPathVerdict::kRetryBlocking:
                      if (!fallback_->Run(blocking))
                        done(absl::UnavailableError("node overloaded"));
                      return;
                  }
                });
}

}  // namespace ekv::runtime
