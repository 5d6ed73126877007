// SLOWLOG: the node's log of the commands that took at least slowlog-log-slower-than
// microseconds (from dispatch to reply: for a data command that includes its Raft round,
// where Redis times only its execution), newest first, at most slowlog-max-len entries,
// as Redis 7.0's slowlog.c keeps it. Shared by the server's loop and the backend threads
// that answer commands, so guarded by a mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace ekv::redis {

class SlowLog {
 public:
  struct Entry {
    int64_t id = 0;
    int64_t unix_seconds = 0;
    int64_t usec = 0;
    std::vector<std::string> args;  // as EntryArgs keeps them
    std::string peer;               // the client's "ip:port"
    std::string client_name;
  };

  // Redis 7.0's defaults (config.c).
  static constexpr int64_t kDefaultSlowerThanUsec = 10000;
  static constexpr int64_t kDefaultMaxLen = 128;
  // slowlog.h: at most 32 arguments (the last then says how many more there were), each
  // at most 128 bytes (then "... (N more bytes)").
  static constexpr size_t kMaxArgs = 32;
  static constexpr size_t kMaxArgBytes = 128;

  // The arguments an entry keeps: redacted as Redis redacts them (RedactedForMonitors),
  // then cut to kMaxArgs and kMaxArgBytes as slowlogCreateEntry cuts them.
  static std::vector<std::string> EntryArgs(const std::vector<std::string>& args);

  // The client's name once the command answered `reply` (an encoded RESP reply), given its
  // name before: Redis logs the name the client has after the command, which CLIENT
  // SETNAME, HELLO ... SETNAME and RESET change.
  static std::string ClientNameAfter(const std::vector<std::string>& args, std::string name_before,
                                     const std::string& reply);

  // Whether any command may be logged now (slowlog-log-slower-than >= 0): callers skip
  // copying the arguments otherwise.
  bool enabled() const;
  // Logs a command that took `usec` when that is at least the threshold, then drops the
  // oldest entries over the length limit.
  void Record(std::vector<std::string> entry_args, int64_t usec, std::string peer,
              std::string client_name, int64_t unix_seconds);
  // The newest `count` entries, newest first.
  std::vector<Entry> Newest(size_t count) const;
  size_t size() const;
  void Reset();

  int64_t slower_than_usec() const;
  void set_slower_than_usec(int64_t usec);  // < 0: nothing is logged
  int64_t max_len() const;
  void set_max_len(int64_t max_len);  // >= 0; trims at the next Record, as Redis does

 private:
  mutable std::mutex mu_;
  std::deque<Entry> entries_;                          // newest first; guarded by mu_
  int64_t next_id_ = 0;                                // guarded by mu_
  int64_t slower_than_usec_ = kDefaultSlowerThanUsec;  // guarded by mu_
  int64_t max_len_ = kDefaultMaxLen;                   // guarded by mu_
};

}  // namespace ekv::redis
