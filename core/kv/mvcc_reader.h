// Snapshot reads of the MVCC key space (key_codec.h) through an EngineReader.
//
// A read at read_ts sees, for each key, the newest version with commit_ts <= read_ts; a
// tombstone there means the key is absent. Reads ignore locks: checking for a
// conflicting lock before reading data is the transaction layer's job (GetLock).
//
// Reads on the live engine see each call's own consistent view; a reader built on an
// EngineSnapshot (MvccStore::Snapshot) sees one frozen view across calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/engine.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/records.h"
#include "core/kv/timestamp.h"

namespace ekv::kv {

// Bound on one Scan's result count; bigger reads page with a resume key.
inline constexpr size_t kMaxScanLimit = 10'000;
// Bound on one GC pass's keys, so a pass is one bounded write batch.
inline constexpr size_t kMaxGcKeysPerPass = 10'000;

enum class ScanDirection : uint8_t { kForward, kReverse };

struct KvPair {
  std::string key;
  std::string value;
  Timestamp commit_ts = 0;
  bool operator==(const KvPair&) const = default;
};

// A stored version, tombstones included.
// A snapshot read's uncertainty window (kv_state_machine.h, "Uncertainty"): a version with
// commit_ts in (read_ts, limit] may belong to a write acknowledged before read_ts was
// issued, so the read cannot decide whether to see it and must restart above `limit`.
struct ReadUncertainty {
  Timestamp limit = 0;           // in: no window unless > read_ts
  std::optional<Timestamp> met;  // out: the commit_ts of the first such version met
};

struct Version {
  Timestamp commit_ts = 0;
  VersionRecord record;
  bool operator==(const Version&) const = default;
};

struct LockEntry {
  std::string key;
  LockRecord lock;
};

struct GcPlan {
  // Where the next pass starts; nullopt when this pass reached the end of the key space.
  std::optional<std::string> resume_key;
  uint64_t keys_examined = 0;
  uint64_t versions_deleted = 0;
};

class MvccReader {
 public:
  // Reads the live engine, which must outlive this reader.
  explicit MvccReader(const EngineReader& engine);
  // Reads, and owns, a frozen snapshot.
  explicit MvccReader(std::unique_ptr<EngineSnapshot> snapshot);

  MvccReader(const MvccReader&) = delete;
  MvccReader& operator=(const MvccReader&) = delete;
  MvccReader(MvccReader&&) = default;

  // The value visible at read_ts, or nullopt if none or a tombstone.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key, Timestamp read_ts) const;
  // The newest version with commit_ts <= read_ts, tombstones included.
  absl::StatusOr<std::optional<Version>> GetVersion(absl::string_view key, Timestamp read_ts) const;
  // commit_ts of the newest version of `key` (a tombstone counts), for write-conflict
  // checks; nullopt if the key has no versions.
  absl::StatusOr<std::optional<Timestamp>> LatestCommitTs(absl::string_view key) const;

  // Up to `limit` (1..kMaxScanLimit) keys in [start, end) with a value visible at
  // read_ts, in key order for kForward and reverse key order for kReverse (then the
  // first result is the largest key below `end`). An empty `end` means no upper bound.
  // With `uncertainty` (window above read_ts), a key whose versions fall in the window
  // stops the scan there: `met` is set and the pairs so far are not an answer.
  absl::StatusOr<std::vector<KvPair>> Scan(absl::string_view start, absl::string_view end,
                                           size_t limit, Timestamp read_ts,
                                           ScanDirection direction = ScanDirection::kForward,
                                           ReadUncertainty* uncertainty = nullptr) const;

  absl::StatusOr<std::optional<LockRecord>> GetLock(absl::string_view key) const;
  // Up to `limit` (1..kMaxScanLimit) locks on keys in [start, end), in key order.
  absl::StatusOr<std::vector<LockEntry>> ScanLocks(absl::string_view start, absl::string_view end,
                                                   size_t limit) const;

  absl::StatusOr<std::optional<TxnStatusRecord>> GetTxnStatus(absl::string_view key,
                                                              Timestamp start_ts) const;

  absl::StatusOr<std::optional<std::string>> GetMeta(absl::string_view name) const;

  // expire_ts of the version of `key` at commit_ts, or nullopt if it never expires.
  absl::StatusOr<std::optional<Timestamp>> GetExpiry(absl::string_view key,
                                                     Timestamp commit_ts) const;

  // Adds to `batch` the deletions of one GC pass over at most `max_keys`
  // (1..kMaxGcKeysPerPass) user keys starting at `start_key`: for each key, every
  // version a read at ts >= safe_point cannot see. That is, versions newer than
  // safe_point stay; the newest version <= safe_point stays unless it is a tombstone or
  // expired at or before safe_point (its expiry record says so); all older versions go. A key's
  // deletions always go into one batch, so a tombstone is never removed while an older version it
  // hides survives. Work per key is proportional to its version count. The expiry records (TTL) of
  // deleted versions go with them. Deterministic for a given engine state, so the plan can be
  // proposed through Raft and applied identically on every replica.
  absl::StatusOr<GcPlan> PlanGc(Timestamp safe_point, absl::string_view start_key, size_t max_keys,
                                MvccBatch* batch) const;

 private:
  // PlanGc's part for one key with deletions: the expiry records of its versions older
  // than kept_ts. `data_prefix` is the key's versioned-key prefix in the data namespace.
  absl::Status PlanExpiryGc(absl::string_view data_prefix, Timestamp kept_ts,
                            MvccBatch* batch) const;
  absl::StatusOr<std::vector<KvPair>> ScanForward(absl::string_view start, absl::string_view end,
                                                  size_t limit, Timestamp read_ts,
                                                  ReadUncertainty* uncertainty) const;
  absl::StatusOr<std::vector<KvPair>> ScanReverse(absl::string_view start, absl::string_view end,
                                                  size_t limit, Timestamp read_ts,
                                                  ReadUncertainty* uncertainty) const;

  std::unique_ptr<EngineSnapshot> owned_snapshot_;  // null when reading the live engine
  const EngineReader* engine_;
};

}  // namespace ekv::kv
