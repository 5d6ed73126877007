#include "runtime/metrics/latency_histogram.h"

#include <algorithm>
#include <utility>

#include "core/util/assert.h"

namespace ekv::runtime::metrics {

LatencyHistogram::LatencyHistogram() {
  for (std::atomic<uint64_t>& bucket : buckets_) bucket.store(0);
}

void LatencyHistogram::Observe(std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  // The first bound >= the observation (Prometheus buckets are "less than or equal").
  const auto bound =
      std::lower_bound(kLatencyBucketsSeconds.begin(), kLatencyBucketsSeconds.end(), seconds);
  // Relaxed: monotonic counters read by scrapes order nothing else.
  if (bound != kLatencyBucketsSeconds.end()) {
    buckets_[bound - kLatencyBucketsSeconds.begin()].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, elapsed.count())),
                       std::memory_order_relaxed);
}

HistogramSample LatencyHistogram::Sample() const {
  HistogramSample sample;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    sample.upper_bounds.push_back(kLatencyBucketsSeconds[i]);
    sample.cumulative_counts.push_back(cumulative);
  }
  // Read after the buckets: the count only grows, so it stays >= their sum.
  sample.count = std::max(cumulative, count_.load(std::memory_order_relaxed));
  sample.sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return sample;
}

RequestLatencies::RequestLatencies(std::string front_door, std::vector<std::string> commands)
    : front_door_(std::move(front_door)),
      commands_(std::move(commands)),
      histograms_(std::make_unique<LatencyHistogram[]>(commands_.size())) {
  for (size_t i = 0; i < commands_.size(); ++i) {
    EKV_ASSERT(index_.emplace(commands_[i], i).second, "command ", commands_[i], " twice");
  }
}

std::optional<size_t> RequestLatencies::CommandIndex(absl::string_view command) const {
  auto it = index_.find(command);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void RequestLatencies::Observe(size_t command, std::chrono::nanoseconds elapsed) {
  EKV_ASSERT(command < commands_.size(), "command slot ", command, " out of range");
  histograms_[command].Observe(elapsed);
}

HistogramSample RequestLatencies::Sample(size_t command) const {
  EKV_ASSERT(command < commands_.size(), "command slot ", command, " out of range");
  return histograms_[command].Sample();
}

void RequestLatencies::Collect(MetricSet& metrics) const {
  MetricFamily& family = metrics.Histogram(
      kRequestDurationName,
      "Time from a front door having a request to sending its answer, by front door and "
      "command.",
      {"front_door", "command"});
  for (size_t i = 0; i < commands_.size(); ++i) {
    family.SetHistogram({front_door_, commands_[i]}, histograms_[i].Sample());
  }
}

}  // namespace ekv::runtime::metrics
