// XREAD's arguments (Redis 7.0's xreadCommand), shared by the executor, which runs the
// command, and the front door, which blocks a client whose XREAD ... BLOCK found nothing
// (adapters/redis/commands/stream_read.cc): the options, where the keys and ids are, and
// the internal read that resolves `$` ids to the streams' last ids when the client blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/redis/reply.h"

namespace ekv::redis_core {

struct XReadArgs {
  std::optional<Reply> error;       // Redis's words for a bad option (ids are not checked here)
  std::optional<int64_t> block_ms;  // BLOCK's milliseconds (0: forever)
  int64_t count = 0;                // 0: no limit
  size_t streams_index = 0;         // the first key
  size_t streams_count = 0;         // keys, and as many ids after them
  // XREADGROUP (and its serve form)
  bool xreadgroup = false;
  std::string group;
  std::string consumer;
  bool noack = false;
};
// The options up to STREAMS and the key/id balance, of XREAD or XREADGROUP (by args[0]),
// in Redis's order of checks. From a
// script, BLOCK is refused (Redis: "xread command is not allowed with BLOCK option from
// scripts", the name as the script wrote it).
XReadArgs ParseXRead(const std::vector<std::string>& args, bool from_script = false);

// The keys of XREAD or XREADGROUP (the first half of the arguments after STREAMS), as
// Redis's key specifications find them; none when the arguments are unbalanced.
std::vector<std::string> XReadKeys(const std::vector<std::string>& args);

// `ekv-xread-last key...` (never in the front door's table): each key's last generated id,
// "0-0" for a missing key, WRONGTYPE for another type. What a blocking XREAD's `$` means.
inline constexpr absl::string_view kXReadLastCommand = "ekv-xread-last";

}  // namespace ekv::redis_core
