// LuaScriptRunner (adapters/redis/lua) against a fake ScriptCalls: the Lua <-> reply
// conversions of Redis 7.0, the script API (redis.call/pcall/error_reply/status_reply/
// sha1hex/log), the protected globals, the command checks, the deterministic random
// sequence and the instruction and memory limits.
#include "adapters/redis/lua/lua_script_runner.h"

#include <malloc.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
// Replies print readably in failures.
void PrintTo(const Reply& reply, std::ostream* os) { *os << DebugString(reply); }
}  // namespace ekv::redis_core

namespace ekv::redis {
namespace {

using redis_core::Reply;

// Answers each command name with a canned reply and records what was called.
class FakeCalls final : public redis_core::ScriptCalls {
 public:
  absl::StatusOr<Reply> Call(const std::vector<std::string>& args) override {
    calls.push_back(absl::StrJoin(args, " "));
    if (!fail.ok()) return fail;
    auto it = replies.find(args[0]);
    if (it == replies.end()) return Reply::Error("ERR fake has no reply for " + args[0]);
    return it->second;
  }
  bool read_only() const override { return false; }
  absl::string_view user_acl() const override { return acl; }
  uint32_t random_seed() const override { return seed; }

  std::map<std::string, Reply> replies;
  uint32_t seed = 0;  // math.random's seed for the script
  std::string acl;    // the calling user's rules (empty: allowed everything)
  std::vector<std::string> calls;
  absl::Status fail;
};

class LuaRunnerTest : public ::testing::Test {
 protected:
  Reply Run(const std::string& body, std::vector<std::string> keys = {},
            std::vector<std::string> args = {}) {
    redis_core::RedisRequest::Script script;
    script.body = body;
    script.keys = std::move(keys);
    script.args = std::move(args);
    absl::StatusOr<Reply> reply = runner_.Run(script, calls_);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : Reply::Error("<status>");
  }
  // The suffix Redis 7.0 appends to a raised error.
  static std::string At(const std::string& body, int line = 1) {
    return " script: " + ScriptSha1Hex(body) + ", on @user_script:" + std::to_string(line) + ".";
  }

