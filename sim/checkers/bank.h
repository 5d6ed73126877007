// Bank workload checker (Jepsen's bank test; FoundationDB's Cycle workload checks the
// same kind of conserved invariant).
//
// Clients transfer money between a fixed set of accounts in transactions that never
// create or destroy it, and other transactions read every balance at one snapshot. Under
// snapshot isolation or anything stronger, every such read sees the same total and, since
// transfers refuse to overdraw, no negative balance. A read that sees a transfer's debit
// but not its credit (a torn or non-atomic snapshot) shows the wrong total.
//
// Only reads that committed are judged: pass the ok read transactions, not failed or
// timed-out ones, whose results promise nothing. O(reads x accounts log accounts).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::checkers {

struct BankRead {
  uint64_t id = 0;
  uint64_t client = 0;
  uint64_t invoke_time = 0;
  uint64_t complete_time = 0;
  // Account -> balance, as read at one snapshot.
  std::map<std::string, int64_t> balances;
};

struct BankViolation {
  enum class Kind {
    kWrongTotal,
    kNegativeBalance,
    kMissingAccount,     // a configured account absent from the read
    kUnexpectedAccount,  // the read holds an account nobody configured
  };
  Kind kind = Kind::kWrongTotal;
  uint64_t read_id = 0;
  std::string account;  // empty for kWrongTotal
  std::string explanation;
};

struct BankReport {
  uint64_t reads_checked = 0;
  uint64_t violating_reads = 0;
  // The first violating read in (invoke_time, id) order, with every problem it shows.
  std::vector<BankViolation> first_violation;

  bool ok() const { return violating_reads == 0; }
  // "bank ok: N reads" or the first violating read's problems and the count of others.
  std::string ToString() const;
};

absl::string_view BankViolationKindName(BankViolation::Kind kind);

// Checks every read against `accounts` and `expected_total`. Rejects (InvalidArgument) an
// empty or repeated account list and repeated read ids: malformed input, not a verdict.
absl::StatusOr<BankReport> CheckBank(const std::vector<std::string>& accounts,
                                     int64_t expected_total, const std::vector<BankRead>& reads);

}  // namespace ekv::checkers
