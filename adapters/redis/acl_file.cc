#include "adapters/redis/acl_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "runtime/secrets/secret_file.h"

namespace ekv::redis {
namespace {

// A sanity bound on one file.
constexpr size_t kMaxUsers = 10000;

}  // namespace

absl::StatusOr<AclFile> ParseAclFile(absl::string_view text) {
  AclFile result;
  std::set<std::string, std::less<>> seen;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() < 2 || words[0] != "user") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%d should start with user keyword followed by the username", line_number));
    }
    const std::string name = words[1];
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("WARNING: Duplicate user '%s' found on line %d", name, line_number));
    }
    if (seen.size() > kMaxUsers) {
      return absl::InvalidArgumentError(absl::StrFormat("more than %d users", kMaxUsers));
    }
    if (name == "default") {
      // Redis creates a file's default user as any new user (off, no password, no
      // permissions), not from the built-in on/nopass/+@all.
      result.defines_default = true;
      words.insert(words.begin() + 2, {"off", "resetpass", "resetkeys", "resetchannels", "-@all"});
    }
    words.erase(words.begin(), words.begin() + 2);
    if (absl::Status set = result.users.SetUser(name, words); !set.ok()) {
      // ACL SETUSER's message quotes the word, which may be a password: give its reason.
      const absl::string_view message = set.message();
      const size_t reason = message.find("': ");
      return absl::InvalidArgumentError(absl::StrFormat(
          "%d: %s", line_number,
          reason == absl::string_view::npos ? message : message.substr(reason + 3)));
    }
  }
  return result;
}

absl::StatusOr<AclFile> ReadAclFile(const std::string& path) {
  absl::StatusOr<std::string> contents = runtime::ReadSecretFile(path, "passwords");
  if (!contents.ok()) return contents.status();
  absl::StatusOr<AclFile> file = ParseAclFile(*contents);
  if (!file.ok()) {
    // Redis names the file before a line's error, not before a duplicate user's.
    const absl::string_view message = file.status().message();
    return absl::InvalidArgumentError(absl::StartsWith(message, "WARNING")
                                          ? std::string(message)
                                          : absl::StrCat(path, ":", message));
  }
  return file;
}

absl::Status WriteAclFile(const std::string& path, const AclUsers& users) {
  const std::string text = users.FileText();
  const std::string temporary = absl::StrCat(path, ".tmp-", getpid());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("opening ", temporary, ": ", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      close(fd);
      unlink(temporary.c_str());
      return absl::InternalError(absl::StrCat("writing ", temporary, ": ", why));
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    const std::string why = std::strerror(errno);
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("syncing ", temporary, ": ", why));
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("renaming ", temporary, " to ", path, ": ", why));
  }
  return absl::OkStatus();
}

}  // namespace ekv::redis
