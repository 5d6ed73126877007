// Redis scripting through real clients on a 3-node cluster (redis_lua_session.py, Debian's
// python3-redis): 20 concurrent clients run an INCR+LPUSH script through all three nodes
// and nothing is lost; the per-node script cache; register_script; EVAL_RO; keys in another
// group. /usr/bin/python3 with the redis module is required: without it the test fails.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"

namespace ekv::integration {
namespace {

class RedisLuaTest : public ClusterTest {};

TEST_F(RedisLuaTest, ConcurrentScriptsThroughThreeNodesLoseNothing) {
  int status = 0;
  const std::string probe = RunShell("/usr/bin/python3 -c 'import redis'", &status);
  ASSERT_EQ(status, 0) << "python3-redis is required (scripts/install-deps.sh): " << probe;
  ClusterOptions options;
  options.nodes = 3;
  options.redis = true;
  options.request_timeout_ms = 5000;  // as the other Redis cluster tests: a loaded machine
  options.tick_ms = 50;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "a-warmup", "1").ok());
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "z-warmup", "1").ok());
  const std::string output =
      RunShell(absl::StrCat("timeout 600 /usr/bin/python3 ", EKV_REDIS_LUA_SESSION, " ",
                            cluster().redis_port(1), " ", cluster().redis_port(2), " ",
                            cluster().redis_port(3)),
               &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("redis lua session passed"), std::string::npos) << output;
}

}  // namespace
}  // namespace ekv::integration
