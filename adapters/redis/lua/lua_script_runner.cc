// The Lua 5.1 side of scripting. Lua reports errors by longjmp, so no C++ object with a
// destructor may be alive in a frame a Lua error can cross: every lua_CFunction here does
// its C++ work in a helper that returns before the function raises.
#include "adapters/redis/lua/lua_script_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "adapters/redis/acl_catalog.h"
#include "adapters/redis/acl_rules.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/lua/lua_cmsgpack.h"
#include "adapters/redis/lua/lua_struct.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"
#include "openssl/evp.h"

extern "C" {
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
// Debian's lua-cjson-dev and lua-bitop-dev: the libraries Redis embeds as cjson and bit.
#include "lua-bitop.h"
#include "lua-cjson.h"
}

namespace ekv::redis {
namespace {

using redis_core::Reply;

// How often (in VM instructions) the count hook checks the instruction budget.
constexpr int kHookEveryInstructions = 10'000;
constexpr const char* kReadonlyMessage = "Attempt to modify a readonly table";
// Registry key of the set of read-only proxy tables (rawset refuses them).
constexpr const char* kReadonlyRegistryKey = "ekv.readonly";

// One script run's state, reached from every Lua thread through the allocator's userdata.
struct RunContext {
  redis_core::ScriptCalls* calls = nullptr;
  size_t memory_used = 0;
  size_t memory_limit = std::numeric_limits<size_t>::max();  // raised while not in the script
  uint64_t instructions = 0;
  uint64_t max_instructions = 0;
  bool over_instruction_limit = false;
  // A redis.call met a lock or an engine failure: the script is void (its status returned).
  absl::Status abort;
  uint64_t rand48 = 0;     // Redis's math.random state (rand.c: the 48-bit lrand48)
  bool no_writes = false;  // the shebang's flags=no-writes
  // ---- Redis 7 functions: while a library's top level runs (FUNCTION LOAD's check at the
  // front door, and FCALL's load before the call), globals resolve in the load API (only
  // `redis` with register_function, log and the constants) and register_function works.
  bool loading = false;
  std::vector<LuaFunctionInfo>* registered = nullptr;  // what register_function recorded
  // redis.setresp: the protocol redis.call's replies reach the script in (Redis's script
  // client starts every run at RESP2), and how a returned boolean becomes a reply.
  int resp = 2;
  // The calling user's permissions (ScriptCalls::user_acl), parsed at their first use;
  // nullopt after that when the user may run everything.
  bool permissions_loaded = false;
  std::optional<AclPermissions> permissions;
  // The current redis.call's (or acl_check_cmd's) arguments and reply, held here rather
  // than in RunCall's frame: a Lua error while its reply is converted (not enough memory
  // for a large reply, caught by pcall) longjmps past that frame's destructors, which
  // would leak them on every call.
  std::vector<std::string> call_args;
  std::optional<Reply> call_reply;
};

RunContext* Context(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<RunContext*>(ud);
}

void* Allocate(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* context = static_cast<RunContext*>(ud);
  if (new_size == 0) {
    std::free(ptr);
    context->memory_used -= old_size;
    return nullptr;
  }
  if (new_size > old_size && context->memory_used + (new_size - old_size) > context->memory_limit) {
    return nullptr;  // Lua raises "not enough memory"
  }
  void* grown = std::realloc(ptr, new_size);
  if (grown == nullptr) return nullptr;
  context->memory_used = context->memory_used - old_size + new_size;
  return grown;
}

// ---- Redis's rand48 (redisSrand48 / redisLrand48) and its math.random ----
constexpr uint64_t kRand48Mask = (uint64_t{1} << 48) - 1;
void Srand48(RunContext* context, int32_t seed) {
  context->rand48 =
      ((static_cast<uint64_t>(static_cast<uint32_t>(seed)) << 16) | 0x330E) & kRand48Mask;
}
int32_t Lrand48(RunContext* context) {
  context->rand48 = (0x5DEECE66DULL * context->rand48 + 0xB) & kRand48Mask;
  return static_cast<int32_t>(context->rand48 >> 17);
}

int MathRandom(lua_State* L) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  const lua_Number r =
      static_cast<lua_Number>(Lrand48(Context(L)) % kMax) / static_cast<lua_Number>(kMax);
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      const int upper = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= upper, 1, "interval is empty");
      lua_pushnumber(L, std::floor(r * upper) + 1);
      break;
    }
    case 2: {
      const int lower = luaL_checkint(L, 1);
      const int upper = luaL_checkint(L, 2);
      luaL_argcheck(L, lower <= upper, 2, "interval is empty");
      lua_pushnumber(L, std::floor(r * (upper - lower + 1)) + lower);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

int MathRandomSeed(lua_State* L) {
  Srand48(Context(L), luaL_checkint(L, 1));
  return 0;
}

// ---- errors as Redis 7.0 shapes them: a table {err = "CODE message"} ----

// luaPushErrorBuff: "-CODE msg" keeps its code, anything else becomes "ERR text"; a
// trailing newline is dropped.
std::string ErrorTableText(absl::string_view error) {
  std::string code = "ERR";
  std::string message;
  if (!error.empty() && error[0] == '-') {
    const size_t space = error.find(' ');
    if (space == absl::string_view::npos) {
      message = std::string(error.substr(1));
    } else {
      code = std::string(error.substr(1, space - 1));
      message = std::string(error.substr(space + 1));
    }
  } else {
    message = std::string(error);
  }
  while (!message.empty() && (message.back() == '\r' || message.back() == '\n')) message.pop_back();
  while (!message.empty() && (message.front() == '\r' || message.front() == '\n')) {
    message.erase(0, 1);
  }
  return absl::StrCat(code, " ", message);
}

void PushErrorTable(lua_State* L, absl::string_view error) {
  const std::string text = ErrorTableText(error);
  lua_newtable(L);
  lua_pushstring(L, "err");
  lua_pushlstring(L, text.data(), text.size());
  lua_rawset(L, -3);
}

// The pcall error handler (Redis's __redis__err__handler, in C so the instruction hook
// never interrupts it): a string error becomes {err = "ERR " .. text}, and the error gets
// the source and line of the Lua code that raised it (for an error raised inside a C
// function, of that function's caller).
int ErrorHandler(lua_State* L) {
  if (!lua_istable(L, 1)) {
    const char* text = nullptr;
    if (lua_isstring(L, 1)) {
      text = lua_tostring(L, 1);
    } else if (lua_isnil(L, 1)) {
      text = "nil";
    } else if (lua_isboolean(L, 1)) {
      text = lua_toboolean(L, 1) ? "true" : "false";
    } else {
      text = lua_pushfstring(L, "%s: %p", luaL_typename(L, 1), lua_topointer(L, 1));
    }
    lua_pushfstring(L, "ERR %s", text);
    lua_newtable(L);
    lua_pushstring(L, "err");
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_replace(L, 1);
    lua_settop(L, 1);
  }
  lua_Debug info;
  bool found = lua_getstack(L, 1, &info) != 0 && lua_getinfo(L, "nSl", &info) != 0;
  if (found && info.what != nullptr && absl::string_view(info.what) == "C") {
    found = lua_getstack(L, 2, &info) != 0 && lua_getinfo(L, "nSl", &info) != 0;
  }
  if (found) {
    lua_pushstring(L, "source");
    lua_pushstring(L, info.source);
    lua_rawset(L, 1);
    lua_pushstring(L, "line");
    lua_pushinteger(L, info.currentline);
    lua_rawset(L, 1);
  }
  return 1;
}

// Raised with the position of the Lua code that caused it ("user_script:1: ...").
int RaiseAtCaller(lua_State* L, const char* message) {
  luaL_where(L, 1);
  lua_pushstring(L, message);
  lua_concat(L, 2);
  return lua_error(L);
}

int ReadonlyNewIndex(lua_State* L) { return RaiseAtCaller(L, kReadonlyMessage); }

// Registry keys of Redis 7 functions' tables: the load API's globals, and the callbacks a
// library registered (function name -> function).
constexpr const char* kLoadApiRegistryKey = "ekv.load_api";
constexpr const char* kFunctionsRegistryKey = "ekv.functions";

// __index of the globals proxy: the real globals (upvalue 1), or while a library loads the
// load API (Redis 7.0 swaps its globals' __index the same way), or Redis's refusal. As
// __index of another read-only table (the load API's `redis`): that table, or the refusal.
int GlobalIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_tointeger(L, lua_upvalueindex(2)) == 1 && Context(L)->loading) {
    lua_getfield(L, LUA_REGISTRYINDEX, kLoadApiRegistryKey);
    lua_insert(L, -2);
    lua_rawget(L, -2);
  } else {
    lua_rawget(L, lua_upvalueindex(1));
  }
  if (!lua_isnil(L, -1)) return 1;
  const char* name = lua_isstring(L, 2) ? lua_tostring(L, 2) : luaL_typename(L, 2);
  luaL_where(L, 1);
  lua_pushfstring(L, "Script attempted to access nonexistent global variable '%s'", name);
  lua_concat(L, 2);
  return lua_error(L);
}

