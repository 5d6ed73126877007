#include "runtime/metrics/registry.h"

#include <utility>

#include "runtime/metrics/text_format.h"

namespace ekv::runtime::metrics {

void MetricRegistry::AddCollector(Collector collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

MetricSet MetricRegistry::Collect() const {
  std::vector<Collector> collectors;
  {
    // Copied so a slow collector never holds the lock another scrape or AddCollector waits on.
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
  }
  MetricSet metrics;
  for (const Collector& collector : collectors) collector(metrics);
  return metrics;
}

std::string MetricRegistry::RenderText() const { return metrics::RenderText(Collect()); }

}  // namespace ekv::runtime::metrics
