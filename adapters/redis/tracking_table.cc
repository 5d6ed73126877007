#include "adapters/redis/tracking_table.h"

#include "absl/strings/match.h"
#include "core/util/assert.h"

namespace ekv::redis {

void TrackingTable::Remember(const std::string& key, uint64_t client) {
  auto [it, inserted] = keys_.try_emplace(key);
  if (inserted) {
    it->second.order = next_order_++;
    by_order_.emplace(it->second.order, key);
  }
  if (it->second.clients.insert(client).second) ++items_;
}

std::vector<uint64_t> TrackingTable::Invalidate(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return {};
  std::vector<uint64_t> readers(it->second.clients.begin(), it->second.clients.end());
  EKV_ASSERT(items_ >= readers.size(), "tracking items undercounted");
  items_ -= readers.size();
  by_order_.erase(it->second.order);
  keys_.erase(it);
  return readers;
}

void TrackingTable::Clear() {
  keys_.clear();
  by_order_.clear();
  items_ = 0;
}

std::vector<std::pair<std::string, std::vector<uint64_t>>> TrackingTable::TrimToLimit() {
  std::vector<std::pair<std::string, std::vector<uint64_t>>> out;
  while (max_keys_ > 0 && keys_.size() > max_keys_) {
    std::string key = by_order_.begin()->second;
    std::vector<uint64_t> readers = Invalidate(key);
    out.emplace_back(std::move(key), std::move(readers));
  }
  return out;
}

void TrackingTable::AddPrefix(const std::string& prefix, uint64_t client) {
  prefixes_[prefix].clients.insert(client);
}

void TrackingTable::RemovePrefix(const std::string& prefix, uint64_t client) {
  auto it = prefixes_.find(prefix);
  if (it == prefixes_.end()) return;
  it->second.clients.erase(client);
  // The last client gone: the prefix goes, with what it gathered (nobody to send it to).
  if (it->second.clients.empty()) prefixes_.erase(it);
}

void TrackingTable::NoteChanged(const std::string& key, uint64_t writer) {
  for (auto& [prefix, broadcast] : prefixes_) {
    if (absl::StartsWith(key, prefix)) broadcast.keys[key] = writer;
  }
}

std::vector<TrackingTable::Broadcast> TrackingTable::TakeBroadcasts() {
  std::vector<Broadcast> out;
  for (auto& [prefix, broadcast] : prefixes_) {
    if (broadcast.keys.empty()) continue;
    out.push_back(Broadcast{std::exchange(broadcast.keys, {}), broadcast.clients});
  }
  return out;
}

}  // namespace ekv::redis
