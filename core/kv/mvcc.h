// MvccStore: multi-version keys over an Engine, the storage layer under transactions.
//
// Every write is a version at a commit timestamp (hlc.h); a read at read_ts sees the
// newest version <= read_ts (mvcc_reader.h). Writes go through MvccBatch and one
// Engine::Write, so multi-key effects are atomic. The lock and transaction-status
// namespaces (records.h) hold Percolator-style transaction state; the transaction
// protocol itself lives above this layer.
//
// In a replicated group, every write (including GC) must be the deterministic effect of
// an applied log entry, so all replicas hold the same versions: GC is planned with
// PlanGc and its batch proposed, or the GC command is replicated and applied with Gc at
// the same log position everywhere.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/engine.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/mvcc_reader.h"
#include "core/kv/records.h"
#include "core/kv/timestamp.h"

namespace ekv::kv {

class MvccStore {
 public:
  // `engine` must outlive the store.
  explicit MvccStore(Engine* engine);

  // Single writes, each its own atomic batch.
  absl::Status Put(absl::string_view key, absl::string_view value, Timestamp commit_ts);
  absl::Status Delete(absl::string_view key, Timestamp commit_ts);
  absl::Status PutLock(absl::string_view key, const LockRecord& lock);
  absl::Status DeleteLock(absl::string_view key);
  absl::Status PutTxnStatus(absl::string_view key, Timestamp start_ts,
                            const TxnStatusRecord& status);
  // Applies all of `batch` atomically.
  absl::Status Apply(const MvccBatch& batch);

  // Reads of the live engine; see MvccReader for semantics.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key, Timestamp read_ts) const {
    return reader_.Get(key, read_ts);
  }
  absl::StatusOr<std::optional<Version>> GetVersion(absl::string_view key,
                                                    Timestamp read_ts) const {
    return reader_.GetVersion(key, read_ts);
  }
  absl::StatusOr<std::optional<Timestamp>> LatestCommitTs(absl::string_view key) const {
    return reader_.LatestCommitTs(key);
  }
  absl::StatusOr<std::vector<KvPair>> Scan(absl::string_view start, absl::string_view end,
                                           size_t limit, Timestamp read_ts,
                                           ScanDirection direction = ScanDirection::kForward,
                                           ReadUncertainty* uncertainty = nullptr) const {
    return reader_.Scan(start, end, limit, read_ts, direction, uncertainty);
  }
  absl::StatusOr<std::optional<LockRecord>> GetLock(absl::string_view key) const {
    return reader_.GetLock(key);
  }
  absl::StatusOr<std::vector<LockEntry>> ScanLocks(absl::string_view start, absl::string_view end,
                                                   size_t limit) const {
    return reader_.ScanLocks(start, end, limit);
  }
  absl::StatusOr<std::optional<TxnStatusRecord>> GetTxnStatus(absl::string_view key,
                                                              Timestamp start_ts) const {
    return reader_.GetTxnStatus(key, start_ts);
  }
  absl::StatusOr<std::optional<std::string>> GetMeta(absl::string_view name) const {
    return reader_.GetMeta(name);
  }

  absl::StatusOr<std::optional<Timestamp>> GetExpiry(absl::string_view key,
                                                     Timestamp commit_ts) const {
    return reader_.GetExpiry(key, commit_ts);
  }

  // A reader over a frozen view of the store; later writes do not affect it.
  MvccReader Snapshot() const;
  const MvccReader& reader() const { return reader_; }

  // One bounded GC pass (MvccReader::PlanGc) applied atomically. Call again with
  // `resume_key` until it is nullopt to cover the whole key space.
  absl::StatusOr<GcPlan> Gc(Timestamp safe_point, absl::string_view start_key, size_t max_keys);

 private:
  Engine* const engine_;
  MvccReader reader_;
};

}  // namespace ekv::kv
