#include "core/kv/mvcc_reader.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/key_codec.h"
#include "core/kv/status_macros.h"
#include "core/util/assert.h"

namespace ekv::kv {
namespace {

// Stepping with Next/Prev is cheaper than a Seek while the target is a few entries away;
// after this many steps a scan seeks instead, so a key with many versions costs one seek
// rather than a walk over all of them (RocksDB's max_sequential_skip_in_iterations).
constexpr int kStepsBeforeSeek = 4;

absl::Status CheckLimit(size_t limit, size_t max, absl::string_view what) {
  if (limit == 0 || limit > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " limit must be in [1, ", max, "], got ", limit));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(absl::string_view start, absl::string_view end) {
  if (!end.empty() && start > end) {
    return absl::InvalidArgumentError("scan range start must be <= end (empty end = no bound)");
  }
  return absl::OkStatus();
}

// The data-namespace bound for user keys below `end` (empty: no bound).
std::string DataUpperBound(absl::string_view end) {
  return end.empty() ? NamespaceEnd(kDataPrefix) : DataKeyPrefix(end);
}

void AssignBytes(std::string* dst, absl::string_view bytes) {
  dst->assign(bytes.data(), bytes.size());
}

std::string VersionKey(absl::string_view prefix, Timestamp ts) {
  std::string key;
  key.reserve(prefix.size() + kTimestampSuffixBytes);
  key.append(prefix.data(), prefix.size());
  AppendFixed64BigEndian(&key, ~ts);
  return key;
}

// The user key of a versioned key's prefix ("d" + Enc(user_key)).
absl::StatusOr<std::string> UserKeyOfPrefix(absl::string_view prefix) {
  prefix.remove_prefix(1);
  absl::StatusOr<std::string> user_key = DecodeUserKey(&prefix);
  if (user_key.ok() && !prefix.empty()) {
    return absl::DataLossError("data key: bytes between the user key and its timestamp");
  }
  return user_key;
}

// Moves `it` forward past entries of `prefix` for which `skip(ts)` holds: a few Next
// calls, then one Seek to `seek_target()`, which must be the first key not skipped.
template <typename Skip, typename SeekTarget>
void SkipForward(EngineIterator& it, absl::string_view prefix, Skip skip, SeekTarget seek_target) {
  for (int step = 0; step < kStepsBeforeSeek; ++step) {
    it.Next();
    if (!it.Valid() || VersionedKeyPrefix(it.key()) != prefix ||
        !skip(VersionedKeyTimestamp(it.key()))) {
      return;
    }
  }
  it.Seek(seek_target());
}

}  // namespace

MvccReader::MvccReader(const EngineReader& engine) : engine_(&engine) {}

MvccReader::MvccReader(std::unique_ptr<EngineSnapshot> snapshot)
    : owned_snapshot_(std::move(snapshot)), engine_(owned_snapshot_.get()) {
  EKV_ASSERT(engine_ != nullptr, "MvccReader needs a snapshot");
}

absl::StatusOr<std::optional<Version>> MvccReader::GetVersion(absl::string_view key,
                                                              Timestamp read_ts) const {
  std::unique_ptr<EngineIterator> it = engine_->NewIterator({});
  const std::string target = DataKey(key, read_ts);
  it->Seek(target);
  if (!it->Valid()) {
    EKV_KV_RETURN_IF_ERROR(it->status());
    return std::nullopt;
  }
  const absl::string_view prefix(target.data(), target.size() - kTimestampSuffixBytes);
  if (it->key().size() != target.size() || VersionedKeyPrefix(it->key()) != prefix) {
    return std::nullopt;
  }
  EKV_KV_ASSIGN_OR_RETURN(VersionRecord record, DecodeVersionRecord(it->value()));
  return Version{VersionedKeyTimestamp(it->key()), std::move(record)};
}

absl::StatusOr<std::optional<std::string>> MvccReader::Get(absl::string_view key,
                                                           Timestamp read_ts) const {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<Version> version, GetVersion(key, read_ts));
  if (!version.has_value() || version->record.kind == MutationKind::kDelete) return std::nullopt;
  return std::move(version->record.value);
}

