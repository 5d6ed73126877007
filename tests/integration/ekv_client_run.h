// Running the `ekv-client` operator tool against one node of a test cluster.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/process_cluster.h"

namespace ekv::integration {

// `ekv-client --addr=<node's gRPC address> ARGS...`: its exit code (-1: a signal or the
// timeout), with its stdout and stderr in *out.
int RunEkvClient(ProcessCluster& cluster, int node, const std::vector<std::string>& args,
                 std::string* out, std::chrono::seconds timeout = std::chrono::seconds(300));

}  // namespace ekv::integration
