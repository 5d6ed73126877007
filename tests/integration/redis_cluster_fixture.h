// Fixture for Redis tests over a 3-node cluster whose two groups both serve before the
// test starts (a warm-up write on each side of the demo's split at "m").
#pragma once

#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"

namespace ekv::integration {

class RedisTwoGroupClusterTest : public ClusterTest {
 protected:
  void StartRedisCluster() {
    ClusterOptions options;
    options.nodes = 3;
    options.redis = true;
    options.request_timeout_ms = 5000;  // as the other Redis cluster tests: a loaded machine
    options.tick_ms = 50;
    ASSERT_NO_FATAL_FAILURE(StartCluster(options));
    ASSERT_TRUE(RawPutEventually(cluster(), 1, "a-warmup", "1").ok());
    ASSERT_TRUE(RawPutEventually(cluster(), 1, "z-warmup", "1").ok());
  }
};

}  // namespace ekv::integration
