// Durability checker: after the cluster heals, did every acknowledged write survive?
//
// Input: the history (only writes and CASes matter) and one final read of each key, taken
// after all faults are healed and every client has stopped.
//
// The rule, for each key k. Let W(k) be the writes and CASes to k whose outcome is kOk or
// kUnknown (kFailed ones never took effect; a CAS counts as a write of its new value, and
// a write of nullopt is a delete). A write w in W(k) is *superseded* if it was acknowledged
// (kOk) and some other acknowledged write to k was invoked after w completed: that later
// write is linearized after w, so w's value can no longer be the final one. kUnknown
// writes are never superseded, because their effect may land at any time after invocation.
// Then the final value of k must be the value of some non-superseded write in W(k); and if
// k has no acknowledged write at all, it may also be absent (nothing was promised).
//
// A violation means an acknowledged write was lost (the final value predates it, or is
// absent), or a value appeared that nobody wrote. This is a necessary condition implied by
// linearizability, cheap enough to run on histories too long for the full search.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/checkers/history.h"

namespace ekv::checkers {

// Final read of every key: key -> value (nullopt: the key is absent).
using FinalValues = std::map<std::string, std::optional<std::string>>;

struct DurabilityViolation {
  std::string key;
  // What the final read saw; nullopt when the key is absent or was not read at all.
  std::optional<std::string> final_value;
  // True if the key has acknowledged writes but the final read did not cover it.
  bool final_read_missing = false;
  // The acknowledged writes that are not superseded, by id: the final value should have
  // come from one of these (or from a concurrent kUnknown write).
  std::vector<uint64_t> latest_acknowledged_write_ids;
  std::string explanation;
};

struct DurabilityReport {
  std::vector<DurabilityViolation> violations;  // sorted by key

  bool ok() const { return violations.empty(); }
  // One paragraph per violation; "durability ok" when there are none.
  std::string ToString() const;
};

DurabilityReport CheckDurability(const History& history, const FinalValues& final_values);

}  // namespace ekv::checkers
