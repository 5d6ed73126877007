#include "core/redis/cleanup.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/key_codec.h"
#include "core/kv/status_macros.h"
#include "core/kv/timestamp.h"
#include "core/redis/layout.h"
#include "core/util/assert.h"

namespace ekv::redis_core {
namespace {

// What the pass knows about the user key whose records it is walking.
struct KeyState {
  std::string user_key;
  bool cleanable = false;       // writable here and not locked
  std::optional<Meta> live;     // its metadata, when present, well formed and unexpired
  bool meta_malformed = false;  // a metadata record we cannot read: touch nothing
};

absl::StatusOr<KeyState> ReadKeyState(const kv::EngineReader& engine, const kv::MvccStore& mvcc,
                                      absl::string_view user_key, uint64_t now_ms,
                                      const MayClean& may_clean) {
  KeyState state;
  state.user_key = std::string(user_key);
  if (may_clean && !may_clean(user_key)) return state;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::LockRecord> lock, mvcc.GetLock(user_key));
  if (lock.has_value()) return state;
  state.cleanable = true;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine.Get(MetaKey(user_key)));
  if (!bytes.has_value()) return state;
  absl::StatusOr<Meta> meta = DecodeMeta(*bytes);
  if (!meta.ok()) {
    state.meta_malformed = true;
    return state;
  }
  // Expired exactly as Executor::Expired decides it.
  if (meta->expire_ms != 0 && now_ms > meta->expire_ms) return state;
  state.live = *meta;
  return state;
}

// The first key after every element record of `user_key` (all its versions).
std::string AfterAllVersions(absl::string_view user_key) {
  std::string prefix = ElementNamespaceStart();
  prefix.push_back(static_cast<char>((user_key.size() >> 24) & 0xff));
  prefix.push_back(static_cast<char>((user_key.size() >> 16) & 0xff));
  prefix.push_back(static_cast<char>((user_key.size() >> 8) & 0xff));
  prefix.push_back(static_cast<char>(user_key.size() & 0xff));
  prefix.append(user_key.data(), user_key.size());
  return PrefixEnd(prefix);
}

// The stamp of the touch record of `user_key` (value `record`) when the record may go:
// the key holds nothing (no metadata record, live or expired, no MVCC version of a
// string, no lock), the group may write it, and its stamp is kTouchRecordRetentionMs
// older than `now_ms`. nullopt: it stays.
absl::StatusOr<std::optional<uint64_t>> RemovableTouch(const kv::EngineReader& engine,
                                                       const kv::MvccStore& mvcc,
                                                       absl::string_view user_key,
                                                       absl::string_view record, uint64_t now_ms,
                                                       const MayClean& may_clean) {
  if (record.size() != 8) return std::nullopt;  // not ours to judge
  const uint64_t stamp = kv::DecodeFixed64BigEndian(record);
  if (kv::PhysicalMs(stamp) + kTouchRecordRetentionMs >= now_ms) return std::nullopt;
  if (may_clean && !may_clean(user_key)) return std::nullopt;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::LockRecord> lock, mvcc.GetLock(user_key));
  if (lock.has_value()) return std::nullopt;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> meta, engine.Get(MetaKey(user_key)));
  if (meta.has_value()) return std::nullopt;
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::Timestamp> latest, mvcc.LatestCommitTs(user_key));
  if (latest.has_value()) return std::nullopt;
  return stamp;
}

}  // namespace

bool IsCleanupPass(absl::string_view bytes) {
  return !bytes.empty() && static_cast<uint8_t>(bytes[0]) == kRedisCleanupTag;
}

std::string EncodeCleanupPass(const CleanupPass& pass) {
  std::string out;
  kv::AppendByte(&out, kRedisCleanupTag);
  kv::AppendLengthPrefixed(&out, pass.start_key);
  kv::AppendVarint64(&out, pass.max_records);
  return out;
}

absl::StatusOr<CleanupPass> DecodeCleanupPass(absl::string_view bytes) {
  if (!IsCleanupPass(bytes)) return absl::DataLossError("redis cleanup: unknown format");
  kv::ByteReader reader(bytes.substr(1));
  auto start_key = reader.ReadLengthPrefixed();
  auto max_records = reader.ReadVarint64();
  if (!start_key.ok() || !max_records.ok() || !reader.ExpectEnd("redis cleanup").ok()) {
    return absl::DataLossError("redis cleanup: truncated or malformed pass");
  }
  if (*max_records == 0 || *max_records > kMaxCleanupRecordsPerPass) {
    return absl::InvalidArgumentError(absl::StrCat("redis cleanup: max_records must be in [1, ",
                                                   kMaxCleanupRecordsPerPass, "], got ",
                                                   *max_records));
  }
  CleanupPass pass;
  pass.start_key = std::string(*start_key);
  pass.max_records = *max_records;
  return pass;
}

