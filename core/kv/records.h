// Value formats of the data, lock and transaction-status namespaces (key_codec.h).
//
// Each record starts with a format byte so a format can evolve: decoders accept only the
// versions they know and reject trailing bytes, returning DataLossError, so corruption
// is loud. Integers inside values are varints (codec.h).
//
//   VersionRecord   v1: [0x01][kind u8][varint start_ts][value: rest of the record]
//   LockRecord      v1: [0x01][kind u8][varint start_ts][varint ttl_ms]
//                       [length-prefixed primary][length-prefixed value]
//   TxnStatusRecord v1: [0x01][state u8][varint commit_ts]
//
// How a Percolator-style transaction layer uses them (not implemented here):
//   prewrite  checks LatestCommitTs(key) < start_ts, no foreign lock, and no TxnStatus
//             at (key, start_ts) (a rollback must stop a late prewrite); writes a lock.
//   commit    in one batch: delete the lock, write the VersionRecord at commit_ts
//             carrying start_ts; on the primary also TxnStatus{kCommitted, commit_ts}.
//   rollback  deletes the lock and writes TxnStatus{kRolledBack} at (primary, start_ts).
//   A repeated commit or rollback finds the status record and answers the same way.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/timestamp.h"

namespace ekv::kv {

// What a committed version or a pending lock does to its key.
enum class MutationKind : uint8_t {
  kPut = 1,
  kDelete = 2,  // a tombstone: the key reads as absent from commit_ts on
  // Locks only, never a committed version: a cross-group Redis EXEC's staged writes of
  // one key (staged_writes.h), applied when the lock commits.
  kRedisStaged = 3,
};

// One committed version of a key; stored at DataKey(key, commit_ts).
struct VersionRecord {
  MutationKind kind = MutationKind::kPut;
  // The writing transaction's start timestamp, so a retried commit can recognise its own
  // version; 0 for a write outside a transaction.
  Timestamp start_ts = 0;
  std::string value;  // empty for kDelete
  bool operator==(const VersionRecord&) const = default;
};

// A borrowed view of a VersionRecord, decoded without copying the value.
struct VersionRecordView {
  MutationKind kind;
  Timestamp start_ts;
  absl::string_view value;
};

void EncodeVersionRecord(std::string* dst, MutationKind kind, Timestamp start_ts,
                         absl::string_view value);
std::string EncodeVersionRecord(const VersionRecord& record);
// The view borrows from `bytes`.
absl::StatusOr<VersionRecordView> DecodeVersionRecordView(absl::string_view bytes);
absl::StatusOr<VersionRecord> DecodeVersionRecord(absl::string_view bytes);

// A pending write of a transaction (Percolator's lock column); stored at LockKey(key).
struct LockRecord {
  std::string primary;  // the transaction's primary key, where its status is decided
  Timestamp start_ts = 0;
  uint64_t ttl_ms = 0;  // after start_ts + ttl_ms a reader may try to resolve the lock
  MutationKind kind = MutationKind::kPut;
  std::string value;  // the value to commit for kPut
  bool operator==(const LockRecord&) const = default;
};

std::string EncodeLockRecord(const LockRecord& record);
absl::StatusOr<LockRecord> DecodeLockRecord(absl::string_view bytes);

// The decided outcome of a transaction, recorded at TxnStatusKey(key, start_ts) on its
// primary (and wherever else a rollback must block a late prewrite).
enum class TxnState : uint8_t {
  kCommitted = 1,
  kRolledBack = 2,
};

struct TxnStatusRecord {
  TxnState state = TxnState::kRolledBack;
  Timestamp commit_ts = 0;  // kCommitted only; 0 for kRolledBack
  bool operator==(const TxnStatusRecord&) const = default;
};

std::string EncodeTxnStatusRecord(const TxnStatusRecord& record);
absl::StatusOr<TxnStatusRecord> DecodeTxnStatusRecord(absl::string_view bytes);

}  // namespace ekv::kv
