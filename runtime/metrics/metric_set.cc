#include "runtime/metrics/metric_set.h"

#include <utility>

#include "core/util/assert.h"

namespace ekv::runtime::metrics {

MetricFamily& MetricSet::Counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  return Declare(name, help, MetricType::kCounter, std::move(label_names));
}

MetricFamily& MetricSet::Gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  return Declare(name, help, MetricType::kGauge, std::move(label_names));
}

MetricFamily& MetricSet::Histogram(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return Declare(name, help, MetricType::kHistogram, std::move(label_names));
}

MetricFamily& MetricSet::Declare(const std::string& name, const std::string& help, MetricType type,
                                 std::vector<std::string> label_names) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    return families_.try_emplace(name, name, help, type, std::move(label_names)).first->second;
  }
  // One name, one meaning: Prometheus rejects a family whose samples disagree on labels.
  EKV_ASSERT(it->second.type() == type, "metric ", name, " declared as both ",
             MetricTypeName(it->second.type()), " and ", MetricTypeName(type));
  EKV_ASSERT(it->second.label_names() == label_names, "metric ", name,
             " declared twice with different label names");
  return it->second;
}

}  // namespace ekv::runtime::metrics
