// The metrics HTTP endpoint (runtime/metrics/http_server.h) on a real socket, scraped with
// cpp-httplib's client; and the node loop health rule (runtime/metrics/health.h).
#include <chrono>
#include <string>
#include <vector>

#include <httplib.h>

#include "gtest/gtest.h"
#include "runtime/metrics/health.h"
#include "runtime/metrics/http_server.h"
#include "runtime/metrics/registry.h"
#include "runtime/metrics/text_format.h"

namespace ekv::runtime::metrics {
namespace {

void AddOneGauge(MetricRegistry& registry) {
  registry.AddCollector([](MetricSet& m) { m.Gauge("ekv_test_value", "A test value.").Set(42); });
}

TEST(MetricsHttpServer, ServesMetricsAndHealth) {
  MetricRegistry registry;
  AddOneGauge(registry);
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &registry, [] { return absl::OkStatus(); });
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  EXPECT_EQ((*server)->address(), "127.0.0.1:" + std::to_string((*server)->port()));

  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(2));
  httplib::Result metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), kTextFormatContentType);
  EXPECT_EQ(
      metrics->body,
      "# HELP ekv_test_value A test value.\n# TYPE ekv_test_value gauge\nekv_test_value 42\n");

  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  httplib::Result missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  (*server)->Stop();
  (*server)->Stop();  // idempotent
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(MetricsHttpServer, UnhealthyIs503WithTheReason) {
  MetricRegistry registry;
  AddOneGauge(registry);
  auto server = MetricsHttpServer::Start(
      "127.0.0.1:0", &registry, [] { return absl::UnavailableError("node loop has not run yet"); });
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(health->body, "node loop has not run yet\n");
}

TEST(MetricsHttpServer, ReadyzAnswersTheReadinessCheckAndJsonEndpointsServe) {
  MetricRegistry registry;
  MetricsServerOptions options;
  options.readiness = [] { return absl::UnavailableError("group 2 has no known leader"); };
  options.json_endpoints["/api/node"] = [] { return std::string(R"({"node":1})"); };
  auto server = MetricsHttpServer::Start(
      "127.0.0.1:0", &registry, [] { return absl::OkStatus(); }, options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "group 2 has no known leader\n");
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Result node = client.Get("/api/node");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->status, 200);
  EXPECT_EQ(node->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(node->body, R"({"node":1})");
}

// --http_auth_token_file: /metrics and JSON endpoints need the token (Bearer, or Basic with
// it as the password); the probes stay open; the refusal asks a browser for credentials.
TEST(MetricsHttpServer, AuthTokenGuardsAllButTheProbes) {
  MetricRegistry registry;
  AddOneGauge(registry);
  MetricsServerOptions options;
  options.auth_token = "t0ken-s3cret";
  options.json_endpoints["/api/node"] = [] { return std::string(R"({"node":1})"); };
  auto server = MetricsHttpServer::Start(
      "127.0.0.1:0", &registry, [] { return absl::OkStatus(); }, options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(std::chrono::seconds(5));
  for (const char* path : {"/metrics", "/api/node", "/nope"}) {
    httplib::Result refused = client.Get(path);
    ASSERT_TRUE(refused) << path;
    EXPECT_EQ(refused->status, 401) << path << ": " << refused->body;
    EXPECT_EQ(refused->get_header_value("WWW-Authenticate"),
              "Basic realm=\"ekv\", charset=\"UTF-8\"");
    EXPECT_EQ(refused->body.find("t0ken-s3cret"), std::string::npos);
    EXPECT_EQ(refused->body.find("ekv_test_value"), std::string::npos);
  }
  const std::vector<httplib::Headers> wrong = {
      {{"Authorization", "Bearer t0ken-s3cre"}},
      {{"Authorization", "Bearer t0ken-s3cretX"}},
      {{"Authorization", "t0ken-s3cret"}},
      {{"Authorization", "Bearer"}},
      {{"Authorization", "Basic dXNlcjp3cm9uZw=="}},  // user:wrong
      {{"Authorization", "Basic not base64!"}},
      {{"Authorization", "Basic dDBrZW4tczNjcmV0"}},  // t0ken-s3cret without "user:"
  };
  for (const httplib::Headers& headers : wrong) {
    httplib::Result refused = client.Get("/metrics", headers);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << headers.begin()->second;
  }
  httplib::Result bearer = client.Get("/metrics", {{"Authorization", "Bearer t0ken-s3cret"}});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200) << bearer->body;
  EXPECT_NE(bearer->body.find("ekv_test_value 42"), std::string::npos) << bearer->body;
  // The scheme is case-insensitive (RFC 7235).
  httplib::Result lower = client.Get("/api/node", {{"Authorization", "bearer t0ken-s3cret"}});
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->status, 200);
  EXPECT_EQ(lower->body, R"({"node":1})");
  // What a browser sends after its prompt: base64("admin:t0ken-s3cret").
  httplib::Result basic =
      client.Get("/metrics", {{"Authorization", "Basic YWRtaW46dDBrZW4tczNjcmV0"}});
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 200);
  for (const char* probe : {"/healthz", "/readyz"}) {
    httplib::Result open = client.Get(probe);
    ASSERT_TRUE(open);
    EXPECT_EQ(open->status, 200) << probe;
  }
}

