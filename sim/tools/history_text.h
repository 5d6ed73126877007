// The text history format ekv-check reads: how the jepsen/ harness (or anyone else)
// hands a recorded history to the simulator's checkers.
//
// One operation per line; blank lines and lines starting with '#' are ignored. Fields are
// separated by single spaces. Keys and values are percent-encoded (every byte outside
// [A-Za-z0-9_.~-] as %XX), so no field ever holds a space; the word `%nil` (never a valid
// escape) means "absent". Times are integers in any unit (the harness uses microseconds);
// equal times are concurrent. `-` as a completion time means the operation never
// completed. Outcomes use Jepsen's words: ok, fail (did not happen), info (unknown).
//
// register (linearizability, per key):
//   <id> <client> <invoke> <complete|-> <ok|fail|info> read  <key> <value read|%nil>
//   <id> <client> <invoke> <complete|-> <ok|fail|info> write <key> <value|%nil>
//   <id> <client> <invoke> <complete|-> <ok|fail|info> cas   <key> <expected> <new>
//   (the value of a read that is not ok is ignored; write %nil for it)
//
// bank (snapshot reads of every account; only ok reads are judged):
//   accounts <total> <account> <account> ...       (exactly once, before any read)
//   read <id> <client> <invoke> <complete> <account>=<balance> ...
//
// append (Elle's list-append, strict serializability):
//   <id> <client> <invoke> <complete|-> <ok|fail|info> <micro-op> <micro-op> ...
//   micro-op: a:<key>:<int>        append <int> to <key>
//             r:<key>:<i,j,...>    read of <key> that saw that list (r:<key>: is empty)
//             r:<key>:?            read whose result is unknown (only if not ok)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "sim/checkers/bank.h"
#include "sim/checkers/history.h"
#include "sim/checkers/txn_history.h"

namespace ekv::checkers {

// Decodes one percent-encoded field; InvalidArgument on a malformed escape.
absl::StatusOr<std::string> PercentDecode(absl::string_view field);

absl::StatusOr<History> ParseRegisterHistory(absl::string_view text);

struct BankHistory {
  std::vector<std::string> accounts;
  int64_t total = 0;
  std::vector<BankRead> reads;
};
absl::StatusOr<BankHistory> ParseBankHistory(absl::string_view text);

absl::StatusOr<TxnHistory> ParseAppendHistory(absl::string_view text);

}  // namespace ekv::checkers
