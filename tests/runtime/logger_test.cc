// The server's log lines: logfmt with time, level, node and group where known; messages
// escaped onto one line; levels parsed and filtered.
#include "runtime/log/logger.h"

#include <cstdio>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ekv::runtime {
namespace {

std::chrono::system_clock::time_point At() {
  return absl::ToChronoTime(
      absl::FromCivil(absl::CivilSecond(2026, 12, 5, 10, 23, 7), absl::UTCTimeZone()) +
      absl::Milliseconds(123));
}

TEST(LoggerTest, FormatsOneLogfmtLine) {
  EXPECT_EQ(FormatLogLine(At(), LogLevel::kInfo, 1, 2, "snapshot of group 2 staged"),
            "time=2026-12-05T10:23:07.123Z level=info node=n1 group=2 "
            "msg=\"snapshot of group 2 staged\"");
  EXPECT_EQ(FormatLogLine(At(), LogLevel::kWarn, 3, 0, "say \"hi\"\\\nnext\x01"),
            "time=2026-12-05T10:23:07.123Z level=warn node=n3 "
            "msg=\"say \\\"hi\\\"\\\\\\nnext\\x01\"");
}

TEST(LoggerTest, ParsesLevels) {
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("verbose").status().message(),
            "'verbose' is not a log level (error, warn, info, debug)");
}

TEST(LoggerTest, GroupNamedInAMessage) {
  EXPECT_EQ(GroupNamedIn("gc: group 12 pass made no progress"), 12u);
  EXPECT_EQ(GroupNamedIn("a voter of every group"), 0u);
  EXPECT_EQ(GroupNamedIn("caught up"), 0u);
}

TEST(LoggerTest, DropsLinesBelowTheThresholdAndSinksClassify) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  Logger logger(LogLevel::kWarn, 2, out);
  logger.Info("not written");
  logger.Debug("not written");
  logger.Error("disk full", 3);
  logger.Sink()("snapshot of group 4 to node 1 failed: cancelled");
  logger.Sink()("snapshot of group 4 streamed");  // info: dropped
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  EXPECT_EQ(text.find("not written"), std::string::npos) << text;
  EXPECT_NE(text.find("level=error node=n2 group=3 msg=\"disk full\"\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("level=warn node=n2 group=4 msg=\"snapshot of group 4 to node 1 failed: "
                      "cancelled\"\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("streamed"), std::string::npos) << text;
}

}  // namespace
}  // namespace ekv::runtime
