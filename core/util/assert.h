// Always-on invariant checks for ekv's core.
//
// Asserts are never compiled out: the simulator and the tests rely on them to turn a
// silent corruption into a loud, reproducible failure. A driver (the simulator) may
// install a failure hook that prints its seed and repro command before the abort.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace ekv {

// Called with the failure description before the process aborts. Must not return
// normally unless it wants the default abort to follow.
using AssertFailureHook = void (*)(const std::string& description);

// Installs `hook` and returns the previous one. Not thread-safe: call at startup.
AssertFailureHook SetAssertFailureHook(AssertFailureHook hook);

[[noreturn]] void AssertFailed(const char* file, int line, const char* condition,
                               const std::string& message);

}  // namespace ekv

#define EKV_ASSERT(cond, ...)                                                         \
  do {                                                                                \
    if (!(cond)) [[unlikely]] {                                                       \
      ::ekv::AssertFailed(__FILE__, __LINE__, #cond, ::absl::StrCat("" __VA_ARGS__)); \
    }                                                                                 \
  } while (false)

#define EKV_UNREACHABLE(...) \
  ::ekv::AssertFailed(__FILE__, __LINE__, "unreachable", ::absl::StrCat("" __VA_ARGS__))
