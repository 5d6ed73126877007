#include "adapters/redis/acl_file.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "runtime/secrets/secret_file.h"

namespace ekv::redis {
namespace {

// A sanity bound on one file.
constexpr size_t kMaxUsers = 10000;

}  // namespace

absl::StatusOr<AclUsers> ParseAclUsers(absl::string_view text) {
  AclUsers result;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() < 2 || words[0] != "user") {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: expected \"user <name> on|off >password ...\"", line_number));
    }
    const std::string name(words[1]);
    bool enabled = false;  // Redis: a user is off unless the line says on
    bool nopass = false;
    std::vector<std::string> passwords;
    AclPermissions permissions;  // Redis 7: a new user may do nothing
    for (size_t i = 2; i < words.size(); ++i) {
      const absl::string_view word = words[i];
      const std::string lower = absl::AsciiStrToLower(word);
      if (lower == "on") {
        enabled = true;
      } else if (lower == "off") {
        enabled = false;
      } else if (lower == "nopass") {
        nopass = true;
        passwords.clear();
      } else if (lower == "resetpass") {
        nopass = false;
        passwords.clear();
      } else if (lower == "reset") {
        // Redis: resetpass, resetkeys, resetchannels, off, -@all.
        nopass = false;
        passwords.clear();
        enabled = false;
        permissions = AclPermissions();
      } else if (word.size() > 1 && word.front() == '>') {
        nopass = false;
        const std::string password(word.substr(1));
        if (std::find(passwords.begin(), passwords.end(), password) == passwords.end()) {
          passwords.push_back(password);
        }
      } else if (word.size() > 1 && word.front() == '<') {
        passwords.erase(std::remove(passwords.begin(), passwords.end(), word.substr(1)),
                        passwords.end());
      } else if (absl::Status applied = permissions.Apply(word); !applied.ok()) {
        // The word may be a mistyped password: never echoed.
        return absl::InvalidArgumentError(absl::StrFormat(
            "line %d (user %s): word %d is not supported: %s (see --help for the rules ekv "
            "enforces)",
            line_number, name, i + 1, applied.message()));
      }
    }
    if (!nopass && passwords.empty() && enabled) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "line %d (user %s): an enabled user needs >password or nopass", line_number, name));
    }
    if (name == "default") {
      if (result.has_default) {
        return absl::InvalidArgumentError(
            absl::StrFormat("line %d: user default appears twice", line_number));
      }
      if (passwords.size() > 1) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "line %d: the default user takes one password (it is requirepass)", line_number));
      }
      if (!enabled) {
        // Redis would then log every new connection in as nobody; ekv keeps the default
        // user on and asks for a password instead.
        return absl::InvalidArgumentError(absl::StrFormat(
            "line %d: user default must be on (give it a >password to require AUTH)", line_number));
      }
      result.has_default = true;
      result.default_password = passwords.empty() ? "" : passwords[0];
      if (!permissions.AllowsEverything()) {
        result.permissions["default"] =
            std::make_shared<const AclPermissions>(std::move(permissions));
      }
      continue;
    }
    if (result.users.size() >= kMaxUsers) {
      return absl::InvalidArgumentError(absl::StrFormat("more than %d users", kMaxUsers));
    }
    if (result.users.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: user %s appears twice", line_number, name));
    }
    if (!enabled) continue;
    if (!permissions.AllowsEverything()) {
      result.permissions[name] = std::make_shared<const AclPermissions>(std::move(permissions));
    }
    result.users.emplace(name, std::move(passwords));
  }
  return result;
}

absl::StatusOr<AclUsers> ReadAclUsersFile(const std::string& path) {
  absl::StatusOr<std::string> contents = runtime::ReadSecretFile(path, "passwords");
  if (!contents.ok()) return contents.status();
  absl::StatusOr<AclUsers> users = ParseAclUsers(*contents);
  if (!users.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, " ", users.status().message()));
  return users;
}

}  // namespace ekv::redis
