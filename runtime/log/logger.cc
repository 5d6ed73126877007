#include "runtime/log/logger.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace ekv::runtime {

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  if (name == "error") return LogLevel::kError;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "info") return LogLevel::kInfo;
  if (name == "debug") return LogLevel::kDebug;
  return absl::InvalidArgumentError(
      absl::StrCat("'", name, "' is not a log level (error, warn, info, debug)"));
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "unknown";
}

std::string FormatLogLine(std::chrono::system_clock::time_point at, LogLevel level,
                          raft::NodeId node, raft::GroupId group, absl::string_view message) {
  std::string line = absl::StrCat(
      "time=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(at), absl::UTCTimeZone()),
      " level=", LogLevelName(level));
  if (node != raft::kNoNode) absl::StrAppend(&line, " node=n", node);
  if (group != 0) absl::StrAppend(&line, " group=", group);
  line += " msg=\"";
  for (unsigned char c : message) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += static_cast<char>(c);
    } else if (c == '\n') {
      line += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&line, "\\x%02x", c);
    } else {
      line += static_cast<char>(c);
    }
  }
  line += '"';
  return line;
}

void Logger::Log(LogLevel level, absl::string_view message, raft::GroupId group) const {
  if (!Enabled(level)) return;
  std::string line = FormatLogLine(std::chrono::system_clock::now(), level, node_, group, message);
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

raft::GroupId GroupNamedIn(absl::string_view message) {
  const size_t at = message.find("group ");
  if (at == absl::string_view::npos) return 0;
  raft::GroupId group = 0;
  for (size_t i = at + 6; i < message.size() && absl::ascii_isdigit(message[i]); ++i) {
    if (group > (UINT64_MAX - 9) / 10) return 0;  // not a group id
    group = group * 10 + static_cast<raft::GroupId>(message[i] - '0');
  }
  return group;
}

std::function<void(const std::string&)> Logger::Sink() const {
  return [this](const std::string& line) {
    const LogLevel level = absl::StrContains(line, " failed") ? LogLevel::kWarn : LogLevel::kInfo;
    Log(level, line, GroupNamedIn(line));
  };
}

}  // namespace ekv::runtime
