// MetricFamily: one named metric (a counter or a gauge) and its samples, one per set of
// label values, as collected for one scrape.
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

enum class MetricType { kCounter, kGauge };

// "counter" / "gauge", as the TYPE line spells them.
absl::string_view MetricTypeName(MetricType type);

// Prometheus data model: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* and must not start with "__" (reserved for Prometheus itself).
bool IsValidMetricName(absl::string_view name);
bool IsValidLabelName(absl::string_view name);

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

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::map<std::vector<std::string>, double>& samples() const { return samples_; }

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::map<std::vector<std::string>, double> samples_;  // ordered: deterministic output
};

}  // namespace ekv::runtime::metrics
