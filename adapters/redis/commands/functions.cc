// Redis 7 functions: FUNCTION (LOAD, DELETE, FLUSH, LIST, STATS, DUMP, RESTORE, KILL, HELP),
// FCALL and FCALL_RO.
//
// The libraries are one replicated record (functions_registry.h). A change (LOAD, DELETE,
// FLUSH, RESTORE) reads the record at a linearizable read point, decides against it as
// Redis 7.0.15 does (its errors, in its order), and writes the next record with
// `ekv-functions-cas`, which lands only if nothing changed the record since the read (else
// the change starts over). FCALL reads the record the same way, finds the function's library
// and sends its code in the script request (RedisRequest::Script::function), routed and run
// like EVAL (commands/scripting.cc): one Raft entry in the group of its first key, every
// replica loading the library in a fresh Lua state and calling the function.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/functions_registry.h"
#include "adapters/redis/lua/lua_script_runner.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/resp_writer.h"
#include "core/redis/executor.h"
#include "core/redis/glob.h"
#include "core/redis/numbers.h"
#include "core/redis/rdb_payload.h"

namespace ekv::redis {
namespace {

using redis_core::Reply;
using Libraries = std::map<std::string, FunctionLibrary>;

// Where a function call that declares no key runs: the key EVAL uses (scripting.cc).
constexpr absl::string_view kKeylessScriptRoutingKey = "ekv:script";
// How often a registry change starts over when another change landed between its read and
// its write, before answering TRYAGAIN.
constexpr int kMaxRegistryAttempts = 64;
// RDB_OPCODE_FUNCTION2: the opcode before each library in FUNCTION DUMP's payload.
constexpr uint8_t kRdbOpcodeFunction2 = 245;
constexpr uint8_t kRdbOpcodeFunction = 246;  // the 7.0 release candidates' form

using RegistryDone = std::function<void(absl::StatusOr<FunctionsRegistry>)>;

// Reads the registry at a linearizable read point.
void ReadRegistry(RedisBackend* backend, RegistryDone done) {
  backend->Execute(MakeRedisRequest({"get", FunctionsRegistryKey()}), /*write=*/false,
                   [done = std::move(done)](absl::StatusOr<Reply> r) {
                     if (!r.ok()) return done(r.status());
                     if (r->kind == Reply::Kind::kError) {
                       return done(absl::InternalError(r->text));
                     }
                     std::optional<std::string> value;
                     if (r->kind == Reply::Kind::kBulk) value = r->text;
                     done(DecodeFunctionsRegistry(value));
                   });
}

// What a registry change decided: its reply, and the libraries to write (none: nothing
// changes, the reply goes out as it is).
struct Change {
  Reply reply;
  std::optional<Libraries> next;
};
using ChangeFn = std::function<Change(const FunctionsRegistry&)>;
using ReplyDone = std::function<void(absl::StatusOr<Reply>)>;

void ChangeRegistry(RedisBackend* backend, std::shared_ptr<ChangeFn> change, int attempt,
                    ReplyDone done) {
  ReadRegistry(backend, [backend, change, attempt,
                         done = std::move(done)](absl::StatusOr<FunctionsRegistry> registry) {
    if (!registry.ok()) return done(registry.status());
    Change decided = (*change)(*registry);
    if (!decided.next.has_value()) return done(std::move(decided.reply));
    backend->Execute(
        MakeRedisRequest({std::string(redis_core::kFunctionsCasCommand), FunctionsRegistryKey(),
                          absl::StrCat(registry->version), EncodeFunctionLibraries(*decided.next)}),
        /*write=*/true,
        [backend, change, attempt, reply = std::move(decided.reply),
         done = std::move(done)](absl::StatusOr<Reply> r) mutable {
          if (!r.ok()) return done(r.status());
          if (r->kind == Reply::Kind::kError) return done(std::move(*r));
          if (r->kind == Reply::Kind::kInteger && r->integer == 1) return done(std::move(reply));
          if (attempt + 1 >= kMaxRegistryAttempts) {
            return done(absl::UnavailableError(
                "the functions registry changed under every attempt to change it"));
          }
          ChangeRegistry(backend, change, attempt + 1, std::move(done));
        });
  });
}

void AnswerChange(CommandContext& context, ChangeFn change) {
  ChangeRegistry(context.backend, std::make_shared<ChangeFn>(std::move(change)), 0,
                 [reply = std::move(context.reply),
                  protocol = context.connection->protocol](absl::StatusOr<Reply> r) {
                   if (!r.ok()) return reply(BackendErrorReply(r.status()));
                   reply(EncodeReplyFor(protocol, *r));
                 });
}

// The functions a library registered, as the registry keeps them (by name).
std::vector<RegisteredFunction> Registered(std::vector<LuaFunctionInfo> loaded) {
  std::map<std::string, RegisteredFunction> by_name;
  for (LuaFunctionInfo& f : loaded) {
    by_name[f.name] = RegisteredFunction{f.name, std::move(f.description), f.flags};
  }
  std::vector<RegisteredFunction> out;
  for (auto& [name, f] : by_name) out.push_back(std::move(f));
  return out;
}

// A library checked by Lua, or the error Redis answers for its code.
struct CheckedLibrary {
  std::optional<std::string> error;       // from the metadata (checked before the registry)
  std::optional<std::string> load_error;  // from loading it (checked after "already exists")
  FunctionLibrary library;
};

CheckedLibrary CheckLibrary(const std::string& code) {
  CheckedLibrary out;
  absl::StatusOr<LibraryMetadata> metadata = ParseLibraryMetadata(code);
  if (!metadata.ok()) {
    out.error = std::string(metadata.status().message());
    return out;
  }
  out.library.name = metadata->name;
  out.library.code = code;
  absl::StatusOr<std::vector<LuaFunctionInfo>> functions = LoadLibraryFunctions(code);
  if (!functions.ok()) {
    out.load_error = std::string(functions.status().message());
  } else {
    out.library.functions = Registered(*std::move(functions));
  }
  return out;
}

// A function of `library` that another library of `libraries` (not `except`) has, its name
// compared without case as Redis 7.0's function dict does: its name.
std::optional<std::string> FunctionCollision(const Libraries& libraries,
                                             const FunctionLibrary& library,
                                             absl::string_view except) {
  for (const RegisteredFunction& f : library.functions) {
    for (const auto& [name, other] : libraries) {
      if (name == except) continue;
      for (const RegisteredFunction& g : other.functions) {
        if (absl::EqualsIgnoreCase(g.name, f.name)) return f.name;
      }
    }
  }
  return std::nullopt;
}

void FunctionLoad(CommandContext& context) {
  const std::vector<std::string>& args = context.args;
  bool replace = false;
  size_t position = 2;
  while (position < args.size() - 1) {
    const std::string& option = args[position++];
    if (absl::EqualsIgnoreCase(option, "replace")) {
      replace = true;
      continue;
    }
    return context.reply(ErrorReply(absl::StrCat("ERR Unknown option given: ", option)));
  }
  if (position >= args.size()) return context.reply(ErrorReply("ERR Function code is missing"));
  auto checked = std::make_shared<CheckedLibrary>(CheckLibrary(args[position]));
  if (checked->error.has_value()) return context.reply(ErrorReply(*checked->error));
  AnswerChange(context, [checked, replace](const FunctionsRegistry& registry) -> Change {
    const FunctionLibrary& library = checked->library;
    if (!replace && registry.libraries.count(library.name) != 0) {
      return {Reply::Error(absl::StrCat("ERR Library '", library.name, "' already exists")), {}};
    }
    if (checked->load_error.has_value()) return {Reply::Error(*checked->load_error), {}};
    if (std::optional<std::string> f =
            FunctionCollision(registry.libraries, library, library.name)) {
      return {Reply::Error(absl::StrCat("ERR Function ", *f, " already exists")), {}};
    }
    Libraries next = registry.libraries;
    next[library.name] = library;
    return {Reply::Bulk(library.name), std::move(next)};
  });
}

void FunctionDelete(CommandContext& context) {
  const std::string name = context.args[2];
  AnswerChange(context, [name](const FunctionsRegistry& registry) -> Change {
    if (registry.libraries.count(name) == 0) return {Reply::Error("ERR Library not found"), {}};
    Libraries next = registry.libraries;
    next.erase(name);
    return {Reply::Ok(), std::move(next)};
  });
}

std::string SubcommandSyntaxError(const std::vector<std::string>& args) {
  return ErrorReply(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                 absl::string_view(args[1]).substr(0, 128),
                                 "'. Try FUNCTION HELP."));
}

void FunctionFlush(CommandContext& context) {
  const std::vector<std::string>& args = context.args;
  if (args.size() > 3) return context.reply(SubcommandSyntaxError(args));
  if (args.size() == 3 && !absl::EqualsIgnoreCase(args[2], "sync") &&
      !absl::EqualsIgnoreCase(args[2], "async")) {
    return context.reply(ErrorReply("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
  }
  AnswerChange(context, [](const FunctionsRegistry& registry) -> Change {
    if (registry.libraries.empty()) return {Reply::Ok(), {}};
    return {Reply::Ok(), Libraries{}};
  });
}

Reply LibraryReply(const FunctionLibrary& library, bool with_code) {
  std::vector<Reply> functions;
  for (const RegisteredFunction& f : library.functions) {
    std::vector<Reply> flags;
    for (const std::string& flag : FunctionFlagNames(f.flags)) flags.push_back(Reply::Status(flag));
    functions.push_back(
        Reply::Map({Reply::Bulk("name"), Reply::Bulk(f.name), Reply::Bulk("description"),
                    f.description.has_value() ? Reply::Bulk(*f.description) : Reply::Nil(),
                    Reply::Bulk("flags"), Reply::Set(std::move(flags))}));
  }
  std::vector<Reply> fields = {Reply::Bulk("library_name"), Reply::Bulk(library.name),
                               Reply::Bulk("engine"),       Reply::Bulk("LUA"),
                               Reply::Bulk("functions"),    Reply::Array(std::move(functions))};
  if (with_code) {
    fields.push_back(Reply::Bulk("library_code"));
    fields.push_back(Reply::Bulk(library.code));
  }
  return Reply::Map(std::move(fields));
}

void AnswerWithRegistry(CommandContext& context,
                        std::function<Reply(const FunctionsRegistry&)> answer) {
  ReadRegistry(context.backend,
               [reply = std::move(context.reply), protocol = context.connection->protocol,
                answer = std::move(answer)](absl::StatusOr<FunctionsRegistry> registry) {
                 if (!registry.ok()) return reply(BackendErrorReply(registry.status()));
                 reply(EncodeReplyFor(protocol, answer(*registry)));
               });
}

void FunctionList(CommandContext& context) {
  const std::vector<std::string>& args = context.args;
  bool with_code = false;
  std::optional<std::string> pattern;
  for (size_t i = 2; i < args.size(); ++i) {
    if (!with_code && absl::EqualsIgnoreCase(args[i], "withcode")) {
      with_code = true;
      continue;
    }
    if (!pattern.has_value() && absl::EqualsIgnoreCase(args[i], "libraryname")) {
      if (i >= args.size() - 1) {
        return context.reply(ErrorReply("ERR library name argument was not given"));
      }
      pattern = args[++i];
      continue;
    }
    return context.reply(ErrorReply(absl::StrCat("ERR Unknown argument ", args[i])));
  }
  AnswerWithRegistry(context, [with_code, pattern](const FunctionsRegistry& registry) {
    std::vector<Reply> libraries;
    for (const auto& [name, library] : registry.libraries) {
      if (pattern.has_value() &&
          !redis_core::GlobMatch(absl::AsciiStrToLower(*pattern), absl::AsciiStrToLower(name))) {
        continue;
      }
      libraries.push_back(LibraryReply(library, with_code));
    }
    return Reply::Array(std::move(libraries));
  });
}

void FunctionStats(CommandContext& context) {
  AnswerWithRegistry(context, [](const FunctionsRegistry& registry) {
    return Reply::Map(
        {Reply::Bulk("running_script"), Reply::Nil(), Reply::Bulk("engines"),
         Reply::Map(
             {Reply::Bulk("LUA"),
              Reply::Map({Reply::Bulk("libraries_count"),
                          Reply::Integer(static_cast<int64_t>(registry.libraries.size())),
                          Reply::Bulk("functions_count"),
                          Reply::Integer(static_cast<int64_t>(registry.function_count()))})})});
  });
}

// FUNCTION DUMP's payload: each library as RDB_OPCODE_FUNCTION2 and its code as an RDB
// string, then the RDB version and the CRC-64, as Redis's functionDumpCommand writes it.
std::string DumpPayload(const FunctionsRegistry& registry) {
  std::string out;
  for (const auto& [name, library] : registry.libraries) {
    out.push_back(static_cast<char>(kRdbOpcodeFunction2));
    redis_core::AppendRdbString(&out, library.code);
  }
  out.push_back(static_cast<char>(redis_core::kRdbVersion & 0xff));
  out.push_back(static_cast<char>(redis_core::kRdbVersion >> 8));
  const uint64_t crc = redis_core::Crc64Jones(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

void FunctionDump(CommandContext& context) {
  AnswerWithRegistry(context, [](const FunctionsRegistry& registry) {
    return Reply::Bulk(DumpPayload(registry));
  });
}

enum class RestorePolicy { kAppend, kReplace, kFlush };

// The libraries of a FUNCTION RESTORE payload, each checked as FUNCTION LOAD checks one
// (rdbFunctionLoad into a fresh library set: a name or function twice is an error), or
// the error reply text.
absl::StatusOr<Libraries> PayloadLibraries(absl::string_view payload) {
  Libraries libraries;
  absl::string_view rest = payload.substr(0, payload.size() - 10);
  while (!rest.empty()) {
    const uint8_t type = static_cast<uint8_t>(rest[0]);
    rest.remove_prefix(1);
    if (type != kRdbOpcodeFunction2) {
      return absl::InvalidArgumentError(type == kRdbOpcodeFunction
                                            ? "ERR failed loading the given functions payload"
                                            : "ERR given type is not a function");
    }
    absl::StatusOr<std::string> code = redis_core::ReadRdbString(&rest);
    if (!code.ok()) return absl::InvalidArgumentError("ERR Failed loading library payload");
    CheckedLibrary checked = CheckLibrary(*code);
    if (checked.error.has_value()) return absl::InvalidArgumentError(*checked.error);
    if (libraries.count(checked.library.name) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ERR Library '", checked.library.name, "' already exists"));
    }
    if (checked.load_error.has_value()) return absl::InvalidArgumentError(*checked.load_error);
    if (std::optional<std::string> f = FunctionCollision(libraries, checked.library, "")) {
      return absl::InvalidArgumentError(absl::StrCat("ERR Function ", *f, " already exists"));
    }
    libraries[checked.library.name] = std::move(checked.library);
  }
  return libraries;
}

void FunctionRestore(CommandContext& context) {
  const std::vector<std::string>& args = context.args;
  if (args.size() > 4) return context.reply(SubcommandSyntaxError(args));
  RestorePolicy policy = RestorePolicy::kAppend;
  if (args.size() == 4) {
    if (absl::EqualsIgnoreCase(args[3], "append")) {
      policy = RestorePolicy::kAppend;
    } else if (absl::EqualsIgnoreCase(args[3], "replace")) {
      policy = RestorePolicy::kReplace;
    } else if (absl::EqualsIgnoreCase(args[3], "flush")) {
      policy = RestorePolicy::kFlush;
    } else {
      return context.reply(ErrorReply(
          "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."));
    }
  }
  if (!redis_core::VerifyDumpPayload(args[2])) {
    return context.reply(ErrorReply("ERR DUMP payload version or checksum are wrong"));
  }
  absl::StatusOr<Libraries> restored = PayloadLibraries(args[2]);
  if (!restored.ok()) return context.reply(ErrorReply(restored.status().message()));
  auto libraries = std::make_shared<Libraries>(*std::move(restored));
  AnswerChange(context, [libraries, policy](const FunctionsRegistry& registry) -> Change {
    if (policy == RestorePolicy::kFlush) return {Reply::Ok(), *libraries};
    Libraries next = registry.libraries;
    for (const auto& [name, library] : *libraries) {
      if (next.count(name) == 0) continue;
      if (policy == RestorePolicy::kAppend) {
        return {Reply::Error(absl::StrCat("ERR Library ", name, " already exists")), {}};
      }
      next.erase(name);
    }
    for (const auto& [name, library] : *libraries) {
      if (std::optional<std::string> f = FunctionCollision(next, library, "")) {
        return {Reply::Error(absl::StrCat("ERR Function ", *f, " already exists")), {}};
      }
    }
    for (const auto& [name, library] : *libraries) next[name] = library;
    return {Reply::Ok(), std::move(next)};
  });
}

Reply FunctionHelp() {
  static constexpr absl::string_view kHelp[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using LIBRARYNAME "
      "argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, can be restored "
      "using FUNCTION RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is possible to give a "
      "restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
      "abort.",
      "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
      "replace the old",
      "      libraries with the new libraries (notice that even on this option there is a "
      "chance of failure",
      "      in case of functions name collision with another library).",
      "HELP",
      "    Prints this help.",
  };
  std::vector<Reply> lines;
  for (absl::string_view line : kHelp) lines.push_back(Reply::Status(line));
  return Reply::Array(std::move(lines));
}

// FCALL / FCALL_RO name numkeys key... arg...
void FunctionCall(CommandContext context, bool read_only) {
  RedisBackend* backend = context.backend;
  auto shared = std::make_shared<CommandContext>(std::move(context));
  ReadRegistry(backend, [shared, read_only](absl::StatusOr<FunctionsRegistry> registry) {
    CommandContext& context = *shared;
    const std::vector<std::string>& args = context.args;
    if (!registry.ok()) return context.reply(BackendErrorReply(registry.status()));
    const RegisteredFunction* function = nullptr;
    const FunctionLibrary* library = registry->FindFunction(args[1], &function);
    if (library == nullptr) return context.reply(ErrorReply("ERR Function not found"));
    std::optional<int64_t> numkeys = redis_core::ParseInt64(args[2]);
    if (!numkeys.has_value()) return context.reply(ErrorReply("ERR Bad number of keys provided"));
    if (*numkeys > static_cast<int64_t>(args.size()) - 3) {
      return context.reply(ErrorReply("ERR Number of keys can't be greater than number of args"));
    }
    if (*numkeys < 0) return context.reply(ErrorReply("ERR Number of keys can't be negative"));
    const bool no_writes = (function->flags & kFunctionFlagNoWrites) != 0;
    if (read_only && !no_writes) {
      return context.reply(
          ErrorReply("ERR Can not execute a script with write flag using *_ro command."));
    }
    redis_core::RedisRequest::Script script;
    script.body = library->code;
    script.function = function->name;
    script.read_only = read_only || no_writes;
    const size_t first_arg = 3 + static_cast<size_t>(*numkeys);
    script.keys.assign(args.begin() + 3, args.begin() + first_arg);
    script.args.assign(args.begin() + first_arg, args.end());

    redis_core::RedisRequest request;
    request.routing_key =
        script.keys.empty() ? std::string(kKeylessScriptRoutingKey) : script.keys.front();
    request.now_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
    request.seed = NextRequestSeed();
    const bool write = !script.read_only;
    request.script = std::move(script);
    request.user_acl = UserAclRules(*context.connection);
    context.backend->Execute(
        std::move(request), write,
        [reply = std::move(context.reply), protocol = context.connection->protocol,
         server = context.connection->server, id = context.connection->id,
         user = context.connection->user,
         command = absl::AsciiStrToLower(args[0])](absl::StatusOr<Reply> r) mutable {
          if (!r.ok()) return reply(BackendErrorReply(r.status()));
          LogScriptAclDenials(server, id, std::move(user), std::move(command), r->TakeAclDenials());
          reply(EncodeReplyFor(protocol, *r));
        });
  });
}

}  // namespace

void FunctionCommand(CommandContext context) {
  const std::string sub = absl::AsciiStrToLower(context.args[1]);
  if (sub == "load") return FunctionLoad(context);
  if (sub == "delete") return FunctionDelete(context);
  if (sub == "flush") return FunctionFlush(context);
  if (sub == "list") return FunctionList(context);
  if (sub == "stats") return FunctionStats(context);
  if (sub == "dump") return FunctionDump(context);
  if (sub == "restore") return FunctionRestore(context);
  if (sub == "kill") return context.reply(ErrorReply("NOTBUSY No scripts in execution right now."));
  if (sub == "help") {
    return context.reply(EncodeReplyFor(context.connection->protocol, FunctionHelp()));
  }
  context.reply(UnknownSubcommandReply(context.args[1], "FUNCTION"));
}

void FcallCommand(CommandContext context) { FunctionCall(std::move(context), false); }
void FcallRoCommand(CommandContext context) { FunctionCall(std::move(context), true); }

std::vector<CommandSpec> FunctionCommandSpecs() {
  // Redis 7.0's flags: FCALL and FCALL_RO as EVAL (noscript, stale, skip_monitor,
  // no_mandatory_keys, movablekeys).
  constexpr uint32_t kScript =
      kFlagNoScript | kFlagStale | kFlagSkipMonitor | kFlagNoMandatoryKeys | kFlagMovableKeys;
  return {
      {"fcall",
       -3,
       kScript,
       0,
       0,
       0,
       "scripting",
       "7.0.0",
       "Invoke a function",
       {"@slow", "@scripting"},
       &FcallCommand,
       "",
       "RW access update|i2|n0,1,1|We cannot tell how the keys will be used so we assume the "
       "worst, RW and UPDATE",
       "Depends on the function that is executed.",
       "",
       ""},
      {"fcall_ro",
       -3,
       kScript | kFlagReadOnly,
       0,
       0,
       0,
       "scripting",
       "7.0.0",
       "Invoke a read-only function",
       {"@slow", "@scripting"},
       &FcallRoCommand,
       "",
       "RO access|i2|n0,1,1|We cannot tell how the keys will be used so we assume the worst, RO "
       "and ACCESS",
       "Depends on the function that is executed.",
       "",
       ""},
      {"function",
       -2,
       0,
       0,
       0,
       0,
       "scripting",
       "7.0.0",
       "A container for function commands",
       {"@slow"},
       &FunctionCommand,
       "",
       "",
       "Depends on subcommand.",
       "",
       ""},
  };
}

}  // namespace ekv::redis
