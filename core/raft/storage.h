// The read side of Raft's durable state, and the write path that certifies durability.
//
// Raft reads its stable log through `Storage`. A driver makes a Ready durable by calling
// `Storage::Persist`, which returns a `PersistReceipt` only once the write is durable; the
// receipt is the only way to obtain the messages that promise durability (raw_node.h).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/raft/types.h"

namespace ekv::raft {

class PersistReceipt;

// What a Ready asks to make durable, in this order: snapshot, entries, hard state.
struct PersistBatch {
  Snapshot snapshot;           // empty unless a snapshot must be installed
  std::vector<Entry> entries;  // appended after truncating any conflicting suffix
  HardState hard_state;        // written when `has_hard_state`
  bool has_hard_state = false;
  uint64_t ready_id = 0;  // filled by RawNode; the receipt names it
  bool IsEmpty() const { return snapshot.IsEmpty() && entries.empty() && !has_hard_state; }
};

// Proof that the batch of Ready `ready_id` is durable. Only Storage::Persist makes one.
class PersistReceipt {
 public:
  uint64_t ready_id() const { return ready_id_; }

 private:
  friend class Storage;
  explicit PersistReceipt(uint64_t ready_id) : ready_id_(ready_id) {}
  uint64_t ready_id_;
};

class Storage {
 public:
  virtual ~Storage() = default;

  struct InitialState {
    HardState hard_state;
    ConfState conf_state;
  };
  virtual absl::StatusOr<InitialState> GetInitialState() const = 0;
  // Entries in [lo, hi), at least one if any, then as many as fit in `max_bytes`.
  // kNotFound... errors: absl::OutOfRangeError if lo was compacted (ErrCompacted),
  // absl::UnavailableError if hi-1 is beyond the last index.
  virtual absl::StatusOr<std::vector<Entry>> Entries(Index lo, Index hi,
                                                     uint64_t max_bytes) const = 0;
  // Term of entry i, for i in [FirstIndex()-1, LastIndex()].
  virtual absl::StatusOr<Term> EntryTerm(Index i) const = 0;
  virtual Index FirstIndex() const = 0;  // first index available (snapshot index + 1)
  virtual Index LastIndex() const = 0;
  virtual absl::StatusOr<Snapshot> GetSnapshot() const = 0;

  // Makes `batch` durable (fsync included) and certifies it. A failed write yields an
  // error and no receipt: the driver must not acknowledge anything and should crash.
  absl::StatusOr<PersistReceipt> Persist(const PersistBatch& batch) {
    absl::Status status = WriteDurably(batch);
    if (!status.ok()) return status;
    return PersistReceipt(batch.ready_id);
  }

 protected:
  virtual absl::Status WriteDurably(const PersistBatch& batch) = 0;
};

// Errors Storage uses, so Raft can tell "compacted" from "not yet there".
bool IsCompactedError(const absl::Status& status);
bool IsUnavailableError(const absl::Status& status);
absl::Status CompactedError(Index index);
absl::Status UnavailableError(Index index);

// An in-memory Storage: the log lives in a vector after a dummy entry at the snapshot
// index. Used by tests and the simulator (which keeps its own simulated disk underneath).
class MemoryStorage : public Storage {
 public:
  MemoryStorage();

  absl::StatusOr<InitialState> GetInitialState() const override;
  absl::StatusOr<std::vector<Entry>> Entries(Index lo, Index hi, uint64_t max_bytes) const override;
  absl::StatusOr<Term> EntryTerm(Index i) const override;
  Index FirstIndex() const override;
  Index LastIndex() const override;
  absl::StatusOr<Snapshot> GetSnapshot() const override;

  // Direct mutators for bootstrapping, recovery and tests.
  void SetHardState(const HardState& hard_state) { hard_state_ = hard_state; }
  const HardState& hard_state() const { return hard_state_; }
  absl::Status ApplySnapshot(const Snapshot& snapshot);
  absl::Status Append(const std::vector<Entry>& entries);
  // Discards entries before `compact_index` (which must be applied); the state machine
  // image at `compact_index` becomes the snapshot for lagging followers.
  absl::Status CreateSnapshot(Index index, const ConfState& conf_state, std::string data);
  absl::Status Compact(Index compact_index);
  void SetConfState(const ConfState& conf_state) { snapshot_.metadata.conf_state = conf_state; }

 protected:
  absl::Status WriteDurably(const PersistBatch& batch) override;

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> entries_;  // entries_[0] is a dummy at snapshot_.metadata.index
};

}  // namespace ekv::raft
