#include "adapters/grpc/services.h"

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/status_mapping.h"
#include "core/node/route_load.h"
#include "core/util/assert.h"

namespace ekv::adapters {
namespace {

void ToProtoRoute(const route::RouteDescriptor& route, proto::RouteDescriptor* out) {
  out->set_route_id(route.route_id);
  out->set_start(route.start);
  out->set_end(route.end);
  out->set_raft_group_id(route.raft_group_id);
  out->set_state(static_cast<proto::RouteState>(route.state));
  out->set_parent_route_id(route.parent_route_id);
}

void ToProtoKeyError(const runtime::KeyErrorOutcome& error, proto::KeyError* out) {
  out->set_message(error.key.empty() ? error.message
                                     : absl::StrCat(error.message, " (key ", error.key, ")"));
  out->set_retryable(error.retryable);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// RawKV

namespace {

grpc::Status TooManyInFlight(int64_t max_inflight) {
  return grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED,
      absl::StrCat("node overloaded: ", max_inflight,
                   " requests in flight (--grpc_max_inflight); retry with backoff"));
}

}  // namespace

bool RawKvService::TryAcquire() {
  if (max_inflight_ == 0) {
    inflight_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  int64_t now = inflight_.load(std::memory_order_relaxed);
  do {
    if (now >= max_inflight_) return false;
  } while (!inflight_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
  return true;
}

grpc::ServerUnaryReactor* RawKvService::RawPut(grpc::CallbackServerContext* context,
                                               const proto::RawPutRequest* request,
                                               proto::RawPutResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!TryAcquire()) {
    reactor->Finish(TooManyInFlight(max_inflight_));
    return reactor;
  }
  coordinator_->RawPutAsync(request->key(), request->value(),
                            [this, reactor, response](absl::StatusOr<runtime::WriteOutcome> done) {
                              Release();
                              if (!done.ok()) return reactor->Finish(ToGrpcStatus(done.status()));
                              response->set_commit_index(done->index);
                              response->set_success(true);
                              reactor->Finish(grpc::Status::OK);
                            });
  return reactor;
}

grpc::ServerUnaryReactor* RawKvService::RawGet(grpc::CallbackServerContext* context,
                                               const proto::RawGetRequest* request,
                                               proto::RawGetResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!TryAcquire()) {
    reactor->Finish(TooManyInFlight(max_inflight_));
    return reactor;
  }
  auto finish = [this, reactor, response](absl::StatusOr<runtime::ReadOutcome> done) {
    Release();
    if (!done.ok()) return reactor->Finish(ToGrpcStatus(done.status()));
    response->set_read_at_index(done->index);
    response->set_exists(done->value.has_value());
    if (done->value.has_value()) response->set_value(*done->value);
    reactor->Finish(grpc::Status::OK);
  };
  if (request->ts() == 0) {
    coordinator_->RawGetAsync(request->key(), std::move(finish));
    return reactor;
  }
  // A snapshot read at an explicit timestamp takes the blocking path, off this thread.
  std::string key = request->key();
  const uint64_t ts = request->ts();
  runtime::Coordinator* coordinator = coordinator_;
  if (!coordinator_->RunInBackground(
          [coordinator, key, ts, finish]() { finish(coordinator->RawGet(key, ts)); })) {
    Release();
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "node overloaded"));
  }
  return reactor;
}

grpc::Status RawKvService::RawDelete(grpc::ServerContext*, const proto::RawDeleteRequest* request,
                                     proto::RawDeleteResponse* response) {
  absl::StatusOr<runtime::WriteOutcome> done = coordinator_->RawDelete(request->key());
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_commit_index(done->index);
  response->set_success(true);
  return grpc::Status::OK;
}

