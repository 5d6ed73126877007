// A history of multi-key transactions over append-only lists, as observed by clients.
//
// This is Elle's list-append model (Kingsbury & Alvaro, "Elle: Inferring Isolation
// Anomalies from Experimental Observations", VLDB 2020), as in Jepsen's append workload
// over Redis RPUSH/LRANGE: each key holds a list of integers, a transaction is a sequence
// of micro-ops `append(key, value)` and `read(key) -> list`, and every appended value is
// unique per key. Uniqueness is what makes the history checkable: a read's list names
// exactly which appends it observed, and in which order they were applied.
//
// Times are integers on the driver's simulated clock, with the same convention as
// history.h: events at equal times are concurrent, so T1 precedes T2 in real time only if
// T1 completed strictly before T2 was invoked.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::checkers {

struct MicroOp {
  enum class Kind { kAppend, kRead };

  Kind kind = Kind::kRead;
  std::string key;
  // kAppend only: the element appended. Unique per key across the whole history.
  int64_t value = 0;
  // kRead only: the list observed (empty: the key is absent or empty). Known only for a
  // committed transaction; nullopt while the transaction runs and whenever it did not
  // commit, since an aborted or timed-out transaction's reads promise nothing.
  std::optional<std::vector<int64_t>> read_result;

  static MicroOp Append(absl::string_view key, int64_t value);
  static MicroOp Read(absl::string_view key,
                      std::optional<std::vector<int64_t>> read_result = std::nullopt);
};

struct Transaction {
  enum class Outcome {
    kCommitted,
    // Definitely did not take effect (the server said so before or instead of committing).
    kAborted,
    // Timed out, or the client crashed: the transaction may have committed at any time
    // after its invocation, even after the client gave up. Never completing is unknown too.
    kUnknown,
  };
  static constexpr uint64_t kNotCompleted = std::numeric_limits<uint64_t>::max();

  uint64_t id = 0;
  uint64_t client = 0;
  std::vector<MicroOp> ops;
  uint64_t invoke_time = 0;
  uint64_t complete_time = kNotCompleted;
  Outcome outcome = Outcome::kUnknown;

  bool completed() const { return complete_time != kNotCompleted; }
};

absl::string_view TxnOutcomeName(Transaction::Outcome outcome);

// `a x 3` or `r x [1 2 3]` (Jepsen's notation); a read with no known result is `r x ?`.
std::string FormatMicroOp(const MicroOp& op);
// One line, e.g. `T7 c2 [10,14] committed: a x 3, r y [1 2]`.
std::string FormatTransaction(const Transaction& transaction);

class TxnHistory {
 public:
  TxnHistory() = default;

  // Builds a history recorded elsewhere (e.g. a Jepsen log). Rejects duplicate ids, an
  // append value repeated on one key (the workload must make them unique), read results
  // on transactions that did not commit, committed transactions with a read lacking its
  // result, and completion times before invocation.
  static absl::StatusOr<TxnHistory> FromTransactions(std::vector<Transaction> transactions);

  // Records the invocation of a transaction whose reads carry no results yet; returns its
  // id. It stays kUnknown until Complete. Repeating an append value on a key asserts.
  uint64_t Invoke(uint64_t client, std::vector<MicroOp> ops, uint64_t invoke_time);

  // Records the completion of transaction `id`. A committed transaction passes one result
  // per read micro-op, in op order; any other outcome passes none. Misuse (unknown id,
  // completing twice, wrong number of results, completing before invoking) asserts: it
  // is a driver bug.
  void Complete(uint64_t id, Transaction::Outcome outcome, uint64_t complete_time,
                std::vector<std::vector<int64_t>> read_results = {});

  // In the order they were invoked (or given to FromTransactions).
  const std::vector<Transaction>& transactions() const { return transactions_; }
  const Transaction& transaction(uint64_t id) const;
  size_t size() const { return transactions_.size(); }

  // Every transaction, one per line, ordered by invocation time then id.
  std::string ToString() const;

 private:
  uint64_t Append(Transaction transaction);

  std::vector<Transaction> transactions_;
  absl::btree_map<uint64_t, size_t> index_by_id_;
  // (key, value) of every append recorded, to enforce uniqueness. Lookup only.
  absl::flat_hash_set<std::pair<std::string, int64_t>> appended_;
  uint64_t next_id_ = 0;
};

}  // namespace ekv::checkers
