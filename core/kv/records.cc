#include "core/kv/records.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::kv {
namespace {

constexpr uint8_t kVersionRecordFormat = 1;
constexpr uint8_t kLockRecordFormat = 1;
constexpr uint8_t kTxnStatusRecordFormat = 1;

absl::Status CheckFormat(ByteReader& reader, uint8_t expected, absl::string_view what) {
  absl::StatusOr<uint8_t> format = reader.ReadByte();
  if (!format.ok()) return absl::DataLossError(absl::StrCat(what, ": empty record"));
  if (*format != expected) {
    return absl::DataLossError(
        absl::StrCat(what, ": unknown format version ", *format, ", expected ", expected));
  }
  return absl::OkStatus();
}

absl::StatusOr<MutationKind> ReadMutationKind(ByteReader& reader, absl::string_view what,
                                              bool staged_ok = false) {
  EKV_KV_ASSIGN_OR_RETURN(auto kind, reader.ReadByte());
  if (kind != static_cast<uint8_t>(MutationKind::kPut) &&
      kind != static_cast<uint8_t>(MutationKind::kDelete) &&
      !(staged_ok && kind == static_cast<uint8_t>(MutationKind::kRedisStaged))) {
    return absl::DataLossError(absl::StrCat(what, ": unknown mutation kind ", kind));
  }
  return static_cast<MutationKind>(kind);
}

}  // namespace

void EncodeVersionRecord(std::string* dst, MutationKind kind, Timestamp start_ts,
                         absl::string_view value) {
  EKV_ASSERT(kind == MutationKind::kPut || kind == MutationKind::kDelete,
             "a version is a put or a tombstone");
  EKV_ASSERT(kind == MutationKind::kPut || value.empty(), "a tombstone carries no value");
  AppendByte(dst, kVersionRecordFormat);
  AppendByte(dst, static_cast<uint8_t>(kind));
  AppendVarint64(dst, start_ts);
  dst->append(value.data(), value.size());
}

std::string EncodeVersionRecord(const VersionRecord& record) {
  std::string out;
  EncodeVersionRecord(&out, record.kind, record.start_ts, record.value);
  return out;
}

absl::StatusOr<VersionRecordView> DecodeVersionRecordView(absl::string_view bytes) {
  ByteReader reader(bytes);
  EKV_KV_RETURN_IF_ERROR(CheckFormat(reader, kVersionRecordFormat, "version record"));
  EKV_KV_ASSIGN_OR_RETURN(auto kind, ReadMutationKind(reader, "version record"));
  EKV_KV_ASSIGN_OR_RETURN(auto start_ts, reader.ReadVarint64());
  absl::string_view value = reader.ReadRest();
  if (kind == MutationKind::kDelete && !value.empty()) {
    return absl::DataLossError("version record: tombstone with a value");
  }
  return VersionRecordView{kind, start_ts, value};
}

absl::StatusOr<VersionRecord> DecodeVersionRecord(absl::string_view bytes) {
  EKV_KV_ASSIGN_OR_RETURN(auto view, DecodeVersionRecordView(bytes));
  return VersionRecord{view.kind, view.start_ts, std::string(view.value)};
}

std::string EncodeLockRecord(const LockRecord& record) {
  EKV_ASSERT(record.kind != MutationKind::kDelete || record.value.empty(),
             "a delete lock carries no value");
  std::string out;
  out.reserve(4 + 2 * kMaxVarint64Bytes + record.primary.size() + record.value.size());
  AppendByte(&out, kLockRecordFormat);
  AppendByte(&out, static_cast<uint8_t>(record.kind));
  AppendVarint64(&out, record.start_ts);
  AppendVarint64(&out, record.ttl_ms);
  AppendLengthPrefixed(&out, record.primary);
  AppendLengthPrefixed(&out, record.value);
  return out;
}

absl::StatusOr<LockRecord> DecodeLockRecord(absl::string_view bytes) {
  ByteReader reader(bytes);
  EKV_KV_RETURN_IF_ERROR(CheckFormat(reader, kLockRecordFormat, "lock record"));
  LockRecord record;
  EKV_KV_ASSIGN_OR_RETURN(auto kind, ReadMutationKind(reader, "lock record", /*staged_ok=*/true));
  EKV_KV_ASSIGN_OR_RETURN(auto start_ts, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(auto ttl_ms, reader.ReadVarint64());
  EKV_KV_ASSIGN_OR_RETURN(auto primary, reader.ReadLengthPrefixed());
  EKV_KV_ASSIGN_OR_RETURN(auto value, reader.ReadLengthPrefixed());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("lock record"));
  if (kind == MutationKind::kDelete && !value.empty()) {
    return absl::DataLossError("lock record: delete lock with a value");
  }
  record.kind = kind;
  record.start_ts = start_ts;
  record.ttl_ms = ttl_ms;
  record.primary = std::string(primary);
  record.value = std::string(value);
  return record;
}

std::string EncodeTxnStatusRecord(const TxnStatusRecord& record) {
  EKV_ASSERT((record.state == TxnState::kCommitted) == (record.commit_ts != 0),
             "a committed status needs commit_ts > 0, a rollback has commit_ts 0");
  std::string out;
  AppendByte(&out, kTxnStatusRecordFormat);
  AppendByte(&out, static_cast<uint8_t>(record.state));
  AppendVarint64(&out, record.commit_ts);
  return out;
}

absl::StatusOr<TxnStatusRecord> DecodeTxnStatusRecord(absl::string_view bytes) {
  ByteReader reader(bytes);
  EKV_KV_RETURN_IF_ERROR(CheckFormat(reader, kTxnStatusRecordFormat, "txn status record"));
  EKV_KV_ASSIGN_OR_RETURN(auto state, reader.ReadByte());
  EKV_KV_ASSIGN_OR_RETURN(auto commit_ts, reader.ReadVarint64());
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("txn status record"));
  if (state != static_cast<uint8_t>(TxnState::kCommitted) &&
      state != static_cast<uint8_t>(TxnState::kRolledBack)) {
    return absl::DataLossError(absl::StrCat("txn status record: unknown state ", state));
  }
  if ((state == static_cast<uint8_t>(TxnState::kCommitted)) != (commit_ts != 0)) {
    return absl::DataLossError("txn status record: commit_ts must be set exactly when committed");
  }
  return TxnStatusRecord{static_cast<TxnState>(state), commit_ts};
}

}  // namespace ekv::kv
