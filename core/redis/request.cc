#include "core/redis/request.h"

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"

namespace ekv::redis_core {
namespace {

constexpr uint8_t kFormat = kRedisRequestTag;

absl::Status Truncated(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("redis request: truncated or malformed ", what));
}

}  // namespace

std::string EncodeRedisRequest(const RedisRequest& request) {
  std::string out;
  kv::AppendByte(&out, kFormat);
  kv::AppendLengthPrefixed(&out, request.routing_key);
  kv::AppendVarint64(&out, request.now_ms);
  kv::AppendVarint64(&out, request.seed);
  kv::AppendByte(&out, request.transaction ? 1 : 0);
  kv::AppendVarint64(&out, request.commands.size());
  for (const std::vector<std::string>& args : request.commands) {
    kv::AppendVarint64(&out, args.size());
    for (const std::string& arg : args) kv::AppendLengthPrefixed(&out, arg);
  }
  kv::AppendVarint64(&out, request.watches.size());
  for (const Watch& watch : request.watches) {
    kv::AppendLengthPrefixed(&out, watch.key);
    kv::AppendVarint64(&out, watch.stamp);
  }
  return out;
}

absl::StatusOr<RedisRequest> DecodeRedisRequest(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  auto format = reader.ReadByte();
  if (!format.ok() || *format != kFormat) {
    return absl::DataLossError("redis request: unknown format");
  }
  RedisRequest request;
  auto routing_key = reader.ReadLengthPrefixed();
  auto now_ms = reader.ReadVarint64();
  auto seed = reader.ReadVarint64();
  auto transaction = reader.ReadByte();
  auto commands = reader.ReadVarint64();
  if (!routing_key.ok() || !now_ms.ok() || !seed.ok() || !transaction.ok() || *transaction > 1 ||
      !commands.ok()) {
    return Truncated("header");
  }
  // An EXEC of an empty MULTI still checks its WATCHes; any other request runs a command.
  const uint64_t min_commands = *transaction == 1 ? 0 : 1;
  if (*commands < min_commands || *commands > kMaxCommandsPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat("redis request: ", *commands,
                                                   " commands, expected ", min_commands, "..",
                                                   kMaxCommandsPerRequest));
  }
  request.routing_key = std::string(*routing_key);
  request.now_ms = *now_ms;
  request.seed = *seed;
  request.transaction = *transaction == 1;
  for (uint64_t i = 0; i < *commands; ++i) {
    auto count = reader.ReadVarint64();
    if (!count.ok() || *count == 0 || *count > kMaxArgsPerCommand || *count > reader.remaining()) {
      return Truncated("command");
    }
    std::vector<std::string> args;
    args.reserve(*count);
    for (uint64_t j = 0; j < *count; ++j) {
      auto arg = reader.ReadLengthPrefixed();
      if (!arg.ok()) return Truncated("argument");
      args.emplace_back(*arg);
    }
    request.commands.push_back(std::move(args));
  }
  auto watches = reader.ReadVarint64();
  if (!watches.ok() || *watches > kMaxWatchedKeys) return Truncated("watches");
  for (uint64_t i = 0; i < *watches; ++i) {
    auto key = reader.ReadLengthPrefixed();
    auto stamp = reader.ReadVarint64();
    if (!key.ok() || !stamp.ok()) return Truncated("watch");
    request.watches.push_back({std::string(*key), *stamp});
  }
  if (absl::Status end = reader.ExpectEnd("redis request"); !end.ok()) return end;
  return request;
}

}  // namespace ekv::redis_core
