#include "adapters/grpc/placement_service.h"

namespace ekv::adapters {

void PlacementService::Fill(proto::PlacementState* state) const {
  const coord::PlacementDriverStatus status = placement_->status();
  state->set_node_id(node_);
  state->set_paused(status.paused);
  state->set_leading(status.leading);
  state->set_busy(status.busy);
  state->set_rounds(status.rounds);
  state->set_splits_started(status.splits_started);
  state->set_splits_done(status.splits_done);
  state->set_moves_started(status.moves_started);
  state->set_moves_done(status.moves_done);
  state->set_moves_aborted(status.moves_aborted);
  state->set_intents_refused(status.intents_refused);
  state->set_move_unfinished(status.move_unfinished);
  state->set_last_decision(status.last_decision);
  state->set_last_error(status.last_error);
}

grpc::Status PlacementService::GetPlacement(grpc::ServerContext*, const proto::GetPlacementRequest*,
                                            proto::PlacementState* response) {
  Fill(response);
  return grpc::Status::OK;
}

grpc::Status PlacementService::SetPlacement(grpc::ServerContext*,
                                            const proto::SetPlacementRequest* request,
                                            proto::PlacementState* response) {
  placement_->SetPaused(request->paused());
  Fill(response);
  return grpc::Status::OK;
}

}  // namespace ekv::adapters
