#include "core/redis/key_snapshot.h"

#include "core/kv/codec.h"
#include "core/kv/status_macros.h"

namespace ekv::redis_core {

std::string EncodeKeySnapshot(const KeySnapshot& snapshot) {
  std::string out;
  kv::AppendByte(&out, static_cast<uint8_t>(snapshot.type));
  kv::AppendVarint64(&out, snapshot.expire_ms);
  if (snapshot.type == Type::kString) {
    kv::AppendLengthPrefixed(&out, snapshot.string_value);
    return out;
  }
  kv::AppendVarint64(&out, snapshot.meta.size);
  kv::AppendVarint64(&out, snapshot.meta.head);
  kv::AppendVarint64(&out, snapshot.meta.tail);
  kv::AppendVarint64(&out, snapshot.records.size());
  for (const auto& [subkey, value] : snapshot.records) {
    kv::AppendLengthPrefixed(&out, subkey);
    kv::AppendLengthPrefixed(&out, value);
  }
  if (snapshot.meta.flags != 0 || snapshot.meta.next_seq != 0) {
    kv::AppendVarint64(&out, snapshot.meta.flags);
    kv::AppendVarint64(&out, snapshot.meta.next_seq);
  }
  return out;
}

absl::StatusOr<KeySnapshot> DecodeKeySnapshot(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  KeySnapshot snapshot;
  EKV_KV_ASSIGN_OR_RETURN(uint8_t type, reader.ReadByte());
  if (type < static_cast<uint8_t>(Type::kString) || type > static_cast<uint8_t>(Type::kStream)) {
    return absl::DataLossError("redis key snapshot: unknown type");
  }
  snapshot.type = static_cast<Type>(type);
  EKV_KV_ASSIGN_OR_RETURN(snapshot.expire_ms, reader.ReadVarint64());
  if (snapshot.type == Type::kString) {
    EKV_KV_ASSIGN_OR_RETURN(absl::string_view value, reader.ReadLengthPrefixed());
    snapshot.string_value = std::string(value);
  } else {
    snapshot.meta.type = snapshot.type;
    snapshot.meta.expire_ms = snapshot.expire_ms;
    EKV_KV_ASSIGN_OR_RETURN(snapshot.meta.size, reader.ReadVarint64());
    EKV_KV_ASSIGN_OR_RETURN(snapshot.meta.head, reader.ReadVarint64());
    EKV_KV_ASSIGN_OR_RETURN(snapshot.meta.tail, reader.ReadVarint64());
    EKV_KV_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
    // Each record takes at least two bytes: a count beyond that is malformed.
    if (count > reader.remaining() / 2) {
      return absl::DataLossError("redis key snapshot: record count beyond its bytes");
    }
    for (uint64_t i = 0; i < count; ++i) {
      EKV_KV_ASSIGN_OR_RETURN(absl::string_view subkey, reader.ReadLengthPrefixed());
      EKV_KV_ASSIGN_OR_RETURN(absl::string_view value, reader.ReadLengthPrefixed());
      snapshot.records.emplace_back(std::string(subkey), std::string(value));
    }
    // Only a stream exists empty (its state record is its content then).
    if (snapshot.meta.size == 0 && snapshot.type != Type::kStream) {
      return absl::DataLossError("redis key snapshot: empty collection");
    }
    if (reader.remaining() > 0) {
      EKV_KV_ASSIGN_OR_RETURN(snapshot.meta.flags, reader.ReadVarint64());
      EKV_KV_ASSIGN_OR_RETURN(snapshot.meta.next_seq, reader.ReadVarint64());
    }
  }
  EKV_KV_RETURN_IF_ERROR(reader.ExpectEnd("redis key snapshot"));
  return snapshot;
}

}  // namespace ekv::redis_core
