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
  // ---- scripting hook (lua): an optional trailer, so requests without a script (and
  // entries logged before scripting existed) keep their encoding.
  if (request.script.has_value()) {
    const RedisRequest::Script& script = *request.script;
    kv::AppendByte(&out, 1);
    kv::AppendLengthPrefixed(&out, script.body);
    kv::AppendByte(&out, script.read_only ? 1 : 0);
    for (const std::vector<std::string>* list : {&script.keys, &script.args}) {
      kv::AppendVarint64(&out, list->size());
      for (const std::string& item : *list) kv::AppendLengthPrefixed(&out, item);
    }
  }
  if (!request.script_bodies.empty()) {
    kv::AppendByte(&out, 2);
    kv::AppendVarint64(&out, request.script_bodies.size());
    for (const auto& [sha, body] : request.script_bodies) {
      kv::AppendLengthPrefixed(&out, sha);
      kv::AppendLengthPrefixed(&out, body);
    }
  }
  if (!request.user_acl.empty()) {
    kv::AppendByte(&out, 3);
    kv::AppendLengthPrefixed(&out, request.user_acl);
  }
  if (request.notify_flags != 0) {
    kv::AppendByte(&out, 4);
    kv::AppendVarint64(&out, request.notify_flags);
  }
  // Last, so requests that call no function (and entries logged before functions existed)
  // keep their encoding.
  if (request.script.has_value() && !request.script->function.empty()) {
    kv::AppendByte(&out, 5);
    kv::AppendLengthPrefixed(&out, request.script->function);
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
  // The lower bound (an EXEC of an empty MULTI still checks its WATCHes, a script request
  // has no command, any other request runs one) is checked once the trailer says whether
  // there is a script.
  if (*commands > kMaxCommandsPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat(
        "redis request: ", *commands, " commands, expected at most ", kMaxCommandsPerRequest));
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
  // ---- scripting hook (lua): the optional script trailer (tag 1), then the optional
  // EVALSHA bodies of an EXEC (tag 2), then the optional user's ACL rules (tag 3), then
  // the optional keyspace event classes (tag 4), then a function call's function name (tag
  // 5), each at most once and in that order.
  std::optional<uint8_t> trailer;
  auto next_trailer = [&](uint8_t after) -> bool {
    trailer.reset();
    if (reader.remaining() == 0) return true;
    auto tag = reader.ReadByte();
    if (!tag.ok() || *tag <= after || *tag > 5) return false;
    trailer = *tag;
    return true;
  };
  if (!next_trailer(0)) return Truncated("trailer");
  if (trailer == 1) {
    trailer.reset();
    auto body = reader.ReadLengthPrefixed();
    auto read_only = reader.ReadByte();
    if (!body.ok() || !read_only.ok() || *read_only > 1) return Truncated("script");
    RedisRequest::Script script;
    script.body = std::string(*body);
    script.read_only = *read_only == 1;
    for (std::vector<std::string>* list : {&script.keys, &script.args}) {
      auto count = reader.ReadVarint64();
      if (!count.ok() || *count > kMaxScriptArgs || *count > reader.remaining()) {
        return Truncated("script arguments");
      }
      for (uint64_t i = 0; i < *count; ++i) {
        auto item = reader.ReadLengthPrefixed();
        if (!item.ok()) return Truncated("script argument");
        list->emplace_back(*item);
      }
    }
    request.script = std::move(script);
    if (!next_trailer(1)) return Truncated("trailer");
  }
  if (trailer == 2) {
    auto count = reader.ReadVarint64();
    if (!count.ok() || *count == 0 || *count > kMaxScriptBodies || *count > reader.remaining()) {
      return Truncated("script bodies");
    }
    for (uint64_t i = 0; i < *count; ++i) {
      auto sha = reader.ReadLengthPrefixed();
      auto body = reader.ReadLengthPrefixed();
      if (!sha.ok() || !body.ok()) return Truncated("script body");
      request.script_bodies.emplace(std::string(*sha), std::string(*body));
    }
    if (!request.transaction || request.script_bodies.size() != *count) {
      return absl::InvalidArgumentError(
          "redis request: script bodies outside a transaction, or a SHA twice");
    }
    if (!next_trailer(2)) return Truncated("trailer");
  }
  if (trailer == 3) {
    auto rules = reader.ReadLengthPrefixed();
    if (!rules.ok() || rules->empty()) return Truncated("user ACL rules");
    request.user_acl = std::string(*rules);
    if (!next_trailer(3)) return Truncated("trailer");
  }
  if (trailer == 4) {
    auto flags = reader.ReadVarint64();
    if (!flags.ok() || *flags == 0 || *flags > UINT32_MAX) return Truncated("keyspace events");
    request.notify_flags = static_cast<uint32_t>(*flags);
    if (!next_trailer(4)) return Truncated("trailer");
  }
  if (trailer == 5) {
    auto function = reader.ReadLengthPrefixed();
    if (!function.ok() || function->empty() || !request.script.has_value()) {
      return Truncated("function name");
    }
    request.script->function = std::string(*function);
  }
  const bool script = request.script.has_value();
  if (script ? (!request.commands.empty() || request.transaction || !request.watches.empty())
             : (!request.transaction && request.commands.empty())) {
    return absl::InvalidArgumentError(
        script ? "redis request: a script request carries no commands, transaction or watches"
               : "redis request: 0 commands, expected 1..1024");
  }
  if (absl::Status end = reader.ExpectEnd("redis request"); !end.ok()) return end;
  return request;
}

}  // namespace ekv::redis_core