grpc::Status RawKvService::RawLatestCommitTS(grpc::ServerContext*,
                                             const proto::RawLatestCommitTSRequest* request,
                                             proto::RawLatestCommitTSResponse* response) {
  absl::StatusOr<std::optional<uint64_t>> done = coordinator_->RawLatestCommitTs(request->key());
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_exists(done->has_value());
  if (done->has_value()) response->set_ts(**done);
  return grpc::Status::OK;
}

grpc::Status RawKvService::RawScanAt(grpc::ServerContext*, const proto::RawScanAtRequest* request,
                                     proto::RawScanAtResponse* response) {
  auto done = coordinator_->RawScan(request->start_key(), request->end_key(), request->limit(),
                                    request->ts());
  if (!done.ok()) return ToGrpcStatus(done.status());
  for (auto& [key, value] : *done) {
    proto::RawKVPair* pair = response->add_kv();
    pair->set_key(key);
    pair->set_value(value);
  }
  return grpc::Status::OK;
}

// ---------------------------------------------------------------------------------------
// TransactionalKV

grpc::Status TransactionalKvService::Put(grpc::ServerContext*, const proto::PutRequest* request,
                                         proto::PutResponse* response) {
  absl::StatusOr<runtime::WriteOutcome> done =
      coordinator_->TxnPut(request->key(), request->value());
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_commit_index(done->index);
  response->set_success(true);
  return grpc::Status::OK;
}

grpc::Status TransactionalKvService::Get(grpc::ServerContext*, const proto::GetRequest* request,
                                         proto::GetResponse* response) {
  absl::StatusOr<runtime::ReadOutcome> done = coordinator_->TxnGet(request->key());
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_read_at_index(done->index);
  if (done->value.has_value()) response->set_value(*done->value);
  return grpc::Status::OK;
}

grpc::Status TransactionalKvService::Delete(grpc::ServerContext*,
                                            const proto::DeleteRequest* request,
                                            proto::DeleteResponse* response) {
  absl::StatusOr<runtime::WriteOutcome> done = coordinator_->TxnPut(request->key(), std::nullopt);
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_commit_index(done->index);
  response->set_success(true);
  return grpc::Status::OK;
}

grpc::Status TransactionalKvService::Scan(grpc::ServerContext*, const proto::ScanRequest* request,
                                          proto::ScanResponse* response) {
  auto done = coordinator_->TxnScan(request->start_key(), request->end_key(), request->limit());
  if (!done.ok()) return ToGrpcStatus(done.status());
  for (auto& [key, value] : *done) {
    proto::Kv* kv = response->add_kv();
    kv->set_key(key);
    kv->set_value(value);
  }
  return grpc::Status::OK;
}

grpc::Status TransactionalKvService::PreWrite(grpc::ServerContext*,
                                              const proto::PreWriteRequest* request,
                                              proto::PreCommitResponse* response) {
  std::vector<std::pair<std::string, std::string>> mutations;
  for (const proto::Kv& kv : request->mutations()) mutations.emplace_back(kv.key(), kv.value());
  absl::StatusOr<runtime::TxnOutcome> done =
      coordinator_->Prewrite(std::move(mutations), request->start_ts(), request->lock_ttl());
  if (!done.ok()) return ToGrpcStatus(done.status());
  for (const runtime::KeyErrorOutcome& error : done->errors) {
    ToProtoKeyError(error, response->add_errors());
  }
  return grpc::Status::OK;
}

grpc::Status TransactionalKvService::Commit(grpc::ServerContext*,
                                            const proto::CommitRequest* request,
                                            proto::CommitResponse* response) {
  std::vector<std::string> keys(request->keys().begin(), request->keys().end());
  absl::StatusOr<runtime::TxnOutcome> done =
      coordinator_->Commit(request->start_ts(), std::move(keys));
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_commit_index(done->index);
  response->set_success(done->errors.empty());
  for (const runtime::KeyErrorOutcome& error : done->errors) {
    ToProtoKeyError(error, response->add_errors());
  }
  return grpc::Status::OK;
}

