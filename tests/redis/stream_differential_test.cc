// Streams (XADD, XTRIM, XLEN, XRANGE, XREVRANGE, XDEL, XSETID, XINFO) against a real
// redis-server 7.0, byte for byte, in RESP2 and RESP3, errors and edge cases included.
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/redis/differential_script.h"

namespace ekv::redis::differential {
namespace {

// Ids XADD makes from `*` are the server's time: each server's own.
std::string MaskTimeIds(std::string reply) {
  static const std::regex kTimeId("[0-9]{13}-[0-9]+");
  return std::regex_replace(reply, kTimeId, "<time-id>");
}

// XINFO's radix-tree-nodes is the size of Redis's radix tree, which ekv does not model
// (commands_stream_info.cc).
std::string MaskTreeNodes(std::string reply) {
  static const std::regex kNodes("(radix-tree-nodes\r\n):[0-9]+\r\n");
  return std::regex_replace(reply, kNodes, "$1:<n>\r\n");
}

std::vector<Step> InBothProtocols(const std::vector<Step>& steps) {
  std::vector<Step> script = steps;
  script.push_back(Cmd({"FLUSHALL"}));
  script.push_back(Cmd({"HELLO", "3"}));
  script.insert(script.end(), steps.begin(), steps.end());
  return script;
}

TEST_F(DifferentialTest, StreamAddAndIds) {
  Compare(InBothProtocols({
              Cmd({"XADD", "s", "0-0", "a", "1"}),
              Cmd({"XADD", "s", "0", "a", "1"}),
              Cmd({"XADD", "s", "0-1", "a", "1"}),
              Cmd({"XADD", "s", "5-1", "a", "1"}),
              Cmd({"XADD", "s", "5-1", "a", "1"}),
              Cmd({"XADD", "s", "5-0", "a", "1"}),
              Cmd({"XADD", "s", "5-*", "a", "1", "b", "2"}),
              Cmd({"XADD", "s", "4-*", "a", "1"}),
              Cmd({"XADD", "s", "6", "f", "v"}),
              Cmd({"XADD", "s", "abc", "a", "1"}),
              Cmd({"XADD", "s", "1-x", "a", "1"}),
              Cmd({"XADD", "s", "-1", "a", "1"}),
              Cmd({"XADD", "s", "7--1", "a", "1"}),
              Cmd({"XADD", "s", "+8-1", "a", "1"}),
              Cmd({"XADD", "s", "9-18446744073709551616", "a", "1"}),
              Cmd({"XADD", "s", "-", "a", "1"}),
              Cmd({"XADD", "s", "+", "a", "1"}),
              Cmd({"XADD", "s", "*", "a"}),
              Cmd({"XADD", "s", "*"}),
              Cmd({"XADD", "s", "10-1", "a", "1", "b"}),
              Cmd({"XADD", "s", "nomkstream"}),
              Cmd({"XADD", "s", "maxlen", "5"}),
              Cmd({"XADD", "s", "maxlen"}),
              Cmd({"XADD", "nokey", "NOMKSTREAM", "1-1", "a", "1"}),
              Cmd({"EXISTS", "nokey"}),
              Cmd({"XADD", "s", "NOMKSTREAM", "20-1", "a", "1"}),
              Cmd({"XADD", "s", "18446744073709551615-*", "a", "1"}),
              Cmd({"XADD", "s", "18446744073709551615-*", "a", "1"}),
              Cmd({"XADD", "s", "18446744073709551615-18446744073709551615", "a", "1"}),
              Cmd({"XADD", "s", "*", "a", "1"}),
              Cmd({"XLEN", "s"}),
              Cmd({"XRANGE", "s", "-", "+"}),
              Cmd({"XADD", "s2", "0-*", "a", "1"}),
              Cmd({"XADD", "s2", "0-*", "a", "1"}),
              Cmd({"XADD", "s2", "*", "a", "1"}),
              Cmd({"XADD", "s2", "*", "a", "1"}),
              Cmd({"XLEN", "s2"}),
              Cmd({"TYPE", "s2"}),
              Cmd({"OBJECT", "ENCODING", "s2"}),
              Cmd({"SET", "str", "1"}),
              Cmd({"XADD", "str", "*", "a", "1"}),
              Cmd({"XADD", "str", "0-0", "a", "1"}),
              Cmd({"XLEN", "str"}),
              Cmd({"XLEN", "nokey"}),
              Cmd({"LPUSH", "s2", "x"}),
              Cmd({"GET", "s2"}),
          }),
          "", {}, "", false, &MaskTimeIds);
}

TEST_F(DifferentialTest, StreamTrimOptions) {
  std::vector<Step> steps;
  for (int i = 1; i <= 12; ++i) {
    steps.push_back(Cmd({"XADD", "s", absl::StrCat(i, "-1"), "f", absl::StrCat(i)}));
  }
  std::vector<Step> more = {
      Cmd({"XADD", "s", "MAXLEN", "-1", "*", "a", "1"}),
      Cmd({"XADD", "s", "MAXLEN", "=", "-1", "*", "a", "1"}),
      Cmd({"XADD", "s", "MAXLEN", "=", "x", "*", "a", "1"}),
      Cmd({"XADD", "s", "MINID", "1", "MAXLEN", "3", "*", "a", "1"}),
      Cmd({"XADD", "s", "MAXLEN", "3", "MINID", "1", "*", "a", "1"}),
      Cmd({"XADD", "s", "MAXLEN", "3", "MAXLEN", "4", "*", "a", "1"}),
      Cmd({"XADD", "s", "LIMIT", "-1", "MAXLEN", "~", "3", "*", "a", "1"}),
      Cmd({"XADD", "s", "LIMIT", "x", "MAXLEN", "~", "3", "*", "a", "1"}),
      Cmd({"XADD", "s", "LIMIT", "5", "*", "a", "1"}),
      Cmd({"XADD", "s", "LIMIT", "5", "MAXLEN", "3", "*", "a", "1"}),
      Cmd({"XADD", "s", "LIMIT", "0", "MAXLEN", "3", "*", "a", "1"}),
      Cmd({"XADD", "s", "MINID", "x", "*", "a", "1"}),
      Cmd({"XADD", "s", "MINID", "-", "*", "a", "1"}),
      Cmd({"XLEN", "s"}),
      // `~` keeps whole nodes (100 entries): nothing goes from a stream of 12.
      Cmd({"XADD", "s", "MAXLEN", "~", "2", "13-1", "a", "1"}),
      Cmd({"XTRIM", "s", "MAXLEN", "~", "2"}),
      Cmd({"XTRIM", "s", "MINID", "~", "10"}),
      Cmd({"XLEN", "s"}),
      Cmd({"XADD", "s", "MAXLEN", "=", "10", "14-1", "a", "1"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "2"}),
      Cmd({"XADD", "s", "maxlen", "8", "15-1", "a", "1"}),
      Cmd({"XADD", "s", "minid", "=", "10", "16-1", "a", "1"}),
      Cmd({"XRANGE", "s", "-", "+"}),
      Cmd({"XTRIM", "s"}),
      Cmd({"XTRIM", "s", "MINID"}),
      Cmd({"XTRIM", "s", "FOO", "1"}),
      Cmd({"XTRIM", "s", "LIMIT", "1", "x"}),
      Cmd({"XTRIM", "s", "LIMIT", "1", "MAXLEN", "1"}),
      Cmd({"XTRIM", "s", "MAXLEN", "1", "MINID", "1"}),
      Cmd({"XTRIM", "s", "MAXLEN", "x"}),
      Cmd({"XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "0"}),
      Cmd({"XTRIM", "s", "MINID", "13"}),
      Cmd({"XTRIM", "s", "MINID", "13"}),
      Cmd({"XTRIM", "s", "MAXLEN", "3"}),
      Cmd({"XRANGE", "s", "-", "+"}),
      Cmd({"XTRIM", "nokey", "MAXLEN", "1"}),
      Cmd({"XTRIM", "nokey", "FOO"}),
      Cmd({"XTRIM", "s", "MAXLEN", "0"}),
      Cmd({"XLEN", "s"}),
      Cmd({"EXISTS", "s"}),
      Cmd({"TYPE", "s"}),
      Cmd({"XINFO", "STREAM", "s"}),
      Cmd({"SET", "str", "x"}),
      Cmd({"XTRIM", "str", "MAXLEN", "1"}),
      Cmd({"XTRIM", "str", "FOO"}),
  };
  steps.insert(steps.end(), more.begin(), more.end());
  Compare(InBothProtocols(steps), "", {}, "", false,
          [](std::string reply) { return MaskTreeNodes(MaskTimeIds(std::move(reply))); });
}

// `~` trimming removes whole nodes of 100 entries, as Redis's listpacks of small entries.
TEST_F(DifferentialTest, StreamApproximateTrimByNodes) {
  std::vector<Step> steps;
  for (int i = 1; i <= 250; ++i) {
    steps.push_back(Cmd({"XADD", "s", absl::StrCat(i, "-0"), "f", "v"}));
  }
  std::vector<Step> more = {
      Cmd({"XINFO", "STREAM", "s"}),
      Cmd({"XTRIM", "s", "MAXLEN", "~", "200"}),
      Cmd({"XTRIM", "s", "MAXLEN", "~", "120"}),
      Cmd({"XLEN", "s"}),
      Cmd({"XDEL", "s", "101-0", "102-0"}),
      Cmd({"XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "50"}),
      Cmd({"XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "98"}),
      Cmd({"XLEN", "s"}),
      Cmd({"XTRIM", "s", "MINID", "~", "240"}),
      Cmd({"XADD", "s", "MINID", "~", "300", "300-0", "f", "v"}),
      Cmd({"XINFO", "STREAM", "s"}),
      Cmd({"XTRIM", "s", "MINID", "240"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "1"}),
      Cmd({"XINFO", "STREAM", "s"}),
  };
  steps.insert(steps.end(), more.begin(), more.end());
  Compare(steps, "", {}, "", false, &MaskTreeNodes);
}

TEST_F(DifferentialTest, StreamRanges) {
  Compare(InBothProtocols({
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "0"}),
      Cmd({"XADD", "s", "1-1", "a", "1"}),
      Cmd({"XADD", "s", "2-1", "b", "2", "c", "3"}),
      Cmd({"XADD", "s", "3-0", "a", "1"}),
      Cmd({"XADD", "s", "3-5", "", ""}),
      Cmd({"XRANGE", "s", "-", "+"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "0"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "-1"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "2"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "2", "COUNT", "1"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT"}),
      Cmd({"XRANGE", "s", "-", "+", "COUNT", "x"}),
      Cmd({"XRANGE", "s", "-", "+", "foo"}),
      Cmd({"XRANGE", "s", "(-", "+"}),
      Cmd({"XRANGE", "s", "-", "(+"}),
      Cmd({"XRANGE", "s", "(1-1", "(3"}),
      Cmd({"XRANGE", "s", "(1", "+"}),
      Cmd({"XRANGE", "s", "2", "2"}),
      Cmd({"XRANGE", "s", "3", "3"}),
      Cmd({"XRANGE", "s", "3", "2"}),
      Cmd({"XRANGE", "s", "(", "+"}),
      Cmd({"XRANGE", "s", "((1", "+"}),
      Cmd({"XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"}),
      Cmd({"XRANGE", "s", "-", "(0-0"}),
      Cmd({"XRANGE", "s", "-", "(0"}),
      Cmd({"XRANGE", "s", "x", "+", "COUNT", "x"}),
      Cmd({"XRANGE", "s", "-", "y"}),
      Cmd({"XRANGE", "s", std::string(200, '1'), "+"}),
      Cmd({"XRANGE", "s", "0-0", "18446744073709551615"}),
      Cmd({"XREVRANGE", "s", "+", "-"}),
      Cmd({"XREVRANGE", "s", "+", "-", "COUNT", "1"}),
      Cmd({"XREVRANGE", "s", "+", "-", "COUNT", "0"}),
      Cmd({"XREVRANGE", "s", "(3-0", "-"}),
      Cmd({"XREVRANGE", "s", "3", "(1-1"}),
      Cmd({"XREVRANGE", "s", "-", "+"}),
      Cmd({"XREVRANGE", "s", "(0-0", "-"}),
      Cmd({"XREVRANGE", "s", "+", "(18446744073709551615-18446744073709551615"}),
      Cmd({"XRANGE", "nokey", "-", "+"}),
      Cmd({"XRANGE", "nokey", "-", "+", "COUNT", "0"}),
      Cmd({"XREVRANGE", "nokey", "+", "-"}),
      Cmd({"XRANGE", "nokey", "x", "+"}),
      Cmd({"SET", "str", "1"}),
      Cmd({"XRANGE", "str", "-", "+"}),
      Cmd({"XRANGE", "str", "x", "+"}),
      Cmd({"XREVRANGE", "str", "+", "-", "COUNT", "x"}),
      Cmd({"XRANGE", "s"}),
  }));
}

TEST_F(DifferentialTest, StreamDeleteSetIdAndInfo) {
  Compare(InBothProtocols({
              Cmd({"XADD", "s", "1-1", "a", "1"}),
              Cmd({"XADD", "s", "2-1", "b", "2"}),
              Cmd({"XADD", "s", "3-0", "c", "3"}),
              Cmd({"XINFO", "STREAM", "s"}),
              Cmd({"XDEL", "s", "2-1", "9-9"}),
              Cmd({"XDEL", "s", "2-1"}),
              Cmd({"XDEL", "s", "1-1", "x"}),
              Cmd({"XDEL", "s", "-"}),
              Cmd({"XDEL", "s", "1"}),
              Cmd({"XINFO", "STREAM", "s"}),
              Cmd({"XDEL", "s", "3-0"}),
              Cmd({"XINFO", "STREAM", "s"}),
              Cmd({"XINFO", "STREAM", "s", "FULL"}),
              Cmd({"XLEN", "s"}),
              Cmd({"EXISTS", "s"}),
              Cmd({"XADD", "s", "2-0", "a", "1"}),
              Cmd({"XADD", "s", "3-1", "a", "1"}),
              Cmd({"XDEL", "nokey", "1-1"}),
              Cmd({"XDEL", "nokey", "x"}),
              Cmd({"XSETID", "s", "3-0"}),
              Cmd({"XSETID", "s", "3-1"}),
              Cmd({"XSETID", "s", "10-0"}),
              Cmd({"XSETID", "s", "10", "ENTRIESADDED", "1"}),
              Cmd({"XSETID", "s", "10", "ENTRIESADDED", "-1"}),
              Cmd({"XSETID", "s", "10", "ENTRIESADDED", "x"}),
              Cmd({"XSETID", "s", "10", "ENTRIESADDED", "20", "MAXDELETEDID", "11-0"}),
              Cmd({"XSETID", "s", "10", "ENTRIESADDED", "20", "MAXDELETEDID", "2-0"}),
              Cmd({"XSETID", "s", "10", "MAXDELETEDID", "x"}),
              Cmd({"XSETID", "s", "10", "MAXDELETEDID", "1-0"}),
              Cmd({"XSETID", "s", "10", "foo"}),
              Cmd({"XSETID", "s", "10", "ENTRIESADDED"}),
              Cmd({"XSETID", "s", "x"}),
              Cmd({"XSETID", "s", "-"}),
              Cmd({"XSETID", "nokey", "7"}),
              Cmd({"XSETID", "nokey", "x"}),
              Cmd({"XINFO", "STREAM", "s"}),
              Cmd({"XADD", "s", "10-0", "a", "1"}),
              Cmd({"XADD", "s", "10-*", "a", "1"}),
              Cmd({"XADD", "s", "*", "a", "1"}),
              Cmd({"XINFO", "STREAM", "s", "FULL", "COUNT", "1"}),
              Cmd({"XINFO", "STREAM", "s", "FULL", "COUNT", "0"}),
              Cmd({"XINFO", "STREAM", "s", "FULL", "COUNT", "-1"}),
              Cmd({"XINFO", "STREAM", "s", "FULL", "COUNT", "x"}),
              Cmd({"XINFO", "STREAM", "s", "FULL", "x", "1"}),
              Cmd({"XINFO", "STREAM", "s", "x"}),
              Cmd({"XINFO", "STREAM", "s", "FULL", "COUNT"}),
              Cmd({"XINFO", "STREAM", "nokey"}),
              Cmd({"XINFO", "STREAM"}),
              Cmd({"XINFO"}),
              Cmd({"XINFO", "HELP"}),
              Cmd({"XINFO", "HELP", "x"}),
              Cmd({"XINFO", "foo"}),
              Cmd({"XINFO", "GROUPS", "s"}),
              Cmd({"XINFO", "GROUPS", "nokey"}),
              Cmd({"SET", "str", "1"}),
              Cmd({"XINFO", "STREAM", "str"}),
              Cmd({"XDEL", "str", "1-1"}),
              Cmd({"XSETID", "str", "1-1"}),
              Cmd({"XSETID", "s", "0-0"}),
          }),
          "", {}, "", false,
          [](std::string reply) { return MaskTreeNodes(MaskTimeIds(std::move(reply))); });
}

// A stream as a key: DEL, EXPIRE, RENAME, COPY, TYPE, SCAN TYPE, OBJECT, DUMP's refusal
// aside, and inside MULTI/EXEC and Lua.
TEST_F(DifferentialTest, StreamAsAKeyInTransactionsAndScripts) {
  Compare(InBothProtocols({
              Cmd({"XADD", "s", "1-1", "a", "1"}),
              Cmd({"TYPE", "s"}),
              Cmd({"OBJECT", "ENCODING", "s"}),
              Cmd({"SCAN", "0", "TYPE", "stream"}),
              Cmd({"EXPIRE", "s", "100"}),
              Cmd({"TTL", "s"}),
              Cmd({"RENAME", "s", "t"}),
              Cmd({"XRANGE", "t", "-", "+"}),
              Cmd({"XADD", "t", "1-1", "a", "1"}),
              Cmd({"XADD", "t", "1-2", "b", "2"}),
              Cmd({"COPY", "t", "u"}),
              Cmd({"XADD", "u", "1-2", "b", "2"}),
              Cmd({"XINFO", "STREAM", "u"}),
              Cmd({"TTL", "u"}),
              Cmd({"XDEL", "t", "1-1", "1-2"}),
              Cmd({"COPY", "t", "v"}),
              Cmd({"XINFO", "STREAM", "v"}),
              Cmd({"DEL", "t", "u"}),
              Cmd({"UNLINK", "v"}),
              Cmd({"EXISTS", "t", "u", "v"}),
              Cmd({"XADD", "t", "1-1", "a", "1"}),
              Cmd({"MULTI"}),
              Cmd({"XADD", "m", "5-5", "x", "y"}),
              Cmd({"XADD", "m", "5-5", "x", "y"}),
              Cmd({"XLEN", "m"}),
              Cmd({"XRANGE", "m", "-", "+"}),
              Cmd({"XDEL", "m", "5-5"}),
              Cmd({"XADD", "m"}),
              Cmd({"EXEC"}),
              Cmd({"MULTI"}),
              Cmd({"XADD", "m", "6-6", "x", "y"}),
              Cmd({"XTRIM", "m", "MAXLEN", "0"}),
              Cmd({"XSETID", "m", "7-7"}),
              Cmd({"XINFO", "STREAM", "m"}),
              Cmd({"EXEC"}),
              Cmd({"EVAL", "return redis.call('XADD', KEYS[1], '9-1', 'f', 'v')", "1", "m"}),
              Cmd({"EVAL", "return redis.call('XRANGE', KEYS[1], '-', '+')", "1", "m"}),
              Cmd({"EVAL", "return redis.pcall('XADD', KEYS[1], '1-1', 'f', 'v')", "1", "m"}),
              Cmd({"EVAL", "return redis.call('XLEN', KEYS[1])", "1", "m"}),
              Cmd({"EVAL", "return redis.call('XINFO', 'STREAM', KEYS[1])", "1", "m"}),
              Cmd({"EVAL", "return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)", "1", "m"}),
              Cmd({"LPUSH", "m", "x"}),
              Cmd({"SET", "m", "x"}),
              Cmd({"XLEN", "m"}),
          }),
          "", {}, "", false, &MaskTreeNodes);
}

TEST_F(DifferentialTest, StreamKeyspaceNotifications) {
  std::vector<Step> script = {
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEA"}),
      On(1, {"PSUBSCRIBE", "*"}),
  };
  auto notify = [&](std::vector<std::string> args, int messages) {
    script.push_back(Cmd(std::move(args)));
    script.push_back(Read(1, messages));
  };
  notify({"XADD", "s", "1-1", "a", "1"}, 2);
  notify({"XADD", "s", "1-1", "a", "1"}, 0);
  notify({"XADD", "s", "MAXLEN", "1", "2-1", "a", "1"}, 4);
  notify({"XADD", "s", "MAXLEN", "5", "3-1", "a", "1"}, 2);
  notify({"XDEL", "s", "9-9"}, 0);
  notify({"XDEL", "s", "2-1"}, 2);
  notify({"XTRIM", "s", "MAXLEN", "5"}, 0);
  notify({"XTRIM", "s", "MAXLEN", "0"}, 2);
  notify({"XSETID", "s", "10-0"}, 2);
  notify({"XADD", "nokey", "NOMKSTREAM", "1-1", "a", "1"}, 0);
  notify({"DEL", "s"}, 2);
  Compare(script);
}

TEST_F(DifferentialTest, StreamRead) {
  Compare(InBothProtocols({
      Cmd({"XREAD", "STREAMS"}),
      Cmd({"XREAD", "STREAMS", "s"}),
      Cmd({"XREAD", "STREAMS", "s", "0", "x"}),
      Cmd({"XREAD", "COUNT", "x", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "COUNT", "-5", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "BLOCK", "x", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "BLOCK", "-1", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "BLOCK", "1.5", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "foo", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "COUNT", "1"}),
      Cmd({"XREAD", "BLOCK", "1", "COUNT", "1", "s", "0"}),
      Cmd({"XREAD", "COUNT", "1", "BLOCK", "1", "STREAMS"}),
      Cmd({"XREAD", "STREAMS", "s", "x"}),
      Cmd({"XREAD", "STREAMS", "s", ">"}),
      Cmd({"XREAD", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "STREAMS", "s", "$"}),
      Cmd({"XADD", "s", "1-1", "a", "1"}),
      Cmd({"XADD", "s", "2-1", "b", "2"}),
      Cmd({"XADD", "t", "1-1", "c", "3"}),
      Cmd({"XREAD", "STREAMS", "s", "t", "0", "0"}),
      Cmd({"xread", "count", "1", "streams", "s", "t", "0", "1-1"}),
      Cmd({"XREAD", "STREAMS", "s", "t", "$", "$"}),
      Cmd({"XREAD", "STREAMS", "s", "t", "1-1", "0"}),
      Cmd({"XREAD", "STREAMS", "s", "s", "0", "1-1"}),
      Cmd({"XREAD", "STREAMS", "s", "1"}),
      Cmd({"XREAD", "BLOCK", "10", "STREAMS", "s", "2-1"}),
      Cmd({"XREAD", "BLOCK", "0", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "COUNT", "0", "STREAMS", "s", "0"}),
      Cmd({"XREAD", "BLOCK", "100", "BLOCK", "10", "STREAMS", "s", "5"}),
      Cmd({"SET", "str", "1"}),
      Cmd({"XREAD", "STREAMS", "s", "str", "0", "0"}),
      Cmd({"XREAD", "STREAMS", "str", "s", "x", "0"}),
      Cmd({"XREAD", "BLOCK", "0", "STREAMS", "s", "str", "9", "0"}),
      Cmd({"XREAD", "BLOCK", "0", "STREAMS", "str", "s", "$", "$"}),
      Cmd({"XREAD", "STREAMS", "nokey", "s", "0", "0"}),
      Cmd({"XREAD", "STREAMS", "s", "(1", "0"}),
      Cmd({"XREAD", "STREAMS", "s", "-"}),
      Cmd({"XREAD", "STREAMS", "s", "18446744073709551615-18446744073709551615"}),
      Cmd({"XDEL", "s", "1-1", "2-1"}),
      Cmd({"XREAD", "STREAMS", "s", "0"}),
      Cmd({"MULTI"}),
      Cmd({"XREAD", "BLOCK", "0", "STREAMS", "s", "5"}),
      Cmd({"XREAD", "BLOCK", "0", "STREAMS", "t", "0"}),
      Cmd({"XREAD", "STREAMS", "t", "str", "0", "0"}),
      Cmd({"EXEC"}),
      Cmd({"EVAL", "return redis.call('xread','block',0,'streams',KEYS[1],0)", "1", "t"}),
      Cmd({"EVAL", "return redis.pcall('XREAD','BLOCK','x','streams',KEYS[1],0)", "1", "t"}),
      Cmd({"EVAL", "return redis.call('xread','streams',KEYS[1],'$')", "1", "t"}),
      Cmd({"EVAL", "return redis.call('xread','streams',KEYS[1],0)", "1", "t"}),
      Cmd({"EVAL", "redis.setresp(3) return redis.call('xread','streams',KEYS[1],0)", "1", "t"}),
  }));
}

// XREAD ... BLOCK: woken by an XADD from another connection, every reader of the stream
// served, `$` meaning the last id when the client blocked, timeouts as Redis's.
TEST_F(DifferentialTest, StreamBlockingRead) {
  Compare(
      {
          Cmd({"XADD", "s", "1-0", "f", "v"}),
          On(1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, 0),
          AfterBlocked(1, {"XADD", "s", "2-0", "f", "v2"}),
          Read(1),
          // Two readers of one stream, and one waiting past the new entry's id.
          On(1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, 0),
          On(2, {"XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "2-0"}, 0),
          On(3, {"XREAD", "BLOCK", "0", "STREAMS", "s", "100-0"}, 0),
          AfterBlocked(3, {"XADD", "s", "3-0", "a", "1"}),
          Read(1),
          Read(2),
          AfterBlocked(1, {"XADD", "s", "101-0", "b", "2"}),
          Read(3),
          // Two streams: only the one written answers; RESP3 answers a map.
          On(2, {"HELLO", "3"}),
          On(2, {"XREAD", "BLOCK", "0", "STREAMS", "s", "nokey", "$", "$"}, 0),
          AfterBlocked(1, {"XADD", "nokey", "5-0", "n", "1"}),
          Read(2),
          // Data already there: no wait.
          On(1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "0"}),
          // Timeouts answer a null array (RESP3: null).
          On(1, {"XREAD", "BLOCK", "30", "STREAMS", "s", "$"}),
          On(2, {"XREAD", "BLOCK", "30", "STREAMS", "s", "nokey", "$", "$"}),
          Cmd({"XADD", "s", "102-0", "c", "3"}),
          On(1, {"XREAD", "BLOCK", "30", "STREAMS", "s", "$"}),
          // A stream created while the client waits.
          On(1, {"XREAD", "BLOCK", "0", "STREAMS", "fresh", "$"}, 0),
          AfterBlocked(1, {"XADD", "fresh", "*", "x", "y"}),
          Read(1),
          Cmd({"XLEN", "fresh"}),
      },
      "", {}, "", false, &MaskTimeIds);
}

// Times a group records (delivery, seen) are each server's clock: masked.
std::string MaskGroupTimes(std::string reply) {
  static const std::regex kPending(
      "(\\*4\r\n\\$[0-9]+\r\n[0-9]+-[0-9]+\r\n\\$[0-9]+\r\n[^\r]*\r\n):[0-9]+\r\n");
  static const std::regex kOwnPending("(\\*3\r\n\\$[0-9]+\r\n[0-9]+-[0-9]+\r\n):[0-9]+\r\n");
  static const std::regex kIdle("((idle|seen-time)\r\n):[0-9]+\r\n");
  reply = std::regex_replace(reply, kPending, "$1:<t>\r\n");
  reply = std::regex_replace(reply, kOwnPending, "$1:<t>\r\n");
  return MaskTreeNodes(std::regex_replace(reply, kIdle, "$1:<t>\r\n"));
}

TEST_F(DifferentialTest, StreamConsumerGroups) {
  Compare(
      InBothProtocols({
          Cmd({"XGROUP", "CREATE", "s", "g", "$"}),
          Cmd({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}),
          Cmd({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}),
          Cmd({"XGROUP", "CREATE", "s", "g2", "x"}),
          Cmd({"XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "-5"}),
          Cmd({"XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "x"}),
          Cmd({"XGROUP", "CREATE", "s", "g3", "0", "foo"}),
          Cmd({"XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "3"}),
          Cmd({"XGROUP", "SETID", "s", "nog", "0"}),
          Cmd({"XGROUP", "SETID", "s", "g3", "$", "ENTRIESREAD", "2"}),
          Cmd({"XGROUP", "SETID", "s", "g3", "0", "foo"}),
          Cmd({"XGROUP", "SETID", "nokey", "g3", "0"}),
          Cmd({"XGROUP", "DESTROY", "s", "g3"}),
          Cmd({"XGROUP", "DESTROY", "s", "g3"}),
          Cmd({"XGROUP", "DESTROY", "nokey", "g3"}),
          Cmd({"XGROUP", "CREATECONSUMER", "s", "g", "c1"}),
          Cmd({"XGROUP", "CREATECONSUMER", "s", "g", "c1"}),
          Cmd({"XGROUP", "CREATECONSUMER", "s", "nog", "c1"}),
          Cmd({"XGROUP", "DELCONSUMER", "s", "g", "c1"}),
          Cmd({"XGROUP", "DELCONSUMER", "s", "g", "c1"}),
          Cmd({"XGROUP", "DELCONSUMER", "s", "nog", "c1"}),
          Cmd({"XGROUP", "HELP"}),
          Cmd({"XGROUP", "foo"}),
          Cmd({"XGROUP"}),
          Cmd({"XGROUP", "CREATE", "s"}),
          Cmd({"XREADGROUP", "STREAMS", "s", ">"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"}),
          Cmd({"XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "STREAMS", "s", "0"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0", "x"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "foo", "STREAMS", "s", "0"}),
          Cmd({"XREADGROUP", "COUNT", "1", "STREAMS", "s", "0", "1", "2"}),
          Cmd({"XREAD", "NOACK", "STREAMS", "s", "0"}),
          Cmd({"XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"}),
          Cmd({"XADD", "s", "1-0", "a", "1"}),
          Cmd({"XADD", "s", "2-0", "b", "2"}),
          Cmd({"XADD", "s", "3-0", "c", "3"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "1-0"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", "0"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"}),
          Cmd({"XPENDING", "s", "g"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "10"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "10", "c"}),
          Cmd({"XPENDING", "s", "g", "IDLE", "0", "-", "+", "10", "c"}),
          Cmd({"XPENDING", "s", "g", "IDLE", "100000000", "-", "+", "10"}),
          Cmd({"XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"}),
          Cmd({"XPENDING", "s", "g", "IDLE", "1", "-", "+"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "x"}),
          Cmd({"XPENDING", "s", "g", "-", "+"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "1"}),
          Cmd({"XPENDING", "s", "g", "(1-0", "+", "5"}),
          Cmd({"XPENDING", "s", "g", "-", "(2", "5"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "0"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "-1"}),
          Cmd({"XPENDING", "s", "g", "x", "+", "10"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "10", "nocons"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "10", "c", "extra"}),
          Cmd({"XPENDING", "s", "nog"}),
          Cmd({"XPENDING", "nokey", "g"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XINFO", "CONSUMERS", "s", "g"}),
          Cmd({"XINFO", "CONSUMERS", "s", "nog"}),
          Cmd({"XINFO", "STREAM", "s"}),
          Cmd({"XINFO", "STREAM", "s", "FULL"}),
          Cmd({"XINFO", "STREAM", "s", "FULL", "COUNT", "1"}),
          Cmd({"XACK", "s", "g", "1-0", "9-9"}),
          Cmd({"XACK", "s", "g", "x"}),
          Cmd({"XACK", "s", "nog", "1-0"}),
          Cmd({"XACK", "nokey", "g", "1-0"}),
          Cmd({"XACK", "s", "g", "1-0", "2-0", "3-0"}),
          Cmd({"XPENDING", "s", "g"}),
          // A deleted entry still pending answers its id and a null.
          Cmd({"XADD", "s", "4-0", "d", "4"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"}),
          Cmd({"XDEL", "s", "4-0"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XGROUP", "SETID", "s", "g", "0"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c4", "STREAMS", "s", ">"}),
          Cmd({"XPENDING", "s", "g"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "10"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XGROUP", "DELCONSUMER", "s", "g", "c4"}),
          Cmd({"XPENDING", "s", "g"}),
          Cmd({"XGROUP", "CREATE", "s", "late", "0"}),
          Cmd({"XGROUP", "CREATE", "s", "mid", "2-0"}),
          Cmd({"XGROUP", "CREATE", "s", "known", "0", "ENTRIESREAD", "1"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XGROUP", "DESTROY", "s", "g"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XINFO", "STREAM", "s"}),
          Cmd({"SET", "str", "1"}),
          Cmd({"XGROUP", "CREATE", "str", "g", "$"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"}),
          Cmd({"XACK", "str", "g", "1-0"}),
          Cmd({"XPENDING", "str", "g"}),
          Cmd({"XINFO", "GROUPS", "str"}),
          Cmd({"MULTI"}),
          Cmd({"XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"}),
          Cmd({"XADD", "m", "1-0", "f", "v"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "m", ">"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "m", ">"}),
          Cmd({"XACK", "m", "g", "1-0"}),
          Cmd({"EXEC"}),
          Cmd({"EVAL", "return redis.call('XREADGROUP','GROUP','g','c','STREAMS',KEYS[1],'0')", "1",
               "m"}),
          Cmd({"EVAL",
               "return redis.pcall('XREADGROUP','GROUP','g','c','BLOCK',0,'STREAMS',KEYS[1],'>')",
               "1", "m"}),
      }),
      "", {}, "", false, &MaskGroupTimes);
}

// XREADGROUP ... BLOCK: consumers woken by an XADD, each entry delivered to one of a group's
// consumers, every group served.
TEST_F(DifferentialTest, StreamBlockingGroupRead) {
  Compare({
      Cmd({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}),
      On(1, {"XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"}, 0),
      AfterBlocked(1, {"XADD", "s", "1-0", "f", "v"}),
      Read(1),
      Cmd({"XGROUP", "CREATE", "s", "h", "$"}),
      On(1, {"XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"}, 0),
      On(2, {"XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">"}, 0),
      On(3, {"XREADGROUP", "GROUP", "h", "c3", "BLOCK", "0", "STREAMS", "s", ">"}, 0),
      AfterBlocked(3, {"XADD", "s", "2-0", "f", "v"}),
      Read(1),
      Read(3),
      AfterBlocked(1, {"XADD", "s", "3-0", "f", "v"}),
      Read(2),
      Cmd({"XPENDING", "s", "g"}),
      Cmd({"XPENDING", "s", "h"}),
      On(1, {"XREADGROUP", "GROUP", "g", "c1", "BLOCK", "30", "STREAMS", "s", ">"}),
      On(1, {"XREADGROUP", "GROUP", "g", "c1", "BLOCK", "30", "STREAMS", "s", "0"}),
      On(1, {"XREADGROUP", "GROUP", "nog", "c1", "BLOCK", "0", "STREAMS", "s", ">"}),
  });
}

TEST_F(DifferentialTest, StreamClaims) {
  Compare(
      InBothProtocols({
          Cmd({"XCLAIM", "s", "g", "c", "0", "1-0"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c", "0", "0"}),
          Cmd({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}),
          Cmd({"XADD", "s", "1-0", "a", "1"}),
          Cmd({"XADD", "s", "2-0", "b", "2"}),
          Cmd({"XADD", "s", "3-0", "c", "3"}),
          Cmd({"XADD", "s", "4-0", "d", "4"}),
          Cmd({"XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"}),
          Cmd({"XCLAIM", "s", "g", "c2", "x", "1-0"}),
          Cmd({"XCLAIM", "s", "g", "c2", "0", "1-0", "IDLE", "x"}),
          Cmd({"XCLAIM", "s", "g", "c2", "0", "1-0", "TIME", "x"}),
          Cmd({"XCLAIM", "s", "g", "c2", "0", "1-0", "RETRYCOUNT", "x"}),
          Cmd({"XCLAIM", "s", "g", "c2", "0", "1-0", "LASTID", "x"}),
          Cmd({"XCLAIM", "s", "g", "c2", "0", "1-0", "BOGUS"}),
          Cmd({"XCLAIM", "s", "g", "c2", "0", "1-0", "IDLE"}),
          Cmd({"XCLAIM", "s", "nog", "c2", "0", "1-0"}),
          Cmd({"XCLAIM", "s", "g", "c2", "100000000", "1-0"}),
          Cmd({"XCLAIM", "s", "g", "c2", "0", "1-0"}),
          Cmd({"XCLAIM", "s", "g", "c2", "-5", "2-0", "JUSTID"}),
          Cmd({"XCLAIM", "s", "g", "c3", "0", "2-0", "3-0", "RETRYCOUNT", "7", "IDLE", "50"}),
          Cmd({"XCLAIM", "s", "g", "c3", "0", "9-0"}),
          Cmd({"XCLAIM", "s", "g", "c3", "0", "9-0", "FORCE"}),
          Cmd({"XADD", "s", "5-0", "e", "5"}),
          Cmd({"XCLAIM", "s", "g", "c3", "0", "5-0", "FORCE", "JUSTID"}),
          Cmd({"XCLAIM", "s", "g", "c3", "0", "5-0", "LASTID", "6-0"}),
          Cmd({"XPENDING", "s", "g"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "10"}),
          Cmd({"XINFO", "GROUPS", "s"}),
          Cmd({"XDEL", "s", "2-0"}),
          Cmd({"XCLAIM", "s", "g", "c1", "0", "2-0", "3-0"}),
          Cmd({"XPENDING", "s", "g"}),
          Cmd({"XDEL", "s", "3-0"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "x", "0"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "0", "x"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "0", "(18446744073709551615-18446744073709551615"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "0"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "x"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "0", "0", "FOO"}),
          Cmd({"XAUTOCLAIM", "s", "nog", "c4", "0", "0"}),
          Cmd({"XAUTOCLAIM", "nokey", "g", "c4", "0", "0"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "100000000", "0"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "1"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c4", "0", "(1-0", "COUNT", "1", "JUSTID"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c5", "0", "-"}),
          Cmd({"XAUTOCLAIM", "s", "g", "c5", "0", "0", "JUSTID"}),
          Cmd({"XPENDING", "s", "g", "-", "+", "10"}),
          Cmd({"XINFO", "CONSUMERS", "s", "g"}),
          Cmd({"SET", "str", "1"}),
          Cmd({"XCLAIM", "str", "g", "c", "0", "1-0"}),
          Cmd({"XAUTOCLAIM", "str", "g", "c", "0", "0"}),
          Cmd({"XAUTOCLAIM", "str", "g", "c", "x", "0"}),
      }),
      "", {}, "", false, &MaskGroupTimes);
}

}  // namespace
}  // namespace ekv::redis::differential
