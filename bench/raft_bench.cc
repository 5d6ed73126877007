// Proposals per second through a 3-node in-memory Raft group on one thread, and heap bytes
// allocated per proposal (counted by replacing global operator new in this binary).
//
// Each iteration proposes a batch of `batch` entries at the leader, then runs the Ready /
// Persist / Advance / deliver loop until every entry is committed and applied on all
// three nodes. Messages are delivered in memory with no copying beyond what Raft does.
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/raft/raw_node.h"
#include "core/util/assert.h"

// GCC cannot see that the replaced operator new below allocates with malloc.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<uint64_t> g_allocated_bytes{0};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using ekv::raft::Message;
using ekv::raft::NodeId;

class BenchCluster {
 public:
  explicit BenchCluster(int nodes) {
    std::vector<NodeId> voters;
    for (int i = 1; i <= nodes; ++i) voters.push_back(static_cast<NodeId>(i));
    for (NodeId id : voters) {
      auto& node = nodes_[id];
      node.storage = std::make_unique<ekv::raft::MemoryStorage>();
      EKV_ASSERT(ekv::raft::RawNode::Bootstrap(*node.storage, voters).ok());
      ekv::raft::Config config;
      config.id = id;
      config.group = 1;
      config.storage = node.storage.get();
      config.max_uncommitted_entries_size = 0;
      node.raw = std::move(*ekv::raft::RawNode::Create(config));
    }
    Run();  // apply the bootstrap membership entries
    EKV_ASSERT(nodes_[1].raw->Campaign().ok());
    Run();
    EKV_ASSERT(nodes_[1].raw->state() == ekv::raft::StateType::kLeader);
  }

  ekv::raft::RawNode& leader() { return *nodes_[1].raw; }
  uint64_t applied() const { return applied_; }

  void Run() {
    bool progress = true;
    while (progress) {
      progress = false;
      for (auto& [id, node] : nodes_) {
        if (!node.raw->HasReady()) continue;
        progress = true;
        ekv::raft::Ready ready = node.raw->GetReady();
        auto receipt = node.storage->Persist(ready.persist);
        for (const ekv::raft::Entry& e : ready.committed_entries) {
          if (e.type == ekv::raft::EntryType::kConfChange) {
            node.raw->ApplyConfChange(*ekv::raft::DecodeConfChange(e.data));
          } else if (id == 1 && !e.data.empty()) {
            ++applied_;
          }
        }
        for (Message& m : ready.messages) queue_.push_back(std::move(m));
        for (Message& m : node.raw->Advance(std::move(ready), *receipt)) {
          queue_.push_back(std::move(m));
        }
        // Keep the log bounded like a real node: compact well behind the applied index.
        const ekv::raft::Index applied = node.raw->applied_index();
        if (applied > node.compacted + 4096) {
          EKV_ASSERT(node.storage->Compact(applied - 1024).ok());
          node.compacted = applied - 1024;
        }
      }
      std::vector<Message> batch = std::move(queue_);
      queue_.clear();
      for (const Message& m : batch) {
        progress = true;
        (void)nodes_[m.to].raw->Step(m);
      }
    }
  }

 private:
  struct Node {
    std::unique_ptr<ekv::raft::MemoryStorage> storage;
    std::unique_ptr<ekv::raft::RawNode> raw;
    ekv::raft::Index compacted = 0;
  };
  std::map<NodeId, Node> nodes_;
  std::vector<Message> queue_;
  uint64_t applied_ = 0;
};

void BM_RaftProposeCommit3Nodes(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const std::string payload(128, 'x');
  BenchCluster cluster(3);
  uint64_t proposals = 0;
  const uint64_t bytes_before = g_allocated_bytes.load();
  const uint64_t allocs_before = g_allocations.load();
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      absl::Status status = cluster.leader().Propose(payload);
      EKV_ASSERT(status.ok(), "propose failed: ", status.ToString());
    }
    cluster.Run();
    proposals += batch;
  }
  const double allocated = static_cast<double>(g_allocated_bytes.load() - bytes_before);
  const double allocations = static_cast<double>(g_allocations.load() - allocs_before);
  state.counters["proposals_per_sec"] =
      benchmark::Counter(static_cast<double>(proposals), benchmark::Counter::kIsRate);
  state.counters["bytes_alloc_per_proposal"] = allocated / static_cast<double>(proposals);
  state.counters["allocs_per_proposal"] = allocations / static_cast<double>(proposals);
  EKV_ASSERT(cluster.applied() >= proposals, "not every proposal was applied");
}
BENCHMARK(BM_RaftProposeCommit3Nodes)->Arg(1)->Arg(16)->Arg(256);

}  // namespace