  LuaScriptRunner runner_;
  FakeCalls calls_;
};

TEST_F(LuaRunnerTest, LuaValuesBecomeReplies) {
  EXPECT_EQ(Run("return 1"), Reply::Integer(1));
  EXPECT_EQ(Run("return 'x'"), Reply::Bulk("x"));
  EXPECT_EQ(Run("return 3.9"), Reply::Integer(3));
  EXPECT_EQ(Run("return -3.7"), Reply::Integer(-3));
  EXPECT_EQ(Run("return 1e20"), Reply::Integer(INT64_MIN));
  EXPECT_EQ(Run("return true"), Reply::Integer(1));
  EXPECT_EQ(Run("return false"), Reply::Nil());
  EXPECT_EQ(Run("return nil"), Reply::Nil());
  // Arrays stop at the first nil; nesting is kept.
  EXPECT_EQ(Run("return {1, 2, nil, 3}"), Reply::Array({Reply::Integer(1), Reply::Integer(2)}));
  EXPECT_EQ(Run("return {1, 'a', {2, {3}}, true, false}"),
            Reply::Array({Reply::Integer(1), Reply::Bulk("a"),
                          Reply::Array({Reply::Integer(2), Reply::Array({Reply::Integer(3)})}),
                          Reply::Integer(1), Reply::Nil()}));
  EXPECT_EQ(Run("return {ok='fine'}"), Reply::Status("fine"));
  EXPECT_EQ(Run("return {err='bad thing'}"), Reply::Error("bad thing"));
  EXPECT_EQ(Run("return redis.error_reply('My err')"), Reply::Error("My err"));
  EXPECT_EQ(Run("return redis.error_reply('-My err')"), Reply::Error("My err"));
  EXPECT_EQ(Run("return redis.error_reply('x')"), Reply::Error("ERR x"));
  EXPECT_EQ(Run("return redis.status_reply('S')"), Reply::Status("S"));
  EXPECT_EQ(
      Run("return {KEYS[1], ARGV[2], #KEYS, #ARGV}", {"k"}, {"a", "b"}),
      Reply::Array({Reply::Bulk("k"), Reply::Bulk("b"), Reply::Integer(1), Reply::Integer(2)}));
  EXPECT_EQ(Run("return redis.sha1hex('')"),
            Reply::Bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
}

TEST_F(LuaRunnerTest, RepliesBecomeLuaValues) {
  calls_.replies["get"] = Reply::Nil();
  calls_.replies["set"] = Reply::Ok();
  calls_.replies["incr"] = Reply::Integer(7);
  calls_.replies["lrange"] = Reply::Array({Reply::Bulk("a"), Reply::Nil()});
  calls_.replies["zscore"] = Reply::Double(1.5);
  calls_.replies["hgetall"] = Reply::Map({Reply::Bulk("f"), Reply::Bulk("v")});
  EXPECT_EQ(Run("return type(redis.call('get', 'k'))"), Reply::Bulk("boolean"));
  EXPECT_EQ(Run("return redis.call('get', 'k') == false"), Reply::Integer(1));
  EXPECT_EQ(Run("return redis.call('set', 'k', 'v')['ok']"), Reply::Bulk("OK"));
  EXPECT_EQ(Run("return redis.call('set', 'k', 'v')"), Reply::Status("OK"));
  EXPECT_EQ(Run("return redis.call('incr', 'k') + 1"), Reply::Integer(8));
  EXPECT_EQ(Run("local r = redis.call('lrange', 'k', 0, -1) return {r[1], type(r[2])}"),
            Reply::Array({Reply::Bulk("a"), Reply::Bulk("boolean")}));
  EXPECT_EQ(Run("return redis.call('zscore', 'z', 'm')"), Reply::Bulk("1.5"));
  EXPECT_EQ(Run("return redis.call('hgetall', 'h')"),
            Reply::Array({Reply::Bulk("f"), Reply::Bulk("v")}));
}

TEST_F(LuaRunnerTest, ArgumentsAreStringsOrNumbersFormattedAsRedisDoes) {
  calls_.replies["set"] = Reply::Ok();
  Run("redis.call('set', 'k', 1.5) redis.call('set', 'k', 0.1) redis.call('set', 'k', 10)");
  EXPECT_EQ(calls_.calls,
            (std::vector<std::string>{"set k 1.5", "set k 0.10000000000000001", "set k 10"}));
  const std::string body = "return redis.call('set', {})";
  EXPECT_EQ(
      Run(body),
      Reply::Error("ERR Lua redis lib command arguments must be strings or integers" + At(body)));
  const std::string none = "return redis.call()";
  EXPECT_EQ(
      Run(none),
      Reply::Error("ERR Please specify at least one argument for this redis lib call" + At(none)));
}

TEST_F(LuaRunnerTest, CommandErrorsRaiseInCallAndReturnInPcall) {
  calls_.replies["incr"] = Reply::Error("ERR value is not an integer or out of range");
  const std::string body = "return redis.call('incr', 'k')";
  EXPECT_EQ(Run(body), Reply::Error("ERR value is not an integer or out of range" + At(body)));
  EXPECT_EQ(Run("return redis.pcall('incr', 'k')"),
            Reply::Error("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run("local r = redis.pcall('incr', 'k') return r['err']"),
            Reply::Bulk("ERR value is not an integer or out of range"));
  // A line number from the script's own line.
  const std::string two_lines = "local x = 1\nreturn redis.call('incr', 'k')";
  EXPECT_EQ(Run(two_lines),
            Reply::Error("ERR value is not an integer or out of range" + At(two_lines, 2)));
}

TEST_F(LuaRunnerTest, CommandsAreCheckedAsRedisChecksThem) {
  calls_.replies["get"] = Reply::Nil();
  const std::string unknown = "return redis.call('nosuch')";
  EXPECT_EQ(Run(unknown),
            Reply::Error("ERR Unknown Redis command called from script" + At(unknown)));
  const std::string arity = "return redis.call('get')";
  EXPECT_EQ(Run(arity),
            Reply::Error("ERR Wrong number of args calling Redis command from script" + At(arity)));
  for (const char* command : {"multi", "eval', 'return 1', '0", "publish', 'ch', 'x"}) {
    const std::string body = std::string("return redis.call('") + command + "')";
    EXPECT_EQ(Run(body),
              Reply::Error("ERR This Redis command is not allowed from script" + At(body)))
        << command;
  }
  EXPECT_EQ(Run("return redis.pcall('nosuch')"),
            Reply::Error("ERR Unknown Redis command called from script"));
  EXPECT_TRUE(calls_.calls.empty()) << "refused commands never reach the executor";
}

TEST_F(LuaRunnerTest, ScriptErrorsAndProtectedGlobals) {
  const std::string boom = "error('boom')";
  EXPECT_EQ(Run(boom), Reply::Error("ERR user_script:1: boom" + At(boom)));
  const std::string table = "error({err='tabled'})";
  EXPECT_EQ(Run(table), Reply::Error("tabled" + At(table)));
  const std::string nil_error = "error()";
  EXPECT_EQ(Run(nil_error), Reply::Error("ERR nil" + At(nil_error)));
  const std::string global = "return foo";
  EXPECT_EQ(Run(global), Reply::Error("ERR user_script:1: Script attempted to access nonexistent "
                                      "global variable 'foo'" +
                                      At(global)));
  for (const char* body :
       {"foo = 1", "string.x = 1 return 1", "redis.call = nil return 1", "_G.x = 1"}) {
    EXPECT_EQ(Run(body),
              Reply::Error(std::string("ERR user_script:1: Attempt to modify a readonly table") +
                           At(body)))
        << body;
  }
  const std::string raw = "rawset(_G, 'a', 1) return a";
  EXPECT_EQ(Run(raw), Reply::Error("ERR Attempt to modify a readonly table" + At(raw)));
  for (const char* gone : {"os", "io", "print", "dofile", "loadfile", "require", "debug"}) {
    const std::string body = std::string("return ") + gone;
    EXPECT_EQ(Run(body), Reply::Error(std::string("ERR user_script:1: Script attempted to access "
                                                  "nonexistent global variable '") +
                                      gone + "'" + At(body)))
        << gone;
  }
  // Locals, tables and the libraries still work.
  EXPECT_EQ(Run("local t = {} t[1] = string.upper('a') return t[1] .. math.floor(2.5)"),
            Reply::Bulk("A2"));
  EXPECT_EQ(Run("return ("), Reply::Error("ERR Error compiling script (new function): "
                                          "user_script:1: unexpected symbol near '<eof>'"));
  EXPECT_EQ(ScriptCompileError("return ("),
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near "
            "'<eof>'");
  EXPECT_EQ(ScriptCompileError("return 1"), "");
}

// Redis 7.0 compiles every chunk as text, so precompiled bytecode fails in the lexer at its
// ESC byte, whether it is the script itself or given to loadstring or load.
TEST_F(LuaRunnerTest, BytecodeIsNeverLoaded) {
  const std::string near_esc = "unexpected symbol near 'char(27)'";
  for (const std::string& body :
       {std::string("\x1bLuaQ"), std::string("\x1b"), std::string("\x1bLuaQ\x00\x01\x04", 8)}) {
    EXPECT_EQ(Run(body), Reply::Error("ERR Error compiling script (new function): user_script:1: " +
                                      near_esc));
    EXPECT_EQ(ScriptCompileError(body),
              "ERR Error compiling script (new function): user_script:1: " + near_esc);
  }
  // string.dump stays (Redis keeps it); what it makes cannot be loaded back.
  EXPECT_EQ(Run("return string.sub(string.dump(function() return 1 end), 2, 4)"),
            Reply::Bulk("Lua"));
  const std::string dumped = "local s = string.dump(function() return 1 end) ";
  EXPECT_EQ(Run(dumped + "local f, e = loadstring(s, 'bc') return {tostring(f), e}"),
            Reply::Array({Reply::Bulk("nil"), Reply::Bulk("[string \"bc\"]:1: " + near_esc)}));
  EXPECT_EQ(
      Run(dumped + "local i = 0 local f, e = load(function() i = i + 1 if i == 1 then return s end "
                   "end) return {tostring(f), e}"),
      Reply::Array({Reply::Bulk("nil"), Reply::Bulk("(load):1: " + near_esc)}));
  // The ESC in a piece of its own, then the rest.
  EXPECT_EQ(Run(dumped +
                "local i = 0 local f, e = load(function() i = i + 1 if i == 1 then return "
                "s:sub(1, 1) elseif i == 2 then return s:sub(2) end end) return {tostring(f), e}"),
            Reply::Array({Reply::Bulk("nil"), Reply::Bulk("(load):1: " + near_esc)}));
  const std::string called = dumped + "return loadstring(s)()";
  EXPECT_EQ(Run(called),
            Reply::Error("ERR user_script:1: attempt to call a nil value" + At(called)));
  // Source text still loads, in pieces too, and a bad reader is reported as Lua 5.1 does.
  EXPECT_EQ(Run("return loadstring('return 7')()"), Reply::Integer(7));
  EXPECT_EQ(Run("local p = {'return ', '8'} local i = 0 "
                "return load(function() i = i + 1 return p[i] end)()"),
            Reply::Integer(8));
  // The reader's error reaches the script's message handler (Lua 5.1 keeps it while
  // parsing), so load returns an error table: an error reply, as redis-server answers.
  EXPECT_EQ(Run("local f, e = load(function() return {} end) return e"),
            Reply::Error("ERR user_script:1: reader function must return a string"));
  EXPECT_EQ(Run("local f, e = loadstring('return (', 'x') return e"),
            Reply::Bulk("[string \"x\"]:1: unexpected symbol near '<eof>'"));
  for (const char* gone : {"setfenv", "getfenv", "newproxy", "module", "package"}) {
    const std::string body = std::string("return ") + gone;
    EXPECT_EQ(Run(body), Reply::Error(std::string("ERR user_script:1: Script attempted to access "
                                                  "nonexistent global variable '") +
                                      gone + "'" + At(body)))
        << gone;
  }
}

TEST_F(LuaRunnerTest, RandomIsRedisRand48AndTheSameInEveryRun) {
  // The first draw after math.randomseed(0) on redis-server 7.0 is 0.17082803611217.
  EXPECT_EQ(Run("return tostring(math.random())"), Reply::Bulk("0.17082803611217"));
  EXPECT_EQ(Run("math.randomseed(0) return tostring(math.random())"),
            Reply::Bulk("0.17082803611217"));
  EXPECT_EQ(Run("return {math.random(100), math.random(5, 6)}"), Run("return {math.random(100), "
                                                                     "math.random(5, 6)}"));
  EXPECT_EQ(Run("math.randomseed(0) math.random() return math.random(100)"), Reply::Integer(75));
}

// Each script starts from its request's seed (the Tcl suite's "random numbers are random
// now": Redis 7.0 keeps one sequence running, so two EVALs draw different numbers); the
// same seed draws the same numbers (replicas agree), and math.randomseed still resets.
TEST_F(LuaRunnerTest, RandomStartsFromTheRequestSeed) {
  const std::string draw = "return tostring(math.random())";
  calls_.seed = 12345;
  const Reply first = Run(draw);
  EXPECT_EQ(Run(draw), first);
  calls_.seed = 12346;
  EXPECT_NE(Run(draw), first);
  EXPECT_EQ(Run("math.randomseed(0) return tostring(math.random())"),
            Reply::Bulk("0.17082803611217"));
}

TEST_F(LuaRunnerTest, RunawayScriptsStopAtTheInstructionLimitEvenUnderPcall) {
  LuaScriptRunner::Options options;
  options.max_instructions = 1'000'000;
  LuaScriptRunner small(options);
  for (const std::string body :
       {"while true do end", "while true do pcall(function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do end end) co()"}) {
    redis_core::RedisRequest::Script script;
    script.body = body;
    absl::StatusOr<Reply> reply = small.Run(script, calls_);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(reply->is_error()) << body << ": " << redis_core::DebugString(*reply);
    EXPECT_NE(reply->text.find(kInstructionLimitMessage), std::string::npos)
        << body << ": " << reply->text;
  }
}

TEST_F(LuaRunnerTest, MemoryIsBounded) {
  LuaScriptRunner::Options options;
  options.max_memory_bytes = 1 << 20;
  LuaScriptRunner small(options);
  redis_core::RedisRequest::Script script;
  script.body = "local t = {} for i = 1, 1000000 do t[i] = string.rep('x', 100) .. i end return 1";
  absl::StatusOr<Reply> reply = small.Run(script, calls_);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_NE(reply->text.find("not enough memory"), std::string::npos)
      << redis_core::DebugString(*reply);
}

TEST_F(LuaRunnerTest, ScriptRepliesAreBoundedEvenWhenTablesShareTables) {
  // Each level holds the level below 16 times: 16^5 = 1M values from 96 table slots (two
  // more levels: 268M, tens of GB as replies, which every replica would build at apply
  // time). With a 1 MB limit the reply may take 4 MB: it is refused, while a reply of
  // 10,000 values fits.
  LuaScriptRunner::Options options;
  options.max_memory_bytes = 1 << 20;
  LuaScriptRunner small(options);
  redis_core::RedisRequest::Script script;
  script.body =
      "local t = {} for i = 1, 16 do t[i] = i end "
      "for d = 1, 4 do local u = {} for i = 1, 16 do u[i] = t end t = u end return t";
  absl::StatusOr<Reply> reply = small.Run(script, calls_);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_NE(reply->text.find("reply is too large"), std::string::npos)
      << redis_core::DebugString(*reply).substr(0, 200);
  // The same through a RESP3 map and a set, and a string repeated.
  script.body =
      "redis.setresp(3) local t = {x = 1} "
      "for d = 1, 4 do local u = {} for i = 1, 16 do u['k' .. i] = t end t = {map = u} end "
      "return t";
  reply = small.Run(script, calls_);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_NE(reply->text.find("reply is too large"), std::string::npos)
      << redis_core::DebugString(*reply).substr(0, 200);
  script.body =
      "local s = string.rep('x', 100000) local t = {} for i = 1, 100 do t[i] = s end "
      "return t";
  reply = small.Run(script, calls_);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_NE(reply->text.find("reply is too large"), std::string::npos)
      << redis_core::DebugString(*reply).substr(0, 200);
  script.body = "local t = {} for i = 1, 10000 do t[i] = 'v' .. i end return t";
  reply = small.Run(script, calls_);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->kind, Reply::Kind::kArray) << redis_core::DebugString(*reply).substr(0, 200);
  EXPECT_EQ(reply->elements.size(), 10000u);
}

TEST_F(LuaRunnerTest, AReplyTooLargeForTheScriptMemoryIsNotLeaked) {
  // A reply of 20,000 distinct 100-byte strings (~3.6 MB as a Reply) does not fit in 1 MB of Lua:
  // converting it raises "not enough memory" (a longjmp) out of redis.call, which pcall
  // catches. The reply must not be left behind in the skipped C++ frame each time: 30
  // calls would leak ~100 MB (on every replica, for a read-only script).
  std::vector<Reply> elements;
  for (int i = 0; i < 20000; ++i) {
    elements.push_back(Reply::Bulk(std::to_string(i) + std::string(100, 'x')));  // not interned
  }
  calls_.replies["lrange"] = Reply::Array(std::move(elements));
  LuaScriptRunner::Options options;
  options.max_memory_bytes = 1 << 20;
  LuaScriptRunner small(options);
  redis_core::RedisRequest::Script script;
  script.body =
      "local failed = 0 for i = 1, 30 do "
      "if not pcall(redis.call, 'lrange', 'k', 0, -1) then failed = failed + 1 end end "
      "return failed";
  const size_t before = mallinfo2().uordblks;
  absl::StatusOr<Reply> reply = small.Run(script, calls_);
  const size_t after = mallinfo2().uordblks;
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, Reply::Integer(30));
  EXPECT_LT(after, before + (16u << 20)) << "heap grew by " << (after - before) << " bytes";
}

TEST_F(LuaRunnerTest, AFailedCallAbortsTheWholeScriptEvenUnderPcall) {
  calls_.fail = absl::UnavailableError("locked");
  redis_core::RedisRequest::Script script;
  script.body = "redis.pcall('get', 'k') return 1";
  absl::StatusOr<Reply> reply = runner_.Run(script, calls_);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
}

// redis.setresp(3): every reply kind reaches the script as Redis 7.0's RESP3 parser
// hands it to Lua, and back; in RESP2 (the default) the script-only kinds arrive as
// their RESP2 forms. The fake answers (under real command names, which the runner checks)
// what no ekv command answers (booleans, big numbers, verbatim strings) too.
TEST_F(LuaRunnerTest, Resp3RepliesReachTheScriptAsRedisConvertsThem) {
  calls_.replies["get"] = Reply::Bool(true);
  calls_.replies["strlen"] = Reply::BigNumber("123456789012345678901234567890");
  calls_.replies["type"] = Reply::Verbatim("mkd", "# title");
  calls_.replies["ttl"] = Reply::Nil();
  calls_.replies["pttl"] = Reply::NilArray();
  calls_.replies["llen"] = Reply::Double(2.5);
  calls_.replies["hgetall"] = Reply::Map({Reply::Bulk("a"), Reply::Integer(1)});
  calls_.replies["smembers"] = Reply::Set({Reply::Bulk("m")});
  calls_.replies["zcard"] = Reply::Pairs({Reply::Bulk("m"), Reply::Double(1.5)});
  const std::string inspect =
      "local function show(v) if type(v) ~= 'table' then return type(v) .. ':' .. "
      "tostring(v) end local out = {} for k, x in pairs(v) do table.insert(out, tostring(k) .. "
      "'=' .. show(x)) end table.sort(out) return '{' .. table.concat(out, ',') .. '}' end ";
  auto shown = [&](const std::string& command, int resp) {
    return Run(inspect + "redis.setresp(" + std::to_string(resp) + ") return show(redis.call('" +
               command + "', 'k'))");
  };
  EXPECT_EQ(shown("get", 3), Reply::Bulk("boolean:true"));
  EXPECT_EQ(shown("get", 2), Reply::Bulk("number:1"));
  EXPECT_EQ(shown("strlen", 3), Reply::Bulk("{big_number=string:123456789012345678901234567890}"));
  EXPECT_EQ(shown("strlen", 2), Reply::Bulk("string:123456789012345678901234567890"));
  EXPECT_EQ(shown("type", 3),
            Reply::Bulk("{verbatim_string={format=string:mkd,string=string:# title}}"));
  EXPECT_EQ(shown("type", 2), Reply::Bulk("string:# title"));
  EXPECT_EQ(shown("ttl", 3), Reply::Bulk("nil:nil"));
  EXPECT_EQ(shown("pttl", 3), Reply::Bulk("nil:nil"));
  EXPECT_EQ(shown("ttl", 2), Reply::Bulk("boolean:false"));
  EXPECT_EQ(shown("llen", 3), Reply::Bulk("{double=number:2.5}"));
  EXPECT_EQ(shown("llen", 2), Reply::Bulk("string:2.5"));
  EXPECT_EQ(shown("hgetall", 3), Reply::Bulk("{map={a=number:1}}"));
  EXPECT_EQ(shown("hgetall", 2), Reply::Bulk("{1=string:a,2=number:1}"));
  EXPECT_EQ(shown("smembers", 3), Reply::Bulk("{set={m=boolean:true}}"));
  EXPECT_EQ(shown("zcard", 3), Reply::Bulk("{1={1=string:m,2={double=number:1.5}}}"));
  EXPECT_EQ(shown("zcard", 2), Reply::Bulk("{1=string:m,2=string:1.5}"));
  // What a RESP3 script hands back keeps its kind (the front door encodes it per client).
  EXPECT_EQ(Run("redis.setresp(3) return redis.call('get', 'k')"), Reply::Bool(true));
  EXPECT_EQ(Run("redis.setresp(3) return redis.call('strlen', 'k')"),
            Reply::BigNumber("123456789012345678901234567890"));
  EXPECT_EQ(Run("redis.setresp(3) return redis.call('type', 'k')"),
            Reply::Verbatim("mkd", "# title"));
  EXPECT_EQ(Run("redis.setresp(3) return redis.call('hgetall', 'k')"),
            Reply::Map({Reply::Bulk("a"), Reply::Integer(1)}));
  EXPECT_EQ(Run("redis.setresp(3) return redis.call('smembers', 'k')"),
            Reply::Set({Reply::Bulk("m")}));
  EXPECT_EQ(Run("redis.setresp(3) return redis.call('llen', 'k')"), Reply::Double(2.5));
  // Each run starts at RESP2, as Redis's script client does.
  EXPECT_EQ(Run("return redis.call('llen', 'k')"), Reply::Bulk("2.5"));
}

// Rules that do not parse (no front door sends them) void the script instead of letting
// it run unchecked.
TEST_F(LuaRunnerTest, UnparsableUserRulesVoidTheScript) {
  calls_.replies["get"] = Reply::Bulk("v");
  calls_.acl = "+@all ~* nosuchrule";
  redis_core::RedisRequest::Script script;
  script.body = "return redis.call('get', 'k')";
  absl::StatusOr<Reply> reply = runner_.Run(script, calls_);
  EXPECT_FALSE(reply.ok());
  EXPECT_TRUE(calls_.calls.empty());
  calls_.acl = "~* resetchannels -@all +get";
  EXPECT_EQ(Run("return redis.call('get', 'k')"), Reply::Bulk("v"));
  EXPECT_EQ(Run("return redis.pcall('set', 'k', 'v')"),
            Reply::Error("ERR The user executing the script can't run this command or subcommand"));
  EXPECT_EQ(Run("return redis.acl_check_cmd('get', 'k')"), Reply::Integer(1));
  EXPECT_EQ(Run("return redis.acl_check_cmd('set', 'k', 'v')"), Reply::Nil());
}

// Redis 7 functions: FCALL's request carries the library's code and the function's name;
// the runner loads the library in a fresh state and calls the function with (keys, args),
// its redis.calls going to the group as a script's do. Each call starts from a fresh
// state: a library's top-level local does not carry over (ekv's documented deviation).
TEST_F(LuaRunnerTest, FunctionsLoadTheirLibraryAndGetKeysAndArgs) {
  const std::string library =
      "#!lua name=lib\n"
      "local calls = 0\n"
      "redis.register_function('count', function(keys, args)\n"
      "  calls = calls + 1 return {calls, keys[1], args[1], #keys, #args} end)\n"
      "redis.register_function{function_name='get', flags={'no-writes'},\n"
      "  callback=function(keys) return redis.call('get', keys[1]) end}\n"
      "redis.register_function('fail', function() error('no') end)\n";
  calls_.replies["get"] = Reply::Bulk("v");
  auto call = [&](const std::string& function, std::vector<std::string> keys,
                  std::vector<std::string> args) {
    redis_core::RedisRequest::Script script;
    script.body = library;
    script.function = function;
    script.keys = std::move(keys);
    script.args = std::move(args);
    absl::StatusOr<Reply> reply = runner_.Run(script, calls_);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? redis_core::DebugString(*reply) : "<status>";
  };
  const std::string first = call("count", {"k"}, {"a", "b"});
  EXPECT_EQ(first, redis_core::DebugString(
                       Reply::Array({Reply::Integer(1), Reply::Bulk("k"), Reply::Bulk("a"),
                                     Reply::Integer(1), Reply::Integer(2)})));
  EXPECT_EQ(call("count", {"k"}, {"a", "b"}), first);
  EXPECT_EQ(call("get", {"key"}, {}), redis_core::DebugString(Reply::Bulk("v")));
  EXPECT_EQ(calls_.calls, (std::vector<std::string>{"get key"}));
  EXPECT_EQ(call("fail", {}, {}),
            redis_core::DebugString(
                Reply::Error("ERR user_function:7: no script: fail, on @user_function:7.")));
  EXPECT_EQ(call("nosuch", {}, {}),
            redis_core::DebugString(Reply::Error("ERR Function not found")));
}

// FUNCTION LOAD's check: what a library registers (names, descriptions, flags in Redis's
// order), and a top level that never ends stops at the load limit with Redis's words.
TEST(LuaLibraryTest, LoadRegistersFunctionsAndStopsARunawayTopLevel) {
  absl::StatusOr<std::vector<LuaFunctionInfo>> functions = LoadLibraryFunctions(
      "#!lua name=lib\n"
      "redis.register_function('plain', function() end)\n"
      "redis.register_function{function_name='flagged', description='d', callback=function() "
      "end, flags={'allow-cross-slot-keys', 'no-writes'}}\n");
  ASSERT_TRUE(functions.ok()) << functions.status();
  ASSERT_EQ(functions->size(), 2u);
  EXPECT_EQ((*functions)[0].name, "plain");
  EXPECT_FALSE((*functions)[0].description.has_value());
  EXPECT_EQ((*functions)[0].flags, 0u);
  EXPECT_EQ((*functions)[1].name, "flagged");
  EXPECT_EQ((*functions)[1].description, "d");
  EXPECT_EQ(FunctionFlagNames((*functions)[1].flags),
            (std::vector<std::string>{"no-writes", "allow-cross-slot-keys"}));
  absl::StatusOr<std::vector<LuaFunctionInfo>> runaway =
      LoadLibraryFunctions("#!lua name=lib\nlocal n = 0 while true do n = n + 1 end\n", 1'000'000);
  ASSERT_FALSE(runaway.ok());
  EXPECT_EQ(std::string(runaway.status().message()),
            "ERR Error registering functions: ERR FUNCTION LOAD timeout");
  EXPECT_EQ(std::string(LoadLibraryFunctions("#!lua name=lib\nlocal x = 1\n").status().message()),
            "ERR No functions registered");
  EXPECT_EQ(std::string(LoadLibraryFunctions("no shebang").status().message()),
            "ERR Missing library metadata");
}

}  // namespace
}  // namespace ekv::redis
