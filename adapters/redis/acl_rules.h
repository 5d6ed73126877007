// AclPermissions: what one Redis user may run, compiled from Redis 7 ACL rules (the words
// of ACL SETUSER, as they stand in an aclfile line after the user's name), and the check
// Dispatch runs before every command, answering in Redis 7.0's words.
//
// The subset ekv enforces (anything else in a users file stops the node at startup, so
// no rule is silently ignored):
//   commands  +@<category> -@<category> allcommands (+@all) nocommands (-@all)
//             +<command> -<command>   (a command ekv does not serve: no effect, since
//                                      ekv answers it "unknown command" anyway)
//   keys      ~<pattern> %RW~<pattern> allkeys (~*) resetkeys
//   channels  &<pattern> allchannels (&*) resetchannels
// Rules apply left to right, as in Redis (`+@all -flushall`, `-@all +get`). A new user
// has no permissions at all (Redis 7's default: -@all resetkeys resetchannels). Not
// supported: subcommand rules (+client|list), %R~ / %W~ (read-only or write-only keys),
// selectors, first-argument rules.
//
// What is checked, as Redis 7.0 does, in this order: the command (commands flagged no_auth
// -- AUTH, HELLO, QUIT, RESET -- are always allowed), every key argument against the key
// patterns (glob, as KEYS), then the channels of PUBLISH and SUBSCRIBE (glob) and the
// patterns of PSUBSCRIBE (which must equal an allowed pattern literally).
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ekv::redis {

struct CommandSpec;

class AclPermissions {
 public:
  AclPermissions() = default;  // nothing allowed

  // +@all ~* &*: the permissions of a user without rules in ekv's own sense (no users file).
  static AclPermissions AllowAll();

  // Applies one rule word against CommandTable::Default(); an error says why the word is
  // not supported (it never echoes the word: it may be a password missing its '>').
  absl::Status Apply(absl::string_view rule);

  // Empty when `args` (args[0] the command name) may run, else the error reply's text
  // without the leading '-': "NOPERM this user has no permissions to ...".
  std::string Check(const CommandSpec& spec, const std::vector<std::string>& args) const;

  // Every command, key and channel allowed: Check never refuses.
  bool AllowsEverything() const;

 private:
  absl::Status ApplyCommandRule(bool allow, absl::string_view rule_name);

  absl::flat_hash_set<std::string> commands_;  // ekv command names allowed (lower case)
  bool all_keys_ = false;
  std::vector<std::string> key_patterns_;
  bool all_channels_ = false;
  std::vector<std::string> channel_patterns_;
};

}  // namespace ekv::redis
