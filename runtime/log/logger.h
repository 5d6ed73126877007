// Logger: ekv-server's log, one line per event in logfmt, on standard output:
//
//   time=2026-12-05T10:23:07.123Z level=info node=n1 group=2 msg="snapshot of group 2 ..."
//
// `group` only where the event concerns one Raft group. Lines below the threshold
// (--log_level: error < warn < info < debug) are dropped before they are formatted.
// Thread-safe: each line is one locked write, so lines of different threads never mix.
// Fatal startup errors are not log lines: they go to stderr as "ekv-server: <why>" and the
// process exits non-zero.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/raft/types.h"

namespace ekv::runtime {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// "error", "warn", "info", "debug" (InvalidArgument otherwise).
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
absl::string_view LogLevelName(LogLevel level);

// One line without its newline. `group` 0: the event concerns no single group. The
// message is always quoted, with \ " and control characters escaped, so a line is one
// line and parses as logfmt whatever the message holds.
std::string FormatLogLine(std::chrono::system_clock::time_point at, LogLevel level,
                          raft::NodeId node, raft::GroupId group, absl::string_view message);

// The number after the first "group " in `message`; 0 when there is none.
raft::GroupId GroupNamedIn(absl::string_view message);

class Logger {
 public:
  Logger(LogLevel threshold, raft::NodeId node, std::FILE* out = stdout)
      : threshold_(threshold), node_(node), out_(out) {}

  bool Enabled(LogLevel level) const { return level <= threshold_; }
  void Log(LogLevel level, absl::string_view message, raft::GroupId group = 0) const;
  void Error(absl::string_view message, raft::GroupId group = 0) const {
    Log(LogLevel::kError, message, group);
  }
  void Warn(absl::string_view message, raft::GroupId group = 0) const {
    Log(LogLevel::kWarn, message, group);
  }
  void Info(absl::string_view message, raft::GroupId group = 0) const {
    Log(LogLevel::kInfo, message, group);
  }
  void Debug(absl::string_view message, raft::GroupId group = 0) const {
    Log(LogLevel::kDebug, message, group);
  }
  // For components that report through a `std::function<void(const std::string&)>`
  // hook with plain sentences (GC, snapshot streaming, membership); the logger must
  // outlive it. Such a component's messages name the group they concern ("gc: group 2
  // ...", "snapshot of group 2 ..."), which becomes the line's group (GroupNamedIn); a
  // message reporting a failure (" failed") is a warning, the others are info.
  std::function<void(const std::string&)> Sink() const;

 private:
  const LogLevel threshold_;
  const raft::NodeId node_;
  std::FILE* const out_;
  mutable std::mutex mu_;
};

}  // namespace ekv::runtime