absl::StatusOr<std::optional<Timestamp>> MvccReader::LatestCommitTs(absl::string_view key) const {
  std::unique_ptr<EngineIterator> it = engine_->NewIterator({});
  const std::string prefix = DataKeyPrefix(key);
  it->Seek(prefix);
  if (!it->Valid()) {
    EKV_KV_RETURN_IF_ERROR(it->status());
    return std::nullopt;
  }
  if (it->key().size() != prefix.size() + kTimestampSuffixBytes ||
      VersionedKeyPrefix(it->key()) != prefix) {
    return std::nullopt;
  }
  return VersionedKeyTimestamp(it->key());
}

absl::StatusOr<std::vector<KvPair>> MvccReader::Scan(absl::string_view start, absl::string_view end,
                                                     size_t limit, Timestamp read_ts,
                                                     ScanDirection direction,
                                                     ReadUncertainty* uncertainty) const {
  EKV_KV_RETURN_IF_ERROR(CheckLimit(limit, kMaxScanLimit, "scan"));
  EKV_KV_RETURN_IF_ERROR(CheckRange(start, end));
  if (uncertainty != nullptr && uncertainty->limit <= read_ts) uncertainty = nullptr;
  return direction == ScanDirection::kForward
             ? ScanForward(start, end, limit, read_ts, uncertainty)
             : ScanReverse(start, end, limit, read_ts, uncertainty);
}

absl::StatusOr<std::vector<KvPair>> MvccReader::ScanForward(absl::string_view start,
                                                            absl::string_view end, size_t limit,
                                                            Timestamp read_ts,
                                                            ReadUncertainty* uncertainty) const {
  std::vector<KvPair> out;
  std::unique_ptr<EngineIterator> it =
      engine_->NewIterator({DataKeyPrefix(start), DataUpperBound(end)});
  // Versions above `skip_above` are skipped; with a window, those in it are looked at.
  const Timestamp skip_above = uncertainty != nullptr ? uncertainty->limit : read_ts;
  it->Seek(DataKey(start, skip_above));
  std::string prefix;
  while (it->Valid() && out.size() < limit) {
    AssignBytes(&prefix, VersionedKeyPrefix(it->key()));
    const Timestamp ts = VersionedKeyTimestamp(it->key());
    if (ts > read_ts && ts <= skip_above) {
      uncertainty->met = ts;
      break;
    }
    if (ts > read_ts) {
      // Too new: move to this key's newest version <= skip_above (or the next key).
      SkipForward(
          *it, prefix, [skip_above](Timestamp t) { return t > skip_above; },
          [&prefix, skip_above] { return VersionKey(prefix, skip_above); });
      continue;
    }
    EKV_KV_ASSIGN_OR_RETURN(VersionRecordView record, DecodeVersionRecordView(it->value()));
    if (record.kind == MutationKind::kPut) {
      EKV_KV_ASSIGN_OR_RETURN(std::string user_key, UserKeyOfPrefix(prefix));
      out.push_back(KvPair{std::move(user_key), std::string(record.value), ts});
    }
    // Older versions of this key are hidden by the one just read.
    SkipForward(
        *it, prefix, [](Timestamp) { return true; },
        [&prefix] { return EncodedUserKeySuccessor(prefix); });
  }
  EKV_KV_RETURN_IF_ERROR(it->status());
  return out;
}

