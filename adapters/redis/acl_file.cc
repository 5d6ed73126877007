#include "adapters/redis/acl_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "runtime/secrets/secret_file.h"

namespace ekv::redis {
namespace {

// A sanity bound on one file.
constexpr size_t kMaxUsers = 10000;

bool IsAllAccessRule(absl::string_view word) {
  return word == "~*" || word == "&*" || word == "+@all" || word == "allkeys" ||
         word == "allchannels" || word == "allcommands" || word == "%RW~*";
}

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
    for (size_t i = 2; i < words.size(); ++i) {
      const absl::string_view word = words[i];
      if (word == "on") {
        enabled = true;
      } else if (word == "off") {
        enabled = false;
      } else if (word == "nopass") {
        nopass = true;
        passwords.clear();
      } else if (word.size() > 1 && word.front() == '>') {
        nopass = false;
        passwords.emplace_back(word.substr(1));
      } else if (!IsAllAccessRule(word)) {
        // The word may be a mistyped password: never echoed.
        return absl::InvalidArgumentError(absl::StrFormat(
            "line %d (user %s): word %d is not supported: ekv users have full access, so "
            "only on, off, >password, nopass, ~*, &*, +@all, allkeys, allchannels and "
            "allcommands are accepted",
            line_number, name, i + 1));
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
      continue;
    }
    if (result.users.size() >= kMaxUsers) {
      return absl::InvalidArgumentError(absl::StrFormat("more than %d users", kMaxUsers));
    }
    if (result.users.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: user %s appears twice", line_number, name));
    }
    if (enabled) result.users.emplace(name, std::move(passwords));
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