bool IsReadonlyTable(lua_State* L, int index) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlyRegistryKey);
  lua_pushvalue(L, index);
  lua_rawget(L, -2);
  const bool readonly = lua_toboolean(L, -1) != 0;
  lua_pop(L, 2);
  return readonly;
}

// The base library's setmetatable with Redis 7.0's read-only tables: one of them answers
// "Attempt to modify a readonly table" (raised from C, so without a position, as Redis's
// patched lua_setmetatable raises it), not Lua's "cannot change a protected metatable".
int ProtectedSetMetatable(lua_State* L) {
  const int type = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table expected");
  if (IsReadonlyTable(L, 1)) {
    lua_pushstring(L, kReadonlyMessage);
    return lua_error(L);
  }
  if (luaL_getmetafield(L, 1, "__metatable")) luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// rawset that refuses the read-only tables (raised from C, so without a position).
int ProtectedRawSet(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (IsReadonlyTable(L, 1)) {
    lua_pushstring(L, kReadonlyMessage);
    return lua_error(L);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// ---- replies into Lua values, as a Redis 7.0 script sees them in RESP2 or RESP3 ----

void PushField(lua_State* L, const char* name, absl::string_view text) {
  lua_pushstring(L, name);
  lua_pushlstring(L, text.data(), text.size());
  lua_rawset(L, -3);
}

// redisProtocolToLuaType: the reply as the script client's protocol `resp` writes it,
// then read into Lua. RESP2: null false, double a string, map and pairs flat arrays, set
// an array. RESP3: null nil, double {double=n}, map {map={k=v}}, set {set={m=true}},
// pairs an array of two-element arrays, boolean a boolean, big number {big_number=s},
// verbatim {verbatim_string={string=s, format=f}}.
void PushReply(lua_State* L, const Reply& reply, int resp) {
  luaL_checkstack(L, 4, "reply too deep");
  const bool resp3 = resp == 3;
  switch (reply.kind) {
    case Reply::Kind::kStatus:
      lua_newtable(L);
      PushField(L, "ok", reply.text);
      return;
    case Reply::Kind::kError: {
      PushErrorTable(L, absl::StrCat("-", reply.text));
      // Redis marks an error that a command already counted (no visible effect here).
      lua_pushstring(L, "ignore_error_stats_update");
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
      return;
    }
    case Reply::Kind::kInteger:
      lua_pushnumber(L, static_cast<lua_Number>(reply.integer));
      return;
    case Reply::Kind::kBool:
      if (resp3) {
        lua_pushboolean(L, reply.integer != 0);
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(reply.integer));
      }
      return;
    case Reply::Kind::kBulk:
      lua_pushlstring(L, reply.text.data(), reply.text.size());
      return;
    case Reply::Kind::kHumanDouble:
      if (resp3) {
        lua_newtable(L);
        lua_pushstring(L, "double");
        lua_pushnumber(L, redis_core::ParseDouble(reply.text).value_or(0));
        lua_rawset(L, -3);
        return;
      }
      lua_pushlstring(L, reply.text.data(), reply.text.size());
      return;
    case Reply::Kind::kBigNumber:
      if (!resp3) {
        lua_pushlstring(L, reply.text.data(), reply.text.size());
        return;
      }
      lua_newtable(L);
      PushField(L, "big_number", reply.text);
      return;
    case Reply::Kind::kVerbatim: {
      const absl::string_view content = absl::string_view(reply.text).substr(4);
      if (!resp3) {
        lua_pushlstring(L, content.data(), content.size());
        return;
      }
      lua_newtable(L);
      lua_pushstring(L, "verbatim_string");
      lua_newtable(L);
      PushField(L, "string", content);
      PushField(L, "format", absl::string_view(reply.text).substr(0, 3));
      lua_rawset(L, -3);
      return;
    }
    case Reply::Kind::kNil:
    case Reply::Kind::kNilArray:
      if (resp3) {
        lua_pushnil(L);
      } else {
        lua_pushboolean(L, 0);
      }
      return;
    case Reply::Kind::kDouble: {
      if (resp3) {
        lua_newtable(L);
        lua_pushstring(L, "double");
        lua_pushnumber(L, reply.number);
        lua_rawset(L, -3);
        return;
      }
      // RESP2 sends a double as the bulk string of its %.17g text.
      const std::string text = redis_core::FormatScore(reply.number);
      lua_pushlstring(L, text.data(), text.size());
      return;
    }
    case Reply::Kind::kMap:
    case Reply::Kind::kSet:
    case Reply::Kind::kKeyedMap:
      if (resp3) {
        const bool map = reply.kind != Reply::Kind::kSet;
        lua_newtable(L);
        lua_pushstring(L, map ? "map" : "set");
        lua_newtable(L);
        for (size_t i = 0; i < reply.elements.size(); i += map ? 2 : 1) {
          PushReply(L, reply.elements[i], resp);
          if (map && i + 1 < reply.elements.size()) {
            PushReply(L, reply.elements[i + 1], resp);
          } else {
            lua_pushboolean(L, 1);
          }
          // A nil key (a RESP3 null) cannot index a table; no command answers one.
          if (lua_isnil(L, -2)) {
            lua_pop(L, 2);
            continue;
          }
          lua_rawset(L, -3);
        }
        lua_rawset(L, -3);
        return;
      }
      [[fallthrough]];
    case Reply::Kind::kArray:
    case Reply::Kind::kPairs:
      if ((resp3 && reply.kind == Reply::Kind::kPairs) ||
          (!resp3 && reply.kind == Reply::Kind::kKeyedMap)) {
        lua_createtable(L, static_cast<int>(reply.elements.size() / 2), 0);
        for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
          lua_createtable(L, 2, 0);
          PushReply(L, reply.elements[i], resp);
          lua_rawseti(L, -2, 1);
          PushReply(L, reply.elements[i + 1], resp);
          lua_rawseti(L, -2, 2);
          lua_rawseti(L, -2, static_cast<int>(i / 2 + 1));
        }
        return;
      }
      // Maps and pairs are flat arrays in RESP2.
      lua_createtable(L, static_cast<int>(reply.elements.size()), 0);
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        PushReply(L, reply.elements[i], resp);
        lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return;
  }
  lua_pushboolean(L, 0);
}

// ---- redis.call / redis.pcall ----

enum class CallOutcome { kValue, kError };

std::string FormatArgNumber(lua_Number number) {
  char buffer[64];
  const int n = std::snprintf(buffer, sizeof(buffer), "%.17g", static_cast<double>(number));
  return std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
}

// Redis 7.0's lookupCommand over its whole command set (AclCatalog): the command, or a
// container's subcommand when a second argument follows; nullopt when Redis has none.
std::optional<size_t> LookupRedisCommand(const std::vector<std::string>& args) {
  const AclCatalog& catalog = AclCatalog::Get();
  const std::string name = absl::AsciiStrToLower(args[0]);
  if (name.find('|') != std::string::npos) return std::nullopt;
  std::optional<size_t> id = catalog.Find(name);
  if (id.has_value() && !catalog.subcommands(*id).empty() && args.size() >= 2) {
    id = catalog.Find(absl::StrCat(name, "|", absl::AsciiStrToLower(args[1])));
  }
  return id;
}

// luaArgsToRedisArgv: the call's arguments (numbers as %.17g), popped, so a reply has
// room on the stack even when a script passed nearly LUAI_MAXCSTACK of them
// (redis.call('lpush', k, unpack(t)) with 7999 values answers 7999 in Redis 7.0). False,
// with an error table on the stack, when there are none or one is not a string or number.
bool ReadCallArgs(lua_State* L, std::vector<std::string>* args) {
  const int argc = lua_gettop(L);
  if (argc == 0) {
    PushErrorTable(L, "Please specify at least one argument for this redis lib call");
    return false;
  }
  args->reserve(argc);
  for (int i = 1; i <= argc; ++i) {
    if (lua_type(L, i) == LUA_TNUMBER) {
      args->push_back(FormatArgNumber(lua_tonumber(L, i)));
    } else if (lua_type(L, i) == LUA_TSTRING) {
      size_t length = 0;
      const char* bytes = lua_tolstring(L, i, &length);
      args->emplace_back(bytes, length);
    } else {
      lua_settop(L, 0);
      PushErrorTable(L, "Lua redis lib command arguments must be strings or integers");
      return false;
    }
  }
  lua_settop(L, 0);
  return true;
}

// The calling user's permissions (null: the user may run everything), parsed from the
// request's rules at their first use. Rules that do not parse (a request no front door
// makes) void the script: context->abort says why.
const AclPermissions* UserPermissions(RunContext* context) {
  if (!context->permissions_loaded) {
    context->permissions_loaded = true;
    const absl::string_view rules = context->calls->user_acl();
    if (!rules.empty()) {
      AclPermissions permissions;
      for (absl::string_view word : absl::StrSplit(rules, ' ', absl::SkipEmpty())) {
        if (absl::Status status = permissions.Apply(word); !status.ok()) {
          context->abort = absl::InvalidArgumentError(
              absl::StrCat("ERR the request's ACL rules do not parse: ", status.message()));
          return nullptr;
        }
      }
      context->permissions = std::move(permissions);
    }
  }
  return context->permissions.has_value() ? &*context->permissions : nullptr;
}

// Leaves one value on the stack: the reply, or an error table (kError).
CallOutcome RunCall(lua_State* L, RunContext* context) {
  std::vector<std::string>& args = context->call_args;
  args.clear();
  if (!ReadCallArgs(L, &args)) return CallOutcome::kError;
  const int argc = static_cast<int>(args.size());
  // Redis 7.0's order: unknown command, arity, noscript.
  const CommandSpec* spec = CommandTable::Default().Find(args[0]);
  if (spec == nullptr) {
    // A Redis command ekv does not serve (CLUSTER, SAVE, MONITOR...): checked by Redis
    // 7.0's table as Redis checks it, then not allowed (ekv has nothing to run it with;
    // most of them are noscript in Redis too).
    const std::optional<size_t> id = LookupRedisCommand(args);
    const AclCatalog& catalog = AclCatalog::Get();
    const int arity = id.has_value() ? catalog.arity(*id) : 0;
    PushErrorTable(L, !id.has_value() ? "Unknown Redis command called from script"
                      : (arity > 0 ? argc != arity : argc < -arity)
                          ? "Wrong number of args calling Redis command from script"
                          : "This Redis command is not allowed from script");
    return CallOutcome::kError;
  }
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    PushErrorTable(L, "Wrong number of args calling Redis command from script");
    return CallOutcome::kError;
  }
  // A container's subcommand as Redis's lookupCommand finds it: unknown, or its arity.
  if (std::optional<SubcommandRefusal> sub = CheckSubcommand(*spec, args); sub.has_value()) {
    PushErrorTable(L, sub->unknown ? "Unknown Redis command called from script"
                                   : "Wrong number of args calling Redis command from script");
    return CallOutcome::kError;
  }
  // noscript (MULTI, EVAL, SUBSCRIBE, ...), and what only the front door runs (PUBLISH,
  // TIME, SCAN, ...): not at apply time.
  if ((spec->flags & kFlagNoScript) != 0 || redis_core::FindCommand(args[0]) == nullptr) {
    PushErrorTable(L, "This Redis command is not allowed from script");
    return CallOutcome::kError;
  }
  // scriptVerifyACL: the calling user's rules, as Dispatch checks a client's command.
  const AclPermissions* permissions = UserPermissions(context);
  if (!context->abort.ok()) {
    PushErrorTable(L, context->abort.message());
    return CallOutcome::kError;
  }
  if (permissions != nullptr) {
    if (std::optional<AclDenial> denied = permissions->Check(*spec, args); denied.has_value()) {
      context->calls->NoteAclDenial(denied->reason, denied->object);
      PushErrorTable(
          L, absl::StrCat("The user executing the script ",
                          denied->reason == "command" ? "can't run this command or subcommand"
                          : denied->reason == "key"
                              ? "can't access at least one of the keys mentioned in "
                                "the command arguments"
                              : "can't publish to the channel mentioned in the command"));
      return CallOutcome::kError;
    }
  }
  // A shebang's no-writes flag makes the script read-only, as EVAL_RO (Redis checks it
  // before the keys).
  if (context->no_writes && (spec->flags & kFlagWrite) != 0) {
    PushErrorTable(L, "Write commands are not allowed from read-only scripts.");
    return CallOutcome::kError;
  }
  // SORT's BY patterns and GET need access to every key (Redis's sortCommandGeneric):
  // the command's own error, as the command answers it when it runs.
  if (permissions != nullptr && !permissions->AllowsAllKeys()) {
    if (std::string error = SortAclErrorText(args); !error.empty()) {
      PushReply(L, Reply::Error(error), context->resp);
      return CallOutcome::kError;
    }
  }
  absl::StatusOr<Reply> reply = context->calls->Call(args);
  if (!reply.ok()) {
    context->abort = reply.status();
    PushErrorTable(L, std::string(reply.status().message()));
    return CallOutcome::kError;
  }
  context->call_reply = *std::move(reply);
  const bool error = context->call_reply->is_error();
  PushReply(L, *context->call_reply, context->resp);
  context->call_reply.reset();
  return error ? CallOutcome::kError : CallOutcome::kValue;
}

