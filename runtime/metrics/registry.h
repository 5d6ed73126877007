// MetricRegistry: the collectors a node's /metrics endpoint runs on every scrape.
//
// Metrics are pulled, not pushed: a collector reads a component's own counters and status
// (atomics, or a snapshot the component publishes) when someone scrapes, so nothing is
// added to a request's hot path beyond the component's own relaxed atomic increments.
// Thread-safe: scrapes may run concurrently with each other and with AddCollector.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/metrics/metric_set.h"

namespace ekv::runtime::metrics {

class MetricRegistry {
 public:
  // Runs on a scrape thread; must only read thread-safe state and must not block long.
  using Collector = std::function<void(MetricSet& metrics)>;

  void AddCollector(Collector collector);

  // Runs every collector, in the order added, into one set.
  MetricSet Collect() const;
  // Collect() rendered in the Prometheus text format (text_format.h).
  std::string RenderText() const;

 private:
  mutable std::mutex mu_;
  std::vector<Collector> collectors_;  // guarded by mu_
};

}  // namespace ekv::runtime::metrics
