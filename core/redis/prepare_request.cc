#include "core/redis/prepare_request.h"

#include "core/kv/codec.h"

namespace ekv::redis_core {

bool IsPrepareRequest(absl::string_view bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == kRedisRequestTag &&
         bytes[1] == '\0';
}

std::string EncodePrepareRequest(const PrepareRequest& prepare) {
  std::string out;
  kv::AppendByte(&out, kRedisRequestTag);
  kv::AppendByte(&out, 0);
  kv::AppendVarint64(&out, prepare.start_ts);
  kv::AppendLengthPrefixed(&out, prepare.primary);
  kv::AppendVarint64(&out, prepare.lock_ttl_ms);
  out += EncodeRedisRequest(prepare.part);
  return out;
}

absl::StatusOr<PrepareRequest> DecodePrepareRequest(absl::string_view bytes) {
  if (!IsPrepareRequest(bytes)) return absl::DataLossError("redis prepare: unknown format");
  kv::ByteReader reader(bytes.substr(2));
  auto start_ts = reader.ReadVarint64();
  auto primary = reader.ReadLengthPrefixed();
  auto lock_ttl_ms = reader.ReadVarint64();
  if (!start_ts.ok() || *start_ts == 0 || !primary.ok() || primary->empty() || !lock_ttl_ms.ok()) {
    return absl::DataLossError("redis prepare: truncated or malformed header");
  }
  absl::StatusOr<RedisRequest> part = DecodeRedisRequest(reader.ReadRest());
  if (!part.ok()) return part.status();
  if (!part->transaction) return absl::InvalidArgumentError("redis prepare: not a transaction");
  PrepareRequest prepare;
  prepare.part = *std::move(part);
  prepare.start_ts = *start_ts;
  prepare.primary = std::string(*primary);
  prepare.lock_ttl_ms = *lock_ttl_ms;
  return prepare;
}

}  // namespace ekv::redis_core