int GenericCall(lua_State* L, bool raise_error) {
  RunContext* context = Context(L);
  if (!context->abort.ok()) {
    lua_pushstring(L, "the script was aborted");
    return lua_error(L);
  }
  const CallOutcome outcome = RunCall(L, context);
  // A lock or engine failure ends the script even inside pcall.
  if (outcome == CallOutcome::kError && (raise_error || !context->abort.ok())) {
    return lua_error(L);
  }
  return 1;
}

int RedisCall(lua_State* L) { return GenericCall(L, true); }
int RedisPCall(lua_State* L) { return GenericCall(L, false); }

// redis.acl_check_cmd(cmd, args...): whether the calling user may run the command with
// those arguments (command, keys, channels), as Redis 7.0's lookupCommand finds it over
// its whole command set -- a container's subcommand when one follows. Leaves a boolean,
// or an error table and returns true (raise).
bool AclCheckCmd(lua_State* L, RunContext* context) {
  std::vector<std::string>& args = context->call_args;
  args.clear();
  if (!ReadCallArgs(L, &args)) return true;
  const std::optional<size_t> id = LookupRedisCommand(args);
  if (!id.has_value()) {
    PushErrorTable(L, "Invalid command passed to redis.acl_check_cmd()");
    return true;
  }
  const AclPermissions* permissions = UserPermissions(context);
  if (!context->abort.ok()) {
    PushErrorTable(L, context->abort.message());
    return true;
  }
  bool allowed = true;
  if (permissions != nullptr) {
    // A command ekv does not serve has no key positions here: its bit decides.
    const CommandSpec* spec = CommandTable::Default().Find(args[0]);
    allowed = spec != nullptr ? !permissions->Check(*spec, args).has_value()
                              : permissions->AllowsCommand(AclCatalog::Get().name(*id));
  }
  lua_pushboolean(L, allowed ? 1 : 0);
  return false;
}

int RedisAclCheckCmd(lua_State* L) {
  RunContext* context = Context(L);
  if (AclCheckCmd(L, context)) return lua_error(L);
  return 1;
}

