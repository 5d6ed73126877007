// Linearizability checker for key-value register histories.
//
// Keys are independent registers, so a history is linearizable iff each key's
// sub-history is (P-compositionality, Herlihy & Wing 1990; the same split Knossos and
// Porcupine make). Each key is checked with the Wing & Gong search as improved by Lowe
// ("Testing for linearizability", 2017): operations are linearized just in time while
// walking an ordered list of call/return events, and a cache of (set of linearized
// operations, register state) pairs prunes configurations already explored.
//
// The register model starts with every key absent. Operation outcomes:
//   - kFailed operations are dropped: they did not take effect.
//   - kUnknown writes and CASes are optional: each may take effect at any point after its
//     invocation, or never. kUnknown reads observed nothing and are dropped.
//   - kOk operations must all be linearized within their [invoke, complete] interval.
//   - A kOk CAS succeeded: at its linearization point the key held `expected`.
//
// The search is exponential in the worst case, so it is bounded per key; a key that
// exhausts its budget makes the verdict kUnknown, never a pass.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "sim/checkers/history.h"

namespace ekv::checkers {

struct CheckOptions {
  // Search steps (event visits) allowed for one key before giving up with kUnknown. Each
  // step adds at most one cache entry, so this also bounds the checker's memory.
  uint64_t max_steps_per_key = 5'000'000;
};

struct LinearizabilityResult {
  enum class Verdict { kOk, kViolation, kUnknown };

  Verdict verdict = Verdict::kOk;
  // The key that is not linearizable (the first in key order), or for kUnknown the first
  // key whose search ran out of steps. Empty for kOk.
  std::string key;
  // For a human reading a failure report: the key, the longest linearizable prefix the
  // search found, the operation that could not be placed after it and the operations
  // that were still candidates at that point. Empty for kOk.
  std::string explanation;
  // For kViolation: ids of the longest linearizable prefix, in linearization order, and
  // the kOk operation whose completion could not be reached after it.
  std::vector<uint64_t> longest_linearizable_prefix;
  std::optional<uint64_t> unplaceable_operation_id;
  // Search steps across every key checked; useful to size max_steps_per_key.
  uint64_t total_steps = 0;
};

absl::string_view VerdictName(LinearizabilityResult::Verdict verdict);

// Deterministic: the same history and options always give the same result and text.
// A violation on any key takes precedence over keys whose search was inconclusive.
LinearizabilityResult CheckLinearizable(const History& history, const CheckOptions& options = {});

}  // namespace ekv::checkers
