// A gRPC server interceptor that counts every answered call of the public services in a
// GrpcRequestCounters, so no service handler needs to know about metrics: the status a
// handler returns (or a callback reactor finishes with) is seen as it is sent.
#pragma once

#include <memory>

#include "adapters/grpc/request_counters.h"
#include "grpcpp/support/server_interceptor.h"

namespace ekv::adapters {

// `counters` must outlive the gRPC server the factory is installed in.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestCountingInterceptorFactory(GrpcRequestCounters* counters);

}  // namespace ekv::adapters
