// MONITOR: the lines a node's monitors receive for the commands it runs, as Redis 7.0's
// replicationFeedMonitors writes them. Each node feeds the commands its own front door
// received (a cluster is monitored node by node); the commands a script calls run at apply
// time in the key's group, so they are not shown (the EVAL itself is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ekv::redis {

struct CommandSpec;

// Whether Redis 7.0 shows this command to monitors: not its administrative commands (the
// command's or, for a container, the subcommand's @admin category: CONFIG, CLIENT KILL,
// MONITOR...). Only commands that passed the checks before execution are shown at all.
bool ShownToMonitors(const CommandSpec& spec, const std::vector<std::string>& args);

// The arguments as monitors and SLOWLOG see them: AUTH's and HELLO AUTH's credentials,
// ACL SETUSER's name and rules and CONFIG SET's values of requirepass, masterauth and
// masteruser replaced by "(redacted)", as Redis 7.0 redacts them (monitors never see the
// last two: they are @admin).
std::vector<std::string> RedactedForMonitors(const std::vector<std::string>& args);

// "+<seconds>.<microseconds> [0 <peer>] \"arg\" ...\r\n", each argument quoted and escaped
// as Redis's sdscatrepr does.
std::string MonitorLine(int64_t unix_micros, absl::string_view peer,
                        const std::vector<std::string>& args);

}  // namespace ekv::redis
