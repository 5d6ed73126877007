#include "core/redis/store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/kv/key_codec.h"
#include "core/kv/status_macros.h"

namespace ekv::redis_core {
namespace {

// Above every commit timestamp: the latest version.
constexpr kv::Timestamp kLatest = kv::kMaxTimestamp - 1;

}  // namespace

absl::StatusOr<std::optional<std::string>> Store::Get(absl::string_view raw_key) const {
  auto it = raw_.find(std::string(raw_key));
  if (it != raw_.end()) return it->second;
  return engine_->Get(raw_key);
}

void Store::Put(absl::string_view raw_key, std::string value) {
  raw_[std::string(raw_key)] = std::move(value);
}

void Store::Delete(absl::string_view raw_key) { raw_[std::string(raw_key)] = std::nullopt; }

absl::StatusOr<Store::Records> Store::Scan(absl::string_view lo, absl::string_view hi, size_t limit,
                                           bool reverse) const {
  Records out;
  if (limit == 0) return out;
  kv::IterOptions options;
  options.lower_bound = std::string(lo);
  options.upper_bound = std::string(hi);
  std::unique_ptr<kv::EngineIterator> it = engine_->NewIterator(options);
  // Pending writes in range, merged in: they win over the engine's record of the key.
  auto pending_begin = raw_.lower_bound(std::string(lo));
  auto pending_end = hi.empty() ? raw_.end() : raw_.lower_bound(std::string(hi));
  if (!reverse) {
    it->SeekToFirst();
    auto p = pending_begin;
    while (out.size() < limit && (it->Valid() || p != pending_end)) {
      const bool take_pending =
          p != pending_end && (!it->Valid() || absl::string_view(p->first) <= it->key());
      if (take_pending) {
        if (it->Valid() && absl::string_view(p->first) == it->key()) it->Next();
        if (p->second.has_value()) out.emplace_back(p->first, *p->second);
        ++p;
      } else {
        out.emplace_back(std::string(it->key()), std::string(it->value()));
        it->Next();
      }
    }
  } else {
    it->SeekToLast();
    auto p = std::make_reverse_iterator(pending_end);
    auto p_end = std::make_reverse_iterator(pending_begin);
    while (out.size() < limit && (it->Valid() || p != p_end)) {
      const bool take_pending =
          p != p_end && (!it->Valid() || absl::string_view(p->first) >= it->key());
      if (take_pending) {
        if (it->Valid() && absl::string_view(p->first) == it->key()) it->Prev();
        if (p->second.has_value()) out.emplace_back(p->first, *p->second);
        ++p;
      } else {
        out.emplace_back(std::string(it->key()), std::string(it->value()));
        it->Prev();
      }
    }
  }
  EKV_KV_RETURN_IF_ERROR(it->status());
  return out;
}

absl::StatusOr<std::optional<StringValue>> Store::GetString(absl::string_view key) {
  auto it = strings_.find(std::string(key));
  if (it != strings_.end()) return it->second;
  EKV_KV_RETURN_IF_ERROR(CheckLock(key));
  // A read at kMaxTimestamp finds the newest version, which is also what Flush checks the
  // commit timestamp against: one seek serves both.
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::Version> version,
                          mvcc_->GetVersion(key, kv::kMaxTimestamp));
  newest_.insert_or_assign(std::string(key), version.has_value()
                                                 ? std::optional<kv::Timestamp>(version->commit_ts)
                                                 : std::nullopt);
  if (version.has_value() && version->commit_ts > kLatest) {
    // Never written by a commit (timestamps stay below kMaxTimestamp); read as before.
    EKV_KV_ASSIGN_OR_RETURN(version, mvcc_->GetVersion(key, kLatest));
  }
  if (!version.has_value() || version->record.kind == kv::MutationKind::kDelete) {
    return std::optional<StringValue>();
  }
  StringValue value;
  value.value = std::move(version->record.value);
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::Timestamp> expire_ts,
                          mvcc_->GetExpiry(key, version->commit_ts));
  if (expire_ts.has_value()) {
    const uint64_t physical = kv::PhysicalMs(*expire_ts);
    // Written as expire_ms + 1 (layout.h); a TTL written by PutWithTtl maps the same way.
    value.expire_ms = physical > 0 ? physical - 1 : 0;
    if (value.expire_ms == 0) value.expire_ms = 1;
  }
  return std::optional<StringValue>(std::move(value));
}

absl::Status Store::CheckStringWritable(absl::string_view key) {
  // As GetString: a key this request already wrote was checked, or is this request's own.
  if (strings_.find(std::string(key)) != strings_.end()) return absl::OkStatus();
  return CheckLock(key);
}

void Store::NoteUnlocked(std::vector<std::string> keys) {
  for (std::string& key : keys) unlocked_.insert(std::move(key));
}

absl::Status Store::CheckLock(absl::string_view key) {
  if (unlocked_.find(key) != unlocked_.end()) return absl::OkStatus();
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::LockRecord> lock, mvcc_->GetLock(key));
  if (lock.has_value()) {
    locked_ = kv::KeyIsLockedError(key, *lock);
    return kv::KeyErrorStatus(*locked_);
  }
  return absl::OkStatus();
}

void Store::PutString(absl::string_view key, std::string value, uint64_t expire_ms) {
  strings_[std::string(key)] = StringValue{std::move(value), expire_ms};
}

void Store::DeleteString(absl::string_view key) { strings_[std::string(key)] = std::nullopt; }

absl::StatusOr<uint64_t> Store::LatestStringCommitTs(absl::string_view key) const {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<kv::Timestamp> latest, mvcc_->LatestCommitTs(key));
  return latest.value_or(0);
}

absl::Status Store::Flush(kv::MvccBatch* batch, kv::Timestamp commit_ts) const {
  for (const auto& [key, value] : strings_) {
    std::optional<kv::Timestamp> latest;
    if (auto read = newest_.find(key); read != newest_.end()) {
      latest = read->second;
    } else {
      EKV_KV_ASSIGN_OR_RETURN(latest, mvcc_->LatestCommitTs(key));
    }
    if (latest.has_value() && *latest >= commit_ts) {
      return absl::InternalError(absl::StrCat("redis: a version of a key is not older than the ",
                                              "command's commit timestamp"));
    }
    if (!value.has_value()) {
      batch->Delete(key, commit_ts);
      continue;
    }
    batch->Put(key, value->value, commit_ts);
    if (value->expire_ms != 0) {
      const uint64_t expire_physical = std::min(value->expire_ms + 1, kv::kMaxPhysicalMs);
      batch->PutExpiry(key, commit_ts, kv::MakeTimestamp(expire_physical, 0));
    }
  }
  for (const auto& [key, value] : raw_) {
    if (value.has_value()) {
      batch->PutRawKey(key, *value);
    } else {
      batch->DeleteRawKey(key);
    }
  }
  return absl::OkStatus();
}

}  // namespace ekv::redis_core
