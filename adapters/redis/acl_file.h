// The Redis front door's users (--redis_users_file): a subset of Redis's ACL file format,
// so the same file works with redis-server's `aclfile`. One user per line:
//
//   user <name> on|off [>password ...] [<password] [nopass] [resetpass] [reset] [rules...]
//
// The rules are Redis 7's, in the subset acl_rules.h lists (+@category, -command,
// ~keypattern, &channel, allcommands, ...); anything else is an error at startup rather
// than a rule silently ignored. As in Redis, a user's permissions are what its rules
// grant, left to right, starting from none: `user app on >pw ~app:* +@read` may only read
// keys starting with "app:". A `user default on ...` line sets the default user's password
// (requirepass; at most one; `off` is refused) and its permissions. Other users that are
// `off` cannot log in. Blank lines and lines starting with '#' are skipped.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/redis/acl_rules.h"

namespace ekv::redis {

struct AclUsers {
  // Enabled users other than "default": name -> accepted passwords (empty: nopass, any
  // password is accepted, as Redis).
  std::map<std::string, std::vector<std::string>, std::less<>> users;
  // The default user's line, when the file has one.
  bool has_default = false;
  std::string default_password;  // empty: nopass
  // The users (the default user included) whose rules do not allow everything; a user
  // not listed may run every command on every key and channel.
  std::map<std::string, std::shared_ptr<const AclPermissions>, std::less<>> permissions;
};

// Parses the text of a users file; errors name the line, never a password.
absl::StatusOr<AclUsers> ParseAclUsers(absl::string_view text);

// Reads and parses `path`; refused when the file is readable by every user.
absl::StatusOr<AclUsers> ReadAclUsersFile(const std::string& path);

}  // namespace ekv::redis
