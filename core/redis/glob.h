// Redis's glob-style pattern matching (KEYS, SCAN MATCH): `*` any run of bytes, `?` one
// byte, `[abc]` / `[^abc]` / `[a-z]` a class, `\x` the byte x literally. Byte-wise and
// case-sensitive, as Redis's stringmatchlen.
#pragma once

#include "absl/strings/string_view.h"

namespace ekv::redis_core {

bool GlobMatch(absl::string_view pattern, absl::string_view text);

}  // namespace ekv::redis_core