absl::StatusOr<CleanupOutcome> PlanCleanup(const kv::EngineReader& engine,
                                           const kv::MvccStore& mvcc, const CleanupPass& pass,
                                           uint64_t now_ms, const MayClean& may_clean,
                                           kv::MvccBatch* batch, bool drop_live_elements) {
  EKV_ASSERT(pass.max_records >= 1 && pass.max_records <= kMaxCleanupRecordsPerPass,
             "a cleanup pass is bounded");
  // Elements ('r' 'E') sort before metadata ('r' 'M') and touch records ('r' 'T'): one walk
  // covers all three (and not the touch floor, 'r' 'W').
  const std::string walk_start = ElementNamespaceStart();
  const std::string walk_end = PrefixEnd(TouchKey(""));
  static_assert('E' < 'M' && 'M' < 'T' && 'T' < 'W', "the walk's namespaces in key order");
  const std::string touch_start = TouchKey("");
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> floor_bytes, engine.Get(TouchFloorKey()));
  const uint64_t floor = floor_bytes.has_value() && floor_bytes->size() == 8
                             ? kv::DecodeFixed64BigEndian(*floor_bytes)
                             : 0;
  uint64_t new_floor = floor;
  CleanupOutcome outcome;
  kv::IterOptions options;
  options.lower_bound = walk_start;
  options.upper_bound = walk_end;
  std::unique_ptr<kv::EngineIterator> it = engine.NewIterator(options);
  it->Seek(std::max(absl::string_view(pass.start_key), absl::string_view(walk_start)));
  const std::string meta_start = MetaKey("");
  std::optional<KeyState> key;  // the state of the user key being walked, read once
  while (it->Valid()) {
    if (outcome.records_examined == pass.max_records) {
      outcome.resume_key = std::string(it->key());
      break;
    }
    ++outcome.records_examined;
    const absl::string_view engine_key = it->key();
    if (engine_key < meta_start) {
      std::optional<ParsedElementKey> element = ParseElementKey(engine_key);
      if (!element.has_value()) {
        it->Next();  // not ours to judge
        continue;
      }
      if (!key.has_value() || key->user_key != element->user_key) {
        EKV_KV_ASSIGN_OR_RETURN(KeyState state,
                                ReadKeyState(engine, mvcc, element->user_key, now_ms, may_clean));
        key = std::move(state);
        if (!key->cleanable || key->meta_malformed) ++outcome.keys_skipped;
      }
      if (!key->cleanable || key->meta_malformed) {
        it->Seek(AfterAllVersions(element->user_key));
        continue;
      }
      const bool live = key->live.has_value() && key->live->version_ts == element->version_ts &&
                        key->live->version_seq == element->version_seq;
      if (live && !drop_live_elements) {
        // The live version's elements stay: skip them all with one seek.
        it->Seek(PrefixEnd(engine_key.substr(0, element->prefix_size)));
        continue;
      }
      batch->DeleteRawKey(engine_key);
      ++outcome.elements_deleted;
      it->Next();
      continue;
    }
    if (engine_key >= touch_start) {
      EKV_KV_ASSIGN_OR_RETURN(std::optional<uint64_t> stamp,
                              RemovableTouch(engine, mvcc, engine_key.substr(touch_start.size()),
                                             it->value(), now_ms, may_clean));
      if (stamp.has_value()) {
        batch->DeleteRawKey(engine_key);
        ++outcome.touches_deleted;
        new_floor = std::max(new_floor, *stamp);
      }
      it->Next();
      continue;
    }
    // A metadata record: removed once expired (its elements then go in a later pass).
    const std::string user_key(engine_key.substr(meta_start.size()));
    EKV_KV_ASSIGN_OR_RETURN(KeyState state,
                            ReadKeyState(engine, mvcc, user_key, now_ms, may_clean));
    if (!state.cleanable || state.meta_malformed) {
      ++outcome.keys_skipped;
    } else if (!state.live.has_value()) {
      batch->DeleteRawKey(engine_key);
      ++outcome.metas_deleted;
    }
    it->Next();
  }
  EKV_KV_RETURN_IF_ERROR(it->status());
  if (new_floor != floor) {
    // In the same entry as the removals: no request ever sees a key without its record
    // and with a floor below the record's stamp.
    std::string encoded;
    kv::AppendFixed64BigEndian(&encoded, new_floor);
    batch->PutRawKey(TouchFloorKey(), encoded);
  }
  return outcome;
}

}  // namespace ekv::redis_core
