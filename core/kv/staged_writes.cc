#include "core/kv/staged_writes.h"

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/status_macros.h"

namespace ekv::kv {
namespace {

constexpr uint8_t kFormat = 1;
// Bounds the decoder checks before reserving anything.
constexpr uint64_t kMaxStagedRecords = 1 << 20;

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("staged writes: truncated or malformed ", what));
}

}  // namespace

std::string EncodeStagedWrites(const StagedWrites& staged) {
  std::string out;
  AppendByte(&out, kFormat);
  AppendVarint64(&out, staged.raw.size());
  for (const StagedWrites::Raw& raw : staged.raw) {
    AppendLengthPrefixed(&out, raw.key);
    AppendByte(&out, raw.value.has_value() ? 1 : 0);
    AppendLengthPrefixed(&out, raw.value.value_or(""));
  }
  AppendVarint64(&out, staged.stamp_keys.size());
  for (const std::string& key : staged.stamp_keys) AppendLengthPrefixed(&out, key);
  AppendByte(&out, static_cast<uint8_t>(staged.string_change));
  AppendLengthPrefixed(&out, staged.string_value);
  AppendVarint64(&out, staged.string_expire_ts);
  return out;
}

absl::StatusOr<StagedWrites> DecodeStagedWrites(absl::string_view bytes) {
  ByteReader reader(bytes);
  auto format = reader.ReadByte();
  if (!format.ok() || *format != kFormat)
    return absl::DataLossError("staged writes: unknown format");
  StagedWrites staged;
  auto raw_count = reader.ReadVarint64();
  if (!raw_count.ok() || *raw_count > kMaxStagedRecords || *raw_count > reader.remaining()) {
    return Malformed("raw count");
  }
  for (uint64_t i = 0; i < *raw_count; ++i) {
    auto key = reader.ReadLengthPrefixed();
    auto put = reader.ReadByte();
    auto value = reader.ReadLengthPrefixed();
    if (!key.ok() || !put.ok() || *put > 1 || !value.ok() || (*put == 0 && !value->empty())) {
      return Malformed("raw record");
    }
    StagedWrites::Raw raw{std::string(*key), std::nullopt};
    if (*put == 1) raw.value = std::string(*value);
    staged.raw.push_back(std::move(raw));
  }
  auto stamp_count = reader.ReadVarint64();
  if (!stamp_count.ok() || *stamp_count > kMaxStagedRecords || *stamp_count > reader.remaining()) {
    return Malformed("stamp count");
  }
  for (uint64_t i = 0; i < *stamp_count; ++i) {
    auto key = reader.ReadLengthPrefixed();
    if (!key.ok()) return Malformed("stamp key");
    staged.stamp_keys.emplace_back(*key);
  }
  auto change = reader.ReadByte();
  auto value = reader.ReadLengthPrefixed();
  auto expire_ts = reader.ReadVarint64();
  if (!change.ok() || *change > 2 || !value.ok() || !expire_ts.ok()) return Malformed("string");
  staged.string_change = static_cast<StagedWrites::StringChange>(*change);
  staged.string_value = std::string(*value);
  staged.string_expire_ts = *expire_ts;
  if (staged.string_change != StagedWrites::StringChange::kPut &&
      (!staged.string_value.empty() || staged.string_expire_ts != 0)) {
    return Malformed("string (a value without a put)");
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("staged writes"));
  return staged;
}

void AddStagedWrites(absl::string_view key, const StagedWrites& staged, Timestamp start_ts,
                     Timestamp commit_ts, MvccBatch* batch) {
  for (const StagedWrites::Raw& raw : staged.raw) {
    if (raw.value.has_value()) {
      batch->PutRawKey(raw.key, *raw.value);
    } else {
      batch->DeleteRawKey(raw.key);
    }
  }
  std::string stamp;
  AppendFixed64BigEndian(&stamp, commit_ts);
  for (const std::string& stamp_key : staged.stamp_keys) batch->PutRawKey(stamp_key, stamp);
  switch (staged.string_change) {
    case StagedWrites::StringChange::kUnchanged:
      break;
    case StagedWrites::StringChange::kPut:
      // The version carries start_ts, so a retried commit recognises it (FindOwnCommit).
      batch->Put(key, staged.string_value, commit_ts, start_ts);
      if (staged.string_expire_ts > commit_ts) {
        batch->PutExpiry(key, commit_ts, staged.string_expire_ts);
      } else if (staged.string_expire_ts != 0) {
        // Already past its expiry at the commit point: it reads as absent from the start.
        batch->PutExpiry(key, commit_ts, commit_ts);
      }
      break;
    case StagedWrites::StringChange::kDelete:
      batch->Delete(key, commit_ts, start_ts);
      break;
  }
}

}  // namespace ekv::kv
