// WriteLoad: client threads writing unique keys continuously through chosen nodes, keeping
// every acknowledged write so a test can check none is lost after faults.
//
// Keys alternate between the two default groups: "a/<label>/..." (group 1, below "m") and
// "n/<label>/..." (group 2). Each thread is bounded in operations; every RPC has a deadline.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/process_cluster.h"

namespace ekv::integration {

struct AckedWrite {
  std::string key;
  std::string value;
  int group = 0;  // 1 or 2, from the key's prefix
  int node = 0;   // the node the client sent it to
  uint64_t invoke_us = 0;
  uint64_t ack_us = 0;
};

class WriteLoad {
 public:
  static constexpr int kMaxOpsPerThread = 100000;
  static constexpr std::chrono::milliseconds kDefaultWriteTimeout{1000};

  // `write_timeout` is each RawPut's deadline: it bounds how long a client sits on a write
  // stuck at a paused leader, so it also bounds how precisely a failover gap is measured.
  WriteLoad(ProcessCluster* cluster, std::string label, std::vector<int> nodes, int threads,
            std::chrono::milliseconds write_timeout = kDefaultWriteTimeout);
  ~WriteLoad();

  void Start();
  void Stop();  // idempotent; joins the threads
  // The nodes clients send to from now on (e.g. leave out a node that is down).
  void SetNodes(std::vector<int> nodes);

  std::vector<AckedWrite> Acked() const;
  uint64_t attempts() const { return attempts_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  void Run(int thread);

  ProcessCluster* cluster_;
  const std::string label_;
  const int threads_;
  const std::chrono::milliseconds write_timeout_;
  mutable std::mutex mu_;
  std::vector<int> nodes_;         // guarded by mu_
  std::vector<AckedWrite> acked_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> attempts_{0};
  std::atomic<uint64_t> failures_{0};
  std::vector<std::thread> workers_;
};

// Checks that every acknowledged write is readable with its value through `node` (one
// paged scan). Returns a description of what is missing, empty when nothing is.
std::string FindLostWrites(ProcessCluster& cluster, int node, const std::vector<AckedWrite>& acked);

}  // namespace ekv::integration