grpc::Status TransactionalKvService::Rollback(grpc::ServerContext*,
                                              const proto::RollbackRequest* request,
                                              proto::RollbackResponse* response) {
  absl::StatusOr<bool> done = coordinator_->Rollback(request->start_ts());
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_success(*done);
  return grpc::Status::OK;
}

// ---------------------------------------------------------------------------------------
// Distribution

grpc::Status DistributionService::GetRoute(grpc::ServerContext*,
                                           const proto::GetRouteRequest* request,
                                           proto::GetRouteResponse* response) {
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  const route::RouteDescriptor* route = catalog->RouteForKey(request->key());
  if (route == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no route for key");
  response->set_start(route->start);
  response->set_end(route->end);
  response->set_raft_group_id(route->raft_group_id);
  return grpc::Status::OK;
}

grpc::Status DistributionService::GetTimestamp(grpc::ServerContext*,
                                               const proto::GetTimestampRequest*,
                                               proto::GetTimestampResponse* response) {
  absl::StatusOr<uint64_t> ts = coordinator_->GetTimestamp();
  if (!ts.ok()) return ToGrpcStatus(ts.status());
  response->set_timestamp(*ts);
  return grpc::Status::OK;
}

grpc::Status DistributionService::ListRoutes(grpc::ServerContext*, const proto::ListRoutesRequest*,
                                             proto::ListRoutesResponse* response) {
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  response->set_catalog_version(catalog->version());
  for (const route::RouteDescriptor& route : catalog->ListRoutes()) {
    ToProtoRoute(route, response->add_routes());
  }
  return grpc::Status::OK;
}

grpc::Status DistributionService::SplitRange(grpc::ServerContext*,
                                             const proto::SplitRangeRequest* request,
                                             proto::SplitRangeResponse* response) {
  absl::StatusOr<route::SplitResult> done = coordinator_->SplitRange(
      request->expected_catalog_version(), request->route_id(), request->split_key());
  if (!done.ok()) return ToGrpcStatus(done.status());
  response->set_catalog_version(done->catalog_version);
  ToProtoRoute(done->left, response->mutable_left());
  ToProtoRoute(done->right, response->mutable_right());
  return grpc::Status::OK;
}

grpc::Status DistributionService::MoveRange(grpc::ServerContext* context,
                                            const proto::MoveRangeRequest* request,
                                            proto::MoveRangeResponse* response) {
  if (request->route_id() == 0 || request->target_raft_group_id() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "MoveRange needs route_id and target_raft_group_id (both >= 1)");
  }
  coord::MoveRangeSpec spec;
  spec.route_id = request->route_id();
  spec.expected_catalog_version = request->expected_catalog_version();
  spec.target_group = request->target_raft_group_id();
  spec.source_group = request->source_raft_group_id();
  spec.timeout_us = request->timeout_ms() * 1000;
  auto answer = std::make_shared<std::promise<coord::OpResult>>();
  std::future<coord::OpResult> future = answer->get_future();
  coordinator_->RunAsync(
      [spec = std::move(spec)](coord::Coordinator& c) { return c.StartMoveRange(spec); },
      [answer](coord::OpResult result) { answer->set_value(std::move(result)); });
  // The core answers every move within its own deadlines (or the node's shutdown does);
  // the caller's cancellation is the only other way out.
  while (future.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
    if (context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "the caller gave up; the move goes on (ListRoutes shows where it is, "
                          "MoveRange again resumes or confirms it)");
    }
  }
  coord::OpResult result = future.get();
  if (!result.status.ok()) {
    if (!result.move.has_value()) return ToGrpcStatus(result.status);
    const coord::MoveRangeResult& move = *result.move;
    return ToGrpcStatus(absl::Status(
        result.status.code(), absl::StrCat(result.status.message(), " [route ", move.route_id,
                                           " group ", move.source_group, " -> ", move.target_group,
                                           move.aborted    ? ", rolled back"
                                           : move.cut_over ? ", cut over"
                                                           : "",
                                           "]")));
  }
  EKV_ASSERT(result.move.has_value(), "a move answered without its result");
  const coord::MoveRangeResult& move = *result.move;
  response->set_catalog_version(move.catalog_version);
  response->set_source_raft_group_id(move.source_group);
  response->set_copy_passes(move.copy_passes);
  response->set_records_copied(move.records_copied);
  response->set_write_fence_us(move.fence_us);
  // The route as it stands now: the move's answer names it by id.
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  const route::RouteDescriptor* route = catalog->FindRoute(move.route_id);
  if (route != nullptr) {
    ToProtoRoute(*route, response->mutable_route());
    response->set_catalog_version(catalog->version());
  }
  return grpc::Status::OK;
}

