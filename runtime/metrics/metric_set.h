// MetricSet: the families collected for one scrape, by name. Collectors declare a family
// (or get the one another collector declared with the same name, type and labels) and set
// its samples; text_format.h renders the set.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/metrics/metric_family.h"

namespace ekv::runtime::metrics {

class MetricSet {
 public:
  // The family `name`, created on first use. Declaring one name twice with a different
  // type or label names is a programming error and asserts. The reference stays valid
  // while the set lives.
  MetricFamily& Counter(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names = {});
  MetricFamily& Gauge(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names = {});
  MetricFamily& Histogram(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});

  // Families in name order.
  const std::map<std::string, MetricFamily>& families() const { return families_; }

 private:
  MetricFamily& Declare(const std::string& name, const std::string& help, MetricType type,
                        std::vector<std::string> label_names);

  std::map<std::string, MetricFamily> families_;
};

}  // namespace ekv::runtime::metrics
