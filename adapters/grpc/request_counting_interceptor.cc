#include "adapters/grpc/request_counting_interceptor.h"

#include <chrono>

namespace ekv::adapters {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RequestCountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  // Created by gRPC when the call arrives, before its handler runs: the latency's start.
  RequestCountingInterceptor(GrpcRequestCounters* counters, size_t method)
      : counters_(counters), method_(method), started_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      counters_->Count(method_, methods->GetSendStatus().error_code());
      counters_->ObserveLatency(method_, std::chrono::steady_clock::now() - started_);
    }
    methods->Proceed();
  }

 private:
  GrpcRequestCounters* counters_;
  size_t method_;
  std::chrono::steady_clock::time_point started_;
};

class RequestCountingInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestCountingInterceptorFactory(GrpcRequestCounters* counters) : counters_(counters) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    std::optional<size_t> method = counters_->MethodIndex(info->method());
    // nullptr: gRPC runs no interceptor for this call (reflection and other services).
    if (!method.has_value()) return nullptr;
    return new RequestCountingInterceptor(counters_, *method);
  }

 private:
  GrpcRequestCounters* counters_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestCountingInterceptorFactory(GrpcRequestCounters* counters) {
  return std::make_unique<RequestCountingInterceptorFactory>(counters);
}

}  // namespace ekv::adapters