grpc::Status DistributionService::MergeRange(grpc::ServerContext* context,
                                             const proto::MergeRangeRequest* request,
                                             proto::MergeRangeResponse* response) {
  if (request->route_id() == 0 && request->key().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "MergeRange needs route_id (>= 1) or a key of the left route");
  }
  coord::MergeRangeSpec spec;
  spec.route_id = request->route_id();
  if (spec.route_id == 0) spec.key = request->key();
  spec.right_route_id = request->right_route_id();
  spec.expected_catalog_version = request->expected_catalog_version();
  spec.move_if_needed = request->move_if_needed();
  spec.move_timeout_us = request->move_timeout_ms() * 1000;
  auto answer = std::make_shared<std::promise<coord::OpResult>>();
  std::future<coord::OpResult> future = answer->get_future();
  coordinator_->RunAsync(
      [spec = std::move(spec)](coord::Coordinator& c) { return c.StartMergeRange(spec); },
      [answer](coord::OpResult result) { answer->set_value(std::move(result)); });
  // The core answers within its own deadlines (a move's, when it runs one first).
  while (future.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
    if (context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "the caller gave up; a merge's move goes on (ListRoutes shows where it "
                          "is, MoveRange resumes it, MergeRange again merges)");
    }
  }
  coord::OpResult result = future.get();
  if (!result.status.ok()) return ToGrpcStatus(result.status);
  EKV_ASSERT(result.merge.has_value(), "a merge answered without its result");
  const coord::MergeRangeResult& merge = *result.merge;
  response->set_catalog_version(merge.catalog_version);
  ToProtoRoute(merge.merged, response->mutable_merged());
  response->set_left_route_id(merge.left_route_id);
  response->set_right_route_id(merge.right_route_id);
  response->set_moved(merge.moved);
  return grpc::Status::OK;
}

namespace {

// A created group as the catalog lists it, with what this node sees of it.
void ToProtoGroup(const route::GroupDescriptor& group, const route::RouteCatalog& catalog,
                  raft::NodeId leader, proto::RaftGroupInfo* out) {
  out->set_raft_group_id(group.group_id);
  for (uint64_t voter : group.voters) out->add_voters(voter);
  for (uint64_t replica : group.Replicas()) out->add_replicas(replica);
  out->set_created(true);
  out->set_leader(leader);
  uint64_t routes = 0;
  catalog.ForEachRoute([&](const route::RouteDescriptor& route) {
    if (route.raft_group_id == group.group_id) ++routes;
  });
  out->set_route_count(routes);
}

}  // namespace

grpc::Status DistributionService::CreateGroup(grpc::ServerContext*,
                                              const proto::CreateGroupRequest* request,
                                              proto::CreateGroupResponse* response) {
  coord::CreateGroupSpec spec;
  spec.voters.assign(request->voters().begin(), request->voters().end());
  spec.replicas = request->replicas() == 0 ? 3 : request->replicas();
  coord::OpResult result = coordinator_->RunBlocking(
      [spec = std::move(spec)](coord::Coordinator& c) { return c.StartCreateGroup(spec); });
  if (!result.status.ok()) return ToGrpcStatus(result.status);
  EKV_ASSERT(result.group.has_value(), "CreateGroup answered without the group");
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  response->set_catalog_version(catalog->version());
  ToProtoGroup(*result.group, *catalog, coordinator_->LeaderOf(result.group->group_id),
               response->mutable_group());
  return grpc::Status::OK;
}

