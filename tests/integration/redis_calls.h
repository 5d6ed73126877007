// Redis calls for tests against real clusters.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tests/redis/resp_client.h"

namespace ekv::integration {

// One command with a generous deadline (a loaded 2-core machine, 3 nodes): its reply's
// bytes, "<send failed>", or "" when no whole reply came in time.
inline std::string CallSlow(redis::testing::RespClient& client,
                            const std::vector<std::string>& args) {
  if (!client.Send(args)) return "<send failed>";
  return client.ReadReply(std::chrono::seconds(60));
}

}  // namespace ekv::integration
