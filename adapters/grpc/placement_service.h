// proto.Placement: shows and pauses/resumes this node's placement driver
// (runtime/server/placement_runner.h). A thin translation; no decision lives here.
#pragma once

#include "proto/placement.grpc.pb.h"
#include "runtime/server/placement_runner.h"

namespace ekv::adapters {

class PlacementService final : public proto::Placement::Service {
 public:
  // `placement` outlives the service.
  PlacementService(runtime::PlacementRunner* placement, raft::NodeId node)
      : placement_(placement), node_(node) {}
  grpc::Status GetPlacement(grpc::ServerContext*, const proto::GetPlacementRequest*,
                            proto::PlacementState*) override;
  grpc::Status SetPlacement(grpc::ServerContext*, const proto::SetPlacementRequest*,
                            proto::PlacementState*) override;

 private:
  void Fill(proto::PlacementState* state) const;
  runtime::PlacementRunner* placement_;
  raft::NodeId node_;
};

}  // namespace ekv::adapters
