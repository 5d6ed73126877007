#include "adapters/redis/resp_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ekv::redis {
namespace {

using Commands = std::vector<std::vector<std::string>>;

struct Parsed {
  Commands commands;
  std::string error;  // set when the parser failed
};

// Feeds `chunks` one after another the way a connection does: unconsumed bytes stay
// in front of the next chunk.
Parsed ParseChunks(const std::vector<std::string>& chunks, RespLimits limits = {}) {
  RespParser parser(limits);
  Parsed parsed;
  std::string buffer;
  for (const std::string& chunk : chunks) {
    buffer += chunk;
    while (true) {
      size_t consumed = 0;
      RespParser::Result result = parser.Parse(buffer, &consumed);
      EXPECT_LE(consumed, buffer.size());
      buffer.erase(0, consumed);
      if (result == RespParser::Result::kCommand) {
        parsed.commands.push_back(std::move(parser.command()));
        continue;
      }
      if (result == RespParser::Result::kError) parsed.error = parser.error();
      break;
    }
    if (!parsed.error.empty()) break;
  }
  return parsed;
}

Parsed ParseAll(const std::string& input, RespLimits limits = {}) {
  return ParseChunks({input}, limits);
}

TEST(RespParserTest, MultibulkCommand) {
  Parsed parsed = ParseAll("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.commands, (Commands{{"SET", "key", "value"}}));
}

TEST(RespParserTest, BinarySafeArguments) {
  const std::string value("a\r\n\0b", 5);
  Parsed parsed = ParseAll("*2\r\n$4\r\nECHO\r\n$5\r\n" + value + "\r\n");
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.commands, (Commands{{"ECHO", value}}));
}

TEST(RespParserTest, EmptyArgumentAndEmptyArrays) {
  Parsed parsed = ParseAll("*0\r\n*-1\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.commands, (Commands{{"GET", ""}}));
}

TEST(RespParserTest, InlineCommandsWithQuotes) {
  Parsed parsed = ParseAll(
      "PING\r\n"
      "\r\n"
      "  set   k  \"a b\\x41\\n\"\n"
      "echo 'it\\'s'\r\n");
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.commands, (Commands{{"PING"}, {"set", "k", "a bA\n"}, {"echo", "it's"}}));
}

TEST(RespParserTest, PipelinedMixOfForms) {
  std::string input;
  Commands expected;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "key" + std::to_string(i);
    if (i % 3 == 0) {
      input += "GET " + key + "\r\n";
    } else {
      input += "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    }
    expected.push_back({"GET", key});
  }
  Parsed parsed = ParseAll(input);
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.commands, expected);
}

// Every way of cutting a stream in two (and into single bytes) parses the same.
TEST(RespParserTest, SplitAtEveryByteBoundary) {
  const std::string input =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123\r\n6789\r\n"
      "PING hello\r\n"
      "*1\r\n$4\r\nPING\r\n"
      "*2\r\n$3\r\nGET\r\n$0\r\n\r\n";
  const Commands expected = {
      {"SET", "k", "0123\r\n6789"}, {"PING", "hello"}, {"PING"}, {"GET", ""}};
  ASSERT_EQ(ParseAll(input).commands, expected);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    Parsed parsed = ParseChunks({input.substr(0, cut), input.substr(cut)});
    EXPECT_EQ(parsed.error, "") << "cut at " << cut;
    EXPECT_EQ(parsed.commands, expected) << "cut at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  EXPECT_EQ(ParseChunks(bytes).commands, expected);
}

TEST(RespParserTest, MalformedInputIsAProtocolError) {
  struct Case {
    std::string input;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$3\r\nGETxx", "Protocol error: bulk argument not followed by CRLF"},
      {"SET \"unterminated\r\n", "Protocol error: unbalanced quotes in request"},
      {"SET \"a\"b\r\n", "Protocol error: unbalanced quotes in request"},
  };
  for (const Case& c : cases) {
    Parsed parsed = ParseAll(c.input);
    EXPECT_EQ(parsed.error, c.error) << c.input;
    EXPECT_TRUE(parsed.commands.empty()) << c.input;
  }
}

TEST(RespParserTest, ErrorsAreSticky) {
  RespParser parser;
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse("*1\r\n:", &consumed), RespParser::Result::kError);
  EXPECT_EQ(parser.Parse("*1\r\n$4\r\nPING\r\n", &consumed), RespParser::Result::kError);
  EXPECT_EQ(consumed, 0u);
}

TEST(RespParserTest, SizesAreBounded) {
  RespLimits limits;
  limits.max_bulk_bytes = 16;
  limits.max_arguments = 4;
  limits.max_line_bytes = 32;
  limits.max_command_bytes = 40;
  EXPECT_EQ(ParseAll("*1\r\n$17\r\n", limits).error, "Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\n$16\r\n0123456789abcdef\r\n", limits).error, "");
  EXPECT_EQ(ParseAll("*5\r\n", limits).error, "Protocol error: invalid multibulk length");
  // A header line that never ends is refused once it passes the line bound, before the
  // CRLF arrives: the buffer cannot grow without bound.
  EXPECT_EQ(ParseAll("*" + std::string(40, '1'), limits).error,
            "Protocol error: too big mbulk count string");
  EXPECT_EQ(ParseAll("*1\r\n$" + std::string(40, '1'), limits).error,
            "Protocol error: too big bulk count string");
  EXPECT_EQ(ParseAll(std::string(40, 'a'), limits).error, "Protocol error: too big inline request");
  EXPECT_EQ(
      ParseAll("*3\r\n$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n$16\r\n", limits).error,
      "Protocol error: command larger than 40 bytes");
  // The default bulk bound refuses a huge declared length before any of it arrives.
  EXPECT_EQ(ParseAll("*1\r\n$1000000000000\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*99999999999999999999999\r\n").error,
            "Protocol error: invalid multibulk length");
}

TEST(RespParserTest, RedisIntegers) {
  long long v = 0;
  EXPECT_TRUE(ParseRedisInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseRedisInt64("-12", &v));
  EXPECT_EQ(v, -12);
  EXPECT_TRUE(ParseRedisInt64("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(ParseRedisInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "1a", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999"}) {
    EXPECT_FALSE(ParseRedisInt64(bad, &v)) << bad;
  }
}

}  // namespace
}  // namespace ekv::redis
