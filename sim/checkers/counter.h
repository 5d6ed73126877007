// Exact-count checker for counters that only grow (Redis INCR/INCRBY with positive
// deltas, read with GET), as clients observed them.
//
// Every increment is acknowledged (it took effect exactly once), failed (it certainly had
// no effect) or unknown (it took effect once or not at all, at any time after its
// invocation). Increments commute, so a counter's value at any linearization point is
// the sum of the deltas linearized before it. For every observation -- an acknowledged
// read, or an acknowledged increment's reply (the value just after it) -- of a key:
//   - exact count: value - (deltas of the acknowledged increments that completed before
//     the observation was invoked, plus its own delta) must be a sum of some subset of
//     the deltas of the other increments that may precede it (not failed, not already
//     counted, invoked before the observation completed). A read after every increment
//     finished is therefore the acknowledged total plus a subset of the unknown ones;
//   - real-time monotonicity: an observation that began after another completed sees at
//     least the other's value (an increment: its value before itself);
//   - two acknowledged increments never answer the same value.
// Times follow history.h: T1 precedes T2 only if T1 completed strictly before T2 began.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace ekv::checkers {

struct CounterOp {
  enum class Kind { kIncrement, kRead };
  enum class Outcome { kOk, kFailed, kUnknown };
  static constexpr uint64_t kNotCompleted = std::numeric_limits<uint64_t>::max();

  Kind kind = Kind::kRead;
  std::string key;
  int64_t delta = 0;  // kIncrement: > 0
  uint64_t invoke_time = 0;
  uint64_t complete_time = kNotCompleted;
  Outcome outcome = Outcome::kUnknown;
  // kOk only: what the read saw (an absent key reads 0), or the value the increment
  // answered (the counter just after it).
  int64_t value = 0;
};

struct CounterReport {
  bool ok = true;
  std::string violation;  // the first violation found, with the operations involved
  uint64_t observations = 0;
};

// Checks every key's operations; `ops` in any order. Increments with delta <= 0 are a
// caller bug and reported as a violation.
CounterReport CheckCounters(const std::vector<CounterOp>& ops);

}  // namespace ekv::checkers
