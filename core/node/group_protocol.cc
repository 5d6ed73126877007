#include "core/node/group_protocol.h"

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"

namespace ekv::node {
namespace {

constexpr uint8_t kFormat = 1;
constexpr uint8_t kVersionedFormat = 2;  // kFormat + a trailing catalog version

absl::Status Corrupt(absl::string_view what, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("malformed ", what, ": ", why));
}

#define EKV_READ_OR_RETURN(var, expr, what)                              \
  auto var##_or = (expr);                                                \
  if (!var##_or.ok()) return Corrupt(what, var##_or.status().message()); \
  auto var = *var##_or

}  // namespace

std::string EncodeGroupCommand(const GroupCommand& command) {
  std::string out;
  const bool versioned = command.catalog_version != 0;
  kv::AppendByte(&out, versioned ? kVersionedFormat : kFormat);
  kv::AppendByte(&out, static_cast<uint8_t>(command.op));
  kv::AppendVarint64(&out, command.physical_ms);
  kv::AppendLengthPrefixed(&out, command.payload);
  if (versioned) kv::AppendVarint64(&out, command.catalog_version);
  return out;
}

absl::StatusOr<GroupCommand> DecodeGroupCommand(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  EKV_READ_OR_RETURN(format, reader.ReadByte(), "group command");
  if (format != kFormat && format != kVersionedFormat) {
    return Corrupt("group command", "unknown format");
  }
  EKV_READ_OR_RETURN(op, reader.ReadByte(), "group command");
  if (op < 1 || op > 8) return Corrupt("group command", absl::StrCat("unknown op ", op));
  GroupCommand command;
  command.op = static_cast<GroupCommandOp>(op);
  EKV_READ_OR_RETURN(physical_ms, reader.ReadVarint64(), "group command");
  command.physical_ms = physical_ms;
  EKV_READ_OR_RETURN(payload, reader.ReadLengthPrefixed(), "group command");
  command.payload = std::string(payload);
  if (format == kVersionedFormat) {
    EKV_READ_OR_RETURN(catalog_version, reader.ReadVarint64(), "group command");
    if (catalog_version == 0) return Corrupt("group command", "versioned format with version 0");
    command.catalog_version = catalog_version;
  }
  if (absl::Status s = reader.ExpectEnd("group command"); !s.ok()) return s;
  return command;
}

std::string EncodeGroupQuery(const GroupQuery& query) {
  std::string out;
  const bool versioned = query.catalog_version != 0;
  kv::AppendByte(&out, versioned ? kVersionedFormat : kFormat);
  kv::AppendByte(&out, static_cast<uint8_t>(query.op));
  kv::AppendLengthPrefixed(&out, query.payload);
  if (versioned) kv::AppendVarint64(&out, query.catalog_version);
  return out;
}

absl::StatusOr<GroupQuery> DecodeGroupQuery(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  EKV_READ_OR_RETURN(format, reader.ReadByte(), "group query");
  if (format != kFormat && format != kVersionedFormat) {
    return Corrupt("group query", "unknown format");
  }
  EKV_READ_OR_RETURN(op, reader.ReadByte(), "group query");
  if (op < 1 || op > 7) return Corrupt("group query", absl::StrCat("unknown op ", op));
  GroupQuery query;
  query.op = static_cast<GroupQueryOp>(op);
  EKV_READ_OR_RETURN(payload, reader.ReadLengthPrefixed(), "group query");
  query.payload = std::string(payload);
  if (format == kVersionedFormat) {
    EKV_READ_OR_RETURN(catalog_version, reader.ReadVarint64(), "group query");
    if (catalog_version == 0) return Corrupt("group query", "versioned format with version 0");
    query.catalog_version = catalog_version;
  }
  if (absl::Status s = reader.ExpectEnd("group query"); !s.ok()) return s;
  return query;
}

namespace {
void AppendOptional(std::string* out, const std::optional<std::string>& value) {
  kv::AppendByte(out, value.has_value() ? 1 : 0);
  if (value.has_value()) kv::AppendLengthPrefixed(out, *value);
}
absl::Status ReadOptional(kv::ByteReader& reader, std::optional<std::string>* value) {
  auto present = reader.ReadByte();
  if (!present.ok()) return present.status();
  if (*present > 1) return absl::DataLossError("bad presence byte");
  if (*present == 0) {
    value->reset();
    return absl::OkStatus();
  }
  auto bytes = reader.ReadLengthPrefixed();
  if (!bytes.ok()) return bytes.status();
  *value = std::string(*bytes);
  return absl::OkStatus();
}
}  // namespace

std::string EncodeGroupResult(const GroupResult& r) {
  std::string out;
  kv::AppendByte(&out, kFormat);
  kv::AppendVarint64(&out, static_cast<uint64_t>(r.code));
  kv::AppendLengthPrefixed(&out, r.message);
  kv::AppendVarint64(&out, r.ts);
  AppendOptional(&out, r.value);
  AppendOptional(&out, r.old_value);
  kv::AppendVarint64(&out, r.pairs.size());
  for (const auto& [key, value] : r.pairs) {
    kv::AppendLengthPrefixed(&out, key);
    kv::AppendLengthPrefixed(&out, value);
  }
  kv::AppendVarint64(&out, r.key_errors.size());
  for (const GroupKeyError& e : r.key_errors) {
    kv::AppendLengthPrefixed(&out, e.key);
    kv::AppendLengthPrefixed(&out, e.message);
    kv::AppendByte(&out, e.retryable ? 1 : 0);
    kv::AppendByte(&out, e.code);
    kv::AppendLengthPrefixed(&out, e.lock_primary);
    kv::AppendVarint64(&out, e.lock_start_ts);
    kv::AppendVarint64(&out, e.lock_ttl_ms);
  }
  kv::AppendByte(&out, r.txn_status);
  kv::AppendLengthPrefixed(&out, r.blob);
  kv::AppendVarint64(&out, r.restart_above);
  return out;
}

absl::StatusOr<GroupResult> DecodeGroupResult(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  GroupResult r;
  EKV_READ_OR_RETURN(format, reader.ReadByte(), "group result");
  if (format != kFormat) return Corrupt("group result", "unknown format");
  EKV_READ_OR_RETURN(code, reader.ReadVarint64(), "group result");
  if (code > 16) return Corrupt("group result", "bad status code");
  r.code = static_cast<absl::StatusCode>(code);
  EKV_READ_OR_RETURN(message, reader.ReadLengthPrefixed(), "group result");
  r.message = std::string(message);
  EKV_READ_OR_RETURN(ts, reader.ReadVarint64(), "group result");
  r.ts = ts;
  if (absl::Status s = ReadOptional(reader, &r.value); !s.ok())
    return Corrupt("group result", s.message());
  if (absl::Status s = ReadOptional(reader, &r.old_value); !s.ok()) {
    return Corrupt("group result", s.message());
  }
  EKV_READ_OR_RETURN(pair_count, reader.ReadVarint64(), "group result");
  if (pair_count > reader.remaining()) return Corrupt("group result", "bad pair count");
  for (uint64_t i = 0; i < pair_count; ++i) {
    EKV_READ_OR_RETURN(key, reader.ReadLengthPrefixed(), "group result");
    EKV_READ_OR_RETURN(value, reader.ReadLengthPrefixed(), "group result");
    r.pairs.emplace_back(std::string(key), std::string(value));
  }
  EKV_READ_OR_RETURN(error_count, reader.ReadVarint64(), "group result");
  if (error_count > reader.remaining()) return Corrupt("group result", "bad error count");
  for (uint64_t i = 0; i < error_count; ++i) {
    GroupKeyError e;
    EKV_READ_OR_RETURN(key, reader.ReadLengthPrefixed(), "group result");
    EKV_READ_OR_RETURN(msg, reader.ReadLengthPrefixed(), "group result");
    EKV_READ_OR_RETURN(retryable, reader.ReadByte(), "group result");
    EKV_READ_OR_RETURN(err_code, reader.ReadByte(), "group result");
    EKV_READ_OR_RETURN(primary, reader.ReadLengthPrefixed(), "group result");
    EKV_READ_OR_RETURN(lock_start, reader.ReadVarint64(), "group result");
    EKV_READ_OR_RETURN(lock_ttl, reader.ReadVarint64(), "group result");
    e.key = std::string(key);
    e.message = std::string(msg);
    e.retryable = retryable != 0;
    e.code = err_code;
    e.lock_primary = std::string(primary);
    e.lock_start_ts = lock_start;
    e.lock_ttl_ms = lock_ttl;
    r.key_errors.push_back(std::move(e));
  }
  EKV_READ_OR_RETURN(txn_status, reader.ReadByte(), "group result");
  r.txn_status = txn_status;
  EKV_READ_OR_RETURN(blob, reader.ReadLengthPrefixed(), "group result");
  r.blob = std::string(blob);
  EKV_READ_OR_RETURN(restart_above, reader.ReadVarint64(), "group result");
  r.restart_above = restart_above;
  if (absl::Status s = reader.ExpectEnd("group result"); !s.ok()) return s;
  return r;
}

std::string EncodeRawScan(absl::string_view start, absl::string_view end, uint64_t limit) {
  std::string out;
  kv::AppendLengthPrefixed(&out, start);
  kv::AppendLengthPrefixed(&out, end);
  kv::AppendVarint64(&out, limit);
  return out;
}

}  // namespace ekv::node

