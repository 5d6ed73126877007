// RespParser: incremental parser of Redis client requests (RESP2 multibulk arrays and
// inline commands), as a Redis 7 server reads them.
//
// Feed it whatever bytes arrived; it consumes what it can, keeps its place inside a
// partly received command, and hands out complete commands one at a time. Every size is
// bounded (RespLimits); input beyond a bound, or input that is not RESP, is a protocol
// error with Redis's own wording ("Protocol error: invalid bulk length"), after which the
// parser stays failed: the connection must answer the error and close, as Redis does.
// It never asserts on input.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ekv::redis {

struct RespLimits {
  // Longest header line (`*<n>`, `$<n>`) and longest inline command, as Redis's
  // PROTO_INLINE_MAX_SIZE.
  size_t max_line_bytes = 64 * 1024;
  // Largest single argument (Redis: proto-max-bulk-len, 512 MB).
  size_t max_bulk_bytes = 512 * 1024 * 1024;
  // Most arguments in one command. Redis allows INT_MAX; ekv keeps Redis 6's 1M, since
  // each argument costs a string even when empty.
  size_t max_arguments = 1024 * 1024;
  // Largest command, all arguments together: what one parsed command may hold in memory
  // (Redis: client-query-buffer-limit, 1 GB).
  size_t max_command_bytes = 1024 * 1024 * 1024;
};

class RespParser {
 public:
  enum class Result {
    kNeedMore,  // everything given was consumed or is an incomplete line; feed more
    kCommand,   // a complete command is in command(); take it before parsing on
    kError,     // protocol error (error()); the parser stays failed
  };

  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  // Parses from the start of `input`, which begins where the previous call's consumption
  // ended. Sets *consumed to the bytes used (the caller drops them). Empty commands
  // (`*0`, blank inline lines) are skipped, as Redis does.
  Result Parse(absl::string_view input, size_t* consumed);

  // The command completed by the last kCommand result; moving it out is fine.
  std::vector<std::string>& command() { return args_; }
  // The error message of a kError result, without the "-ERR " prefix.
  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

  // A connection that has not authenticated yet (a password is required) may send at
  // most kUnauthenticatedMaxArguments arguments of kUnauthenticatedMaxBulkBytes each.
  void set_unauthenticated(bool unauthenticated) { unauthenticated_ = unauthenticated; }
  // CONFIG SET proto-max-bulk-len; applies from the next argument header.
  void set_max_bulk_bytes(size_t bytes) { limits_.max_bulk_bytes = bytes; }
  static constexpr long long kUnauthenticatedMaxArguments = 10;
  static constexpr size_t kUnauthenticatedMaxBulkBytes = 16384;

 private:
  enum class State { kStart, kArgumentHeader, kArgumentBody };

  Result Fail(std::string message);
  Result ParseInline(absl::string_view input, size_t* consumed);

  RespLimits limits_;
  bool unauthenticated_ = false;
  State state_ = State::kStart;
  size_t arguments_left_ = 0;  // kArgumentHeader / kArgumentBody: arguments still to come
  size_t bulk_bytes_ = 0;      // kArgumentBody: length of the argument being read
  size_t command_bytes_ = 0;   // argument bytes of the command so far
  std::vector<std::string> args_;
  std::string error_;
};

// Redis's strict decimal int64 (string2ll): optional '-', no '+', no spaces, no leading
// zeros; false on anything else or overflow.
bool ParseRedisInt64(absl::string_view text, long long* value);

// Splits an inline command line like Redis's sdssplitargs: whitespace-separated words,
// "double quotes" with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \'. False
// on unbalanced quotes or a closing quote not followed by a space.
bool SplitInlineArguments(absl::string_view line, std::vector<std::string>* args);

}  // namespace ekv::redis
