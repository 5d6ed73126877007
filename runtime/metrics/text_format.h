// Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): per family a HELP line,
// a TYPE line, then one line per sample, `name{label="value",...} value`.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "runtime/metrics/metric_set.h"

namespace ekv::runtime::metrics {

// The Content-Type a scraper expects for this format.
inline constexpr char kTextFormatContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Families in name order; within a family, samples in label-value order; labels in their
// declared order. Deterministic for equal input.
std::string RenderText(const MetricSet& metrics);

// Label values escape backslash, double quote and line feed as \\, \" and \n.
std::string EscapeLabelValue(absl::string_view value);
// HELP text escapes backslash and line feed only (the format leaves quotes alone there).
std::string EscapeHelp(absl::string_view help);
// Integral values print without exponent or fraction (exact up to 2^53, as in Prometheus'
// own float64 model); non-finite ones as NaN, +Inf, -Inf.
std::string FormatValue(double value);

}  // namespace ekv::runtime::metrics
