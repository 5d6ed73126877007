// The differential harness: a script of commands run against a real redis-server 7.0 and
// against ekv's front door over a fake backend, every reply compared byte for byte. Shared by
// redis_differential_test.cc, stream_differential_test.cc and acl_differential_test.cc (which
// starts both servers on one users file and so has a Compare of its own over RunScript).
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "adapters/redis/acl_file.h"
#include "adapters/redis/redis_server.h"
#include "gtest/gtest.h"
#include "tests/redis/fake_backend.h"
#include "tests/redis/real_redis.h"
#include "tests/redis/resp_client.h"

namespace ekv::redis::differential {

using testing::EncodeCommand;
using testing::RealRedis;
using testing::RespClient;

// One step: bytes to send on connection `conn` (none: only read), then `replies` replies
// to read; `closes` expects the server to close that connection after the replies.
struct Step {
  int conn = 0;
  std::string bytes;
  int replies = 1;
  bool closes = false;
  int sleep_ms = 0;  // before sending (lets expiries pass)
  // >= 0: before sending, wait (on a connection of its own, at most 20 s) until INFO
  // reports this many blocked clients.
  int wait_blocked = -1;
  // Runs first, before anything is sent (the ACL tests rewrite the users file here).
  std::function<void()> before = nullptr;
};

inline Step On(int conn, std::vector<std::string> args, int replies = 1) {
  return {conn, EncodeCommand(args), replies, false};
}
inline Step Cmd(std::vector<std::string> args, int replies = 1) {
  return On(0, std::move(args), replies);
}
inline Step Read(int conn, int replies = 1) { return {conn, "", replies, false}; }
inline Step Raw(int conn, std::string bytes, bool closes) {
  return {conn, std::move(bytes), 1, closes};
}
// Nothing sent or read: the server must have closed connection `conn`.
inline Step Closed(int conn) { return {conn, "", 0, true}; }
inline Step After(int sleep_ms, std::vector<std::string> args) {
  Step step = Cmd(std::move(args));
  step.sleep_ms = sleep_ms;
  return step;
}

// Sends `args` once `blocked` clients are blocked (a blocking command sent before is
// waiting, not still on its way).
inline Step AfterBlocked(int blocked, std::vector<std::string> args) {
  Step step = Cmd(std::move(args));
  step.wait_blocked = blocked;
  return step;
}

inline bool WaitBlocked(int port, int blocked) {
  RespClient info(port);
  const std::string want = "blocked_clients:" + std::to_string(blocked) + "\r\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (info.Call({"INFO", "clients"}).find(want) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// HELLO's id and CLIENT ID are connection numbers, which depend on how many connections
// each server has seen.
inline std::string Mask(std::string reply) {
  static const std::regex kHelloId("(\\$2\r\nid\r\n):[0-9]+\r\n");
  return std::regex_replace(reply, kHelloId, "$1:<id>\r\n");
}

using ReplyMask = std::function<std::string(std::string)>;

// How RunScript reads the replies.
struct Reading {
  ReplyMask mask;  // optional: also rewrites each reply (what differs by design beyond Mask's)
  std::chrono::milliseconds reply_timeout = std::chrono::seconds(20);
  std::chrono::milliseconds close_timeout = std::chrono::seconds(5);  // for Step::closes
};

// Runs `script` against the server on `port`: each step's replies, concatenated.
inline std::vector<std::string> RunScript(int port, const std::vector<Step>& script,
                                          const Reading& reading = {}) {
  std::vector<std::unique_ptr<RespClient>> clients;
  std::vector<std::string> transcript;
  for (const Step& step : script) {
    while (static_cast<int>(clients.size()) <= step.conn) {
      clients.push_back(std::make_unique<RespClient>(port));
    }
    if (step.before) step.before();
    RespClient& client = *clients[step.conn];
    if (step.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step.sleep_ms));
    std::string replies;
    if (step.wait_blocked >= 0 && !WaitBlocked(port, step.wait_blocked)) {
      // A script that expects more blocked clients than the server has is wrong on both.
      ADD_FAILURE() << "blocked clients never reached " << step.wait_blocked << " on port " << port;
      replies = "<blocked clients never reached " + std::to_string(step.wait_blocked) + ">";
    }
    if (!step.bytes.empty() && !client.SendRaw(step.bytes)) replies = "<send failed>";
    for (int i = 0; i < step.replies; ++i) {
      std::string reply = client.ReadReply(reading.reply_timeout);
      if (reading.mask) reply = reading.mask(std::move(reply));
      replies += reply.empty() ? "<no reply>" : Mask(std::move(reply));
    }
    if (step.closes) {
      replies += client.ClosedByServer(reading.close_timeout) ? "<closed>" : "<still open>";
    }
    transcript.push_back(std::move(replies));
  }
  return transcript;
}

// Each of ekv's replies (`got`) must be redis-server's (`want`) to the byte; a difference
// names the step, its connection and what it sent. `label` prefixes each message.
inline void ExpectSameReplies(const std::vector<std::string>& want,
                              const std::vector<std::string>& got, const std::vector<Step>& script,
                              const std::string& label = "") {
  EXPECT_EQ(want.size(), got.size()) << label;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << label << "step " << i << " on connection " << script[i].conn
                               << ": sent '" << absl::CEscape(script[i].bytes) << "'";
  }
}