grpc::Status DistributionService::RetireGroup(grpc::ServerContext*,
                                              const proto::RetireGroupRequest* request,
                                              proto::RetireGroupResponse* response) {
  if (request->raft_group_id() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "RetireGroup needs raft_group_id (the id of a created group)");
  }
  const raft::GroupId group = request->raft_group_id();
  coord::OpResult result = coordinator_->RunBlocking(
      [group](coord::Coordinator& c) { return c.StartRetireGroup(group); });
  if (!result.status.ok()) return ToGrpcStatus(result.status);
  EKV_ASSERT(result.group.has_value(), "RetireGroup answered without the group");
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  response->set_catalog_version(catalog->version());
  // The record as it was before its retirement erased it from the catalog.
  ToProtoGroup(*result.group, *catalog, raft::kNoNode, response->mutable_group());
  response->mutable_group()->set_retired(true);
  return grpc::Status::OK;
}

grpc::Status DistributionService::ListGroups(grpc::ServerContext*,
                                             const proto::ListGroupsRequest* request,
                                             proto::ListGroupsResponse* response) {
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  response->set_catalog_version(catalog->version());
  response->set_first_created_group_id(catalog->created_group_ids().first);
  response->set_last_created_group_id(catalog->created_group_ids().last);
  for (const auto& [group, status] : coordinator_->HostedGroupStatuses()) {
    // Created: listed below if live; a retired one this node has not dropped yet is not.
    if (catalog->created_group_ids().Contains(group)) continue;
    proto::RaftGroupInfo* out = response->add_groups();
    out->set_raft_group_id(group);
    for (raft::NodeId voter : status.conf_state.voters) {
      out->add_voters(voter);
      out->add_replicas(voter);
    }
    out->set_leader(status.leader);
    uint64_t routes = 0;
    catalog->ForEachRoute([&](const route::RouteDescriptor& route) {
      if (route.raft_group_id == group) ++routes;
    });
    out->set_route_count(routes);
  }
  for (const auto& [id, group] : catalog->groups()) {
    ToProtoGroup(group, *catalog, coordinator_->LeaderOf(id), response->add_groups());
  }
  if (request->with_load()) {
    // All groups are asked at once: a group without a leader costs the call its timeout
    // once, not once per such group after every group before it.
    std::vector<proto::RaftGroupInfo*> live;
    std::vector<runtime::Coordinator::CoreStart> queries;
    for (proto::RaftGroupInfo& group : *response->mutable_groups()) {
      live.push_back(&group);
      queries.push_back([id = group.raft_group_id()](coord::Coordinator& c) {
        node::GroupQuery query;
        query.op = node::GroupQueryOp::kRouteLoads;
        return c.StartGroupQuery(id, std::move(query));
      });
    }
    std::vector<coord::OpResult> results = coordinator_->RunAllBlocking(std::move(queries));
    for (size_t i = 0; i < live.size(); ++i) AddGroupLoad(live[i], results[i]);
  }
  return grpc::Status::OK;
}

void DistributionService::AddGroupLoad(proto::RaftGroupInfo* group, const coord::OpResult& result) {
  if (!result.status.ok() || !result.group_result.status().ok()) {
    group->set_load_error(
        (result.status.ok() ? result.group_result.status() : result.status).ToString());
    return;
  }
  absl::StatusOr<std::vector<node::RouteLoadReport>> reports =
      node::DecodeRouteLoadReports(result.group_result.blob);
  if (!reports.ok()) {
    group->set_load_error(reports.status().ToString());
    return;
  }
  proto::GroupLoad* load = group->mutable_load();
  for (const node::RouteLoadReport& report : *reports) {
    load->set_reads(load->reads() + report.load.reads);
    load->set_writes(load->writes() + report.load.writes);
    load->set_read_bytes(load->read_bytes() + report.load.read_bytes);
    load->set_write_bytes(load->write_bytes() + report.load.write_bytes);
  }
}

