// A history of operations on a key-value register, as observed by clients.
//
// The simulator (and later the Jepsen harness) records every invocation and every
// completion as it happens; the checkers in this folder then judge the whole history.
// Times are integers on the driver's simulated clock. Two events with the same time are
// treated as concurrent: the checkers never assume an order the clock cannot prove, so a
// coarse clock can hide a bug but can never invent one.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::checkers {

struct Operation {
  enum class Kind {
    kRead,
    kWrite,  // A write of nullopt is a delete.
    kCas,    // Compare-and-set: if the key holds `expected` (nullopt: absent), set `value`.
  };
  enum class Outcome {
    kOk,
    // Definitely did not take effect. A CAS whose comparison failed is reported this way;
    // the checkers then drop it (as Knossos does), giving up its information for simplicity.
    kFailed,
    // Timed out, or the client crashed: the operation may or may not have taken effect, at
    // any time after its invocation. An operation that never completes is also unknown.
    kUnknown,
  };
  static constexpr uint64_t kNotCompleted = std::numeric_limits<uint64_t>::max();

  uint64_t id = 0;
  uint64_t client = 0;
  Kind kind = Kind::kRead;
  std::string key;
  // Write/CAS: the value written (nullopt deletes). Read: the result (nullopt: key absent).
  std::optional<std::string> value;
  // CAS only: the value the key must hold for the CAS to apply (nullopt: key absent).
  std::optional<std::string> expected;
  uint64_t invoke_time = 0;
  uint64_t complete_time = kNotCompleted;
  Outcome outcome = Outcome::kUnknown;

  bool completed() const { return complete_time != kNotCompleted; }
};

absl::string_view KindName(Operation::Kind kind);
absl::string_view OutcomeName(Operation::Outcome outcome);

// One line, e.g. `#7 c2 cas k="x" "1"->"2" [10,14] ok`; absent values print as `nil`.
std::string FormatOperation(const Operation& operation);

class History {
 public:
  History() = default;

  // Builds a history from operations recorded elsewhere (e.g. a Jepsen log). Rejects
  // duplicate ids and operations whose fields contradict their kind or times.
  static absl::StatusOr<History> FromOperations(std::vector<Operation> operations);

  // Each Invoke* records an invocation at `invoke_time` and returns the new operation's
  // id. The operation stays kUnknown until Complete is called.
  uint64_t InvokeRead(uint64_t client, absl::string_view key, uint64_t invoke_time);
  uint64_t InvokeWrite(uint64_t client, absl::string_view key, std::optional<std::string> value,
                       uint64_t invoke_time);
  uint64_t InvokeCas(uint64_t client, absl::string_view key, std::optional<std::string> expected,
                     std::optional<std::string> new_value, uint64_t invoke_time);

  // Records the completion of operation `id`. `read_value` is the result of an kOk read
  // (nullopt: key absent) and must be nullopt for every other operation. Completing an
  // unknown id, completing twice, or completing before the invocation is a driver bug and
  // asserts.
  void Complete(uint64_t id, Operation::Outcome outcome, uint64_t complete_time,
                std::optional<std::string> read_value = std::nullopt);

  // In the order they were invoked (or given to FromOperations).
  const std::vector<Operation>& operations() const { return operations_; }
  const Operation& operation(uint64_t id) const;
  size_t size() const { return operations_.size(); }

  // Every operation, one per line, ordered by invocation time then id: the compact dump
  // that goes into a failure report next to the seed.
  std::string ToString() const;

 private:
  uint64_t Append(Operation operation);

  std::vector<Operation> operations_;
  absl::btree_map<uint64_t, size_t> index_by_id_;
  uint64_t next_id_ = 0;
};

}  // namespace ekv::checkers
