#include "core/raft/read_only.h"

namespace ekv::raft {

void ReadOnly::AddRequest(Index index, const Message& request) {
  const std::string& context = request.context;
  if (pending_.count(context) > 0) return;  // a duplicate is served with the original
  pending_.emplace(context, ReadIndexStatus{request, index, {}});
  queue_.push_back(context);
}

const std::set<NodeId>* ReadOnly::RecvAck(NodeId from, const std::string& context) {
  auto it = pending_.find(context);
  if (it == pending_.end()) return nullptr;
  it->second.acks.insert(from);
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const std::string& context) {
  std::vector<ReadIndexStatus> served;
  if (pending_.count(context) == 0) return served;
  // Everything queued before `context` was also confirmed by the same round.
  while (!queue_.empty()) {
    std::string front = std::move(queue_.front());
    queue_.pop_front();
    auto it = pending_.find(front);
    served.push_back(std::move(it->second));
    pending_.erase(it);
    if (front == context) break;
  }
  return served;
}

std::string ReadOnly::LastPendingRequestContext() const {
  return queue_.empty() ? std::string() : queue_.back();
}

void ReadOnly::Reset() {
  pending_.clear();
  queue_.clear();
}

}  // namespace ekv::raft
