#include "core/kv/kv_command.h"

#include <type_traits>

#include <iterator>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/mvcc_reader.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::kv {
namespace {

constexpr uint8_t kCommandFormat = 1;

// Wire type tags; never reuse or renumber one.
enum class CommandType : uint8_t {
  kRawWrite = 1,
  kSetHlcCeiling = 2,
  kPrewrite = 3,
  kCommit = 4,
  kRollback = 5,
  kCheckTxnStatus = 6,
  kResolveLock = 7,
  kOnePhaseCommit = 8,
  kCompareAndSet = 9,
  kConditionalWrite = 10,
  kIncrement = 11,
  kAppend = 12,
  kPutWithTtl = 13,
  kGc = 14,
  kAdvanceReadFloor = 15,
};

// ---- encoding ----

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void U8(uint8_t v) { AppendByte(out_, v); }
  void U64(uint64_t v) { AppendVarint64(out_, v); }
  void Bytes(absl::string_view v) { AppendLengthPrefixed(out_, v); }
  void OptionalBytes(const std::optional<std::string>& v) {
    U8(v.has_value() ? 1 : 0);
    if (v.has_value()) Bytes(*v);
  }
  void Mut(const Mutation& m) {
    U8(static_cast<uint8_t>(m.kind));
    Bytes(m.key);
    if (m.kind == MutationKind::kPut) Bytes(m.value);
  }
  void Mutations(const std::vector<Mutation>& ms) {
    U64(ms.size());
    for (const Mutation& m : ms) Mut(m);
  }
  void Keys(const std::vector<std::string>& keys) {
    U64(keys.size());
    for (const std::string& k : keys) Bytes(k);
  }

 private:
  std::string* out_;
};

void EncodeBody(Writer& w, const RawWriteCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kRawWrite));
  w.Mutations(c.mutations);
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const SetHlcCeilingCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kSetHlcCeiling));
  w.U64(c.ceiling_ms);
}
void EncodeBody(Writer& w, const PrewriteCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kPrewrite));
  w.Mutations(c.mutations);
  w.Bytes(c.primary);
  w.U64(c.start_ts);
  w.U64(c.lock_ttl_ms);
}
void EncodeBody(Writer& w, const CommitCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kCommit));
  w.Keys(c.keys);
  w.U64(c.start_ts);
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const RollbackCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kRollback));
  w.Keys(c.keys);
  w.U64(c.start_ts);
}
void EncodeBody(Writer& w, const CheckTxnStatusCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kCheckTxnStatus));
  w.Bytes(c.primary);
  w.U64(c.start_ts);
  w.U64(c.current_ms);
}
void EncodeBody(Writer& w, const ResolveLockCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kResolveLock));
  w.Keys(c.keys);
  w.U64(c.start_ts);
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const AdvanceReadFloorCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kAdvanceReadFloor));
  w.U64(c.floor_ts);
}
void EncodeBody(Writer& w, const OnePhaseCommitCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kOnePhaseCommit));
  w.Mutations(c.mutations);
  w.U64(c.start_ts);
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const CompareAndSetCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kCompareAndSet));
  w.Bytes(c.key);
  w.OptionalBytes(c.expected);
  w.OptionalBytes(c.new_value);
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const ConditionalWriteCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kConditionalWrite));
  w.Mut(c.mutation);
  w.U8(static_cast<uint8_t>(c.condition.kind));
  w.Bytes(c.condition.value);
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const IncrementCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kIncrement));
  w.Bytes(c.key);
  w.U64(static_cast<uint64_t>(c.delta));
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const AppendCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kAppend));
  w.Bytes(c.key);
  w.Bytes(c.suffix);
  w.U64(c.commit_ts);
}
void EncodeBody(Writer& w, const PutWithTtlCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kPutWithTtl));
  w.Bytes(c.key);
  w.Bytes(c.value);
  w.U64(c.ttl_ms);
  w.U64(c.commit_ts);
}

void EncodeBody(Writer& w, const GcCommand& c) {
  w.U8(static_cast<uint8_t>(CommandType::kGc));
  w.U64(c.safe_point);
  w.Bytes(c.start_key);
  w.U64(c.max_keys);
}

