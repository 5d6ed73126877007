// XREAD and XREADGROUP. Without BLOCK, or where the server cannot block (inside MULTI, a script, a
// malformed command), it runs once as TypedCommand does and the executor answers it in
// Redis's words. With BLOCK the connection blocks as the blocking list pops do
// (blocked_clients.h): its command runs as a linearizable read, at once and again each
// time an XADD on any node makes one of its streams ready, until it finds entries or
// times out. A `$` id means the stream's last id when the client blocks, so the ids are
// first resolved by one read per `$` key (redis_core::kXReadLastCommand: the keys may live
// in different groups) and the client blocks with them written in. XREADGROUP has no `$`; its runs
// are writes (they deliver entries to the consumer), so its waiters are served one at a time, in
// arrival order, as the pops.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/redis/command_table.h"
#include "adapters/redis/reply_writer.h"
#include "core/redis/stream_read.h"

namespace ekv::redis {

void XReadCommand(CommandContext context) {
  ConnectionState& connection = *context.connection;
  ServerControl* server = connection.server;
  const redis_core::XReadArgs parsed = redis_core::ParseXRead(context.args);
  if (server == nullptr || !server->CanBlock() || parsed.error.has_value() ||
      !parsed.block_ms.has_value() || parsed.streams_count == 0) {
    return TypedCommand(std::move(context));
  }
  std::vector<std::string> keys = redis_core::XReadKeys(context.args);
  const uint64_t timeout_ms = static_cast<uint64_t>(*parsed.block_ms);
  const size_t first_id = parsed.streams_index + parsed.streams_count;
  bool has_dollar = false;
  for (size_t i = first_id; i < context.args.size(); ++i) has_dollar |= context.args[i] == "$";
  // XREADGROUP refuses `$`: its first run answers that.
  has_dollar = has_dollar && !parsed.xreadgroup;
  if (!has_dollar) {
    return server->Block(connection, std::move(context.args), std::move(keys), timeout_ms);
  }
  // One read per `$` key: the keys may live in different groups.
  struct Resolution {
    std::mutex mu;
    std::vector<std::string> args;       // guarded by mu
    size_t remaining = 0;                // guarded by mu
    std::optional<std::string> failure;  // guarded by mu: the first error's encoded reply
  };
  auto resolution = std::make_shared<Resolution>();
  resolution->args = std::move(context.args);
  std::vector<size_t> dollars;
  for (size_t i = first_id; i < resolution->args.size(); ++i) {
    if (resolution->args[i] == "$") dollars.push_back(i);
  }
  resolution->remaining = dollars.size();
  const uint64_t connection_id = connection.id;
  const int protocol = connection.protocol;
  auto reply = std::make_shared<ReplyFn>(std::move(context.reply));
  for (size_t index : dollars) {
    const std::string key = resolution->args[index - parsed.streams_count];
    context.backend->Execute(
        MakeRedisRequest({std::string(redis_core::kXReadLastCommand), key}), /*write=*/false,
        [server, connection_id, protocol, index, timeout_ms, keys, resolution,
         reply](absl::StatusOr<redis_core::Reply> ids) {
          std::unique_lock<std::mutex> lock(resolution->mu);
          if (!ids.ok()) {
            if (!resolution->failure.has_value()) {
              resolution->failure = BackendErrorReply(ids.status());
            }
          } else if (ids->is_error()) {
            // WRONGTYPE: Redis answers it before blocking too.
            if (!resolution->failure.has_value()) {
              resolution->failure = EncodeReplyFor(protocol, *ids);
            }
          } else if (ids->elements.size() == 1) {
            resolution->args[index] = ids->elements.front().text;
          }
          if (--resolution->remaining != 0) return;
          if (resolution->failure.has_value()) {
            std::string failure = *resolution->failure;
            lock.unlock();
            return (*reply)(std::move(failure));
          }
          std::vector<std::string> args = std::move(resolution->args);
          lock.unlock();
          // The answer now comes through the server's blocked-client path, not `reply`.
          server->RunOnLoop(connection_id, [server, args = std::move(args), keys,
                                            timeout_ms](ConnectionState* state) mutable {
            if (state != nullptr) server->Block(*state, std::move(args), keys, timeout_ms);
          });
        });
  }
}

}  // namespace ekv::redis