// redis.setresp(2|3): the protocol of redis.call's replies from here on.
int RedisSetResp(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc != 1) {
    PushErrorTable(L, "redis.setresp() requires one argument.");
    return lua_error(L);
  }
  // Redis reads it with lua_tonumber into an int: a non-number is 0, 2.5 is 2.
  const lua_Number number = lua_tonumber(L, -argc);
  const int resp = number >= 2 && number < 4 ? static_cast<int>(number) : 0;
  if (resp != 2 && resp != 3) {
    PushErrorTable(L, "RESP version must be 2 or 3.");
    return lua_error(L);
  }
  Context(L)->resp = resp;
  return 0;
}

// redis.error_reply / redis.status_reply: a one-field table, as Redis 7.0.
int RedisErrorReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  size_t length = 0;
  const char* bytes = lua_tolstring(L, 1, &length);
  const absl::string_view text(bytes, length);
  // error_reply adds the '-' of Redis's error buffer format unless it is there already.
  PushErrorTable(L, text.empty() || text[0] != '-' ? absl::StrCat("-", text) : std::string(text));
  return 1;
}

int RedisStatusReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushstring(L, "ok");
  lua_pushvalue(L, 1);
  lua_rawset(L, -3);
  return 1;
}

void PushSha1Hex(lua_State* L, absl::string_view bytes) {
  const std::string hex = ScriptSha1Hex(bytes);
  lua_pushlstring(L, hex.data(), hex.size());
}

int RedisSha1Hex(lua_State* L) {
  if (lua_gettop(L) != 1) {
    PushErrorTable(L, "wrong number of arguments");
    return lua_error(L);
  }
  size_t length = 0;
  const char* bytes = lua_tolstring(L, 1, &length);
  PushSha1Hex(L, bytes == nullptr ? absl::string_view() : absl::string_view(bytes, length));
  return 1;
}

// redis.log: checked as Redis checks it; ekv does not write scripts' lines to its log (a
// replica would write each line once per replica).
int RedisLog(lua_State* L) {
  if (lua_gettop(L) < 2) {
    PushErrorTable(L, "redis.log() requires two arguments or more.");
    return lua_error(L);
  }
  if (!lua_isnumber(L, 1)) {
    PushErrorTable(L, "First argument must be a number (log level).");
    return lua_error(L);
  }
  const lua_Number level = lua_tonumber(L, 1);
  if (level < 0 || level > 3) {
    PushErrorTable(L, "Invalid debug level.");
    return lua_error(L);
  }
  return 0;
}

int RedisReplicateCommands(lua_State* L) {
  lua_pushboolean(L, 1);  // Redis 7.0 always replicates effects; a no-op that says yes
  return 1;
}
int RedisNoOp(lua_State*) { return 0; }

void InstructionHook(lua_State* L, lua_Debug*) {
  RunContext* context = Context(L);
  context->instructions += kHookEveryInstructions;
  if (context->instructions > context->max_instructions) context->over_instruction_limit = true;
  if (context->over_instruction_limit) {
    // From now on every instruction raises, so a script that catches the error with pcall
    // still ends: the instructions between its pcalls raise too.
    lua_sethook(L, InstructionHook, LUA_MASKCOUNT, 1);
    if (context->loading) {
      PushErrorTable(L, "FUNCTION LOAD timeout");  // Redis's words for its 500 ms limit
    } else {
      lua_pushstring(L, kInstructionLimitMessage);
    }
    lua_error(L);
  }
}

// Every chunk is compiled as source text, never undumped: Redis 7.0's Lua refuses precompiled
// bytecode (malformed bytecode can crash the VM or escape it), so a chunk that starts with
// the bytecode signature's ESC fails in its lexer with "unexpected symbol near 'char(27)'".
// Debian's liblua5.1 would undump such a chunk; this reader keeps it on the parser's path by
// handing the lexer one space before it, which changes no line number and no message.
struct SourceOnlyReader {
  lua_Reader inner;
  void* inner_data;
  const char* held;  // the first piece, handed out after the space
  size_t held_size;
  enum { kFirst, kHeld, kPassThrough } state;
};

const char* ReadSourceOnly(lua_State* L, void* data, size_t* size) {
  auto* reader = static_cast<SourceOnlyReader*>(data);
  if (reader->state == SourceOnlyReader::kHeld) {
    reader->state = SourceOnlyReader::kPassThrough;
    *size = reader->held_size;
    return reader->held;
  }
  const char* piece = reader->inner(L, reader->inner_data, size);
  if (reader->state == SourceOnlyReader::kFirst) {
    reader->state = SourceOnlyReader::kPassThrough;
    // The piece stays valid until the inner reader is called again, after the held read.
    if (piece != nullptr && *size > 0 && piece[0] == LUA_SIGNATURE[0]) {
      reader->held = piece;
      reader->held_size = *size;
      reader->state = SourceOnlyReader::kHeld;
      *size = 1;
      return " ";
    }
  }
  return piece;
}

int LoadSourceOnly(lua_State* L, lua_Reader inner, void* inner_data, const char* chunk_name) {
  SourceOnlyReader reader{inner, inner_data, nullptr, 0, SourceOnlyReader::kFirst};
  return lua_load(L, ReadSourceOnly, &reader, chunk_name);
}

struct Buffer {
  const char* data;
  size_t size;
};

const char* ReadBuffer(lua_State*, void* data, size_t* size) {
  auto* buffer = static_cast<Buffer*>(data);
  if (buffer->size == 0) return nullptr;
  *size = buffer->size;
  buffer->size = 0;
  return buffer->data;
}

// luaL_loadbuffer, source text only.
int LoadBufferSourceOnly(lua_State* L, const char* data, size_t size, const char* chunk_name) {
  Buffer buffer{data, size};
  return LoadSourceOnly(L, ReadBuffer, &buffer, chunk_name);
}

