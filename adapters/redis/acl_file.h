// The Redis front door's users file (--redis_users_file): Redis's ACL file format, so the
// same file works as redis-server's `aclfile`, and what ACL SAVE writes and ACL LOAD
// reads. One user per line, the words of ACL SETUSER after `user <name>`:
//
//   user <name> on|off [>password | #sha256 ...] [nopass] [rules...]
//
// A user's permissions are what its rules grant, left to right, starting from none: `user
// app on >pw ~app:* +@read` may only read keys starting with "app:". A file without a
// `user default` line keeps Redis's default user (on, nopass, everything). A line that
// fails stops the whole file (ekv-server does not start; ACL LOAD changes nothing).
// Blank lines and lines starting with '#' are skipped.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/redis/acl_users.h"

namespace ekv::redis {

struct AclFile {
  AclUsers users;
  bool defines_default = false;  // the file has a `user default` line
};

// Parses a users file's text. Errors are Redis's ACL LOAD words without the file name:
// "2: Syntax error", "WARNING: Duplicate user 'a' found on line 3"; they never quote a rule (it
// may be a password).
absl::StatusOr<AclFile> ParseAclFile(absl::string_view text);

// Reads and parses `path`; refused when the file is readable by anyone but its owner.
// Errors name the file: "/etc/ekv/users.acl:2: Syntax error".
absl::StatusOr<AclFile> ReadAclFile(const std::string& path);

// ACL SAVE: writes `users` to `path` (mode 0600) through a temporary file renamed over it,
// so a crash leaves the old file or the new one, never half of one.
absl::Status WriteAclFile(const std::string& path, const AclUsers& users);

}  // namespace ekv::redis
