// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP. The command runs
// as the executor's non-blocking form (one replicated write: it pops, or answers nil and
// writes nothing); the server blocks the connection on a miss and runs it again when a
// write on any node makes one of its keys ready (adapters/redis/blocked_clients.h).
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_table.h"
#include "core/redis/blocking.h"

namespace ekv::redis {

void BlockingCommand(CommandContext context) {
  ConnectionState& connection = *context.connection;
  ServerControl* server = connection.server;
  const size_t timeout_index = redis_core::BlockTimeoutIndex(context.args);
  std::vector<std::string> keys = redis_core::BlockingKeys(context.args);
  const uint64_t now_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  const redis_core::BlockTimeout timeout =
      timeout_index == 0 ? redis_core::BlockTimeout{redis_core::SyntaxError(), 0}
                         : redis_core::ParseBlockTimeout(context.args[timeout_index], now_ms);
  // Malformed commands run once and the executor answers them in Redis's words, in
  // Redis's order of checks; so do all of them where the server cannot block.
  if (server == nullptr || !server->CanBlock() || timeout.error.has_value() || keys.empty()) {
    return TypedCommand(std::move(context));
  }
  connection.ready_keys = KeysMadeReady(context.args);
  server->Block(connection, std::move(context.args), std::move(keys), timeout.ms);
}

}  // namespace ekv::redis