// ---- decoding ----

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : in_(bytes) {}

  absl::StatusOr<uint8_t> U8() { return in_.ReadByte(); }
  absl::StatusOr<uint64_t> U64() { return in_.ReadVarint64(); }
  absl::StatusOr<std::string> Bytes(size_t max_bytes, absl::string_view what) {
    EKV_KV_ASSIGN_OR_RETURN(absl::string_view bytes, in_.ReadLengthPrefixed());
    if (bytes.size() > max_bytes) {
      return absl::DataLossError(
          absl::StrCat("kv command: ", what, " of ", bytes.size(), " bytes exceeds ", max_bytes));
    }
    return std::string(bytes);
  }
  absl::StatusOr<std::optional<std::string>> OptionalBytes(absl::string_view what) {
    EKV_KV_ASSIGN_OR_RETURN(uint8_t present, U8());
    if (present > 1) return absl::DataLossError("kv command: bad optional presence byte");
    if (present == 0) return std::optional<std::string>();
    EKV_KV_ASSIGN_OR_RETURN(std::string value, Bytes(kMaxValueBytes, what));
    return std::optional<std::string>(std::move(value));
  }
  absl::StatusOr<size_t> Count() {
    EKV_KV_ASSIGN_OR_RETURN(uint64_t count, U64());
    if (count > kMaxKeysPerCommand) {
      return absl::DataLossError(
          absl::StrCat("kv command: ", count, " keys exceeds the limit of ", kMaxKeysPerCommand));
    }
    return static_cast<size_t>(count);
  }
  absl::StatusOr<Mutation> Mut() {
    EKV_KV_ASSIGN_OR_RETURN(uint8_t kind, U8());
    if (kind != static_cast<uint8_t>(MutationKind::kPut) &&
        kind != static_cast<uint8_t>(MutationKind::kDelete)) {
      return absl::DataLossError(absl::StrCat("kv command: unknown mutation kind ", kind));
    }
    Mutation m;
    m.kind = static_cast<MutationKind>(kind);
    EKV_KV_ASSIGN_OR_RETURN(m.key, Bytes(kMaxKeyBytes, "key"));
    if (m.kind == MutationKind::kPut) {
      EKV_KV_ASSIGN_OR_RETURN(m.value, Bytes(kMaxValueBytes, "value"));
    }
    return m;
  }
  absl::StatusOr<std::vector<Mutation>> Mutations() {
    EKV_KV_ASSIGN_OR_RETURN(size_t count, Count());
    std::vector<Mutation> ms;
    ms.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      EKV_KV_ASSIGN_OR_RETURN(Mutation m, Mut());
      ms.push_back(std::move(m));
    }
    return ms;
  }
  absl::StatusOr<std::vector<std::string>> Keys() {
    EKV_KV_ASSIGN_OR_RETURN(size_t count, Count());
    std::vector<std::string> keys;
    keys.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      EKV_KV_ASSIGN_OR_RETURN(std::string key, Bytes(kMaxKeyBytes, "key"));
      keys.push_back(std::move(key));
    }
    return keys;
  }
  absl::Status End() const { return in_.ExpectEnd("kv command"); }

 private:
  ByteReader in_;
};

