#include "adapters/redis/acl_users.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/redis/server_control.h"
#include "core/util/assert.h"

namespace ekv::redis {
namespace {

constexpr absl::string_view kNoSuchPassword =
    "The password you are trying to remove from the user does not exist";
constexpr absl::string_view kBadHash =
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters";

bool IsPasswordHash(absl::string_view hash) {
  return hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Compares every byte whatever the first difference (Redis's time_independent_strcmp):
// how long a wrong password takes does not tell how close it was.
bool SameHash(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  }
  return difference == 0;
}

}  // namespace

std::string AclPasswordHash(absl::string_view password) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::Status AclUser::Apply(absl::string_view word) {
  const std::string lower = absl::AsciiStrToLower(word);
  const auto add_hash = [this](std::string hash) {
    nopass = false;
    if (std::find(password_hashes.begin(), password_hashes.end(), hash) == password_hashes.end()) {
      password_hashes.push_back(std::move(hash));
    }
  };
  const auto remove_hash = [this](const std::string& hash) -> absl::Status {
    auto it = std::find(password_hashes.begin(), password_hashes.end(), hash);
    if (it == password_hashes.end()) return absl::InvalidArgumentError(kNoSuchPassword);
    password_hashes.erase(it);
    nopass = false;
    return absl::OkStatus();
  };
  if (lower == "on") {
    enabled = true;
  } else if (lower == "off") {
    enabled = false;
  } else if (lower == "nopass") {
    nopass = true;
    password_hashes.clear();
  } else if (lower == "resetpass") {
    nopass = false;
    password_hashes.clear();
  } else if (lower == "skip-sanitize-payload") {
    skip_sanitize_payload = true;
    sanitize_payload = false;
  } else if (lower == "sanitize-payload") {
    sanitize_payload = true;
    skip_sanitize_payload = false;
  } else if (lower == "clearselectors") {
    // ekv has no selectors to clear.
  } else if (lower == "reset") {
    // Redis 7.0: resetpass resetkeys resetchannels off sanitize-payload clearselectors -@all.
    nopass = false;
    password_hashes.clear();
    enabled = false;
    sanitize_payload = true;
    skip_sanitize_payload = false;
    permissions = AclPermissions();
  } else if (!word.empty() && word.front() == '>') {
    add_hash(AclPasswordHash(word.substr(1)));
  } else if (!word.empty() && word.front() == '#') {
    if (!IsPasswordHash(word.substr(1))) return absl::InvalidArgumentError(kBadHash);
    add_hash(std::string(word.substr(1)));
  } else if (!word.empty() && word.front() == '<') {
    return remove_hash(AclPasswordHash(word.substr(1)));
  } else if (!word.empty() && word.front() == '!') {
    if (!IsPasswordHash(word.substr(1))) return absl::InvalidArgumentError(kBadHash);
    return remove_hash(std::string(word.substr(1)));
  } else if (!word.empty() && word.front() == '(') {
    return absl::InvalidArgumentError("selectors are not supported by ekv");
  } else {
    return permissions.Apply(word);
  }
  return absl::OkStatus();
}

bool AclUser::Accepts(absl::string_view password) const {
  if (!enabled) return false;
  if (nopass) return true;
  const std::string hash = AclPasswordHash(password);
  bool ok = false;
  for (const std::string& accepted : password_hashes) ok |= SameHash(hash, accepted);
  return ok;
}

std::string AclUser::Describe() const {
  std::string line = absl::StrCat("user ", name, " ", enabled ? "on " : "off ");
  if (nopass) absl::StrAppend(&line, "nopass ");
  if (skip_sanitize_payload) absl::StrAppend(&line, "skip-sanitize-payload ");
  if (sanitize_payload) absl::StrAppend(&line, "sanitize-payload ");
  for (const std::string& hash : password_hashes) absl::StrAppend(&line, "#", hash, " ");
  absl::StrAppend(&line, permissions.Describe());
  return line;
}

AclUsers::AclUsers() {
  AclUser& user = users_["default"];
  user.name = "default";
  user.enabled = true;
  user.nopass = true;
  user.permissions = AclPermissions::AllowAll();
}

absl::Status AclUsers::SetUser(absl::string_view name, const std::vector<std::string>& words) {
  AclUser changed;
  if (const AclUser* existing = Find(name)) {
    changed = *existing;
  } else {
    changed.name = std::string(name);
  }
  for (const std::string& word : words) {
    if (absl::Status applied = changed.Apply(word); !applied.ok()) {
      // Redis prints the word with %s: it ends at a NUL byte.
      return absl::InvalidArgumentError(absl::StrFormat("Error in ACL SETUSER modifier '%s': %s",
                                                        word.c_str(), applied.message()));
    }
  }
  users_[changed.name] = std::move(changed);
  return absl::OkStatus();
}

bool AclUsers::DelUser(absl::string_view name) {
  EKV_ASSERT(name != "default", "the default user is never removed");
  auto it = users_.find(name);
  if (it == users_.end()) return false;
  users_.erase(it);
  return true;
}

const AclUser* AclUsers::Find(absl::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

void AclUsers::SetDefaultPassword(absl::string_view password) {
  AclUser& user = users_.at("default");
  user.password_hashes.clear();
  user.nopass = password.empty();
  if (!password.empty()) user.password_hashes.push_back(AclPasswordHash(password));
}

bool AclUsers::DefaultIsOpen() const {
  const AclUser& user = users_.at("default");
  return user.enabled && user.nopass;
}

std::vector<std::string> AclUsers::List() const {
  std::vector<std::string> lines;
  for (const auto& [name, user] : users_) lines.push_back(user.Describe());
  return lines;
}

std::string AclUsers::FileText() const {
  std::string text;
  for (const std::string& line : List()) absl::StrAppend(&text, line, "\n");
  return text;
}

AclUsers& RedisSettings::users() {
  if (acl == nullptr) {
    acl = std::make_shared<AclUsers>();
    if (!requirepass.empty()) acl->SetDefaultPassword(requirepass);
  }
  return *acl;
}

}  // namespace ekv::redis
