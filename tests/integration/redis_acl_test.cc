// Redis ACL commands on a real 3-node cluster through redis-cli: ACL SETUSER with
// subcommand rules takes effect on the node it ran on only (users are per node, as in
// Redis), ACL SAVE writes the shared --redis_users_file, ACL LOAD on another node brings
// the user there, ACL LOG records the failed login and the refused subcommand, no
// password reaches a log or the saved file, and scripts are checked against the rules of
// the user who sent them (redis.acl_check_cmd, redis.call) in the group that runs them.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/external_program.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RedisAclTest, SetUserIsPerNodeAndLoadSharesTheFile) {
  const std::string dir = MakeTempDir("ekv-redis-acl-commands");
  const std::string users = dir + "/users.acl";
  {
    std::ofstream out(users);
    out << "user default on >adm1n-pw ~* &* +@all\n";
  }
  chmod(users.c_str(), 0600);
  ClusterOptions options;
  options.redis = true;
  options.tick_ms = 50;
  options.extra_flags = {"--redis_users_file=" + users};
  ProcessCluster cluster(options);
  for (int i = 1; i <= cluster.size(); ++i) ASSERT_TRUE(cluster.StartNode(i).ok());
  // redis-cli's output (stdout and stderr) for `command` on node `node`.
  const auto cli = [&](int node, std::vector<std::string> auth, std::vector<std::string> command) {
    std::vector<std::string> args = {"timeout",
                                     "60",
                                     "redis-cli",
                                     "-h",
                                     "127.0.0.1",
                                     "-p",
                                     std::to_string(cluster.redis_port(node)),
                                     "--no-auth-warning"};
    args.insert(args.end(), auth.begin(), auth.end());
    args.insert(args.end(), command.begin(), command.end());
    const std::string out = dir + "/cli.log";
    RunProgram(args, out, seconds(90));
    return ReadWholeFile(out);
  };
  const std::vector<std::string> admin = {"--pass", "adm1n-pw"};
  const std::vector<std::string> app = {"--user", "app", "--pass", "app-s3cret"};

  // The nodes may still be opening their Redis ports and electing leaders: retry the
  // first commands (SETUSER is idempotent).
  const auto deadline = std::chrono::steady_clock::now() + seconds(120);
  const auto until = [&](int node, std::vector<std::string> auth, std::vector<std::string> command,
                         const std::string& expected) {
    std::string reply;
    do {
      reply = cli(node, auth, command);
      if (reply != expected) std::this_thread::sleep_for(milliseconds(300));
    } while (reply != expected && std::chrono::steady_clock::now() < deadline);
    return reply;
  };
  ASSERT_EQ(until(1, admin,
                  {"ACL", "SETUSER", "app", "on", ">app-s3cret", "~app:*", "+@read", "+@write",
                   "-@dangerous", "+config|get", "+client|id"},
                  "OK\n"),
            "OK\n")
      << cluster.Logs();
  ASSERT_EQ(until(1, app, {"SET", "app:1", "v1"}, "OK\n"), "OK\n") << cluster.Logs();
  for (int node = 2; node <= cluster.size(); ++node) {
    ASSERT_EQ(until(node, admin, {"PING"}, "PONG\n"), "PONG\n") << cluster.Logs();
  }
  EXPECT_EQ(cli(1, app, {"GET", "app:1"}), "v1\n");
  const std::string other_key = cli(1, app, {"SET", "other", "x"});
  EXPECT_NE(other_key.find("NOPERM this user has no permissions to access one of the keys"),
            std::string::npos)
      << other_key;
  EXPECT_EQ(cli(1, app, {"CONFIG", "GET", "maxclients"}), "maxclients\n10000\n");
  const std::string config_set = cli(1, app, {"CONFIG", "SET", "maxclients", "5"});
  EXPECT_NE(config_set.find("NOPERM this user has no permissions to run the 'config|set' command"),
            std::string::npos)
      << config_set;
  const std::string client_kill = cli(1, app, {"CLIENT", "KILL", "ID", "12345"});
  EXPECT_NE(client_kill.find("'client|kill' command"), std::string::npos) << client_kill;
  EXPECT_NE(cli(1, app, {"ACL", "WHOAMI"}).find("NOPERM"), std::string::npos);  // @slow only
  EXPECT_EQ(cli(1, admin, {"ACL", "USERS"}), "app\ndefault\n");

  // Per node: n2 has not heard of app.
  const std::string n2_login = cli(2, app, {"GET", "app:1"});
  EXPECT_NE(n2_login.find("WRONGPASS"), std::string::npos) << n2_login;
  EXPECT_EQ(n2_login.find("v1"), std::string::npos) << n2_login;
  EXPECT_EQ(cli(2, admin, {"ACL", "USERS"}), "default\n");

  // SAVE on n1 writes the shared file; LOAD on n2 reads it.
  EXPECT_EQ(cli(1, admin, {"ACL", "SAVE"}), "OK\n");
  const std::string saved = ReadWholeFile(users);
  EXPECT_NE(saved.find("user app on #"), std::string::npos) << saved;
  EXPECT_EQ(saved.find("s3cret"), std::string::npos) << "a password was saved: " << saved;
  EXPECT_EQ(saved.find("adm1n"), std::string::npos) << "a password was saved: " << saved;
  struct stat info {};
  ASSERT_EQ(stat(users.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(cli(2, admin, {"ACL", "LOAD"}), "OK\n");
  EXPECT_EQ(cli(2, app, {"GET", "app:1"}), "v1\n");        // a follower's read, as app
  EXPECT_EQ(cli(2, app, {"SET", "app:2", "v2"}), "OK\n");  // forwarded write
  EXPECT_EQ(cli(3, admin, {"GET", "app:2"}), "v2\n");

  // n2's ACL LOG has the failed login from before LOAD; n1's the refused subcommand.
  // The object is AUTH as redis-cli typed it.
  const std::string n2_log = absl::AsciiStrToLower(cli(2, admin, {"ACL", "LOG"}));
  EXPECT_NE(n2_log.find("reason\nauth\ncontext\ntoplevel\nobject\nauth\nusername\napp\n"),
            std::string::npos)
      << n2_log;
  const std::string n1_log = cli(1, admin, {"ACL", "LOG"});
  EXPECT_NE(n1_log.find("reason\ncommand\ncontext\ntoplevel\nobject\nconfig|set\nusername\napp"),
            std::string::npos)
      << n1_log;
  EXPECT_NE(n1_log.find("reason\nkey\ncontext\ntoplevel\nobject\nother\nusername\napp"),
            std::string::npos)
      << n1_log;
  // Scripts run in the group that owns their key, at apply time, on every replica: the
  // request carries the user's rules, so redis.acl_check_cmd and the ACL check of each
  // redis.call answer for the user who sent EVAL, through any node.
  const std::vector<std::string> scripter = {"--user", "scripter", "--pass", "scr1pt-pw"};
  ASSERT_EQ(
      cli(1, admin,
          {"ACL", "SETUSER", "scripter", "on", ">scr1pt-pw", "~app:*", "+@scripting", "+get"}),
      "OK\n");
  EXPECT_EQ(cli(1, scripter, {"EVAL", "return redis.acl_check_cmd('get', KEYS[1])", "1", "app:1"}),
            "1\n");
  EXPECT_EQ(
      cli(1, scripter,
          {"EVAL", "return tostring(redis.acl_check_cmd('set', KEYS[1], 'x'))", "1", "app:1"}),
      "false\n");
  EXPECT_EQ(cli(1, scripter,
                {"EVAL", "return tostring(redis.acl_check_cmd('get', 'other'))", "1", "app:1"}),
            "false\n");
  EXPECT_EQ(cli(1, scripter, {"EVAL", "return redis.call('get', KEYS[1])", "1", "app:1"}), "v1\n");
  const std::string refused =
      cli(1, scripter, {"EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "app:1"});
  EXPECT_NE(refused.find("The user executing the script can't run this command or subcommand"),
            std::string::npos)
      << refused;
  EXPECT_EQ(cli(3, admin, {"GET", "app:1"}), "v1\n");
  // The default user (+@all) may run anything from a script.
  EXPECT_EQ(
      cli(2, admin, {"EVAL", "return redis.acl_check_cmd('set', KEYS[1], 'x')", "1", "app:1"}),
      "1\n");
  for (int i = 1; i <= cluster.size(); ++i) {
    EXPECT_EQ(cluster.Log(i).find("s3cret"), std::string::npos) << "a password was logged";
    EXPECT_EQ(cluster.Log(i).find("adm1n"), std::string::npos) << "a password was logged";
  }
  RemoveTree(dir);
}

}  // namespace
}  // namespace ekv::integration
