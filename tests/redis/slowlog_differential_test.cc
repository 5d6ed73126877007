// SLOWLOG and its two CONFIG settings, byte for byte against redis-server 7.0 (the
// harness: differential_script.h). Each entry's time, duration and client address differ
// between the servers by nature and are masked; ids, arguments (trimmed and redacted as
// Redis trims and redacts them) and client names are compared.
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/redis/differential_script.h"
#include "tests/redis/resp_client.h"

namespace ekv::redis::differential {
namespace {

using testing::EncodeCommand;

std::string MaskEntries(std::string reply) {
  // *6 :id :unix-seconds :usec *args $peer $name -> the id, args and name kept.
  static const std::regex kTimes("\\*6\r\n:([0-9]+)\r\n:[0-9]+\r\n:[0-9]+\r\n");
  static const std::regex kPeer("\\$[0-9]+\r\n127\\.0\\.0\\.1:[0-9]+\r\n");
  reply = std::regex_replace(reply, kTimes, "*6\r\n:$1\r\n:<time>\r\n:<usec>\r\n");
  return std::regex_replace(reply, kPeer, "<peer>\r\n");
}

TEST_F(DifferentialTest, SlowlogEntriesSettingsAndErrors) {
  std::vector<std::string> many = {"SADD", "set"};
  for (int i = 3; i <= 33; ++i) many.push_back(std::to_string(i));
  std::vector<std::string> many_rules = {"ACL", "SETUSER", "slowlog-rules"};
  for (int i = 0; i < 36; ++i) many_rules.push_back(i % 2 == 0 ? "+get" : "-get");
  Compare(
      {
          Cmd({"CONFIG", "GET", "slowlog-max-len"}),
          Cmd({"CONFIG", "GET", "slowlog-log-slower-than"}),
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"}),
          Cmd({"SLOWLOG", "RESET"}),
          Cmd({"SLOWLOG", "LEN"}),
          Cmd({"SET", "k", "v"}),
          Cmd(many),
          Cmd({"SADD", "set", "foo", std::string(129, 'A')}),
          Cmd({"CLIENT", "SETNAME", "foobar"}),  // logged with its new name, as in Redis
          Cmd({"GET", "k"}),
          Cmd({"AUTH", "not-a-password"}),
          Cmd({"AUTH", "someone", "not-a-password"}),
          Cmd({"ACL", "SETUSER", "slowlog-test-user", "+get", "+set"}),
          // Redacted before it is cut: no byte of a long password shows, and the last slot
          // of a long ACL SETUSER counts the arguments left out.
          Cmd({"AUTH", std::string(200, 'p')}),
          Cmd(many_rules),
          Cmd({"CONFIG", "SET", "requirepass", ""}),
          Cmd({"MULTI"}),
          Cmd({"SET", "a", "1"}),
          Cmd({"INCR", "n"}),
          Cmd({"EXEC"}),
          // Pipelined commands are logged one by one.
          Step{0,
               EncodeCommand({"SET", "p", "1"}) + EncodeCommand({"GET", "p"}) +
                   EncodeCommand({"INCR", "p"}),
               3, false},
          Cmd({"SLOWLOG", "GET", "3"}),
          Cmd({"SLOWLOG", "GET", "-1"}),
          Cmd({"SLOWLOG", "GET"}),
          Cmd({"SLOWLOG", "GET", "0"}),
          Cmd({"SLOWLOG", "GET", "-2"}),
          Cmd({"SLOWLOG", "GET", "x"}),
          Cmd({"SLOWLOG", "GET", "99999999999999999999"}),
          Cmd({"SLOWLOG", "GET", "1", "2"}),
          Cmd({"SLOWLOG", "LEN", "1"}),
          Cmd({"SLOWLOG", "RESET", "1"}),
          Cmd({"SLOWLOG", "NOPE"}),
          Cmd({"SLOWLOG"}),
          Cmd({"SLOWLOG", "HELP"}),
          Cmd({"slowlog", "help", "x"}),
          // The length limit applies at the next entry, as Redis trims it.
          Cmd({"CONFIG", "SET", "slowlog-max-len", "2"}),
          Cmd({"SLOWLOG", "LEN"}),
          Cmd({"PING"}),
          Cmd({"SLOWLOG", "LEN"}),
          Cmd({"CONFIG", "SET", "slowlog-max-len", "-1"}),
          Cmd({"CONFIG", "SET", "slowlog-max-len", "x"}),
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "-2"}),
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "1x"}),
          Cmd({"CONFIG", "GET", "slowlog-max-len"}),
          Cmd({"CONFIG", "GET", "slowlog-log-slower-than"}),
          // Off: nothing is logged, the CONFIG SET that turns it on is.
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "-1"}),
          Cmd({"SLOWLOG", "RESET"}),
          Cmd({"PING"}),
          Cmd({"SLOWLOG", "LEN"}),
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"}),
          Cmd({"SLOWLOG", "GET"}),
          // A high threshold logs none of these quick commands.
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "10000000", "slowlog-max-len", "128"}),
          Cmd({"SLOWLOG", "RESET"}),
          Cmd({"SET", "k", "w"}),
          Cmd({"SLOWLOG", "LEN"}),
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"}),
          Cmd({"HELLO", "2", "SETNAME", "viahello"}),
          Cmd({"RESET"}),
          Cmd({"SLOWLOG", "GET", "2"}),
          Cmd({"CONFIG", "RESETSTAT"}),
          Cmd({"SLOWLOG", "LEN"}),
          Cmd({"CONFIG", "GET", "slowlog-max-len"}),
      },
      "", {}, "", false, MaskEntries);
}

// A blocked command is logged when a write serves it, as Redis logs it once unblocked,
// with its own arguments (not the pop it was served by), and when CLIENT UNBLOCK answers
// it (ClientUnblockTest's ids differ per server: not here); not when it times out. (Ids are masked:
// the harness's INFO polls while waiting for the client to block are logged too, a different number
// of them on each server.)
TEST_F(DifferentialTest, SlowlogLogsABlockedCommandWhenServed) {
  const ReplyMask mask = [](std::string reply) {
    static const std::regex kId("\\*6\r\n:[0-9]+\r\n");
    return std::regex_replace(MaskEntries(std::move(reply)), kId, "*6\r\n:<id>\r\n");
  };
  Compare(
      {
          Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"}),
          On(1, {"CLIENT", "SETNAME", "blocked"}),
          Step{1, EncodeCommand({"BLPOP", "l", "0"}), 0, false},
          AfterBlocked(1, {"SLOWLOG", "RESET"}),
          Cmd({"LPUSH", "l", "foo"}),
          Read(1),
          Cmd({"SLOWLOG", "GET", "2"}),
          Step{1, EncodeCommand({"BLPOP", "l", "0.01"}), 1, false},
          Cmd({"SLOWLOG", "GET", "1"}),
      },
      "", {}, "", false, mask);
}

}  // namespace
}  // namespace ekv::redis::differential
