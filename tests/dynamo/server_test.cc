// DynamoServer over HTTP with the in-memory fake backend: --dynamo_max_inflight's refusals
// (DynamoDB's throttling errors, one per kind of operation, while an operation is held
// inside the store), a connection beyond the workers and the queue answered
// ThrottlingException (and served once a worker is free), DescribeEndpoints, the body
// size limit on chunked requests, the Date header, and cross-origin (CORS) requests.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "adapters/dynamo/dynamo_server.h"
#include "gtest/gtest.h"
#include "tests/dynamo/fake_backend.h"

namespace ekv::dynamo {
namespace {

using nlohmann::json;

struct Reply {
  int status = 0;
  json body;
};

Reply Post(int port, const std::string& operation, const json& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(120));
  httplib::Headers headers = {{"X-Amz-Target", "DynamoDB_20120810." + operation}};
  httplib::Result result = client.Post("/", headers, body.dump(), "application/x-amz-json-1.0");
  if (!result) return Reply{-1, json()};
  return Reply{result->status, json::parse(result->body, nullptr, false)};
}

// Holds every read of the store while `holding`, telling the test when one is held.
class Gate {
 public:
  absl::Status Pass() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!holding_) return absl::OkStatus();
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !holding_; });
    return absl::OkStatus();
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    holding_ = true;
  }
  void WaitUntilOneIsHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return held_ > 0; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    holding_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool holding_ = false;
  int held_ = 0;
};

