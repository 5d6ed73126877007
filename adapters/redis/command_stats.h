// INFO's commandstats and errorstats, as Redis 7.0 names them: per command (a container's
// subcommand as "client|id") calls, usec, usec_per_call, rejected_calls (refused before it
// ran: arity, NOAUTH, ACL, subscribed context) and failed_calls (it ran and answered an
// error); per error prefix ("ERR", "WRONGTYPE") the count of error replies. Shared by the
// server's loops and the backend threads that answer, so guarded by a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"

namespace ekv::redis {

class CommandStats {
 public:
  // A command that ran, took `usec` from dispatch to reply, and answered `reply`.
  void RecordCall(absl::string_view name, int64_t usec, absl::string_view reply);
  // A command that blocked (ServerControl::Block): Redis 7.0 counts the call when it
  // blocks, and its time and failure when it is answered (RecordUnblocked).
  void RecordBlocked(absl::string_view name);
  // The answer of a command that blocked, `usec` after it blocked: Redis's
  // updateStatsOnUnblock adds the time and counts a failed call when `reply` is an error or
  // when `unblocked` (CLIENT UNBLOCK: Redis 7.0 counts one whatever the reply).
  void RecordUnblocked(absl::string_view name, int64_t usec, absl::string_view reply,
                       bool unblocked);
  // A call of `name` (counted apart) that made an error reply to another client: Redis
  // 7.0 counts it as failed (CLIENT UNBLOCK ERROR).
  void RecordFailure(absl::string_view name);
  // A command refused before it ran, with `reply` (an error).
  void RecordRejected(absl::string_view name, absl::string_view reply);
  // An error reply of no command (unknown command, protocol error).
  void RecordError(absl::string_view reply);

  // "# Commandstats\r\n" and one line per command with calls, in name order (Redis: its
  // hash order).
  std::string CommandSection() const;
  // "# Errorstats\r\n" and one line per error prefix, in byte order (as Redis's rax).
  std::string ErrorSection() const;
  uint64_t total_error_replies() const;
  void Reset();

  // Redis 7.0 tracks at most 128 error prefixes; later new ones are not counted apart.
  static constexpr size_t kMaxErrorPrefixes = 128;

 private:
  struct Counts {
    uint64_t calls = 0;
    uint64_t usec = 0;
    uint64_t rejected = 0;
    uint64_t failed = 0;
  };
  void CountErrorLocked(absl::string_view reply);

  mutable std::mutex mu_;
  std::map<std::string, Counts, std::less<>> commands_;  // guarded by mu_
  std::map<std::string, uint64_t, std::less<>> errors_;  // guarded by mu_
  uint64_t total_errors_ = 0;                            // guarded by mu_
};

}  // namespace ekv::redis
