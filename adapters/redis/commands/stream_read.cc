// XREAD and XREADGROUP. Without BLOCK, or where the server cannot block (inside MULTI, a script, a
// malformed command), it runs once as TypedCommand does and the executor answers it in
// Redis's words. With BLOCK the connection blocks as the blocking list pops do
// (blocked_clients.h): its command runs as a linearizable read, at once and again each
// time an XADD on any node makes one of its streams ready, until it finds entries or
// times out. A `$` id means the stream's last id when the client blocks, so the ids are
// first resolved by one read (redis_core::kXReadLastCommand) and the client blocks with
// them written in. XREADGROUP has no `$`; its runs are writes (they deliver entries to the
// consumer), so its waiters are served one at a time, in arrival order, as the pops.
#include <memory>
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
  std::vector<std::string> resolve = {std::string(redis_core::kXReadLastCommand)};
  resolve.insert(resolve.end(), keys.begin(), keys.end());
  const uint64_t connection_id = connection.id;
  const int protocol = connection.protocol;
  context.backend->Execute(
      MakeRedisRequest(std::move(resolve)), /*write=*/false,
      [server, connection_id, protocol, first_id, timeout_ms, args = std::move(context.args),
       keys = std::move(keys),
       reply = std::move(context.reply)](absl::StatusOr<redis_core::Reply> ids) mutable {
        if (!ids.ok()) return reply(BackendErrorReply(ids.status()));
        // WRONGTYPE: Redis answers it before blocking too.
        if (ids->is_error()) return reply(EncodeReplyFor(protocol, *ids));
        for (size_t i = first_id; i < args.size(); ++i) {
          if (args[i] == "$" && i - first_id < ids->elements.size()) {
            args[i] = ids->elements[i - first_id].text;
          }
        }
        // The answer now comes through the server's blocked-client path, not `reply`.
        server->RunOnLoop(connection_id, [server, args = std::move(args), keys = std::move(keys),
                                          timeout_ms](ConnectionState* state) mutable {
          if (state != nullptr) server->Block(*state, std::move(args), std::move(keys), timeout_ms);
        });
      });
}

}  // namespace ekv::redis