TEST(DynamoServerTest, MaxInflightAnswersThrottlingErrorsAndRecovers) {
  testing::FakeBackend backend;
  Gate gate;
  backend.read_fault = [&gate](const std::string&) { return gate.Pass(); };
  DynamoServerOptions options;
  options.max_inflight = 1;
  options.ttl_sweep_interval = std::chrono::hours(1);  // no background reads in this test
  absl::StatusOr<std::unique_ptr<DynamoServer>> server =
      DynamoServer::Start("127.0.0.1:0", &backend, options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const json create = json::parse(R"({"TableName": "tab", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]})");
  Reply created = Post(port, "CreateTable", create);
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const json get = {{"TableName", "tab"}, {"Key", {{"k", {{"S", "a"}}}}}};

  gate.Hold();
  Reply held;
  std::thread holder([&] { held = Post(port, "GetItem", get); });
  gate.WaitUntilOneIsHeld();  // one GetItem is inside the store: the node is at its bound
  Reply item = Post(port, "GetItem", get);
  EXPECT_EQ(item.status, 400) << item.body.dump();
  EXPECT_EQ(item.body.value("__type", ""),
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")
      << item.body.dump();
  Reply list = Post(port, "ListTables", json::object());
  EXPECT_EQ(list.status, 400) << list.body.dump();
  EXPECT_EQ(list.body.value("__type", ""), "com.amazonaws.dynamodb.v20120810#ThrottlingException")
      << list.body.dump();
  EXPECT_EQ(list.body.value("message", ""), "Rate of requests exceeds the allowed throughput.");
  gate.Release();
  holder.join();
  EXPECT_EQ(held.status, 200) << held.body.dump();
  // The refused requests took nothing: the node serves again at once.
  Reply after = Post(port, "GetItem", get);
  EXPECT_EQ(after.status, 200) << after.body.dump();
  (*server)->Stop();
}

TEST(DynamoServerTest, ConnectionsBeyondTheQueueAreAnsweredThrottlingException) {
  testing::FakeBackend backend;
  Gate gate;
  backend.read_fault = [&gate](const std::string&) { return gate.Pass(); };
  DynamoServerOptions options;
  options.http.worker_threads = 1;
  options.http.max_queued_connections = 1;
  options.ttl_sweep_interval = std::chrono::hours(1);  // no background reads in this test
  absl::StatusOr<std::unique_ptr<DynamoServer>> server =
      DynamoServer::Start("127.0.0.1:0", &backend, options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  Reply created = Post(port, "CreateTable", json::parse(R"({"TableName": "tab",
      "BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]})"));
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const json get = {{"TableName", "tab"}, {"Key", {{"k", {{"S", "a"}}}}}};

  // The only worker holds a GetItem inside the store...
  gate.Hold();
  Reply held;
  std::thread holder([&] { held = Post(port, "GetItem", get); });
  gate.WaitUntilOneIsHeld();
  // ...and a silent connection fills the queue (accepted in order: before the next one).
  const int idle = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(idle, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  // One more connection is answered at once, in DynamoDB's words, and closed.
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(120));
  httplib::Result shed = client.Post("/", {{"X-Amz-Target", "DynamoDB_20120810.GetItem"}},
                                     get.dump(), "application/x-amz-json-1.0");
  ASSERT_TRUE(shed) << httplib::to_string(shed.error());
  EXPECT_EQ(shed->status, 400) << shed->body;
  const json body = json::parse(shed->body, nullptr, false);
  EXPECT_EQ(body.value("__type", ""), "com.amazonaws.dynamodb.v20120810#ThrottlingException")
      << shed->body;
  EXPECT_EQ(body.value("message", ""), "Rate of requests exceeds the allowed throughput.")
      << shed->body;
  EXPECT_EQ(shed->get_header_value("Connection"), "close");
  gate.Release();
  holder.join();
  EXPECT_EQ(held.status, 200) << held.body.dump();
  // The queued connection is served once the worker is free. Reading its reply to the end
  // also tells the test the worker has let go of it: a new connection accepted before that
  // would still find the queue full and be refused, as it should.
  const std::string body_text = get.dump();
  const std::string request = absl::StrCat(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "X-Amz-Target: DynamoDB_20120810.GetItem\r\n"
      "Content-Type: application/x-amz-json-1.0\r\nContent-Length: ",
      body_text.size(), "\r\n\r\n", body_text);
  ASSERT_EQ(write(idle, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string queued_reply;
  char buffer[4096];
  for (ssize_t n; (n = read(idle, buffer, sizeof(buffer))) > 0;) queued_reply.append(buffer, n);
  close(idle);
  EXPECT_TRUE(absl::StartsWith(queued_reply, "HTTP/1.1 200")) << queued_reply;
  // Nothing was left behind: the node serves again.
  Reply after = Post(port, "GetItem", get);
  EXPECT_EQ(after.status, 200) << after.body.dump();
  (*server)->Stop();
}

TEST(DynamoServerTest, DescribeEndpointsNamesTheAddressTheClientUsed) {
  testing::FakeBackend backend;
  absl::StatusOr<std::unique_ptr<DynamoServer>> server =
      DynamoServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  Reply reply = Post(port, "DescribeEndpoints", json::object());
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  ASSERT_EQ(reply.body["Endpoints"].size(), 1u) << reply.body.dump();
  EXPECT_EQ(reply.body["Endpoints"][0]["Address"], "127.0.0.1:" + std::to_string(port))
      << reply.body.dump();
  EXPECT_EQ(reply.body["Endpoints"][0]["CachePeriodInMinutes"], 1440);
  (*server)->Stop();
}

// Every reply has an HTTP Date in RFC 1123 form, as DynamoDB's replies do, errors included.
TEST(DynamoServerTest, RepliesCarryADate) {
  testing::FakeBackend backend;
  absl::StatusOr<std::unique_ptr<DynamoServer>> server =
      DynamoServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  const std::regex date(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)");
  for (const auto& [operation, status] : {std::pair{"ListTables", 200}, {"DescribeTable", 400}}) {
    httplib::Result result =
        client.Post("/", {{"X-Amz-Target", absl::StrCat("DynamoDB_20120810.", operation)}},
                    R"({"TableName": "none"})", "application/x-amz-json-1.0");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, status) << result->body;
    EXPECT_TRUE(std::regex_match(result->get_header_value("Date"), date))
        << operation << " " << result->status << " Date: " << result->get_header_value("Date");
  }
  (*server)->Stop();
}

// DynamoDB refuses a request body over 16 MB with HTTP 413 however it is sent: with
// Content-Length (httplib's own check) and chunked (read by the handler, which httplib does
// not bound). Here the limit is 1 KB; the connection stays usable after the refusal.
TEST(DynamoServerTest, BodiesOverTheLimitAreRefusedChunkedOrNot) {
  testing::FakeBackend backend;
  DynamoServerOptions options;
  options.http.max_request_body_bytes = 1024;
  absl::StatusOr<std::unique_ptr<DynamoServer>> server =
      DynamoServer::Start("127.0.0.1:0", &backend, options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(std::chrono::seconds(120));
  const httplib::Headers headers = {{"X-Amz-Target", "DynamoDB_20120810.ListTables"}};
  // ListTables with 64 KB of spaces in its JSON body.
  const std::string big = "{" + std::string(64 * 1024, ' ') + "}";
  const auto chunked = [&](const std::string& body) {
    return client.Post(
        "/", headers,
        [&body](size_t offset, httplib::DataSink& sink) {
          // Several chunks of at most 4 KB, then the end.
          if (offset < body.size()) {
            sink.write(body.data() + offset, std::min<size_t>(4096, body.size() - offset));
          } else {
            sink.done();
          }
          return true;
        },
        "application/x-amz-json-1.0");
  };
  httplib::Result result = chunked(big);
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 413) << result->body;
  result = client.Post("/", headers, big, "application/x-amz-json-1.0");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 413) << result->body;
  // Under the limit, chunked is served.
  result = chunked("{}");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(json::parse(result->body)["TableNames"], json::array()) << result->body;
  (*server)->Stop();
}

// --dynamo_cors_origins: a browser's preflight from an allowed origin is answered with the
// methods, the headers it asked for and a max age; the actual reply names the origin and the
// headers the page may read; another origin gets neither (its browser then blocks the page).
TEST(DynamoServerTest, CrossOriginRequestsFromAllowedOriginsOnly) {
  testing::FakeBackend backend;
  DynamoServerOptions options;
  absl::StatusOr<CorsPolicy> cors =
      CorsPolicy::Parse("https://app.example.com, http://localhost:3000");
  ASSERT_TRUE(cors.ok()) << cors.status();
  options.cors = *cors;
  absl::StatusOr<std::unique_ptr<DynamoServer>> server =
      DynamoServer::Start("127.0.0.1:0", &backend, options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  const auto preflight = [&](const std::string& origin) {
    return client.Options("/", {{"Origin", origin},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "content-type,x-amz-target"}});
  };
  httplib::Result result = preflight("http://localhost:3000");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(result->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(result->get_header_value("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(result->get_header_value("Access-Control-Allow-Headers"), "content-type,x-amz-target");
  EXPECT_EQ(result->get_header_value("Access-Control-Max-Age"), "172800");
  EXPECT_EQ(result->get_header_value("Vary"), "Origin");

  result = preflight("https://evil.example.com");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 403) << result->body;
  EXPECT_FALSE(result->has_header("Access-Control-Allow-Origin"));

  for (const auto& [origin, allowed] :
       {std::pair<std::string, bool>{"https://APP.example.com", true},
        {"https://evil.example.com", false}}) {
    result =
        client.Post("/", {{"Origin", origin}, {"X-Amz-Target", "DynamoDB_20120810.ListTables"}},
                    "{}", "application/x-amz-json-1.0");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(result->has_header("Access-Control-Allow-Origin"), allowed) << origin;
    if (allowed) {
      EXPECT_EQ(result->get_header_value("Access-Control-Allow-Origin"), origin);
      EXPECT_TRUE(absl::StrContains(result->get_header_value("Access-Control-Expose-Headers"),
                                    "x-amzn-RequestId"));
    }
  }
  (*server)->Stop();
}

// Without --dynamo_cors_origins no reply says a cross-origin page may read it, and a
// preflight is not answered with permission.
TEST(DynamoServerTest, CrossOriginRequestsAreOffByDefault) {
  testing::FakeBackend backend;
  absl::StatusOr<std::unique_ptr<DynamoServer>> server =
      DynamoServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result result = client.Options(
      "/", {{"Origin", "http://localhost:3000"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_NE(result->status, 200);
  EXPECT_FALSE(result->has_header("Access-Control-Allow-Origin"));
  result = client.Post(
      "/", {{"Origin", "http://localhost:3000"}, {"X-Amz-Target", "DynamoDB_20120810.ListTables"}},
      "{}", "application/x-amz-json-1.0");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200) << result->body;
  EXPECT_FALSE(result->has_header("Access-Control-Allow-Origin"));
  (*server)->Stop();
}

TEST(CorsPolicyTest, ParsesOriginsAndRefusesWhatIsNotOne) {
  absl::StatusOr<CorsPolicy> any = CorsPolicy::Parse("*");
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(any->enabled());
  EXPECT_EQ(any->AllowedOrigin("https://x.example"), "*");
  EXPECT_EQ(any->AllowedOrigin(""), std::nullopt);
  EXPECT_FALSE(any->varies_by_origin());
  absl::StatusOr<CorsPolicy> none = CorsPolicy::Parse("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->enabled());
  EXPECT_EQ(none->AllowedOrigin("https://x.example"), std::nullopt);
  for (const char* bad :
       {"example.com", "https://x.example/path", "https://", "://x", "https://*.x"}) {
    absl::StatusOr<CorsPolicy> policy = CorsPolicy::Parse(bad);
    EXPECT_FALSE(policy.ok()) << bad;
    if (!policy.ok()) {
      EXPECT_TRUE(absl::StrContains(policy.status().message(), "is not an origin"));
    }
  }
  absl::StatusOr<CorsPolicy> two = CorsPolicy::Parse("http://localhost:3000,https://a.example");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->AllowedOrigin("https://a.example"), "https://a.example");
  EXPECT_EQ(two->AllowedOrigin("http://localhost:3001"), std::nullopt);
  EXPECT_EQ(two->AllowedOrigin("https://a.example.evil"), std::nullopt);
}

}  // namespace
}  // namespace ekv::dynamo