#include "core/kv/kv_state_machine.h"

namespace ekv::node {

std::string EncodeKvQuery(const kv::KvQuery& query) {
  std::string out;
  kv::AppendByte(&out, static_cast<uint8_t>(query.kind));
  kv::AppendLengthPrefixed(&out, query.key);
  kv::AppendLengthPrefixed(&out, query.end_key);
  kv::AppendVarint64(&out, query.limit);
  kv::AppendVarint64(&out, query.read_ts);
  // Flags: bit 0 reverse, bit 1 as_of.
  kv::AppendByte(&out,
                 (query.direction == kv::ScanDirection::kReverse ? 1 : 0) | (query.as_of ? 2 : 0));
  return out;
}

absl::StatusOr<kv::KvQuery> DecodeKvQuery(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  kv::KvQuery query;
  EKV_READ_OR_RETURN(kind, reader.ReadByte(), "kv query");
  if (kind > static_cast<uint8_t>(kv::KvQuery::Kind::kLatestCommitTs)) {
    return Corrupt("kv query", "unknown kind");
  }
  query.kind = static_cast<kv::KvQuery::Kind>(kind);
  EKV_READ_OR_RETURN(key, reader.ReadLengthPrefixed(), "kv query");
  EKV_READ_OR_RETURN(end_key, reader.ReadLengthPrefixed(), "kv query");
  EKV_READ_OR_RETURN(limit, reader.ReadVarint64(), "kv query");
  EKV_READ_OR_RETURN(read_ts, reader.ReadVarint64(), "kv query");
  EKV_READ_OR_RETURN(flags, reader.ReadByte(), "kv query");
  if (flags > 3) return Corrupt("kv query", "bad flags");
  query.key = std::string(key);
  query.end_key = std::string(end_key);
  query.limit = limit;
  query.read_ts = read_ts;
  query.direction = (flags & 1) != 0 ? kv::ScanDirection::kReverse : kv::ScanDirection::kForward;
  query.as_of = (flags & 2) != 0;
  if (absl::Status s = reader.ExpectEnd("kv query"); !s.ok()) return s;
  return query;
}

GroupKeyError ToGroupKeyError(const kv::KeyError& error) {
  GroupKeyError out;
  out.key = error.key;
  out.message = error.message;
  out.retryable = error.retryable;
  out.code = static_cast<uint8_t>(error.code);
  if (error.lock.has_value()) {
    out.lock_primary = error.lock->primary;
    out.lock_start_ts = error.lock->start_ts;
    out.lock_ttl_ms = error.lock->ttl_ms;
  }
  return out;
}

kv::KvApplyResult ToKvApplyResult(const GroupResult& result) {
  kv::KvApplyResult out;
  out.status = result.status();
  out.commit_ts = result.ts;
  out.txn_status = static_cast<kv::TxnStatusKind>(result.txn_status);
  for (const GroupKeyError& e : result.key_errors) {
    kv::KeyError error;
    error.code = static_cast<kv::KeyErrorCode>(e.code);
    error.key = e.key;
    error.message = e.message;
    error.retryable = e.retryable;
    if (!e.lock_primary.empty()) {
      kv::LockRecord lock;
      lock.primary = e.lock_primary;
      lock.start_ts = e.lock_start_ts;
      lock.ttl_ms = e.lock_ttl_ms;
      error.lock = std::move(lock);
    }
    out.key_errors.push_back(std::move(error));
  }
  return out;
}

}  // namespace ekv::node
