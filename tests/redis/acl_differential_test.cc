// The ACL command and subcommand rules, byte for byte against a real redis-server 7.0
// (Debian redis-server): ACL SETUSER / GETUSER / LIST / USERS / WHOAMI / CAT / DELUSER /
// DRYRUN / GENPASS / LOG / LOAD / SAVE and the refusals they lead to, in RESP2 and RESP3.
// Both servers read the same users file path in turn (redis-server's aclfile, ekv's
// acl_file), so ACL LOAD and SAVE errors name the same file.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "adapters/redis/acl_catalog.h"
#include "adapters/redis/acl_file.h"
#include "adapters/redis/acl_log.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/redis_server.h"
#include "gtest/gtest.h"
#include "tests/redis/differential_script.h"
#include "tests/redis/fake_backend.h"
#include "tests/redis/real_redis.h"
#include "tests/redis/resp_client.h"

namespace ekv::redis::differential {
namespace {

// What differs by design beyond the harness's Mask (CLIENT ID): ACL LOG's age and client
// line (addresses, buffer sizes).
std::string MaskAclLog(std::string reply) {
  static const std::regex kAge("(age-seconds\r\n)(\\$[0-9]+\r\n[^\r]*|,[^\r]*)\r\n");
  static const std::regex kClientInfo("(client-info\r\n)\\$[0-9]+\r\n[^\r]*\r\n");
  reply = std::regex_replace(reply, kAge, "$1<age>\r\n");
  return std::regex_replace(reply, kClientInfo, "$1<client>\r\n");
}

// Redis names the single-command rules that follow the categories (ACL LIST, GETUSER,
// SAVE) in its hash table's order, which changes between runs; ekv in name order. Each
// line's trailing run of such rules is sorted, so the comparison checks the same set.
std::string SortSingleCommandRules(const std::string& reply) {
  std::vector<std::string> lines = absl::StrSplit(reply, "\r\n");
  for (std::string& line : lines) {
    if (line.find("@all") == std::string::npos) continue;
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    size_t last_category = 0;
    for (size_t i = 0; i < words.size(); ++i) {
      if (absl::StartsWith(words[i], "+@") || absl::StartsWith(words[i], "-@")) last_category = i;
    }
    std::sort(words.begin() + static_cast<long>(last_category) + 1, words.end());
    line = absl::StrJoin(words, " ");
  }
  return absl::StrJoin(lines, "\r\n");
}

// ACL SAVE and LOAD write and read files, so both waits are longer than the harness's.
const Reading kAclReading = {
    [](std::string reply) { return SortSingleCommandRules(MaskAclLog(std::move(reply))); },
    std::chrono::seconds(30), std::chrono::seconds(30)};

void WriteFile(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  chmod(path.c_str(), 0600);  // ekv refuses a users file others may read
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class AclDifferentialTest : public ::testing::Test {
 protected:
  // Runs `script` against redis-server and ekv, each started on `initial_file` (written
  // to the same path before each), and compares every step. Returns the file as each
  // left it.
  std::pair<std::string, std::string> Compare(const std::string& initial_file,
                                              const std::vector<Step>& script) {
    const std::string path = testing::ProcessTempPath("acl_commands_differential.acl");
    WriteFile(path, initial_file);
    RealRedis redis({"--aclfile", path});
    EXPECT_TRUE(redis.WaitReady())
        << "redis-server (Debian package redis-server) must run; its log:\n"
        << redis.Log();
    const std::vector<std::string> want = RunScript(redis.port(), script, kAclReading);
    const std::string redis_file = ReadFile(path);

    WriteFile(path, initial_file);
    absl::StatusOr<AclFile> file = ReadAclFile(path);
    EXPECT_TRUE(file.ok()) << file.status();
    RedisServerOptions options;
    options.settings.acl = std::make_shared<AclUsers>(std::move(file->users));
    options.settings.acl_file = path;
    EkvServer ekv(options);
    EXPECT_TRUE(ekv.started);
    const std::vector<std::string> got = RunScript(ekv.port(), script, kAclReading);
    const std::string ekv_file = ReadFile(path);
    ExpectSameReplies(want, got, script);
    return {redis_file, ekv_file};
  }
};

constexpr char kInitial[] =
    "user default on nopass ~* &* +@all\n"
    "user ops on >opspw ~* &* +@all -@admin +config|get\n"
    "user viewer on >vpw ~app:* resetchannels -@all +@read +config|get\n";

TEST_F(AclDifferentialTest, SetUserGetUserListAndSubcommandRules) {
  const std::vector<std::string> users = {"ops", "viewer", "u1", "u2", "u3", "u4", "u5", "u6"};
  std::vector<Step> script = {
      On(0, {"ACL", "SETUSER", "u1", "on", ">p1", ">p2", "<p1", "~k*", "~k*", "&c*", "+@all",
             "-client|kill", "-@dangerous"}),
      On(0, {"ACL", "SETUSER", "u2", "on", "nopass", "allkeys", "allchannels", "+@read", "+@write",
             "-@dangerous", "+flushdb"}),
      On(0, {"ACL", "SETUSER", "u3", "+client", "-client|list", "+@admin"}),
      On(0, {"ACL", "SETUSER", "u4", "on", "#" + std::string(64, 'a'), "+@all", "-client",
             "+client|id"}),
      On(0, {"acl", "setuser", "u5", "reset", "+@hash", "-hget", "%RW~h:*"}),
      On(0, {"ACL", "SETUSER", "u6", "on", ">x", "-@all", "+@read", "-get"}),
      On(0, {"ACL", "SETUSER", "u6", "skip-sanitize-payload", "+GET", "-STRLEN"}),
      // Errors: nothing of the failing SETUSER applies.
      On(0, {"ACL", "SETUSER", "u1", "off", "+nosuch"}),
      On(0, {"ACL", "SETUSER", "u1", "+client|nosuch"}),
      On(0, {"ACL", "SETUSER", "u1", "+@nosuch"}),
      On(0, {"ACL", "SETUSER", "u1", "-select|0"}),
      On(0, {"ACL", "SETUSER", "u2", "~x"}),
      On(0, {"ACL", "SETUSER", "u2", "&x"}),
      On(0, {"ACL", "SETUSER", "u1", "<nope"}),
      On(0, {"ACL", "SETUSER", "u1", "#abc"}),
      On(0, {"ACL", "SETUSER", "u1", "!" + std::string(64, 'b')}),
      On(0, {"ACL", "SETUSER", "u1", "bogus"}),
      On(0, {"ACL", "SETUSER", "u1", "%X~k"}),
      // A pattern with a space or a NUL byte (Redis's ACLStringHasSpaces): ekv's rules
      // travel to scripts as one line of words, where "~x allkeys" would grant every key.
      On(0, {"ACL", "SETUSER", "u1", "~x allkeys"}),
      On(0, {"ACL", "SETUSER", "u1", "&a b"}),
      On(0, {"ACL", "SETUSER", "u1", "%RW~a\tb"}),
      On(0, {"ACL", "SETUSER", "u1", std::string("~a\0b", 4)}),
      On(0, {"ACL", "SETUSER", "u2", "~a b"}),
      On(0, {"ACL", "SETUSER"}),
      On(0, {"ACL", "GETUSER", "nobody"}),
      On(0, {"ACL", "GETUSER"}),
      On(0, {"ACL", "LIST"}),
      On(0, {"ACL", "USERS"}),
      On(0, {"ACL", "WHOAMI"}),
      On(0, {"ACL", "WHOAMI", "x"}),
      On(0, {"ACL", "NOSUCH"}),
      On(0, {"ACL"}),
      On(0, {"ACL", "CAT"}),
      On(0, {"ACL", "CAT", "nosuch"}),
      On(0, {"ACL", "CAT", "a", "b"}),
      On(0, {"ACL", "GENPASS", "0"}),
      On(0, {"ACL", "GENPASS", "x"}),
      On(0, {"ACL", "HELP"}),
      On(1, {"HELLO", "3"}),
  };
  script.back().replies = 1;
  for (const std::string& user : users) {
    script.push_back(On(0, {"ACL", "GETUSER", user}));
    script.push_back(On(1, {"ACL", "GETUSER", user}));  // RESP3: a map with a set of flags
  }
  script.push_back(On(1, {"ACL", "GETUSER", "nobody"}));
  Compare(kInitial, script);
}

TEST_F(AclDifferentialTest, SubcommandRulesAreEnforced) {
  Compare(kInitial, {
                        On(1, {"AUTH", "ops", "opspw"}),
                        On(1, {"CONFIG", "GET", "save"}),
                        On(1, {"CONFIG", "SET", "maxclients", "100"}),
                        On(1, {"CLIENT", "KILL", "ID", "999999"}),
                        On(1, {"CLIENT", "NOSUCH"}),
                        On(1, {"SET", "k", "v"}),
                        On(2, {"AUTH", "viewer", "vpw"}),
                        On(2, {"CONFIG", "GET", "save"}),
                        On(2, {"CONFIG", "RESETSTAT"}),
                        On(2, {"CLIENT", "LIST"}),
                        On(2, {"GET", "app:1"}),
                        On(2, {"GET", "other"}),
                        On(2, {"SET", "app:1", "x"}),
                        // Changes apply to logged-in connections at once.
                        On(0, {"ACL", "SETUSER", "viewer", "+client|list", "-get"}),
                        On(0, {"ACL", "DRYRUN", "viewer", "client", "list"}),
                        On(2, {"CLIENT", "KILL", "ID", "0"}),
                        On(2, {"GET", "app:1"}),
                        On(0, {"ACL", "DRYRUN", "viewer", "get", "app:1"}),
                        On(0, {"ACL", "DRYRUN", "viewer", "strlen", "app:1"}),
                        On(0, {"ACL", "DRYRUN", "viewer", "strlen", "zzz"}),
                        On(0, {"ACL", "DRYRUN", "viewer", "config", "set", "a", "b"}),
                        On(0, {"ACL", "DRYRUN", "viewer", "get"}),
                        On(0, {"ACL", "DRYRUN", "viewer", "nosuch"}),
                        On(0, {"ACL", "DRYRUN", "nobody", "get", "x"}),
                        On(1, {"ACL", "WHOAMI"}),
                        On(2, {"ACL", "WHOAMI"}),
                        // Failed logins and refusals are in ACL LOG, similar ones counted together.
                        On(3, {"AUTH", "viewer", "wrong"}),
                        On(3, {"AUTH", "nobody", "x"}),
                        On(3, {"AUTH", "nobody", "x"}),
                        On(2, {"MULTI"}),
                        On(2, {"GET", "other"}),
                        On(2, {"DISCARD"}),
                        On(0, {"ACL", "LOG"}),
                        On(0, {"ACL", "LOG", "2"}),
                        On(0, {"ACL", "LOG", "x"}),
                        On(0, {"ACL", "LOG", "1", "2"}),
                        On(0, {"ACL", "LOG", "RESET"}),
                        On(0, {"ACL", "LOG"}),
                        // DELUSER closes the user's connections; default cannot go.
                        On(0, {"ACL", "DELUSER", "default", "ops"}),
                        On(0, {"ACL", "DELUSER", "nobody", "viewer"}),
                        Closed(2),
                        On(0, {"ACL", "USERS"}),
                    });
}

// A script's redis.call refused by the caller's rules is in ACL LOG with context "lua", the
// refused command or key as its object and the caller as its user (Redis's
// scriptVerifyACL), from EVAL, EVALSHA and a script queued in MULTI, also when the script
// catches the error with pcall; similar refusals are counted together.
TEST_F(AclDifferentialTest, ScriptRefusalsAreInAclLog) {
  const std::string script = "return redis.pcall('set', KEYS[1], 'v')";
  Compare(
      "user default on nopass ~* &* +@all\n"
      "user app on >apw ~app:* resetchannels +@all -set -@admin\n",
      {
          On(1, {"AUTH", "app", "apw"}),
          On(1, {"EVAL", script, "1", "app:1"}),
          On(1, {"EVAL", "return redis.call('get', KEYS[1])", "1", "app:1"}),
          On(1, {"EVAL", "return redis.pcall('get', 'other')", "0"}),
          On(1, {"EVAL", "return redis.call('lpush', 'other', 'x')", "0"}),
          On(1, {"SCRIPT", "LOAD", script}),
          On(1, {"EVALSHA", "5a37d53e4b1c8fbadc685c381cdca6397925daeb", "1", "app:2"}),
          On(1, {"MULTI"}),
          On(1, {"EVAL", script, "1", "app:3"}),
          On(1, {"EXEC"}),
          On(0, {"ACL", "LOG"}),
      });
}

// FCALL is checked as EVAL is: the caller's key rules on the declared keys before it runs,
// then each redis.call of the function against the caller's rules, a refusal in ACL LOG
// (context "lua") also when pcall catches it.
TEST_F(AclDifferentialTest, FunctionCallsAreCheckedAsScriptsAre) {
  const std::string library =
      "#!lua name=acllib\n"
      "redis.register_function('setit', function(keys) return redis.pcall('set', keys[1], 'v') "
      "end)\n"
      "redis.register_function('getit', function(keys) return redis.call('get', keys[1]) end)\n";
  Compare(
      "user default on nopass ~* &* +@all\n"
      "user app on >apw ~app:* resetchannels +@all -set -@admin\n",
      {
          On(0, {"FUNCTION", "FLUSH"}),
          On(0, {"FUNCTION", "LOAD", library}),
          On(1, {"AUTH", "app", "apw"}),
          On(1, {"FCALL", "setit", "1", "app:1"}),
          On(1, {"FCALL", "getit", "1", "app:1"}),
          On(1, {"FCALL", "getit", "1", "other"}),
          On(1, {"FCALL_RO", "getit", "1", "other"}),
          On(0, {"ACL", "LOG"}),
          On(0, {"FUNCTION", "FLUSH"}),
      });
}

TEST_F(AclDifferentialTest, LoadAndSaveUseTheUsersFile) {
  const std::string path = testing::ProcessTempPath("acl_commands_differential.acl");
  const auto rewrite = [path](std::string text) {
    return [path, text = std::move(text)] { WriteFile(path, text); };
  };
  std::vector<std::string> saved;  // the file after SAVE: redis-server's, then ekv's
  Step after_save = On(0, {"ACL", "SETUSER", "later", "on", "nopass"});
  after_save.before = [&saved, path] { saved.push_back(ReadFile(path)); };
  std::vector<Step> script = {
      On(1, {"AUTH", "ops", "opspw"}),
      On(0, {"ACL", "SETUSER", "added", "on", ">apw", "~a:*", "+@read", "+config|get"}),
      On(0, {"ACL", "SAVE"}),
      after_save,
      On(0, {"ACL", "DELUSER", "viewer"}),
      On(0, {"ACL", "LOAD"}),  // back to what SAVE wrote; ops' connection is closed
      Closed(1),
      On(0, {"ACL", "LIST"}),
      On(2, {"AUTH", "added", "apw"}),
      On(2, {"CONFIG", "GET", "save"}),
      On(2, {"CONFIG", "SET", "maxclients", "5"}),
  };
  Step syntax = On(0, {"ACL", "LOAD"});
  syntax.before = rewrite("user default on nopass ~* &* +@all\nuser bad on foo\n");
  script.push_back(syntax);
  Step keyword = On(0, {"ACL", "LOAD"});
  keyword.before = rewrite("user default on nopass ~* &* +@all\nusr x\n");
  script.push_back(keyword);
  Step duplicate = On(0, {"ACL", "LOAD"});
  duplicate.before = rewrite("user default on nopass ~* &* +@all\nuser a on\nuser a off\n");
  script.push_back(duplicate);
  script.push_back(On(0, {"ACL", "LIST"}));  // unchanged by the failed loads
  Step no_default = On(0, {"ACL", "LOAD"});
  no_default.before = rewrite("user only on >o ~* +@all -config|set\n");
  script.push_back(no_default);
  script.push_back(On(0, {"ACL", "LIST"}));
  Compare(kInitial, script);
  // SAVE wrote the same lines (each user has at most one single-command rule, whose order
  // would be Redis's hash order), the passwords as hashes only.
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[1], saved[0]);
  EXPECT_EQ(saved[1].find("apw"), std::string::npos) << saved[1];
  EXPECT_NE(saved[1].find("user added on #" + AclPasswordHash("apw") + " ~a:* resetchannels"),
            std::string::npos)
      << saved[1];
}

// ACL LOG merges an event like one of its 10 newest entries within 60 s (count, newest
// client line, moved to the front) and keeps only the 128 newest.
TEST(AclLogTest, MergesSimilarEventsAndKeepsTheNewest) {
  AclLog log;
  const auto event = [](std::string object, int64_t ms, std::string client) {
    AclLogEntry entry;
    entry.reason = "command";
    entry.context = "toplevel";
    entry.object = std::move(object);
    entry.username = "u";
    entry.updated_ms = ms;
    entry.client_info = std::move(client);
    return entry;
  };
  log.Add(event("get", 1000, "first"));
  log.Add(event("set", 2000, "x"));
  log.Add(event("get", 3000, "second"));
  ASSERT_EQ(log.entries().size(), 2u);
  EXPECT_EQ(log.entries()[0].object, "get");
  EXPECT_EQ(log.entries()[0].count, 2u);
  EXPECT_EQ(log.entries()[0].client_info, "second");
  EXPECT_EQ(log.entries()[0].updated_ms, 3000);
  log.Add(event("get", 3000 + 60001, "late"));  // more than 60 s later: a new entry
  ASSERT_EQ(log.entries().size(), 3u);
  EXPECT_EQ(log.entries()[0].count, 1u);
  for (int i = 0; i < 200; ++i) log.Add(event(absl::StrCat("cmd", i), 100000, ""));
  ASSERT_EQ(log.entries().size(), AclLog::kMaxEntries);
  EXPECT_EQ(log.entries().front().object, "cmd199");
  EXPECT_EQ(log.entries().back().object, absl::StrCat("cmd", 200 - AclLog::kMaxEntries));
  log.Reset();
  EXPECT_TRUE(log.entries().empty());
}

// The catalogue holds every command ekv serves (else its rules could not name them).
TEST(AclCatalogTest, EveryServedCommandIsARedisCommand) {
  for (const auto& [name, spec] : CommandTable::Default().specs()) {
    EXPECT_TRUE(AclCatalog::Get().Find(name).has_value()) << name;
  }
  EXPECT_TRUE(AclCatalog::Get().Find("client|kill").has_value());
  EXPECT_FALSE(AclCatalog::Get().Find("client|nosuch").has_value());
}

}  // namespace
}  // namespace ekv::redis::differential
