// MetricFamily: one named metric (a counter, a gauge or a histogram) and its samples, one
// per set of label values, as collected for one scrape.
//
// Label names are fixed when the family is declared and every sample gives a value for
// each, in that order; samples are kept sorted by their label values. So the rendered text
// is a pure function of the values: the same state always renders byte for byte the same
// (golden-testable, and diffs between scrapes show only what changed).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ekv::runtime::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter" / "gauge" / "histogram", as the TYPE line spells them.
absl::string_view MetricTypeName(MetricType type);

// Prometheus data model: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* and must not start with "__" (reserved for Prometheus itself).
bool IsValidMetricName(absl::string_view name);
bool IsValidLabelName(absl::string_view name);

// One histogram series as Prometheus exposes it: cumulative counts of observations at or
// below each upper bound (ascending; the +Inf bucket is `count`), their sum and count.
struct HistogramSample {
  std::vector<double> upper_bounds;
  std::vector<uint64_t> cumulative_counts;  // one per upper bound, non-decreasing
  double sum = 0;
  uint64_t count = 0;  // >= the last cumulative count
  friend bool operator==(const HistogramSample&, const HistogramSample&) = default;
};

class MetricFamily {
 public:
  // Names come from our own code, never from input: an invalid one is a programming error
  // and asserts (the unit tests declare every family the server exports).
  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names);

  // Sets the sample for `label_values` (one per label name, in declaration order); a later
  // value for the same label values replaces the earlier one.
  void Set(std::vector<std::string> label_values, double value);
  // For families without labels.
  void Set(double value) { Set({}, value); }
  // Histogram families only (Set is for counters and gauges).
  void SetHistogram(std::vector<std::string> label_values, HistogramSample sample);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::map<std::vector<std::string>, double>& samples() const { return samples_; }
  const std::map<std::vector<std::string>, HistogramSample>& histograms() const {
    return histograms_;
  }

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::map<std::vector<std::string>, double> samples_;              // ordered: deterministic output
  std::map<std::vector<std::string>, HistogramSample> histograms_;  // likewise
};

}  // namespace ekv::runtime::metrics
