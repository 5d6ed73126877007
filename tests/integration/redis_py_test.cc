// redis-py (Debian python3-redis) against a 3-node ekv cluster started with
// --redis_requirepass: the scripted session in redis_py_session.py (auth, pipelines,
// connection and server commands, pub/sub across nodes). /usr/bin/python3 with the redis
// module is required (scripts/install-deps.sh): without it the test fails, not skips.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/external_program.h"

namespace ekv::integration {
namespace {

class RedisPyTest : public ClusterTest {};

TEST_F(RedisPyTest, ScriptedSessionThroughThreeNodes) {
  int status = 0;
  const std::string probe = RunShell("/usr/bin/python3 -c 'import redis'", &status);
  ASSERT_EQ(status, 0) << "python3-redis is required (scripts/install-deps.sh): " << probe;
  const std::string password = "py-secret";
  ClusterOptions options;
  options.nodes = 3;
  options.redis = true;
  options.request_timeout_ms = 5000;  // as the other Redis cluster tests: a loaded machine
  options.tick_ms = 50;
  options.extra_flags = {"--redis_requirepass=" + password};
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "a-warmup", "1").ok());
  ASSERT_TRUE(RawPutEventually(cluster(), 1, "z-warmup", "1").ok());
  const std::string output =
      RunShell(absl::StrCat("timeout 300 /usr/bin/python3 ", EKV_REDIS_PY_SESSION, " ",
                            cluster().redis_port(1), " ", cluster().redis_port(2), " ",
                            cluster().redis_port(3), " ", password),
               &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("redis-py session passed"), std::string::npos) << output;
}

}  // namespace
}  // namespace ekv::integration