// The base library's load and loadstring (Lua 5.1.5's contract: the chunk, or nil and the
// message), source text only.
int LoadResult(lua_State* L, int status) {
  if (status == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

int LuaLoadString(lua_State* L) {
  size_t size = 0;
  const char* text = luaL_checklstring(L, 1, &size);
  const char* chunk_name = luaL_optstring(L, 2, text);
  return LoadResult(L, LoadBufferSourceOnly(L, text, size, chunk_name));
}

// Reads load's pieces from the function at index 1, anchoring each in the reserved slot 3.
const char* ReadFromFunction(lua_State* L, void*, size_t* size) {
  luaL_checkstack(L, 2, "too many nested functions");
  lua_pushvalue(L, 1);
  lua_call(L, 0, 1);
  if (lua_isnil(L, -1)) {
    *size = 0;
    return nullptr;
  }
  if (!lua_isstring(L, -1)) luaL_error(L, "reader function must return a string");
  lua_replace(L, 3);
  return lua_tolstring(L, 3, size);
}

int LuaLoad(lua_State* L) {
  const char* chunk_name = luaL_optstring(L, 2, "=(load)");
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 3);  // the function, the name, a slot for the piece being read
  return LoadResult(L, LoadSourceOnly(L, ReadFromFunction, nullptr, chunk_name));
}

void OpenLibrary(lua_State* L, lua_CFunction open, const char* name) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

void SetFunction(lua_State* L, const char* name, lua_CFunction function) {
  lua_pushstring(L, name);
  lua_pushcfunction(L, function);
  lua_rawset(L, -3);
}

void SetNumber(lua_State* L, const char* name, lua_Number value) {
  lua_pushstring(L, name);
  lua_pushnumber(L, value);
  lua_rawset(L, -3);
}

// Pushes a new empty table whose reads go to the table at stack index `real` (not a
// pseudo-index) and whose writes fail,
// and records it as read-only for rawset.
// `expose_metatable`: getmetatable(proxy) answers a read-only view of its metatable (as
// Redis 7.0 answers its read-only metatable of _G) instead of false.
void PushReadonlyProxy(lua_State* L, int real, lua_CFunction index, bool expose_metatable = false,
                       bool globals = false) {
  real = real < 0 ? lua_gettop(L) + real + 1 : real;
  lua_newtable(L);  // the proxy
  lua_newtable(L);  // its metatable
  lua_pushstring(L, "__index");
  if (index == nullptr) {
    lua_pushvalue(L, real);
  } else {
    lua_pushvalue(L, real);
    lua_pushinteger(L, globals ? 1 : 0);
    lua_pushcclosure(L, index, 2);
  }
  lua_rawset(L, -3);
  SetFunction(L, "__newindex", ReadonlyNewIndex);
  lua_pushstring(L, "__metatable");
  lua_pushboolean(L, 0);
  lua_rawset(L, -3);
  if (expose_metatable) {
    PushReadonlyProxy(L, -1, nullptr);
    lua_pushstring(L, "__metatable");
    lua_insert(L, -2);
    lua_rawset(L, -3);
  }
  lua_setmetatable(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlyRegistryKey);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

void PushStringArray(lua_State* L, const std::vector<std::string>& items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

void SetVersion(lua_State* L) {
  SetNumber(L, "REDIS_VERSION_NUM", (7 << 16) | (0 << 8) | 15);
  lua_pushstring(L, "REDIS_VERSION");
  lua_pushstring(L, "7.0.15");
  lua_rawset(L, -3);
}

// ---- Redis 7 functions: redis.register_function (function_lua.c's checks and words) ----

constexpr absl::string_view kFunctionFlagNames[] = {"no-writes", "allow-oom", "allow-stale",
                                                    "no-cluster", "allow-cross-slot-keys"};

bool ValidFunctionName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::optional<std::string> LuaStringAt(lua_State* L, int index) {
  if (!lua_isstring(L, index)) return std::nullopt;
  size_t length = 0;
  const char* bytes = lua_tolstring(L, index, &length);
  return std::string(bytes, length);
}

// Reads the flags table at the top of the stack; false for an unknown flag.
bool ReadFunctionFlags(lua_State* L, uint32_t* flags) {
  for (int j = 1;; ++j) {
    lua_pushnumber(L, j);
    lua_gettable(L, -2);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return true;
    }
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      return false;
    }
    const absl::string_view flag = lua_tostring(L, -1);
    bool found = false;
    for (size_t i = 0; i < std::size(kFunctionFlagNames); ++i) {
      if (absl::EqualsIgnoreCase(flag, kFunctionFlagNames[i])) {
        *flags |= 1u << i;
        found = true;
        break;
      }
    }
    lua_pop(L, 1);
    if (!found) return false;
  }
}

// register_function's arguments into `info`, its callback left on the stack's top; the
// error text (without "ERR ") on failure.
const char* ReadRegisterArgs(lua_State* L, LuaFunctionInfo* info) {
  const int argc = lua_gettop(L);
  if (argc < 1 || argc > 2) return "wrong number of arguments to redis.register_function";
  if (argc == 2) {
    std::optional<std::string> name = LuaStringAt(L, 1);
    if (!name.has_value()) return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2))
      return "second argument to redis.register_function must be a function";
    info->name = *std::move(name);
    return nullptr;
  }
  if (!lua_istable(L, 1)) {
    return "calling redis.register_function with a single argument is only applicable to Lua "
           "table (representing named arguments).";
  }
  bool have_name = false;
  bool have_callback = false;
  lua_pushnil(L);  // the callback's slot: stack is table, callback, key
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    // Stack: table, callback, key, value.
    if (!lua_isstring(L, -2))
      return "named argument key given to redis.register_function is not a string";
    const absl::string_view key = lua_tostring(L, -2);
    if (absl::EqualsIgnoreCase(key, "function_name")) {
      std::optional<std::string> name = LuaStringAt(L, -1);
      if (!name.has_value()) {
        return "function_name argument given to redis.register_function must be a string";
      }
      info->name = *std::move(name);
      have_name = true;
    } else if (absl::EqualsIgnoreCase(key, "description")) {
      std::optional<std::string> description = LuaStringAt(L, -1);
      if (!description.has_value()) {
        return "description argument given to redis.register_function must be a string";
      }
      info->description = *std::move(description);
    } else if (absl::EqualsIgnoreCase(key, "callback")) {
      if (!lua_isfunction(L, -1)) {
        return "callback argument given to redis.register_function must be a function";
      }
      lua_replace(L, 2);
      have_callback = true;
      continue;
    } else if (absl::EqualsIgnoreCase(key, "flags")) {
      if (!lua_istable(L, -1)) {
        return "flags argument to redis.register_function must be a table representing "
               "function flags";
      }
      if (!ReadFunctionFlags(L, &info->flags)) return "unknown flag given";
    } else {
      return "unknown argument given to redis.register_function";
    }
    lua_pop(L, 1);
  }
  if (!have_name) return "redis.register_function must get a function name argument";
  if (!have_callback) return "redis.register_function must get a callback argument";
  lua_settop(L, 2);
  return nullptr;
}

// The C++ part of register_function: records the function; the error text or null.
const char* RegisterFunction(lua_State* L, RunContext* context) {
  if (!context->loading || context->registered == nullptr) {
    return "redis.register_function can only be called on FUNCTION LOAD command";
  }
  LuaFunctionInfo info;
  if (const char* error = ReadRegisterArgs(L, &info); error != nullptr) return error;
  if (!ValidFunctionName(info.name)) {
    // Redis 7.0's words for a bad function name too.
    return "Library names can only contain letters, numbers, or underscores(_) and must be at "
           "least one character long";
  }
  for (const LuaFunctionInfo& other : *context->registered) {
    if (other.name == info.name) return "Function already exists in the library";
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kFunctionsRegistryKey);
  lua_pushlstring(L, info.name.data(), info.name.size());
  lua_pushvalue(L, 2);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  context->registered->push_back(std::move(info));
  return nullptr;
}

int RedisRegisterFunction(lua_State* L) {
  const char* error = RegisterFunction(L, Context(L));
  if (error == nullptr) return 0;
  PushErrorTable(L, error);
  return lua_error(L);
}

struct LuaApiFunction {
  const char* name;
  lua_CFunction function;
};

// Pushes a new `redis` table: `functions`, the log levels, the REPL_* flags when
// `replication_flags` (the script API has them, FUNCTION LOAD's API not), the version. The
// fields go in in this order in both, as the two APIs always set them.
void PushRedisTable(lua_State* L, std::initializer_list<LuaApiFunction> functions,
                    bool replication_flags) {
  lua_newtable(L);
  for (const LuaApiFunction& function : functions) {
    SetFunction(L, function.name, function.function);
  }
  SetNumber(L, "LOG_DEBUG", 0);
  SetNumber(L, "LOG_VERBOSE", 1);
  SetNumber(L, "LOG_NOTICE", 2);
  SetNumber(L, "LOG_WARNING", 3);
  if (replication_flags) {
    SetNumber(L, "REPL_NONE", 0);
    SetNumber(L, "REPL_AOF", 1);
    SetNumber(L, "REPL_SLAVE", 2);
    SetNumber(L, "REPL_REPLICA", 2);
    SetNumber(L, "REPL_ALL", 3);
  }
  SetVersion(L);
}

// The load API: globals holding only `redis` (register_function, log, the log levels and
// the version), read-only, an unknown name refused as an unknown global is.
void SetUpLoadApi(lua_State* L) {
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kFunctionsRegistryKey);
  lua_newtable(L);  // the load API's globals
  PushRedisTable(L, {{"register_function", RedisRegisterFunction}, {"log", RedisLog}},
                 /*replication_flags=*/false);
  PushReadonlyProxy(L, -1, GlobalIndex);
  lua_setfield(L, -3, "redis");
  lua_pop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, kLoadApiRegistryKey);
}

