#include "adapters/grpc/cluster_service.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/status_mapping.h"

namespace ekv::adapters {
namespace {

proto::MemberRole ToProtoRole(runtime::MemberRole role) {
  switch (role) {
    case runtime::MemberRole::kVoter:
      return proto::MEMBER_ROLE_VOTER;
    case runtime::MemberRole::kLearner:
      return proto::MEMBER_ROLE_LEARNER;
    case runtime::MemberRole::kNone:
      break;
  }
  return proto::MEMBER_ROLE_NONE;
}

grpc::Status RequireNodeId(uint64_t node_id) {
  if (node_id == 0) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "node_id is required");
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ClusterService::DescribeNodes(
    google::protobuf::RepeatedPtrField<proto::ClusterNode>* nodes) {
  absl::StatusOr<node::MemberDirectory> directory = coordinator_->ReadMembers();
  if (!directory.ok()) return ToGrpcStatus(directory.status());
  for (const runtime::NodeView& view : coordinator_->DescribeNodes(*directory)) {
    proto::ClusterNode* out = nodes->Add();
    out->set_node_id(view.node);
    if (view.addresses.has_value()) {
      out->set_raft_address(view.addresses->raft_address);
      out->set_grpc_address(view.addresses->grpc_address);
      out->set_redis_address(view.addresses->redis_address);
      out->set_dynamo_address(view.addresses->dynamo_address);
      out->set_metrics_address(view.addresses->metrics_address);
    }
    for (const runtime::NodeView::Group& group : view.groups) {
      proto::GroupMembership* membership = out->add_groups();
      membership->set_raft_group_id(group.group);
      membership->set_role(ToProtoRole(group.role));
      membership->set_leader(group.leader);
    }
  }
  return grpc::Status::OK;
}

grpc::Status ClusterService::AddNode(grpc::ServerContext* context,
                                     const proto::AddNodeRequest* request,
                                     proto::AddNodeResponse* response) {
  if (require_node_certificate_ &&
      (context->auth_context() == nullptr || !context->auth_context()->IsPeerAuthenticated())) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "AddNode needs a node certificate signed by the cluster CA "
                        "(--tls_cert_file/--tls_key_file on the joining node)");
  }
  if (grpc::Status s = RequireNodeId(request->node_id()); !s.ok()) return s;
  if (request->raft_address().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "raft_address (where peers reach the new node) is required");
  }
  // A node started with --join says its data dir is empty (runtime/server/cluster_join.h);
  // an operator's AddNode does not, and readmits nothing.
  const bool empty_data_dir =
      context->client_metadata().count(runtime::kJoinEmptyDataDirMetadata) != 0;
  absl::Status added = coordinator_->AddNode(
      request->node_id(),
      {request->raft_address(), request->grpc_address(), request->redis_address(),
       request->dynamo_address(), request->metrics_address()},
      empty_data_dir);
  if (!added.ok()) return ToGrpcStatus(added);
  for (raft::GroupId group : coordinator_->JoinGroups()) response->add_raft_group_ids(group);
  if (grpc::Status s = DescribeNodes(response->mutable_nodes()); !s.ok()) return s;
  // The joining node dials only the Raft addresses named here until it applies the
  // catalog group's log, and it cannot apply that log unless it can answer the group's
  // leader. A member started with --peers records itself in the directory only once it
  // has caught up, so a node joining a cluster that has just started would find no address
  // for such a member, and if that member led the catalog group the join never finished
  // (its leader's messages arrived, the answers were dropped: "applied 0 of commit 0").
  // Such members are named with the address this node dials them at.
  std::map<raft::NodeId, std::string> known = coordinator_->PeerRaftAddresses();
  if (!self_raft_address_.empty()) known[coordinator_->node_id()] = self_raft_address_;
  for (proto::ClusterNode& node : *response->mutable_nodes()) {
    if (!node.raft_address().empty()) continue;
    if (auto it = known.find(node.node_id()); it != known.end()) {
      node.set_raft_address(it->second);
    }
  }
  return grpc::Status::OK;
}

grpc::Status ClusterService::PromoteNode(grpc::ServerContext*,
                                         const proto::PromoteNodeRequest* request,
                                         proto::PromoteNodeResponse* response) {
  if (grpc::Status s = RequireNodeId(request->node_id()); !s.ok()) return s;
  if (absl::Status s = coordinator_->PromoteNode(request->node_id()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  return DescribeNodes(response->mutable_nodes());
}

grpc::Status ClusterService::RemoveNode(grpc::ServerContext*,
                                        const proto::RemoveNodeRequest* request,
                                        proto::RemoveNodeResponse* response) {
  if (grpc::Status s = RequireNodeId(request->node_id()); !s.ok()) return s;
  if (absl::Status s = coordinator_->RemoveNode(request->node_id()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  return DescribeNodes(response->mutable_nodes());
}

grpc::Status ClusterService::ListNodes(grpc::ServerContext*, const proto::ListNodesRequest*,
                                       proto::ListNodesResponse* response) {
  return DescribeNodes(response->mutable_nodes());
}

}  // namespace ekv::adapters
