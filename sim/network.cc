#include "sim/network.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ekv::sim {

const LinkProfile& Network::Profile(NodeIndex from, NodeIndex to) const {
  auto it = link_profiles_.find({from, to});
  return it == link_profiles_.end() ? default_profile_ : it->second;
}

std::vector<SimTime> Network::Plan(NodeIndex from, NodeIndex to, SimTime now) {
  std::vector<SimTime> deliveries;
  if (!Connected(from, to)) return deliveries;
  const LinkProfile& profile = Profile(from, to);
  if (rng_.Chance(profile.drop_probability)) return deliveries;
  const int copies = rng_.Chance(profile.duplicate_probability) ? 2 : 1;
  SimTime earliest = now;
  for (NodeIndex end : {from, to}) {
    auto clog = clogged_until_.find(end);
    if (clog != clogged_until_.end()) earliest = std::max(earliest, clog->second);
  }
  for (int copy = 0; copy < copies; ++copy) {
    SimTime latency = rng_.Range(profile.min_latency_us,
                                 std::max(profile.min_latency_us, profile.max_latency_us));
    if (rng_.Chance(profile.reorder_probability)) {
      latency += rng_.Range(0, profile.reorder_extra_latency_us);
    }
    deliveries.push_back(earliest + latency);
  }
  return deliveries;
}

bool Network::Connected(NodeIndex from, NodeIndex to) const {
  return cuts_.empty() || cuts_.count({from, to}) == 0;
}

void Network::Heal() { cuts_.clear(); }

void Network::CutBoth(NodeIndex a, NodeIndex b) {
  cuts_.insert({a, b});
  cuts_.insert({b, a});
}

void Network::Split(const std::set<NodeIndex>& side) {
  cuts_.clear();
  for (NodeIndex a : nodes_) {
    for (NodeIndex b : nodes_) {
      if (side.count(a) != 0 && side.count(b) == 0) CutBoth(a, b);
    }
  }
}

void Network::CutOneWay(NodeIndex from, NodeIndex to) {
  cuts_.clear();
  cuts_.insert({from, to});
}

void Network::Bridge(const std::set<NodeIndex>& left, NodeIndex bridge) {
  cuts_.clear();
  for (NodeIndex a : nodes_) {
    for (NodeIndex b : nodes_) {
      if (a == bridge || b == bridge) continue;
      if (left.count(a) != 0 && left.count(b) == 0) CutBoth(a, b);
    }
  }
}

std::string Network::DescribeCuts() const {
  if (cuts_.empty()) return "none";
  std::string text;
  for (const auto& [from, to] : cuts_)
    absl::StrAppend(&text, text.empty() ? "" : ",", from, ">", to);
  return text;
}

}  // namespace ekv::sim
