// GrpcRequestCounters: requests answered by the public gRPC services (proto.RawKV,
// proto.TransactionalKV, proto.Distribution), by method and gRPC status code, for the
// node's metrics (ekv_grpc_requests_total). Counting is one relaxed atomic increment in a
// table fixed at construction: no lock and no allocation on the request path.
// request_counting_interceptor.h feeds it from every call, with the call's latency
// (ekv_request_duration_seconds{front_door="grpc", command="proto.RawKV/RawPut"}).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "runtime/metrics/latency_histogram.h"
#include "runtime/metrics/metric_set.h"

namespace ekv::adapters {

class GrpcRequestCounters {
 public:
  // One slot per method of the three services, read from their protobuf descriptors, so a
  // method added to the .proto is counted without touching this file.
  GrpcRequestCounters();

  // The slot of gRPC's method path ("/proto.RawKV/RawPut"); nullopt for other services
  // (server reflection), which are not counted.
  std::optional<size_t> MethodIndex(absl::string_view path) const;
  void Count(size_t method, grpc::StatusCode code);
  // From the call's start to its status being sent.
  void ObserveLatency(size_t method, std::chrono::nanoseconds elapsed);
  const runtime::metrics::RequestLatencies& latencies() const { return *latencies_; }
  uint64_t Get(size_t method, grpc::StatusCode code) const;

  // ekv_grpc_requests_total{service, method, code}: every method's OK count (zeros
  // included, so rates exist from the first scrape) and each other code once seen; and
  // the latency histograms.
  void Collect(runtime::metrics::MetricSet& metrics) const;

 private:
  // grpc::StatusCode runs from OK (0) to UNAUTHENTICATED (16); anything else counts as
  // UNKNOWN.
  static constexpr size_t kCodes = 17;
  static size_t CodeSlot(grpc::StatusCode code);

  struct Method {
    std::string service;  // "proto.RawKV"
    std::string name;     // "RawPut"
  };
  std::vector<Method> methods_;
  absl::flat_hash_map<std::string, size_t> index_by_path_;         // lookups only, never iterated
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;                // [method * kCodes + code]
  std::unique_ptr<runtime::metrics::RequestLatencies> latencies_;  // by method slot
};

}  // namespace ekv::adapters