// Builds the script environment in a fresh state. Runs before the memory limit applies.
void SetUpEnvironment(lua_State* L, const redis_core::RedisRequest::Script& script) {
  const bool function_mode = !script.function.empty();
  OpenLibrary(L, luaopen_base, "");
  OpenLibrary(L, luaopen_table, LUA_TABLIBNAME);
  OpenLibrary(L, luaopen_string, LUA_STRLIBNAME);
  OpenLibrary(L, luaopen_math, LUA_MATHLIBNAME);
  // cjson and bit as Redis 7.0 registers them: globals, opened here rather than through
  // require (which the sandbox does not have); neither reaches the file system.
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_setglobal(L, "cjson");
  lua_pushcfunction(L, luaopen_bit);
  lua_call(L, 0, 1);
  lua_setglobal(L, "bit");
  // struct and cmsgpack: ours (Debian has no Lua 5.1 package with Redis's API), the same
  // globals with the same behaviour.
  lua_pushcfunction(L, OpenLuaStruct);
  lua_call(L, 0, 1);
  lua_setglobal(L, "struct");
  lua_pushcfunction(L, OpenLuaCmsgpack);
  lua_call(L, 0, 1);
  lua_setglobal(L, "cmsgpack");
  // What could reach the file system, print, or swap an environment.
  for (const char* name : {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_pushcfunction(L, LuaLoad);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, LuaLoadString);
  lua_setglobal(L, "loadstring");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kReadonlyRegistryKey);
  lua_pushcfunction(L, ProtectedRawSet);
  lua_setglobal(L, "rawset");
  lua_pushcfunction(L, ProtectedSetMetatable);
  lua_setglobal(L, "setmetatable");

  lua_getglobal(L, LUA_MATHLIBNAME);
  SetFunction(L, "random", MathRandom);
  SetFunction(L, "randomseed", MathRandomSeed);
  lua_pop(L, 1);

  PushRedisTable(L,
                 {{"call", RedisCall},
                  {"pcall", RedisPCall},
                  {"error_reply", RedisErrorReply},
                  {"status_reply", RedisStatusReply},
                  {"sha1hex", RedisSha1Hex},
                  {"log", RedisLog},
                  {"replicate_commands", RedisReplicateCommands},
                  {"set_repl", RedisNoOp},
                  {"setresp", RedisSetResp},
                  {"acl_check_cmd", RedisAclCheckCmd}},
                 /*replication_flags=*/true);
  lua_setglobal(L, "redis");

  // A function gets its keys and arguments as its two arguments (Redis 7.0 sets no KEYS
  // or ARGV for it).
  if (!function_mode) {
    PushStringArray(L, script.keys);
    lua_setglobal(L, "KEYS");
    PushStringArray(L, script.args);
    lua_setglobal(L, "ARGV");
  }
  if (function_mode) SetUpLoadApi(L);

  // The libraries become read-only proxies, then the globals themselves: the thread's
  // globals table is replaced by a proxy, so the script and anything it compiles
  // (loadstring) read through it and cannot write.
  for (const char* name : {"redis", LUA_STRLIBNAME, LUA_MATHLIBNAME, LUA_TABLIBNAME, LUA_COLIBNAME,
                           "cjson", "bit", "struct", "cmsgpack"}) {
    lua_getglobal(L, name);
    PushReadonlyProxy(L, -1, nullptr);
    lua_setglobal(L, name);
    lua_pop(L, 1);
  }
  lua_pushvalue(L, LUA_GLOBALSINDEX);  // the real globals, [-2] below their proxy
  PushReadonlyProxy(L, -1, GlobalIndex, /*expose_metatable=*/true, /*globals=*/true);
  lua_pushstring(L, "_G");
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);
}

int64_t TruncateToInteger(lua_Number number) {
  // What (long long) does on x86-64 for the values C leaves undefined.
  if (std::isnan(number) || number >= 9223372036854775808.0 || number < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(number);
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

// A table's field as text; `strict`: only a string (not a number) counts.
std::optional<std::string> StringField(lua_State* L, int table, const char* name,
                                       bool strict = true) {
  lua_pushstring(L, name);
  lua_rawget(L, table);
  std::optional<std::string> value;
  if (strict ? lua_type(L, -1) == LUA_TSTRING : lua_isstring(L, -1) != 0) {
    size_t length = 0;
    const char* bytes = lua_tolstring(L, -1, &length);
    value = std::string(bytes, length);
  }
  lua_pop(L, 1);
  return value;
}

// luaReplyToRedisReply, `resp` the script's protocol at its end (redis.setresp). Runs
// outside the script, with no memory limit: nothing here raises. A table is, in Redis's
// order of checks: {err=}, {ok=}, {double=}, {big_number=}, {verbatim_string={format=,
// string=}}, {map={...}} and {set={...}} (their pairs in lua_next order: the same on every
// replica for the same table built the same way, unless keyed by tables or functions),
// else an array up to its first nil.
//
// The reply's size is bounded as well as its depth: a table may hold the same table many
// times, so a few KB of Lua expand into an exponentially larger reply (8 references per
// level, 7 levels: 2M elements from 56 table slots), which every replica would build at
// apply time. Each value converted takes kReplyValueBytes (about a Reply's size, fixed so
// that every build agrees) and its text from `budget`.
constexpr size_t kReplyValueBytes = 64;

struct ReplyBudget {
  size_t left = 0;
  bool exceeded = false;
  bool Take(size_t bytes) {
    if (exceeded || bytes > left) {
      exceeded = true;
      return false;
    }
    left -= bytes;
    return true;
  }
};

std::optional<Reply> ConvertToReply(lua_State* L, int index, int depth, int resp,
                                    ReplyBudget* budget);

std::optional<Reply> ToReply(lua_State* L, int index, int depth, int resp, ReplyBudget* budget) {
  if (!budget->Take(kReplyValueBytes)) return std::nullopt;
  std::optional<Reply> reply = ConvertToReply(L, index, depth, resp, budget);
  if (reply.has_value() && !budget->Take(reply->text.size())) return std::nullopt;
  return reply;
}

std::optional<Reply> ConvertToReply(lua_State* L, int index, int depth, int resp,
                                    ReplyBudget* budget) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  switch (lua_type(L, index)) {
    case LUA_TSTRING: {
      size_t length = 0;
      const char* bytes = lua_tolstring(L, index, &length);
      return Reply::Bulk(absl::string_view(bytes, length));
    }
    case LUA_TBOOLEAN:
      // A RESP2 script answers true 1 and false null; a RESP3 one a boolean.
      if (resp == 3) return Reply::Bool(lua_toboolean(L, index) != 0);
      return lua_toboolean(L, index) ? Reply::Integer(1) : Reply::Nil();
    case LUA_TNUMBER:
      return Reply::Integer(TruncateToInteger(lua_tonumber(L, index)));
    case LUA_TTABLE: {
      // A returned error table is its text alone (no " script: ..." suffix, as in Redis).
      if (std::optional<std::string> err = StringField(L, index, "err"); err.has_value()) {
        return Reply::Error(OneLine(*std::move(err)));
      }
      if (std::optional<std::string> ok = StringField(L, index, "ok"); ok.has_value()) {
        return Reply::Status(OneLine(*std::move(ok)));
      }
      lua_pushstring(L, "double");
      lua_rawget(L, index);
      if (lua_type(L, -1) == LUA_TNUMBER) {
        const double value = lua_tonumber(L, -1);
        lua_pop(L, 1);
        return Reply::Double(value);
      }
      lua_pop(L, 1);
      if (std::optional<std::string> big = StringField(L, index, "big_number"); big.has_value()) {
        return Reply::BigNumber(OneLine(*std::move(big)));
      }
      lua_pushstring(L, "verbatim_string");
      lua_rawget(L, index);
      if (lua_type(L, -1) == LUA_TTABLE) {
        const int verbatim = lua_gettop(L);
        std::optional<std::string> format = StringField(L, verbatim, "format");
        std::optional<std::string> text = StringField(L, verbatim, "string");
        lua_pop(L, 1);
        if (format.has_value() && text.has_value()) {
          // Redis copies the format as a C string: it ends at a NUL byte.
          return Reply::Verbatim(absl::string_view(format->c_str()), *text);
        }
      } else {
        lua_pop(L, 1);
      }
      // The reply's encoded nesting is bounded (redis_core::kMaxReplyDepth).
      for (const char* field : {"map", "set"}) {
        lua_pushstring(L, field);
        lua_rawget(L, index);
        if (lua_type(L, -1) != LUA_TTABLE) {
          lua_pop(L, 1);
          continue;
        }
        if (depth + 1 >= redis_core::kMaxReplyDepth) {
          lua_pop(L, 1);
          return std::nullopt;
        }
        const bool map = field[0] == 'm';
        const int table = lua_gettop(L);
        std::vector<Reply> elements;
        bool ok = true;
        lua_pushnil(L);
        while (lua_next(L, table) != 0) {
          // key at -2, value at -1: convert a copy of the key, so lua_next sees it as it was.
          lua_pushvalue(L, -2);
          std::optional<Reply> key = ToReply(L, -1, depth + 1, resp, budget);
          lua_pop(L, 1);
          std::optional<Reply> value;
          if (map) value = ToReply(L, -1, depth + 1, resp, budget);
          lua_pop(L, 1);
          if (!key.has_value() || (map && !value.has_value())) {
            ok = false;
            lua_pop(L, 1);  // the key: the walk stops here
            break;
          }
          elements.push_back(*std::move(key));
          if (map) elements.push_back(*std::move(value));
        }
        lua_pop(L, 1);
        if (!ok) return std::nullopt;
        return map ? Reply::Map(std::move(elements)) : Reply::Set(std::move(elements));
      }
      if (depth + 1 >= redis_core::kMaxReplyDepth) return std::nullopt;
      std::vector<Reply> elements;
      for (int i = 1;; ++i) {
        lua_rawgeti(L, index, i);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        std::optional<Reply> element = ToReply(L, -1, depth + 1, resp, budget);
        lua_pop(L, 1);
        if (!element.has_value()) return std::nullopt;
        elements.push_back(*std::move(element));
      }
      return Reply::Array(std::move(elements));
    }
    default:
      return Reply::Nil();
  }
}

// A raised error as the client sees it: the error table's text, then where it happened.
Reply ErrorReply(lua_State* L, int status, absl::string_view sha) {
  if (status == LUA_ERRRUN && lua_istable(L, -1)) {
    const int table = lua_gettop(L);
    std::string text = StringField(L, table, "err").value_or("ERR unknown error");
    std::optional<std::string> source = StringField(L, table, "source", /*strict=*/false);
    std::optional<std::string> line = StringField(L, table, "line", /*strict=*/false);
    if (source.has_value() && line.has_value()) {
      absl::StrAppend(&text, " script: ", sha, ", on ", *source, ":", *line, ".");
    }
    return Reply::Error(OneLine(std::move(text)));
  }
  const char* message = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
  return Reply::Error(OneLine(absl::StrCat("ERR Error running script ", sha, ", ",
                                           absl::string_view(message).substr(0, 100))));
}

class StateCloser {
 public:
  explicit StateCloser(lua_State* L) : L_(L) {}
  ~StateCloser() {
    if (L_ != nullptr) lua_close(L_);
  }
  StateCloser(const StateCloser&) = delete;
  StateCloser& operator=(const StateCloser&) = delete;

 private:
  lua_State* L_;
};

}  // namespace

