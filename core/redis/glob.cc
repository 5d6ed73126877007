#include "core/redis/glob.h"

#include <cstddef>

namespace ekv::redis_core {
namespace {

// Matches a class starting after '[' at pattern[p]; sets p past the closing ']' (or the
// end, as Redis does for an unclosed class). Returns whether `c` is in the class.
bool MatchClass(absl::string_view pattern, size_t& p, unsigned char c) {
  bool negate = false;
  bool matched = false;
  if (p < pattern.size() && pattern[p] == '^') {
    negate = true;
    ++p;
  }
  while (p < pattern.size() && pattern[p] != ']') {
    if (pattern[p] == '\\' && p + 1 < pattern.size()) {
      ++p;
      if (static_cast<unsigned char>(pattern[p]) == c) matched = true;
      ++p;
    } else if (p + 2 < pattern.size() && pattern[p + 1] == '-') {
      unsigned char lo = static_cast<unsigned char>(pattern[p]);
      unsigned char hi = static_cast<unsigned char>(pattern[p + 2]);
      if (lo > hi) std::swap(lo, hi);
      if (c >= lo && c <= hi) matched = true;
      p += 3;
    } else {
      if (static_cast<unsigned char>(pattern[p]) == c) matched = true;
      ++p;
    }
  }
  if (p < pattern.size()) ++p;  // the ']'
  return negate ? !matched : matched;
}

}  // namespace

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  // Iterative matching with one backtrack point (the last '*'): linear in practice and
  // never recursive, so a hostile pattern cannot exhaust the stack.
  size_t p = 0;
  size_t t = 0;
  size_t star_p = absl::string_view::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;
        if (p == pattern.size()) return true;
        star_p = p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        size_t q = p + 1;
        if (MatchClass(pattern, q, static_cast<unsigned char>(text[t]))) {
          p = q;
          ++t;
          continue;
        }
      } else {
        size_t q = p;
        if (pc == '\\' && q + 1 < pattern.size()) ++q;
        if (pattern[q] == text[t]) {
          p = q + 1;
          ++t;
          continue;
        }
      }
    }
    if (star_p == absl::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace ekv::redis_core
