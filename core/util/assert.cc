#include "core/util/assert.h"

#include <cstdio>
#include <cstdlib>

namespace ekv {
namespace {
AssertFailureHook g_hook = nullptr;
}  // namespace

AssertFailureHook SetAssertFailureHook(AssertFailureHook hook) {
  AssertFailureHook previous = g_hook;
  g_hook = hook;
  return previous;
}

void AssertFailed(const char* file, int line, const char* condition, const std::string& message) {
  std::string description = absl::StrCat("invariant violated at ", file, ":", line, ": ", condition,
                                         message.empty() ? "" : " -- ", message);
  // Writing the reason to stderr is the one output core performs itself: the process
  // is about to abort and no driver can be asked to do it.
  std::fputs(description.c_str(), stderr);
  std::fputs("\n", stderr);
  if (g_hook != nullptr) g_hook(description);
  std::abort();
}

}  // namespace ekv
