// Drives a 3-node Raft group with a fuzzer-chosen schedule of ticks, deliveries, drops,
// duplicates, proposals and crashes, and checks Raft's safety properties throughout:
// at most one leader per term, and committed entries never change once any node applied
// them (State Machine Safety).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/raft/raw_node.h"
#include "core/util/assert.h"

namespace {

using ekv::raft::Entry;
using ekv::raft::Message;
using ekv::raft::NodeId;

struct FuzzNode {
  std::unique_ptr<ekv::raft::MemoryStorage> storage;
  std::unique_ptr<ekv::raft::RawNode> raw;
};

class FuzzCluster {
 public:
  FuzzCluster() {
    for (NodeId id = 1; id <= 3; ++id) {
      FuzzNode& node = nodes_[id];
      node.storage = std::make_unique<ekv::raft::MemoryStorage>();
      EKV_ASSERT(ekv::raft::RawNode::Bootstrap(*node.storage, {1, 2, 3}).ok());
      Start(id);
    }
  }

  void Start(NodeId id) {
    ekv::raft::Config config;
    config.id = id;
    config.group = 1;
    config.election_tick = 5;
    config.heartbeat_tick = 1;
    config.storage = nodes_[id].storage.get();
    config.pre_vote = true;
    config.check_quorum = true;
    config.max_size_per_msg = 64;
    config.max_inflight_msgs = 4;
    config.randomization_seed = id;
    auto raw = ekv::raft::RawNode::Create(config);
    EKV_ASSERT(raw.ok());
    nodes_[id].raw = std::move(*raw);
  }

  void Process(NodeId id) {
    FuzzNode& node = nodes_[id];
    if (!node.raw || !node.raw->HasReady()) return;
    ekv::raft::Ready ready = node.raw->GetReady();
    auto receipt = node.storage->Persist(ready.persist);
    EKV_ASSERT(receipt.ok());
    for (const Entry& e : ready.committed_entries) {
      if (e.type == ekv::raft::EntryType::kConfChange) {
        auto change = ekv::raft::DecodeConfChange(e.data);
        EKV_ASSERT(change.ok(), "undecodable conf change");
        node.raw->ApplyConfChange(*change);
      }
      auto [it, inserted] = applied_.emplace(e.index, e);
      EKV_ASSERT(inserted || (it->second.term == e.term && it->second.data == e.data),
                 "State Machine Safety: index ", e.index, " applied as term ", e.term,
                 " after term ", it->second.term);
    }
    for (Message& m : ready.messages) inflight_.push_back(std::move(m));
    for (Message& m : node.raw->Advance(std::move(ready), *receipt)) {
      inflight_.push_back(std::move(m));
    }
    CheckLeaders();
  }

  void CheckLeaders() {
    for (auto& [id, node] : nodes_) {
      if (!node.raw || node.raw->state() != ekv::raft::StateType::kLeader) continue;
      auto [it, inserted] = leader_of_term_.emplace(node.raw->term(), id);
      EKV_ASSERT(it->second == id, "two leaders in term ", node.raw->term(), ": ", it->second,
                 " and ", id);
    }
  }

  void Step(uint8_t op, uint8_t arg) {
    const NodeId id = 1 + arg % 3;
    FuzzNode& node = nodes_[id];
    switch (op % 8) {
      case 0:
      case 1:
        if (node.raw) node.raw->Tick();
        break;
      case 2:
      case 3:
        Deliver(arg, /*duplicate=*/false);
        break;
      case 4:
        if (!inflight_.empty()) inflight_.erase(inflight_.begin() + arg % inflight_.size());
        break;
      case 5:
        if (node.raw) (void)node.raw->Propose(absl::StrCat("v", proposals_++));
        break;
      case 6:
        Deliver(arg, /*duplicate=*/true);
        break;
      case 7:
        if (arg % 5 == 0) {
          node.raw.reset();  // crash: the storage (durable) survives
        } else if (!node.raw) {
          Start(id);
        }
        break;
    }
    for (NodeId n = 1; n <= 3; ++n) Process(n);
  }

  void Deliver(uint8_t arg, bool duplicate) {
    if (inflight_.empty()) return;
    const size_t index = arg % inflight_.size();
    Message m = inflight_[index];
    if (!duplicate) inflight_.erase(inflight_.begin() + static_cast<long>(index));
    FuzzNode& to = nodes_[m.to];
    if (to.raw) (void)to.raw->Step(m);
  }

 private:
  std::map<NodeId, FuzzNode> nodes_;
  std::vector<Message> inflight_;
  std::map<ekv::raft::Index, Entry> applied_;
  std::map<ekv::raft::Term, NodeId> leader_of_term_;
  int proposals_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  FuzzCluster cluster;
  for (size_t i = 0; i + 1 < size; i += 2) cluster.Step(data[i], data[i + 1]);
  return 0;
}
