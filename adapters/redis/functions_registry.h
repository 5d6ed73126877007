// Redis 7 functions' libraries as ekv keeps them: one replicated record, the string at the
// reserved key kFunctionsRegistryKey ("\0ekv:functions", in the group that owns it), holding
// "<version>\n" and every library (name, code, and the functions its code registered:
// name, description, flags). FUNCTION LOAD / DELETE / FLUSH / RESTORE read it at a
// linearizable read point, decide and build the next registry at the front door (its Lua
// checks a library, so apply never runs Lua), and write it with `ekv-functions-cas`
// (core/redis/commands_functions.cc), which lands only on the version they read; FCALL
// reads it linearizably too and sends the called function's library code with the script
// request. So a library is durable and cluster-wide as any key is, an acknowledged LOAD or
// DELETE is seen by every later FCALL through any node, and FLUSHALL (which skips the
// reserved key) leaves functions alone, as in Redis.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/executor.h"

namespace ekv::redis {

// redis_core::kFunctionsRegistryKey: starts with a NUL byte as DynamoDB's reserved prefix
// does (a key no Redis client is expected to use); KEYS, SCAN, DBSIZE, RANDOMKEY and
// FLUSHDB pass over it.
inline const std::string& FunctionsRegistryKey() {
  static const std::string* key = new std::string(redis_core::kFunctionsRegistryKey);
  return *key;
}

struct RegisteredFunction {
  std::string name;
  std::optional<std::string> description;
  uint32_t flags = 0;  // lua_script_runner.h kFunctionFlagNames' bits
};

struct FunctionLibrary {
  std::string name;
  std::string code;                           // as FUNCTION LOAD got it, shebang included
  std::vector<RegisteredFunction> functions;  // by name
};

struct FunctionsRegistry {
  uint64_t version = 0;                              // 0: never written
  std::map<std::string, FunctionLibrary> libraries;  // by name

  // The library holding function `name` (case-insensitive, as Redis's function names are
  // across libraries), and the function; null when none does.
  const FunctionLibrary* FindFunction(absl::string_view name,
                                      const RegisteredFunction** function) const;
  size_t function_count() const;
};

// The libraries as the registry record holds them after its version line.
std::string EncodeFunctionLibraries(const std::map<std::string, FunctionLibrary>& libraries);
// The registry from the record's value (nullopt: the key is absent, an empty registry).
absl::StatusOr<FunctionsRegistry> DecodeFunctionsRegistry(const std::optional<std::string>& value);

}  // namespace ekv::redis
