// Histograms in the Prometheus text format (buckets with le, +Inf, _sum, _count), and the
// latency histograms' bucketing, cumulative counts and per-command table.
#include "runtime/metrics/latency_histogram.h"

#include <chrono>
#include <string>

#include "gtest/gtest.h"
#include "runtime/metrics/metric_set.h"
#include "runtime/metrics/text_format.h"

namespace ekv::runtime::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(HistogramTextFormat, RendersBucketsSumAndCountPerSeries) {
  MetricSet metrics;
  MetricFamily& family = metrics.Histogram("ekv_d_seconds", "Durations.", {"cmd"});
  family.SetHistogram({"b"}, HistogramSample{{0.5, 1}, {0, 0}, 0, 0});
  family.SetHistogram({"a"}, HistogramSample{{0.5, 1}, {1, 2}, 1.25, 3});
  EXPECT_EQ(RenderText(metrics),
            "# HELP ekv_d_seconds Durations.\n"
            "# TYPE ekv_d_seconds histogram\n"
            "ekv_d_seconds_bucket{cmd=\"a\",le=\"0.5\"} 1\n"
            "ekv_d_seconds_bucket{cmd=\"a\",le=\"1\"} 2\n"
            "ekv_d_seconds_bucket{cmd=\"a\",le=\"+Inf\"} 3\n"
            "ekv_d_seconds_sum{cmd=\"a\"} 1.25\n"
            "ekv_d_seconds_count{cmd=\"a\"} 3\n"
            "ekv_d_seconds_bucket{cmd=\"b\",le=\"0.5\"} 0\n"
            "ekv_d_seconds_bucket{cmd=\"b\",le=\"1\"} 0\n"
            "ekv_d_seconds_bucket{cmd=\"b\",le=\"+Inf\"} 0\n"
            "ekv_d_seconds_sum{cmd=\"b\"} 0\n"
            "ekv_d_seconds_count{cmd=\"b\"} 0\n");
}

TEST(HistogramTextFormat, WithoutLabels) {
  MetricSet metrics;
  metrics.Histogram("ekv_h", "h").SetHistogram({}, HistogramSample{{0.0005}, {1}, 0.0001, 1});
  EXPECT_EQ(RenderText(metrics),
            "# HELP ekv_h h\n# TYPE ekv_h histogram\n"
            "ekv_h_bucket{le=\"0.0005\"} 1\nekv_h_bucket{le=\"+Inf\"} 1\n"
            "ekv_h_sum 0.0001\nekv_h_count 1\n");
}

TEST(LatencyHistogramTest, BucketsAreLessOrEqualAndCumulative) {
  LatencyHistogram histogram;
  histogram.Observe(microseconds(500));         // exactly on the first bound: counted in it
  histogram.Observe(microseconds(700));         // <= 1 ms
  histogram.Observe(milliseconds(30));          // <= 50 ms
  histogram.Observe(std::chrono::seconds(11));  // above every bound: +Inf only
  HistogramSample sample = histogram.Sample();
  ASSERT_EQ(sample.upper_bounds.size(), kLatencyBucketsSeconds.size());
  EXPECT_EQ(sample.cumulative_counts[0], 1u);  // 0.0005
  EXPECT_EQ(sample.cumulative_counts[1], 2u);  // 0.001
  EXPECT_EQ(sample.cumulative_counts[5], 2u);  // 0.025
  EXPECT_EQ(sample.cumulative_counts[6], 3u);  // 0.05
  EXPECT_EQ(sample.cumulative_counts.back(), 3u);
  EXPECT_EQ(sample.count, 4u);
  EXPECT_DOUBLE_EQ(sample.sum, 0.0005 + 0.0007 + 0.030 + 11);
}

TEST(RequestLatenciesTest, OneSeriesPerCommandZerosIncluded) {
  RequestLatencies latencies("redis", {"GET", "SET"});
  ASSERT_EQ(latencies.CommandIndex("SET"), 1u);
  EXPECT_FALSE(latencies.CommandIndex("DEL").has_value());
  latencies.Observe(1, milliseconds(2));
  MetricSet metrics;
  latencies.Collect(metrics);
  const std::string text = RenderText(metrics);
  EXPECT_NE(
      text.find("ekv_request_duration_seconds_count{front_door=\"redis\",command=\"GET\"} 0\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("ekv_request_duration_seconds_bucket{front_door=\"redis\",command=\"SET\",le="
                      "\"0.0025\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ekv_request_duration_seconds_bucket{front_door=\"redis\",command=\"SET\",le="
                      "\"0.001\"} 0\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace ekv::runtime::metrics
