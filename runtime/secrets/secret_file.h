// Reading a file that holds a secret (a TLS private key, the gRPC bearer token, Redis
// passwords, DynamoDB secret access keys). One rule for all of them: a node refuses a
// secret that users other than the file's owner can read (mode g+r or o+r), as ssh does
// for private keys, rather than serve with a secret that may already have leaked.
//
// The permission check and the read use the same open file descriptor, so the file cannot
// be swapped for another between the two. No message ever holds the file's contents.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::runtime {

// A bound on one secret file: the largest (a users file of 10000 users with a few
// passwords each) is far below it.
inline constexpr size_t kMaxSecretFileBytes = 4 << 20;

// The whole contents of `path`. InvalidArgument, naming the file, when it cannot be
// opened, is not a regular file, is larger than kMaxSecretFileBytes, or is readable by
// its group or by every user; `what` names the secret in that last message ("a key",
// "passwords", ...).
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view what);

}  // namespace ekv::runtime
