// The Redis front door's users (--redis_users_file): a subset of Redis's ACL file format,
// so the same file works with redis-server's `aclfile`. One user per line:
//
//   user <name> on|off [>password ...] [nopass] [~* &* +@all allkeys allchannels allcommands]
//
// Every user has full access (ekv has no per-command or per-key permissions): the
// permission words are accepted only in their all-access form, and anything else is an
// error at startup rather than a rule silently ignored. A `user default on ...` line sets the
// default user's password (requirepass; at most one; `off` is refused). Other users that
// are `off` cannot log in.
// Blank lines and lines starting with '#' are skipped.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::redis {

struct AclUsers {
  // Enabled users other than "default": name -> accepted passwords (empty: nopass, any
  // password is accepted, as Redis).
  std::map<std::string, std::vector<std::string>, std::less<>> users;
  // The default user's line, when the file has one.
  bool has_default = false;
  std::string default_password;  // empty: nopass
};

// Parses the text of a users file; errors name the line, never a password.
absl::StatusOr<AclUsers> ParseAclUsers(absl::string_view text);

// Reads and parses `path`; refused when the file is readable by every user.
absl::StatusOr<AclUsers> ReadAclUsersFile(const std::string& path);

}  // namespace ekv::redis
