// The internal write behind Redis 7 functions' registry (adapters/redis/functions_registry.h):
// `ekv-functions-cas key expected_version blob` replaces the string at `key` with
// "<expected_version + 1>\n<blob>" when the version it holds (the decimal before its first
// line feed; 0 when the key is absent) is `expected_version`, and answers 1; otherwise it
// changes nothing and answers 0. The front door reads the registry, checks and builds the
// new one (its Lua parses the libraries), and proposes it with this: two FUNCTION LOADs
// racing through different nodes cannot both win against the same version, so each
// registry change is decided against the one it replaced, and apply never runs Lua.
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/kv/kv_command.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/string_lookup.h"

namespace ekv::redis_core {

std::optional<uint64_t> FunctionsRegistryVersion(absl::string_view value) {
  const size_t line_end = value.find('\n');
  if (line_end == absl::string_view::npos) return std::nullopt;
  uint64_t version = 0;
  if (!absl::SimpleAtoi(value.substr(0, line_end), &version)) return std::nullopt;
  return version;
}

EKV_REDIS_HANDLER(CmdFunctionsCas) {
  uint64_t expected = 0;
  if (!absl::SimpleAtoi(args[2], &expected)) {
    return Reply::Error("ERR ekv-functions-cas: bad version");
  }
  EKV_KV_ASSIGN_OR_RETURN(StringLookup current, LookupString(ex, args[1]));
  if (current.error.has_value()) return *current.error;
  uint64_t version = 0;
  if (current.value.has_value()) {
    std::optional<uint64_t> held = FunctionsRegistryVersion(current.value->value);
    if (!held.has_value()) return Reply::Error("ERR the functions registry record is corrupt");
    version = *held;
  }
  if (version != expected) return Reply::Integer(0);
  std::string value = absl::StrCat(expected + 1, "\n", args[3]);
  if (value.size() > kv::kMaxValueBytes) return StringTooBigError();
  EKV_KV_RETURN_IF_ERROR(ex.store().CheckStringWritable(args[1]));
  ex.SetString(args[1], value, 0);
  return Reply::Integer(1);
}

}  // namespace ekv::redis_core
