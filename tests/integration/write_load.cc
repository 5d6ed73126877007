#include "tests/integration/write_load.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/integration/cluster_client.h"

namespace ekv::integration {

WriteLoad::WriteLoad(ProcessCluster* cluster, std::string label, std::vector<int> nodes,
                     int threads, std::chrono::milliseconds write_timeout)
    : cluster_(cluster),
      label_(std::move(label)),
      threads_(threads),
      write_timeout_(write_timeout),
      nodes_(std::move(nodes)) {}

WriteLoad::~WriteLoad() { Stop(); }

void WriteLoad::Start() {
  for (int t = 0; t < threads_; ++t) workers_.emplace_back([this, t] { Run(t); });
}

void WriteLoad::Stop() {
  stop_ = true;
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

void WriteLoad::SetNodes(std::vector<int> nodes) {
  std::lock_guard<std::mutex> lock(mu_);
  nodes_ = std::move(nodes);
}

std::vector<AckedWrite> WriteLoad::Acked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_;
}

void WriteLoad::Run(int thread) {
  for (int seq = 0; seq < kMaxOpsPerThread && !stop_; ++seq) {
    const int group = seq % 2 == 0 ? 1 : 2;
    AckedWrite write;
    write.group = group;
    write.key = absl::StrFormat("%s/%s/t%d/%06d", group == 1 ? "a" : "n", label_, thread, seq);
    write.value = absl::StrCat("v-", write.key);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (nodes_.empty()) {
        write.node = 0;
      } else {
        write.node = nodes_[static_cast<size_t>(thread + seq) % nodes_.size()];
      }
    }
    if (write.node == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    ++attempts_;
    write.invoke_us = MonotonicMicros();
    grpc::Status status = RawPut(*cluster_, write.node, write.key, write.value, write_timeout_);
    write.ack_us = MonotonicMicros();
    if (status.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      acked_.push_back(std::move(write));
    } else {
      ++failures_;
      // A node that is down refuses at once: do not spin on it.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

std::string FindLostWrites(ProcessCluster& cluster, int node,
                           const std::vector<AckedWrite>& acked) {
  absl::StatusOr<std::map<std::string, std::string>> all = ScanAll(cluster, node);
  if (!all.ok()) return std::string(all.status().message());
  std::string lost;
  size_t lost_count = 0;
  for (const AckedWrite& write : acked) {
    auto it = all->find(write.key);
    if (it != all->end() && it->second == write.value) continue;
    if (++lost_count <= 20) {
      absl::StrAppend(
          &lost, "  ", write.key, " acked by n", write.node, " at t=", write.ack_us / 1000, "ms: ",
          it == all->end() ? std::string("missing") : absl::StrCat("holds '", it->second, "'"),
          "\n");
    }
  }
  if (lost_count == 0) return "";
  return absl::StrCat(lost_count, " of ", acked.size(), " acknowledged writes lost (read via n",
                      node, "):\n", lost);
}

}  // namespace ekv::integration