std::string ScriptSha1Hex(absl::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const int ok = EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha1(), nullptr);
  if (ok != 1 || length != 20) return std::string(40, '0');
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(40);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

namespace {

// Redis's sdssplitargs: words separated by white space, "double quoted" with C escapes
// (\n \r \t \b \a \xHH, any other escaped byte as itself) and 'single quoted' (\'
// only); a closing quote must end its word. nullopt for unbalanced quotes.
std::optional<std::vector<std::string>> SplitArgs(absl::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  auto space = [](char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
  };
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (true) {
    while (i < line.size() && space(line[i])) ++i;
    if (i >= line.size()) return words;
    std::string word;
    bool in_double = false;
    bool in_single = false;
    while (true) {
      if (in_double) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' && hex(line[i + 2]) >= 0 &&
            hex(line[i + 3]) >= 0) {
          word.push_back(static_cast<char>(hex(line[i + 2]) * 16 + hex(line[i + 3])));
          i += 4;
          continue;
        }
        if (line[i] == '\\' && i + 1 < line.size()) {
          const char c = line[i + 1];
          word.push_back(c == 'n'   ? '\n'
                         : c == 'r' ? '\r'
                         : c == 't' ? '\t'
                         : c == 'b' ? '\b'
                         : c == 'a' ? '\a'
                                    : c);
          i += 2;
          continue;
        }
        if (line[i] == '"') {
          ++i;
          if (i < line.size() && !space(line[i])) return std::nullopt;
          break;
        }
        word.push_back(line[i++]);
      } else if (in_single) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          word.push_back('\'');
          i += 2;
          continue;
        }
        if (line[i] == '\'') {
          ++i;
          if (i < line.size() && !space(line[i])) return std::nullopt;
          break;
        }
        word.push_back(line[i++]);
      } else {
        if (i >= line.size() || space(line[i])) break;
        if (line[i] == '"') {
          in_double = true;
          ++i;
        } else if (line[i] == '\'') {
          in_single = true;
          ++i;
        } else {
          word.push_back(line[i++]);
        }
      }
    }
    words.push_back(std::move(word));
  }
}

}  // namespace

absl::StatusOr<ScriptShebang> ParseScriptShebang(absl::string_view body) {
  ScriptShebang shebang;
  if (!absl::StartsWith(body, "#!")) return shebang;
  const size_t end = body.find('\n');
  if (end == absl::string_view::npos) {
    return absl::InvalidArgumentError("ERR Invalid script shebang");
  }
  // Redis's sdssplitargs reads the line as a C string: it ends at a NUL byte.
  absl::string_view line = body.substr(0, end);
  line = line.substr(0, std::min(line.size(), line.find('\0')));
  std::optional<std::vector<std::string>> parts = SplitArgs(line);
  if (!parts.has_value() || parts->empty()) {
    return absl::InvalidArgumentError("ERR Invalid engine in script shebang");
  }
  if ((*parts)[0] != "#!lua") {
    return absl::InvalidArgumentError(
        absl::StrCat("ERR Unexpected engine in script shebang: ", (*parts)[0]));
  }
  static constexpr absl::string_view kFlags[] = {"no-writes", "allow-oom", "allow-stale",
                                                 "no-cluster", "allow-cross-slot-keys"};
  for (size_t j = 1; j < parts->size(); ++j) {
    const std::string& part = (*parts)[j];
    if (!absl::StartsWith(part, "flags=")) {
      return absl::InvalidArgumentError(absl::StrCat("ERR Unknown lua shebang option: ", part));
    }
    // Redis splits the list on every comma (an empty list is no flag at all).
    const absl::string_view list = absl::string_view(part).substr(6);
    if (list.empty()) continue;
    for (absl::string_view flag : absl::StrSplit(list, ',')) {
      if (std::find(std::begin(kFlags), std::end(kFlags), flag) == std::end(kFlags)) {
        return absl::InvalidArgumentError(
            absl::StrCat("ERR Unexpected flag in script shebang: ", flag));
      }
      if (flag == "no-writes") shebang.no_writes = true;
    }
  }
  shebang.present = true;
  shebang.length = end;
  return shebang;
}

std::string ScriptCompileError(absl::string_view body) {
  absl::StatusOr<ScriptShebang> shebang = ParseScriptShebang(body);
  if (!shebang.ok()) return std::string(shebang.status().message());
  body.remove_prefix(shebang->length);
  RunContext context;
  lua_State* L = lua_newstate(Allocate, &context);
  if (L == nullptr) return "ERR Error compiling script (new function): no memory for Lua";
  StateCloser closer(L);
  if (LoadBufferSourceOnly(L, body.data(), body.size(), "@user_script") == 0) return "";
  return OneLine(absl::StrCat("ERR Error compiling script (new function): ",
                              lua_isstring(L, -1) ? lua_tostring(L, -1) : "unknown error"));
}

namespace {

// The error a library's top level raised (no handler: Redis 7.0 runs it without one), as
// luaExtractErrorInformation reads it.
std::string LoadErrorText(lua_State* L) {
  if (lua_isstring(L, -1)) return absl::StrCat("ERR ", lua_tostring(L, -1));
  if (lua_istable(L, -1)) {
    if (std::optional<std::string> err = StringField(L, lua_gettop(L), "err", /*strict=*/false)) {
      return *err;
    }
  }
  return "ERR unknown error";
}

// Compiles and runs a library's top level in L (SetUpEnvironment done in function mode),
// recording what it registers in context->registered: the error reply text, or empty.
std::string LoadLibrary(lua_State* L, RunContext* context, absl::string_view code,
                        const LibraryMetadata& metadata, uint64_t max_instructions,
                        size_t max_memory_bytes) {
  const absl::string_view source = code.substr(metadata.code_offset);
  if (LoadBufferSourceOnly(L, source.data(), source.size(), "@user_function") != 0) {
    return OneLine(absl::StrCat("ERR Error compiling function: ",
                                lua_isstring(L, -1) ? lua_tostring(L, -1) : "unknown error"));
  }
  context->loading = true;
  context->instructions = 0;
  context->max_instructions = max_instructions;
  context->memory_limit = context->memory_used + max_memory_bytes;
  lua_sethook(L, InstructionHook, LUA_MASKCOUNT, kHookEveryInstructions);
  const int status = lua_pcall(L, 0, 0, 0);
  lua_sethook(L, nullptr, 0, 0);
  context->memory_limit = std::numeric_limits<size_t>::max();
  context->loading = false;
  context->over_instruction_limit = false;
  if (status != 0) {
    return OneLine(absl::StrCat("ERR Error registering functions: ", LoadErrorText(L)));
  }
  lua_settop(L, 0);
  return "";
}

}  // namespace

