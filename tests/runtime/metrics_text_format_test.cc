// The Prometheus text rendering (runtime/metrics/text_format.h): escaping, HELP/TYPE
// lines, deterministic order of families, samples and labels, value formatting.
#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "runtime/metrics/metric_set.h"
#include "runtime/metrics/registry.h"
#include "runtime/metrics/server_collectors.h"
#include "runtime/metrics/text_format.h"

namespace ekv::runtime::metrics {
namespace {

TEST(MetricsTextFormat, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
  EXPECT_EQ(EscapeLabelValue("\\\"\n"), "\\\\\\\"\\n");
}

TEST(MetricsTextFormat, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("a \"quoted\" word"), "a \"quoted\" word");
  EXPECT_EQ(EscapeHelp("back\\slash\nnext"), "back\\\\slash\\nnext");
}

TEST(MetricsTextFormat, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-7), "-7");
  EXPECT_EQ(FormatValue(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(FormatValue(0.5), "0.5");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(MetricsTextFormat, RendersHelpTypeAndSamplesInDeterministicOrder) {
  MetricSet metrics;
  // Declared out of order on purpose: families render by name, samples by label values,
  // labels in their declared order (not alphabetically: "zone" before "method").
  MetricFamily& requests = metrics.Counter(
      "ekv_requests_total", "Requests \"served\".\nSecond line.", {"zone", "method"});
  requests.Set({"b", "Put"}, 2);
  requests.Set({"a", "Get"}, 1);
  requests.Set({"a", "Put"}, 3);
  metrics.Gauge("ekv_alpha", "First by name.").Set(7);
  const std::string expected =
      "# HELP ekv_alpha First by name.\n"
      "# TYPE ekv_alpha gauge\n"
      "ekv_alpha 7\n"
      "# HELP ekv_requests_total Requests \"served\".\\nSecond line.\n"
      "# TYPE ekv_requests_total counter\n"
      "ekv_requests_total{zone=\"a\",method=\"Get\"} 1\n"
      "ekv_requests_total{zone=\"a\",method=\"Put\"} 3\n"
      "ekv_requests_total{zone=\"b\",method=\"Put\"} 2\n";
  EXPECT_EQ(RenderText(metrics), expected);
}

TEST(MetricsTextFormat, EscapesLabelValuesInSamples) {
  MetricSet metrics;
  metrics.Gauge("ekv_key_info", "A label with every special character.", {"key"})
      .Set({"a\"b\\c\nd"}, 1);
  EXPECT_EQ(RenderText(metrics),
            "# HELP ekv_key_info A label with every special character.\n"
            "# TYPE ekv_key_info gauge\n"
            "ekv_key_info{key=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTextFormat, LaterValueForSameLabelsReplacesEarlier) {
  MetricSet metrics;
  MetricFamily& gauge = metrics.Gauge("ekv_g", "g", {"group"});
  gauge.Set({"1"}, 5);
  gauge.Set({"1"}, 6);
  EXPECT_EQ(RenderText(metrics), "# HELP ekv_g g\n# TYPE ekv_g gauge\nekv_g{group=\"1\"} 6\n");
}

TEST(MetricsTextFormat, ValidatesNames) {
  EXPECT_TRUE(IsValidMetricName("ekv_raft_term"));
  EXPECT_TRUE(IsValidMetricName("ekv:rule_total"));
  EXPECT_FALSE(IsValidMetricName("1ekv"));
  EXPECT_FALSE(IsValidMetricName("ekv-term"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_TRUE(IsValidLabelName("group"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(MetricsTextFormatDeathTest, RefusesOneNameWithTwoMeanings) {
  MetricSet metrics;
  metrics.Counter("ekv_x_total", "x", {"group"});
  EXPECT_DEATH(metrics.Gauge("ekv_x_total", "x", {"group"}), "declared as both counter and gauge");
  EXPECT_DEATH(metrics.Counter("ekv_x_total", "x", {"node"}), "different label names");
  EXPECT_DEATH(metrics.Counter("ekv_x_total", "x", {"group"}).Set({"1", "2"}, 1),
               "has 1 labels but a sample gave 2");
}

TEST(MetricsRegistry, RunsEveryCollectorIntoOneSet) {
  MetricRegistry registry;
  registry.AddCollector([](MetricSet& m) { m.Gauge("ekv_b", "b").Set(2); });
  registry.AddCollector([](MetricSet& m) { m.Gauge("ekv_a", "a").Set(1); });
  EXPECT_EQ(registry.RenderText(),
            "# HELP ekv_a a\n# TYPE ekv_a gauge\nekv_a 1\n"
            "# HELP ekv_b b\n# TYPE ekv_b gauge\nekv_b 2\n");
}

TEST(MetricsServerCollectors, GroupStatusesBecomeOneSamplePerGroup) {
  node::GroupStatus leader;
  leader.group = 2;
  leader.term = 5;
  leader.leader = 3;
  leader.state = raft::StateType::kLeader;
  leader.commit = 40;
  leader.applied = 39;
  leader.last_index = 41;
  leader.snapshot_index = 10;
  leader.pending_requests = 4;
  node::GroupStatus follower;
  follower.group = 1;
  follower.term = 7;
  follower.leader = raft::kNoNode;
  follower.state = raft::StateType::kFollower;
  MetricSet metrics;
  CollectGroupStatuses({leader, follower}, metrics);
  const std::string text = RenderText(metrics);
  for (const char* line :
       {"ekv_raft_is_leader{group=\"1\"} 0\nekv_raft_is_leader{group=\"2\"} 1\n",
        "ekv_raft_term{group=\"1\"} 7\nekv_raft_term{group=\"2\"} 5\n",
        "ekv_raft_leader_id{group=\"1\"} 0\nekv_raft_leader_id{group=\"2\"} 3\n",
        "ekv_raft_commit_index{group=\"2\"} 40\n", "ekv_raft_applied_index{group=\"2\"} 39\n",
        "ekv_raft_last_log_index{group=\"2\"} 41\n", "ekv_raft_snapshot_index{group=\"2\"} 10\n",
        "ekv_raft_pending_requests{group=\"2\"} 4\n", "# TYPE ekv_raft_is_leader gauge\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing:\n" << line << "in:\n" << text;
  }
}

}  // namespace
}  // namespace ekv::runtime::metrics
