// proto.Cluster (proto/cluster.proto): membership, translated to the coordinator's
// membership calls. No business rules live here.
#pragma once

#include "proto/cluster.grpc.pb.h"
#include "runtime/server/coordinator.h"

namespace ekv::adapters {

class ClusterService final : public proto::Cluster::Service {
 public:
  explicit ClusterService(runtime::Coordinator* coordinator) : coordinator_(coordinator) {}
  grpc::Status AddNode(grpc::ServerContext*, const proto::AddNodeRequest*,
                       proto::AddNodeResponse*) override;
  grpc::Status PromoteNode(grpc::ServerContext*, const proto::PromoteNodeRequest*,
                           proto::PromoteNodeResponse*) override;
  grpc::Status RemoveNode(grpc::ServerContext*, const proto::RemoveNodeRequest*,
                          proto::RemoveNodeResponse*) override;
  grpc::Status ListNodes(grpc::ServerContext*, const proto::ListNodesRequest*,
                         proto::ListNodesResponse*) override;

 private:
  // Fills `nodes` from the member directory and this node's view of every group.
  grpc::Status DescribeNodes(google::protobuf::RepeatedPtrField<proto::ClusterNode>* nodes);

  runtime::Coordinator* coordinator_;
};

}  // namespace ekv::adapters