TEST(MetricsHttpServer, ReadyzWithoutAReadinessCheckIsHealth) {
  MetricRegistry registry;
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &registry,
                                         [] { return absl::UnavailableError("stuck"); });
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "stuck\n");
}

TEST(MetricsHttpServer, RefusesRequestBodiesOverTheLimit) {
  MetricRegistry registry;
  AddOneGauge(registry);
  MetricsServerOptions options;
  options.http.max_request_body_bytes = 1024;
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &registry, nullptr, options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result posted = client.Post("/metrics", std::string(64 * 1024, 'x'), "text/plain");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 413);
}

TEST(MetricsHttpServer, PortInUseIsAnError) {
  MetricRegistry registry;
  AddOneGauge(registry);
  auto first = MetricsHttpServer::Start("127.0.0.1:0", &registry, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  // The same port again must fail, not share it (httplib's default SO_REUSEPORT would).
  auto second = MetricsHttpServer::Start((*first)->address(), &registry, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("cannot listen on " + (*first)->address()),
            std::string::npos)
      << second.status();
}

TEST(MetricsHttpServer, BadAddressesAreErrors) {
  MetricRegistry registry;
  AddOneGauge(registry);
  for (const char* address : {"nonsense", ":9091", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:x",
                              "no-such-host.invalid:9091"}) {
    auto server = MetricsHttpServer::Start(address, &registry, nullptr);
    EXPECT_FALSE(server.ok()) << address;
  }
}

TEST(MetricsHttpServer, StopRightAfterStartReturns) {
  // Stop may run before the listener thread marked itself running (see Stop).
  MetricRegistry registry;
  AddOneGauge(registry);
  for (int i = 0; i < 50; ++i) {
    auto server = MetricsHttpServer::Start("127.0.0.1:0", &registry, nullptr);
    ASSERT_TRUE(server.ok()) << server.status();
    (*server)->Stop();
  }
}

TEST(ListenAddress, ParsesHostAndPort) {
  auto v4 = ParseListenAddress("127.0.0.1:9091");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 9091);
  auto v6 = ParseListenAddress("[::1]:9092");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 9092);
}

TEST(NodeLoopHealth, HealthyOnlyWhileRoundsAreRecent) {
  const auto now = std::chrono::steady_clock::now();
  NodeLoopStats stats;
  EXPECT_FALSE(NodeLoopHealth(stats, now, std::chrono::seconds(10)).ok());
  stats.rounds = 1;
  stats.last_round_at = now - std::chrono::milliseconds(50);
  EXPECT_TRUE(NodeLoopHealth(stats, now, std::chrono::seconds(10)).ok());
  stats.last_round_at = now - std::chrono::seconds(11);
  absl::Status stalled = NodeLoopHealth(stats, now, std::chrono::seconds(10));
  EXPECT_FALSE(stalled.ok());
  EXPECT_NE(stalled.message().find("has not finished a round"), std::string::npos) << stalled;
}

}  // namespace
}  // namespace ekv::runtime::metrics