absl::StatusOr<KvCommand> DecodeBody(Reader& r, CommandType type) {
  switch (type) {
    case CommandType::kRawWrite: {
      RawWriteCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.mutations, r.Mutations());
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kSetHlcCeiling: {
      SetHlcCeilingCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.ceiling_ms, r.U64());
      return c;
    }
    case CommandType::kPrewrite: {
      PrewriteCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.mutations, r.Mutations());
      EKV_KV_ASSIGN_OR_RETURN(c.primary, r.Bytes(kMaxKeyBytes, "primary"));
      EKV_KV_ASSIGN_OR_RETURN(c.start_ts, r.U64());
      EKV_KV_ASSIGN_OR_RETURN(c.lock_ttl_ms, r.U64());
      return c;
    }
    case CommandType::kCommit: {
      CommitCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.keys, r.Keys());
      EKV_KV_ASSIGN_OR_RETURN(c.start_ts, r.U64());
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kRollback: {
      RollbackCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.keys, r.Keys());
      EKV_KV_ASSIGN_OR_RETURN(c.start_ts, r.U64());
      return c;
    }
    case CommandType::kCheckTxnStatus: {
      CheckTxnStatusCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.primary, r.Bytes(kMaxKeyBytes, "primary"));
      EKV_KV_ASSIGN_OR_RETURN(c.start_ts, r.U64());
      EKV_KV_ASSIGN_OR_RETURN(c.current_ms, r.U64());
      return c;
    }
    case CommandType::kResolveLock: {
      ResolveLockCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.keys, r.Keys());
      EKV_KV_ASSIGN_OR_RETURN(c.start_ts, r.U64());
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kAdvanceReadFloor: {
      AdvanceReadFloorCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.floor_ts, r.U64());
      return c;
    }
    case CommandType::kOnePhaseCommit: {
      OnePhaseCommitCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.mutations, r.Mutations());
      EKV_KV_ASSIGN_OR_RETURN(c.start_ts, r.U64());
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kCompareAndSet: {
      CompareAndSetCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.key, r.Bytes(kMaxKeyBytes, "key"));
      EKV_KV_ASSIGN_OR_RETURN(c.expected, r.OptionalBytes("expected value"));
      EKV_KV_ASSIGN_OR_RETURN(c.new_value, r.OptionalBytes("new value"));
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kConditionalWrite: {
      ConditionalWriteCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.mutation, r.Mut());
      EKV_KV_ASSIGN_OR_RETURN(uint8_t kind, r.U8());
      if (kind > static_cast<uint8_t>(ConditionKind::kEquals)) {
        return absl::DataLossError(absl::StrCat("kv command: unknown condition kind ", kind));
      }
      c.condition.kind = static_cast<ConditionKind>(kind);
      EKV_KV_ASSIGN_OR_RETURN(c.condition.value, r.Bytes(kMaxValueBytes, "condition value"));
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kIncrement: {
      IncrementCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.key, r.Bytes(kMaxKeyBytes, "key"));
      EKV_KV_ASSIGN_OR_RETURN(uint64_t delta, r.U64());
      c.delta = static_cast<int64_t>(delta);
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kAppend: {
      AppendCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.key, r.Bytes(kMaxKeyBytes, "key"));
      EKV_KV_ASSIGN_OR_RETURN(c.suffix, r.Bytes(kMaxValueBytes, "suffix"));
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kPutWithTtl: {
      PutWithTtlCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.key, r.Bytes(kMaxKeyBytes, "key"));
      EKV_KV_ASSIGN_OR_RETURN(c.value, r.Bytes(kMaxValueBytes, "value"));
      EKV_KV_ASSIGN_OR_RETURN(c.ttl_ms, r.U64());
      EKV_KV_ASSIGN_OR_RETURN(c.commit_ts, r.U64());
      return c;
    }
    case CommandType::kGc: {
      GcCommand c;
      EKV_KV_ASSIGN_OR_RETURN(c.safe_point, r.U64());
      EKV_KV_ASSIGN_OR_RETURN(c.start_key, r.Bytes(kMaxKeyBytes, "gc start key"));
      EKV_KV_ASSIGN_OR_RETURN(c.max_keys, r.U64());
      if (c.max_keys == 0 || c.max_keys > kMaxGcKeysPerPass) {
        return absl::DataLossError(absl::StrCat("kv command: gc max_keys ", c.max_keys,
                                                " outside [1, ", kMaxGcKeysPerPass, "]"));
      }
      return c;
    }
  }
  return absl::DataLossError(
      absl::StrCat("kv command: unknown command type ", static_cast<int>(type)));
}

}  // namespace