absl::StatusOr<std::vector<KvPair>> MvccReader::ScanReverse(absl::string_view start,
                                                            absl::string_view end, size_t limit,
                                                            Timestamp read_ts,
                                                            ReadUncertainty* uncertainty) const {
  std::vector<KvPair> out;
  std::unique_ptr<EngineIterator> it =
      engine_->NewIterator({DataKeyPrefix(start), DataUpperBound(end)});
  it->SeekToLast();
  std::string prefix;
  std::string visible_value;  // raw record of the newest visible version seen so far
  while (it->Valid() && out.size() < limit) {
    // Backwards, a key's versions come oldest first: walk them while they are visible,
    // remembering the last (newest) one.
    AssignBytes(&prefix, VersionedKeyPrefix(it->key()));
    std::optional<Timestamp> visible_ts;
    int steps = 0;
    while (it->Valid() && VersionedKeyPrefix(it->key()) == prefix) {
      const Timestamp ts = VersionedKeyTimestamp(it->key());
      if (ts > read_ts) break;  // this and every earlier entry are too new
      if (++steps > kStepsBeforeSeek) {
        // Many visible versions: seek straight to the newest one instead.
        it->Seek(VersionKey(prefix, read_ts));
        EKV_ASSERT(it->Valid() && VersionedKeyPrefix(it->key()) == prefix,
                   "reverse scan: a visible version vanished from a consistent view");
        visible_ts = VersionedKeyTimestamp(it->key());
        AssignBytes(&visible_value, it->value());
        if (uncertainty != nullptr) it->Prev();  // the oldest version above read_ts
        break;
      }
      visible_ts = ts;
      AssignBytes(&visible_value, it->value());
      it->Prev();
    }
    if (uncertainty != nullptr && it->Valid() && VersionedKeyPrefix(it->key()) == prefix &&
        VersionedKeyTimestamp(it->key()) <= uncertainty->limit) {
      // Stopped at the key's oldest version above read_ts, and the window holds it.
      uncertainty->met = VersionedKeyTimestamp(it->key());
      break;
    }
    if (it->Valid() && VersionedKeyPrefix(it->key()) == prefix) {
      // Stopped inside this key's versions: jump to the previous user key. The bare
      // prefix sorts before all of its versions, so SeekForPrev lands below them.
      it->SeekForPrev(prefix);
    }
    if (visible_ts.has_value()) {
      EKV_KV_ASSIGN_OR_RETURN(VersionRecordView record, DecodeVersionRecordView(visible_value));
      if (record.kind == MutationKind::kPut) {
        EKV_KV_ASSIGN_OR_RETURN(std::string user_key, UserKeyOfPrefix(prefix));
        out.push_back(KvPair{std::move(user_key), std::string(record.value), *visible_ts});
      }
    }
  }
  EKV_KV_RETURN_IF_ERROR(it->status());
  return out;
}

absl::StatusOr<std::optional<LockRecord>> MvccReader::GetLock(absl::string_view key) const {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine_->Get(LockKey(key)));
  if (!bytes.has_value()) return std::nullopt;
  EKV_KV_ASSIGN_OR_RETURN(LockRecord lock, DecodeLockRecord(*bytes));
  return lock;
}

absl::StatusOr<std::vector<LockEntry>> MvccReader::ScanLocks(absl::string_view start,
                                                             absl::string_view end,
                                                             size_t limit) const {
  EKV_KV_RETURN_IF_ERROR(CheckLimit(limit, kMaxScanLimit, "lock scan"));
  EKV_KV_RETURN_IF_ERROR(CheckRange(start, end));
  std::vector<LockEntry> out;
  std::unique_ptr<EngineIterator> it = engine_->NewIterator(
      {LockKey(start), end.empty() ? NamespaceEnd(kLockPrefix) : LockKey(end)});
  for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
    EKV_KV_ASSIGN_OR_RETURN(std::string key, DecodeLockKey(it->key()));
    EKV_KV_ASSIGN_OR_RETURN(LockRecord lock, DecodeLockRecord(it->value()));
    out.push_back(LockEntry{std::move(key), std::move(lock)});
  }
  EKV_KV_RETURN_IF_ERROR(it->status());
  return out;
}

absl::StatusOr<std::optional<TxnStatusRecord>> MvccReader::GetTxnStatus(absl::string_view key,
                                                                        Timestamp start_ts) const {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          engine_->Get(TxnStatusKey(key, start_ts)));
  if (!bytes.has_value()) return std::nullopt;
  EKV_KV_ASSIGN_OR_RETURN(TxnStatusRecord status, DecodeTxnStatusRecord(*bytes));
  return status;
}

absl::StatusOr<std::optional<std::string>> MvccReader::GetMeta(absl::string_view name) const {
  return engine_->Get(MetaKey(name));
}

