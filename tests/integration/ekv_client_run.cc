#include "tests/integration/ekv_client_run.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "tests/integration/external_program.h"

namespace ekv::integration {

int RunEkvClient(ProcessCluster& cluster, int node, const std::vector<std::string>& args,
                 std::string* out, std::chrono::seconds timeout) {
  // A file of its own per run: tests run clients from several threads at once.
  static std::atomic<int> runs{0};
  std::vector<std::string> argv = {EKV_CLIENT_BINARY, "--addr=" + cluster.grpc_address(node)};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string path = absl::StrCat(cluster.temp_dir(), "/ekv-client-", runs++, ".out");
  const int code = RunProgram(argv, path, timeout);
  *out = ReadWholeFile(path);
  return code;
}

}  // namespace ekv::integration
