// Request latency histograms for the front doors (gRPC, Redis, DynamoDB), exported as
//   ekv_request_duration_seconds{front_door, command}   (Prometheus histogram)
// from the time a front door has a request until it sends the answer.
//
// LatencyHistogram: fixed buckets (kLatencyBucketsSeconds, 0.5 ms .. 10 s), one relaxed
// atomic increment per bucket hit plus the count and the sum (in nanoseconds): no lock, no
// allocation per observation. RequestLatencies: one histogram per command of a front
// door, the command table fixed at construction (like GrpcRequestCounters), so the
// request path finds its histogram by index.
#pragma once

#include <array>
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
#include "runtime/metrics/metric_family.h"
#include "runtime/metrics/metric_set.h"

namespace ekv::runtime::metrics {

inline constexpr std::array<double, 14> kLatencyBucketsSeconds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

inline constexpr char kRequestDurationName[] = "ekv_request_duration_seconds";

class LatencyHistogram {
 public:
  LatencyHistogram();
  void Observe(std::chrono::nanoseconds elapsed);
  // Consistent enough for monitoring: each field is read atomically, not all at once.
  HistogramSample Sample() const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBucketsSeconds.size()> buckets_;  // not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
};

class RequestLatencies {
 public:
  // `front_door`: "grpc", "redis", "dynamo"; `commands`: every command it serves.
  RequestLatencies(std::string front_door, std::vector<std::string> commands);

  std::optional<size_t> CommandIndex(absl::string_view command) const;
  void Observe(size_t command, std::chrono::nanoseconds elapsed);
  HistogramSample Sample(size_t command) const;

  // ekv_request_duration_seconds{front_door, command}: every command, zeros included.
  void Collect(MetricSet& metrics) const;

 private:
  std::string front_door_;
  std::vector<std::string> commands_;
  absl::flat_hash_map<std::string, size_t> index_;  // lookups only, never iterated
  std::unique_ptr<LatencyHistogram[]> histograms_;
};

}  // namespace ekv::runtime::metrics