absl::StatusOr<std::optional<Timestamp>> MvccReader::GetExpiry(absl::string_view key,
                                                               Timestamp commit_ts) const {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          engine_->Get(ExpiryKey(key, commit_ts)));
  if (!bytes.has_value()) return std::nullopt;
  if (bytes->size() != 8) return absl::DataLossError("expiry record: expected 8 bytes");
  return DecodeFixed64BigEndian(*bytes);
}

absl::Status MvccReader::PlanExpiryGc(absl::string_view data_prefix, Timestamp kept_ts,
                                      MvccBatch* batch) const {
  // Expiry keys share the data key's layout (encoded user key, inverted commit_ts) under
  // their own namespace byte, so the key's expiry records are one contiguous range.
  std::string expiry_prefix(data_prefix);
  expiry_prefix[0] = kExpiryPrefix;
  std::unique_ptr<EngineIterator> it =
      engine_->NewIterator({expiry_prefix, EncodedUserKeySuccessor(expiry_prefix)});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (VersionedKeyTimestamp(it->key()) < kept_ts) batch->DeleteRawKey(it->key());
  }
  return it->status();
}

absl::StatusOr<GcPlan> MvccReader::PlanGc(Timestamp safe_point, absl::string_view start_key,
                                          size_t max_keys, MvccBatch* batch) const {
  EKV_KV_RETURN_IF_ERROR(CheckLimit(max_keys, kMaxGcKeysPerPass, "gc"));
  GcPlan plan;
  std::unique_ptr<EngineIterator> it =
      engine_->NewIterator({DataKeyPrefix(start_key), NamespaceEnd(kDataPrefix)});
  it->SeekToFirst();
  std::string prefix;
  while (it->Valid()) {
    AssignBytes(&prefix, VersionedKeyPrefix(it->key()));
    if (plan.keys_examined == max_keys) {
      EKV_KV_ASSIGN_OR_RETURN(plan.resume_key, UserKeyOfPrefix(prefix));
      break;
    }
    ++plan.keys_examined;
    // Versions come newest first. The first one <= safe_point is what every read at
    // ts >= safe_point that falls below the newer versions sees; older ones are unseen.
    bool reached_safe_point = false;
    // Every version of this key with commit_ts < kept_ts is deleted (and the one at
    // kept_ts too when it is a tombstone, which has no expiry record).
    Timestamp kept_ts = 0;
    bool drop_kept_expiry = false;  // the version at kept_ts expired: its expiry goes too
    const uint64_t deleted_before = plan.versions_deleted;
    for (; it->Valid() && VersionedKeyPrefix(it->key()) == prefix; it->Next()) {
      if (VersionedKeyTimestamp(it->key()) > safe_point) continue;
      if (reached_safe_point) {
        batch->DeleteRawKey(it->key());
        ++plan.versions_deleted;
        continue;
      }
      reached_safe_point = true;
      kept_ts = VersionedKeyTimestamp(it->key());
      EKV_KV_ASSIGN_OR_RETURN(VersionRecordView record, DecodeVersionRecordView(it->value()));
      if (record.kind == MutationKind::kDelete) {
        // Reads at ts >= safe_point see absence either way once the older versions go.
        batch->DeleteRawKey(it->key());
        ++plan.versions_deleted;
        continue;
      }
      // A value that expired at or before the safe point reads as absent at every ts >=
      // safe_point, like a tombstone: it goes too, with its expiry record (an expired
      // Redis string or RawKV TTL value leaves storage, not only reads).
      std::string expiry_key(it->key());
      expiry_key[0] = kExpiryPrefix;
      EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> expiry, engine_->Get(expiry_key));
      if (expiry.has_value() && expiry->size() == 8 &&
          DecodeFixed64BigEndian(*expiry) <= safe_point) {
        batch->DeleteRawKey(it->key());
        ++plan.versions_deleted;
        drop_kept_expiry = true;
      }
    }
    if (plan.versions_deleted > deleted_before) {
      EKV_KV_RETURN_IF_ERROR(PlanExpiryGc(prefix, drop_kept_expiry ? kept_ts + 1 : kept_ts, batch));
    }
  }
  EKV_KV_RETURN_IF_ERROR(it->status());
  return plan;
}

}  // namespace ekv::kv
