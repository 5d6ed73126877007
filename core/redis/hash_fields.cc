#include "core/redis/hash_fields.h"

#include <algorithm>

#include "core/kv/codec.h"
#include "core/kv/status_macros.h"

namespace ekv::redis_core {
namespace {

bool Sequenced(const Meta& meta) { return (meta.flags & kMetaTracked) != 0; }

}  // namespace

std::string EncodeHashValue(const Meta& meta, uint64_t seq, absl::string_view value) {
  if (!Sequenced(meta)) return std::string(value);
  std::string out;
  kv::AppendVarint64(&out, seq);
  out.append(value.data(), value.size());
  return out;
}

absl::StatusOr<StoredHashValue> DecodeHashValue(const Meta& meta, absl::string_view stored) {
  StoredHashValue out;
  if (!Sequenced(meta)) {
    out.value = std::string(stored);
    return out;
  }
  kv::ByteReader reader(stored);
  absl::StatusOr<uint64_t> seq = reader.ReadVarint64();
  if (!seq.ok()) return absl::DataLossError("redis hash: field record without its sequence");
  out.seq = *seq;
  out.value = std::string(stored.substr(stored.size() - reader.remaining()));
  return out;
}

absl::StatusOr<std::optional<StoredHashValue>> GetHashField(Executor& ex, absl::string_view key,
                                                            const Meta& meta,
                                                            absl::string_view field) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          ex.store().Get(ex.ElementKey(key, meta, field)));
  if (!stored.has_value()) return std::optional<StoredHashValue>();
  EKV_KV_ASSIGN_OR_RETURN(StoredHashValue value, DecodeHashValue(meta, *stored));
  return std::optional<StoredHashValue>(std::move(value));
}

absl::StatusOr<bool> PutHashField(Executor& ex, absl::string_view key, Meta* meta,
                                  absl::string_view field, absl::string_view value) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<StoredHashValue> old, GetHashField(ex, key, *meta, field));
  // Redis 7.0 hashTypeSet / hashTypeTryConversion: a long field or value converts the
  // listpack before the write, more than 128 fields after it.
  ConvertIf(meta, field.size() > kMaxListpackValue || value.size() > kMaxListpackValue);
  uint64_t seq = 0;
  if (old.has_value()) {
    seq = old->seq;
  } else {
    seq = meta->next_seq;
    if (Sequenced(*meta)) ++meta->next_seq;
    ++meta->size;
  }
  ConvertIf(meta, meta->size > kMaxListpackEntries);
  ex.store().Put(ex.ElementKey(key, *meta, field), EncodeHashValue(*meta, seq, value));
  return !old.has_value();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> HashRecordsInOrder(
    const Meta& meta, Store::Records records) {
  std::vector<std::pair<uint64_t, size_t>> order;  // (sequence, index)
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(records.size());
  for (auto& [field, stored] : records) {
    EKV_KV_ASSIGN_OR_RETURN(StoredHashValue value, DecodeHashValue(meta, stored));
    order.emplace_back(value.seq, fields.size());
    fields.emplace_back(std::move(field), std::move(value.value));
  }
  if (!IsCompact(meta)) return fields;
  // At most 128 fields: sorting them is as cheap as reading them.
  std::sort(order.begin(), order.end());
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(fields.size());
  for (const auto& [seq, index] : order) sorted.push_back(std::move(fields[index]));
  return sorted;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> HashFieldsInOrder(
    Executor& ex, absl::string_view key, const Meta& meta) {
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records, ex.Elements(key, meta));
  return HashRecordsInOrder(meta, std::move(records));
}

}  // namespace ekv::redis_core
