// absl::Status -> grpc::Status, with codes a client can act on.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace ekv::adapters {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace ekv::adapters