namespace {

// Runs a long core operation (a replica move, a drain) and waits for its answer, which
// comes within the operation's own deadlines; the caller's cancellation is the only other
// way out (the operation goes on).
std::optional<coord::OpResult> RunLong(runtime::Coordinator* coordinator,
                                       grpc::ServerContext* context,
                                       std::function<coord::OpId(coord::Coordinator&)> start) {
  auto answer = std::make_shared<std::promise<coord::OpResult>>();
  std::future<coord::OpResult> future = answer->get_future();
  coordinator->RunAsync(std::move(start),
                        [answer](coord::OpResult result) { answer->set_value(std::move(result)); });
  while (future.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
    if (context->IsCancelled()) return std::nullopt;
  }
  return future.get();
}

}  // namespace

grpc::Status DistributionService::MoveReplica(grpc::ServerContext* context,
                                              const proto::MoveReplicaRequest* request,
                                              proto::MoveReplicaResponse* response) {
  if (request->raft_group_id() == 0 || request->from_node_id() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "MoveReplica needs raft_group_id and from_node_id (both >= 1)");
  }
  coord::MoveReplicaSpec spec;
  spec.group = request->raft_group_id();
  spec.from = request->from_node_id();
  spec.to = request->to_node_id();
  spec.timeout_us = request->timeout_ms() * 1000;
  std::optional<coord::OpResult> result = RunLong(
      coordinator_, context, [spec](coord::Coordinator& c) { return c.StartMoveReplica(spec); });
  if (!result.has_value()) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the caller gave up; the move goes on (ListGroups shows where it is, "
                        "MoveReplica again resumes or confirms it)");
  }
  if (!result->status.ok()) return ToGrpcStatus(result->status);
  EKV_ASSERT(result->group.has_value(), "MoveReplica answered without the group");
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  response->set_catalog_version(catalog->version());
  const route::GroupDescriptor* now = catalog->FindGroup(result->group->group_id);
  ToProtoGroup(now != nullptr ? *now : *result->group, *catalog,
               coordinator_->LeaderOf(result->group->group_id), response->mutable_group());
  return grpc::Status::OK;
}

grpc::Status DistributionService::DrainNode(grpc::ServerContext* context,
                                            const proto::DrainNodeRequest* request,
                                            proto::DrainNodeResponse* response) {
  if (request->node_id() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "DrainNode needs node_id (>= 1)");
  }
  const raft::NodeId node = request->node_id();
  const uint64_t timeout_us = request->timeout_ms() * 1000;
  std::optional<coord::OpResult> result = RunLong(
      coordinator_, context,
      [node, timeout_us](coord::Coordinator& c) { return c.StartDrainNode(node, timeout_us); });
  if (!result.has_value()) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the caller gave up; the drain goes on with the replica it was moving "
                        "(DrainNode again finishes it)");
  }
  if (!result->status.ok()) return ToGrpcStatus(result->status);
  absl::StatusOr<route::RouteCatalog> catalog = coordinator_->ReadCatalog();
  if (!catalog.ok()) return ToGrpcStatus(catalog.status());
  response->set_catalog_version(catalog->version());
  for (const route::GroupDescriptor& group : result->groups) {
    const route::GroupDescriptor* now = catalog->FindGroup(group.group_id);
    ToProtoGroup(now != nullptr ? *now : group, *catalog, coordinator_->LeaderOf(group.group_id),
                 response->add_groups());
  }
  return grpc::Status::OK;
}

}  // namespace ekv::adapters
