#include "runtime/metrics/text_format.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ekv::runtime::metrics {
namespace {

std::string Escape(absl::string_view text, bool escape_quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        out += escape_quote ? "\\\"" : "\"";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) { return Escape(value, true); }

std::string EscapeHelp(absl::string_view help) { return Escape(help, false); }

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // 2^53: beyond it not every integer is a double, and %.17g is exact anyway.
  constexpr double kExactIntegers = 9007199254740992.0;
  if (value == std::trunc(value) && std::fabs(value) <= kExactIntegers) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return absl::StrFormat("%.17g", value);
}

namespace {

// `name{labels[,le="bound"]} value\n`.
void AppendSample(std::string& out, absl::string_view name,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, const std::string* le,
                  double value) {
  out.append(name.data(), name.size());
  if (!label_names.empty() || le != nullptr) {
    out += '{';
    for (size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out += ',';
      absl::StrAppend(&out, label_names[i], "=\"", EscapeLabelValue(label_values[i]), "\"");
    }
    if (le != nullptr) absl::StrAppend(&out, label_names.empty() ? "" : ",", "le=\"", *le, "\"");
    out += '}';
  }
  absl::StrAppend(&out, " ", FormatValue(value), "\n");
}

}  // namespace

std::string RenderText(const MetricSet& metrics) {
  std::string out;
  for (const auto& [name, family] : metrics.families()) {
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(family.help()), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", MetricTypeName(family.type()), "\n");
    const std::vector<std::string>& label_names = family.label_names();
    for (const auto& [label_values, value] : family.samples()) {
      AppendSample(out, name, label_names, label_values, nullptr, value);
    }
    // Per series: its buckets in ascending order ending with +Inf, then _sum and _count.
    for (const auto& [label_values, histogram] : family.histograms()) {
      const std::string bucket = absl::StrCat(name, "_bucket");
      for (size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
        // Bounds are round numbers: %g's six digits print them as written ("0.0005").
        const std::string le = absl::StrCat(histogram.upper_bounds[i]);
        AppendSample(out, bucket, label_names, label_values, &le,
                     static_cast<double>(histogram.cumulative_counts[i]));
      }
      const std::string inf = "+Inf";
      AppendSample(out, bucket, label_names, label_values, &inf,
                   static_cast<double>(histogram.count));
      AppendSample(out, absl::StrCat(name, "_sum"), label_names, label_values, nullptr,
                   histogram.sum);
      AppendSample(out, absl::StrCat(name, "_count"), label_names, label_values, nullptr,
                   static_cast<double>(histogram.count));
    }
  }
  return out;
}

}  // namespace ekv::runtime::metrics