// redis-server started without a configuration file keeps its compiled-in
// hash-max-listpack-entries, 512; redis.conf as Redis 7.0 ships it (and Debian installs
// it) says 128, which ekv follows (layout.h).
inline const std::vector<std::string> kRedisConfDefaults = {"--hash-max-listpack-entries", "128"};

// ekv's RedisServer over a fake backend, started on a free port.
struct EkvServer {
  explicit EkvServer(RedisServerOptions options = {}, bool detached_multi_key = false) {
    backend.detached_multi_key = detached_multi_key;
    options.address = "127.0.0.1:0";
    server = std::make_unique<RedisServer>(options, &backend);
    started = server->Start().ok();
  }
  int port() const { return server->port(); }
  FakeBackend backend;
  std::unique_ptr<RedisServer> server;
  bool started = false;
};

// A redis-server and an ekv server side by side, for tests that talk to both directly.
struct BothServers {
  explicit BothServers(std::vector<std::string> extra = {}) : redis(std::move(extra)) {}
  // Both answer; false (with a message) when redis-server does not run.
  ::testing::AssertionResult Ready() {
    if (!redis.WaitReady()) {
      return ::testing::AssertionFailure()
             << "redis-server (Debian package redis-server) must run; its log:\n"
             << redis.Log();
    }
    if (!ekv.started) return ::testing::AssertionFailure() << "ekv did not start";
    return ::testing::AssertionSuccess();
  }
  RealRedis redis;
  EkvServer ekv;
};

class DifferentialTest : public ::testing::Test {
 protected:
  // Runs `script` against a real redis-server and ekv, both started with `password` as
  // requirepass (empty: none) and with the users of `acl_text` (an ACL file; empty: none),
  // and compares every step. `extra`: more redis-server arguments (kRedisConfDefaults).
  // `one_group_only`: skip the second run (commands whose keys are in several groups), for
  // scripts whose answers there differ by design (SORT's patterns, refused across groups).
  void Compare(const std::vector<Step>& script, const std::string& password = "",
               std::vector<std::string> extra = {}, const std::string& acl_text = "",
               bool one_group_only = false, const ReplyMask& mask = nullptr) {
    if (!password.empty()) extra.insert(extra.end(), {"--requirepass", password});
    const std::string acl_path = testing::ProcessTempPath("differential.acl");
    if (!acl_text.empty()) {
      std::ofstream(acl_path) << acl_text;
      extra.insert(extra.end(), {"--aclfile", acl_path});
    }
    RealRedis redis(extra);
    ASSERT_TRUE(redis.WaitReady())
        << "redis-server (Debian package redis-server) must run; its log:\n"
        << redis.Log();
    const std::vector<std::string> want = RunScript(redis.port(), script, {mask});
    // Twice: every command in one group, then every single command naming several keys
    // run as when its keys live in several groups (read, run in memory, write back).
    for (const bool detached : {false, true}) {
      if (detached && one_group_only) continue;
      RedisServerOptions options;
      options.settings.requirepass = password;
      if (!acl_text.empty()) {
        absl::StatusOr<AclFile> users = ParseAclFile(acl_text);
        ASSERT_TRUE(users.ok()) << users.status();
        options.settings.acl = std::make_shared<AclUsers>(std::move(users->users));
      }
      EkvServer ekv(options, detached);
      ASSERT_TRUE(ekv.started);
      const std::vector<std::string> got = RunScript(ekv.port(), script, {mask});
      ExpectSameReplies(want, got, script, detached ? "[multi-key commands over groups] " : "");
    }
    if (!acl_text.empty()) std::remove(acl_path.c_str());
  }
};

}  // namespace ekv::redis::differential
