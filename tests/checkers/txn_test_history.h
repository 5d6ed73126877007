// Terse builders for hand-written list-append histories: one call per transaction,
// recording both its invocation and its completion.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

#include "sim/checkers/txn_history.h"

namespace ekv::checkers::testing {

inline constexpr Transaction::Outcome kCommitted = Transaction::Outcome::kCommitted;
inline constexpr Transaction::Outcome kAborted = Transaction::Outcome::kAborted;
inline constexpr Transaction::Outcome kUnknownOutcome = Transaction::Outcome::kUnknown;

inline MicroOp A(absl::string_view key, int64_t value) { return MicroOp::Append(key, value); }
inline MicroOp R(absl::string_view key, std::vector<int64_t> result) {
  return MicroOp::Read(key, std::move(result));
}
// A read whose result is unknown (in a transaction that did not commit).
inline MicroOp R(absl::string_view key) { return MicroOp::Read(key); }

// Records a transaction from invocation to completion. Committed transactions carry their
// read results in `ops`; others must not.
inline uint64_t Txn(TxnHistory& history, uint64_t client, uint64_t invoke_time,
                    uint64_t complete_time, std::vector<MicroOp> ops,
                    Transaction::Outcome outcome = kCommitted) {
  std::vector<std::vector<int64_t>> results;
  for (MicroOp& op : ops) {
    if (op.read_result.has_value()) {
      results.push_back(*std::move(op.read_result));
      op.read_result.reset();
    }
  }
  const uint64_t id = history.Invoke(client, std::move(ops), invoke_time);
  history.Complete(id, outcome, complete_time, std::move(results));
  return id;
}

// A transaction whose client crashed: it never completes, its outcome stays unknown.
inline uint64_t CrashedTxn(TxnHistory& history, uint64_t client, uint64_t invoke_time,
                           std::vector<MicroOp> ops) {
  return history.Invoke(client, std::move(ops), invoke_time);
}

}  // namespace ekv::checkers::testing