std::string RoutingKeyOf(const KvCommand& command) {
  return std::visit(
      [](const auto& c) -> std::string {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, RawWriteCommand> || std::is_same_v<T, PrewriteCommand> ||
                      std::is_same_v<T, OnePhaseCommitCommand>) {
          return c.mutations.empty() ? std::string() : c.mutations.front().key;
        } else if constexpr (std::is_same_v<T, CommitCommand> ||
                             std::is_same_v<T, RollbackCommand> ||
                             std::is_same_v<T, ResolveLockCommand>) {
          return c.keys.empty() ? std::string() : c.keys.front();
        } else if constexpr (std::is_same_v<T, CheckTxnStatusCommand>) {
          return c.primary;
        } else if constexpr (std::is_same_v<T, ConditionalWriteCommand>) {
          return c.mutation.key;
        } else if constexpr (std::is_same_v<T, CompareAndSetCommand> ||
                             std::is_same_v<T, IncrementCommand> ||
                             std::is_same_v<T, AppendCommand> ||
                             std::is_same_v<T, PutWithTtlCommand>) {
          return c.key;
        } else {
          return std::string();  // whole-group commands
        }
      },
      command);
}

const char* KvCommandName(const KvCommand& command) {
  static constexpr const char* kNames[] = {"raw_write",         "set_hlc_ceiling",
                                           "prewrite",          "commit",
                                           "rollback",          "check_txn_status",
                                           "resolve_lock",      "one_phase_commit",
                                           "compare_and_set",   "conditional_write",
                                           "increment",         "append",
                                           "put_with_ttl",      "gc",
                                           "advance_read_floor"};
  static_assert(std::size(kNames) == std::variant_size_v<KvCommand>);
  return kNames[command.index()];
}

std::string EncodeKvCommand(const KvCommand& command) {
  std::string out;
  Writer w(&out);
  w.U8(kCommandFormat);
  std::visit([&w](const auto& c) { EncodeBody(w, c); }, command);
  return out;
}

absl::StatusOr<KvCommand> DecodeKvCommand(absl::string_view bytes) {
  Reader r(bytes);
  absl::StatusOr<uint8_t> format = r.U8();
  if (!format.ok()) return absl::DataLossError("kv command: empty");
  if (*format != kCommandFormat) {
    return absl::DataLossError(absl::StrCat("kv command: unknown format version ", *format,
                                            ", expected ", kCommandFormat));
  }
  EKV_KV_ASSIGN_OR_RETURN(uint8_t type, r.U8());
  EKV_KV_ASSIGN_OR_RETURN(KvCommand command, DecodeBody(r, static_cast<CommandType>(type)));
  EKV_KV_RETURN_IF_ERROR(r.End());
  return command;
}

const char* KeyErrorCodeName(KeyErrorCode code) {
  switch (code) {
    case KeyErrorCode::kWriteConflict:
      return "WriteConflict";
    case KeyErrorCode::kKeyIsLocked:
      return "KeyIsLocked";
    case KeyErrorCode::kTxnRolledBack:
      return "TxnRolledBack";
    case KeyErrorCode::kTxnLockNotFound:
      return "TxnLockNotFound";
    case KeyErrorCode::kTxnCommitted:
      return "TxnCommitted";
  }
  return "Unknown";
}

KeyError WriteConflictError(absl::string_view key, Timestamp start_ts,
                            Timestamp conflict_commit_ts) {
  KeyError error;
  error.code = KeyErrorCode::kWriteConflict;
  error.key = std::string(key);
  error.message = absl::StrCat("write conflict: a version committed at ",
                               FormatTimestamp(conflict_commit_ts), " is newer than start_ts ",
                               FormatTimestamp(start_ts), "; restart with a new start_ts");
  error.retryable = false;
  error.conflict_commit_ts = conflict_commit_ts;
  return error;
}

KeyError KeyIsLockedError(absl::string_view key, const LockRecord& lock) {
  KeyError error;
  error.code = KeyErrorCode::kKeyIsLocked;
  error.key = std::string(key);
  error.message = absl::StrCat("key is locked by the transaction started at ",
                               FormatTimestamp(lock.start_ts), " (ttl ", lock.ttl_ms, " ms)");
  error.retryable = true;
  error.lock = lock;
  return error;
}

absl::Status KeyErrorStatus(const KeyError& error) {
  std::string message = absl::StrCat(KeyErrorCodeName(error.code), ": ", error.message);
  if (error.retryable) return absl::UnavailableError(message);
  switch (error.code) {
    case KeyErrorCode::kWriteConflict:
    case KeyErrorCode::kTxnRolledBack:
      return absl::AbortedError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

}  // namespace ekv::kv
