#include "adapters/grpc/request_counters.h"

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "google/protobuf/descriptor.h"
#include "proto/ekv.grpc.pb.h"

namespace ekv::adapters {
namespace {

// gRPC's canonical code names (grpc/doc/statuscodes.md), indexed by code.
constexpr const char* kCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

}  // namespace

GrpcRequestCounters::GrpcRequestCounters() {
  static_assert(sizeof(kCodeNames) / sizeof(kCodeNames[0]) == kCodes);
  for (const char* service_name :
       {proto::RawKV::service_full_name(), proto::TransactionalKV::service_full_name(),
        proto::Distribution::service_full_name()}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    EKV_ASSERT(service != nullptr, "no descriptor for gRPC service ", service_name);
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string& name = service->method(i)->name();
      index_by_path_[absl::StrCat("/", service_name, "/", name)] = methods_.size();
      methods_.push_back(Method{service_name, name});
    }
  }
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(methods_.size() * kCodes);
  std::vector<std::string> commands;  // in slot order, so a slot is also the histogram's
  for (const Method& method : methods_) {
    commands.push_back(absl::StrCat(method.service, "/", method.name));
  }
  latencies_ = std::make_unique<runtime::metrics::RequestLatencies>("grpc", std::move(commands));
  for (size_t i = 0; i < methods_.size() * kCodes; ++i) counts_[i].store(0);
}

std::optional<size_t> GrpcRequestCounters::MethodIndex(absl::string_view path) const {
  auto it = index_by_path_.find(path);
  if (it == index_by_path_.end()) return std::nullopt;
  return it->second;
}

size_t GrpcRequestCounters::CodeSlot(grpc::StatusCode code) {
  const auto slot = static_cast<size_t>(code);
  return slot < kCodes ? slot : static_cast<size_t>(grpc::StatusCode::UNKNOWN);
}

void GrpcRequestCounters::Count(size_t method, grpc::StatusCode code) {
  EKV_ASSERT(method < methods_.size(), "gRPC method slot ", method, " out of range");
  // Relaxed: a monotonic counter read by scrapes orders nothing else.
  counts_[method * kCodes + CodeSlot(code)].fetch_add(1, std::memory_order_relaxed);
}

void GrpcRequestCounters::ObserveLatency(size_t method, std::chrono::nanoseconds elapsed) {
  latencies_->Observe(method, elapsed);
}

uint64_t GrpcRequestCounters::Get(size_t method, grpc::StatusCode code) const {
  EKV_ASSERT(method < methods_.size(), "gRPC method slot ", method, " out of range");
  return counts_[method * kCodes + CodeSlot(code)].load(std::memory_order_relaxed);
}

void GrpcRequestCounters::Collect(runtime::metrics::MetricSet& metrics) const {
  runtime::metrics::MetricFamily& requests = metrics.Counter(
      "ekv_grpc_requests_total",
      "Requests answered by the public gRPC services, by method and gRPC status code.",
      {"service", "method", "code"});
  for (size_t m = 0; m < methods_.size(); ++m) {
    for (size_t code = 0; code < kCodes; ++code) {
      const uint64_t count = counts_[m * kCodes + code].load(std::memory_order_relaxed);
      if (count == 0 && code != 0) continue;
      requests.Set({methods_[m].service, methods_[m].name, kCodeNames[code]},
                   static_cast<double>(count));
    }
  }
  latencies_->Collect(metrics);
}

}  // namespace ekv::adapters
