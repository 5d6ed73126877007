// proto.Cluster (proto/cluster.proto): membership, translated to the coordinator's
// membership calls. No business rules live here.
#pragma once

#include <string>
#include <utility>

#include "proto/cluster.grpc.pb.h"
#include "runtime/server/coordinator.h"

namespace ekv::adapters {

class ClusterService final : public proto::Cluster::Service {
 public:
  // `require_node_certificate` (mutual TLS between nodes, runtime/transport/peer_tls.h):
  // AddNode answers UNAUTHENTICATED unless the caller presented a certificate the cluster
  // CA signed (the public port verifies one when it is offered).
  // `self_raft_address`: where peers reach this node (its advertised --raft_address), for
  // the AddNode answer while this node has not recorded it in the directory yet.
  explicit ClusterService(runtime::Coordinator* coordinator, bool require_node_certificate = false,
                          std::string self_raft_address = "")
      : coordinator_(coordinator),
        require_node_certificate_(require_node_certificate),
        self_raft_address_(std::move(self_raft_address)) {}
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
  const bool require_node_certificate_;
  const std::string self_raft_address_;
};

}  // namespace ekv::adapters
