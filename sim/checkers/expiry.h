// Expiry checker for Redis string keys written with SET k v [PX t] and PEXPIRE/EXPIRE,
// read with GET (alone, or in a read-only MULTI/EXEC with EXISTS, PTTL, TTL or
// PEXPIRETIME of the same key).
//
// The time model is ekv's (docs/architecture.md, "Redis front door"): a write runs at
// apply time with now = max(the request's clock, the physical ms of the commit timestamp
// the group gave it), so an acknowledged write's deadline is known exactly:
// max(request_now_ms, commit_physical_ms) + ttl_ms. A key is alive while now <= its
// deadline (Redis's keyIsExpired: now > when). A read runs at a linearizable point with
// now = max(the request's clock, the group's newest timestamp); that newest timestamp is
// at least the commit timestamp of every write the group acknowledged before the read
// began. The workload passes that lower bound as `time_floor_ms`.
//
// Values are unique per key, so a read names the SET it saw. A read of value v:
//   - v was written by a SET that was not certainly failed (else: a value never written);
//   - no acknowledged SET of the key ordered after v's SET completed before the read
//     began (else: a stale read);
//   - no expired read: v's deadline is its SET's, or that of an EXPIRE that may have
//     applied to it (not failed, answered 1 if acknowledged, began before the read
//     completed, did not complete before v's SET began, and no acknowledged SET of the
//     key lies between v's SET and it in real time). If every possible deadline is known
//     and below time_floor_ms, the read returned an expired key. A possible deadline
//     that is unknown (an unacknowledged SET or EXPIRE) leaves the read unjudged;
//   - in a transaction: EXISTS is 1, PTTL/TTL are not -2, PEXPIRETIME is >= time_floor_ms
//     or -1, -1 (no expiry) only when "no expiry" is possible, and a remaining time fits
//     some possible deadline at a time >= time_floor_ms (TTL rounds as Redis: +500 ms).
// A read of nothing (nil): EXISTS 0 and PTTL/TTL/PEXPIRETIME -2 in the same transaction.
// Not checked: that a key not yet expired is visible (the group's clock may run ahead of
// every client's, expiring keys earlier than any client expects).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ekv::checkers {

struct ExpiryWrite {
  enum class Kind { kSet, kExpire };
  enum class Outcome { kOk, kFailed, kUnknown };
  static constexpr uint64_t kNotCompleted = std::numeric_limits<uint64_t>::max();

  Kind kind = Kind::kSet;
  std::string key;
  std::string value;    // kSet: unique per key
  uint64_t ttl_ms = 0;  // kSet: 0 = no expiry; kExpire: > 0 (relative)
  uint64_t invoke_time = 0;
  uint64_t complete_time = kNotCompleted;
  Outcome outcome = Outcome::kUnknown;
  uint64_t request_now_ms = 0;      // the clock the request carried
  uint64_t commit_physical_ms = 0;  // kOk: physical ms of the commit timestamp
  bool expire_applied = false;      // kExpire, kOk: answered 1

  // kOk only: when the key written (kSet) or re-timed (kExpire) expires (kNever: not).
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
  uint64_t deadline_ms() const;
};

struct ExpiryRead {
  std::string key;
  uint64_t invoke_time = 0;
  uint64_t complete_time = 0;
  uint64_t time_floor_ms = 0;        // a lower bound of the time the read ran at
  std::optional<std::string> value;  // GET (nullopt: nil)
  // Read in the same transaction (nullopt: not asked).
  std::optional<int64_t> exists;
  std::optional<int64_t> pttl;
  std::optional<int64_t> ttl;
  std::optional<int64_t> pexpiretime;
};

struct ExpiryReport {
  bool ok = true;
  std::string violation;
  uint64_t reads = 0;
  uint64_t reads_judged = 0;  // of values whose possible deadlines were all known
  uint64_t reads_of_values = 0;
};

ExpiryReport CheckExpiry(const std::vector<ExpiryWrite>& writes,
                         const std::vector<ExpiryRead>& reads);

}  // namespace ekv::checkers
