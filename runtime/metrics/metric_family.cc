#include "runtime/metrics/metric_family.h"

#include <utility>

#include "absl/strings/match.h"
#include "core/util/assert.h"

namespace ekv::runtime::metrics {
namespace {

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool IsNameChar(char c, bool allow_colon) {
  return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

bool IsValidName(absl::string_view name, bool allow_colon) {
  if (name.empty() || !IsNameStart(name[0], allow_colon)) return false;
  for (char c : name) {
    if (!IsNameChar(c, allow_colon)) return false;
  }
  return true;
}

}  // namespace

absl::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  EKV_UNREACHABLE("unknown MetricType ", static_cast<int>(type));
}

bool IsValidMetricName(absl::string_view name) { return IsValidName(name, /*allow_colon=*/true); }

bool IsValidLabelName(absl::string_view name) {
  return IsValidName(name, /*allow_colon=*/false) && !absl::StartsWith(name, "__");
}

MetricFamily::MetricFamily(std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {
  EKV_ASSERT(IsValidMetricName(name_), "invalid Prometheus metric name '", name_, "'");
  for (size_t i = 0; i < label_names_.size(); ++i) {
    EKV_ASSERT(IsValidLabelName(label_names_[i]), "metric ", name_, ": invalid label name '",
               label_names_[i], "'");
    for (size_t j = 0; j < i; ++j) {
      EKV_ASSERT(label_names_[i] != label_names_[j], "metric ", name_, ": label '", label_names_[i],
                 "' declared twice");
    }
  }
}

void MetricFamily::Set(std::vector<std::string> label_values, double value) {
  EKV_ASSERT(type_ != MetricType::kHistogram, "metric ", name_, " is a histogram: SetHistogram");
  EKV_ASSERT(label_values.size() == label_names_.size(), "metric ", name_, " has ",
             label_names_.size(), " labels but a sample gave ", label_values.size(), " values");
  samples_[std::move(label_values)] = value;
}

void MetricFamily::SetHistogram(std::vector<std::string> label_values, HistogramSample sample) {
  EKV_ASSERT(type_ == MetricType::kHistogram, "metric ", name_, " is not a histogram");
  EKV_ASSERT(label_values.size() == label_names_.size(), "metric ", name_, " has ",
             label_names_.size(), " labels but a sample gave ", label_values.size(), " values");
  EKV_ASSERT(sample.upper_bounds.size() == sample.cumulative_counts.size(), "metric ", name_,
             ": one cumulative count per bucket bound");
  for (size_t i = 0; i < sample.upper_bounds.size(); ++i) {
    EKV_ASSERT(i == 0 || (sample.upper_bounds[i - 1] < sample.upper_bounds[i] &&
                          sample.cumulative_counts[i - 1] <= sample.cumulative_counts[i]),
               "metric ", name_, ": bucket bounds ascend and counts are cumulative");
  }
  EKV_ASSERT(sample.cumulative_counts.empty() || sample.cumulative_counts.back() <= sample.count,
             "metric ", name_, ": the +Inf bucket holds every observation");
  for (const std::string& label : label_names_) {
    EKV_ASSERT(label != "le", "metric ", name_, ": 'le' is the histogram's own bucket label");
  }
  histograms_[std::move(label_values)] = std::move(sample);
}

}  // namespace ekv::runtime::metrics
