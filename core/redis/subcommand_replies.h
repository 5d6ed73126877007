// The replies Redis 7.0 gives alike for every command with subcommands (OBJECT, MEMORY,
// XINFO, XGROUP): the HELP listing (addReplyHelp) and the two refusals of a subcommand
// (processCommand's unknown one, addReplySubcommandSyntaxError).
#pragma once

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/redis/reply.h"

namespace ekv::redis_core {

// "<COMMAND> <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", the lines of
// `body` (each subcommand and its description), then HELP's own two lines; all statuses.
Reply SubcommandHelp(absl::string_view command, absl::Span<const char* const> body);

// "ERR unknown subcommand '<subcommand>'. Try <COMMAND> HELP.", as the client wrote the
// subcommand, cut at 128 bytes.
Reply UnknownSubcommand(absl::string_view command, absl::string_view subcommand);

// A subcommand given the wrong arguments: "ERR unknown subcommand or wrong number of
// arguments for '<subcommand>'. Try <COMMAND> HELP.", cut as UnknownSubcommand's.
Reply SubcommandSyntaxError(absl::string_view command, absl::string_view subcommand);

}  // namespace ekv::redis_core
