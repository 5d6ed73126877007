// AclUser and AclUsers: one node's Redis users, as Redis 7.0 keeps them -- each with
// on/off, SHA-256 password hashes (or nopass) and AclPermissions -- changed by ACL
// SETUSER / DELUSER / LOAD and the users file, read by AUTH, Dispatch and ACL LIST /
// GETUSER / USERS. The "default" user always exists and new connections start as it.
//
// Passwords are kept only as SHA-256 hashes (what ACL LIST prints after '#'), so no
// command, log line or saved file shows one; AUTH hashes what it is given and compares
// every stored hash in constant time.
//
// Users are per node, as in Redis (docs/architecture.md says why): the event loop owns
// them, so every call runs on the loop thread and nothing here locks.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "adapters/redis/acl_log.h"
#include "adapters/redis/acl_rules.h"

namespace ekv::redis {

// SHA-256 of `password` in lower-case hex (Redis's password hash).
std::string AclPasswordHash(absl::string_view password);

struct AclUser {
  std::string name;
  bool enabled = false;  // "on": may log in
  bool nopass = false;   // any password logs in
  // Redis's payload-sanitizing flags (RESTORE); kept and described, nothing else.
  bool sanitize_payload = false;
  bool skip_sanitize_payload = false;
  std::vector<std::string> password_hashes;  // in the order added, no duplicates
  AclPermissions permissions;

  // Applies one ACL SETUSER word: on off nopass resetpass >pw <pw #hash !hash reset
  // (skip-)sanitize-payload clearselectors, else a permission rule (acl_rules.h). The
  // error is Redis's reason, without the word (it may be a password).
  absl::Status Apply(absl::string_view word);
  // Whether `password` logs in as this user (enabled and nopass or a matching hash).
  bool Accepts(absl::string_view password) const;
  // The ACL LIST line: "user NAME on #<hash> ~* &* +@all".
  std::string Describe() const;
};

class AclUsers {
 public:
  // Only "default": on, nopass, every command, key and channel (Redis's default).
  AclUsers();

  // ACL SETUSER: applies `words` to the user (created as Redis 7 creates one: off, no
  // passwords, no permissions), all or none. The error is ACL SETUSER's reply text
  // without "ERR ": "Error in ACL SETUSER modifier '<word>': <reason>".
  absl::Status SetUser(absl::string_view name, const std::vector<std::string>& words);
  // ACL DELUSER of one user; false when there is none ("default" cannot be removed: the
  // caller refuses it first).
  bool DelUser(absl::string_view name);
  const AclUser* Find(absl::string_view name) const;
  // Every user, by name.
  const std::map<std::string, AclUser, std::less<>>& users() const { return users_; }
  // CONFIG SET requirepass: the default user's only password, or nopass when empty.
  void SetDefaultPassword(absl::string_view password);
  // The default user may log in without a password: new connections start authenticated.
  bool DefaultIsOpen() const;

  // ACL LIST, and the text ACL SAVE writes (the same lines, newline-terminated).
  std::vector<std::string> List() const;
  std::string FileText() const;

  AclLog& log() { return log_; }
  const AclLog& log() const { return log_; }

 private:
  std::map<std::string, AclUser, std::less<>> users_;
  AclLog log_;
};

}  // namespace ekv::redis
