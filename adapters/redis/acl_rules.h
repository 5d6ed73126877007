// AclPermissions: what one Redis user may run, compiled from Redis 7 ACL rules (the words
// of ACL SETUSER after the user's name, as they also stand in an aclfile line), the check
// Dispatch runs before every command, and the rules' description as ACL LIST and ACL
// GETUSER print it -- all in Redis 7.0's words.
//
// Commands are a bitmap over Redis's whole command set (acl_catalog.h), subcommands
// included, as in Redis 7.0:
//   +@<category> -@<category> allcommands (+@all) nocommands (-@all)
//   +<command> -<command>     (a container such as CLIENT: all of its subcommands)
//   +<command>|<sub> -<command>|<sub>   (one subcommand: +config|get, -client|kill)
// A category rule sets the commands and subcommands in it; `+@all` also allows commands a
// later version adds (Redis's "future commands" bit), which decides whether ACL LIST
// starts with +@all or -@all. Keys and channels:
//   ~<pattern> %RW~<pattern> allkeys (~*) resetkeys
//   &<pattern> allchannels (&*) resetchannels
// Rules apply left to right; a new user has no permissions at all (Redis 7's default:
// -@all, no keys, resetchannels).
//
// Refused (an error, never a rule silently ignored): a first-argument rule of a command
// without subcommands (+select|0, deprecated in Redis 7), %R~ / %W~ (read-only or
// write-only keys: ekv's command table does not say which key a command reads or writes).
//
// What is checked, as Redis 7.0 does, in this order: the command (commands flagged no_auth
// -- AUTH, HELLO, QUIT, RESET -- are always allowed; a container's subcommand by its own
// bit), every key argument against the key patterns (glob, as KEYS), then the channels of
// PUBLISH and SUBSCRIBE (glob) and the patterns of PSUBSCRIBE (which must equal an
// allowed pattern literally).
#pragma once

#include <bitset>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "adapters/redis/acl_catalog.h"

namespace ekv::redis {

struct CommandSpec;

// Why a command was refused, for the reply and for ACL LOG.
struct AclDenial {
  std::string reason;   // "command", "key" or "channel" (ACL LOG's reason)
  std::string object;   // the command's full name ("client|kill"), the key or the channel
  std::string message;  // the error reply without '-': "NOPERM this user has no ..."
};

class AclPermissions {
 public:
  AclPermissions() = default;  // nothing allowed

  // +@all ~* &*: every command, key and channel.
  static AclPermissions AllowAll();

  // Applies one rule word. Errors are Redis's ACL SETUSER reasons ("Unknown command or
  // category name in ACL", "Syntax error", ...) and never echo the word: it may be a
  // password missing its '>'.
  absl::Status Apply(absl::string_view rule);

  // Empty when `args` (args[0] the command name) may run under `spec`.
  std::optional<AclDenial> Check(const CommandSpec& spec,
                                 const std::vector<std::string>& args) const;
  // Whether the command or subcommand `full_name` (lower case, as in the catalogue) is
  // allowed; false for a name Redis does not have.
  bool AllowsCommand(absl::string_view full_name) const;

  // Every command, key and channel allowed: Check never refuses.
  bool AllowsEverything() const;
  // Every key allowed (`~*` / allkeys): Redis 7.0's "unrestricted key access", which SORT
  // needs for BY patterns and GET.
  bool AllowsAllKeys() const { return all_keys_; }

  // As ACL GETUSER prints them: "+@all -@dangerous", "~app:* ~tmp:?" ("" for none),
  // "&news.*" ("" for none).
  std::string DescribeCommands() const;
  std::string DescribeKeys() const;
  std::string DescribeChannels() const;
  // As ACL LIST prints them after the passwords: keys, channels (with "resetchannels"
  // unless every channel is allowed), then the commands.
  std::string Describe() const;

 private:
  using Bits = std::bitset<AclCatalog::kMaxCommands>;

  absl::Status ApplyCommandRule(bool allow, absl::string_view name);
  static void SetCommand(Bits& bits, size_t id, bool allow);  // a container: its subs too
  static void SetCategory(Bits& bits, size_t category, bool allow);

  Bits commands_;                 // by AclCatalog id
  bool future_commands_ = false;  // set by +@all only: ACL LIST starts with +@all
  bool all_keys_ = false;
  std::vector<std::string> key_patterns_;
  bool all_channels_ = false;
  std::vector<std::string> channel_patterns_;
};

}  // namespace ekv::redis
