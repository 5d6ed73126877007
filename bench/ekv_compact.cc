// ekv-compact: opens the RocksDB of stopped ekv nodes, flushes and fully compacts every
// column family, and prints the live SST bytes of each family before and after.
//
// bench/footprint runs it on each node's data directory after stopping the cluster, so
// "bytes on disk per key" is measured after a compaction (a truncated Raft log's entries
// and overwritten applied-index records dropped), not at whatever point RocksDB's own
// background compactions happened to reach. It opens the DB with the node's options
// (RocksDbEnv), so it never creates a DB: a missing directory is an error.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "runtime/storage/rocksdb_env.h"

namespace {

void PrintSizes(const std::string& dir, const char* when, ekv::runtime::RocksDbEnv& env) {
  for (const auto& size : env.LiveSstBytesPerFamily()) {
    std::printf("%s %s family=%s live_sst_bytes=%llu\n", dir.c_str(), when, size.family.c_str(),
                static_cast<unsigned long long>(size.live_sst_bytes));
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ekv-compact DATA_DIR...\n"
      "Flushes and fully compacts every column family of each stopped ekv node's RocksDB "
      "(the node must not be running: RocksDB's LOCK file is taken), printing the live SST "
      "bytes per family before and after. Used by bench/footprint.");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: ekv-compact DATA_DIR... (see --help)\n");
    return 2;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string dir = args[i];
    ekv::runtime::RocksDbEnvOptions options;
    options.create_if_missing = false;
    auto env = ekv::runtime::RocksDbEnv::Open(dir, options);
    if (!env.ok()) {
      std::fprintf(stderr, "ekv-compact: %s\n", env.status().ToString().c_str());
      return 1;
    }
    PrintSizes(dir, "before", **env);
    if (absl::Status status = (*env)->FlushAndCompactAll(); !status.ok()) {
      std::fprintf(stderr, "ekv-compact: %s\n", status.ToString().c_str());
      return 1;
    }
    PrintSizes(dir, "after", **env);
  }
  return 0;
}
