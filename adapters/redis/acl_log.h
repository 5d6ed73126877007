// AclLog: Redis 7.0's ACL LOG, the node's recent security events -- commands, keys and
// channels refused by ACL rules, and failed AUTH -- newest first, bounded at
// kMaxEntries (Redis's acllog-max-len default). An event like one of the 10 newest (same
// reason, context, object and user, less than 60 s apart) bumps that entry's count and
// moves it to the front instead of adding one, as in Redis, so a client retrying in a
// loop cannot flush the log.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace ekv::redis {

struct AclLogEntry {
  uint64_t count = 1;
  std::string reason;   // "command", "key", "channel", "auth"
  std::string context;  // "toplevel" or "multi"
  std::string object;   // the command, key or channel refused; "auth" for AUTH
  std::string username;
  int64_t updated_ms = 0;   // the newest event's time (unix ms): age-seconds counts from it
  std::string client_info;  // the client's CLIENT LIST line at the newest event
};

class AclLog {
 public:
  static constexpr size_t kMaxEntries = 128;

  void Add(AclLogEntry entry);
  void Reset() { entries_.clear(); }
  // Newest first.
  const std::deque<AclLogEntry>& entries() const { return entries_; }

 private:
  std::deque<AclLogEntry> entries_;
};

}  // namespace ekv::redis