absl::StatusOr<LibraryMetadata> ParseLibraryMetadata(absl::string_view code) {
  // Redis reads the code as a C string here: it ends at a NUL byte.
  const absl::string_view text = code.substr(0, std::min(code.size(), code.find('\0')));
  if (!absl::StartsWith(text, "#!"))
    return absl::InvalidArgumentError("ERR Missing library metadata");
  const size_t end = text.find('\n');
  if (end == absl::string_view::npos) {
    return absl::InvalidArgumentError("ERR Invalid library metadata");
  }
  std::optional<std::vector<std::string>> parts = SplitArgs(text.substr(0, end));
  if (!parts.has_value() || parts->empty()) {
    return absl::InvalidArgumentError("ERR Invalid library metadata");
  }
  LibraryMetadata metadata;
  metadata.engine = (*parts)[0].substr(2);
  bool named = false;
  for (size_t i = 1; i < parts->size(); ++i) {
    const std::string& part = (*parts)[i];
    if (absl::StartsWithIgnoreCase(part, "name=")) {
      if (named) {
        return absl::InvalidArgumentError(
            "ERR Invalid metadata value, name argument was given multiple times");
      }
      metadata.name = part.substr(5);
      named = true;
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat("ERR Invalid metadata value given: ", part));
  }
  if (!named) return absl::InvalidArgumentError("ERR Library name was not given");
  if (!ValidFunctionName(metadata.name)) {
    return absl::InvalidArgumentError(
        "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
        "least one character long");
  }
  if (!absl::EqualsIgnoreCase(metadata.engine, "lua")) {
    return absl::InvalidArgumentError(absl::StrCat("ERR Engine '", metadata.engine, "' not found"));
  }
  metadata.code_offset = end;
  return metadata;
}

absl::StatusOr<std::vector<LuaFunctionInfo>> LoadLibraryFunctions(absl::string_view code,
                                                                  uint64_t max_instructions) {
  absl::StatusOr<LibraryMetadata> metadata = ParseLibraryMetadata(code);
  if (!metadata.ok()) return metadata.status();
  RunContext context;
  lua_State* L = lua_newstate(Allocate, &context);
  if (L == nullptr) return absl::ResourceExhaustedError("lua: cannot create a state");
  StateCloser closer(L);
  redis_core::RedisRequest::Script script;
  script.function = "load";
  SetUpEnvironment(L, script);
  std::vector<LuaFunctionInfo> registered;
  context.registered = &registered;
  std::string error =
      LoadLibrary(L, &context, code, *metadata, max_instructions, kDefaultMaxScriptMemoryBytes);
  if (!error.empty()) return absl::InvalidArgumentError(error);
  if (registered.empty()) return absl::InvalidArgumentError("ERR No functions registered");
  return registered;
}

std::vector<std::string> FunctionFlagNames(uint32_t flags) {
  std::vector<std::string> names;
  for (size_t i = 0; i < std::size(kFunctionFlagNames); ++i) {
    if ((flags & (1u << i)) != 0) names.emplace_back(kFunctionFlagNames[i]);
  }
  return names;
}

absl::StatusOr<Reply> LuaScriptRunner::Run(const redis_core::RedisRequest::Script& script,
                                           redis_core::ScriptCalls& calls) const {
  RunContext context;
  context.calls = &calls;
  context.max_instructions = options_.max_instructions;
  // Seeded from the request (ScriptCalls::random_seed): replicas draw the same numbers,
  // two scripts different ones.
  Srand48(&context, static_cast<int32_t>(calls.random_seed()));
  lua_State* L = lua_newstate(Allocate, &context);
  if (L == nullptr) return absl::ResourceExhaustedError("lua: cannot create a state");
  StateCloser closer(L);
  SetUpEnvironment(L, script);
  int status = 0;
  std::string label;  // who an error names: the script's SHA, or the function
  if (script.function.empty()) {
    label = ScriptSha1Hex(script.body);
    // The front door refused a bad shebang; a request carrying one anyway answers the same.
    absl::StatusOr<ScriptShebang> shebang = ParseScriptShebang(script.body);
    if (!shebang.ok()) return Reply::Error(shebang.status().message());
    context.no_writes = shebang->no_writes;
    const absl::string_view source = absl::string_view(script.body).substr(shebang->length);

    lua_pushcfunction(L, ErrorHandler);
    const int handler = lua_gettop(L);
    if (LoadBufferSourceOnly(L, source.data(), source.size(), "@user_script") != 0) {
      return Reply::Error(
          OneLine(absl::StrCat("ERR Error compiling script (new function): ",
                               lua_isstring(L, -1) ? lua_tostring(L, -1) : "unknown error")));
    }
    context.memory_limit = context.memory_used + options_.max_memory_bytes;
    lua_sethook(L, InstructionHook, LUA_MASKCOUNT, kHookEveryInstructions);
    status = lua_pcall(L, 0, 1, handler);
  } else {
    // FCALL: the library loads in this fresh state (as FUNCTION LOAD checked it at the front
    // door: the same code loads the same way on every replica), then the function runs with
    // its keys and arguments as its two arguments.
    label = script.function;
    absl::StatusOr<LibraryMetadata> metadata = ParseLibraryMetadata(script.body);
    if (!metadata.ok()) return Reply::Error(metadata.status().message());
    std::vector<LuaFunctionInfo> registered;
    context.registered = &registered;
    std::string error = LoadLibrary(L, &context, script.body, *metadata,
                                    kDefaultMaxLoadInstructions, options_.max_memory_bytes);
    context.registered = nullptr;
    if (!error.empty()) return Reply::Error(error);
    auto function =
        std::find_if(registered.begin(), registered.end(),
                     [&](const LuaFunctionInfo& f) { return f.name == script.function; });
    if (function == registered.end()) return Reply::Error("ERR Function not found");
    context.no_writes = (function->flags & kFunctionFlagNoWrites) != 0;
    lua_pushcfunction(L, ErrorHandler);
    const int handler = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, kFunctionsRegistryKey);
    lua_pushlstring(L, script.function.data(), script.function.size());
    lua_rawget(L, -2);
    lua_remove(L, -2);
    PushStringArray(L, script.keys);
    PushStringArray(L, script.args);
    context.instructions = 0;
    context.max_instructions = options_.max_instructions;
    context.memory_limit = context.memory_used + options_.max_memory_bytes;
    lua_sethook(L, InstructionHook, LUA_MASKCOUNT, kHookEveryInstructions);
    status = lua_pcall(L, 2, 1, handler);
  }
  lua_sethook(L, nullptr, 0, 0);
  context.memory_limit = std::numeric_limits<size_t>::max();
  if (!context.abort.ok()) return context.abort;
  if (status != 0) return ErrorReply(L, status, label);
  ReplyBudget budget{.left = kMaxReplyMemoryFactor * options_.max_memory_bytes};
  std::optional<Reply> reply = ToReply(L, -1, 0, context.resp, &budget);
  if (budget.exceeded) {
    return Reply::Error(absl::StrCat(
        "ERR the script's reply is too large: more than ", kMaxReplyMemoryFactor,
        " times the script memory limit (ekv bounds what a script's tables expand into)"));
  }
  if (!reply.has_value()) return Reply::Error("ERR reached lua stack limit");
  return *std::move(reply);
}

}  // namespace ekv::redis
